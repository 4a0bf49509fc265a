"""Validation requested over HTTP, run in the validation process (:mod:`pvpp_kg.validation.worker`).

Why: a native crash in the SHACL engine (pyoxigraph) must fail only the request that caused it, with a 503 and
a message, while the web process and the requests beside it go on. The process is the query pool's kind
(:class:`~pvpp_kg.store.querypool.QueryPool`: slots, timeout, restart, crash quarantine), started on the first
validation so that a server nobody validates on holds no second copy of the reference context.
"""

from __future__ import annotations

import threading

from pvpp_kg.errors import BadRequest, PvppError
from pvpp_kg.settings import Settings
from pvpp_kg.store.querypool import QueryPool
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import Report
from pvpp_kg.validation.validator import LAYERS
from pvpp_kg.validation.worker import MODULE, ValidationJob

SECRETS = {"admin_token", "admin_token_sha256", "session_secret"}  # never on a command line


class Refused(PvppError):
    """What the validation process refused (ill-formed shapes, a constraint query that failed), as it said."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def answer(status: str, payload: object) -> Report:
    """The report of a reply, or the error it stands for."""
    if status == "ok":
        assert isinstance(payload, Report)
        return payload
    if status == "refused":
        code_status, code, message = payload  # type: ignore[misc]
        raise Refused(code_status, code, message)
    raise BadRequest(f"the validation could not be completed: {payload}")


class Validations:
    """One app's validation process and the slots that bound parsing and validation (``max_concurrent_validations``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slots = threading.BoundedSemaphore(max(1, settings.max_concurrent_validations))  # parsing, in threads
        self._pool: QueryPool | None = None

    @property
    def pool(self) -> QueryPool:
        if self._pool is None:
            self._pool = QueryPool(
                max(1, self.settings.max_concurrent_validations),
                module=MODULE,
                args=(self.settings.model_dump_json(exclude=SECRETS),),
                what="validation",
                answer=answer,
            )
        return self._pool

    async def run(self, job: ValidationJob) -> Report:
        report: Report = await self.pool.run(job, self.settings.validation_timeout_s)
        return report

    async def validate(
        self,
        data: Document,
        *,
        lang: str = "en",
        layers: tuple[str, ...] = LAYERS,
        institution: str | None = None,
        context: bytes | None = None,
        shapes: tuple[tuple[bytes, str | None, str], ...] = (),
    ) -> Report:
        """``Validator.validate`` in the validation process; ``shapes``: a user's shapes files as uploaded."""
        return await self.run(ValidationJob("policy", data.transfer(), lang, layers, institution, context, shapes))

    async def alone(self, data: Document, shapes: tuple[tuple[bytes, str | None, str], ...], *, lang: str) -> Report:
        """``Validator.validate_alone`` (a user's shapes only) in the validation process."""
        return await self.run(ValidationJob("alone", data.transfer(), lang, shapes=shapes))

    async def refusals(self, data: Document, institution: str, context: bytes | None) -> Report:
        """``Validator.refusals`` (the submission layer on the triples as stated) in the validation process."""
        return await self.run(ValidationJob("refusals", data.transfer(), institution=institution, context=context))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
