"""The seed's facts as the public answers them: each test asks ``/sparql`` of a running server and asserts the value
(issue 27, points 1 and 2). The seed is the VARAM training deck (``source/pvpp-p1-1-training``); each concept
cites the slide it comes from (``source/pvpp-p1-1-training/slide/…``).
"""

from __future__ import annotations

import httpx
import pytest

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
PREFIX concept: <https://w3id.org/pvpp/id/concept/>
PREFIX outcome: <https://w3id.org/pvpp/id/outcome/>
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


# -- point 2: the seed's concepts the graph lacked, one test per fact ----------------------------------------------
# IRI (under id/) → (lv label, en label, the seed slide it cites, words of the seed its lv definition quotes)
CONCEPTS = {
    "concept/service-management": (
        "Pakalpojumu pārvaldība",
        "Service management",
        "pakalpojumu-parvaldiba",
        "aktivitāšu kopums, lai nodrošinātu pakalpojumu rezultativitāti īstermiņā un ilgtermiņā",
    ),
    "outcome/satisfied-needs": (
        "Apmierinātas vajadzības",
        "Satisfied needs",
        "pakalpojumu-parvaldiba",
        "Rezultativitāte īstermiņā: apmierinātas vajadzības – kvantitāte, kvalitāte.",
    ),
    "outcome/development-innovation": (
        "Attīstība un inovācijas",
        "Development and innovation",
        "pakalpojumu-parvaldiba",
        "Rezultativitāte ilgtermiņā",
    ),
    "outcome/optimised-processes": (
        "Optimizēti un automatizēti procesi",
        "Optimised and automated processes",
        "pakalpojumu-parvaldiba",
        "Efektivitāte īstermiņā",
    ),
    "outcome/service-culture": (
        'Vērtības → "pakalpojumu kultūra", "saimnieka attieksme"',
        'Values → "service culture", "owner\'s attitude"',
        "pakalpojumu-parvaldiba",
        "Efektivitāte ilgtermiņā",
    ),
    "concept/service-management-system": (
        "Pakalpojumu pārvaldības sistēma",
        "Service management system",
        "pakalpojumu-parvaldibas-sistema-un-politika",
        "pakalpojumu pārvaldībai nepieciešamo sastāvdaļu kopums un to savstarpējā mijiedarbība",
    ),
    "concept/service-management-policy": (
        "Pakalpojumu pārvaldības politika",
        "Service management policy",
        "pakalpojumu-parvaldibas-sistema-un-politika",
        "ideju, principu, vadlīniju, noteikumu, mērķu un plānu kopums",
    ),
    "concept/service-environment": (
        "Pakalpojumu vide",
        "Service environment",
        "pakalpojumu-vide",
        "ietver pakalpojumu pārvaldības sistēmu un pakalpojumu pārvaldību",
    ),
    "concept/service-culture": (
        "Pakalpojumu kultūra",
        "Service culture",
        "savstarpeji-papildinosa-komanda",
        "pakalpojumu pārvaldības vispārējie principi",
    ),
    "concept/owners-attitude": (
        "Saimnieka attieksme",
        "Owner's attitude",
        "saimnieka-attieksme",
        '"veselajā saprātā"',
    ),
    "concept/service-management-competences": (
        "Pakalpojumu pārvaldības kompetences",
        "Service management competences",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "(zināšanas un prasmes)",
    ),
    "competence-provision/staff-training": (
        "Personāla apmācība",
        "Training staff",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "apmācot personālu",
    ),
    "competence-provision/competence-centres": (
        "Iekšēji kompetenču centri",
        "Internal competence centres",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "specializējoties (koncentrējot kompetences)",
    ),
    "competence-provision/outsourcing": (
        "Kompetences kā ārpakalpojums (virtuālās kompetences)",
        "Competences as an outsourced service (virtual competences)",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        '"virtuālās kompetences"',
    ),
    "competence-acquisition/self-study": (
        "Pašmācība",
        "Self-study",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "literatūra, kursu materiāli, interneta resursi, video materiāli",
    ),
    "competence-acquisition/internal-training": (
        '"Iekšēja" apmācība iestādē',
        '"Internal" training in the institution',
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "savstarpēja zināšanu un pieredzes apmaiņa",
    ),
    "competence-acquisition/varam-training": (
        "VARAM organizētas apmācības",
        "Training organised by VARAM",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "par savām izveidotajām politikām un vadlīnijām",
    ),
    "competence-acquisition/courses": (
        "Kursi klātienē un e-vidē",
        "Courses in person and online",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "Valsts administrācijas skolas organizēti kursi",
    ),
    "competence-acquisition/other": (
        "Citi veidi",
        "Other ways",
        "pakalpojumu-parvaldibas-lomu-kompetences",
        "semināri, konferences, studijas augstskolā",
    ),
    "concept/structure-optimisation": (
        "Pakalpojumu pārvaldības struktūras optimizēšana",
        "Optimising the structure of service management",
        "pakalpojumu-parvaldibas-strukturas-optimizesana",
        "piemēram, nozares ministrija",
    ),
    "concept/service-concentration": (
        "Pakalpojumu koncentrācija",
        "Service concentration",
        "pakalpojumu-parvaldibas-strukturas-optimizesana",
        "nododot pakalpojumus citai iestādei",
    ),
    "concept/service-competence-centre": (
        "Pakalpojumu sniegšanas kompetenču centrs",
        "Service-provision competence centre",
        "pakalpojumu-parvaldibas-strukturas-optimizesana",
        "Nozares vai pašvaldības pakalpojumu sniegšanai specializēta iestāde",
    ),
    "concept/resources-broad": (
        "Resursi plašākā nozīmē",
        "Resources in the broad sense",
        "resursi-un-spejas",
        "lieto šaurākā nozīmē, ietverot tikai digitālās tehnoloģijas un informāciju",
    ),
    "resource-kind/material-technical": (
        "Materiāli tehniskais nodrošinājums",
        "Material and technical means",
        "resursi-un-spejas",
        "transporta līdzekļi, ēkas, tehnoloģiskas iekārtas",
    ),
    "resource-kind/information": ("Informācija", "Information", "resursi-un-spejas", "resursu tips R1"),
    "resource-kind/energy": ("Enerģija", "Energy", "resursi-un-spejas", "Enerģija kā resursu veids"),
    "resource-kind/raw-materials": ("Izejvielas", "Raw materials", "resursi-un-spejas", "Izejvielas kā resursu veids"),
    "function/no-external-need": (
        "Darbības, kas neapmierina kāda cita vajadzības",
        "Activities that meet no one else's need",
        "pakalpojums",
        "darbības, kas neapmierina kāda cita vajadzības",
    ),
    "function/internal-needs": (
        'Darbības, kas apmierina pašas iestādes "iekšējas" vajadzības',
        'Activities that meet the institution\'s own "internal" needs',
        "pakalpojums",
        'pašas iestādes "iekšējas" vajadzības',
    ),
    "function/policy-making": (
        "Politiku, plānošanas dokumentu, vadlīniju un normatīvā regulējuma izveide",
        "Creating policies, planning documents, guidelines and regulation",
        "pakalpojumu-saraksta-optimizesana",
        "normatīvā regulējuma izveide",
    ),
    "function/control-supervision": (
        "Kontroles un uzraudzības funkciju īstenošana",
        "Control and supervision",
        "pakalpojumu-saraksta-optimizesana",
        "tā var būt atsevišķu iestāžu pamatdarbība",
    ),
    "concept/service-client": (
        "Pakalpojuma klients",
        "Service customer",  # MK 399's official English for "klients"
        "loma-pakalpojuma-sanemejs",
        "nosaka prasības pakalpojumam",
    ),
    "concept/service-user": (
        "Pakalpojuma lietotājs",
        "Service user",
        "loma-pakalpojuma-sanemejs",
        "lieto saņemto pakalpojumu",
    ),
}


