"""Search in remote mode: pvpp-kg over a real Oxigraph server (started here, loaded with the sample's public
dataset) builds its text index from the remote's data, answers as the embedded server does, and finds what is
written through it at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from rdflib import Graph, URIRef

from pvpp_kg.settings import Settings
from tests.conftest import ADMIN_TOKEN, LiveServer, OxigraphServer, tokens_file
from tests.search.test_search import BASE, FAMILY_BENEFIT, ID, LM  # the same sample data and token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def remote(
    settings: Settings, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, OxigraphServer]]:
    """pvpp-kg in remote mode (its own, empty data directory) over an Oxigraph server holding the public dataset
    of the embedded ``live_server``."""
    dump = httpx.get(live_server.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60).content
    oxi = OxigraphServer(tmp_path_factory.mktemp("oxigraph"), dump)
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"lm": LM})
    remote_settings = settings.model_copy(
        update={
            "remote_query_url": oxi.url + "/query",
            "remote_update_url": oxi.url + "/update",
            "remote_store_url": oxi.url + "/store",
            "data_dir": tmp_path_factory.mktemp("remote-data"),
            "institution_tokens_file": tokens,
        }
    )
    server = LiveServer(remote_settings)
    try:
        yield server, oxi
    finally:
        server.stop()
        oxi.stop()


def search(url: str, **params: object) -> dict:
    r = httpx.get(url + "/api/search", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _answer(body: dict) -> tuple:
    """What a search answered, without the data version (the two servers count their versions apart)."""
    return body["total"], [(x["iri"], x["label"], x["score"], x["sector"]) for x in body["results"]], body["facets"]


@pytest.mark.parametrize("q", ["gimenes pabalsts", "state family benefit", "IPKS", "madonas", "pakalpojums"])
def test_remote_search_answers_as_the_embedded_one(remote: tuple, live_server: LiveServer, q: str) -> None:
    server, _oxi = remote
    assert _answer(search(server.url, q=q, ui="lv")) == _answer(search(live_server.url, q=q, ui="lv"))


def test_remote_search_finds_the_accented_service_and_suggests_it(remote: tuple) -> None:
    server, _oxi = remote
    first = search(server.url, q="gimenes pabalsts", ui="lv")["results"][0]
    assert first["iri"] == FAMILY_BENEFIT
    assert first["label"] == "Ģimenes valsts pabalsta piešķiršana un izmaksāšana"
    assert first["institution"] == ID + "institution/vsaa" and first["sector"] == "lm"
    r = httpx.get(server.url + "/api/search/suggest", params={"q": "gimenes valsts pab", "ui": "lv"}, timeout=30)
    assert r.status_code == 200 and r.json()["suggestions"][0]["iri"] == FAMILY_BENEFIT
    page = httpx.get(server.url + "/search", params={"q": "gimenes pabalsts", "ui": "lv"}, timeout=30)
    assert page.status_code == 200 and 'href="/id/service/vsaa/gimenes-valsts-pabalsts"' in page.text


def test_a_submission_through_the_remote_server_is_found_at_once(remote: tuple) -> None:
    server, oxi = remote
    name = "Ūdenslīdēju apmācība remotē"
    assert search(server.url, q="udenslideju")["total"] == 0
    body = BASE.replace("Pabalsta piešķiršana".encode(), name.encode())
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"}
    r = httpx.post(server.url + "/submissions", content=body, headers=headers, timeout=120)
    assert r.status_code == 201, r.text
    stored = time.perf_counter()
    found = search(server.url, q="udenslideju apmaciba", ui="lv")
    elapsed = time.perf_counter() - stored
    assert [(x["iri"], x["label"], x["sector"]) for x in found["results"]] == [(ID + "service/lm/pabalsts", name, "lm")]
    assert elapsed < 1.0
    # the name is in the remote store itself: the index read it from there
    ask = f'ASK {{ ?s <http://purl.org/dc/terms/title> "{name}"@lv }}'
    assert httpx.post(oxi.url + "/query", data={"query": ask}, params={"union-default-graph": ""}).json()["boolean"]
    # replaced: the old name is gone, the new one found
    body2 = BASE.replace("Pabalsta piešķiršana".encode(), "Jūrnieku atbalsts remotē".encode())
    r = httpx.post(server.url + "/submissions", content=body2, headers=headers, timeout=120)
    assert r.status_code == 201, r.text
    assert search(server.url, q="udenslideju")["total"] == 0
    assert [x["iri"] for x in search(server.url, q="jurnieku atbalsts", kind="service")["results"]] == [
        ID + "service/lm/pabalsts"
    ]


def test_a_graph_store_write_and_a_sparql_update_through_the_remote_server(remote: tuple) -> None:
    server, _oxi = remote
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    turtle = (
        "<https://w3id.org/pvpp/id/need/test-remote> a <https://w3id.org/pvpp/ontology#Need> ; "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> "Smilšu pulksteņu labošana"@lv .'
    )
    r = httpx.put(
        server.url + "/store",
        params={"graph": "https://w3id.org/pvpp/graph/test-remote"},
        content=turtle.encode(),
        headers={**admin, "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert r.status_code in (200, 201, 204), r.text
    found = search(server.url, q="smilsu pulkstenu", kind="need")
    assert [x["iri"] for x in found["results"]] == [ID + "need/test-remote"]
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/pvpp/graph/test-remote-2> { "
        "<https://w3id.org/pvpp/id/need/test-remote-2> a <https://w3id.org/pvpp/ontology#Need> ; "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> "Saules pulksteņu labošana"@lv } }'
    )
    r = httpx.post(
        server.url + "/sparql/update",
        content=update,
        headers={**admin, "Content-Type": "application/sparql-update"},
        timeout=60,
    )
    assert r.status_code in (200, 204), r.text
    found = search(server.url, q="pulkstenu labosana", kind="need")
    assert {x["iri"] for x in found["results"]} == {ID + "need/test-remote", ID + "need/test-remote-2"}


def _rows(r: httpx.Response) -> list[tuple[tuple[str, str], ...]]:
    assert r.status_code == 200, r.text
    return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in r.json()["results"]["bindings"])


JSON = {"Accept": "application/sparql-results+json"}


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "gimenes pabalsts",
            "lv",
            [
                (
                    ID + "service/vsaa/gimenes-pabalsti-berna-piedzimstot",
                    "Vienots ģimenes pabalstu pieteikums bērna piedzimšanas gadījumā",
                ),
                (FAMILY_BENEFIT, "Ģimenes valsts pabalsta piešķiršana un izmaksāšana"),
            ],
        ),
        ("state family benefit", "en", [(FAMILY_BENEFIT, "Granting and payment of state family benefit")]),
        ("pabalst", "lv", 10),
    ],
)
def test_the_library_search_query_answers_as_the_embedded_one(
    remote: tuple, live_server: LiveServer, text: str, lang: str, expected: list | int
) -> None:
    """pvppfn:search is rewritten over this server's index of the remote data before the query is forwarded: the
    library's search-services gives the embedded server's rows, diacritics-free text finding the accented title."""
    server, _oxi = remote
    params = {"text": text, "lang": lang}
    remote_rows = _rows(httpx.get(server.url + "/api/queries/search-services", params=params, headers=JSON))
    embedded_rows = _rows(httpx.get(live_server.url + "/api/queries/search-services", params=params, headers=JSON))
    assert remote_rows == embedded_rows
    found = [(dict(r)["service"], dict(r)["title"]) for r in remote_rows]
    assert found == expected if isinstance(expected, list) else len(found) == expected


def test_text_match_with_graph_patterns_in_sparql_on_a_remote_store(remote: tuple, live_server: LiveServer) -> None:
    """A text match combined with graph patterns (a municipality's services named pabalst*, with their scores) and
    the function on literals and IRIs in expressions answer on the remote store as on the embedded one."""
    server, _oxi = remote
    combined = (
        "PREFIX pvpp: <https://w3id.org/pvpp/ontology#>\n"
        "PREFIX fn: <https://w3id.org/pvpp/function#>\n"
        "SELECT ?service ?score WHERE { ?service a pvpp:Service ; pvpp:owner ?owner . ?owner a pvpp:Municipality . "
        'BIND(fn:search(?service, "pabalst*", "lv") AS ?score) FILTER(BOUND(?score)) }'
    )
    narrowed = (
        "PREFIX pvpp: <https://w3id.org/pvpp/ontology#>\nPREFIX pvppfn: <https://w3id.org/pvpp/function#>\n"
        "SELECT ?service ?owner WHERE { ?service a pvpp:Service ; pvpp:owner ?owner . ?owner a pvpp:Municipality . "
        'FILTER(pvppfn:search(?service, "pabalst", "lv")) }'
    )
    literals = (
        "PREFIX pvppfn: <https://w3id.org/pvpp/function#>\n"
        'SELECT ?a ?b ?c WHERE { BIND(pvppfn:search("Ģimenes valsts pabalsta piešķiršana"@lv, "gimenes pabalsts") '
        'AS ?a) BIND(pvppfn:search("Granting of state family benefit"@en, "family", "lv") AS ?b) '
        "BIND(pvppfn:search(<https://w3id.org/pvpp/id/role/IPKS>, 42) AS ?c) }"
    )
    gimenes = ID + "service/madonas-novads/gmi-pabalsts"
    expected = {
        combined: [(("score", "800"), ("service", gimenes))],
        narrowed: [(("owner", ID + "institution/madonas-novads"), ("service", gimenes))],
        literals: [(("a", "1"),)],
    }
    for query, rows in expected.items():
        remote_rows = _rows(httpx.post(server.url + "/sparql", data={"query": query}, headers=JSON, timeout=60))
        assert remote_rows == rows
        assert _rows(httpx.post(live_server.url + "/sparql", data={"query": query}, headers=JSON)) == rows


def test_the_search_text_must_be_known_before_the_query_runs(remote: tuple) -> None:
    server, _oxi = remote
    query = (
        "PREFIX pvppfn: <https://w3id.org/pvpp/function#>\n"
        'SELECT ?s WHERE { ?s a ?c ; ?p ?o . FILTER(pvppfn:search(?s, CONCAT("IP", "KS"))) }'
    )
    r = httpx.post(server.url + "/sparql", data={"query": query}, timeout=30)
    assert r.status_code == 400 and "pvppfn:search takes its text and language as literals" in r.text


def test_the_remote_servers_service_description_lists_the_function(remote: tuple) -> None:
    server, _oxi = remote
    r = httpx.get(server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    g = Graph().parse(data=r.text, format="turtle")
    function = URIRef("https://w3id.org/pvpp/function#search")
    assert (None, URIRef("http://www.w3.org/ns/sparql-service-description#extensionFunction"), function) in g
    en = [str(d) for d in g.objects(function, URIRef("http://purl.org/dc/terms/description")) if d.language == "en"]
    assert len(en) == 1 and "so it works over a remote store too" in en[0]


def test_a_syntax_error_is_reported_where_it_is_in_the_query_as_sent(remote: tuple, live_server: LiveServer) -> None:
    """The rewrite adds text to the query: an error is reported at its place in the text as sent, in both modes."""
    server, _oxi = remote
    query = (
        "PREFIX pvppfn: <https://w3id.org/pvpp/function#>\n"
        "SELECT ?s WHERE { ?s a ?c .\n"
        '  FILTER(pvppfn:search(?s, "IPKS")) ?? }'
    )
    for url in (server.url, live_server.url):
        r = httpx.post(url + "/sparql", data={"query": query}, timeout=30)
        assert r.status_code == 400 and "error at 3:41" in r.text, r.text
