"""HTTP as browsers and caches expect it (issue 26, point 2), against a running server: HEAD on every GET route,
gzip over 1 KB when asked, ETag / Last-Modified and 304 on pages, query results and dumps, /docs from this
server's own assets, a favicon and robots.txt."""

from __future__ import annotations

import gzip
import hashlib
import re

import httpx
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDFS

from tests.conftest import ADMIN_TOKEN, LiveServer

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SELECT_100 = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 100"
# a value for each path parameter of the documented GET routes
PATH_VALUES = {
    "/id/{path}": "/id/role/IPKS",
    "/graph/{path}": "/graph/reference",
    "/ontology.{ext}": "/ontology.ttl",
    "/function.{ext}": "/function.ttl",
    "/shapes.{ext}": "/shapes.ttl",
    "/shapes/{name}": "/shapes/submission",
    "/dataset.{ext}": "/dataset.ttl",
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


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/id/role/NOPE", {}, 404),
        ("/id/role/NOPE.ttl", {}, 404),
        ("/compliance/nope", {}, 404),
        ("/sparql", {"query": "SELECT * {"}, 400),
        ("/id/role/IPKS", {}, 304),
    ],
)
def test_preconditions_only_turn_a_200_into_a_304(
    live_server: LiveServer, path: str, params: dict, status: int
) -> None:
    """``If-None-Match: *`` and ``If-Modified-Since`` say nothing about a resource that does not exist or a query
    that is wrong: the error is answered (RFC 9110 §13.2.1), and only an existing resource's 200 becomes a 304."""
    url = live_server.url + path
    modified = httpx.get(live_server.url + "/id/role/IPKS").headers["last-modified"]
    for header in ({"If-None-Match": "*"}, {"If-Modified-Since": modified}):
        r = httpx.get(url, params=params, headers=header)
        assert r.status_code == status, (header, r.text)


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


@pytest.mark.parametrize(
    "statements",
    [
        '<https://w3id.org/pvpp/id/person/zz-1> <http://xmlns.com/foaf/0.1/name> "Anna Bērziņa" .',
        '<https://w3id.org/pvpp/id/person/zz-1> <http://schema.org/email> "anna@example.lv" .',
        # a post's holder is a person whatever its IRI; its label is then a name
        "<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/ns/org#heldBy> <urn:x:holder> .\n"
        '<urn:x:holder> <http://www.w3.org/2000/01/rdf-schema#label> "Pēteris Kalniņš" .',
        # a contact in any text, as a submission's NoPersonalDataShape reads it
        '<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/2000/01/rdf-schema#comment> "ilze.z@vk.gov.lv" .',
        '<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/2000/01/rdf-schema#comment> "Ozols, +371 29123456" .',
        # any text about a post's holder names them as well (a comment or a note, not only a label)
        "<https://w3id.org/pvpp/id/post/zz/p> <http://www.w3.org/ns/org#heldBy> <urn:x:holder> .\n"
        '<urn:x:holder> <http://www.w3.org/2004/02/skos/core#note> "Anna Kalniņa" .',
    ],
    ids=["foaf-name", "schema-email", "holder-label", "e-mail-in-a-comment", "phone-in-a-comment", "holder-note"],
)
def test_an_administrators_write_of_personal_data_is_refused(live_server: LiveServer, statements: str) -> None:
    """The public store never holds people's names or contacts, whoever writes: a SPARQL update, a Graph Store
    PUT or a dataset POST that would put one there is a 400 naming it, and nothing is written (the anonymous
    /store read, the pages and /sparql show what the store holds)."""
    graph = "https://w3id.org/pvpp/graph/institution/zz-privacy"
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    before = httpx.get(live_server.url + "/sparql", params=count).json()
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ {statements} }} }}"
    writes = [
        httpx.post(live_server.url + "/sparql/update", data={"update": update}, headers=ADMIN),
        httpx.put(
            live_server.url + "/store",
            params={"graph": graph},
            content=statements.encode(),
            headers={**ADMIN, "Content-Type": "application/n-triples"},
        ),
        httpx.post(
            live_server.url + "/store",
            content=statements.replace(" .", f" <{graph}> .").encode(),  # each statement on a line of its own
            headers={**ADMIN, "Content-Type": "application/n-quads"},
        ),
    ]
    for r in writes:
        assert r.status_code == 400, r.text
        assert "never holds people's names or contact data" in r.text and "nothing was written" in r.text
    assert httpx.get(live_server.url + "/sparql", params=count).json() == before
    assert httpx.get(live_server.url + "/store", params={"graph": graph}).status_code == 404


