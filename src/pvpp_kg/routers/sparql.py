"""``/sparql``: the SPARQL 1.1 Protocol query operation, the service description and the query UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from pvpp_kg import formats, sparql
from pvpp_kg.backend import Dataset
from pvpp_kg.conneg import negotiate
from pvpp_kg.deps import AdminDep, BackendDep, SettingsDep
from pvpp_kg.description import service_description
from pvpp_kg.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from pvpp_kg.ui import query_ui_page

router = APIRouter(tags=["SPARQL"])


def endpoint_url(request: Request, settings_public_url: str | None) -> str:
    base = settings_public_url.rstrip("/") if settings_public_url else str(request.base_url).rstrip("/")
    return f"{base}/sparql"


async def _run(request: Request, backend: BackendDep, settings: SettingsDep, req: sparql.SparqlRequest,
               accept: str | None, format_param: str | None) -> Response:
    info = sparql.check_query(req, allow_service=settings.allow_service)
    fmt = sparql.choose_format(info, accept, format_param)
    dataset = Dataset(req.default_graphs, req.named_graphs, from_query=info.has_dataset_clause)
    out = await backend.query(req.query, result_format=fmt.oxigraph, dataset=dataset,
                              timeout=settings.query_timeout_s)
    return Response(out.body, media_type=fmt.content_type, headers={"Vary": "Accept"})


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise BadRequest(f"the '{name}' parameter was given {len(values)} times; give it once")
    return values[0] if values else None


@router.get("/sparql", summary="SPARQL query (GET), service description, or the query UI")
async def sparql_get(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    query: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads list defaults per request
    default_graph_uri: Annotated[list[str], Query(alias="default-graph-uri")] = [],  # noqa: B006
    named_graph_uri: Annotated[list[str], Query(alias="named-graph-uri")] = [],  # noqa: B006
    format: Annotated[str | None, Query(description="result format for browsers: json, xml, csv, tsv, turtle…")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    q = _single(query, "query")
    if q is None:
        # browsers list text/html first; SPARQL clients and curl (*/*) get Turtle
        try:
            fmt = negotiate(accept, (*formats.TRIPLE_FORMATS, formats.HTML), format_param=format)
        except NotAcceptable:  # a results-only client without a query: say what is missing
            raise BadRequest("no query: give the 'query' parameter (a bare GET returns the service "
                             "description as RDF, or the query UI to browsers)") from None
        if fmt is formats.HTML:
            return await query_ui_page(request, settings)
        counts = await backend.graph_counts()
        base = endpoint_url(request, settings.public_url)
        sd = service_description(base, base.removesuffix("/sparql") + "/.well-known/void", counts)
        body = sd.serialize(format={"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld",
                                    "rdfxml": "xml"}[fmt.name], encoding="utf-8")
        return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})
    req = sparql.SparqlRequest(q, tuple(default_graph_uri), tuple(named_graph_uri))
    return await _run(request, backend, settings, req, accept, format)


@router.post("/sparql", summary="SPARQL query (POST form or application/sparql-query body)")
async def sparql_post(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    format: Annotated[str | None, Query()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    params = request.query_params
    if ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        if "update" in form:
            raise BadRequest("this endpoint answers queries; send updates to /sparql/update with an admin token")
        q = _single([str(v) for v in form.getlist("query")], "query") or ""
        dg = [str(v) for v in form.getlist("default-graph-uri")] + params.getlist("default-graph-uri")
        ng = [str(v) for v in form.getlist("named-graph-uri")] + params.getlist("named-graph-uri")
        format = format or (str(form["format"]) if "format" in form else None)
    elif ctype == "application/sparql-query":
        try:
            q = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the query body is not UTF-8") from None
        dg, ng = params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
    elif ctype == "application/sparql-update":
        raise BadRequest("this endpoint answers queries; send updates to /sparql/update with an admin token")
    else:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {ctype or '(none)'!r}: use application/x-www-form-urlencoded "
            "or application/sparql-query")
    req = sparql.SparqlRequest(q, tuple(dg), tuple(ng))
    return await _run(request, backend, settings, req, accept, format)


@router.post("/sparql/update", summary="SPARQL 1.1 Update (admin token)", dependencies=[AdminDep])
async def sparql_update(request: Request, backend: BackendDep, settings: SettingsDep) -> Response:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        text = str(form.get("update") or "")
    elif ctype == "application/sparql-update":
        text = (await request.body()).decode("utf-8", errors="strict")
    else:
        raise UnsupportedMediaType("use application/sparql-update or a form with an 'update' field")
    sparql.check_update(text, allow_service=settings.allow_service)
    await backend.update(text, timeout=settings.query_timeout_s)
    return Response(status_code=204)
