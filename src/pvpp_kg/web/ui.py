"""The query UI: YASGUI served from this server (installed from npm at set-up, never from a CDN), with
autocompletion from this server's own prefixes, classes and properties (``rq/ui-vocabulary.rq``) instead of the
remote services YASGUI asks by default."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from pvpp_kg import rq
from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.namespaces import PREFIXES, sparql_prologue
from pvpp_kg.queries.library import load_library
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend
from pvpp_kg.templating import templates


async def vocabulary(request: Request, backend: Backend, settings: Settings) -> dict[str, list[str]]:
    """The classes and properties for autocompletion, read once per data version."""
    version = backend.version()
    held: tuple[str, dict[str, list[str]]] | None = getattr(request.app.state, "ui_vocabulary", None)
    if held is not None and held[0] == version:
        return held[1]
    out = await backend.query(rq.load("ui-vocabulary"), result_format="JSON", timeout=settings.query_timeout_s)
    terms: dict[str, list[str]] = {"class": [], "property": []}
    for b in json.loads(out.body)["results"]["bindings"]:
        terms[b["kind"]["value"]].append(b["term"]["value"])
    found = {"classes": sorted(set(terms["class"])), "properties": sorted(set(terms["property"]))}
    request.app.state.ui_vocabulary = (version, found)
    return found


async def query_ui_page(request: Request, settings: Settings, backend: Backend) -> Response:
    lang = choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    prologue = sparql_prologue()
    library = load_library(settings.queries_dir)
    examples = [{"name": q.name, "title": q.title_in(lang), "query": q.text} for q in library]
    default = prologue + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 25\n"
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "sparql.html",
        {
            "prefixes": PREFIXES,
            "examples": examples,
            "default_query": default,
            "vocabulary": await vocabulary(request, backend, settings),
            "lang": lang,
        },
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    return response
