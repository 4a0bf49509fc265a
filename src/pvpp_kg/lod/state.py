"""What every linked-data answer works with: the per-application caches and the per-request context.

The caches live on ``app.state`` (one set per application, not per process) and are keyed by the data
version, so that a write refreshes them; ``deps.get_lod`` hands a ``LodContext`` to each route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import HTMLResponse

from pvpp_kg.lod import resources as lod
from pvpp_kg.lod.catalogue import Statistics
from pvpp_kg.lod.dumps import Dumps
from pvpp_kg.lod.ontodoc import OntologyDocs
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend
from pvpp_kg.store.embedded import EmbeddedStore
from pvpp_kg.templating import templates


@dataclass
class LodState:
    """Per-application caches, keyed by the data version so that a write refreshes them."""

    docs: OntologyDocs
    dumps: Dumps
    stats: dict[str, Statistics] = field(default_factory=dict)
    home: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the members of each index page /id/{kind} (IRI, labels), sorted: one query per kind and data version
    indexes: dict[tuple[str, str], list[tuple[str, list[lod.Term]]]] = field(default_factory=dict)
    #: every participation node's role, participant and context rows (for the index page of participations)
    participations: dict[str, list[dict[str, lod.Term]]] = field(default_factory=dict)
    restricted: EmbeddedStore | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> LodState:
        """Empty caches; dumps go to ``dumps_dir`` or ``{data_dir}/dumps``."""
        return cls(OntologyDocs(), Dumps(settings.dumps_dir or settings.data_dir / "dumps", settings.base_iri))


@dataclass(frozen=True)
class LodContext:
    """One request's view: the request (templates, Accept-Language, base URL), the store, settings and caches."""

    request: Request
    backend: Backend
    settings: Settings
    state: LodState

    def lang(self, param: str | None) -> str:
        """The page language: ``?lang=``, else Accept-Language, else Latvian."""
        return lod.choose_lang(param, self.request.headers.get("accept-language"))

    def site_url(self) -> str:
        """Where this server answers, as seen by the client (``public_url`` when configured)."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(self.request.base_url).rstrip("/")

    def page(
        self, name: str, context: dict[str, object], *, status: int = 200, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        """A rendered template with extra headers."""
        response: HTMLResponse = templates.TemplateResponse(self.request, name, context, status_code=status)
        response.headers.update(headers or {})
        return response

    async def select(
        self, query: str, iri: str | None = None, *, literals: dict[str, str] | None = None
    ) -> list[dict[str, lod.Term]]:
        """Rows of a SELECT, with ``?s`` bound to ``iri`` by substitution when given, and each of ``literals``
        (variable name → plain string) too."""
        bound = self._bind(iri) + tuple((name, "typed", value, None) for name, value in (literals or {}).items())
        out = await self.backend.query(
            query, result_format="JSON", substitutions=bound, timeout=self.settings.query_timeout_s
        )
        return lod.parse_solutions(out.body)

    async def ask(self, query: str, iri: str) -> bool:
        """The answer of an ASK with ``?s`` bound to ``iri``."""
        out = await self.backend.query(
            query, result_format="JSON", substitutions=self._bind(iri), timeout=self.settings.query_timeout_s
        )
        return lod.parse_boolean(out.body)

    async def construct(self, query: str, iri: str) -> bytes:
        """N-Triples of a CONSTRUCT with ``?s`` bound to ``iri``."""
        out = await self.backend.query(
            query, result_format="N_TRIPLES", substitutions=self._bind(iri), timeout=self.settings.query_timeout_s
        )
        return out.body

    @staticmethod
    def _bind(iri: str | None) -> tuple[tuple[str, str, str, None], ...]:
        return (("s", "iri", iri, None),) if iri is not None else ()
