"""HTTP as browsers and caches expect it (issue 26, point 2), against a running server: HEAD on every GET route,
gzip over 1 KB when asked, ETag / Last-Modified and 304 on pages, query results and dumps, /docs from this
server's own assets, a favicon and robots.txt."""

from __future__ import annotations

import gzip
import hashlib
import re

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, LiveServer

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SELECT_100 = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 100"
# a value for each path parameter of the documented GET routes
PATH_VALUES = {
    "/id/{path}": "/id/role/IPKS",
    "/graph/{path}": "/graph/reference",
    "/ontology.{ext}": "/ontology.ttl",
    "/dumps/{name}": "/dumps/pvpp-kg.ttl",
    "/submissions/{institution}": "/submissions/vsaa",
    "/submissions/{institution}/{version}": "/submissions/vsaa/1",  # nothing submitted here: 404 to both
    "/compliance/{institution}": "/compliance/vsaa",
    "/api/compliance/{institution}": "/api/compliance/vsaa",
    "/submissions/{institution}/{version}/receipt": "/submissions/vsaa/1/receipt",
    "/validate/reports/{id_}.{fmt}": "/validate/reports/no-such-report.csv",
    "/validate/reports/{id_}/fixit.xlsx": "/validate/reports/no-such-report/fixit.xlsx",
}
# what those answer when nothing was submitted or validated, and a page that needs a signed-in institution
NOT_200 = {
    "/submissions/vsaa/1": 404,
    "/submissions/vsaa/1/receipt": 404,
    "/validate/reports/no-such-report.csv": 404,
    "/validate/reports/no-such-report/fixit.xlsx": 404,
    "/institution": 303,
    "/api/search": 400,  # no q: the message says what to give
    "/api/search/suggest": 400,
}


def _get_paths(server: LiveServer) -> list[str]:
    spec = httpx.get(server.url + "/openapi.json").json()
    paths = []
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        if "{" in path:
            if path == "/ontology/{version}":
                version = httpx.get(server.url + "/ontology", headers={"Accept": "text/turtle"}).text
                path = "/ontology/" + re.search(r"/ontology/([^>/]+)>", version).group(1)
            else:
                assert path in PATH_VALUES, f"a GET route with a parameter this test has no value for: {path}"
                path = PATH_VALUES[path]
        paths.append(path)
    return [*paths, "/docs", "/favicon.ico", "/robots.txt", "/openapi.json"]


def test_head_answers_every_get_route_like_get(live_server: LiveServer) -> None:
    paths = _get_paths(live_server)
    assert len(paths) > 30 and "/sparql" in paths and "/api/queries" in paths
    for path in paths:
        headers = {"Accept": "text/html"} if path == "/sparql" else {}
        headers |= ADMIN if path == "/restricted" else {}
        got = httpx.get(live_server.url + path, headers=headers, timeout=60)
        head = httpx.head(live_server.url + path, headers=headers, timeout=60)
        assert got.status_code == NOT_200.get(path, 200), (path, got.text[:200])
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        if "content-length" in got.headers and "content-encoding" not in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"], path


