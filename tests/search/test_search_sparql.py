"""The text search in SPARQL: ``pvppfn:search`` in queries (with graph patterns), in the library's
``search-services`` (same answers as its former CONTAINS form where both apply), in the service description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import Graph, URIRef

pytestmark = pytest.mark.slow

PROLOGUE = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pvppfn: <https://w3id.org/pvpp/function#>
"""
# the library query before the text index: a substring of the lower-cased title
CONTAINS_FORM = (
    PROLOGUE
    + """SELECT ?service ?title ?institution WHERE {
  ?service a pvpp:Service ; pvpp:owner ?institution ; dct:title ?title .
  FILTER(LANGMATCHES(LANG(?title), "%(lang)s") && CONTAINS(LCASE(STR(?title)), LCASE("%(text)s")))
}"""
)
JSON = {"Accept": "application/sparql-results+json"}


def select(server: Any, query: str) -> list[dict[str, str]]:
    r = httpx.post(server.url + "/sparql", data={"query": query}, headers=JSON, timeout=60)
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def library(server: Any, text: str, lang: str) -> set[tuple[str, str, str]]:
    r = httpx.get(server.url + "/api/queries/search-services", params={"text": text, "lang": lang}, headers=JSON)
    assert r.status_code == 200, r.text
    rows = [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]
    return {(b["service"], b["title"], b["institution"]) for b in rows}


def contains_form(server: Any, text: str, lang: str) -> set[tuple[str, str, str]]:
    rows = select(server, CONTAINS_FORM % {"text": text, "lang": lang})
    return {(b["service"], b["title"], b["institution"]) for b in rows}


@pytest.mark.parametrize(
    ("new", "old", "lang", "count"),
    [
        ("pabalst", "pabalst", "lv", 10),
        ("gimenes", "ģimenes", "lv", 2),  # without diacritics: the same answers as the accented substring
        ("benefit", "benefit", "en", 10),
        ("ziemas uzturesana", "ziemas uzturēšana", "lv", 1),
        ("izmaks", "izmaks", "lv", 8),
    ],
)
def test_search_services_equals_the_contains_form(live_server: Any, new: str, old: str, lang: str, count: int) -> None:
    found = library(live_server, new, lang)
    assert found == contains_form(live_server, old, lang)
    assert len(found) == count, len(found)


def test_search_services_tolerates_inflection_where_contains_does_not(live_server: Any) -> None:
    # "pabalsts" (nominative) is in one title; the stem finds every form of the word
    assert len(contains_form(live_server, "pabalsts", "lv")) == 1
    assert library(live_server, "pabalsts", "lv") == contains_form(live_server, "pabalst", "lv")
    # "pakalpojumu" (genitive plural) also finds "pakalpojums", "pakalpojumi", "e-pakalpojumos"
    inflected = library(live_server, "pakalpojumu", "lv")
    assert contains_form(live_server, "pakalpojumu", "lv") < inflected
    assert inflected == contains_form(live_server, "pakalpojum", "lv")


def test_text_match_combined_with_graph_patterns(live_server: Any) -> None:
    rows = select(
        live_server,
        PROLOGUE
        + """SELECT ?service ?score WHERE {
          ?service a pvpp:Service ; pvpp:owner ?owner .
          ?owner a pvpp:Municipality .
          BIND(pvppfn:search(?service, "pabalst*", "lv") AS ?score)
          FILTER(BOUND(?score))
        } ORDER BY DESC(?score) ?service""",
    )
    assert [r["service"].rsplit("/id/", 1)[1] for r in rows] == ["service/madonas-novads/gmi-pabalsts"]
    assert float(rows[0]["score"]) == 800  # its name starts with the word


def test_the_function_on_literals_and_odd_arguments(live_server: Any) -> None:
    rows = select(
        live_server,
        PROLOGUE
        + """SELECT ?a ?b ?c ?d ?e WHERE {
          BIND(pvppfn:search("Ģimenes valsts pabalsta piešķiršana"@lv, "gimenes pabalsts") AS ?a)
          BIND(pvppfn:search("Ģimenes valsts pabalsta piešķiršana"@lv, "family") AS ?b)
          BIND(pvppfn:search("Granting of state family benefit"@en, "family", "lv") AS ?c)
          BIND(pvppfn:search(<https://w3id.org/pvpp/id/role/IPKS>, 42) AS ?d)
          BIND(pvppfn:search("x", "NEAR(x \\" * -") AS ?e)
        }""",
    )
    assert rows == [{"a": "1"}]  # only the matching literal has a value; odd arguments give none, never an error


