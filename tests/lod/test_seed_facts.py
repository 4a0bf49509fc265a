"""The seed's facts as the public answers them: each test asks ``/sparql`` of a running server and asserts the value
(issue 27, points 1 and 2). The seed is the VARAM training deck (``source/pvpp-p1-1-training``); each concept
cites the slide it comes from (``source/pvpp-p1-1-training/slide/…``).
"""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer

ID = "https://w3id.org/pvpp/id/"
PREFIXES = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX fn: <https://w3id.org/pvpp/id/function/>
PREFIX scheme: <https://w3id.org/pvpp/id/scheme/>
PREFIX slide: <https://w3id.org/pvpp/id/source/pvpp-p1-1-training/slide/>
"""


def select(server: LiveServer, query: str) -> list[dict[str, str]]:
    r = httpx.get(
        server.url + "/sparql",
        params={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in row.items()} for row in r.json()["results"]["bindings"]]


def values(server: LiveServer, query: str, var: str) -> set[str]:
    return {row[var] for row in select(server, query)}


def label(server: LiveServer, iri: str, lang: str) -> str:
    rows = values(server, f'SELECT ?l WHERE {{ <{iri}> skos:prefLabel ?l FILTER(lang(?l) = "{lang}") }}', "l")
    assert len(rows) == 1, rows
    return rows.pop()


# -- point 1: communication with the public is an administrative function, not beside them -----------------------
def test_communication_is_one_of_the_administrative_functions(live_server: LiveServer) -> None:
    narrower = values(live_server, "SELECT ?n WHERE { fn:administrative skos:narrower ?n }", "n")
    assert narrower == {
        ID + "function/policy-making",
        ID + "function/control-supervision",
        ID + "function/communication",
    }
    assert values(live_server, "SELECT ?b WHERE { fn:communication skos:broader ?b }", "b") == {
        ID + "function/administrative"
    }
    tops = values(live_server, "SELECT ?t WHERE { scheme:non-service-functions skos:hasTopConcept ?t }", "t")
    assert tops >= {ID + "function/support", ID + "function/administrative"}
    assert ID + "function/communication" not in tops
    assert not select(live_server, "SELECT * WHERE { fn:communication skos:topConceptOf ?s }")
    assert label(live_server, ID + "function/communication", "lv") == "Saziņa ar sabiedrību"
    assert label(live_server, ID + "function/communication", "en") == "Communication with the public"
    definition = values(
        live_server, 'SELECT ?d WHERE { fn:communication skos:definition ?d FILTER(lang(?d) = "lv") }', "d"
    ).pop()
    assert "atbildes uz vēstulēm, iesniegumiem un sūdzībām, vispārējas informācijas sniegšana" in definition
    sources = values(live_server, "SELECT ?s WHERE { fn:communication dct:source ?s }", "s")
    assert sources == {
        ID + "source/pvpp-p1-1-training/slide/pakalpojums",
        ID + "source/pvpp-p1-1-training/slide/pakalpojumu-saraksta-optimizesana",
    }
    deck = values(live_server, "SELECT ?d WHERE { slide:pakalpojums dct:isPartOf ?d }", "d")
    assert deck == {ID + "source/pvpp-p1-1-training"}


def test_sample_data_is_marked_illustrative_in_the_data(live_server: LiveServer) -> None:
    counts = {
        row["kind"]: int(row["n"])
        for row in select(
            live_server,
            """SELECT ?kind (COUNT(DISTINCT ?x) AS ?n) WHERE {
                 VALUES (?class ?kind) { (org:Post "post") (pvpp:Service "service") (pvpp:ServiceLevelAgreement "sla")
                                         (pvpp:Resource "resource") (pvpp:Need "need") }
                 ?x a ?class ; pvpp:illustrative true } GROUP BY ?kind""",
        )
    }
    assert counts == {"post": 65, "service": 49, "sla": 49, "resource": 22, "need": 37}
    unmarked = select(
        live_server,
        """SELECT ?x WHERE { VALUES ?class { org:Post pvpp:Service pvpp:ServiceLevelAgreement pvpp:Resource pvpp:Need }
                             ?x a ?class FILTER NOT EXISTS { ?x pvpp:illustrative true } }""",
    )
    assert unmarked == []
    # policy facts are never marked: roles, tasks, the non-service functions, institutions
    marked_policy = select(
        live_server,
        """SELECT ?x WHERE { VALUES ?x { <https://w3id.org/pvpp/id/role/IPKS> <https://w3id.org/pvpp/id/task/PU2-21>
                                         fn:communication <https://w3id.org/pvpp/id/institution/csp> }
                             ?x pvpp:illustrative ?v }""",
    )
    assert marked_policy == []
    assert label(live_server, "https://w3id.org/pvpp/ontology#illustrative", "lv") == "ilustratīvs piemērs"
