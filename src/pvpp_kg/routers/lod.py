"""Linked data: dereferenceable IRIs, ontology documentation, the home page, dumps and dataset metadata.

Every IRI is answered directly with ``200`` at its own path (no 303 redirect): HTML for browsers and
Turtle, JSON-LD, RDF/XML or N-Triples by Accept or by extension (``/id/role/IPKS.ttl``). Responses carry
``Vary: Accept`` and ``Content-Location`` naming the extension URL of the chosen form. See README
"Linked data" for why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response

from pvpp_kg import formats, lod
from pvpp_kg.backend import Backend
from pvpp_kg.conneg import negotiate
from pvpp_kg.dataset import STATISTICS_QUERIES, Statistics, dataset_description
from pvpp_kg.deps import AdminDep, BackendDep, SettingsDep
from pvpp_kg.dumps import Dumps, DumpSet, public_quads
from pvpp_kg.errors import NotFound
from pvpp_kg.formats import Format
from pvpp_kg.namespaces import GRAPH_ONTOLOGY, ONTOLOGY_IRI, PREFIXES
from pvpp_kg.ontodoc import OntologyDocs
from pvpp_kg.queries import load_library
from pvpp_kg.settings import Settings
from pvpp_kg.templating import templates

router = APIRouter(tags=["linked data"])

AcceptHeader = Annotated[str | None, Header()]
LangParam = Annotated[str | None, Query(description="page language: lv or en (overrides Accept-Language)")]
FormatParam = Annotated[str | None, Query(description="turtle, jsonld, rdfxml, ntriples or html")]

RESTRICTED_GRAPH = "restricted"

HOME_COUNTS_QUERY = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?key (COUNT(DISTINCT ?x) AS ?n) WHERE {
  VALUES (?key ?c) { ("services" pvpp:Service) ("institutions" pvpp:Institution) ("roles" pvpp:Role)
                     ("tasks" pvpp:ManagementTask) ("resources" pvpp:Resource) ("posts" org:Post)
                     ("assignments" pvpp:ResponsibilityAssignment) }
  ?x a/rdfs:subClassOf* ?c
} GROUP BY ?key"""

