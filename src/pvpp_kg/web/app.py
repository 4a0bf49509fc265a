"""``create_app(settings)``: the FastAPI application — lifespan opens the store, routers do the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from pvpp_kg import __version__
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend, EmbeddedBackend
from pvpp_kg.web import handlers
from pvpp_kg.web.auth import Tokens
from pvpp_kg.web.limits import BodyLimit
from pvpp_kg.web.routers import institution, lod, sparql, store, system, validation
from pvpp_kg.web.routers import queries as query_library


def make_backend(settings: Settings) -> Backend:
    """The remote store if one is configured, else the embedded store (built on first start)."""
    if settings.remote_query_url:
        from pvpp_kg.store.remote import RemoteBackend

        return RemoteBackend(settings.remote_query_url, settings.remote_update_url, settings.remote_store_url)
    from pvpp_kg.store.loader import ensure_loaded
    from pvpp_kg.store.querypool import QueryPool, find_allocator

    public, _restricted = ensure_loaded(settings)
    pool = QueryPool(settings.query_pool_size(), find_allocator(settings.query_allocator), settings.query_nice)
    return EmbeddedBackend(
        public,
        pool,
        max_result_bytes=settings.max_result_bytes,
        write_pause_s=settings.submission_pause_s,
        inline_query_s=settings.inline_query_ms / 1000,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.tokens = Tokens.from_settings(settings)
        app.state.backend = make_backend(settings)
        try:
            yield
        finally:
            app.state.backend.close()

    app = FastAPI(
        title="pvpp-kg",
        version=__version__,
        description="Knowledge graph of Latvia's public service management policy (PVPP 2024–2027): "
        "SPARQL 1.1 endpoint, governance queries, validation and linked open data.",
        lifespan=lifespan,
        # no OpenTelemetry: nothing leaves the server, spans would carry client addresses, and it would ask the
        # global providers on every request
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.add_middleware(sparql.SparqlShortcut)  # first added, so innermost: inside CORS and the body limit
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "Authorization"],
        expose_headers=["Content-Type"],
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    handlers.register(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for module in (system, sparql, store, institution, validation, lod):
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
