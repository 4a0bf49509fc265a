"""``/api/queries``: the governance query library as REST, one documented route per query.

Why one route per query: each query's parameters (name, type, default, example, lv/en text) then appear
in the OpenAPI 3 schema, so clients and ``/docs`` see them. Routes are built from ``settings.queries_dir``
when the app is created; the handlers only validate, negotiate and delegate to ``pvpp_kg.queries``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, NotFound
from pvpp_kg.queries.library import LibraryQuery, ResultCache, load_library, run_library_query
from pvpp_kg.settings import Settings
from pvpp_kg.web.deps import BackendDep, SettingsDep
from pvpp_kg.web.query_page import library_page

#: what a library query answers: the results formats, and a page with its parameters and results for browsers
#: (last, so that clients sending */* get JSON)
ANSWER_FORMATS = (*formats.RESULT_FORMATS, formats.HTML)

PREFIX = "/api/queries"
_RESULT_CONTENT = {f.media_type: {"schema": {"type": "string"}} for f in formats.RESULT_FORMATS}
_FORMAT_PARAM = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "result format instead of Accept: json, xml, csv or tsv",
    "schema": {"type": "string", "enum": [f.name for f in formats.RESULT_FORMATS]},
}


def _raw_params(request: Request, query: LibraryQuery) -> dict[str, str]:
    raw: dict[str, str] = {}
    for name in request.query_params:
        if name == "format":
            continue
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"the parameter {name!r} was given {len(values)} times; give it once")
        raw[name] = values[0]
    return raw


async def _answer(
    request: Request, query: LibraryQuery, backend: BackendDep, settings: Settings, cache: ResultCache
) -> Response:
    fmt = negotiate(request.headers.get("accept"), ANSWER_FORMATS, format_param=request.query_params.get("format"))
    raw = _raw_params(request, query)
    if fmt is formats.HTML:
        return await library_page(request, query, raw, backend, settings, cache)
    body = await run_library_query(backend, query, raw, fmt, timeout=settings.query_timeout_s, cache=cache)
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


def _endpoint(query: LibraryQuery, cache: ResultCache) -> Callable[..., Awaitable[Response]]:
    async def run(request: Request, backend: BackendDep, settings: SettingsDep) -> Response:
        return await _answer(request, query, backend, settings, cache)

    run.__name__ = "query_" + query.name.replace("-", "_")
    return run


def router_for(settings: Settings) -> APIRouter:
    """The list route, one route per library query, and a catch-all that answers 404 for unknown names."""
    library = load_library(settings.queries_dir)
    by_name = {q.name: q for q in library}
    cache = ResultCache()
    router = APIRouter(tags=["Governance queries"])

    @router.get(PREFIX, summary="List the governance queries with their parameters (lv and en)")
    async def list_queries(
        request: Request, lang: Annotated[str | None, Query(description="only this language: lv or en")] = None
    ) -> JSONResponse:
        items = [q.metadata(PREFIX) for q in library]
        if lang is not None:
            if lang not in ("lv", "en"):
                raise BadRequest("lang must be lv or en")
            for item, q in zip(items, library, strict=True):
                item["title"] = q.title_in(lang)
                item["description"] = q.description_in(lang)
        return JSONResponse({"queries": items})

    for q in library:
        router.add_api_route(
            f"{PREFIX}/{q.name}",
            _endpoint(q, cache),
            methods=["GET"],
            summary=f"{q.title_in('en')} / {q.title_in('lv')}",
            description=f"{q.description_in('en')}\n\n{q.description_in('lv')}\n\n```sparql\n{q.text}\n```",
            response_class=Response,
            responses={
                200: {
                    "description": "SPARQL query results (JSON, XML, CSV or TSV by Accept); browsers get a page "
                    "with the parameters as a form, the results as a table and download links",
                    "content": {**_RESULT_CONTENT, "text/html": {"schema": {"type": "string"}}},
                },
                400: {"description": "a parameter is not valid for its type, or unknown"},
                406: {"description": "no offered result format matches Accept"},
            },
            openapi_extra={"parameters": [p.openapi() for p in q.params] + [_FORMAT_PARAM]},
        )

    @router.get(PREFIX + "/{name}", include_in_schema=False)
    async def unknown(name: str, accept: Annotated[str | None, Header()] = None) -> Response:
        if name in by_name:  # not reached: each query has its own route above
            raise NotFound(f"query {name!r} is not routed")
        raise NotFound(f"no query {name!r} in the library; GET {PREFIX} lists them")

    return router
