"""The W3C SPARQL 1.1 Protocol tests (``tests/data/w3c/sparql11/protocol/manifest.ttl``), every query and every
update test, run as the manifest writes them: its HTTP requests, in order, against a running pvpp-kg.

The manifest's requests all go to ``/sparql/``; as it says, a runner maps them to the endpoint's own paths: here
queries to ``/sparql`` and updates (an update body, form or parameter) to ``/sparql/update`` with the admin token.
Before each test the store holds exactly the manifest's data: ``data1.nt``… as the named graphs
``http://kasei.us/2009/09/sparql/data/data1.rdf``… that the tests name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.dom.minidom import parseString

import httpx
import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF

from pvpp_kg.settings import Settings
from tests.conftest import ADMIN_TOKEN, LiveServer

HERE = Path(__file__).parents[1] / "data" / "w3c" / "sparql11" / "protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
DATA = "http://kasei.us/2009/09/sparql/data/"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
RDF_TYPES = {"text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"}


@dataclass
class Step:
    method: str
    path: str  # after /sparql/
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # "2xx", "3xx", "4xx"
    boolean: bool | None = None
    format: str | None = None


@dataclass
class ProtocolTest:
    name: str
    label: str
    steps: list[Step] = field(default_factory=list)


def _load() -> list[ProtocolTest]:
    g = Graph().parse(
        HERE / "manifest.ttl",
        format="turtle",
        publicID="http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#",
    )
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(test, MF.action)
        t = ProtocolTest(str(test).rsplit("#", 1)[-1], str(g.value(test, MF.name)))
        for req in Collection(g, g.value(action, HT.requests)):
            headers = (
                {
                    str(g.value(h, HT.fieldName)): str(g.value(h, HT.fieldValue))
                    for h in Collection(g, g.value(req, HT.headers))
                }
                if g.value(req, HT.headers)
                else {}
            )
            body = g.value(req, HT.body)
            data = None
            if body is not None:
                data = str(g.value(body, CNT.chars)).encode(str(g.value(body, CNT.characterEncoding)).lower())
            resp = g.value(req, HT.resp)
            statuses = {str(s).rsplit("StatusCode", 1)[-1] for s in g.objects(resp, MF.expectedStatus)}
            boolean = g.value(resp, MF.expectedBoolean)
            fmt = g.value(resp, MF.expectedFormat)
            t.steps.append(
                Step(
                    str(g.value(req, HT.methodName)),
                    str(g.value(req, HT.absolutePath)).removeprefix("/sparql/"),
                    headers,
                    data,
                    statuses,
                    None if boolean is None else boolean.toPython(),
                    None if fmt is None else str(fmt),
                )
            )
        tests.append(t)
    return tests


TESTS = _load()


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    empty: Path = tmp_path_factory.mktemp("no-sources")
    live = LiveServer(make_settings(include_sample=False, source_dir=empty))
    try:
        yield live.url
    finally:
        live.stop()


def _reset(url: str) -> None:
    assert httpx.post(url + "/sparql/update", data={"update": "DROP ALL"}, headers=AUTH).status_code == 204
    for n in (1, 2, 3):
        r = httpx.put(
            url + "/store",
            params={"graph": f"{DATA}data{n}.rdf"},
            content=(HERE / f"data{n}.nt").read_bytes(),
            headers={"Content-Type": "application/n-triples", **AUTH},
        )
        assert r.status_code == 201, r.text  # created: DROP ALL removed it


def _is_update(step: Step) -> bool:
    ctype = step.headers.get("content-type", "")
    body = (step.body or b"").decode("utf-8", errors="replace")
    return (
        ctype.startswith("application/sparql-update")
        or body.startswith("update=")
        or any(p in step.path for p in ("update=", "using-graph-uri=", "using-named-graph-uri="))
    )


def _boolean(r: httpx.Response) -> bool:
    ctype = r.headers["content-type"].split(";")[0]
    if ctype == "application/sparql-results+json":
        return json.loads(r.text)["boolean"]
    assert ctype == "application/sparql-results+xml", ctype
    return parseString(r.content).getElementsByTagName("boolean")[0].firstChild.data == "true"


def _run(url: str, step: Step) -> None:
    update = _is_update(step)
    query_string = step.path.removeprefix("?")
    target = url + ("/sparql/update" if update else "/sparql") + (f"?{query_string}" if query_string else "")
    headers = {**step.headers, **(AUTH if update else {})}
    r = httpx.request(step.method, target, content=step.body, headers=headers, timeout=60)
    klass = f"{r.status_code // 100}xx"
    assert klass in step.statuses, f"{step.method} {target}: {r.status_code} {r.text[:300]}"
    if klass == "4xx":
        assert r.text.strip() and "Traceback" not in r.text and "Error:" not in r.text
    if step.boolean is not None:
        assert _boolean(r) is step.boolean, r.text
    if step.format == "boolean" or step.format == "tabular":
        assert r.headers["content-type"].split(";")[0] in RESULT_TYPES
    elif step.format == "RDF":
        assert r.headers["content-type"].split(";")[0] in RDF_TYPES


def test_the_manifest_has_every_update_and_query_test() -> None:
    names = [t.name for t in TESTS]
    assert len(names) == 34
    assert {n for n in names if n.startswith("update_")} == {
        "update_dataset_default_graph",
        "update_dataset_default_graphs",
        "update_dataset_named_graphs",
        "update_dataset_full",
        "update_post_form",
        "update_post_direct",
        "update_base_uri",
    }


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_w3c_protocol(server: str, test: ProtocolTest) -> None:
    _reset(server)
    for step in test.steps:
        _run(server, step)


def test_relative_iris_resolve_against_the_update_endpoint(server: str) -> None:
    _reset(server)
    update = "INSERT DATA { GRAPH <http://example.org/g> { <s> <p> <../o> } }"
    assert httpx.post(server + "/sparql/update", data={"update": update}, headers=AUTH).status_code == 204
    r = httpx.get(
        server + "/sparql",
        params={"query": "SELECT ?s ?o WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    row = r.json()["results"]["bindings"][0]
    assert (row["s"]["value"], row["o"]["value"]) == (server + "/sparql/s", server + "/o")


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        (
            "application/sparql-update; charset=ISO-8859-1",
            "INSERT DATA { <urn:a> <urn:b> 'Rīga' }".encode("latin-1", "replace"),
            415,
            "send it in UTF-8",
        ),
        ("application/sparql-update", "INSERT DATA { <urn:a> <urn:b> 'Rīga' }".encode("utf-16"), 400, "not UTF-8"),
        ("application/sparql-update", "INSERT DATA { <urn:a> <urn:b> 'Rīga' }".encode("cp1257"), 400, "not UTF-8"),
        (
            "application/x-www-form-urlencoded",
            b"update=INSERT+DATA+%7B+%3Curn%3Aa%3E+%3Curn%3Ab%3E+%27R%EEga%27+%7D",
            400,
            "percent-escapes that are not UTF-8",
        ),
        ("application/x-www-form-urlencoded; charset=windows-1257", b"update=CLEAR+ALL", 415, "send it in UTF-8"),
    ],
)
def test_updates_not_in_utf8_are_refused_and_change_nothing(
    server: str, content_type: str, body: bytes, status: int, message: str
) -> None:
    _reset(server)
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "format": "json"}
    before = httpx.get(server + "/sparql", params=count).json()
    r = httpx.post(server + "/sparql/update", content=body, headers={"Content-Type": content_type, **AUTH})
    assert r.status_code == status and message in r.text, r.text
    assert httpx.get(server + "/sparql", params=count).json() == before


def test_using_parameters_in_the_form_and_a_non_iri_is_refused(server: str) -> None:
    _reset(server)
    update = (
        "INSERT { GRAPH <http://example.org/out> { ?s a <http://example.org/Seen> } } WHERE { GRAPH ?g { ?s a ?type } }"
    )
    r = httpx.post(
        server + "/sparql/update", data={"update": update, "using-named-graph-uri": f"{DATA}data2.rdf"}, headers=AUTH
    )
    assert r.status_code == 204, r.text
    seen = httpx.get(
        server + "/sparql",
        params={"query": "SELECT ?s WHERE { GRAPH <http://example.org/out> { ?s a ?t } }", "format": "json"},
    ).json()
    assert [b["s"]["value"] for b in seen["results"]["bindings"]] == [f"{DATA}data2.rdf"]
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "format": "json"}
    before = httpx.get(server + "/sparql", params=count).json()
    bad = httpx.post(server + "/sparql/update", data={"update": update, "using-graph-uri": "not an iri"}, headers=AUTH)
    assert bad.status_code == 400 and "using-graph-uri must be an absolute IRI" in bad.text
    conflict = httpx.post(
        server + "/sparql/update",
        params={"using-graph-uri": f"{DATA}data1.rdf"},
        data={"update": "WITH <http://example.org/out> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        headers=AUTH,
    )
    assert conflict.status_code == 400 and "USING or WITH" in conflict.text
    assert httpx.get(server + "/sparql", params=count).json() == before
