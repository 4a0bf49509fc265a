"""Dereferencing: the answer for an IRI's own path (a resource, the ontology, a named graph, the restricted store).

Every IRI is answered directly with ``200`` at its own path (no 303 redirect): HTML for browsers and
Turtle, JSON-LD, RDF/XML or N-Triples by Accept or by extension (``/id/role/IPKS.ttl``). Responses carry
``Vary: Accept`` and ``Content-Location`` naming the extension URL of the chosen form. See README
"Linked data" for why.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import anyio.to_thread
import pyoxigraph as ox
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS
from rdflib.term import Node

from pvpp_kg import formats, rq
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import NotFound
from pvpp_kg.formats import Format
from pvpp_kg.lod import resources as lod
from pvpp_kg.lod.dumps import public_quads
from pvpp_kg.lod.state import LodContext
from pvpp_kg.namespaces import GRAPH_ONTOLOGY, ONTOLOGY_IRI, PREFIXES, SD
from pvpp_kg.shacl.terms import to_rdflib

RESTRICTED_GRAPH = "restricted"


def _triples(ntriples: bytes) -> list[ox.Triple]:
    return [ox.Triple(t.subject, t.predicate, t.object) for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)]


def _public(triples: Iterable[ox.Triple], base: str) -> list[ox.Triple]:
    """The triples without people's names and contact data (``public_quads`` works on quads)."""
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
    return [ox.Triple(q.subject, q.predicate, q.object) for q in public_quads(quads, base)]


def _serialise(triples: list[ox.Triple], fmt: Format, graph: str | None = None) -> bytes:
    """The triples in ``fmt``; in a dataset format (N-Quads, TriG) as the named ``graph`` they are."""
    if fmt is formats.JSONLD:
        return _compact_jsonld(triples)
    data: list[ox.Triple] | list[ox.Quad] = triples
    if fmt in (formats.NQUADS, formats.TRIG) and graph is not None:
        data = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph)) for t in triples]
    return ox.serialize(data, format=getattr(ox.RdfFormat, fmt.oxigraph), prefixes=PREFIXES)


def _compact_jsonld(triples: list[ox.Triple]) -> bytes:
    """Compact JSON-LD with the project's prefixes as an inline ``@context`` (never a remote one): what a script
    reads as ``doc["skos:prefLabel"]``, where Oxigraph writes only the expanded form."""
    g = Graph()
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g.serialize(format="json-ld", context=PREFIXES, auto_compact=True, encoding="utf-8")


def _rdf(
    triples: list[ox.Triple],
    fmt: Format,
    path: str,
    offered: tuple[Format, ...] = lod.RESOURCE_FORMATS,
    graph: str | None = None,
) -> Response:
    headers = lod.representation_headers(path, fmt, offered=offered)
    return Response(_serialise(triples, fmt, graph), media_type=fmt.content_type, headers=headers)


def _not_found(ctx: LodContext, iri: str, fmt: Format, lang: str) -> Response:
    if fmt is formats.HTML:
        return ctx.page("notfound.html", {"iri": iri, "lang": lang}, status=404, headers={"Vary": "Accept"})
    raise NotFound(f"nothing is known about <{iri}>")


async def describe(ctx: LodContext, iri: str, fmt: Format) -> bytes:
    """The RDF description of ``iri`` (outgoing, blank nodes one level, capped incoming), people scrubbed."""
    nt = await ctx.construct(rq.load("lod-describe"), iri)
    return _serialise(_public(_triples(nt), ctx.settings.base_iri), fmt)


