"""A library query as a page for browsers: its parameters as a form, its results as a table, download links.

The links on the home page open this; the same URL answers JSON, XML, CSV or TSV to programs.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from pvpp_kg import formats
from pvpp_kg.errors import BadRequest
from pvpp_kg.lod import resources as lod
from pvpp_kg.queries.library import LibraryQuery, ResultCache, run_library_query
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend
from pvpp_kg.templating import templates

MAX_ROWS = 1000  # rows shown in the table; the downloads have them all


def page_lang(request: Request, query: LibraryQuery, raw: dict[str, str]) -> str:
    """The page's language: ``?lang=`` (which is also the query's own parameter where it has one), else
    Accept-Language (or the reader's chosen language). A query with a ``lang`` parameter not given answers in the
    page's language, so an English page does not show Latvian names; a query without one is not given it."""
    has_lang = query.param("lang") is not None
    chosen = lod.choose_lang(
        raw.get("lang") if has_lang else raw.pop("lang", None), request.headers.get("accept-language")
    )
    if has_lang and not raw.get("lang"):
        raw["lang"] = chosen
    return chosen


async def library_page(
    request: Request, query: LibraryQuery, raw: dict[str, str], backend: Backend, settings: Settings, cache: ResultCache
) -> Response:
    lang = page_lang(request, query, raw)
    error = None
    columns: list[str] = []
    rows: list[list[dict[str, str | None]]] = []
    total = 0
    try:
        body = await run_library_query(backend, query, raw, formats.JSON, timeout=settings.query_timeout_s, cache=cache)
    except BadRequest as e:  # a parameter that does not fit: the form again, with the message
        error = e.message
    else:
        columns = json.loads(body)["head"].get("vars", [])
        solutions = lod.parse_solutions(body)
        total = len(solutions)
        rows = [[_cell(s.get(c), settings.base_iri) for c in columns] for s in solutions[:MAX_ROWS]]
    given = {k: v for k, v in raw.items() if v != ""}
    downloads = [
        {"name": f.name.upper(), "href": "?" + urlencode({**given, "format": f.name}), "type": f.media_type}
        for f in formats.RESULT_FORMATS
    ]
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "library_query.html",
        {
            "lang": lang,
            "query": query,
            "title": query.title_in(lang),
            "description": query.description_in(lang),
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "value": raw.get(p.name, p.default or ""),
                    "example": p.example,
                    "label": p.description_in(lang),
                    "optional": p.default is None,
                }
                for p in query.params
            ],
            "columns": columns,
            "rows": rows,
            "total": total,
            "max_rows": MAX_ROWS,
            "error": error,
            "downloads": downloads,
        },
        status_code=400 if error else 200,
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    return response


def _cell(term: lod.Term | None, base: str) -> dict[str, str | None]:
    if term is None:
        return {"text": "", "href": None, "lang": None}
    if term.kind == "uri":
        text = term.value[len(base) :] if term.value.startswith(base) else lod.curie(term.value)
        return {"text": text, "href": lod.href_for(term.value, base), "lang": None}
    return {"text": term.value, "href": None, "lang": term.lang}
