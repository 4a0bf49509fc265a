"""Search by name over real HTTP (a uvicorn subprocess on its own store): /api/search, suggestions, the page,
the header box on every page, bad input, and a submission's new names found at once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import ADMIN_TOKEN, LiveServer, serving, tokens_file

pytestmark = pytest.mark.slow

BASE = (Path(__file__).parents[1] / "data" / "shapes" / "base.ttl").read_bytes()
LM = "lm-token"
ID = "https://w3id.org/pvpp/id/"
FAMILY_BENEFIT = ID + "service/vsaa/gimenes-valsts-pabalsts"


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"lm": LM})
    s = make_settings(institution_tokens_file=tokens)
    with serving(s) as srv:
        yield srv


def search(server: LiveServer, **params: object) -> dict:
    r = httpx.get(server.url + "/api/search", params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_without_diacritics_the_accented_service_comes_first(server: LiveServer) -> None:
    body = search(server, q="gimenes pabalsts", ui="lv")
    first = body["results"][0]
    assert first["iri"] == FAMILY_BENEFIT
    assert first["label"] == "Ģimenes valsts pabalsta piešķiršana un izmaksāšana"
    assert first["page"] == "/id/service/vsaa/gimenes-valsts-pabalsts"
    assert first["kind"] == "service" and first["kind_label"] == "Pakalpojums"
    assert first["institution"] == ID + "institution/vsaa" and first["sector"] == "lm"
    # the same words typed with their diacritics give the same first answer
    assert search(server, q="Ģimenes pabalsts")["results"][0]["iri"] == FAMILY_BENEFIT


@pytest.mark.parametrize("word", ["pabalsts", "pabalsta", "pabalstu", "PABALSTIEM", "pabal"])
def test_inflected_and_half_typed_words_meet(server: LiveServer, word: str) -> None:
    iris = {r["iri"] for r in search(server, q=f"gimenes valsts {word}", kind="service")["results"]}
    assert FAMILY_BENEFIT in iris


def test_a_case_and_diacritics_free_form_finds_the_latvian_name(server: LiveServer) -> None:
    body = search(server, q="celu un ielu ZIEMAS uzturesana", kind="service", ui="lv")
    assert [r["label"] for r in body["results"]] == ["Pašvaldības ceļu un ielu ziemas uzturēšana"]


def test_the_english_name_finds_the_latvian_resource(server: LiveServer) -> None:
    body = search(server, q="state family benefit", ui="lv")
    first = body["results"][0]
    assert first["iri"] == FAMILY_BENEFIT
    assert first["label"] == "Ģimenes valsts pabalsta piešķiršana un izmaksāšana"  # shown in the page's language
    assert first["match"] == {"text": "Granting and payment of state family benefit", "field": "label", "langs": ["en"]}


def test_exact_name_ranks_above_names_that_start_with_it(server: LiveServer) -> None:
    # "Iestāde" is the exact name of the ontology class pvpp:Institution; other names only start with it
    body = search(server, q="iestade", ui="lv")
    assert body["results"][0]["iri"] == "https://w3id.org/pvpp/ontology#Institution"
    assert body["results"][0]["score"] == 1000


def test_facets_count_the_matches(server: LiveServer) -> None:
    body = search(server, q="gimenes pabalsts", ui="en", size=100)
    facets = {name: {v["value"]: v["count"] for v in values} for name, values in body["facets"].items()}
    assert facets["kind"] == {"service": 2, "sla": 2, "post": 1}
    assert facets["institution_type"] == {"OtherInstitution": 5}
    assert facets["sector"] == {"lm": 5}
    assert facets["lang"] == {"lv": 5}
    assert body["total"] == 5 == len(body["results"])
    assert Counter(r["kind"] for r in body["results"]) == facets["kind"]
    labels = {v["value"]: v["label"] for v in body["facets"]["sector"]}
    assert labels == {"lm": "Ministry of Welfare"}
    # a filter keeps its own facet's other values countable and narrows the rest
    only = search(server, q="gimenes pabalsts", kind="service")
    assert only["total"] == 2 and {r["kind"] for r in only["results"]} == {"service"}
    assert {v["value"]: v["count"] for v in only["facets"]["kind"]} == {"service": 2, "sla": 2, "post": 1}
    assert {v["value"]: v["count"] for v in only["facets"]["sector"]} == {"lm": 2}
    both = search(server, q="gimenes pabalsts", kind=["service", "post"])
    assert both["total"] == 3
    assert search(server, q="family benefit", lang="lv")["total"] == 0
    assert search(server, q="family benefit", lang="en")["total"] == 5
    assert search(server, q="pabalsts", sector="varam")["total"] == 0


def test_institution_type_facet_and_paging(server: LiveServer) -> None:
    body = search(server, q="novads", kind="institution", institution_type="Novads", size=1)
    assert body["total"] >= 2 and body["pages"] == body["total"] and len(body["results"]) == 1
    second = search(server, q="novads", kind="institution", institution_type="Novads", size=1, page=2)
    assert second["results"][0]["iri"] != body["results"][0]["iri"]
    assert all(r["institution_type"] == "Novads" for r in (body["results"] + second["results"]))


def test_suggestions_for_a_half_typed_query(server: LiveServer) -> None:
    r = httpx.get(server.url + "/api/search/suggest", params={"q": "gimenes valsts pab", "ui": "lv"}, timeout=30)
    assert r.status_code == 200
    first = r.json()["suggestions"][0]
    assert first == {
        "label": "Ģimenes valsts pabalsta piešķiršana un izmaksāšana",
        "iri": FAMILY_BENEFIT,
        "page": "/id/service/vsaa/gimenes-valsts-pabalsts",
        "kind": "service",
        "kind_label": "Pakalpojums",
        "match": "Ģimenes valsts pabalsta piešķiršana un izmaksāšana",
    }


def test_a_hidden_label_finds_but_is_never_shown(server: LiveServer) -> None:
    """The seed's misspelling "starpvietāžu" is the inter-institutional kind's skos:hiddenLabel: typing it finds the
    kind, but every answer shows its name ("Starpiestāžu pakalpojums"), and its page does not list the label."""
    kind = "https://w3id.org/pvpp/id/kind/inter-institutional"
    found = httpx.get(server.url + "/api/search", params={"q": "starpvietazu", "ui": "lv"}, timeout=30).json()
    hit = next(r for r in found["results"] if r["iri"] == kind)
    assert hit["match"]["field"] == "hidden" and hit["match"]["text"] == "Starpiestāžu pakalpojums"
    assert "starpvietāžu" not in str(found["results"]).lower()
    suggested = httpx.get(server.url + "/api/search/suggest", params={"q": "starpviet", "ui": "lv"}, timeout=30)
    assert any(x["iri"] == kind for x in suggested.json()["suggestions"])
    assert "starpvietāžu" not in suggested.text.lower()
    page = httpx.get(server.url + "/id/kind/inter-institutional", params={"lang": "lv"}, timeout=30).text
    assert "Starpiestāžu pakalpojums" in page and "Starpvietāžu pakalpojums" not in page  # a note may name the typo
    results = httpx.get(server.url + "/search", params={"q": "starpviet"}, timeout=30).text
    assert "Starpiestāžu pakalpojums" in results and "starpvietāžu" not in results.lower()


def test_openapi_describes_the_search(server: LiveServer) -> None:
    schema = httpx.get(server.url + "/openapi.json", timeout=30).json()
    params = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "kind", "institution_type", "sector", "lang", "page", "size"} <= params
    ok = schema["paths"]["/api/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/SearchResults"}
    assert "facets" in schema["components"]["schemas"]["SearchResults"]["properties"]


def test_results_page_with_facets_and_links(server: LiveServer) -> None:
    r = httpx.get(server.url + "/search", params={"q": "gimenes pabalsts", "ui": "lv"}, timeout=30)
    assert r.status_code == 200
    page = r.text
    assert '<a href="/id/service/vsaa/gimenes-valsts-pabalsts">Ģimenes valsts pabalsta' in page
    assert '<p id="search-total">5 rezultāti' in page
    assert 'data-facet="kind"' in page and 'data-value="service"' in page and "(2)" in page
    narrowed = httpx.get(
        server.url + "/search", params={"q": "gimenes pabalsts", "kind": "service", "ui": "en"}, timeout=30
    )
    assert '<p id="search-total">2 results' in narrowed.text
    bad = httpx.get(server.url + "/search", params={"q": "x", "kind": "nope"}, timeout=30)
    assert bad.status_code == 400 and "kind: unknown value &#39;nope&#39;" in bad.text


@pytest.mark.parametrize(
    "path", ["/", "/sparql", "/validate", "/dumps", "/id/role/IPKS", "/search", "/id/no/such/thing"]
)
def test_every_page_has_the_search_box(server: LiveServer, path: str) -> None:
    r = httpx.get(server.url + path, headers={"Accept": "text/html"}, timeout=30)
    assert 'id="site-search-q"' in r.text and 'action="/search"' in r.text
    assert "/static/search.js" in r.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "q: give the text to search for"),
        ({"q": "pabalsts", "ui": "de"}, "ui"),
        ({"q": "   "}, "q: give the text to search for"),
        ({}, "q: give the text to search for"),
        ({"q": "a" * 201}, "q: the text is 201 characters long; at most 200"),
        ({"q": "x", "colour": "red"}, "unknown parameter 'colour'"),
        ({"q": "x", "kind": "nope"}, "kind: unknown value 'nope'"),
        ({"q": "x", "institution_type": "Kingdom"}, "institution_type: unknown value 'Kingdom'"),
        ({"q": "x", "sector": "nope"}, "sector: unknown value 'nope'"),
        ({"q": "x", "lang": "de"}, "lang: unknown value 'de'"),
        ({"q": "x", "page": "0"}, "page"),
        ({"q": "x", "size": "1000"}, "size"),
        ({"q": "x", "page": "one"}, "page"),
    ],
)
def test_bad_input_is_400_with_a_message(server: LiveServer, params: dict, message: str) -> None:
    r = httpx.get(server.url + "/api/search", params=params, timeout=30)
    assert r.status_code == 400, r.text
    assert message in r.json()["message"]
    assert "Error" not in r.json()["message"] and "Traceback" not in r.text


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "*",
        "pab*",
        "NEAR(",
        "NEAR(a b, 2)",
        "-",
        "-pabalsts",
        "a OR b",
        "x AND",
        "^",
        ":",
        "col:x",
        "(",
        ")",
        "'",
        "\\",
        "%",
        "_",
        'pabalsts"',
        "{",
        "ģ̧",
        "\u0000x",
        "🙂",
    ],
)
def test_fts_syntax_in_the_query_is_just_text(server: LiveServer, q: str) -> None:
    for path in ("/api/search", "/api/search/suggest"):
        r = httpx.get(server.url + path, params={"q": q}, timeout=30)
        assert r.status_code in (200, 400), (q, r.text)
        if r.status_code == 400:
            assert q.strip() == "", q  # only a query with nothing in it is refused
    assert search(server, q="pab*")["total"] == search(server, q="pab")["total"] > 0


def test_a_submissions_new_service_is_found_at_once(server: LiveServer) -> None:
    name = "Zvejnieku ūdenslīdēju atbalsta piešķiršana"
    assert search(server, q="udenslideju")["total"] == 0
    body = BASE.replace("Pabalsta piešķiršana".encode(), name.encode())
    r = httpx.post(
        server.url + "/submissions",
        content=body,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    stored = time.perf_counter()
    found = search(server, q="zvejnieku udenslideju", ui="lv")
    elapsed = time.perf_counter() - stored
    assert [x["iri"] for x in found["results"]] == [ID + "service/lm/pabalsts"]
    assert found["results"][0]["label"] == name and found["results"][0]["sector"] == "lm"
    assert found["results"][0]["institution_type"] == "Ministry"
    assert found["version"] == httpx.get(server.url + "/health", timeout=30).json()["version"]
    assert elapsed < 1.0
    # replaced again: the old name is gone from the index, the new one is there
    body2 = BASE.replace("Pabalsta piešķiršana".encode(), "Jūrnieku atbalsts".encode())
    r = httpx.post(
        server.url + "/submissions",
        content=body2,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    assert search(server, q="udenslideju")["total"] == 0
    assert [x["iri"] for x in search(server, q="jurnieku", kind="service")["results"]] == [ID + "service/lm/pabalsts"]


def test_a_sparql_update_rebuilds_the_index(server: LiveServer) -> None:
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/pvpp/graph/test-search> { "
        "<https://w3id.org/pvpp/id/need/test-search> a <https://w3id.org/pvpp/ontology#Need> ; "
        '<http://www.w3.org/2004/02/skos/core#prefLabel> "Kvarca pulksteņu labošana"@lv } }'
    )
    r = httpx.post(
        server.url + "/sparql/update",
        content=update,
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )
    assert r.status_code in (200, 204), r.text
    found = search(server, q="pulksteņu", kind="need")
    assert [x["iri"] for x in found["results"]] == ["https://w3id.org/pvpp/id/need/test-search"]


def test_only_a_query_calling_the_function_waits_for_the_index(make_settings: Callable[..., Settings]) -> None:
    """After a SPARQL Update the index is rebuilt by the next search or pvppfn:search query, not by a query whose
    prologue merely declares the pvppfn: prefix (as the query UI's does)."""
    from pvpp_kg.namespaces import sparql_prologue
    from pvpp_kg.store.textindex import TextIndex

    s = make_settings()
    ensure_loaded(s)
    srv = LiveServer(s)
    try:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/sparql-update"}
        assert search(srv, q="IPKS")["total"] > 0  # the index exists, at the current version
        update = "INSERT DATA { GRAPH <https://w3id.org/pvpp/graph/t> { <urn:x:a> <urn:x:p> 1 } }"
        assert httpx.post(srv.url + "/sparql/update", content=update, headers=admin, timeout=60).status_code == 204
        version = int(httpx.get(srv.url + "/health", timeout=30).json()["version"])
        index = TextIndex(Path(s.data_dir) / "public")
        assert index.version() == version - 1
        plain = sparql_prologue() + "SELECT (COUNT(*) AS ?n) WHERE { ?s a pvpp:Role }"
        r = httpx.post(srv.url + "/sparql", data={"query": plain}, headers={"Accept": "text/csv"}, timeout=60)
        assert r.status_code == 200 and r.text.splitlines()[1] == "10"
        assert index.version() == version - 1  # not rebuilt for a query that does not search
        call = sparql_prologue() + 'SELECT ?s WHERE { ?s a pvpp:Role . FILTER(pvppfn:search(?s, "IPKS")) }'
        r = httpx.post(srv.url + "/sparql", data={"query": call}, headers={"Accept": "text/csv"}, timeout=60)
        assert r.text.splitlines()[1:] == ["https://w3id.org/pvpp/id/role/IPKS"]
        assert index.version() == version
    finally:
        srv.stop()