def test_the_service_description_names_the_function(live_server: Any) -> None:
    r = httpx.get(live_server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    g = Graph().parse(data=r.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    function = URIRef("https://w3id.org/pvpp/function#search")
    assert (None, URIRef(sd + "extensionFunction"), function) in g
    descriptions = {d.language: str(d) for d in g.objects(function, URIRef("http://purl.org/dc/terms/description"))}
    assert set(descriptions) == {"lv", "en"} and "pvppfn:search(?x" in descriptions["en"]


@pytest.mark.parametrize("text", ["pabalst", "gimenes", "madona", "iestade", "zzzz"])
@pytest.mark.parametrize(
    "shape",
    [
        '?s a pvpp:Service ; dct:title ?t . FILTER(pvppfn:search(?s, %(q)s, "lv"))',
        "?s dct:title ?t . OPTIONAL { ?s pvpp:owner ?o . FILTER(pvppfn:search(?s, %(q)s)) }",
        "{ SELECT ?s ?t WHERE { ?s a pvpp:Service . FILTER(pvppfn:search(?s, %(q)s)) } } ?s dct:title ?t .",
        "?s dct:title ?t . FILTER NOT EXISTS { ?s pvpp:owner ?o . FILTER(pvppfn:search(?s, %(q)s)) }",
        "{ ?s a pvpp:Need . FILTER(pvppfn:search(?s, %(q)s)) } UNION { ?s a pvpp:Service . ?s dct:title ?t }",
        # a filter of an OPTIONAL's group sees the variables outside it (here ?t): the matches are joined in
        '?s dct:title ?t . OPTIONAL { ?s pvpp:owner ?o . FILTER(pvppfn:search(?s, %(q)s)) FILTER(LANG(?t) = "lv") }',
        "GRAPH ?g { ?s a pvpp:Service ; dct:title ?t . FILTER(pvppfn:search(?s, %(q)s)) }",
        # another filter beside it (it stays in the group evaluated per match)
        '?s a pvpp:Service ; dct:title ?t . FILTER(LANGMATCHES(LANG(?t), "en")) FILTER(pvppfn:search(?s, %(q)s))',
        # a nested group in it: the matches are joined in, not bound first
        "?s a pvpp:Service . OPTIONAL { ?s pvpp:owner ?o } FILTER(pvppfn:search(?s, %(q)s))",
        "?s a pvpp:Service . MINUS { ?s dct:title ?t . FILTER(LANGMATCHES(LANG(?t), 'en')) } "
        "FILTER(pvppfn:search(?s, %(q)s))",
    ],
)
def test_the_index_driven_form_changes_no_answer(live_server: Any, shape: str, text: str) -> None:
    """A filter that is only the function lets the index's matches drive its group (the query process evaluates a
    group of triple patterns once per match, LATERAL, or joins the matches into a group with nested groups);
    written so that it is not only the function, it is evaluated as a plain filter. Same rows."""
    driven = shape % {"q": f'"{text}"'}
    plain = driven.replace("FILTER(pvppfn:search(", "FILTER(true && pvppfn:search(")
    query = PROLOGUE + "SELECT ?s ?t ?o WHERE { %s } ORDER BY ?s ?t ?o LIMIT 2000"
    assert select(live_server, query % driven) == select(live_server, query % plain)


@pytest.mark.parametrize("text", ["pabalst", "gimenes", "madona", "zzzz"])
def test_a_bound_score_is_the_same_joined_or_as_an_expression(live_server: Any, text: str) -> None:
    """``BIND(pvppfn:search(?x, …) AS ?score)`` after a pattern that binds ?x is answered by joining the matches
    with their scores (OPTIONAL VALUES); wrapped in COALESCE it is an expression over the same matches. Same rows,
    same scores."""
    query = (
        PROLOGUE
        + """SELECT ?s ?score WHERE { ?s a pvpp:Service ; dct:title ?t . FILTER(LANGMATCHES(LANG(?t), "lv"))
        BIND(%s AS ?score) } ORDER BY ?s"""
    )
    call = f'pvppfn:search(?s, "{text}", "lv")'
    joined = select(live_server, query % call)
    expression = select(live_server, query % f"COALESCE({call})")
    assert joined == expression
    scored = [r for r in joined if "score" in r]
    assert len(joined) >= 40 and (len(scored) > 0) == (text != "zzzz")


def test_the_text_must_be_known_before_the_query_runs(live_server: Any) -> None:
    """The matches are looked up before the query runs: a text bound by the data is a 400 with a message; a text
    variable nothing binds (the library query sent without its parameters) is unbound, so nothing matches."""
    data_bound = PROLOGUE + "SELECT ?s WHERE { ?s dct:title ?t . FILTER(pvppfn:search(?s, ?t)) }"
    r = httpx.post(live_server.url + "/sparql", data={"query": data_bound}, headers=JSON, timeout=60)
    assert r.status_code == 400 and "a variable a pattern binds" in r.text
    raw = (Path(__file__).parents[2] / "queries" / "search-services.rq").read_text(encoding="utf-8")
    assert select(live_server, raw) == []
    assert len(select(live_server, raw.replace("WHERE {", 'WHERE { VALUES (?text ?lang) { ("pabalst" "lv") }'))) == 10


def test_the_language_argument_means_what_the_apis_language_facet_means(live_server: Any) -> None:
    """``pvppfn:search(?s, "pabalst", "en")`` finds what ``/api/search?q=pabalst&lang=en`` finds: a resource whose
    Latvian title and language-neutral identifier match is a Latvian match, not an English one; an unknown
    language is a 400 in both."""
    query = PROLOGUE + 'SELECT ?s WHERE { ?s ?p ?o FILTER(pvppfn:search(?s, "pabalst", "%s")) }'

    def api(lang: str) -> set[str]:
        r = httpx.get(live_server.url + "/api/search", params={"q": "pabalst", "lang": lang, "size": 100})
        assert r.status_code == 200, r.text
        return {hit["iri"] for hit in r.json()["results"]}

    lv = {row["s"] for row in select(live_server, query % "lv")}
    en = {row["s"] for row in select(live_server, query % "en")}
    assert lv == api("lv") and en == api("en")
    assert "https://w3id.org/pvpp/id/service/vsaa/vecaku-pabalsts" in lv - en  # its identifier is no English
    r = httpx.get(live_server.url + "/sparql", params={"query": query % "de"})
    assert r.status_code == 400 and "language 'de' is not one of lv, en" in r.text
    assert httpx.get(live_server.url + "/api/search", params={"q": "pabalst", "lang": "de"}).status_code == 400


def test_the_function_namespace_resolves(live_server: Any) -> None:
    """``pvppfn:search`` dereferences as vocabulary terms do: RDF by Accept or extension, a page for browsers."""
    sd = URIRef("http://www.w3.org/ns/sparql-service-description#Function")
    search = URIRef("https://w3id.org/pvpp/function#search")
    for path, headers in (("/function", {"Accept": "text/turtle"}), ("/function.ttl", {})):
        r = httpx.get(live_server.url + path, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle"), path
        g = Graph().parse(data=r.text, format="turtle")
        assert (search, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), sd) in g
        assert {d.language for d in g.objects(search, URIRef("http://purl.org/dc/terms/description"))} == {"lv", "en"}
    page = httpx.get(live_server.url + "/function", headers={"Accept": "text/html", "Accept-Language": "lv"})
    assert page.status_code == 200 and '<section id="search">' in page.text and "teksta meklēšana" in page.text
    assert "</code> — text search</h2>" in httpx.get(live_server.url + "/function?lang=en").text
    assert httpx.get(live_server.url + "/function.pdf").status_code == 404


def test_the_language_is_read_as_langmatches_and_a_bad_call_is_a_400(live_server: Any) -> None:
    """A language tag is matched by its primary subtag (``lv-LV`` finds what ``lv`` finds, as langMatches reads
    it); a language the data is not written in, or an empty text, is a 400 naming the problem, whichever form the
    query takes (a group the matches drive, as here, or an expression)."""
    count = PROLOGUE + 'SELECT (COUNT(*) AS ?n) WHERE {{ ?s a pvpp:Service . FILTER(pvppfn:search(?s, "pabalsts"{})) }}'
    n = {lang: select(live_server, count.format(f', "{lang}"' if lang else ""))[0]["n"] for lang in ("lv", "lv-LV", "")}
    assert n["lv"] == n["lv-LV"] and int(n["lv"]) > 0 and int(n[""]) >= int(n["lv"])
    for call, needle in (
        ('"pabalsts", "de"', "language 'de' is not one of"),
        ('""', "the text to look for is empty"),
        ('"***"', "the text to look for is empty"),  # nothing to look for once folded
    ):
        query = PROLOGUE + f"SELECT ?s WHERE {{ ?s a pvpp:Service . FILTER(pvppfn:search(?s, {call})) }}"
        r = httpx.post(live_server.url + "/sparql", data={"query": query}, headers=JSON, timeout=60)
        assert r.status_code == 400 and needle in r.text, r.text


def test_the_search_api_reads_a_language_tag_as_the_function_does(live_server: Any) -> None:
    """/api/search's language facet takes a tag by its primary subtag too: lv-LV finds what lv finds."""
    url = live_server.url + "/api/search"
    lv, tagged = (httpx.get(url, params={"q": "pabalsts", "lang": t}, timeout=30) for t in ("lv", "lv-LV"))
    assert lv.status_code == tagged.status_code == 200 and lv.json()["total"] == tagged.json()["total"] > 0