@pytest.mark.parametrize("path", sorted(CONCEPTS))
def test_seed_concept_is_answered_in_lv_and_en(live_server: LiveServer, path: str) -> None:
    lv, en, slide, quoted = CONCEPTS[path]
    iri = ID + path
    assert label(live_server, iri, "lv") == lv
    assert label(live_server, iri, "en") == en
    definitions = {
        row["lang"]: row["d"]
        for row in select(live_server, f"SELECT ?d (lang(?d) AS ?lang) WHERE {{ <{iri}> skos:definition ?d }}")
    }
    assert set(definitions) == {"lv", "en"} and quoted in definitions["lv"]
    sources = values(live_server, f"SELECT ?s WHERE {{ <{iri}> dct:source ?s }}", "s")
    assert ID + f"source/pvpp-p1-1-training/slide/{slide}" in sources
    deck = values(live_server, f"SELECT ?d WHERE {{ slide:{slide} dct:isPartOf ?d ; dct:title ?t }}", "d")
    assert deck == {ID + "source/pvpp-p1-1-training"}


def test_service_management_has_four_outcomes(live_server: LiveServer) -> None:
    rows = select(
        live_server,
        """SELECT ?o ?aspect WHERE { <https://w3id.org/pvpp/id/concept/service-management> skos:related ?o .
             ?o skos:inScheme scheme:service-management-outcomes ; skos:notation ?aspect }""",
    )
    assert {r["o"].removeprefix(ID): r["aspect"] for r in rows} == {
        "outcome/satisfied-needs": "rezultativitāte īstermiņā",
        "outcome/development-innovation": "rezultativitāte ilgtermiņā",
        "outcome/optimised-processes": "efektivitāte īstermiņā",
        "outcome/service-culture": "efektivitāte ilgtermiņā",
    }


