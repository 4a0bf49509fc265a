"""Issue 25, point 4: a validation that crashes native code fails alone, over HTTP.

The server runs with the test hook ``validation_crash_marker``: the validation process calls ``os.abort()`` (what
a segfault or a Rust abort in pyoxigraph does to a process) on a document holding the marker. The crashing request
must get a 503 with a message; a query and a validation running beside it must be answered as usual; the next
validation must succeed; the web process must live on and the data version stay the same.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import LiveServer, serving, tokens_file

MARKER = "urn:x-pvpp-test:crash"
LM = "lm-crash-token"
BASE = (Path(__file__).parents[1] / "data" / "shapes" / "base.ttl").read_text("utf-8")
CRASHING = (BASE + f'\n<{MARKER}> <urn:x-pvpp-test:p> "x" .\n').encode()
TURTLE = {"Content-Type": "text/turtle", "Accept": "application/json"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/pvpp/ontology#PublicService> }"


def many_services(n: int) -> bytes:
    """base.ttl with ``n`` more copies of its first service: a document that keeps the validation busy a while."""
    block = re.search(r"<service/lm/pabalsts> a .*?\.\n\n", BASE, flags=re.S)
    assert block is not None
    copies = [
        block.group(0)
        .replace("<service/lm/pabalsts>", f"<service/lm/pabalsts-{i}>")
        .replace('"test-lm/pabalsts"', f'"test-lm/pabalsts-{i}"')
        .replace("Pabalsta piešķiršana", f"Pabalsta piešķiršana {i}")
        .replace("Granting of a benefit", f"Granting of a benefit {i}")
        for i in range(n)
    ]
    return (BASE + "\n" + "".join(copies)).encode()


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"lm": LM})
    s = make_settings(institution_tokens_file=tokens, validation_crash_marker=MARKER)
    with serving(s) as srv:
        yield srv


def _state(url: str) -> tuple[Any, Any]:
    health = httpx.get(url + "/health", timeout=30).json()
    return health["version"], health["triples"]


def _validate(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url + "/validate", content=body, headers=TURTLE, timeout=300)


def _count(url: str) -> httpx.Response:
    return httpx.get(url + "/sparql", params={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=60)


def _summary(r: httpx.Response) -> tuple[int, bool, list[tuple[str, str, str]]]:
    body = r.json()
    return (
        r.status_code,
        body["conforms"],
        sorted((x["focusNode"], x["sourceShape"], x["severity"]) for x in body["results"]),
    )


def test_a_crashing_validation_fails_alone(server: LiveServer) -> None:
    busy = many_services(300)
    expected = _summary(_validate(server.url, busy))  # also starts the validation process
    assert expected[0] == 200 and len(expected[2]) > 0  # copies of one service break the duplicate rules
    count = _count(server.url)
    assert count.status_code == 200
    before = _state(server.url)

    with ThreadPoolExecutor(3) as pool:
        innocent = pool.submit(_validate, server.url, busy)  # running in the validation process when it dies
        time.sleep(0.3)
        crashing = pool.submit(_validate, server.url, CRASHING)
        query = pool.submit(_count, server.url)
        r = crashing.result()
        assert r.status_code == 503, r.text[:500]
        assert r.json()["message"] == (
            "the validation crashed the validation engine and was stopped; nothing else was affected"
        )
        assert query.result().status_code == 200 and query.result().text == count.text
        assert _summary(innocent.result()) == expected

    assert server.process.poll() is None  # the web process lives on
    assert _summary(_validate(server.url, busy)) == expected  # the next validation succeeds
    ok = _validate(server.url, BASE.encode())
    assert ok.status_code == 200 and ok.json()["conforms"] is True
    assert _state(server.url) == before


def test_a_crashing_submission_stores_nothing(server: LiveServer) -> None:
    before = _state(server.url)
    r = httpx.post(
        server.url + "/submissions",
        content=CRASHING,
        headers={**TURTLE, "Authorization": f"Bearer {LM}"},
        timeout=300,
    )
    assert r.status_code == 503, r.text[:500]
    assert "crashed the validation engine" in r.json()["message"]
    assert _state(server.url) == before
    assert httpx.get(server.url + "/submissions/lm", timeout=30).json()["versions"] == []
    # the same institution's good data is validated and stored right after
    r = httpx.post(
        server.url + "/submissions",
        content=BASE.encode(),
        headers={**TURTLE, "Authorization": f"Bearer {LM}"},
        timeout=300,
    )
    assert r.status_code == 201, r.text[:500]
    assert r.json()["stored"]["version"] == 1


def test_shapes_nested_past_the_recursion_limit_are_a_400(server: LiveServer) -> None:
    """A real input that recursed the engine out of its depth: a user's sh:path 5,000 inverse paths deep."""
    before = _state(server.url)
    deep = "[ sh:inversePath " * 5000 + "<urn:p>" + " ]" * 5000
    shapes = (
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        f"<urn:s> a sh:NodeShape ; sh:targetNode <urn:a> ; sh:property [ sh:path {deep} ; sh:minCount 1 ] .\n"
    ).encode()
    r = httpx.post(
        server.url + "/validate",
        files={
            "file": ("d.nt", b"<urn:a> <urn:p> <urn:b> .\n", "application/n-triples"),
            "shapes": ("deep.ttl", shapes, "text/turtle"),
        },
        data={"policy": "false"},
        headers={"Accept": "application/json"},
        timeout=300,
    )
    assert r.status_code == 400, r.text[:500]
    assert r.json()["message"] == "deep.ttl: the shapes nest too deeply to be read"
    ok = _validate(server.url, BASE.encode())
    assert ok.status_code == 200 and ok.json()["conforms"] is True
    assert _state(server.url) == before


