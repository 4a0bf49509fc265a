"""SPARQL 1.1 Protocol over real HTTP, in embedded mode and in remote mode (a real Oxigraph server)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import ADMIN_TOKEN, LiveServer, free_port, settings_env

ROLES_Q = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
SELECT ?role WHERE { ?role a pvpp:Role } ORDER BY ?role"""
A_FOR_PU2_21 = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
SELECT ?code WHERE {
  ?a pvpp:task <https://w3id.org/pvpp/id/task/PU2-21> ; pvpp:role ?role ;
     pvpp:responsibility <https://w3id.org/pvpp/id/responsibility/A> .
  BIND(STRAFTER(STR(?role), "/role/") AS ?code) } ORDER BY ?code"""
EXPECTED_A = ["IPKS", "IRKS", "PS", "PSn", "RS"]
CONSTRUCT_Q = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
CONSTRUCT { ?a pvpp:role ?r } WHERE { ?a pvpp:task <https://w3id.org/pvpp/id/task/PU2-21> ; pvpp:role ?r }"""
SLOW_Q = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ROLE_IPKS = "https://w3id.org/pvpp/id/role/IPKS"


def _codes(body: dict) -> list[str]:
    return [b["code"]["value"] for b in body["results"]["bindings"]]


# -- query operation ----------------------------------------------------------------------------
def test_get_json(endpoint: str) -> None:
    r = httpx.get(
        endpoint + "/sparql", params={"query": A_FOR_PU2_21}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    assert _codes(r.json()) == EXPECTED_A


def test_post_form_and_direct(endpoint: str) -> None:
    form = httpx.post(endpoint + "/sparql", data={"query": A_FOR_PU2_21})
    direct = httpx.post(
        endpoint + "/sparql", content=A_FOR_PU2_21.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert _codes(form.json()) == _codes(direct.json()) == EXPECTED_A


@pytest.mark.parametrize(
    ("accept", "ctype"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("application/*;q=0.3, text/tab-separated-values;q=0.8", "text/tab-separated-values"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_formats(endpoint: str, accept: str, ctype: str) -> None:
    r = httpx.get(endpoint + "/sparql", params={"query": A_FOR_PU2_21}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(ctype)
    if ctype == "text/csv":
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["code"] and [x[0] for x in rows[1:]] == EXPECTED_A
    if ctype == "application/sparql-results+xml":
        assert "<literal>IPKS</literal>" in r.text


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_formats(endpoint: str, accept: str, rdflib_format: str) -> None:
    r = httpx.post(endpoint + "/sparql", data={"query": CONSTRUCT_Q}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    g = Graph().parse(data=r.content, format=rdflib_format)
    assert len(g) == 7  # PU2-21 has 7 non-empty cells (5 A + 2 L)


def test_ask_and_format_param(endpoint: str) -> None:
    r = httpx.get(
        endpoint + "/sparql",
        params={"query": f"ASK {{ <{ROLE_IPKS}> ?p ?o }}", "format": "json"},
        headers={"Accept": "text/html"},
    )
    assert r.json()["boolean"] is True
    r = httpx.get(endpoint + "/sparql", params={"query": CONSTRUCT_Q, "format": "ntriples"})
    assert r.headers["content-type"].startswith("application/n-triples")


def test_dataset_parameters(endpoint: str) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c }"
    ref = "https://w3id.org/pvpp/graph/reference"
    only_ref = httpx.get(endpoint + "/sparql", params={"query": count, "default-graph-uri": ref}).json()
    union = httpx.get(endpoint + "/sparql", params={"query": count}).json()
    n_ref = int(only_ref["results"]["bindings"][0]["n"]["value"])
    n_all = int(union["results"]["bindings"][0]["n"]["value"])
    assert 0 < n_ref < n_all
    named = httpx.get(
        endpoint + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": ref},
    ).json()
    assert [b["g"]["value"] for b in named["results"]["bindings"]] == [ref]
    from_clause = httpx.get(
        endpoint + "/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) FROM <{ref}> WHERE {{ ?a ?b ?c }}"}
    ).json()
    assert int(from_clause["results"]["bindings"][0]["n"]["value"]) == n_ref


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"query": "SELECT * WHERE { ?s ?p "}, "error"),
        ({}, None),
        ({"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, "update"),
        ({"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}, "SERVICE"),
    ],
)
def test_bad_queries_are_400(endpoint: str, params: dict, needle: str | None) -> None:
    r = httpx.get(endpoint + "/sparql", params=params, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 400
    assert r.text.strip() and "Traceback" not in r.text
    if needle:
        assert needle.lower() in r.text.lower()


def test_empty_post_is_400(endpoint: str) -> None:
    r = httpx.post(endpoint + "/sparql", content=b"", headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400 and "no query" in r.text
    r = httpx.post(endpoint + "/sparql", data={"format": "json"})
    assert r.status_code == 400 and "no query" in r.text


def test_a_post_with_a_second_query_in_the_url_is_400(endpoint: str) -> None:
    """Which of two texts to run would be a guess: the body's and the URL's are refused together, as two
    ``query`` parameters of a GET are."""
    url = endpoint + "/sparql?query=SELECT%20*%20%7B%7D"
    direct = httpx.post(url, content=b"ASK {}", headers={"Content-Type": "application/sparql-query"})
    form = httpx.post(url, data={"query": "ASK {}"})
    for r in (direct, form):
        assert r.status_code == 400 and "remove query= from the URL" in r.text, r.text


def test_not_acceptable(endpoint: str) -> None:
    r = httpx.get(endpoint + "/sparql", params={"query": ROLES_Q}, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "offered" in r.text


def test_wrong_content_type_is_415(endpoint: str) -> None:
    r = httpx.post(endpoint + "/sparql", content=b"SELECT * {}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_update_needs_admin_token(endpoint: str) -> None:
    update = "INSERT DATA { GRAPH <https://w3id.org/pvpp/graph/test> { <urn:x> <urn:y> <urn:z> } }"
    ask = {"query": "ASK { <urn:x> <urn:y> <urn:z> }"}
    assert httpx.post(endpoint + "/sparql/update", data={"update": update}).status_code == 401
    r = httpx.post(endpoint + "/sparql/update", data={"update": update}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]  # no one's token (RFC 6750)
    assert httpx.get(endpoint + "/sparql", params=ask).json()["boolean"] is False
    ok = httpx.post(
        endpoint + "/sparql/update",
        content=update.encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert ok.status_code == 204, ok.text
    assert httpx.get(endpoint + "/sparql", params=ask).json()["boolean"] is True
    gsp_delete = httpx.delete(
        endpoint + "/store",
        params={"graph": "https://w3id.org/pvpp/graph/test"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert gsp_delete.status_code == 204
    assert httpx.get(endpoint + "/sparql", params=ask).json()["boolean"] is False


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        # a pattern outside GRAPH reads the store's own default graph, which holds nothing: it matched nothing, 204
        ("INSERT { GRAPH <https://w3id.org/pvpp/graph/x> { ?r <urn:c> 'c' } } WHERE { ?r a pvpp:Role }", "matches"),
        ("DELETE WHERE { ?r a pvpp:Role }", "matches"),
        # a triple outside GRAPH went where no page, dump or query shows it
        ("INSERT DATA { <urn:a> <urn:b> 'v' }", "writes"),
        ("INSERT { ?r <urn:c> 'c' } WHERE { GRAPH ?g { ?r a pvpp:Role } }", "writes"),
    ],
)
def test_an_update_on_the_empty_default_graph_is_refused(endpoint: str, update: str, reason: str) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    before = httpx.get(endpoint + "/health").json()
    prefixed = "PREFIX pvpp: <https://w3id.org/pvpp/ontology#> " + update
    r = httpx.post(endpoint + "/sparql/update", data={"update": prefixed}, headers=auth)
    assert r.status_code == 400 and reason in r.text and "GRAPH" in r.text, r.text
    assert httpx.get(endpoint + "/health").json() == before
    assert httpx.get(endpoint + "/store", params={"default": ""}).text.strip() == ""


def test_an_update_naming_its_graphs_runs(endpoint: str) -> None:
    """The same updates with GRAPH, WITH or USING work on the union's data."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    g = "https://w3id.org/pvpp/graph/x-roles"
    count = {"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"}
    insert = (
        "PREFIX pvpp: <https://w3id.org/pvpp/ontology#> "
        f"INSERT {{ GRAPH <{g}> {{ ?r <urn:c> 'c' }} }} WHERE {{ GRAPH ?any {{ ?r a pvpp:Role }} }}"
    )
    assert httpx.post(endpoint + "/sparql/update", data={"update": insert}, headers=auth).status_code == 204
    assert httpx.get(endpoint + "/sparql", params=count).json()["results"]["bindings"][0]["n"]["value"] == "10"
    drop = f"WITH <{g}> DELETE {{ ?r <urn:c> ?c }} WHERE {{ ?r <urn:c> ?c }}"
    assert httpx.post(endpoint + "/sparql/update", data={"update": drop}, headers=auth).status_code == 204
    assert httpx.get(endpoint + "/sparql", params=count).json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_a_syntax_errors_position_is_in_the_text_as_sent(endpoint: str) -> None:
    """A query with a relative IRI gets a BASE put in front; the error's column is still the sent text's
    ("error at 1:62" for a 25-character query before)."""
    r = httpx.get(endpoint + "/sparql", params={"query": "SELECT * WHERE { <a> ?p }"})
    assert r.status_code == 400 and "1:26" in r.text, r.text  # the end of the 25 characters
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    u = httpx.post(endpoint + "/sparql/update", data={"update": "INSERTX DATA { <a> <b> <c> }"}, headers=auth)
    assert u.status_code == 400 and "error at 1:11:" in u.text, u.text  # Oxigraph's own column, not 1:54


def test_every_sparql_example_of_the_readme_runs(endpoint: str) -> None:
    """A researcher pastes the README's queries as they are: each runs (one lacked its PREFIX lines: a 400)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [textwrap.dedent(b) for b in re.findall(r"```sparql\n(.*?)```", readme, flags=re.S)]
    assert blocks
    for query in blocks:
        r = httpx.post(
            endpoint + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
        )
        assert r.status_code == 200, (query, r.text)


def test_graph_store_put_resolves_relative_iris_against_the_graph(endpoint: str) -> None:
    """A Turtle file written with relative IRIs (no @base) is read against the graph's IRI, as Oxigraph server and
    Fuseki read it; it was a 400 ("No scheme found in an absolute IRI")."""
    g = "https://w3id.org/pvpp/graph/gsp-relative/"
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    put = httpx.put(endpoint + "/store", params={"graph": g}, content=b"<a> <b> <c> .\n",
                    headers={"Content-Type": "text/turtle", **auth})  # fmt: skip
    assert put.status_code == 201, put.text
    ask = {"query": f"ASK {{ GRAPH <{g}> {{ <{g}a> <{g}b> <{g}c> }} }}"}
    assert httpx.get(endpoint + "/sparql", params=ask).json()["boolean"] is True
    assert httpx.delete(endpoint + "/store", params={"graph": g}, headers=auth).status_code == 204


def test_graph_store_protocol(endpoint: str) -> None:
    g = "https://w3id.org/pvpp/graph/gsp-test"
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ttl = b"<urn:a> <urn:b> 1 .\n"
    assert (
        httpx.put(
            endpoint + "/store", params={"graph": g}, content=ttl, headers={"Content-Type": "text/turtle"}
        ).status_code
        == 401
    )
    put = lambda: httpx.put(  # noqa: E731
        endpoint + "/store", params={"graph": g}, content=ttl, headers={"Content-Type": "text/turtle", **auth}
    )
    assert put().status_code == 201  # Graph Store Protocol 5.3: the graph was created
    assert put().status_code == 204  # replaced
    assert (
        httpx.post(
            endpoint + "/store",
            params={"graph": g},
            content=b'<urn:a> <urn:b> "2" .\n',
            headers={"Content-Type": "application/n-triples", **auth},
        ).status_code
        == 204
    )
    got = httpx.get(endpoint + "/store", params={"graph": g}, headers={"Accept": "application/n-triples"})
    assert sorted(got.text.strip().splitlines())[0].startswith("<urn:a> <urn:b>") and len(got.text.splitlines()) == 2
    bad = httpx.put(
        endpoint + "/store",
        params={"graph": g},
        content=b"<urn:a> <urn:b> .",
        headers={"Content-Type": "text/turtle", **auth},
    )
    assert bad.status_code == 400
    assert (
        len(
            httpx.get(
                endpoint + "/store", params={"graph": g}, headers={"Accept": "application/n-triples"}
            ).text.splitlines()
        )
        == 2
    )
    assert httpx.delete(endpoint + "/store", params={"graph": g}, headers=auth).status_code == 204
    assert httpx.get(endpoint + "/store", params={"graph": g}).status_code == 404


def test_a_dataset_posted_to_the_store_goes_to_its_named_graphs(endpoint: str) -> None:
    """POST /store with N-Quads or TriG and no graph parameter, as Oxigraph server takes it: each quad to its
    named graph (admin token); a quad in the default graph (here the union of the named ones) is a 400 and
    nothing is written; bad syntax a 400."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    g1, g2 = "https://w3id.org/pvpp/graph/ds-test-1", "https://w3id.org/pvpp/graph/ds-test-2"
    nq = f'<urn:ds:a> <urn:ds:p> "1" <{g1}> .\n<urn:ds:b> <urn:ds:p> "2" <{g2}> .\n'.encode()
    store = endpoint + "/store"
    assert httpx.post(store, content=nq, headers={"Content-Type": "application/n-quads"}).status_code == 401
    r = httpx.post(store, content=nq, headers={"Content-Type": "application/n-quads", **auth})
    assert r.status_code == 204, r.text
    trig = f'<{g2}> {{ <urn:ds:c> <urn:ds:p> "3" }}'.encode()
    assert httpx.post(store, content=trig, headers={"Content-Type": "application/trig", **auth}).status_code == 204
    got = {g: httpx.get(store, params={"graph": g}, headers={"Accept": "application/n-triples"}).text for g in (g1, g2)}
    assert got[g1].count("urn:ds:p") == 1 and got[g2].count("urn:ds:p") == 2
    mixed = nq + b'<urn:ds:d> <urn:ds:p> "4" .\n'
    r = httpx.post(store, content=mixed, headers={"Content-Type": "application/n-quads", **auth})
    assert r.status_code == 400 and "default graph" in r.text
    r = httpx.post(store, content=b"<urn:x> <urn:y> .", headers={"Content-Type": "application/n-quads", **auth})
    assert r.status_code == 400
    assert httpx.get(endpoint + "/sparql", params={"query": "ASK { <urn:ds:d> ?p ?o }"}).json()["boolean"] is False
    for g in (g1, g2):
        assert httpx.delete(store, params={"graph": g}, headers=auth).status_code == 204


def test_service_description_and_ui(endpoint: str) -> None:
    r = httpx.get(endpoint + "/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    sd = Graph().parse(data=r.text, format="turtle")
    q = """PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
    SELECT ?e ?d WHERE { ?s a sd:Service ; sd:endpoint ?e ; sd:defaultDataset ?d }"""
    rows = list(sd.query(q))
    assert str(rows[0][0]) == endpoint + "/sparql"
    assert str(rows[0][1]) == "https://w3id.org/pvpp/dataset"
    html = httpx.get(endpoint + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.headers["content-type"].startswith("text/html")
    assert "/static/yasgui/yasgui.min.js" in html.text and "cdn" not in html.text.lower()


def _preflight(endpoint: str, path: str, method: str, headers: str) -> httpx.Response:
    """The CORS preflight a browser client on another origin sends before ``method`` with ``headers``."""
    return httpx.options(
        endpoint + path,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_health_and_cors(endpoint: str) -> None:
    h = httpx.get(endpoint + "/health").json()
    assert h["status"] == "ok" and h["graphs"]["https://w3id.org/pvpp/graph/reference"] > 0
    r = httpx.get(endpoint + "/sparql", params={"query": ROLES_Q}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    # a preflight as a jQuery-based client on another origin sends it (Fuseki allows these headers)
    preflight = _preflight(endpoint, "/sparql", "POST", "content-type, x-requested-with, cache-control")
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert "X-Requested-With" in preflight.headers["access-control-allow-headers"]
    # a browser client of the Graph Store writes across origins too (with the admin token)
    put = _preflight(endpoint, "/store", "PUT", "authorization, content-type")
    assert put.status_code == 200 and "PUT" in put.headers["access-control-allow-methods"].split(", ")
    # a linked-data page's other formats (Link) and the format chosen (Content-Location) are readable by scripts
    page = httpx.get(endpoint + "/id/role/IPKS", headers={"Origin": "https://example.org", "Accept": "text/turtle"})
    exposed = {h.strip().lower() for h in page.headers["access-control-expose-headers"].split(",")}
    assert {"link", "content-location", "etag"} <= exposed and "link" in page.headers


# -- real clients -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [JSON, XML, CSV])
def test_sparqlwrapper_select(endpoint: str, fmt: str) -> None:
    w = SPARQLWrapper(endpoint + "/sparql")
    w.setQuery(A_FOR_PU2_21)
    w.setReturnFormat(fmt)
    result = w.query().convert()
    if fmt == JSON:
        assert _codes(result) == EXPECTED_A
    elif fmt == XML:
        assert [n.firstChild.data for n in result.getElementsByTagName("literal")] == EXPECTED_A
    else:
        assert result.decode().splitlines()[1:] == EXPECTED_A


def test_sparqlwrapper_construct_turtle(endpoint: str) -> None:
    w = SPARQLWrapper(endpoint + "/sparql")
    w.setQuery(CONSTRUCT_Q)
    w.setReturnFormat(TURTLE)
    g = Graph().parse(data=w.query().convert(), format="turtle")
    assert len(g) == 7


def test_rdflib_sparqlstore(endpoint: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(endpoint + "/sparql", returnFormat="json"))
    codes = [str(r[0]) for r in g.query(A_FOR_PU2_21)]
    assert codes == EXPECTED_A


# -- limits ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited_server(make_settings) -> Iterator[LiveServer]:  # noqa: ANN001

    s = make_settings(query_timeout_s=2.0, max_result_bytes=20_000, max_body_bytes=10_000)
    ensure_loaded(s)
    server = LiveServer(s)
    yield server
    server.stop()


def test_timeout_stops_query_while_others_are_answered(limited_server: LiveServer) -> None:
    url = limited_server.url + "/sparql"
    finished: dict[str, float] = {}
    outcome: dict[str, httpx.Response] = {}

    def slow_call() -> None:
        outcome["slow"] = httpx.get(url, params={"query": SLOW_Q}, timeout=30)
        finished["slow"] = time.monotonic()

    slow = threading.Thread(target=slow_call)
    slow.start()
    time.sleep(0.3)
    quick = httpx.get(url, params={"query": A_FOR_PU2_21}, timeout=30)
    finished["quick"] = time.monotonic()
    slow.join()
    assert quick.status_code == 200 and _codes(quick.json()) == EXPECTED_A
    assert finished["quick"] < finished["slow"]  # answered while the slow query was still running
    assert outcome["slow"].status_code == 503 and "stopped" in outcome["slow"].text
    # the server is still healthy afterwards: the worker was replaced
    assert httpx.get(url, params={"query": A_FOR_PU2_21}).status_code == 200


def test_result_size_cap(limited_server: LiveServer) -> None:
    r = httpx.get(limited_server.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.status_code == 413 and "LIMIT" in r.text


def test_body_size_limit(limited_server: LiveServer) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 20_000
    r = httpx.post(
        limited_server.url + "/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    # plain text, as every /sparql error: SPARQL clients show the body to the user
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("request body larger than") and "upload limit" in r.text


def test_body_size_limit_chunked(limited_server: LiveServer) -> None:
    """A body without Content-Length (chunked) is counted as it streams; a small one still gets through."""

    def chunks(text: str) -> Iterator[bytes]:
        for i in range(0, len(text), 1000):
            yield text[i : i + 1000].encode()

    url, ctype = limited_server.url + "/sparql", {"Content-Type": "application/sparql-query"}
    big = httpx.post(url, content=chunks("ASK {} #" + "x" * 20_000), headers=ctype)
    assert big.request.headers.get("transfer-encoding") == "chunked"
    assert big.status_code == 413 and big.text.startswith("request body larger than")
    small = httpx.post(url, content=chunks("ASK { FILTER(1 = 1) }"), headers={**ctype, "Accept": "text/csv"})
    assert small.request.headers.get("transfer-encoding") == "chunked"
    assert small.status_code == 200 and small.text.strip() == "true"


def test_protocol_dataset_replaces_query_dataset(endpoint: str) -> None:
    ref, onto = "https://w3id.org/pvpp/graph/reference", "https://w3id.org/pvpp/graph/ontology"
    q_from = f"SELECT (COUNT(*) AS ?n) FROM <{ref}> WHERE {{ ?s ?p ?o }}"
    r = httpx.get(endpoint + "/sparql", params={"query": q_from, "named-graph-uri": onto}).json()
    assert r["results"]["bindings"][0]["n"]["value"] == "0"  # the protocol dataset has an empty default graph
    q_named = f"SELECT DISTINCT ?g FROM NAMED <{ref}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    r = httpx.get(endpoint + "/sparql", params={"query": q_named, "default-graph-uri": onto}).json()
    assert r["results"]["bindings"] == []
    r = httpx.get(endpoint + "/sparql", params={"query": q_named}).json()
    assert [b["g"]["value"] for b in r["results"]["bindings"]] == [ref]


def _rows(body: dict) -> list[tuple]:
    return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in body["results"]["bindings"])


def test_library_queries_agree_in_remote_mode(remote_endpoint: str, live_server: LiveServer) -> None:
    """Every governance query, with its example parameters, answers the same on the remote store, the one that
    uses the text search function (rewritten over the server's own index of the remote data) too."""
    from pvpp_kg.queries.library import load_library

    checked = 0
    for q in load_library(Settings().queries_dir):
        params = {p.name: p.example for p in q.params if p.example}
        embedded = httpx.get(f"{live_server.url}/api/queries/{q.name}", params=params, timeout=60)
        remote = httpx.get(f"{remote_endpoint}/api/queries/{q.name}", params=params, timeout=60)
        assert embedded.status_code == remote.status_code == 200, (q.name, remote.text)
        assert _rows(embedded.json()) == _rows(remote.json()), q.name
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("access_log", [False, True])
def test_pvpp_kg_serve_logs_requests_only_when_asked(settings: Settings, tmp_path: Path, access_log: bool) -> None:
    """``pvpp-kg serve`` keeps no access log (client IPs are personal data) unless ``PVPP_ACCESS_LOG`` says so."""
    ensure_loaded(settings)
    port = free_port()
    log = tmp_path / "serve.log"
    env = settings_env(settings) | {"PVPP_ACCESS_LOG": str(access_log).lower()}
    exe = Path(sys.executable).parent / "pvpp-kg"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": A_FOR_PU2_21}, timeout=5)
                    break
                except httpx.HTTPError:
                    assert time.time() < deadline and proc.poll() is None, log.read_text()
                    time.sleep(0.2)
            assert r.status_code == 200 and _codes(r.json()) == EXPECTED_A
        finally:
            proc.terminate()
            proc.wait(10)
    text = log.read_text()
    assert "Application startup complete" in text
    assert ('"GET /sparql?query=' in text) is access_log


def test_select_star_lists_the_variables_as_the_query_names_them(endpoint: str) -> None:
    """``SELECT *``'s columns in the order the query first names them (as Jena/Fuseki give them; Oxigraph sorts
    them, so ``?s ?p ?o`` came back as o, p, s), in every results format, in embedded and remote mode alike; a
    sub-select's ``*`` and the in-scope rules are Oxigraph's own (``?w``, only in MINUS, is no column)."""
    q = (
        "# SELECT * in a comment\nSELECT * WHERE { ?task ?p ?label . ?task a ?kind "
        'FILTER(?label = "x" || CONTAINS(STR(?task), "PU2-21")) '
        "MINUS { ?task <urn:x> ?w } } LIMIT 3"
    )
    r = httpx.get(endpoint + "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["head"]["vars"] == ["task", "p", "label", "kind"]
    csv = httpx.get(endpoint + "/sparql", params={"query": q}, headers={"Accept": "text/csv"})
    assert csv.text.splitlines()[0] == "task,p,label,kind"
    distinct = "SELECT DISTINCT * { ?zeta ?alpha ?mid } LIMIT 1"
    r = httpx.get(
        endpoint + "/sparql", params={"query": distinct}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.json()["head"]["vars"] == ["zeta", "alpha", "mid"]
    # with the text search, whose matches are written into the query after its columns are
    search = (
        "PREFIX pvppfn: <https://w3id.org/pvpp/function#> SELECT * WHERE { ?service "
        '<http://purl.org/dc/terms/title> ?title FILTER(pvppfn:search(?service, "pabalst")) } LIMIT 1'
    )
    r = httpx.get(endpoint + "/sparql", params={"query": search}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["head"]["vars"] == ["service", "title"]
    assert r.json()["results"]["bindings"]
    inner = "SELECT ?b ?a { { SELECT * { ?a ?b ?c } LIMIT 1 } }"
    r = httpx.get(endpoint + "/sparql", params={"query": inner}, headers={"Accept": "application/sparql-results+json"})
    assert r.json()["head"]["vars"] == ["b", "a"]


@pytest.mark.parametrize(
    "statements",
    [
        "<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/ns/org#heldBy> <urn:x:holder> .\n"
        '<urn:x:holder> <http://xmlns.com/foaf/0.1/name> "Anna Bērziņa" .',
        '<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/2000/01/rdf-schema#comment> "anna@example.lv" .',
    ],
    ids=["holder-name", "e-mail"],
)
def test_an_administrators_write_of_personal_data_is_refused_in_both_modes(endpoint: str, statements: str) -> None:
    """On the embedded store and over a remote Oxigraph server alike, an update or a Graph Store PUT whose own
    statements name a person or give a contact is a 400 and is not sent: the store keeps its triples."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"}
    before = httpx.get(endpoint + "/sparql", params=count, headers={"Accept": "text/csv"}, timeout=60).text
    graph = "https://w3id.org/pvpp/graph/institution/zz-both"
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ {statements} }} }}"
    r = httpx.post(endpoint + "/sparql/update", data={"update": update}, headers=auth, timeout=60)
    assert r.status_code == 400 and "never holds people's names or contact data" in r.text, r.text
    put = httpx.put(
        endpoint + "/store",
        params={"graph": graph},
        content=statements.encode(),
        headers={**auth, "Content-Type": "application/n-triples"},
        timeout=60,
    )
    assert put.status_code == 400 and "nothing was written" in put.text, put.text
    # the same in Turtle with a relative IRI (read against the graph's): the remote mode's check skipped it
    relative = "<p> <http://www.w3.org/2000/01/rdf-schema#comment> 'x' .\n" + statements
    put = httpx.put(
        endpoint + "/store",
        params={"graph": graph},
        content=relative.encode(),
        headers={**auth, "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert put.status_code == 400 and "nothing was written" in put.text, put.text
    assert httpx.get(endpoint + "/sparql", params=count, headers={"Accept": "text/csv"}, timeout=60).text == before
