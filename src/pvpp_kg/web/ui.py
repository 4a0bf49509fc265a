"""The query UI: YASGUI served from this server (installed from npm at set-up, never from a CDN)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from pvpp_kg.namespaces import PREFIXES, sparql_prologue
from pvpp_kg.queries.library import load_library
from pvpp_kg.settings import Settings
from pvpp_kg.templating import templates


async def query_ui_page(request: Request, settings: Settings) -> Response:
    prologue = sparql_prologue()
    library = load_library(settings.queries_dir)
    examples = [{"name": q.name, "title": q.title_in("en"), "query": q.text} for q in library]
    default = prologue + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 25\n"
    response: HTMLResponse = templates.TemplateResponse(
        request, "sparql.html", {"prefixes": PREFIXES, "examples": examples, "default_query": default}
    )
    response.headers["Vary"] = "Accept"
    return response
