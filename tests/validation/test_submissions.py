"""The submission flow over real HTTP (a uvicorn subprocess): accept, reject, versions, tokens, bad input, crash."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pvpp_kg.namespaces import institution_graph
from pvpp_kg.settings import Settings
from pvpp_kg.store.embedded import EmbeddedStore
from pvpp_kg.store.loader import ensure_loaded
from pvpp_kg.web.auth import digest
from tests.conftest import LiveServer, serving

SHAPES = Path(__file__).parents[1] / "data" / "shapes"
BASE = (SHAPES / "base.ttl").read_bytes()
LM, VSAA = "lm-token", "vsaa-token"
TTL = {"Content-Type": "text/turtle"}
LIMIT = 100_000

pytestmark = pytest.mark.slow


def _tokens(tmp: Path) -> Path:
    path = tmp / "tokens.json"
    path.write_text(json.dumps({"lm": digest(LM), "vsaa": digest(VSAA)}))
    return path


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    s = make_settings(institution_tokens_file=_tokens(tmp_path_factory.mktemp("tok")), max_body_bytes=LIMIT)
    with serving(s) as srv:
        yield srv


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def graph_of(server: LiveServer, key: str) -> set[str]:
    r = httpx.get(
        server.url + "/store",
        params={"graph": institution_graph(key)},
        headers={"Accept": "application/n-triples"},
        timeout=30,
    )
    return set(r.text.splitlines()) if r.status_code == 200 else set()


def versions(server: LiveServer, key: str) -> list[dict]:
    r = httpx.get(f"{server.url}/submissions/{key}", timeout=30)
    assert r.status_code == 200
    return r.json()["versions"]


def test_accept_then_history(server: LiveServer) -> None:
    r = httpx.post(server.url + "/submissions", content=BASE, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 201, r.text
    stored = r.json()["stored"]
    assert r.json()["conforms"] and stored["institution"] == "lm" and len(stored["checksum"]) == 64
    assert any("service/lm/pabalsts" in t for t in graph_of(server, "lm"))
    title = "Pabalsta piešķiršana".encode()
    changed = BASE.replace(title, title + b" (2)")
    r2 = httpx.post(server.url + "/submissions", content=changed, headers={**TTL, **auth(LM)}, timeout=60)
    assert r2.status_code == 201, r2.text
    history = versions(server, "lm")
    assert [v["version"] for v in history][-2:] == [stored["version"], stored["version"] + 1]
    assert {"time", "checksum", "triples", "institution"} <= history[-1].keys()
    old = httpx.get(f"{server.url}/submissions/lm/{stored['version']}", timeout=30)
    assert old.status_code == 200 and "service/lm/pabalsts" in old.text and "(2)" not in old.text
    assert httpx.get(f"{server.url}/submissions/lm/999", timeout=30).status_code == 404
    # the governance query sees the same history, newest first, and the call after a submission sees it at once
    rows = httpx.get(f"{server.url}/api/queries/submission-versions", params={"institution": "lm"}, timeout=30).json()[
        "results"
    ]["bindings"]
    assert [int(b["version"]["value"]) for b in rows][:2] == [stored["version"] + 1, stored["version"]]
    assert rows[1]["checksum"]["value"] == stored["checksum"]
    assert rows[0]["graph"]["value"] == institution_graph("lm")


def test_reject_with_report_store_unchanged(server: LiveServer) -> None:
    before, history = graph_of(server, "lm"), versions(server, "lm")
    bad = (SHAPES / "service-owner-missing.ttl").read_bytes()
    r = httpx.post(server.url + "/submissions?lang=lv", content=bad, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "not_conforming" and not body["conforms"]
    assert any(x["path"].endswith("#owner") and "turētāj" in x["message"] for x in body["results"])
    r = httpx.post(
        server.url + "/submissions", content=bad, headers={**TTL, **auth(LM), "Accept": "text/turtle"}, timeout=60
    )
    assert r.status_code == 422 and "sh:ValidationReport" in r.text
    assert graph_of(server, "lm") == before and versions(server, "lm") == history


@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [
        ({}, {}, 401),
        ({"Authorization": "Bearer not-a-token"}, {}, 401),  # no one's token (RFC 6750: invalid_token)
        ({"Authorization": f"Bearer {LM}"}, {"institution": "vsaa"}, 403),
    ],
)
def test_tokens(server: LiveServer, headers: dict[str, str], params: dict[str, str], status: int) -> None:
    before = graph_of(server, "vsaa")
    r = httpx.post(server.url + "/submissions", params=params, content=BASE, headers={**TTL, **headers}, timeout=60)
    assert r.status_code == status and r.json()["message"]
    assert graph_of(server, "vsaa") == before


def test_cannot_write_another_institutions_data(server: LiveServer) -> None:
    other = BASE.replace(b"<service/lm/pabalsts>", b"<service/vsaa/pabalsts>")
    before = graph_of(server, "lm")
    r = httpx.post(server.url + "/submissions", content=other, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 403 and "vsaa" in r.json()["message"]
    assert graph_of(server, "lm") == before


BAD_INPUTS = [
    ("turtle", b'<a> <b> "unterminated .', "text/turtle", 400),
    ("ntriples", b"<http://x/a> <http://x/b> .\n", "application/n-triples", 400),
    ("jsonld", b'{"@id": "http://x/a", ', "application/ld+json", 400),
    (
        "rdfxml",
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description>",
        "application/rdf+xml",
        400,
    ),
    ("missing-content-type", BASE, None, 415),
    ("wrong-content-type", BASE, "application/pdf", 415),
    ("empty", b"", "text/turtle", 400),
    ("too-large", b"#" * (LIMIT + 10), "text/turtle", 413),
    (
        "remote-context",
        b'{"@context": "https://example.org/ctx.jsonld", "@id": "http://x/a"}',
        "application/ld+json",
        400,
    ),
    (
        "remote-context-in-list",
        b'{"@context": [{"x": "http://x/"}, "http://example.org/c"], "@id": "http://x/a"}',
        "application/ld+json",
        400,
    ),
    (
        "doctype",
        b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>",
        "application/rdf+xml",
        400,
    ),
    (
        "remote-import",
        b"<http://x/o> <http://www.w3.org/2002/07/owl#imports> <http://example.org/evil.ttl> .",
        "text/turtle",
        400,
    ),
]


@pytest.mark.parametrize(("name", "body", "ctype", "status"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
@pytest.mark.parametrize("endpoint", ["/submissions", "/validate"])
def test_bad_input(server: LiveServer, endpoint: str, name: str, body: bytes, ctype: str | None, status: int) -> None:
    before, history = graph_of(server, "lm"), versions(server, "lm")
    headers = {**auth(LM), **({"Content-Type": ctype} if ctype else {})}
    r = httpx.post(server.url + endpoint, content=body, headers=headers, timeout=60)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if name in ("turtle", "jsonld"):
        assert "request body:1:" in r.json()["message"]  # names line and column
    assert graph_of(server, "lm") == before and versions(server, "lm") == history


def test_validate_multipart_and_accept(server: LiveServer) -> None:
    files = {"file": ("data.ttl", (SHAPES / "no-need.ttl").read_bytes(), "text/turtle")}
    r = httpx.post(server.url + "/validate", files=files, data={"lang": "lv"}, timeout=60)
    assert r.status_code == 200 and r.json()["conforms"] and r.json()["warnings"] == 1
    assert "vajadzīb" in r.json()["results"][0]["message"]
    for accept, marker in (
        ("text/turtle", "sh:ValidationReport"),
        ("application/ld+json", "ValidationReport"),
        ("text/html", "<table"),
        ("text/plain", "Warning"),
    ):
        r = httpx.post(server.url + "/validate", files=files, headers={"Accept": accept}, timeout=60)
        assert r.status_code == 200 and marker in r.text, accept
    page = httpx.get(server.url + "/validate", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and 'type="file"' in page.text


def test_crash_mid_submission_leaves_old_graph(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> None:
    s = make_settings(institution_tokens_file=_tokens(tmp_path_factory.mktemp("tok")), submission_pause_s=60)
    ensure_loaded(s)
    public = s.data_dir / "public"
    old = _graph(EmbeddedStore(public), "lm")
    assert old
    srv = LiveServer(s)
    try:
        t = threading.Thread(target=lambda: _post_quietly(srv.url, BASE), daemon=True)
        t.start()
        deadline = time.time() + 60
        while not (public / "DIRTY").exists():  # the writer block is open: the old graph is already cleared
            assert time.time() < deadline, "the submission never reached the write"
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(srv.process.pid, signal.SIGKILL)
        srv.process.wait(10)
    finally:
        srv.stop()
    assert _graph(EmbeddedStore(public), "lm") == old  # readers see the last published snapshot
    store = EmbeddedStore(public)
    with store.writer():  # the next writer rolls the half-done write back
        pass
    assert _graph(store, "lm") == old
    s2 = s.model_copy(update={"submission_pause_s": 0.0})
    srv = LiveServer(s2)
    try:
        r = httpx.post(srv.url + "/submissions", content=BASE, headers={**TTL, **auth(LM)}, timeout=60)
        assert r.status_code == 201, r.text
    finally:
        srv.stop()
    new = _graph(EmbeddedStore(public), "lm")
    assert new != old and any("service/lm/pabalsts" in t for t in new)  # wholly new after a clean write


def _post_quietly(url: str, body: bytes) -> None:
    try:
        httpx.post(url + "/submissions", content=body, headers={**TTL, **auth(LM)}, timeout=120)
    except httpx.HTTPError:
        pass


def _graph(store: EmbeddedStore, key: str) -> set[str]:
    reader = store.reader()
    return {str(q) for q in reader.quads_for_pattern(None, None, None, ox.NamedNode(institution_graph(key)))}


def test_submissions_work_on_a_remote_store(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remote mode: the same flow over a real Oxigraph server, the graph and its record written in one update."""
    from tests.conftest import OxigraphServer

    dump = httpx.get(server.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60).content
    oxi = OxigraphServer(tmp_path_factory.mktemp("oxigraph"), dump)
    remote = server.settings.model_copy(
        update={  # type: ignore[attr-defined]
            "remote_query_url": oxi.url + "/query",
            "remote_update_url": oxi.url + "/update",
            "remote_store_url": oxi.url + "/store",
            "data_dir": tmp_path_factory.mktemp("remote-data"),
        }
    )
    srv = LiveServer(remote)
    try:
        before = versions(srv, "vsaa")
        bad = (
            (SHAPES / "service-owner-missing.ttl")
            .read_bytes()
            .replace(b"/lm/", b"/vsaa/")
            .replace(b"<institution/lm>", b"<institution/vsaa>")
            .replace(b"need/test-ienakumi", b"need/test-vsaa-ienakumi")  # lm's need: vsaa may not restate it
        )
        r = httpx.post(srv.url + "/submissions", content=bad, headers={**TTL, **auth(VSAA)}, timeout=60)
        assert r.status_code == 422 and versions(srv, "vsaa") == before
        data = (
            BASE.replace(b"/lm/", b"/vsaa/")
            .replace(b"<institution/lm>", b"<institution/vsaa>")
            .replace(b"test-lm/", b"test-vsaa/")
            .replace(b"need/test-ienakumi", b"need/test-vsaa-ienakumi")
        )
        r = httpx.post(srv.url + "/submissions", content=data, headers={**TTL, **auth(VSAA)}, timeout=60)
        assert r.status_code == 201, r.text
        stored = r.json()["stored"]
        assert [v["version"] for v in versions(srv, "vsaa")] == [v["version"] for v in before] + [stored["version"]]
        # the remote store itself holds the new graph (materialised) and nothing of the old sample graph
        ask = "ASK { GRAPH <%s> { <https://w3id.org/pvpp/id/service/vsaa/pabalsts> ?p ?o } }"
        assert (
            httpx.post(
                oxi.url + "/query",
                data={"query": ask % institution_graph("vsaa")},
                headers={"Accept": "application/sparql-results+json"},
            ).json()["boolean"]
            is True
        )
        sample_service = "ASK { GRAPH <%s> { <https://w3id.org/pvpp/id/service/vsaa/maternitates-pabalsts> ?p ?o } }"
        assert (
            httpx.post(
                oxi.url + "/query",
                data={"query": sample_service % institution_graph("vsaa")},
                headers={"Accept": "application/sparql-results+json"},
            ).json()["boolean"]
            is False
        )
        content = httpx.get(f"{srv.url}/submissions/vsaa/{stored['version']}", timeout=30)
        assert content.status_code == 200 and "service/vsaa/pabalsts" in content.text
    finally:
        srv.stop()
        oxi.stop()


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ('<person/t-1> <http://xmlns.com/foaf/0.1/name> "Jānis Bērziņš" .', "foaf/0.1/name"),
        ("<person/t-1> <http://xmlns.com/foaf/0.1/mbox> <mailto:janis@example.lv> .", "mailto:janis@example.lv"),
        ('<person/t-2> <http://xmlns.com/foaf/0.1/phone> "+371 2000 0000" .', "foaf/0.1/phone"),
        ('<post/lm/pv> <http://www.w3.org/2006/vcard/ns#hasEmail> "pv@lm.gov.lv" .', "vcard/ns#hasEmail"),
        (
            '<post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "write to janis@example.lv" .',
            "janis@example.lv",
        ),
        # a phone number inside a text: with the country code, or after tel./tālr.
        ('<post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "Jānis Bērziņš, +371 29123456"@lv .', "+371"),
        ('<post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "zvanīt: tālr. 29123456"@lv .', "29123456"),
        ('<post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "Kancelejas tel: 67021234"@lv .', "67021234"),
        # a label or a schema.org name is a name when it is a post holder's (schema.org in both its schemes)
        ('<person/p-0056> <http://schema.org/name> "Anna Bērziņa" .', "schema.org/name"),
        ('<person/p-0057> <http://www.w3.org/2000/01/rdf-schema#label> "Pēteris Kalniņš" .', "Pēteris Kalniņš"),
        ('<person/p-0057> <https://schema.org/email> "pk@lm.gov.lv" .', "pk@lm.gov.lv"),
    ],
)
def test_personal_data_is_refused_and_nothing_is_stored(server: LiveServer, extra: str, shown: str) -> None:
    """People appear only as posts and roles: a name, an e-mail or a phone anywhere in a submission is a 400
    naming the statement, and the institution's graph and versions stay as they were."""
    before, history = graph_of(server, "lm"), versions(server, "lm")
    body = BASE + b"\n" + extra.encode()
    r = httpx.post(server.url + "/submissions", content=body, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 400, r.text
    assert re.search(r"Personal (data is|contacts are) not accepted", r.text) and shown in r.text
    assert graph_of(server, "lm") == before and versions(server, "lm") == history


@pytest.mark.parametrize(
    ("extra", "owner"),
    [
        ('<institution/vsaa> <http://www.w3.org/2004/02/skos/core#prefLabel> "VSAA (lm)"@lv .', "reference data"),
        ('<role/PS> <http://www.w3.org/2000/01/rdf-schema#label> "Cita loma"@lv .', "reference data"),
        ('<task/PU2-21> <http://www.w3.org/2004/02/skos/core#note> "x"@en .', "reference data"),
        (
            "<https://w3id.org/pvpp/ontology#Service> <http://www.w3.org/2000/01/rdf-schema#comment> "
            '"not a service"@en .',
            "reference data",
        ),
        ('<role/NEW> <http://www.w3.org/2000/01/rdf-schema#label> "Jauna loma"@lv .', "the policy's vocabulary"),
        ('<resource/vsaa/x> <http://www.w3.org/2004/02/skos/core#prefLabel> "x"@lv .', "institution vsaa"),
    ],
    ids=["other-institution", "role", "task", "ontology", "new-role", "other-resource"],
)
def test_facts_about_what_the_institution_does_not_own_are_refused(server: LiveServer, extra: str, owner: str) -> None:
    """Issue 25: a submission states facts only about its own nodes; the final check is the submission layer of
    the shapes, 403 naming the node and its owner, and nothing is stored."""
    before, history = graph_of(server, "lm"), versions(server, "lm")
    body = BASE + b"\n" + extra.encode()
    r = httpx.post(server.url + "/submissions", content=body, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 403, r.text
    message = r.json()["message"]
    assert message.startswith("An institution may state facts only about what it owns") and owner in message
    assert graph_of(server, "lm") == before and versions(server, "lm") == history


def test_a_phone_number_is_personal_data(server: LiveServer) -> None:
    before = graph_of(server, "lm")
    body = BASE + '\n<post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "tālr. 67012345"@lv .'.encode()
    r = httpx.post(server.url + "/submissions", content=body, headers={**TTL, **auth(LM)}, timeout=60)
    assert r.status_code == 400 and "reads as an e-mail address or a phone number" in r.text, r.text
    assert graph_of(server, "lm") == before


def test_the_submission_rules_show_in_the_validation_report(server: LiveServer) -> None:
    """/validate reports the same rules as a layer of its own: personal data for anyone, and with an institution's
    token the nodes it does not own; identifiers and dates that merely contain digits are not phone numbers."""
    body = (
        BASE
        + b'\n<post/lm/pv> <http://xmlns.com/foaf/0.1/name> "J\xc4\x81nis" .'
        + b'\n<institution/vsaa> <http://www.w3.org/2004/02/skos/core#prefLabel> "VSAA"@lv .'
        + b'\n<sla/lm/pabalsts> <http://www.w3.org/2004/02/skos/core#note> "2024-01-01 12345678"@lv .'
    )
    rows = {}
    for who in (None, LM):
        headers = {**TTL, "Accept": "application/json", **(auth(who) if who else {})}
        r = httpx.post(server.url + "/validate", content=body, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        rows[who] = sorted((x["focusNode"], x["severity"]) for x in r.json()["results"] if x["layer"] == "submission")
    person = ("https://w3id.org/pvpp/id/post/lm/pv", "Violation")
    assert rows[None] == [person]
    assert rows[LM] == sorted([person, ("https://w3id.org/pvpp/id/institution/vsaa", "Violation")])
