"""Issue 25, point 4: a validation that crashes native code fails alone, over HTTP.

The server runs with the test hook ``validation_crash_marker``: the validation process calls ``os.abort()`` (what
a segfault or a Rust abort in pyoxigraph does to a process) on a document holding the marker. The crashing request
must get a 503 with a message; a query and a validation running beside it must be answered as usual; the next
validation must succeed; the web process must live on and the data version stay the same.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from pvpp_kg.web.auth import digest
from tests.conftest import LiveServer

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
    tokens = tmp_path_factory.mktemp("tok") / "tokens.json"
    tokens.write_text(json.dumps({"lm": digest(LM)}))
    s = make_settings(institution_tokens_file=tokens, validation_crash_marker=MARKER)
    ensure_loaded(s)
    srv = LiveServer(s)
    yield srv
    srv.stop()


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