EXAMPLE_QUERY = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
# Which management tasks is the institutional service portfolio owner (IPKS) responsible (A) or co-responsible (L) for?
SELECT ?task ?title ?responsibility WHERE {
  ?a pvpp:role <https://w3id.org/pvpp/id/role/IPKS> ; pvpp:task ?task ; pvpp:responsibility ?r .
  BIND(STRAFTER(STR(?r), "/responsibility/") AS ?responsibility)
  OPTIONAL { ?task skos:prefLabel ?title FILTER(lang(?title) = "lv") }
} ORDER BY ?task"""


@dataclass
class LodState:
    """Per-application caches, keyed by the data version so that a write refreshes them."""

    docs: OntologyDocs
    dumps: Dumps
    stats: dict[str, Statistics] = field(default_factory=dict)
    home: dict[str, dict[str, int]] = field(default_factory=dict)
    restricted: object | None = None


def _state(request: Request) -> LodState:
    state: LodState | None = getattr(request.app.state, "lod", None)
    if state is None:
        settings: Settings = request.app.state.settings
        state = LodState(OntologyDocs(), Dumps(settings.dumps_dir or settings.data_dir / "dumps", settings.base_iri))
        request.app.state.lod = state
    return state


def site_url(request: Request, settings: Settings) -> str:
    """Where this server answers, as seen by the client (``public_url`` when configured)."""
    return settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")


async def _select(backend: Backend, query: str, settings: Settings,
                  iri: str | None = None) -> list[dict[str, lod.Term]]:
    subs = (("s", "iri", iri, None),) if iri is not None else ()
    out = await backend.query(query, result_format="JSON", substitutions=subs, timeout=settings.query_timeout_s)
    return lod.parse_solutions(out.body)


async def _exists(backend: Backend, iri: str, settings: Settings) -> bool:
    out = await backend.query(lod.EXISTS_QUERY, result_format="JSON", substitutions=(("s", "iri", iri, None),),
                              timeout=settings.query_timeout_s)
    return bool(json.loads(out.body).get("boolean"))


def _serialise(triples: list[ox.Triple], fmt: Format) -> bytes:
    return ox.serialize(triples, format=getattr(ox.RdfFormat, fmt.oxigraph), prefixes=PREFIXES)


async def describe(backend: Backend, iri: str, fmt: Format, settings: Settings) -> bytes:
    """The RDF description of ``iri`` (outgoing, blank nodes one level, capped incoming), people scrubbed."""
    out = await backend.query(lod.DESCRIBE_QUERY, result_format="N_TRIPLES", substitutions=(("s", "iri", iri, None),),
                              timeout=settings.query_timeout_s)
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(out.body, format=ox.RdfFormat.N_TRIPLES)]
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in public_quads(quads, settings.base_iri)]
    return _serialise(triples, fmt)


def _headers(path: str, fmt: Format, lang: str | None = None) -> dict[str, str]:
    links = ", ".join(f'<{quote(path)}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                      for f in lod.RESOURCE_FORMATS)
    h = {"Vary": "Accept, Accept-Language", "Content-Location": quote(f"{path}.{fmt.extension}"), "Link": links}
    if lang:
        h["Content-Language"] = lang
    return h


def _alternates(path: str) -> list[dict[str, str]]:
    names = {"html": "HTML", "turtle": "Turtle", "jsonld": "JSON-LD", "rdfxml": "RDF/XML", "ntriples": "N-Triples"}
    return [{"name": names[f.name], "href": f"{path}.{f.extension}", "type": f.media_type}
            for f in lod.RESOURCE_FORMATS if f is not formats.HTML]


def _page(request: Request, name: str, context: dict[str, object], *, status: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    response: HTMLResponse = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(headers or {})
    return response


def _not_found(request: Request, iri: str, fmt: Format, lang: str) -> Response:
    if fmt is formats.HTML:
        return _page(request, "notfound.html", {"iri": iri, "lang": lang}, status=404, headers={"Vary": "Accept"})
    raise NotFound(f"nothing is known about <{iri}>")


def _choose(path: str, accept: str | None, format_param: str | None) -> tuple[str, Format]:
    stem, by_ext = lod.split_extension(path)
    if by_ext is not None:
        return stem, by_ext
    return path, negotiate(accept, lod.RESOURCE_FORMATS, format_param=format_param)


async def _resource(request: Request, backend: Backend, settings: Settings, path: str, accept: str | None,
                    format_param: str | None, lang_param: str | None) -> Response:
    lang = lod.choose_lang(lang_param, request.headers.get("accept-language"))
    path, fmt = _choose(path, accept, format_param)
    iri = lod.iri_for_path(settings.base_iri, path)
    if not await _exists(backend, iri, settings):
        # an IRI whose own path ends like an extension (e.g. measure/P1.1) is tried as it is, too
        return _not_found(request, iri, fmt, lang)
    local = "/" + path
    if fmt is not formats.HTML:
        body = await describe(backend, iri, fmt, settings)
        return Response(body, media_type=fmt.content_type, headers=_headers(local, fmt))
    outgoing = await _select(backend, lod.OUTGOING_QUERY, settings, iri)
    incoming = await _select(backend, lod.INCOMING_QUERY, settings, iri)
    resp = await _select(backend, lod.RESPONSIBILITY_QUERY, settings, iri)
    view = lod.build_view(iri, outgoing, incoming, resp, lang, settings.base_iri)
    sparql = ("SELECT ?p ?o WHERE { <" + iri + "> ?p ?o }")
    return _page(request, "resource.html", {
        "view": view, "lang": lang, "path": local, "alternates": _alternates(local),
        "sparql_href": "/sparql?format=csv&query=" + quote(sparql),
    }, headers=_headers(local, fmt, lang))


@router.get("/id/{path:path}", summary="Any instance IRI https://w3id.org/pvpp/id/…: HTML or RDF")
async def resource(request: Request, path: str, backend: BackendDep, settings: SettingsDep,
                   accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None) -> Response:
    return await _resource(request, backend, settings, "id/" + path, accept, format, lang)


# -- the ontology ------------------------------------------------------------------------------------
async def _ontology(request: Request, backend: Backend, settings: Settings, fmt: Format,
                    lang_param: str | None, path: str = "/ontology") -> Response:
    lang = lod.choose_lang(lang_param, request.headers.get("accept-language"))
    try:
        nt = await backend.graph(str(GRAPH_ONTOLOGY), "N_TRIPLES")
    except NotFound:
        raise NotFound("the ontology is not loaded") from None
    if fmt is formats.HTML:
        state = _state(request)
        html = await anyio.to_thread.run_sync(state.docs.page, nt, lang)
        return HTMLResponse(html, headers=_headers(path, fmt, lang))
    triples = [ox.Triple(t.subject, t.predicate, t.object) for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]
    return Response(_serialise(triples, fmt), media_type=fmt.content_type, headers=_headers(path, fmt))


@router.get("/ontology", summary="The ontology: pyLODE documentation (lv/en) or RDF by Accept")
async def ontology(request: Request, backend: BackendDep, settings: SettingsDep, accept: AcceptHeader = None,
                   format: FormatParam = None, lang: LangParam = None) -> Response:
    fmt = negotiate(accept, lod.RESOURCE_FORMATS, format_param=format)
    return await _ontology(request, backend, settings, fmt, lang)


@router.get("/ontology.{ext}", summary="The ontology in one format: .ttl .jsonld .rdf .nt .html")
async def ontology_ext(request: Request, ext: str, backend: BackendDep, settings: SettingsDep,
                       lang: LangParam = None) -> Response:
    fmt = formats.by_extension(ext, lod.RESOURCE_FORMATS)
    if fmt is None:
        raise NotFound(f"no ontology form .{ext}; try .ttl .jsonld .rdf .nt .html")
    return await _ontology(request, backend, settings, fmt, lang)


@router.get("/ontology/{version}", summary="The version IRI (owl:versionIRI) of the current ontology")
async def ontology_version(request: Request, version: str, backend: BackendDep, settings: SettingsDep,
                           accept: AcceptHeader = None, format: FormatParam = None,
                           lang: LangParam = None) -> Response:
    stem, fmt = lod.split_extension(version)
    fmt = fmt or negotiate(accept, lod.RESOURCE_FORMATS, format_param=format)
    ask = ("ASK { <" + ONTOLOGY_IRI + "> <http://www.w3.org/2002/07/owl#versionIRI> ?s }")
    out = await backend.query(ask, result_format="JSON", timeout=settings.query_timeout_s,
                              substitutions=(("s", "iri", f"{ONTOLOGY_IRI}/{stem}", None),))
    if not json.loads(out.body).get("boolean"):
        raise NotFound(f"no ontology version {stem!r} on this server")
    return await _ontology(request, backend, settings, fmt, lang, path=f"/ontology/{stem}")


# -- named graphs ------------------------------------------------------------------------------------
@router.get("/graph/{path:path}", summary="A named graph https://w3id.org/pvpp/graph/…: its triples")
async def graph(request: Request, path: str, backend: BackendDep, settings: SettingsDep,
                accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None) -> Response:
    path, fmt = _choose("graph/" + path, accept, format)
    iri = lod.iri_for_path(settings.base_iri, path)
    lang_ = lod.choose_lang(lang, request.headers.get("accept-language"))
    if path == f"graph/{RESTRICTED_GRAPH}":
        raise NotFound("the restricted graph is not public: GET /restricted with the admin token")
    counts = await backend.graph_counts()
    if iri not in counts:
        return _not_found(request, iri, fmt, lang_)
    if fmt is formats.HTML:
        return _page(request, "graph.html", {"iri": iri, "triples": counts[iri], "lang": lang_,
                                             "alternates": _alternates("/" + path)},
                     headers=_headers("/" + path, fmt, lang_))
    nt = await backend.graph(iri, "N_TRIPLES")
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in public_quads(quads, settings.base_iri)]
    return Response(_serialise(triples, fmt), media_type=fmt.content_type, headers=_headers("/" + path, fmt))


@router.get("/restricted", summary="The restricted store (people's names, contacts): admin token only",
            dependencies=[AdminDep])
async def restricted(request: Request, settings: SettingsDep, accept: AcceptHeader = None) -> Response:
    if settings.remote_query_url:
        raise NotFound("this server uses a remote store; the restricted data is kept there")
    fmt = negotiate(accept, (formats.NQUADS, formats.TRIG))
    state = _state(request)
    if state.restricted is None:
        from pvpp_kg.loader import open_stores

        state.restricted = open_stores(settings)[1]
    store = state.restricted

    def dump() -> bytes:
        return store.reader().dump(format=getattr(ox.RdfFormat, fmt.oxigraph))  # type: ignore[attr-defined]

    return Response(await anyio.to_thread.run_sync(dump), media_type=fmt.content_type,
                    headers={"Cache-Control": "no-store"})


# -- dumps -------------------------------------------------------------------------------------------
async def current_dumps(request: Request, backend: Backend) -> DumpSet:
    state = _state(request)
    version = backend.version()
    found = state.dumps.existing(version)
    if found is not None:
        return found
    nquads = await backend.graph(None, "N_QUADS")
    return await anyio.to_thread.run_sync(state.dumps.ensure, version, nquads)


@router.get("/dumps", summary="The dumps of the public graphs with sha256 checksums (HTML or JSON)")
async def dumps_index(request: Request, backend: BackendDep, accept: AcceptHeader = None,
                      lang: LangParam = None) -> Response:
    dump = await current_dumps(request, backend)
    json_fmt = formats.Format("json", "application/json", "", "json")
    fmt = negotiate(accept, (formats.HTML, json_fmt))
    if fmt is json_fmt:
        return JSONResponse({"version": dump.version, "created": dump.created, "triples": dump.triples,
                             "quads": dump.quads, "files": [f.__dict__ for f in dump.files]},
                            headers={"Vary": "Accept"})
    lang_ = lod.choose_lang(lang, request.headers.get("accept-language"))
    return _page(request, "dumps.html", {"dump": dump, "lang": lang_}, headers={"Vary": "Accept"})


@router.get("/dumps/{name}", summary="One dump file, or SHA256SUMS")
async def dump_file(request: Request, name: str, backend: BackendDep) -> Response:
    dump = await current_dumps(request, backend)
    directory = _state(request).dumps.directory(dump.version)
    if name == "SHA256SUMS":
        return PlainTextResponse((directory / name).read_text(encoding="utf-8"))
    f = dump.file(name)
    if f is None:
        raise NotFound(f"no dump {name!r}; see /dumps")
    headers = {"ETag": f'"{f.sha256}"', "Digest": f"sha-256={f.sha256}"}
    media = "application/gzip" if f.encoding == "gzip" else f.media_type
    return FileResponse(directory / name, media_type=media, filename=name, headers=headers)


# -- dataset description -----------------------------------------------------------------------------
async def statistics(request: Request, backend: Backend, settings: Settings) -> Statistics:
    state = _state(request)
    version = backend.version()
    if version not in state.stats:
        totals = (await _select(backend, STATISTICS_QUERIES["totals"], settings))[0]
        classes = {r["c"].value: int(r["n"].value) for r in await _select(backend, STATISTICS_QUERIES["classes"],
                                                                          settings) if r["c"].kind == "uri"}
        props = {r["p"].value: int(r["n"].value) for r in await _select(backend, STATISTICS_QUERIES["properties"],
                                                                        settings)}
        state.stats = {version: Statistics(int(totals["triples"].value), int(totals["subjects"].value),
                                           int(totals["objects"].value), classes, props,
                                           await backend.graph_counts())}
    return state.stats[version]


async def _dataset(request: Request, backend: Backend, settings: Settings, accept: str | None,
                   format_param: str | None, path: str) -> Response:
    fmt = negotiate(accept, formats.TRIPLE_FORMATS, format_param=format_param)
    stats = await statistics(request, backend, settings)
    dump = await current_dumps(request, backend)
    g = dataset_description(stats, site_url(request, settings), dump, backend.version())
    rdflib_name = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}[fmt.name]
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=False)
    return Response(g.serialize(format=rdflib_name, encoding="utf-8"), media_type=fmt.content_type,
                    headers={"Vary": "Accept", "Content-Location": f"{path}"})


@router.get("/.well-known/void", summary="VoID + DCAT-AP description of the dataset")
async def well_known_void(request: Request, backend: BackendDep, settings: SettingsDep,
                          accept: AcceptHeader = None, format: FormatParam = None) -> Response:
    return await _dataset(request, backend, settings, accept, format, "/.well-known/void")


@router.get("/dataset", summary="The dataset IRI https://w3id.org/pvpp/dataset (VoID + DCAT-AP)")
async def dataset(request: Request, backend: BackendDep, settings: SettingsDep, accept: AcceptHeader = None,
                  format: FormatParam = None) -> Response:
    return await _dataset(request, backend, settings, accept, format, "/dataset")


# -- home --------------------------------------------------------------------------------------------
@router.get("/", summary="Home page (HTML); RDF clients get the dataset description")
async def home(request: Request, backend: BackendDep, settings: SettingsDep, accept: AcceptHeader = None,
               lang: LangParam = None) -> Response:
    fmt = negotiate(accept, (formats.HTML, *formats.TRIPLE_FORMATS))
    if fmt is not formats.HTML:
        return await _dataset(request, backend, settings, accept, None, "/dataset")
    lang_ = lod.choose_lang(lang, request.headers.get("accept-language"))
    state = _state(request)
    version = backend.version()
    if version not in state.home:
        rows = await _select(backend, HOME_COUNTS_QUERY, settings)
        counts = {r["key"].value: int(r["n"].value) for r in rows}
        graph_counts = await backend.graph_counts()
        counts["graphs"] = len(graph_counts)
        counts["triples"] = sum(graph_counts.values())
        state.home = {version: counts}
    examples = [{"name": q.name, "title": q.title_in(lang_)} for q in load_library(settings.queries_dir)]
    return _page(request, "home.html", {
        "lang": lang_, "counts": state.home[version], "examples": examples,
        "example_query": EXAMPLE_QUERY, "example_href": "/sparql?format=csv&query=" + quote(EXAMPLE_QUERY),
    }, headers={"Vary": "Accept, Accept-Language", "Content-Language": lang_})
