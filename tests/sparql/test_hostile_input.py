"""Hostile input the audit found giving crashes or 500s (issue 25): each is a 400 with a message, before any parser
recurses, the server keeps answering, and the data stays as it was."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, LiveServer

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _count(url: str) -> str:
    r = httpx.get(url + "/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()["results"]["bindings"][0]["n"]["value"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000,
        "SELECT * WHERE { FILTER (" + "(" * 5_000 + "1" + ")" * 5_000 + ") }",
        "SELECT * WHERE " + "\\u007B" * 2_000 + "}" * 2_000,  # braces written as code point escapes
    ],
    ids=["braces", "parentheses", "escaped-braces"],
)
def test_deep_nesting_is_refused_and_the_server_lives(live_server: LiveServer, query: str) -> None:
    before = _count(live_server.url)
    r = httpx.post(live_server.url + "/sparql", data={"query": query}, timeout=30)
    assert r.status_code == 400 and "levels deep" in r.text, r.text
    update = "INSERT { <urn:a> <urn:b> <urn:c> } WHERE " + "{" * 20_000 + "}" * 20_000
    r = httpx.post(
        live_server.url + "/sparql/update",
        content=update.encode(),
        timeout=30,
        headers={"Content-Type": "application/sparql-update", **ADMIN},
    )
    assert r.status_code == 400 and "levels deep" in r.text, r.text
    assert _count(live_server.url) == before


def test_a_plainly_nested_query_still_runs(live_server: LiveServer) -> None:
    query = "SELECT * WHERE " + "{" * 20 + " ?s ?p ?o " + "}" * 20 + " LIMIT 1"
    r = httpx.get(live_server.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


def test_an_update_body_that_is_not_utf8_is_400(live_server: LiveServer) -> None:
    before = _count(live_server.url)
    body = "INSERT DATA { <urn:a> <urn:b> 'Rīga' }".encode("utf-16")
    r = httpx.post(
        live_server.url + "/sparql/update", content=body, headers={"Content-Type": "application/sparql-update", **ADMIN}
    )
    assert r.status_code == 400 and "not UTF-8" in r.text
    assert _count(live_server.url) == before


@pytest.mark.parametrize("graph", ["https://w3id.org/pvpp/graph/a b", "https://w3id.org/pvpp/graph/a>b", "urn:x y"])
def test_graph_store_refuses_a_graph_that_is_no_iri(live_server: LiveServer, graph: str) -> None:
    before = _count(live_server.url)
    ttl = {"Content-Type": "text/turtle", **ADMIN}
    for r in (
        httpx.get(live_server.url + "/store", params={"graph": graph}),
        httpx.put(live_server.url + "/store", params={"graph": graph}, content=b"<urn:a> <urn:b> 1 .", headers=ttl),
        httpx.delete(live_server.url + "/store", params={"graph": graph}, headers=ADMIN),
    ):
        assert r.status_code == 400, r.text
        assert "absolute IRI" in r.text and "Error" not in r.text
    assert _count(live_server.url) == before


def test_deeply_nested_json_ld_is_refused(live_server: LiveServer) -> None:
    body = ('{"@id": "urn:a", "urn:p": ' + "[" * 10_000 + "1" + "]" * 10_000 + "}").encode()
    r = httpx.post(live_server.url + "/validate", content=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 400 and "nested more than 64 levels" in r.text, r.text


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY a "ha"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:x="urn:x#">
  <rdf:Description rdf:about="urn:a"><x:p>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</x:p></rdf:Description>
</rdf:RDF>"""


@pytest.mark.parametrize(
    ("body", "ctype", "needle"),
    [
        (LAUGHS, "application/rdf+xml", "DOCTYPE"),
        (
            b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "urn:a", "urn:p": 1}',
            "application/ld+json",
            "remote @context",
        ),
        (
            b'{"@id": "urn:a", "urn:p": ' + b"[" * 5_000 + b"1" + b"]" * 5_000 + b"}",
            "application/ld+json",
            "nested more than 64 levels",
        ),
    ],
    ids=["billion-laughs", "remote-context", "deep-json-ld"],
)
def test_graph_store_writes_pass_the_upload_guards(
    live_server: LiveServer, body: bytes, ctype: str, needle: str
) -> None:
    """The Graph Store takes RDF too: the same guards as an upload, before any parser reads the body."""
    before = _count(live_server.url)
    for method in (httpx.put, httpx.post):
        r = method(
            live_server.url + "/store",
            params={"graph": "https://w3id.org/pvpp/graph/hostile"},
            content=body,
            headers={"Content-Type": ctype, **ADMIN},
            timeout=30,
        )
        assert r.status_code == 400 and needle in r.text, r.text
    assert _count(live_server.url) == before
