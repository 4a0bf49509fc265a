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
from pvpp_kg.namespaces import GRAPH_ONTOLOGY, ONTOLOGY_IRI, PREFIXES, SD, SH
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
        if lod.is_iri(iri) and kind and "/" not in kind:  # /id/service: the services, as a page or RDF
            return await index(ctx, kind, lang, page, fmt)
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


async def index(ctx: LodContext, kind: str, lang: str, page: int, fmt: Format = formats.HTML) -> Response:
    """``/id/{kind}``: the resources whose IRIs are under it, labelled, a page at a time; 404 when there are none.
    In RDF a Hydra collection: its members on this page with their labels, the total and the other pages."""
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
        return _not_found(ctx, f"{base}id/{kind}", fmt, lang)
    view = lod.index_view(kind, members, lang, base, page)
    if fmt is not formats.HTML:
        headers = lod.representation_headers(f"/id/{kind}", fmt)
        if view.page > 1:  # this page's forms, not the first page's
            headers["Content-Location"] += f"?page={view.page}"
            headers["Link"] = headers["Link"].replace(">;", f"?page={view.page}>;")
        body = _serialise(_index_triples(f"{base}id/{kind}", members, view), fmt)
        return Response(body, media_type=fmt.content_type, headers=headers)
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


HYDRA = "http://www.w3.org/ns/hydra/core#"


def _index_triples(iri: str, members: list[tuple[str, list[lod.Term]]], view: lod.IndexView) -> list[ox.Triple]:
    """One page of an index as a ``hydra:Collection`` (W3C Hydra CG): ``hydra:member`` and labels, the total, and
    ``hydra:view`` with the first, previous, next and last pages when there is more than one."""
    coll, label, member = ox.NamedNode(iri), ox.NamedNode(str(RDFS.label)), ox.NamedNode(HYDRA + "member")
    out = [
        ox.Triple(coll, ox.NamedNode(str(RDF.type)), ox.NamedNode(HYDRA + "Collection")),
        ox.Triple(
            coll, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(str(view.total), datatype=ox.NamedNode(XSD_INTEGER))
        ),
    ]
    for m, labels in members[(view.page - 1) * view.size : view.page * view.size]:
        out.append(ox.Triple(coll, member, ox.NamedNode(m)))
        out += [
            ox.Triple(ox.NamedNode(m), label, ox.Literal(t.value, language=t.lang))
            for t in labels
            if t.kind == "literal"
        ]
    if view.pages > 1:
        page = ox.NamedNode(f"{iri}?page={view.page}")
        out.append(ox.Triple(coll, ox.NamedNode(HYDRA + "view"), page))
        out.append(ox.Triple(page, ox.NamedNode(str(RDF.type)), ox.NamedNode(HYDRA + "PartialCollectionView")))
        links = {"first": 1, "last": view.pages, "previous": view.page - 1, "next": view.page + 1}
        for rel, n in links.items():
            if 1 <= n <= view.pages:
                out.append(ox.Triple(page, ox.NamedNode(HYDRA + rel), ox.NamedNode(f"{iri}?page={n}")))
    return out


XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


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


def _form(ext: str, accept: str | None, format_param: str | None, what: str) -> Format:
    """The form an extension names (a 404 for one not offered), else the one ``Accept`` or ``format`` asks for."""
    if not ext:
        return negotiate(accept, lod.RESOURCE_FORMATS, format_param=format_param)
    found = formats.by_extension(ext, lod.RESOURCE_FORMATS)
    if found is None:
        raise NotFound(f"no form .{ext} of {what}; try .ttl .jsonld .rdf .nt .html")
    return found


# -- the endpoint's functions ------------------------------------------------------------------------
async def functions(
    ctx: LodContext, described: Graph, accept: str | None, format_param: str | None, lang: str | None, ext: str = ""
) -> Response:
    """``pvppfn:`` resolves: the functions' description as RDF, or a page naming each with its description; at
    ``/function.{ext}`` in the form the extension names."""
    fmt = _form(ext, accept, format_param, "the functions")
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


# -- the shapes ------------------------------------------------------------------------------------------
#: the shapes graphs' IRIs (``https://w3id.org/pvpp/shapes``, ``…/shapes/submission``…) by path, with their files
SHAPES_FILES = {"shapes": "pvpp-shapes.ttl", "shapes/submission": "submission-shapes.ttl",
                "shapes/compliance": "compliance-shapes.ttl"}  # fmt: skip


@functools.lru_cache(maxsize=8)
def _shapes_graph(path: str, mtime: float) -> Graph:
    return Graph().parse(path, format="turtle")


async def shapes(
    ctx: LodContext, path: str, accept: str | None, format_param: str | None, lang: str | None, ext: str = ""
) -> Response:
    """A shapes graph's IRI (``pvppsh:ServiceShape`` is ``/shapes#ServiceShape``; the metrics and the validation
    reports name them): the shapes as RDF, or a page with a section per named shape and its messages."""
    if path not in SHAPES_FILES:
        raise NotFound(f"no shapes graph at /{path}; the shapes are at /{', /'.join(SHAPES_FILES)}")
    fmt = _form(ext, accept, format_param, "the shapes")
    file = ctx.settings.shapes_dir / SHAPES_FILES[path]
    g = await anyio.to_thread.run_sync(_shapes_graph, str(file), file.stat().st_mtime)
    if fmt is not formats.HTML:
        return _rdf(_triples(g.serialize(format="nt", encoding="utf-8")), fmt, "/" + path)
    chosen = lod.choose_lang(lang, ctx.request.headers.get("accept-language"))
    namespace = f"{ctx.settings.base_iri}{path}#"

    def texts(node: Node, prop: URIRef) -> list[str]:
        found = {o.language or "": str(o) for o in g.objects(node, prop) if isinstance(o, Literal)}
        return [found[chosen]] if chosen in found else ([found["en"]] if "en" in found else list(found.values()))

    def messages(shape: Node) -> list[str]:
        """The shape's messages and those of its property shapes and SPARQL constraints, in the reader's language."""
        out = texts(shape, SH.message)
        for prop in ("property", "sparql"):
            for part in g.objects(shape, SH[prop]):
                out += [m for m in texts(part, SH.message) if m not in out]
        return out

    targets = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
    items = [
        {
            "name": str(shape).removeprefix(namespace),
            "iri": str(shape),
            "kind": "NodeShape" if (shape, RDF.type, SH.NodeShape) in g else "PropertyShape",
            "targets": [f"sh:{t} {lod.curie(str(o)) or o}" for t in targets for o in g.objects(shape, SH[t])],
            "messages": messages(shape),
        }
        for shape in sorted({s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(namespace)})
    ]
    headers = lod.representation_headers("/" + path, fmt, offered=lod.RESOURCE_FORMATS)
    context = {"lang": chosen, "shapes": items, "path": path, "iri": f"{ctx.settings.base_iri}{path}"}
    return ctx.page("shapes.html", context, headers=headers)


# -- named graphs ------------------------------------------------------------------------------------
async def named_graph(
    ctx: LodContext, path: str, accept: str | None, format_param: str | None, lang: str | None
) -> Response:
    """A public named graph: a summary page or its triples (people scrubbed); never the restricted one. The graphs'
    namespace itself (``/graph/``) is described by the dataset, which lists every graph: a 303 there."""
    if path.rstrip("/") == "graph":
        html = negotiate(accept, (*formats.TRIPLE_FORMATS, formats.HTML), format_param=format_param) is formats.HTML
        return RedirectResponse("/dataset#graphs" if html else "/dataset", status_code=303)
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
