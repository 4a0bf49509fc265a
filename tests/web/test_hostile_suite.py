"""Issue 25's hostile-input suite: every door of a running server, each case's status and message asserted, the
data version and triple count unchanged after each, and a local listener that SERVICE/LOAD point at never
contacted. One server for the module, with a small body limit so oversize cases stay cheap."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import ADMIN_TOKEN, LiveServer, listening, serving, tokens_file

LIMIT = 1_000_000
LM = "lm-hostile-token"
BASE = (Path(__file__).parents[1] / "data" / "shapes" / "base.ttl").read_bytes()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
INST = {"Authorization": f"Bearer {LM}"}
UPDATE = {"Content-Type": "application/sparql-update"}
GSP_GRAPH = {"graph": "https://w3id.org/pvpp/graph/hostile"}


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    needle: str  # in the response body: the message says what was wrong
    content: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    chunked: bool = False  # sent without Content-Length: the limit must hold while the body streams in


def _zip(members: dict[str, bytes], level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def _workbook(edit: Callable[[Any], None] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "services"
    ws.append(["id", "title_lv"])
    ws.append(["x", "y"])
    if edit is not None:
        edit(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _with_member(xlsx: bytes, name: str, body: bytes, replace: bool = False) -> bytes:
    members = {}
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for info in z.infolist():
            members[info.filename] = z.read(info)
    members[name] = body if replace or name not in members else members[name] + body
    return _zip(members)


def _huge_dimension() -> bytes:
    xlsx = _workbook()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:ZZ3000000"/>', sheet)
    assert b"ZZ3000000" in sheet
    return _with_member(xlsx, "xl/worksheets/sheet1.xml", sheet, replace=True)


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY a "ha"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:x="urn:x#">
  <rdf:Description rdf:about="urn:a"><x:p>&b;&b;&b;</x:p></rdf:Description>
</rdf:RDF>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY e SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:x="urn:x#">
  <rdf:Description rdf:about="urn:a"><x:p>&e;</x:p></rdf:Description></rdf:RDF>"""
DEEP_JSONLD = b'{"@id": "urn:a", "urn:p": ' + b"[" * 5_000 + b"1" + b"]" * 5_000 + b"}"
REMOTE_CONTEXT = b'{"@context": "{url}/ctx.jsonld", "@id": "urn:a", "urn:p": 1}'
BRACES = "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000
PARENS = "SELECT * WHERE { FILTER (" + "(" * 5_000 + "1" + ")" * 5_000 + ") }"
ESCAPED = "SELECT * WHERE " + "\\u007B" * 2_000 + "}" * 2_000
TTL = {"Content-Type": "text/turtle"}
RDFXML = {"Content-Type": "application/rdf+xml"}
JSONLD = {"Content-Type": "application/ld+json"}
BOMB = _zip({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * 80_000_000}, level=9)