def test_head_on_a_query_and_a_missing_page(live_server: LiveServer) -> None:
    r = httpx.head(live_server.url + "/sparql", params={"query": "ASK {}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/sparql-results+json")
    assert int(r.headers["content-length"]) == len(httpx.get(live_server.url + "/sparql?query=ASK%20%7B%7D").content)
    assert httpx.head(live_server.url + "/id/role/NO-SUCH-ROLE").status_code == 404


def test_gzip_when_asked_and_over_1_kb(live_server: LiveServer) -> None:
    url = live_server.url + "/sparql"
    plain = httpx.get(url, params={"query": SELECT_100}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and len(plain.content) > 10_000
    zipped = httpx.get(url, params={"query": SELECT_100}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes it
    assert zipped.num_bytes_downloaded < len(plain.content) / 4
    assert "Accept-Encoding" in zipped.headers["vary"]
    small = httpx.get(url, params={"query": "ASK {}"}, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers and small.json() == {"head": {}, "boolean": True}
    page = httpx.get(
        live_server.url + "/id/role/IPKS",
        headers={"Accept-Encoding": "gzip", "Accept": "text/html", "Accept-Language": "en"},
    )
    assert page.headers["content-encoding"] == "gzip" and "Institutional service portfolio owner" in page.text


def test_dumps_stream_gzipped_and_gzip_files_are_not_compressed_again(live_server: LiveServer) -> None:
    files = {
        f["name"]: f
        for f in httpx.get(live_server.url + "/dumps", headers={"Accept": "application/json"}).json()["files"]
    }
    ttl = httpx.get(live_server.url + "/dumps/pvpp-kg.ttl", headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert ttl.headers["content-encoding"] == "gzip"
    assert hashlib.sha256(ttl.content).hexdigest() == files["pvpp-kg.ttl"]["sha256"]
    # the sha256 names the file's bytes, not the compressed ones: weak on a compressed answer, and still matched
    assert ttl.headers["etag"] == f'W/"{files["pvpp-kg.ttl"]["sha256"]}"'
    again = httpx.get(
        live_server.url + "/dumps/pvpp-kg.ttl",
        headers={"Accept-Encoding": "gzip", "If-None-Match": ttl.headers["etag"]},
    )
    assert again.status_code == 304
    nt = httpx.get(live_server.url + "/dumps/pvpp-kg.nt.gz", headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert "content-encoding" not in nt.headers and nt.headers["content-type"] == "application/gzip"
    assert hashlib.sha256(nt.content).hexdigest() == files["pvpp-kg.nt.gz"]["sha256"]
    assert gzip.decompress(nt.content).startswith(b"<https://w3id.org/pvpp/")


@pytest.mark.parametrize(
    ("path", "params", "accept"),
    [
        ("/", {}, "text/html"),
        ("/id/role/IPKS", {}, "text/html"),
        ("/id/role/IPKS", {}, "text/turtle"),
        ("/sparql", {"query": SELECT_100}, "application/sparql-results+json"),
        ("/api/queries/matrix-coverage", {}, "text/csv"),
        ("/dumps", {}, "application/json"),
        ("/.well-known/void", {}, "text/turtle"),
    ],
)
def test_etag_and_304(live_server: LiveServer, path: str, params: dict, accept: str) -> None:
    url = live_server.url + path
    first = httpx.get(url, params=params, headers={"Accept": accept})
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert re.fullmatch(r'W/"\d+-[0-9a-f]{20}"', etag)
    again = httpx.get(url, params=params, headers={"Accept": accept, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = httpx.get(url, params=params, headers={"Accept": accept, "If-Modified-Since": modified})
    assert since.status_code == 304
    future = httpx.get(
        url, params=params, headers={"Accept": accept, "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}
    )
    assert future.status_code == 200  # a date in the future is no validator (RFC 9110 §13.1.3)
    other = httpx.get(url, params=params, headers={"Accept": accept, "If-None-Match": 'W/"0-other"'})
    assert other.status_code == 200 and other.headers["etag"] == etag and len(other.content) == len(first.content)
    # another representation of the same URL has another tag
    other_type = httpx.get(url, params=params, headers={"Accept": "*/*;q=0.1", "If-None-Match": etag})
    assert other_type.status_code == 200 and other_type.headers["etag"] != etag


def test_no_validators_for_answers_that_change_by_themselves(live_server: LiveServer) -> None:
    for query in ("SELECT (NOW() AS ?t) WHERE {}", "SELECT (rand ( ) AS ?r) WHERE {}", "SELECT (STRUUID() AS ?u) {}"):
        r = httpx.get(
            live_server.url + "/sparql",
            params={"query": query},
            headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        )
        assert r.status_code == 200 and "etag" not in r.headers and "last-modified" not in r.headers, query


def test_dump_file_304_on_its_sha256(live_server: LiveServer) -> None:
    url = live_server.url + "/dumps/pvpp-kg.ttl"
    first = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=60)
    assert first.headers["etag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_a_write_changes_the_etag(live_server: LiveServer) -> None:
    url = live_server.url + "/sparql"
    params = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    before = httpx.get(url, params=params)
    graph = "https://w3id.org/pvpp/graph/etag-test"
    write = httpx.post(
        url + "/update",
        data={"update": f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> <urn:c> }} }}"},
        headers=ADMIN,
    )
    assert write.status_code == 204
    try:
        after = httpx.get(url, params=params, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        n = lambda r: int(r.json()["results"]["bindings"][0]["n"]["value"])  # noqa: E731
        assert n(after) == n(before) + 1
    finally:
        assert httpx.delete(live_server.url + "/store", params={"graph": graph}, headers=ADMIN).status_code == 204


def test_docs_favicon_robots(live_server: LiveServer) -> None:
    docs = httpx.get(live_server.url + "/docs")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sorted(assets) == [
        "/favicon.ico",
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
    ]
    for asset in assets:
        assert httpx.get(live_server.url + asset).status_code == 200, asset
    assert httpx.get(live_server.url + "/redoc").status_code == 404  # ReDoc would load from a CDN
    icon = httpx.get(live_server.url + "/favicon.ico")
    assert icon.headers["content-type"] == "image/svg+xml" and icon.content.startswith(b"<svg")
    robots = httpx.get(live_server.url + "/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    assert "User-agent: *" in robots.text and "Disallow: /sparql" in robots.text
