"""The query UI: YASGUI served from this server (installed from npm at set-up, never from a CDN)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.namespaces import PREFIXES, sparql_prologue
from pvpp_kg.queries.library import load_library
from pvpp_kg.settings import Settings
from pvpp_kg.templating import templates


async def query_ui_page(request: Request, settings: Settings) -> Response:
    lang = choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    prologue = sparql_prologue()
    library = load_library(settings.queries_dir)
    examples = [{"name": q.name, "title": q.title_in(lang), "query": q.text} for q in library]
    default = prologue + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 25\n"
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "sparql.html",
        {"prefixes": PREFIXES, "examples": examples, "default_query": default, "lang": lang},
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    return response