CASES = [
    # --- /sparql: federation, nesting, syntax, parameters --------------------------------------------------------
    Case(
        "q-service-pn-local-esc-hash",
        "GET",
        "/sparql",
        400,
        "SERVICE",
        params={
            "query": "PREFIX ex: <http://example.org/> SELECT * WHERE { VALUES ?z { ex:a\\# } "
            "SERVICE <{url}> { ?s ?p ?o } }"
        },
    ),
    Case(
        "q-service-pn-local-esc-quote",
        "POST",
        "/sparql",
        400,
        "SERVICE",
        data={
            "query": "PREFIX ex: <http://example.org/> SELECT * WHERE { VALUES ?z { ex:a\\' } "
            "SERVICE <{url}> { ?s ?p ?o } }"
        },
    ),
    Case(
        "q-service-lowercase",
        "GET",
        "/sparql",
        400,
        "SERVICE",
        params={"query": "select * where { service <{url}> { ?s ?p ?o } }"},
    ),
    Case(
        "q-service-code-point",
        "GET",
        "/sparql",
        400,
        "SERVICE",
        params={"query": "SELECT * WHERE { SERVI\\u0043E <{url}> { ?s ?p ?o } }"},
    ),
    Case(
        "q-service-silent-subquery",
        "GET",
        "/sparql",
        400,
        "SERVICE",
        params={"query": "SELECT * WHERE { { SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } } } }"},
    ),
    Case(
        "q-service-variable",
        "GET",
        "/sparql",
        400,
        "SERVICE",
        params={"query": "SELECT * WHERE { BIND (<{url}> AS ?e) SERVICE ?e { ?s ?p ?o } }"},
    ),
    Case(
        "q-service-direct-body",
        "POST",
        "/sparql",
        400,
        "SERVICE",
        content="SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
        headers={"Content-Type": "application/sparql-query"},
    ),
    Case("q-nesting-braces", "POST", "/sparql", 400, "levels deep", data={"query": BRACES}),
    Case("q-nesting-parentheses", "POST", "/sparql", 400, "levels deep", data={"query": PARENS}),
    Case("q-nesting-escaped-braces", "POST", "/sparql", 400, "levels deep", data={"query": ESCAPED}),
    Case(
        "q-too-many-tokens",
        "POST",
        "/sparql",
        400,
        "more than 500,000 tokens",
        content="SELECT * WHERE { " + "{}" * 300_000 + " }",
        headers={"Content-Type": "application/sparql-query"},
    ),
    Case("q-syntax", "GET", "/sparql", 400, "expected", params={"query": "SELECT"}),
    Case("q-bad-iri", "GET", "/sparql", 400, "IRI", params={"query": "SELECT * WHERE { <foo bar> ?p ?o }"}),
    Case("q-bad-escape", "GET", "/sparql", 400, "escape", params={"query": 'SELECT * WHERE { ?s ?p "\\ud800" }'}),
    Case("q-update-as-query", "POST", "/sparql", 400, "update", data={"query": "DROP ALL"}),
    Case("q-graph-not-an-iri", "GET", "/sparql", 400, "IRI", params={"query": "ASK {}", "named-graph-uri": "a b"}),
    Case(
        "q-oversize-with-length",
        "POST",
        "/sparql",
        413,
        "larger than 1000000 bytes",
        content="SELECT * WHERE { ?s ?p ?o } #" + "x" * (LIMIT + 10),
        headers={"Content-Type": "application/sparql-query"},
    ),
    Case(
        "q-wrong-content-type",
        "POST",
        "/sparql",
        415,
        "application/sparql-query",
        content="SELECT * WHERE { ?s ?p ?o }",
        headers={"Content-Type": "application/pdf"},
    ),
    Case(
        "q-non-utf8-body",
        "POST",
        "/sparql",
        400,
        "UTF-8",
        content="SELECT * WHERE { ?s ?p 'Rīga' }".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query"},
    ),
    # --- /sparql/update: tokens, LOAD, SERVICE, nesting, charset ---------------------------------------------------
    Case("u-no-token", "POST", "/sparql/update", 401, "token", content="DROP ALL", headers=UPDATE),
    Case(
        "u-wrong-token",
        "POST",
        "/sparql/update",
        401,
        "token",
        content="DROP ALL",
        headers={**UPDATE, "Authorization": "Bearer nope"},
    ),
    Case("u-institution-token", "POST", "/sparql/update", 403, "token", content="DROP ALL", headers={**UPDATE, **INST}),
    Case(
        "u-load",
        "POST",
        "/sparql/update",
        400,
        "LOAD",
        content="LOAD <{url}> INTO GRAPH <https://w3id.org/pvpp/graph/loaded>",
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-load-code-point",
        "POST",
        "/sparql/update",
        400,
        "LOAD",
        content="LO\\u0041D <{url}>",
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-insert-where-service",
        "POST",
        "/sparql/update",
        400,
        "SERVICE",
        content="PREFIX ex: <http://example.org/> INSERT { ?s ?p ?o } WHERE { VALUES ?z { ex:a\\# } "
        "SERVICE <{url}> { ?s ?p ?o } }",
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-nesting",
        "POST",
        "/sparql/update",
        400,
        "levels deep",
        content="INSERT { <urn:a> <urn:b> <urn:c> } WHERE " + "{" * 20_000 + "}" * 20_000,
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-non-utf8",
        "POST",
        "/sparql/update",
        400,
        "UTF-8",
        content="INSERT DATA { <urn:a> <urn:b> 'Rīga' }".encode("utf-16"),
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-syntax",
        "POST",
        "/sparql/update",
        400,
        "expected",
        content="INSERT DATA { <urn:a> <urn:b> }",
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-query-as-update",
        "POST",
        "/sparql/update",
        400,
        "SELECT query",
        content="SELECT * WHERE { ?s ?p ?o }",
        headers={**UPDATE, **ADMIN},
    ),
    Case(
        "u-oversize",
        "POST",
        "/sparql/update",
        413,
        "larger than 1000000 bytes",
        content="INSERT DATA { <urn:a> <urn:b> '" + "x" * (LIMIT + 10) + "' }",
        headers={**UPDATE, **ADMIN},
    ),
    # --- /store (Graph Store Protocol) -------------------------------------------------------------------------
    Case(
        "gsp-iri-space-put",
        "PUT",
        "/store",
        400,
        "absolute IRI",
        content=b"<urn:a> <urn:b> 1 .",
        headers={**TTL, **ADMIN},
        params={"graph": "https://w3id.org/pvpp/graph/a b"},
    ),
    Case(
        "gsp-iri-angle-get", "GET", "/store", 400, "absolute IRI", params={"graph": "https://w3id.org/pvpp/graph/a>b"}
    ),
    Case(
        "gsp-iri-relative-delete",
        "DELETE",
        "/store",
        400,
        "absolute IRI",
        headers=ADMIN,
        params={"graph": "../../etc/passwd"},
    ),
    Case(
        "gsp-billion-laughs",
        "PUT",
        "/store",
        400,
        "DOCTYPE",
        content=LAUGHS,
        headers={**RDFXML, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-external-entity",
        "POST",
        "/store",
        400,
        "DOCTYPE",
        content=EXTERNAL_ENTITY,
        headers={**RDFXML, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-remote-context",
        "PUT",
        "/store",
        400,
        "remote @context",
        content=REMOTE_CONTEXT,
        headers={**JSONLD, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-deep-json-ld",
        "POST",
        "/store",
        400,
        "nested more than 64 levels",
        content=DEEP_JSONLD,
        headers={**JSONLD, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-bad-turtle",
        "PUT",
        "/store",
        400,
        "1:",
        content=b'<urn:a> <urn:b> "open .',
        headers={**TTL, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-bad-ntriples",
        "PUT",
        "/store",
        400,
        "1:",
        content=b"<urn:a> <urn:b> .\n",
        headers={"Content-Type": "application/n-triples", **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-truncated-rdfxml",
        "PUT",
        "/store",
        400,
        "XML",
        content=b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description>",
        headers={**RDFXML, **ADMIN},
        params=GSP_GRAPH,
    ),
    Case(
        "gsp-wrong-content-type",
        "PUT",
        "/store",
        415,
        "unsupported Content-Type",
        content=b"%PDF-1.4",
        headers={"Content-Type": "application/pdf", **ADMIN},
        params=GSP_GRAPH,
    ),
    Case("gsp-no-token", "PUT", "/store", 401, "token", content=b"<urn:a> <urn:b> 1 .", headers=TTL, params=GSP_GRAPH),
    Case(
        "gsp-oversize",
        "PUT",
        "/store",
        413,
        "larger than 1000000 bytes",
        content=b"<urn:a> <urn:b> '" + b"x" * (LIMIT + 10) + b"' .",
        headers={**TTL, **ADMIN},
        params=GSP_GRAPH,
    ),
    # --- /validate (anonymous) ------------------------------------------------------------------------------------
    Case("v-billion-laughs", "POST", "/validate", 400, "DOCTYPE", content=LAUGHS, headers=RDFXML),
    Case("v-external-entity", "POST", "/validate", 400, "DOCTYPE", content=EXTERNAL_ENTITY, headers=RDFXML),
    Case("v-remote-context", "POST", "/validate", 400, "remote @context", content=REMOTE_CONTEXT, headers=JSONLD),
    Case("v-deep-json-ld", "POST", "/validate", 400, "nested more than 64 levels", content=DEEP_JSONLD, headers=JSONLD),
    Case("v-bad-turtle", "POST", "/validate", 400, "request body:1:", content=b'<a> <b> "unterminated .', headers=TTL),
    Case(
        "v-bad-jsonld", "POST", "/validate", 400, "request body:1:", content=b'{"@id": "http://x/a", ', headers=JSONLD
    ),
    Case(
        "v-owl-imports",
        "POST",
        "/validate",
        400,
        "owl:imports",
        content=b"<urn:a> <http://www.w3.org/2002/07/owl#imports> <{url}/o.ttl> .",
        headers=TTL,
    ),
    Case(
        "v-xlsx-not-zip",
        "POST",
        "/validate",
        400,
        "not a zip package",
        content=b"PK\x03\x04 not really",
        headers={"Content-Type": XLSX},
    ),
    Case(
        "v-xlsx-member-not-xml",
        "POST",
        "/validate",
        400,
        "not valid spreadsheet XML",
        content=_with_member(_workbook(), "xl/workbook.xml", b"\x00\x01 not xml", replace=True),
        headers={"Content-Type": XLSX},
    ),
    Case("v-xlsx-zip-bomb", "POST", "/validate", 400, "expands to", content=BOMB, headers={"Content-Type": XLSX}),
    Case(
        "v-xlsx-huge-dimension",
        "POST",
        "/validate",
        400,
        "declares 3,000,000 rows",
        content=_huge_dimension(),
        headers={"Content-Type": XLSX},
    ),
    Case(
        "v-xlsx-macros",
        "POST",
        "/validate",
        400,
        "macro-enabled",
        content=_with_member(_workbook(), "xl/vbaProject.bin", b"\x00" * 64),
        headers={"Content-Type": XLSX},
    ),
    Case(
        "v-xlsx-nested-archive",
        "POST",
        "/validate",
        400,
        "contains an archive",
        content=_with_member(_workbook(), "xl/embeddings/inner.zip", _zip({"a": b"a"})),
        headers={"Content-Type": XLSX},
    ),
    Case(
        "v-xlsx-formula",
        "POST",
        "/validate",
        400,
        "formulas are not accepted",
        content=_workbook(lambda ws: ws.append(["=1+1", "z"])),
        headers={"Content-Type": XLSX},
    ),
    Case(
        "v-wrong-content-type",
        "POST",
        "/validate",
        415,
        "unsupported",
        content=b"%PDF-1.4",
        headers={"Content-Type": "application/pdf"},
    ),
    Case(
        "v-oversize",
        "POST",
        "/validate",
        413,
        "larger than 1000000 bytes",
        content=b"<urn:a> <urn:b> '" + b"x" * (LIMIT + 10) + b"' .",
        headers=TTL,
    ),
    Case(
        "v-bad-lang",
        "POST",
        "/validate",
        400,
        "query.lang",
        content=BASE,
        headers=TTL,
        params={"lang": "de"},
    ),
    Case(
        "v-bad-shapes",
        "POST",
        "/validate",
        400,
        "s.ttl:1:9",
        files={"file": ("d.ttl", BASE, "text/turtle"), "shapes": ("s.ttl", b"<a> <b> ", "text/turtle")},
    ),
    Case(
        "v-oversize-chunked",
        "POST",
        "/validate",
        413,
        "larger than 1000000 bytes",
        content=b"<urn:a> <urn:b> '" + b"x" * (LIMIT + 10) + b"' .",
        headers=TTL,
        chunked=True,
    ),
    Case(
        "gsp-oversize-chunked",
        "PUT",
        "/store",
        413,
        "larger than 1000000 bytes",
        content=b"<urn:a> <urn:b> '" + b"x" * (LIMIT + 10) + b"' .",
        headers={**TTL, **ADMIN},
        params=GSP_GRAPH,
        chunked=True,
    ),
    Case(
        "u-oversize-chunked",
        "POST",
        "/sparql/update",
        413,
        "larger than 1000000 bytes",
        content="INSERT DATA { <urn:a> <urn:b> '" + "x" * (LIMIT + 10) + "' }",
        headers={**UPDATE, **ADMIN},
        chunked=True,
    ),
    # --- /submissions ---------------------------------------------------------------------------------------------
    Case("s-no-token", "POST", "/submissions", 401, "bearer token", content=BASE, headers=TTL),
    Case(
        "s-bad-token",
        "POST",
        "/submissions",
        401,
        "not an institution token",
        content=BASE,
        headers={**TTL, "Authorization": "Bearer nope"},
    ),
    Case(
        "s-other-institution",
        "POST",
        "/submissions",
        403,
        "cannot write institution 'vsaa'",
        content=BASE,
        headers={**TTL, **INST},
        params={"institution": "vsaa"},
    ),
    Case(
        "s-foreign-node",
        "POST",
        "/submissions",
        403,
        "may state facts only about what it owns",
        content=BASE + b'\n<role/PS> <http://www.w3.org/2000/01/rdf-schema#label> "x" .',
        headers={**TTL, **INST},
    ),
    Case(
        "s-personal-data",
        "POST",
        "/submissions",
        400,
        "Personal data is not accepted",
        content=BASE + b'\n<post/lm/pv> <http://xmlns.com/foaf/0.1/name> "J\xc4\x81nis" .',
        headers={**TTL, **INST},
    ),
    Case(
        "s-bad-turtle", "POST", "/submissions", 400, "request body:1:", content=b'<a> <b> "x', headers={**TTL, **INST}
    ),
    Case("s-billion-laughs", "POST", "/submissions", 400, "DOCTYPE", content=LAUGHS, headers={**RDFXML, **INST}),
    Case("s-bad-key", "GET", "/submissions/BAD KEY", 400, "not an institution key"),
    Case("s-unknown-version", "GET", "/submissions/lm/999", 404, "no version 999"),
    # --- linked data, library queries, paths ---------------------------------------------------------------------
    Case("lod-script-tag", "GET", "/id/<script>alert(1)</script>", 404, "", headers={"Accept": "application/json"}),
    Case("lod-nul", "GET", "/id/%00", 404, "", headers={"Accept": "text/turtle"}),
    Case("lod-traversal", "GET", "/id/service/../../../etc/passwd", 404, ""),
    Case("static-traversal", "GET", "/static/..%2F..%2F..%2Fpyproject.toml", 404, ""),
    Case("api-unknown-query", "GET", "/api/queries/no-such-query", 404, "no-such-query"),
    Case("api-unknown-parameter", "GET", "/api/queries/search-services", 400, "unknown parameter", params={"q": "x"}),
    Case(
        "api-injection",
        "GET",
        "/api/queries/search-services",
        200,
        "",
        params={"text": '"} } ; DROP ALL ; SELECT * { {"', "lang": "lv"},
    ),
]


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"lm": LM})
    s = make_settings(institution_tokens_file=tokens, max_body_bytes=LIMIT)
    with serving(s) as srv:
        yield srv


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[object]]]:
    with listening() as found:
        yield found


def _state(url: str) -> tuple[Any, Any]:
    health = httpx.get(url + "/health", timeout=30).json()
    return health["version"], health["triples"]


def _fill(value: Any, url: str) -> Any:
    if isinstance(value, str):
        return value.replace("{url}", url)
    if isinstance(value, bytes):
        return value.replace(b"{url}", url.encode())
    if isinstance(value, dict):
        return {k: _fill(v, url) for k, v in value.items()}
    return value


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request(server: LiveServer, listener: tuple[int, list[object]], case: Case) -> None:
    port, accepted = listener
    url = f"http://127.0.0.1:{port}"
    before = _state(server.url)
    content = _fill(case.content, url)
    if case.chunked:
        body = content.encode() if isinstance(content, str) else content
        content = (body[i : i + 65536] for i in range(0, len(body), 65536))
    r = httpx.request(
        case.method,
        server.url + case.path,
        content=content,
        headers=case.headers,
        params=_fill(case.params, url),
        data=_fill(case.data, url),
        files=case.files,
        timeout=120,
    )
    assert r.status_code == case.status, r.text[:500]
    assert case.needle in r.text, r.text[:500]
    for leak in ("Traceback", "ValueError", "KeyError", "RecursionError", "Exception"):
        assert leak not in r.text, r.text[:500]
    assert _state(server.url) == before
    assert accepted == [], "a connection left the server"


INTO = "load-data --graph https://w3id.org/pvpp/graph/institution/x"  # triples need a graph to go to
CLI_CASES = [
    ("load-data", "laughs.rdf", LAUGHS, "DOCTYPE"),
    ("load-data", "deep.jsonld", DEEP_JSONLD, "nested more than 64 levels"),
    (INTO, "broken.ttl", b'<urn:a> <urn:b> "open .', "broken.ttl:1:"),
    ("load-data", "plain.ttl", b"<urn:a> <urn:b> <urn:c> .\n", "holds triples without a named graph"),
    ("load-data", "defaults.nq", b"<urn:a> <urn:b> <urn:c> <urn:g> .\n<urn:a> <urn:b> <urn:d> .\n", "without a"),
    ("validate", "laughs.rdf", LAUGHS, "DOCTYPE"),
    ("validate", "bomb.xlsx", BOMB, "expands to"),
    ("validate", "macros.xlsx", _with_member(_workbook(), "xl/vbaProject.bin", b"\x00" * 64), "macro-enabled"),
]


@pytest.mark.parametrize(
    ("command", "name", "body", "needle"), CLI_CASES, ids=[f"{c[0].split()[0]}-{c[1]}" for c in CLI_CASES]
)
def test_hostile_files_on_the_command_line(
    make_settings: Callable[..., Settings], tmp_path: Path, command: str, name: str, body: bytes, needle: str
) -> None:
    """The command line is a door too: exit 2, the file named, the store as it was."""
    settings = make_settings()
    store, _ = ensure_loaded(settings)
    before = store.totals()
    path = tmp_path / name
    path.write_bytes(body)
    env = {**os.environ, "PVPP_DATA_DIR": str(settings.data_dir)}
    r = subprocess.run(
        [str(Path(sys.executable).parent / "pvpp-kg"), *command.split(), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert needle in r.stderr + r.stdout and str(path) in r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    assert store.totals() == before
