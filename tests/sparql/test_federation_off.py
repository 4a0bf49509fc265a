"""Federation off means no connection leaves the server: every spelling of SERVICE or LOAD the audit found, sent
to a running server, is refused with 400 before it runs, a local listener sees no connection, and the data
version does not change. Words that only look like the keywords (in strings, IRIs, comments) still run."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, LiveServer

QUERIES = [
    "PREFIX ex: <http://example.org/> SELECT * WHERE {{ VALUES ?z {{ ex:a\\# }} SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX ex: <http://example.org/> SELECT * WHERE {{ VALUES ?z {{ ex:a\\' }} SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVI\\u0043E <{url}> {{ ?s ?p ?o }} }}",
    "select * where {{ service <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }} }}",
]
UPDATES = [
    "LOAD <{url}> INTO GRAPH <https://w3id.org/pvpp/graph/loaded>",
    "LO\\u0041D <{url}>",
    "PREFIX ex: <http://example.org/> INSERT {{ ?s ?p ?o }} "
    "WHERE {{ VALUES ?z {{ ex:a\\# }} SERVICE <{url}> {{ ?s ?p ?o }} }}",
]


def _version(url: str) -> str:
    return httpx.get(url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).text


@pytest.mark.parametrize("template", QUERIES)
def test_service_spellings_are_refused(
    live_server: LiveServer, listener: tuple[int, list[object]], template: str
) -> None:
    port, accepted = listener
    r = httpx.get(live_server.url + "/sparql", params={"query": template.format(url=f"http://127.0.0.1:{port}/x")})
    assert r.status_code == 400, r.text
    assert "SERVICE federation is disabled" in r.text
    assert accepted == []


@pytest.mark.parametrize("template", UPDATES)
def test_load_and_service_updates_are_refused(
    live_server: LiveServer, listener: tuple[int, list[object]], template: str
) -> None:
    port, accepted = listener
    before = _version(live_server.url)
    r = httpx.post(
        live_server.url + "/sparql/update",
        content=template.format(url=f"http://127.0.0.1:{port}/x").encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert r.status_code == 400, r.text
    assert "disabled" in r.text
    assert accepted == []
    assert _version(live_server.url) == before


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p 'SERVICE' } LIMIT 1 # SERVICE <http://127.0.0.1:9/x>",
        "PREFIX s: <http://example.org/SERVICE/> SELECT * WHERE { ?s s:service ?o } LIMIT 1",
        "SELECT ?s WHERE { ?s a <https://w3id.org/pvpp/ontology#Service> } LIMIT 1",
        # a large query naming pvpp:Service: no parser recursion decides it (rdflib's gave up at ~120 patterns)
        "PREFIX pvpp: <https://w3id.org/pvpp/ontology#> SELECT ?s WHERE { ?s a pvpp:Service . "
        + " ".join(f"?s <urn:x:p{i}> ?o{i} ." for i in range(125))
        + " } LIMIT 1",
        "SELECT ?s WHERE { VALUES ?s { "
        + " ".join(f"<https://w3id.org/pvpp/id/service/x/{i}>" for i in range(2000))
        + " } ?s ?p ?o } LIMIT 1",
    ],
    ids=["string-and-comment", "prefix-and-name", "class", "large-query", "large-values"],
)
def test_lookalikes_still_run(live_server: LiveServer, query: str) -> None:
    r = httpx.post(
        live_server.url + "/sparql", data={"query": query}, headers={"Accept": "application/json"}, timeout=60
    )
    assert r.status_code == 200, r.text
