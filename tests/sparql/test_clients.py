"""The clients researchers bring, with their defaults, against a running server (issue 26, point 1).

SPARQLWrapper with every return format it offers for each query form, by GET, POST form and POST body; rdflib's
``SPARQLStore`` as a Graph and as ``Dataset(SPARQLStore(url))`` (which sends
``default-graph-uri=urn:x-rdflib:default``); curl; requests. Every case checks the answer's content, not its status
alone.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from typing import Any
from xml.dom.minidom import Document

import httpx
import pytest
import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDF,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from tests.conftest import LiveServer

IPKS = URIRef("https://w3id.org/pvpp/id/role/IPKS")
NOTATIONS = ["IPKS", "R4"]  # skos:notation of the role IPKS: its code and its number in the policy
SELECT_Q = f"PREFIX skos: <{SKOS}>\nSELECT ?c WHERE {{ <{IPKS}> skos:notation ?c }} ORDER BY ?c"
ASK_Q = f"PREFIX skos: <{SKOS}>\nASK {{ <{IPKS}> skos:notation 'R4' }}"
CONSTRUCT_Q = f"PREFIX skos: <{SKOS}>\nCONSTRUCT {{ <{IPKS}> skos:notation ?c }} WHERE {{ <{IPKS}> skos:notation ?c }}"
DESCRIBE_Q = f"DESCRIBE <{IPKS}>"

# how SPARQLWrapper sends a query: (method, request encoding)
SENDS = {"GET": (GET, URLENCODED), "POST-form": (POST, URLENCODED), "POST-body": (POST, POSTDIRECTLY)}
RESULTS_MEDIA = {
    None: "application/sparql-results+xml",  # SPARQLWrapper's default is XML
    JSON: "application/sparql-results+json",
    XML: "application/sparql-results+xml",
    CSV: "text/csv",
    TSV: "text/tab-separated-values",
}
GRAPH_MEDIA = {
    None: "application/rdf+xml",  # its default "xml" means RDF/XML for a graph result
    XML: "application/rdf+xml",
    RDFXML: "application/rdf+xml",
    RDF: "application/rdf+xml",
    TURTLE: "text/turtle",
    N3: "text/turtle",  # N3 is answered with Turtle, its subset
    JSONLD: "application/ld+json",
}


def _wrapper(url: str, query: str, send: str, fmt: str | None) -> Any:
    w = SPARQLWrapper(url + "/sparql")
    w.setQuery(query)
    method, encoding = SENDS[send]
    w.setMethod(method)
    w.setRequestMethod(encoding)
    if fmt is not None:
        w.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns that it sends */* for some formats
        return w.query()


def _literals(doc: Document, tag: str) -> list[str]:
    return [n.firstChild.data for n in doc.getElementsByTagName(tag)]


def _notations(g: Graph) -> list[str]:
    return sorted(str(o) for o in g.objects(IPKS, SKOS.notation))


@pytest.mark.parametrize("send", SENDS)
@pytest.mark.parametrize("fmt", RESULTS_MEDIA)
def test_sparqlwrapper_select(live_server: LiveServer, send: str, fmt: str | None) -> None:
    result = _wrapper(live_server.url, SELECT_Q, send, fmt)
    assert result.response.headers["content-type"].split(";")[0] == RESULTS_MEDIA[fmt]
    out = result.convert()
    if fmt == JSON:
        assert [b["c"]["value"] for b in out["results"]["bindings"]] == NOTATIONS
    elif fmt in (None, XML):
        assert _literals(out, "literal") == NOTATIONS
    else:
        lines = out.decode("utf-8").splitlines()
        assert lines == (["?c", '"IPKS"', '"R4"'] if fmt == TSV else ["c", *NOTATIONS])


@pytest.mark.parametrize("send", SENDS)
@pytest.mark.parametrize("fmt", RESULTS_MEDIA)
def test_sparqlwrapper_ask(live_server: LiveServer, send: str, fmt: str | None) -> None:
    result = _wrapper(live_server.url, ASK_Q, send, fmt)
    assert result.response.headers["content-type"].split(";")[0] == RESULTS_MEDIA[fmt]
    out = result.convert()
    if fmt == JSON:
        assert out["boolean"] is True
    elif fmt in (None, XML):
        assert _literals(out, "boolean") == ["true"]
    else:
        assert out.decode().strip() == "true"


@pytest.mark.parametrize("send", SENDS)
@pytest.mark.parametrize("fmt", GRAPH_MEDIA)
@pytest.mark.parametrize("query", [CONSTRUCT_Q, DESCRIBE_Q], ids=["construct", "describe"])
def test_sparqlwrapper_graph(live_server: LiveServer, query: str, send: str, fmt: str | None) -> None:
    result = _wrapper(live_server.url, query, send, fmt)
    assert result.response.headers["content-type"].split(";")[0] == GRAPH_MEDIA[fmt]
    out = result.convert()
    g = Graph().parse(data=out, format="turtle") if isinstance(out, bytes) else out
    assert _notations(g) == NOTATIONS
    if query == CONSTRUCT_Q:
        assert len(g) == 2
    else:
        assert (IPKS, SKOS.prefLabel, Literal("Institutional service portfolio owner", lang="en")) in g


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_graph_and_dataset(endpoint: str, method: str) -> None:
    """``Graph(SPARQLStore(url))`` and ``Dataset(SPARQLStore(url))`` see the same data: the Dataset's default-graph
    marker is read as the union default graph."""
    whole = httpx.get(endpoint + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "format": "json"})
    n = int(whole.json()["results"]["bindings"][0]["n"]["value"])
    assert n > 10_000
    for graph in (
        Graph(store=SPARQLStore(endpoint + "/sparql", method=method)),
        Dataset(store=SPARQLStore(endpoint + "/sparql", method=method)),
    ):
        assert [str(r[0]) for r in graph.query(SELECT_Q)] == NOTATIONS
        assert sorted(str(o) for o in graph.objects(IPKS, SKOS.notation)) == NOTATIONS
        assert graph.query(ASK_Q).askAnswer is True
        assert _notations(graph.query(CONSTRUCT_Q).graph) == NOTATIONS
        assert len(graph) == n
    # rdflib's JSON results (its Accept is then SPARQL JSON only, so rdflib reads SELECT and ASK this way)
    json_store = Dataset(store=SPARQLStore(endpoint + "/sparql", method=method, returnFormat="json"))
    assert [str(r[0]) for r in json_store.query(SELECT_Q)] == NOTATIONS
    assert json_store.query(ASK_Q).askAnswer is True


def test_rdflib_marker_beside_named_graphs(endpoint: str) -> None:
    """The marker with named-graph-uri: the union default graph, and GRAPH sees only the named ones."""
    ref = "https://w3id.org/pvpp/graph/reference"
    r = httpx.get(
        endpoint + "/sparql",
        params={
            "query": f"SELECT ?c (COUNT(DISTINCT ?g) AS ?n) WHERE {{ <{IPKS}> <{SKOS.notation}> ?c "
            "OPTIONAL { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?c ORDER BY ?c",
            "default-graph-uri": "urn:x-rdflib:default",
            "named-graph-uri": ref,
        },
        headers={"Accept": "application/sparql-results+json"},
    )
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    assert [(b["c"]["value"], b["n"]["value"]) for b in rows] == [("IPKS", "1"), ("R4", "1")]


def test_curl_with_its_defaults(live_server: LiveServer) -> None:
    url = live_server.url + "/sparql"

    def curl(*args: str) -> str:
        done = subprocess.run(["curl", "-sS", "--fail-with-body", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    # curl sends Accept: */* — the first offered results format, SPARQL JSON
    got = json.loads(curl("-G", url, "--data-urlencode", f"query={SELECT_Q}"))
    assert [b["c"]["value"] for b in got["results"]["bindings"]] == NOTATIONS
    assert curl("-G", url, "--data-urlencode", f"query={SELECT_Q}", "-H", "Accept: text/csv").split() == [
        "c",
        *NOTATIONS,
    ]
    body = curl(
        url, "--data-binary", SELECT_Q, "-H", "Content-Type: application/sparql-query", "-H", "Accept: text/csv"
    )
    assert body.split() == ["c", *NOTATIONS]
    ttl = curl("-G", url, "--data-urlencode", f"query={CONSTRUCT_Q}")
    assert _notations(Graph().parse(data=ttl, format="turtle")) == NOTATIONS
    ntriples = curl(url, "--data-urlencode", f"query={CONSTRUCT_Q}", "--data-urlencode", "format=nt")
    assert len(ntriples.strip().splitlines()) == 2


def test_requests_with_its_defaults(live_server: LiveServer) -> None:
    url = live_server.url + "/sparql"
    r = requests.get(url, params={"query": SELECT_Q}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/sparql-results+json")
    assert [b["c"]["value"] for b in r.json()["results"]["bindings"]] == NOTATIONS
    r = requests.post(url, data={"query": SELECT_Q, "format": "csv"}, timeout=60)
    assert r.text.split() == ["c", *NOTATIONS]
    r = requests.post(url, data={"query": CONSTRUCT_Q}, headers={"Accept": "application/ld+json"}, timeout=60)
    assert _notations(Graph().parse(data=r.text, format="json-ld")) == NOTATIONS


# -- the format parameters, read by query form ----------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "params", "media"),
    [
        (SELECT_Q, {"format": "xml", "output": "xml", "results": "xml"}, "application/sparql-results+xml"),
        (CONSTRUCT_Q, {"format": "xml", "output": "xml", "results": "xml"}, "application/rdf+xml"),
        (SELECT_Q, {"format": ["tsv", "text/tab-separated-values"]}, "text/tab-separated-values"),
        (CONSTRUCT_Q, {"format": ["json-ld", "application/ld+json,application/x-json+ld"]}, "application/ld+json"),
        (CONSTRUCT_Q, {"output": "n3"}, "text/turtle"),
        (ASK_Q, {"results": "json", "format": ""}, "application/sparql-results+json"),
    ],
)
def test_format_parameters_by_query_form(live_server: LiveServer, query: str, params: dict, media: str) -> None:
    for r in (
        httpx.get(live_server.url + "/sparql", params={"query": query, **params}),
        httpx.post(live_server.url + "/sparql", data={"query": query, **params}),
    ):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"query": SELECT_Q, "default-graph-uri": "not an iri"}, 400, "default-graph-uri must be an absolute IRI"),
        ({"query": SELECT_Q, "named-graph-uri": "graph1"}, 400, "named-graph-uri must be an absolute IRI"),
        ({"query": SELECT_Q, "format": "json", "output": "csv"}, 400, "the format parameters disagree: json and csv"),
        ({"query": SELECT_Q, "format": "turtle"}, 406, "format 'turtle' is not offered for a SELECT query"),
        ({"query": CONSTRUCT_Q, "format": "csv"}, 406, "format 'csv' is not offered for a CONSTRUCT query"),
        ({"query": SELECT_Q, "format": "yaml"}, 406, "format 'yaml' is not offered"),
    ],
)
def test_bad_parameters_are_4xx_with_a_message(
    live_server: LiveServer, params: dict, status: int, message: str
) -> None:
    for r in (
        httpx.get(live_server.url + "/sparql", params=params),
        httpx.post(live_server.url + "/sparql", data=params),
    ):
        assert r.status_code == status
        assert message in r.text and "Error" not in r.text