def test_text_given_to_a_stored_holder_by_a_pattern_update_is_refused(live_server: LiveServer) -> None:
    """An INSERT … WHERE that gives the sample's post holders a comment (an e-mail address here) is refused and
    rolled back: the check reads the store the write leaves, not only INSERT DATA's statements."""
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    before = httpx.get(live_server.url + "/sparql", params=count).json()
    update = (
        "INSERT { GRAPH <https://w3id.org/pvpp/graph/institution/zz-holders> "
        "{ ?p <http://www.w3.org/2000/01/rdf-schema#comment> 'anna.kalnina@varam.gov.lv' } } "
        "WHERE { GRAPH ?g { ?post <http://www.w3.org/ns/org#heldBy> ?p } }"
    )
    r = httpx.post(live_server.url + "/sparql/update", data={"update": update}, headers=ADMIN)
    assert r.status_code == 400 and "nothing was written" in r.text, r.text
    assert httpx.get(live_server.url + "/sparql", params=count).json() == before


def test_a_name_made_a_holder_s_by_a_later_write_is_refused(live_server: LiveServer) -> None:
    """The check reads the store as the write leaves it: a label written first is a person's name once another
    write says that node holds a post (org:heldBy, or org:holds from the holder's side), so that write is refused
    and the first stays a plain label; later unrelated writes are not blamed for it."""
    base = "https://w3id.org/pvpp/graph/institution/zz-later"
    label = '<urn:x:erin> <http://www.w3.org/2000/01/rdf-schema#label> "Erin Kalniņa" .\n'
    put = lambda graph, body: httpx.put(  # noqa: E731
        live_server.url + "/store",
        params={"graph": graph},
        content=body.encode(),
        headers={**ADMIN, "Content-Type": "application/n-triples"},
    )
    try:
        assert put(base + "-a", label).status_code == 201
        for holding in (
            "<https://w3id.org/pvpp/id/post/zz/p2> <http://www.w3.org/ns/org#heldBy> <urn:x:erin> .\n",
            "<urn:x:erin> <http://www.w3.org/ns/org#holds> <https://w3id.org/pvpp/id/post/zz/p2> .\n",
        ):
            r = put(base + "-b", holding)
            assert r.status_code == 400 and "Erin Kalniņa" in r.text, r.text
        assert httpx.get(live_server.url + "/store", params={"graph": base + "-b"}).status_code == 404
        unrelated = f'INSERT DATA {{ GRAPH <{base}-c> {{ <urn:x:a> <urn:x:b> "c" }} }}'
        assert (
            httpx.post(live_server.url + "/sparql/update", data={"update": unrelated}, headers=ADMIN).status_code == 204
        )
    finally:
        for g in ("-a", "-c"):
            httpx.delete(live_server.url + "/store", params={"graph": base + g}, headers=ADMIN)


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


def test_405_names_the_allowed_methods(live_server: LiveServer) -> None:
    """RFC 9110 §15.5.6: a 405 carries ``Allow`` with every method the resource answers, not those of one
    route (the Graph Store's four methods are four routes)."""
    for method, path, allowed in (
        ("PUT", "/sparql", "GET, HEAD, POST"),
        ("DELETE", "/id/role/IPKS", "GET, HEAD"),
        ("GET", "/sparql/update", "POST"),
        ("PATCH", "/store?graph=urn:x", "GET, HEAD, POST, PUT, DELETE"),
    ):
        r = httpx.request(method, live_server.url + path)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == allowed, (method, path, r.headers)