async def resource(
    ctx: LodContext,
    path: str,
    accept: str | None,
    format_param: str | None,
    lang_param: str | None,
    page: int = 1,
) -> Response:
    """An instance IRI's page or RDF; 404 (a page for browsers) when nothing is known about it."""
    lang = ctx.lang(lang_param)
    path, fmt = lod.choose_representation(path, accept, format_param)
    if path == "id/" and fmt is formats.HTML:  # the lists of each kind are on the home page
        return RedirectResponse(f"/?lang={lang}", status_code=303)
    iri = lod.iri_for_path(ctx.settings.base_iri, path)
    if not lod.is_iri(iri) or not await ctx.ask(rq.load("lod-exists"), iri):
        kind = path.removeprefix("id/")
        if lod.is_iri(iri) and fmt is formats.HTML and kind and "/" not in kind:  # /id/service: the services
            return await index(ctx, kind, lang, page)
        # an IRI whose own path ends like an extension (e.g. measure/P1.1) is tried as it is, too
        return _not_found(ctx, iri, fmt, lang)
    local = "/" + path
    if fmt is not formats.HTML:
        body = await describe(ctx, iri, fmt)
        return Response(body, media_type=fmt.content_type, headers=lod.representation_headers(local, fmt))
    outgoing = await ctx.select(rq.load("lod-outgoing"), iri)
    incoming = await ctx.select(rq.load("lod-incoming"), iri)
    resp = await ctx.select(rq.load("lod-responsibility"), iri)
    parts = await ctx.select(rq.load("lod-participations"), iri)
    view = lod.build_view(iri, outgoing, incoming, resp, lang, ctx.settings.base_iri, parts)
    return ctx.page(
        "resource.html",
        {
            "view": view,
            "lang": lang,
            "path": local,
            "alternates": lod.alternates(local),
            "sparql_href": lod.resource_query_href(iri),
        },
        headers=lod.representation_headers(local, fmt, lang),
    )


async def index(ctx: LodContext, kind: str, lang: str, page: int) -> Response:
    """``/id/{kind}``: the resources whose IRIs are under it, labelled, a page at a time; 404 when there are none."""
    base = ctx.settings.base_iri
    prefix = f"{base}id/{kind}/"
    version = ctx.backend.version()
    key = (version, kind)
    if key not in ctx.state.indexes:
        rows = await ctx.select(rq.load("lod-index"), literals={"prefix": prefix})
        if len(ctx.state.indexes) > 256 or any(v != version for v, _ in ctx.state.indexes):
            ctx.state.indexes.clear()
        ctx.state.indexes[key] = lod.index_members(rows)
    members = ctx.state.indexes[key]
    if not members:
        return _not_found(ctx, f"{base}id/{kind}", formats.HTML, lang)
    view = lod.index_view(kind, members, lang, base, page)
    if any(m.label == lod.local_name(m.iri) for m in view.members):  # unlabelled: participation nodes read as text
        if version not in ctx.state.participations:
            ctx.state.participations = {version: await ctx.select(rq.load("lod-participations"))}
        parts = lod.participations(ctx.state.participations[version], lang, base)
        for m in view.members:
            if m.iri in parts:
                m.label = parts[m.iri].text(lang)
    return ctx.page(
        "index.html",
        {"view": view, "lang": lang},
        headers={"Vary": "Accept, Accept-Language", "Content-Language": lang},
    )


# -- the ontology ------------------------------------------------------------------------------------
async def _ontology(ctx: LodContext, fmt: Format, lang_param: str | None, path: str = "/ontology") -> Response:
    lang = ctx.lang(lang_param)
    try:
        nt = await ctx.backend.graph(str(GRAPH_ONTOLOGY), "N_TRIPLES")
    except NotFound:
        raise NotFound("the ontology is not loaded") from None
    if fmt is formats.HTML:
        html = await anyio.to_thread.run_sync(ctx.state.docs.page, nt, lang)
        return HTMLResponse(html, headers=lod.representation_headers(path, fmt, lang))
    body = await anyio.to_thread.run_sync(_ontology_rdf, nt, fmt)
    return Response(body, media_type=fmt.content_type, headers=lod.representation_headers(path, fmt))


@functools.lru_cache(maxsize=8)
def _ontology_rdf(nt: bytes, fmt: Format) -> bytes:
    """The ontology in ``fmt``, once per ontology text: compact JSON-LD of it takes ~0.25 s."""
    return _serialise(_triples(nt), fmt)


async def ontology(ctx: LodContext, accept: str | None, format_param: str | None, lang: str | None) -> Response:
    """The ontology: pyLODE documentation in the reader's language, or RDF by Accept / ``?format=``."""
    fmt = negotiate(accept, lod.RESOURCE_FORMATS, format_param=format_param)
    return await _ontology(ctx, fmt, lang)


async def ontology_ext(ctx: LodContext, ext: str, lang: str | None) -> Response:
    """The ontology in the form its extension names."""
    fmt = formats.by_extension(ext, lod.RESOURCE_FORMATS)
    if fmt is None:
        raise NotFound(f"no ontology form .{ext}; try .ttl .jsonld .rdf .nt .html")
    return await _ontology(ctx, fmt, lang)


