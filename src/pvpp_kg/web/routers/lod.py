"""Linked data routes: dereferenceable IRIs, ontology documentation, the home page, dumps and dataset metadata.

Handlers only declare parameters (so OpenAPI documents them) and delegate: answering an IRI is
``pvpp_kg.lod.deref``, the home page, dumps and dataset description are ``pvpp_kg.web.site``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from pvpp_kg.lod import deref
from pvpp_kg.sparql.description import functions_graph
from pvpp_kg.web import site
from pvpp_kg.web.deps import AdminDep, LodDep

router = APIRouter(tags=["linked data"])

AcceptHeader = Annotated[str | None, Header()]
LangParam = Annotated[str | None, Query(description="page language: lv or en (overrides Accept-Language)")]
FormatParam = Annotated[str | None, Query(description="turtle, jsonld, rdfxml, ntriples or html")]


@router.get(
    "/id/{path:path}",
    summary="Any instance IRI https://w3id.org/pvpp/id/…: HTML or RDF; /id/{kind} (e.g. /id/service) lists a kind",
)
async def resource(
    path: str,
    ctx: LodDep,
    accept: AcceptHeader = None,
    format: FormatParam = None,
    lang: LangParam = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="index pages (/id/{kind}): the page, from 1")] = 1,
) -> Response:
    return await deref.resource(ctx, "id/" + path, accept, format, lang, page)


# -- the ontology ------------------------------------------------------------------------------------
@router.get("/ontology", summary="The ontology: pyLODE documentation (lv/en) or RDF by Accept")
async def ontology(
    ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await deref.ontology(ctx, accept, format, lang)


@router.get("/ontology.{ext}", summary="The ontology in one format: .ttl .jsonld .rdf .nt .html")
async def ontology_ext(ext: str, ctx: LodDep, lang: LangParam = None) -> Response:
    return await deref.ontology_ext(ctx, ext, lang)


@router.get("/ontology/{version}", summary="The version IRI (owl:versionIRI) of the current ontology")
async def ontology_version(
    version: str, ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await deref.ontology_version(ctx, version, accept, format, lang)


# -- the endpoint's SPARQL functions ---------------------------------------------------------------------
@router.get("/function", summary="The namespace of the endpoint's SPARQL functions (pvppfn:): HTML or RDF")
async def functions(
    ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await deref.functions(ctx, functions_graph(), accept, format, lang)


@router.get("/function.{ext}", summary="The endpoint's SPARQL functions in one form: .ttl .jsonld .rdf .nt .html")
async def functions_ext(ext: str, ctx: LodDep, lang: LangParam = None) -> Response:
    return await deref.functions(ctx, functions_graph(), None, None, lang, ext=ext)


# -- the shapes ------------------------------------------------------------------------------------------
@router.get("/shapes", summary="The PVPP shapes https://w3id.org/pvpp/shapes (pvppsh:): a page or RDF by Accept")
async def shapes(
    ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await deref.shapes(ctx, "shapes", accept, format, lang)


@router.get("/shapes.{ext}", summary="The PVPP shapes in one form: .ttl .jsonld .rdf .nt .html")
async def shapes_ext(ext: str, ctx: LodDep, lang: LangParam = None) -> Response:
    return await deref.shapes(ctx, "shapes", None, None, lang, ext=ext)


@router.get("/shapes/{name}", summary="The submission and compliance shapes (…/shapes/submission, …/compliance)")
async def other_shapes(
    name: str, ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    stem, dot, ext = name.partition(".")
    return await deref.shapes(ctx, f"shapes/{stem}", accept, format, lang, ext=ext if dot else "")


# -- named graphs ------------------------------------------------------------------------------------
@router.get("/graph/{path:path}", summary="A named graph https://w3id.org/pvpp/graph/…: its triples")
async def graph(
    path: str, ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await deref.named_graph(ctx, "graph/" + path, accept, format, lang)


@router.get(
    "/restricted", summary="The restricted store (people's names, contacts): admin token only", dependencies=[AdminDep]
)
async def restricted(ctx: LodDep, accept: AcceptHeader = None) -> Response:
    return await deref.restricted(ctx, accept)


# -- dumps -------------------------------------------------------------------------------------------
@router.get("/dumps", summary="The dumps of the public graphs with sha256 checksums (HTML or JSON)")
async def dumps_index(ctx: LodDep, accept: AcceptHeader = None, lang: LangParam = None) -> Response:
    return await site.dumps_index(ctx, accept, lang)


@router.get("/dumps/{name}", summary="One dump file, or SHA256SUMS")
async def dump_file(name: str, ctx: LodDep) -> Response:
    return await site.dump_file(ctx, name)


# -- dataset description -----------------------------------------------------------------------------
@router.get("/.well-known/void", summary="VoID + DCAT-AP description of the dataset (RDF, or a page for browsers)")
async def well_known_void(
    ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await site.dataset(ctx, accept, format, "/.well-known/void", lang)


@router.get("/dataset", summary="The dataset IRI https://w3id.org/pvpp/dataset (VoID + DCAT-AP, or a page)")
async def dataset(
    ctx: LodDep, accept: AcceptHeader = None, format: FormatParam = None, lang: LangParam = None
) -> Response:
    return await site.dataset(ctx, accept, format, "/dataset", lang)


@router.get("/dataset.{ext}", summary="The dataset description in one format: .ttl .jsonld .rdf .nt .html")
async def dataset_ext(ext: str, ctx: LodDep, lang: LangParam = None) -> Response:
    return await site.dataset_ext(ctx, ext, lang)


# -- home --------------------------------------------------------------------------------------------
@router.get("/", summary="Home page (HTML); RDF clients get the dataset description")
async def home(ctx: LodDep, accept: AcceptHeader = None, lang: LangParam = None) -> Response:
    return await site.home(ctx, accept, lang)
