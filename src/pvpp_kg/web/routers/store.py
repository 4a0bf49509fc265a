"""``/store``: SPARQL 1.1 Graph Store HTTP Protocol. Reading is public; writing needs the admin token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, UnsupportedMediaType
from pvpp_kg.sparql.protocol import graph_iri
from pvpp_kg.store.guards import check_syntax_guards
from pvpp_kg.validation.parse import detect_format
from pvpp_kg.web.deps import AdminDep, BackendDep

router = APIRouter(prefix="/store", tags=["Graph Store Protocol"])

GraphParam = Annotated[str | None, Query(description="named graph IRI")]
DefaultParam = Annotated[str | None, Query(description="present: the default graph")]


def _target(graph: str | None, default: str | None) -> str | None:
    if graph is not None and default is not None:
        raise BadRequest("give either ?graph=IRI or ?default, not both")
    if graph is None and default is None:
        raise BadRequest("name the graph: ?graph=IRI or ?default")
    return graph_iri(graph) if graph is not None else None


def _format_of(content_type: str | None, offered: tuple[formats.Format, ...]) -> str | None:
    """The Oxigraph format of the body's media type among ``offered``, or None."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    return next((f.oxigraph for f in offered if ctype in (f.media_type, *f.aliases)), None)


def _body_format(content_type: str | None) -> str:
    if found := _format_of(content_type, formats.TRIPLE_FORMATS):
        return found
    ctype = (content_type or "").split(";")[0].strip().lower()
    raise UnsupportedMediaType(
        f"unsupported Content-Type {ctype or '(none)'!r}; send Turtle, N-Triples, JSON-LD or RDF/XML"
    )


async def _write(request: Request, graph: str | None, default: str | None) -> tuple[str, bytes, str]:
    """A write's named graph, body and format; the body refused before any parser reads it when it carries XML
    entities or over-deep JSON-LD."""
    target = _target(graph, default)
    if target is None:
        raise BadRequest("the default graph is the union of the named graphs here; write a named graph")
    ctype = request.headers.get("content-type")
    fmt = _body_format(ctype)  # 415 first for a media type the store does not take
    body = await request.body()
    check_syntax_guards(body, detect_format(ctype, None), "request body")
    return target, body, fmt


@router.get("", summary="Get a graph (or, with neither parameter, the whole public dataset as N-Quads/TriG)")
async def get_graph(
    backend: BackendDep,
    graph: GraphParam = None,
    default: DefaultParam = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    if graph is None and default is None:
        fmt = negotiate(accept, (formats.NQUADS, formats.TRIG))
        return Response(await backend.graph(None, fmt.oxigraph), media_type=fmt.content_type)
    target = _target(graph, default)
    fmt = negotiate(accept, formats.TRIPLE_FORMATS)
    return Response(await backend.graph(target, fmt.oxigraph), media_type=fmt.content_type, headers={"Vary": "Accept"})


def _written(created: bool) -> Response:
    """201 Created when the write made the graph, else 204 (Graph Store Protocol 5.3 and 5.5)."""
    return Response(status_code=201 if created else 204)


@router.put("", status_code=204, dependencies=[AdminDep], summary="Replace a graph (201 when it creates it, else 204)")
async def put_graph(
    request: Request, backend: BackendDep, graph: GraphParam = None, default: DefaultParam = None
) -> Response:
    return _written(await backend.replace_graph(*await _write(request, graph, default)))


@router.post(
    "",
    status_code=204,
    dependencies=[AdminDep],
    summary="Add triples to a graph (201 when it creates it, else 204); with neither parameter, N-Quads or TriG "
    "to their named graphs",
)
async def post_graph(
    request: Request, backend: BackendDep, graph: GraphParam = None, default: DefaultParam = None
) -> Response:
    dataset = _format_of(request.headers.get("content-type"), (formats.NQUADS, formats.TRIG))
    if graph is None and default is None and dataset:
        # a dataset, as Oxigraph server takes it: each quad to its named graph (N-Quads and TriG have no entities)
        await backend.append_dataset(await request.body(), dataset)
        return Response(status_code=204)
    return _written(await backend.append_graph(*await _write(request, graph, default)))


@router.delete("", status_code=204, dependencies=[AdminDep], summary="Delete a graph")
async def delete_graph(backend: BackendDep, graph: GraphParam = None, default: DefaultParam = None) -> Response:
    target = _target(graph, default)
    if target is None:
        raise BadRequest("the default graph cannot be deleted; delete named graphs")
    await backend.delete_graph(target)
    return Response(status_code=204)