COMPLIANCE_LM = "https://w3id.org/pvpp/graph/compliance/lm"
HISTORY = "https://w3id.org/pvpp/graph/compliance-history"
PVPP = "https://w3id.org/pvpp/ontology#"
# the marker followed by #measure, in a literal: the validation passes it, the measurement of the accepted
# submission crashes on it
MEASURE_CRASHING = BASE.replace('"Pabalsts iedzīvotājiem."@lv', f'"Pabalsts iedzīvotājiem. {MARKER}#measure"@lv')


def _sparql(url: str, query: str, accept: str = "application/n-triples") -> str:
    r = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": accept}, timeout=60)
    assert r.status_code == 200, r.text[:500]
    return r.text


def _compliance(url: str) -> tuple[list[str], list[str], list[str]]:
    """The institution's compliance graph and the history graph (sorted N-Triples), and the data versions the
    compliance graph's measurements say they were made on."""

    def graph(iri: str) -> list[str]:
        return sorted(_sparql(url, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}").splitlines())

    versions = _sparql(
        url,
        f"SELECT DISTINCT ?v WHERE {{ GRAPH <{COMPLIANCE_LM}> {{ ?m <{PVPP}dataVersion> ?v }} }}",
        "text/csv",
    ).split()[1:]
    return graph(COMPLIANCE_LM), graph(HISTORY), versions


def _submit(url: str, body: bytes, **params: str) -> httpx.Response:
    return httpx.post(
        url + "/submissions",
        content=body,
        params=params,
        headers={**TURTLE, "Authorization": f"Bearer {LM}"},
        timeout=300,
    )


def test_a_submission_whose_measurement_crashes_stores_nothing(server: LiveServer) -> None:
    """The measurement of an accepted submission (its stored form and compliance figures) runs in the validation
    process after the validation; a crash there stores nothing: the data version, the institution's versions,
    its compliance graph and the history are as before, and they still agree with each other."""
    r = _submit(server.url, BASE.encode())  # a version with its figures to keep
    assert r.status_code == 201, r.text[:500]
    stored = r.json()["stored"]["version"]
    busy = many_services(300)
    expected = _summary(_validate(server.url, busy))
    count = _count(server.url)
    before = _state(server.url)
    figures = _compliance(server.url)
    assert figures[0] and figures[1] and figures[2] == [str(stored)]  # the figures are of the stored version

    with ThreadPoolExecutor(4) as pool:
        innocent = pool.submit(_validate, server.url, busy)  # in the validation process when it dies
        time.sleep(0.3)
        crashing = pool.submit(_submit, server.url, MEASURE_CRASHING.encode())
        queries = [pool.submit(_count, server.url) for _ in range(5)]
        r = crashing.result()
        assert r.status_code == 503, r.text[:500]
        assert r.json()["message"] == (
            "the submission was not stored: measuring its compliance figures failed: the validation crashed the "
            "validation engine and was stopped; nothing else was affected. The stored data and figures are "
            "unchanged; send it again"
        )
        assert all(q.result().status_code == 200 and q.result().text == count.text for q in queries)
        assert _summary(innocent.result()) == expected

    assert server.process.poll() is None  # the web process lives on
    assert _state(server.url) == before
    assert [v["version"] for v in httpx.get(server.url + "/submissions/lm", timeout=30).json()["versions"]][-1] == (
        stored
    )
    assert _compliance(server.url) == figures
    # the preview of the same upload makes the stored form in the validation process too: the same crash, alone
    r = _submit(server.url, MEASURE_CRASHING.encode(), dry_run="true")
    assert r.status_code == 503, r.text[:500]
    assert (
        r.json()["message"] == "the validation crashed the validation engine and was stopped; nothing else was affected"
    )
    assert _state(server.url) == before
    # the same data without the marker is stored with its figures, which name its version
    r = _submit(server.url, MEASURE_CRASHING.replace(f" {MARKER}#measure", " Jauns.").encode())
    assert r.status_code == 201, r.text[:500]
    assert r.json()["stored"]["version"] == stored + 1
    after = _compliance(server.url)
    assert after[2] == [str(stored + 1)] and len(after[1]) > len(figures[1])


def _wait_revalidation(url: str) -> dict[str, str]:
    deadline = time.time() + 240
    while time.time() < deadline:
        state = httpx.get(url + "/health", timeout=30).json()["revalidation"]
        if state["state"] not in ("checking", "running"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError("the start-up revalidation did not end within 240 s")


def _start_with_stale_figures(make_settings: Callable[..., Settings], crash: bool) -> tuple[LiveServer, Any]:
    """A server starting on a store with no compliance figures (so the start-up revalidation runs), whose data
    holds the revalidation's crash marker when ``crash``."""
    s = make_settings(validation_crash_marker=MARKER, revalidate_on_start=True)
    store = ensure_loaded(s)[0]
    if crash:
        with store.writer() as w:
            w.add(ox.Quad(ox.NamedNode(f"{MARKER}#revalidate"), ox.NamedNode("urn:x-pvpp-test:p"), ox.Literal("x")))
    return LiveServer(s), int(store.version())


COMPLIANCE_GRAPHS = """SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
  FILTER STRSTARTS(STR(?g), 'https://w3id.org/pvpp/graph/compliance') }"""


def test_a_crashing_start_up_revalidation_fails_alone(make_settings: Callable[..., Settings]) -> None:
    server, version = _start_with_stale_figures(make_settings, crash=True)
    try:
        count = _count(server.url)  # served while the revalidation runs
        assert count.status_code == 200
        state = _wait_revalidation(server.url)
        assert state == {
            "state": "failed",
            "message": "the revalidation crashed the revalidation engine and was stopped; nothing else was affected",
        }
        assert server.process.poll() is None
        assert _count(server.url).text == count.text
        assert httpx.get(server.url + "/health", timeout=30).json()["version"] == str(version)  # nothing written
        assert _sparql(server.url, COMPLIANCE_GRAPHS, "text/csv").split() == ["n", "0"]
        ok = _validate(server.url, BASE.encode())  # the validation process of requests is another one
        assert ok.status_code == 200 and ok.json()["conforms"] is True
    finally:
        server.stop()


def test_the_start_up_revalidation_publishes_the_figures(make_settings: Callable[..., Settings]) -> None:
    """The same start without the marker: the revalidation process measures every institution, one write."""
    server, version = _start_with_stale_figures(make_settings, crash=False)
    try:
        state = _wait_revalidation(server.url)
        assert state["state"] == "done", state
        said = re.fullmatch(
            r"(\d+) institutions measured, (\d+) compliance graph\(s\) rewritten, in \d+\.\d s", state["message"]
        )
        assert said and said.group(1) == said.group(2) == "66"  # the store held no figures: every graph is new
        assert httpx.get(server.url + "/health", timeout=30).json()["version"] == str(version + 1)
        graphs = int(_sparql(server.url, COMPLIANCE_GRAPHS, "text/csv").split()[1])
        assert graphs == 66 + 1  # one per institution, and the history
    finally:
        server.stop()
