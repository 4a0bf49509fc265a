"""Validation requested over HTTP, run in the validation process (:mod:`pvpp_kg.validation.worker`).

Why: a native crash in the SHACL engine (pyoxigraph) must fail only the request that caused it, with a 503 and
a message, while the web process and the requests beside it go on. The process is the query pool's kind
(:class:`~pvpp_kg.store.querypool.QueryPool`: slots, timeout, restart, crash quarantine), started on the first
validation so that a server nobody validates on holds no second copy of the reference context. The web process
holds no validator at all: an accepted submission's stored form and figures (:meth:`Validations.measure`) are made
there too, and the start-up revalidation (:func:`revalidate_if_stale`) runs in a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

import anyio.to_thread

from pvpp_kg import rq
from pvpp_kg.errors import BadRequest, PvppError
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import EmbeddedBackend
from pvpp_kg.store.embedded import EmbeddedStore
from pvpp_kg.store.querypool import QueryPool, find_allocator
from pvpp_kg.validation import compliance
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import Report
from pvpp_kg.validation.validator import LAYERS
from pvpp_kg.validation.worker import MODULE, MeasureJob, RevalidateJob, Stored, ValidationJob

SECRETS = {"admin_token", "admin_token_sha256", "session_secret"}  # never on a command line


class Refused(PvppError):
    """What the validation process refused (ill-formed shapes, a constraint query that failed), as it said."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def answer(status: str, payload: object) -> Any:
    """The result of a reply (a Report, Stored, FullRun), or the error it stands for."""
    if status == "ok":
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
            self._pool = _validation_pool(self.settings, max(1, self.settings.max_concurrent_validations), "validation")
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
        job = ValidationJob("policy", data.transfer(), lang, layers, institution, context, shapes, data.origin)
        return await self.run(job)

    async def alone(self, data: Document, shapes: tuple[tuple[bytes, str | None, str], ...], *, lang: str) -> Report:
        """``Validator.validate_alone`` (a user's shapes only) in the validation process."""
        return await self.run(ValidationJob("alone", data.transfer(), lang, shapes=shapes))

    async def refusals(self, data: Document, institution: str, context: bytes | None) -> Report:
        """``Validator.refusals`` (the submission layer on the triples as stated) in the validation process."""
        return await self.run(ValidationJob("refusals", data.transfer(), institution=institution, context=context))

    async def measure(
        self,
        data: Document,
        graph: str,
        key: str,
        *,
        version: int | None = None,
        report: Report | None = None,
        others: dict[str, float] | None = None,
        store_version: str = "",
    ) -> Stored:
        """The submission as the store would hold it (materialised) and, given the ``version`` the write will
        record and its own ``report``, the institution's compliance figures; in the validation process."""
        job = MeasureJob(data.transfer(), graph, key, version, report, tuple((others or {}).items()), store_version)
        stored: Stored = await self.pool.run(job, self.settings.validation_timeout_s)
        return stored

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def revalidation_pool(settings: Settings) -> QueryPool:
    """A validation process of its own for the start-up revalidation: not the one serving requests, since the run
    takes a minute on the national store and must not hold a request's slot."""
    return _validation_pool(settings, 1, "revalidation")


def _validation_pool(settings: Settings, size: int, what: str) -> QueryPool:
    """A process running ``validation.worker`` with ``size`` slots, the settings passed on (secrets left out)."""
    allocator = find_allocator(settings.query_allocator)  # jemalloc: the national validation 17 % faster
    args = (settings.model_dump_json(exclude=SECRETS),)
    return QueryPool(size, allocator, module=MODULE, args=args, what=what, answer=answer)


async def stale(settings: Settings, backend: EmbeddedBackend) -> bool:
    """Were the published figures made with another profile (shapes, reference data) than the current one, or
    none? (Asked through the query process.)"""
    out = await backend.query(rq.load("compliance-profile"), result_format="JSON", timeout=settings.query_timeout_s)
    rows = json.loads(out.body)["results"]["bindings"]
    return not rows or rows[0].get("profile", {}).get("value") != compliance.profile_iri(settings)


async def revalidate(settings: Settings, store: EmbeddedStore, pool: QueryPool) -> compliance.RunSummary:
    """Everyone measured again: ``compliance.full_run`` in ``pool``'s process on the current snapshot, opened
    read-only there; the web process only writes its N-Quads. A crash there fails this run alone (503 from the
    pool; the old figures stay). If a submission publishes a new version meanwhile, the run starts again on it (at
    most three times): the figures always describe the data version they are published beside."""
    started = time.perf_counter()
    for attempt in range(compliance.ATTEMPTS):
        version, snapshot = await anyio.to_thread.run_sync(store.newest_snapshot)
        job = RevalidateJob(str(snapshot), str(version))
        run: compliance.FullRun = await pool.run(job, settings.revalidation_timeout_s)
        try:
            await anyio.to_thread.run_sync(compliance.write_full, store, run, version)
        except compliance.Moved:
            if attempt == compliance.ATTEMPTS - 1:
                raise
            continue
        return run.summary(time.perf_counter() - started)
    raise AssertionError("unreachable")


class Revalidation:
    """The start-up revalidation as a task of the server's event loop, when the published figures are stale: the
    server answers meanwhile (the figures stay those of the old profile), and a failure is logged and shown by
    ``/health`` (``state``: checking, running, done, current, failed), never raised."""

    def __init__(self, settings: Settings, backend: EmbeddedBackend) -> None:
        self.state, self.message = "checking", ""
        self.pool: QueryPool | None = None
        self.task = asyncio.get_running_loop().create_task(self._run(settings, backend), name="revalidate")

    async def _run(self, settings: Settings, backend: EmbeddedBackend) -> None:
        log = logging.getLogger("pvpp_kg")
        try:
            if not await stale(settings, backend):
                self.state = "current"
                return
            self.state = "running"
            self.pool = revalidation_pool(settings)
            summary = await revalidate(settings, backend.store, self.pool)
        except Exception as e:  # a failed revalidation must not stop the server; `pvpp-kg revalidate` says why
            self.state, self.message = "failed", e.message if isinstance(e, PvppError) else str(e) or type(e).__name__
            log.error("revalidation at start-up failed, the published figures are unchanged: %s", self.message)
        else:
            self.state = "done"
            self.message = (
                f"{summary.institutions} institutions measured, {summary.replaced} compliance graph(s) rewritten, "
                f"in {summary.seconds:.1f} s"
            )
            log.warning("revalidated at start-up: %s", self.message)
        finally:
            if self.pool is not None:
                self.pool.close()

    def to_json(self) -> dict[str, str]:
        return {"state": self.state, "message": self.message}

    async def stop(self) -> None:
        """At shut-down: the process first (so that nothing restarts it), then the task."""
        if self.pool is not None:
            self.pool.close()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