async def ontology_version(
    ctx: LodContext, version: str, accept: str | None, format_param: str | None, lang: str | None
) -> Response:
    """The current ontology at its version IRI; 404 for any other version."""
    stem, fmt = lod.split_extension(version)
    fmt = fmt or negotiate(accept, lod.RESOURCE_FORMATS, format_param=format_param)
    if not await ctx.ask(rq.load("ontology-version"), f"{ONTOLOGY_IRI}/{stem}"):
        raise NotFound(f"no ontology version {stem!r} on this server")
    return await _ontology(ctx, fmt, lang, path=f"/ontology/{stem}")


# -- the endpoint's functions ------------------------------------------------------------------------
async def functions(
    ctx: LodContext, described: Graph, accept: str | None, format_param: str | None, lang: str | None, ext: str = ""
) -> Response:
    """``pvppfn:`` resolves: the functions' description as RDF, or a page naming each with its description; at
    ``/function.{ext}`` in the form the extension names."""
    if ext:
        found = formats.by_extension(ext, lod.RESOURCE_FORMATS)
        if found is None:
            raise NotFound(f"no form .{ext} of the functions; try .ttl .jsonld .rdf .nt .html")
        fmt = found
    else:
        fmt = negotiate(accept, lod.RESOURCE_FORMATS, format_param=format_param)
    if fmt is not formats.HTML:
        return _rdf(_triples(described.serialize(format="nt", encoding="utf-8")), fmt, "/function")
    chosen = lod.choose_lang(lang, ctx.request.headers.get("accept-language"))

    def text(node: Node, prop: URIRef) -> str:
        found = {o.language: str(o) for o in described.objects(node, prop) if isinstance(o, Literal)}
        return found.get(chosen) or found.get("en") or next(iter(found.values()), "")

    items = [
        {"iri": str(f), "name": str(f).rsplit("#", 1)[-1], "label": text(f, RDFS.label),
         "description": text(f, DCTERMS.description)}
        for f in sorted(described.subjects(RDF.type, SD.Function))
    ]  # fmt: skip
    headers = lod.representation_headers("/function", fmt, offered=lod.RESOURCE_FORMATS)
    return ctx.page("functions.html", {"lang": chosen, "functions": items}, headers=headers)


# -- named graphs ------------------------------------------------------------------------------------
async def named_graph(
    ctx: LodContext, path: str, accept: str | None, format_param: str | None, lang: str | None
) -> Response:
    """A public named graph: a summary page or its triples (people scrubbed); never the restricted one."""
    path, fmt = lod.choose_representation(path, accept, format_param, lod.GRAPH_FORMATS)
    iri = lod.iri_for_path(ctx.settings.base_iri, path)
    lang_ = ctx.lang(lang)
    if path == f"graph/{RESTRICTED_GRAPH}":
        raise NotFound("the restricted graph is not public: GET /restricted with the admin token")
    counts = await ctx.backend.graph_counts()
    if iri not in counts:
        return _not_found(ctx, iri, fmt, lang_)
    if fmt is formats.HTML:
        return ctx.page(
            "graph.html",
            {
                "iri": iri,
                "triples": counts[iri],
                "lang": lang_,
                "alternates": lod.alternates("/" + path, lod.GRAPH_FORMATS),
            },
            headers=lod.representation_headers("/" + path, fmt, lang_, lod.GRAPH_FORMATS),
        )
    nt = await ctx.backend.graph(iri, "N_TRIPLES")
    return _rdf(_public(_triples(nt), ctx.settings.base_iri), fmt, "/" + path, lod.GRAPH_FORMATS, graph=iri)


async def restricted(ctx: LodContext, accept: str | None) -> Response:
    """The whole restricted store (people's names, contacts) for the admin; embedded mode only."""
    if ctx.settings.remote_query_url:
        raise NotFound("this server uses a remote store; the restricted data is kept there")
    fmt = negotiate(accept, (formats.NQUADS, formats.TRIG))
    if ctx.state.restricted is None:
        from pvpp_kg.store.loader import open_stores

        ctx.state.restricted = open_stores(ctx.settings)[1]
    store = ctx.state.restricted

    def dump() -> bytes:
        return store.reader().dump(format=getattr(ox.RdfFormat, fmt.oxigraph))  # type: ignore[attr-defined]

    return Response(
        await anyio.to_thread.run_sync(dump), media_type=fmt.content_type, headers={"Cache-Control": "no-store"}
    )
