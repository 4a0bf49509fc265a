"""The layering rules, checked: routers hold no SPARQL and no RDF library; the server's own queries are .rq files.

Why a test: the rules ("routers hold no logic", "queries live as .rq, never as Python literals") erode one
convenient shortcut at a time, and a reviewer cannot see a string literal's content in a diff summary.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pvpp_kg import rq
from pvpp_kg.lod import resources as lod
from pvpp_kg.settings import Settings
from pvpp_kg.web.routers import queries as query_routes
from pvpp_kg.web.routers import sparql as sparql_routes

SRC = Path(__file__).parents[2] / "src" / "pvpp_kg"
ROUTERS = sorted((SRC / "web" / "routers").glob("*.py"))
RDF_LIBRARIES = {"pyoxigraph", "rdflib"}
#: A SPARQL query or update, not prose: a query form followed by a variable, a brace, ``*`` or a modifier,
#: or a PREFIX declaration.
SPARQL = re.compile(
    r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\s+(\?|\$|\{|\*|DISTINCT\b|REDUCED\b|WHERE\b)"
    r"|\b(INSERT|DELETE)\s+(DATA\s*)?\{"
    r"|\bPREFIX\s+[\w-]*:\s*<",
    re.IGNORECASE,
)


#: Routers owned by other work in progress that still break a rule: (file, rule) → why it is tolerated.
#: Remove an entry when the router is fixed (the stale-entry test below says so).
def violations(path: Path) -> set[str]:
    """The rules ``path`` breaks, as ``imports <library>`` / ``SPARQL text in a string literal``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {f"imports {a.name.split('.')[0]}" for a in node.names if a.name.split(".")[0] in RDF_LIBRARIES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in RDF_LIBRARIES:
            found.add(f"imports {node.module.split('.')[0]}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SPARQL.search(node.value):
            found.add("SPARQL text in a string literal")
    return found


def test_the_sparql_pattern_tells_queries_from_prose() -> None:
    assert SPARQL.search("SELECT ?s WHERE { ?s ?p ?o }")
    assert SPARQL.search("ask { ?s ?p ?o }")
    assert SPARQL.search("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert SPARQL.search("INSERT DATA { <a> <b> <c> }")
    assert SPARQL.search("PREFIX pvpp: <https://w3id.org/pvpp/ontology#>")
    assert not SPARQL.search("Select the language; ask the admin; describe the resource")


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: p.name)
def test_routers_hold_no_sparql_and_no_rdf_library(path: Path) -> None:
    unexpected = violations(path)
    assert not unexpected, f"routers/{path.name}: {sorted(unexpected)}; move it into a service module or rq/*.rq"


@pytest.mark.parametrize("path", sorted((SRC / "rq").glob("*.rq")), ids=lambda p: p.name)
def test_every_rq_file_is_valid_sparql(path: Path) -> None:
    ox.Store().query(rq.load(path.stem))  # raises SyntaxError on a malformed query


def test_incoming_cap_is_the_limit_of_the_queries() -> None:
    for name in ("lod-incoming", "lod-describe"):
        assert re.findall(r"LIMIT (\d+)", rq.load(name)) == [str(lod.INCOMING_LIMIT)], name


def _sync_dependencies(dependant: object) -> set[str]:
    found: set[str] = set()
    for dep in getattr(dependant, "dependencies", []):
        call = dep.call
        if call is not None and not inspect.iscoroutinefunction(call):
            found.add(getattr(call, "__name__", repr(call)))
        found |= _sync_dependencies(dep)
    return found


def test_query_routes_have_no_thread_pool_dependencies(settings: Settings) -> None:
    """FastAPI runs a plain ``def`` dependency in its thread pool: two such hops halved point-query throughput."""
    routes = [
        r
        for r in query_routes.router_for(settings).routes
        if isinstance(r, APIRoute) and r.path == "/api/queries/task-roles"
    ]
    assert len(routes) == 1
    assert _sync_dependencies(routes[0].dependant) == set()


def test_the_sparql_endpoint_is_one_plain_async_route_documented_in_openapi(client: TestClient) -> None:
    """``/sparql`` skips FastAPI's parameter resolution (the hot path of every point lookup) but not the docs."""
    [route] = [r for r in sparql_routes.router.routes if getattr(r, "path", None) == "/sparql"]
    assert not isinstance(route, APIRoute)
    assert inspect.iscoroutinefunction(route.endpoint)
    assert route.methods == {"GET", "HEAD", "POST"}
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/sparql"] == sparql_routes.OPENAPI
    assert {p["name"] for p in paths["/sparql"]["get"]["parameters"]} == {
        "query",
        "default-graph-uri",
        "named-graph-uri",
        "format",
    }
    assert "/sparql/update" in paths


def test_the_sparql_shortcut_answers_get_and_post_and_passes_on_the_rest(client: TestClient) -> None:
    """The shortcut answers GET and POST ``/sparql`` itself (the app behind it is never called), with the app's
    error handlers; any other method or path reaches the app, and it sits inside CORS and the body limit."""
    app = client.app
    assert [m.cls for m in app.user_middleware][-1] is sparql_routes.SparqlShortcut  # innermost: added first
    reached: list[str] = []

    async def behind(scope: dict, receive: object, send: object) -> None:
        reached.append(f"{scope['method']} {scope['path']}")

    shortcut = sparql_routes.SparqlShortcut(behind)

    def call(method: str, path: str, body: bytes = b"", query_string: bytes = b"") -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query_string,
            "client": ("127.0.0.1", 1),
            "server": ("test", 80),
            "app": app,
            "headers": [(b"content-type", b"application/sparql-query"), (b"accept", b"text/csv")],
        }
        client.portal.call(shortcut, scope, receive, send)  # type: ignore[union-attr]
        return sent

    answered = call("POST", "/sparql", b"SELECT ?n WHERE { VALUES ?n { 7 } }")
    assert answered[0]["status"] == 200 and answered[1]["body"] == b"n\r\n7\r\n"
    refused = call("GET", "/sparql", query_string=b"query=SELECT+%7B")
    assert refused[0]["status"] == 400 and b"1:9" in refused[1]["body"]  # the place of the syntax error
    ui = call("GET", "/sparql")  # no query, text/csv only: the service description cannot be CSV
    assert ui[0]["status"] == 400 and b"no query" in ui[1]["body"]
    assert reached == []
    assert call("PUT", "/sparql") == [] and call("POST", "/sparql/update") == [] and call("GET", "/") == []
    assert reached == ["PUT /sparql", "POST /sparql/update", "GET /"]


def test_times_are_shown_in_riga_time_day_first() -> None:
    """A stored UTC time as a reader in Latvia reads it; winter (UTC+2) and summer (UTC+3) time both."""
    from pvpp_kg.templating import local_time

    assert local_time("2026-12-07T17:37:11Z", "lv") == "07.12.2026 19:37"
    assert local_time("2026-12-07T22:30:00Z", "lv", date_only=True) == "08.12.2026"  # past midnight in Riga
    assert local_time("2026-07-01T09:00:00+00:00", "en") == "01 Jul 2026 12:00"
    assert local_time("not a time", "lv") == "not a time"
