"""``/sparql``: the SPARQL 1.1 Protocol query operation, the service description and the query UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from pvpp_kg.settings import Settings
from pvpp_kg.sparql import protocol as sparql
from pvpp_kg.sparql.description import service_description
from pvpp_kg.store.backend import Backend
from pvpp_kg.web.deps import AdminDep, BackendDep, SettingsDep
from pvpp_kg.web.ui import query_ui_page

router = APIRouter(tags=["SPARQL"])


def endpoint_url(request: Request, settings_public_url: str | None) -> str:
    base = settings_public_url.rstrip("/") if settings_public_url else str(request.base_url).rstrip("/")
    return f"{base}/sparql"


async def _run(request: Request, req: sparql.SparqlRequest, accept: str | None) -> Response:
    settings: Settings = request.app.state.settings
    backend: Backend = request.app.state.backend
    info = sparql.check_query(req, allow_service=settings.allow_service)
    fmt = sparql.choose_format(info, accept, req.format_values)
    dataset = sparql.dataset(req, info)
    text = sparql.with_base(req.query, endpoint_url(request, settings.public_url))
    with sparql.positions_as_sent(text, req.query):
        out = await backend.query(text, result_format=fmt.oxigraph, dataset=dataset, timeout=settings.query_timeout_s)
    return Response(out.body, media_type=fmt.content_type, headers={"Vary": "Accept"})


def _single(values: list[str], name: str) -> str | None:
    """A parameter given once; repeats of the same text are tolerated (clients that add it both to the URL and the
    form), different texts are refused."""
    if len(set(values)) > 1:
        raise BadRequest(f"the '{name}' parameter was given {len(values)} times with different values; give it once")
    return values[0] if values else None


def _format_values(params: Any, form: dict[str, list[str]] | None = None) -> tuple[str, ...]:
    """The format/output/results values of the URL (and the form)."""
    values = [v for name in sparql.FORMAT_PARAMS for v in params.getlist(name)]
    if form:
        values += [v for name in sparql.FORMAT_PARAMS for v in form.get(name, [])]
    return tuple(values)


async def sparql_get(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    params = request.query_params
    q = _single(params.getlist("query"), "query")
    accept = request.headers.get("accept")
    if q is None:
        # browsers list text/html first; SPARQL clients and curl (*/*) get Turtle
        offered = (*formats.TRIPLE_FORMATS, formats.HTML)
        try:
            fmt = negotiate(accept, offered, format_param=sparql.format_param(_format_values(params), offered, "bare"))
        except NotAcceptable:  # a results-only client without a query: say what is missing
            raise BadRequest(
                "no query: give the 'query' parameter (a bare GET returns the service "
                "description as RDF, or the query UI to browsers)"
            ) from None
        if fmt is formats.HTML:
            return await query_ui_page(request, settings, request.app.state.backend)
        counts = await request.app.state.backend.graph_counts()
        base = endpoint_url(request, settings.public_url)
        sd = service_description(base, base.removesuffix("/sparql") + "/.well-known/void", counts)
        body = sd.serialize(
            format={"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}[fmt.name],
            encoding="utf-8",
        )
        return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})
    req = sparql.SparqlRequest(
        q,
        tuple(params.getlist("default-graph-uri")),
        tuple(params.getlist("named-graph-uri")),
        _format_values(params),
    )
    return await _run(request, req, accept)


async def sparql_post(request: Request) -> Response:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    params = request.query_params
    if "query" in params:  # which one to run would be a guess (SPARQL 1.1 Protocol 2.1: the query goes once)
        raise BadRequest("a POST carries its query in the body: remove query= from the URL")
    if ctype == "application/x-www-form-urlencoded":
        sparql.check_charset(request.headers.get("content-type"), "form")
        form = sparql.read_form(await request.body(), "form")
        if "update" in form:
            raise BadRequest("this endpoint answers queries; send updates to /sparql/update with an admin token")
        q = _single(form.get("query", []), "query") or ""
        dg = form.get("default-graph-uri", []) + params.getlist("default-graph-uri")
        ng = form.get("named-graph-uri", []) + params.getlist("named-graph-uri")
        format_values = _format_values(params, form)
    elif ctype == "application/sparql-query":
        sparql.check_charset(request.headers.get("content-type"), "query body")
        q = sparql.decode_body(await request.body(), "query body")
        dg, ng = params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
        format_values = _format_values(params)
    elif ctype == "application/sparql-update":
        raise BadRequest("this endpoint answers queries; send updates to /sparql/update with an admin token")
    else:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {ctype or '(none)'!r}: use application/x-www-form-urlencoded "
            "or application/sparql-query"
        )
    req = sparql.SparqlRequest(q, tuple(dg), tuple(ng), format_values)
    return await _run(request, req, request.headers.get("accept"))


async def sparql_endpoint(request: Request) -> Response:
    """``/sparql``, a plain Starlette route: the SPARQL 1.1 Protocol's query operation (GET and POST), the service
    description and the query UI. Why not a FastAPI route: FastAPI's per-request parameter and dependency
    resolution adds to every point lookup, more so after an idle moment, when every extra line of
    Python runs from cold caches. OpenAPI documents it from :data:`OPENAPI`."""
    if request.method == "POST":
        return await sparql_post(request)
    return await sparql_get(request)


router.add_route("/sparql", sparql_endpoint, methods=["GET", "POST"], include_in_schema=False)


class SparqlShortcut:
    """Pure ASGI middleware: GET and POST ``/sparql`` go straight to :func:`sparql_endpoint`, past FastAPI's
    exception middleware, exit stack and router, which a point lookup need not pass through. Kept because it cuts
    the point-lookup latency issue 7 targets by ~20 % (benchmarks/README.md). The route stays: other
    methods (405) and every other path go on through the app. Added innermost, so CORS and the body limit still
    apply; errors go to the app's exception handlers, and unexpected ones on to the server-error middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST") or _route_path(scope) != "/sparql":
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        scope.setdefault("router", app.router)  # as the router would: the query UI's template calls url_for
        request = Request(scope, receive)
        try:
            response = await sparql_endpoint(request)
        except Exception as exc:
            handler = _handler(app.exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _handler(handlers: dict[Any, Any], exc: Exception) -> Any:
    """The handler the exception middleware would pick; ``Exception``'s belongs to the server-error middleware."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


_PARAM = {"in": "query", "schema": {"type": "string"}}
_DATASET = [
    {**_PARAM, "name": name, "description": f"SPARQL 1.1 Protocol {name} (may repeat)"}
    for name in ("default-graph-uri", "named-graph-uri")
]
_FORMAT = {**_PARAM, "name": "format", "description": "result format for browsers: json, xml, csv, tsv, turtle…"}
_ANSWER = {
    "200": {"description": "query results, in the negotiated format (Accept or 'format')"},
    "400": {"description": "no query, a malformed query, or an update"},
    "406": {"description": "no offered format is acceptable"},
}
#: The OpenAPI path item of ``/sparql`` (FastAPI documents only its own routes): added by ``create_app``.
OPENAPI: dict[str, Any] = {
    "get": {
        "tags": ["SPARQL"],
        "summary": "SPARQL query (GET), service description, or the query UI",
        "operationId": "sparql_get",
        "parameters": [
            {
                **_PARAM,
                "name": "query",
                "description": "the SPARQL query; without it, the service description (RDF) or the query UI (browsers)",
            },
            *_DATASET,
            _FORMAT,
        ],
        "responses": _ANSWER,
    },
    "post": {
        "tags": ["SPARQL"],
        "summary": "SPARQL query (POST form or application/sparql-query body)",
        "operationId": "sparql_post",
        "parameters": [*_DATASET, _FORMAT],
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {"schema": {"type": "string"}},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "string"},
                            "named-graph-uri": {"type": "string"},
                            "format": {"type": "string"},
                        },
                    }
                },
            },
        },
        "responses": {**_ANSWER, "415": {"description": "not a form or application/sparql-query"}},
    },
}


@router.post("/sparql/update", summary="SPARQL 1.1 Update (admin token)", dependencies=[AdminDep])
async def sparql_update(request: Request, backend: BackendDep, settings: SettingsDep) -> Response:
    """The SPARQL 1.1 Protocol's update operation: a form with ``update`` or an application/sparql-update body,
    ``using-graph-uri`` / ``using-named-graph-uri`` (URL or form) as the dataset of each operation, relative IRIs
    resolved against this URL, UTF-8 only."""
    content_type = request.headers.get("content-type")
    ctype = (content_type or "").split(";")[0].strip().lower()
    params = request.query_params
    using, using_named = params.getlist("using-graph-uri"), params.getlist("using-named-graph-uri")
    if ctype == "application/x-www-form-urlencoded":
        sparql.check_charset(content_type, "form")
        form = sparql.read_form(await request.body(), "form")
        text = _single(form.get("update", []), "update") or ""
        using += form.get("using-graph-uri", [])
        using_named += form.get("using-named-graph-uri", [])
    elif ctype == "application/sparql-update":
        sparql.check_charset(content_type, "update body")
        text = sparql.decode_body(await request.body(), "update body")
    else:
        raise UnsupportedMediaType("use application/sparql-update or a form with an 'update' field")
    base = endpoint_url(request, settings.public_url) + "/update"
    update = sparql.UpdateRequest(text, tuple(using), tuple(using_named), base)
    prepared = sparql.prepare_update(update, allow_service=settings.allow_service)
    with sparql.positions_as_sent(prepared, text):
        await backend.update(prepared, timeout=settings.query_timeout_s)
    return Response(status_code=204)
