"""Search by name: ``/api/search`` (JSON), ``/api/search/suggest`` (type-ahead) and the ``/search`` page.

Handlers declare the parameters (so OpenAPI documents them), refuse unknown ones and delegate to
:mod:`pvpp_kg.search.service` over the store's text index, in a worker thread (SQLite blocks).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pvpp_kg.errors import BadRequest
from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.search import service
from pvpp_kg.search.models import SearchResults, Suggestions
from pvpp_kg.store.backend import Backend
from pvpp_kg.templating import templates
from pvpp_kg.web.deps import BackendDep, SettingsDep

router = APIRouter(tags=["search"])

QParam = Annotated[str | None, Query(description="the text to look for, in Latvian or English; diacritics optional")]
FacetParam = Annotated[list[str] | None, Query()]
UiParam = Annotated[str | None, Query(description="language of names and facet labels: lv or en", pattern="^(lv|en)$")]
_SEARCH_PARAMS = {"q", "page", "size", "ui", *service.FACETS}
_SUGGEST_PARAMS = {"q", "limit", "ui"}


def _check_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}; the parameters are {', '.join(sorted(allowed))} "
            f"(facets: {', '.join(service.FACETS)})"
        )


def _facets(request: Request) -> dict[str, list[str]]:
    return {name: request.query_params.getlist(name) for name in service.FACETS}


async def _search(
    request: Request, backend: Backend, base_iri: str, q: str | None, page: int, size: int, ui: str
) -> SearchResults:
    _check_params(request, _SEARCH_PARAMS)
    service.check_query(q)  # before the index is asked: bad input costs nothing
    index = await backend.text_index()
    version = backend.version()
    params = _facets(request)
    return await anyio.to_thread.run_sync(
        lambda: service.search(
            index.connection(), q, params, page=page, size=size, ui=ui, base_iri=base_iri, version=version
        )
    )


@router.get(
    "/api/search", summary="Find resources by name, other name, code or description", response_model=SearchResults
)
async def api_search(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    q: QParam = None,
    kind: Annotated[list[str] | None, Query(description="only these kinds (service, institution, post, …)")] = None,
    institution_type: Annotated[
        list[str] | None, Query(description="only resources of these institution types (Ministry, StateCity, …)")
    ] = None,
    sector: Annotated[list[str] | None, Query(description="only these sectors (ministry keys, e.g. lm)")] = None,
    lang: Annotated[list[str] | None, Query(description="only matches in these languages: lv, en")] = None,
    page: Annotated[int, Query(ge=1, description="page number, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE, description="results per page")] = 20,
    ui: UiParam = None,
) -> SearchResults:
    ui_lang = choose_lang(ui, request.headers.get("accept-language"))
    return await _search(request, backend, settings.base_iri, q, page, size, ui_lang)


@router.get(
    "/api/search/suggest", summary="Type-ahead: the best few names for a half-typed query", response_model=Suggestions
)
async def api_suggest(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    q: QParam = None,
    limit: Annotated[int, Query(ge=1, le=20, description="suggestions to return")] = 8,
    ui: UiParam = None,
) -> Suggestions:
    _check_params(request, _SUGGEST_PARAMS)
    service.check_query(q)
    ui_lang = choose_lang(ui, request.headers.get("accept-language"))
    index = await backend.text_index()
    # answered on the event loop, not in a worker thread: a suggestion reads a bounded set of candidates (~1 ms);
    # without the thread hop the suggestions' p50 went from 2.48 to 2.23 ms (issue 30: < 5 ms)
    return service.suggest(index.connection(), q, limit=limit, ui=ui_lang, base_iri=settings.base_iri)


@router.get("/search", summary="The search page: results with facets and links to the resources' pages")
async def search_page(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    q: QParam = None,
    kind: FacetParam = None,
    institution_type: FacetParam = None,
    sector: FacetParam = None,
    lang: FacetParam = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 20,
    ui: UiParam = None,
) -> HTMLResponse:
    ui_lang = choose_lang(ui, request.headers.get("accept-language"))
    results = None
    error = None
    if q is not None and q.strip():
        try:
            results = await _search(request, backend, settings.base_iri, q, page, size, ui_lang)
        except BadRequest as e:
            error = e.message
    else:
        _check_params(request, _SEARCH_PARAMS)

    def link(**changes: object) -> str:
        """This page's URL with some parameters changed (a facet value toggled, another page)."""
        params: list[tuple[str, str]] = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        for name, value in changes.items():
            if name in service.FACETS:
                current = request.query_params.getlist(name)
                toggled = [v for v in current if v != value] if value in current else [*current, str(value)]
                params.extend((name, v) for v in toggled)
            elif value is not None:
                params.append((name, str(value)))
        if any(name in service.FACETS for name in changes):
            params = [(k, v) for k, v in params if k != "page"]
        return "/search?" + urlencode(params)

    response: HTMLResponse = templates.TemplateResponse(
        request,
        "search.html",
        {"q": q or "", "results": results, "error": error, "lang": ui_lang, "link": link},
        status_code=400 if error else 200,
    )
    return response
