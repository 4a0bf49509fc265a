"""``create_app(settings)``: the FastAPI application — lifespan opens the store, routers do the rest."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from pvpp_kg import __version__
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend, EmbeddedBackend
from pvpp_kg.store.loader import make_backend
from pvpp_kg.web import handlers
from pvpp_kg.web.auth import Tokens
from pvpp_kg.web.http import HeadAsGet, Validators, WeakenCompressed
from pvpp_kg.web.language import LanguageCookie
from pvpp_kg.web.limits import BodyLimit, Utf8QueryString
from pvpp_kg.web.routers import compliance, institution, lod, search, sparql, store, system, validation
from pvpp_kg.web.routers import queries as query_library

if TYPE_CHECKING:
    from pvpp_kg.validation.runner import Revalidation


def _revalidate_if_stale(settings: Settings, backend: Backend) -> Revalidation | None:
    """A changed profile (shapes, reference data) makes the published compliance figures stale: measure everyone
    again, in the background and in a process of its own (``validation.runner``), so that the server answers
    meanwhile and a crash there fails only that run."""
    if not settings.revalidate_on_start or not isinstance(backend, EmbeddedBackend):
        return None
    from pvpp_kg.validation.runner import Revalidation

    return Revalidation(settings, backend)


def _build_remote_index(backend: Any) -> None:
    try:
        backend.build_index()
    except Exception:  # an unreachable remote must not stop the server; a search says why (503)
        logging.getLogger("pvpp_kg").exception("the text index of the remote store could not be built")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.tokens = Tokens.from_settings(settings)
        app.state.backend = make_backend(settings)
        app.state.revalidation = revalidation = _revalidate_if_stale(settings, app.state.backend)
        backend = app.state.backend  # the text index, built now rather than on the first search
        if isinstance(backend, EmbeddedBackend):
            threading.Thread(target=backend.index.ensure, args=(backend.store,), daemon=True).start()
        else:
            threading.Thread(target=_build_remote_index, args=(backend,), daemon=True).start()
        try:
            yield
        finally:
            if revalidation is not None:
                await revalidation.stop()
            app.state.backend.close()
            if getattr(app.state, "validations", None) is not None:  # started by the first validation
                app.state.validations.close()

    app = FastAPI(
        title="pvpp-kg",
        version=__version__,
        description="Knowledge graph of Latvia's public service management policy (PVPP 2024–2027): "
        "SPARQL 1.1 endpoint, governance queries, validation and linked open data.",
        lifespan=lifespan,
        docs_url=None,  # /docs is served from this server's own Swagger UI assets (system.py), never a CDN
        redoc_url=None,
        # no OpenTelemetry: nothing leaves the server, spans would carry client addresses, and it would ask the
        # global providers on every request
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    # each added one wraps the ones before: from the outside in, HEAD -> weak ETags on compressed answers -> gzip
    # -> UTF-8 query string -> body limit -> CORS -> language cookie -> validators (ETag, 304) -> the /sparql
    # shortcut -> the app
    app.add_middleware(sparql.SparqlShortcut)  # first added, so innermost: inside CORS and the body limit
    app.add_middleware(Validators)
    app.add_middleware(LanguageCookie)  # outside the validators: they tag the language it chose
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],  # PUT, DELETE: the Graph Store
        # what browser SPARQL clients send across origins (jQuery-based ones X-Requested-With; Fuseki allows it)
        allow_headers=[
            "Accept",
            "Accept-Language",
            "Content-Type",
            "Authorization",
            "If-None-Match",
            "If-Modified-Since",
            "X-Requested-With",
            "Cache-Control",
            "Pragma",
        ],
        # Link: a resource's other formats; Content-Location: the format negotiated; Content-Disposition: a name
        expose_headers=["Content-Type", "ETag", "Last-Modified", "Link", "Content-Location", "Content-Disposition"],
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Utf8QueryString)
    # responses over 1 KB, when the client accepts gzip; already compressed ones (gzip dumps) are left alone, and
    # streamed ones are compressed as they stream
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(WeakenCompressed)
    app.add_middleware(HeadAsGet)
    handlers.register(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for module in (system, sparql, store, institution, validation, compliance, search, lod):
        app.include_router(module.router)
    app.include_router(query_library.router_for(settings))
    _document_plain_routes(app)
    return app


def _document_plain_routes(app: FastAPI) -> None:
    """Add ``/sparql`` (a plain Starlette route, see :func:`pvpp_kg.web.routers.sparql.sparql_endpoint`) to OpenAPI."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema["paths"] = {"/sparql": sparql.OPENAPI, **schema["paths"]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