def test_query_strings_that_are_not_utf8_are_refused(live_server: LiveServer) -> None:
    """A percent-escape that is no UTF-8 is a 400 on GET as on a POST form, never a query run on U+FFFD."""
    r = httpx.get(live_server.url + "/sparql?query=ASK%7B%3Fs%20%3Fp%20%22%C4%22%7D")
    assert r.status_code == 400 and "not UTF-8" in r.text and r.headers["content-type"].startswith("text/plain")
    r = httpx.get(live_server.url + "/api/search?q=%FF%FE")
    assert r.status_code == 400 and "not UTF-8" in r.json()["message"]
    # well-formed UTF-8 escapes still work: ģ is %C4%A3
    r = httpx.get(live_server.url + "/api/search?q=%C4%A3imenes")
    assert r.status_code == 200


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's N3 parser on its own Dataset API
def test_n3_is_answered_with_turtle(live_server: LiveServer) -> None:
    """rdflib's ``Graph().parse(url, format="n3")`` asks for text/n3 only: Turtle, N3's subset, is the answer (as
    Oxigraph server and Fuseki give), for a resource, the ontology and a CONSTRUCT."""
    for path in ("/id/role/IPKS", "/ontology"):
        r = httpx.get(live_server.url + path, headers={"Accept": "text/n3, */*;q=0.1"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle"), path
        assert len(Graph().parse(data=r.text, format="n3")) > 3
    r = httpx.get(
        live_server.url + "/sparql",
        params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"},
        headers={"Accept": "text/n3"},
    )
    assert r.status_code == 200 and len(Graph().parse(data=r.text, format="n3")) == 3


def test_errors_are_pages_for_browsers_and_vary_on_accept(live_server: LiveServer) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for path in ("/compliance/nope", "/matrix?institution=nope"):
        page = httpx.get(live_server.url + path, headers=browser)
        assert page.status_code in (400, 404) and page.headers["content-type"].startswith("text/html"), path
        assert 'id="error-message"' in page.text and "nope" in page.text
        machine = httpx.get(live_server.url + path)
        assert machine.status_code == page.status_code and machine.json()["message"]
        for r in (page, machine):
            assert "Accept" in r.headers["vary"], (path, r.headers)
    api = httpx.get(live_server.url + "/api/compliance/nope", headers=browser)
    assert api.status_code == 404 and api.json()["message"]  # the JSON API answers JSON to anyone


def test_versions_of_an_unknown_institution_are_404(live_server: LiveServer) -> None:
    unknown = httpx.get(live_server.url + "/submissions/anything-at-all")
    assert unknown.status_code == 404 and "anything-at-all" in unknown.json()["message"]
    known = httpx.get(live_server.url + "/submissions/varam")
    assert known.status_code == 200 and known.json()["institution"] == "varam"
    assert isinstance(known.json()["versions"], list)


def test_the_chosen_language_stays_chosen(live_server: LiveServer) -> None:
    """The switch (``?lang=en``) sets a cookie; the next page, opened from a link without the parameter, is English
    though the browser asks for Latvian, and its tag differs from the Latvian page's (no cache mixes them)."""
    browser = {"Accept": "text/html", "Accept-Language": "lv"}
    with httpx.Client(base_url=live_server.url, headers=browser) as person:
        assert '<html lang="lv">' in person.get("/id/task/PU1-1").text
        switched = person.get("/id/role/IPKS", params={"lang": "en"})
        assert switched.status_code == 200 and '<html lang="en">' in switched.text
        assert "pvpp_lang=en" in switched.headers["set-cookie"]
        followed = person.get("/id/task/PU1-1")
        assert '<html lang="en">' in followed.text and "Cookie" in followed.headers["vary"]
        assert "set-cookie" not in followed.headers
        back = person.get("/compliance", params={"lang": "lv"})
        assert '<html lang="lv">' in back.text and '<html lang="lv">' in person.get("/matrix").text
    latvian = httpx.get(live_server.url + "/id/task/PU1-1", headers=browser)
    english = httpx.get(live_server.url + "/id/task/PU1-1", headers={**browser, "Cookie": "pvpp_lang=en"})
    assert latvian.headers["etag"] != english.headers["etag"]
    # on the search page ``lang`` filters the texts' language: it is not the page's, and sets nothing
    search = httpx.get(live_server.url + "/search", params={"q": "pabalsts", "lang": "en"}, headers=browser)
    assert search.status_code == 200 and "set-cookie" not in search.headers


def test_named_graph_as_a_dataset_and_the_dataset_by_extension(live_server: LiveServer) -> None:
    """A named graph also as N-Quads/TriG with its name kept (Oxigraph server's GSP gives them); the dataset
    description by extension as the ontology and the resources are (``/dataset.ttl``); the function's
    ``rdfs:seeAlso`` opens a page, not a 400."""
    reference = "https://w3id.org/pvpp/graph/reference"
    turtle = httpx.get(live_server.url + "/graph/reference.ttl")
    triples = len(Graph().parse(data=turtle.text, format="turtle"))
    for path, headers, fmt in (
        ("/graph/reference.nq", {}, "nquads"),
        ("/graph/reference", {"Accept": "application/trig"}, "trig"),
    ):
        r = httpx.get(live_server.url + path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        d = Dataset()
        d.parse(data=r.text, format=fmt)
        assert {str(c.identifier) for c in d.graphs() if len(c)} == {reference}
        assert len(d.graph(URIRef(reference))) == triples
    assert 'type="application/trig"' in httpx.get(live_server.url + "/graph/reference.ttl").headers["link"]
    ttl = httpx.get(live_server.url + "/dataset.ttl")
    assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
    assert (URIRef("https://w3id.org/pvpp/dataset"), None, None) in Graph().parse(data=ttl.text, format="turtle")
    assert httpx.get(live_server.url + "/dataset.xyz").status_code == 404
    sd = Graph().parse(data=httpx.get(live_server.url + "/sparql", headers={"Accept": "text/turtle"}).text)
    see_also = sd.value(URIRef("https://w3id.org/pvpp/function#search"), RDFS.seeAlso)
    assert see_also == URIRef("https://w3id.org/pvpp/search")
    assert httpx.get(live_server.url + "/search", headers={"Accept": "text/html"}).status_code == 200


def test_a_refused_upload_is_explained_in_the_language_asked(live_server: LiveServer) -> None:
    """An institution's clerk reads Latvian: a refusal has its Latvian text on the page (the page's language),
    for lang=lv or Accept-Language: lv, and both texts in the JSON (``messages``); English otherwise."""
    url = live_server.url + "/validate"
    empty = {"file": ("x.ttl", b"  \n", "text/turtle")}
    page = httpx.post(url, params={"lang": "lv"}, files=empty, headers={"Accept": "text/html"})
    assert page.status_code == 400 and "x.ttl: dokuments ir tukšs" in page.text
    lv = httpx.post(url, files=empty, headers={"Accept": "application/json", "Accept-Language": "lv-LV,lv;q=0.9"})
    assert lv.status_code == 400 and lv.json()["message"] == "x.ttl: dokuments ir tukšs"
    assert lv.json()["messages"] == {"en": "x.ttl: the document is empty", "lv": "x.ttl: dokuments ir tukšs"}
    en = httpx.post(url, files=empty, headers={"Accept": "application/json"})
    assert en.json()["message"] == "x.ttl: the document is empty"
    broken = {"file": ("b.ttl", b'@prefix x: <http://x/> .\nx:a x:b "open .\n', "text/turtle")}
    r = httpx.post(url, params={"lang": "lv"}, files=broken, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["message"].startswith("b.ttl:2:9: sintakses kļūda")
    fake = {"file": ("t.xlsx", b"not a zip", "application/octet-stream")}
    r = httpx.post(url, params={"lang": "lv"}, files=fake, headers={"Accept": "application/json"})
    assert (
        r.status_code == 400 and r.json()["message"] == "t.xlsx: nav nolasāma XLSX darbgrāmata (fails nav zip pakete)"
    )
    body = httpx.post(url, params={"lang": "lv"}, content=b" ", headers={"Content-Type": "text/turtle"})
    assert body.status_code == 400 and body.json()["message"] == "pieprasījuma saturs: dokuments ir tukšs"
    ods = {"file": ("t.ods", b"PK", "application/vnd.oasis.opendocument.spreadsheet")}
    r = httpx.post(url, params={"lang": "lv"}, files=ods, headers={"Accept": "application/json"})
    assert r.status_code == 415 and r.json()["message"].startswith("neatbalstīts vai nenorādīts satura tips")