def test_service_management_system_has_the_four_components(live_server: LiveServer) -> None:
    rows = select(
        live_server,
        """SELECT ?n ?lv ?en WHERE { <https://w3id.org/pvpp/id/concept/service-management-system> dct:hasPart ?c .
             ?c skos:notation ?n ; skos:prefLabel ?lv, ?en FILTER(lang(?lv) = "lv" && lang(?en) = "en") }""",
    )
    assert sorted((r["n"], r["lv"], r["en"]) for r in rows) == [
        ("1", "Pakalpojumu pārvaldības pamatnosacījumi", "Fundamentals of service management"),
        ("2", "Pakalpojumu pārvaldības uzdevumi", "Service management tasks"),
        (
            "3",
            "Pakalpojumu izveides, sniegšanas un pilnveides nosacījumi",
            "Conditions for creating, delivering and improving services",
        ),
        (
            "4",
            "Pakalpojumiem un pakalpojumu pārvaldībai nepieciešamās spējas un resursi",
            "Capabilities and resources needed for services and service management",
        ),
    ]


def test_service_environment_comprises_the_system_and_service_management(live_server: LiveServer) -> None:
    parts = values(live_server, "SELECT ?p WHERE { concept:service-environment dct:hasPart ?p }", "p")
    assert parts == {ID + "concept/service-management-system", ID + "concept/service-management"}
    related = values(live_server, "SELECT ?r WHERE { concept:service-management-policy skos:related ?r }", "r")
    assert related == {ID + "concept/service-management-system"}


def test_ways_of_providing_and_acquiring_competences(live_server: LiveServer) -> None:
    def top(scheme: str) -> set[str]:
        q = f"SELECT ?c WHERE {{ scheme:{scheme} skos:hasTopConcept ?c }}"
        return {c.removeprefix(ID) for c in values(live_server, q, "c")}

    assert top("competence-provision") == {
        "competence-provision/staff-training",
        "competence-provision/competence-centres",
        "competence-provision/outsourcing",
    }
    assert top("competence-acquisition") == {
        f"competence-acquisition/{k}" for k in ("self-study", "internal-training", "varam-training", "courses", "other")
    }


def test_competence_centre_is_a_kind_of_service_concentration(live_server: LiveServer) -> None:
    chain = values(
        live_server,
        "SELECT ?b WHERE { concept:service-competence-centre skos:broader+ ?b }",
        "b",
    )
    assert chain == {ID + "concept/service-concentration", ID + "concept/structure-optimisation"}
    alt = values(
        live_server,
        'SELECT ?a WHERE { concept:service-competence-centre skos:altLabel ?a FILTER(lang(?a) = "lv") }',
        "a",
    )
    assert alt == {"Pakalpojumu kompetenču centrs"}


def test_resources_in_the_broad_sense_and_the_policys_narrow_sense(live_server: LiveServer) -> None:
    kinds = values(live_server, "SELECT ?k WHERE { scheme:resource-kinds-broad skos:hasTopConcept ?k }", "k")
    assert {k.removeprefix(ID) for k in kinds} == {
        "resource-kind/material-technical",
        "resource-kind/information",
        "resource-kind/energy",
        "resource-kind/raw-materials",
    }
    match = select(
        live_server,
        """SELECT ?r1 ?r2 WHERE { <https://w3id.org/pvpp/id/resource-kind/information> skos:exactMatch ?r1 .
             <https://w3id.org/pvpp/id/resource-kind/material-technical> skos:narrowMatch ?r2 }""",
    )
    assert match == [{"r1": ID + "resource-type/R1", "r2": ID + "resource-type/R2"}]


def test_activities_meeting_no_one_elses_need_are_not_services(live_server: LiveServer) -> None:
    tops = values(live_server, "SELECT ?t WHERE { scheme:non-service-functions skos:hasTopConcept ?t }", "t")
    assert tops == {ID + "function/no-external-need", ID + "function/support", ID + "function/administrative"}
    narrower = values(live_server, "SELECT ?n WHERE { fn:no-external-need skos:narrower ?n }", "n")
    assert narrower == {ID + "function/internal-needs"}


def test_owners_attitude_is_part_of_service_culture(live_server: LiveServer) -> None:
    broader = values(live_server, "SELECT ?b WHERE { concept:owners-attitude skos:broader ?b }", "b")
    assert broader == {ID + "concept/service-culture"}
    related = values(live_server, "SELECT ?r WHERE { outcome:service-culture skos:related ?r }", "r")
    assert related == {ID + "concept/service-culture", ID + "concept/owners-attitude"}
