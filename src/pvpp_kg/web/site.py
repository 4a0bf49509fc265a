"""The site around the data: the home page, the dumps pages and the dataset description (VoID + DCAT-AP).

Counts and statistics are whole-store aggregates, so each is computed once per data version and kept in
the application's ``LodState``; the dump files are built on the first request after a change.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from pvpp_kg import formats, rq
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import NotFound
from pvpp_kg.lod import resources as lod
from pvpp_kg.lod.catalogue import Statistics, dataset_description
from pvpp_kg.lod.dumps import DumpSet
from pvpp_kg.lod.state import LodContext
from pvpp_kg.namespaces import PREFIXES
from pvpp_kg.queries.library import load_library

_RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}


# -- dumps -------------------------------------------------------------------------------------------
async def current_dumps(ctx: LodContext) -> DumpSet:
    """The dump set of the current data version, built now if it is not there yet."""
    version = ctx.backend.version()
    found = ctx.state.dumps.existing(version)
    if found is not None:
        return found
    nquads = await ctx.backend.graph(None, "N_QUADS")
    return await anyio.to_thread.run_sync(ctx.state.dumps.ensure, version, nquads)


async def dumps_index(ctx: LodContext, accept: str | None, lang: str | None) -> Response:
    """The dump files with their checksums: JSON for programs, a page for browsers."""
    dump = await current_dumps(ctx)
    json_fmt = formats.Format("json", "application/json", "", "json")
    fmt = negotiate(accept, (formats.HTML, json_fmt))
    if fmt is json_fmt:
        return JSONResponse(
            {
                "version": dump.version,
                "created": dump.created,
                "triples": dump.triples,
                "quads": dump.quads,
                "files": [f.__dict__ for f in dump.files],
            },
            headers={"Vary": "Accept"},
        )
    return ctx.page("dumps.html", {"dump": dump, "lang": ctx.lang(lang)}, headers={"Vary": "Accept"})


async def dump_file(ctx: LodContext, name: str) -> Response:
    """One dump file (ETag and Digest are its sha256), or SHA256SUMS."""
    dump = await current_dumps(ctx)
    directory = ctx.state.dumps.directory(dump.version)
    if name == "SHA256SUMS":
        return PlainTextResponse((directory / name).read_text(encoding="utf-8"))
    f = dump.file(name)
    if f is None:
        raise NotFound(f"no dump {name!r}; see /dumps")
    headers = {"ETag": f'"{f.sha256}"', "Digest": f"sha-256={f.sha256}"}
    media = "application/gzip" if f.encoding == "gzip" else f.media_type
    return FileResponse(directory / name, media_type=media, filename=name, headers=headers)


# -- dataset description -----------------------------------------------------------------------------
async def statistics(ctx: LodContext) -> Statistics:
    """VoID statistics of the current data version (cached per version)."""
    state = ctx.state
    version = ctx.backend.version()
    if version not in state.stats:
        totals = (await ctx.select(rq.load("statistics-totals")))[0]
        classes = {
            r["c"].value: int(r["n"].value)
            for r in await ctx.select(rq.load("statistics-classes"))
            if r["c"].kind == "uri"
        }
        props = {r["p"].value: int(r["n"].value) for r in await ctx.select(rq.load("statistics-properties"))}
        state.stats = {
            version: Statistics(
                int(totals["triples"].value),
                int(totals["subjects"].value),
                int(totals["objects"].value),
                classes,
                props,
                await ctx.backend.graph_counts(),
            )
        }
    return state.stats[version]


_DATASET_FORMS = (*formats.TRIPLE_FORMATS, formats.HTML)  # the description's forms: RDF, else a page


async def dataset_ext(ctx: LodContext, ext: str, lang: str | None) -> Response:
    """``/dataset.ttl`` and the like: one form by its extension, as ``/ontology.ttl`` and ``/id/….ttl``."""
    fmt = formats.by_extension(ext, _DATASET_FORMS)
    if fmt is None:
        raise NotFound(f"no dataset form .{ext}; try .ttl .jsonld .rdf .nt .html")
    return await dataset(ctx, None, fmt.name, f"/dataset.{fmt.extension}", lang)


async def dataset(
    ctx: LodContext, accept: str | None, format_param: str | None, path: str, lang: str | None = None
) -> Response:
    """The VoID + DCAT-AP description in the negotiated RDF form, or a page for browsers (HTML is offered last, so
    RDF clients that send ``*/*`` get Turtle); ``path`` is its Content-Location."""
    fmt = negotiate(accept, _DATASET_FORMS, format_param=format_param)
    stats = await statistics(ctx)
    dump = await current_dumps(ctx)
    terms = ctx.settings.source_dir / "catalogue" / "terms.ttl"
    g = dataset_description(stats, ctx.site_url(), dump, ctx.backend.version(), terms)
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=False)
    if fmt is formats.HTML:
        lang_ = ctx.lang(lang)
        turtle = g.serialize(format="turtle")
        classes = sorted(stats.classes.items(), key=lambda item: (-item[1], item[0]))
        return ctx.page(
            "dataset.html",
            {
                "lang": lang_,
                "path": path,
                "stats": stats,
                "classes": [(lod.curie(c), n) for c, n in classes],
                "graphs": [
                    ({"iri": g, "href": lod.href_for(g, ctx.settings.base_iri)}, n)
                    for g, n in sorted(stats.graphs.items())
                    if g.startswith(ctx.settings.base_iri + "graph/")  # the public graphs the VoID lists
                ],
                "dump": dump,
                "turtle": turtle,
                "formats": [f for f in formats.TRIPLE_FORMATS],
            },
            headers=lod.representation_headers("/dataset", fmt, lang_, _DATASET_FORMS),
        )
    return Response(
        g.serialize(format=_RDFLIB_NAMES[fmt.name], encoding="utf-8"),
        media_type=fmt.content_type,
        # the form chosen is named (/dataset.ttl …) and every other one linked, as /id/… and /ontology do
        headers=lod.representation_headers("/dataset", fmt, None, _DATASET_FORMS),
    )


# -- home --------------------------------------------------------------------------------------------
async def home_counts(ctx: LodContext) -> dict[str, int]:
    """Instances per kind, graphs and triples of the current data version (cached per version)."""
    state = ctx.state
    version = ctx.backend.version()
    if version not in state.home:
        counts = {r["key"].value: int(r["n"].value) for r in await ctx.select(rq.load("home-counts"))}
        graph_counts = await ctx.backend.graph_counts()
        counts["graphs"] = len(graph_counts)
        counts["triples"] = sum(graph_counts.values())
        state.home = {version: counts}
    return state.home[version]


async def home(ctx: LodContext, accept: str | None, lang: str | None) -> Response:
    """The home page for browsers; RDF clients get the dataset description."""
    fmt = negotiate(accept, (formats.HTML, *formats.TRIPLE_FORMATS))
    if fmt is not formats.HTML:
        return await dataset(ctx, accept, fmt.name, "/dataset")
    lang_ = ctx.lang(lang)
    counts = await home_counts(ctx)
    examples = [{"name": q.name, "title": q.title_in(lang_)} for q in load_library(ctx.settings.queries_dir)]
    example = rq.load("home-example")
    return ctx.page(
        "home.html",
        {
            "lang": lang_,
            "counts": counts,
            "examples": examples,
            "example_query": example,
            "example_href": lod.sparql_href(example),
        },
        headers={"Vary": "Accept, Accept-Language", "Content-Language": lang_},
    )
