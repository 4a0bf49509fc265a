"""The sample (data/sample/*.ttl) obeys the PVPP rules: kinds, owners, managers, recipients, portfolios, privacy."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from pvpp_kg.namespaces import ID, PREFIXES, PVPP
from pvpp_kg.policy.institutions import read_institutions

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE_FILES = sorted((DATA / "sample").glob("*.ttl"))
PUBLIC_FILES = SAMPLE_FILES + sorted(p for p in (DATA / "institutions").iterdir() if p.is_file())
FOAF = "http://xmlns.com/foaf/0.1/"
LEAVES = ("IndividualBenefitService", "GeneralBenefitService", "IndividualUseService", "SharedService")
EXAMPLE_NOTE = Literal("Piemērs (izdomāts)", lang="lv")


@pytest.fixture(scope="module")
def per_file() -> dict[str, Graph]:
    return {p.stem: Graph().parse(p, format="turtle") for p in SAMPLE_FILES}


@pytest.fixture(scope="module")
def sample(per_file: dict[str, Graph]) -> Graph:
    g = Graph()
    for part in per_file.values():
        g += part
    return g


@pytest.fixture(scope="module")
def institutions() -> Graph:
    return read_institutions(DATA / "institutions")


@pytest.fixture(scope="module")
def g(sample: Graph, institutions: Graph) -> Graph:
    """Sample plus registry, as the public default graph sees them (without the ontology)."""
    return sample + institutions


def select(g: Graph, query: str) -> list[tuple]:
    """Run SPARQL; ``pvppid:a/b`` (not a legal prefixed name: it has a slash) is expanded to a full IRI."""
    query = re.sub(r"pvppid:([\w/-]+)", lambda m: f"<{ID}{m[1]}>", query)
    return [tuple(row) for row in g.query(query, initNs=PREFIXES)]


SERVICE = (
    "?s a ?leaf . VALUES ?leaf { pvpp:IndividualBenefitService pvpp:GeneralBenefitService "
    "pvpp:IndividualUseService pvpp:SharedService }"
)


def services(g: Graph) -> set:
    return {row[0] for row in select(g, f"SELECT DISTINCT ?s WHERE {{ {SERVICE} }}")}


def test_at_least_40_services_from_8_owners(g: Graph) -> None:
    assert len(services(g)) >= 40
    owners = select(g, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {SERVICE} ?s pvpp:owner ?o }}")
    assert int(owners[0][0]) >= 8


def test_all_four_leaf_kinds_and_both_smart_and_simple(g: Graph) -> None:
    for leaf in LEAVES:
        assert any(g.subjects(URIRef(PREFIXES["rdf"] + "type"), PVPP[leaf])), leaf
    assert select(g, "SELECT ?s WHERE { ?s a pvpp:SmartService }")
    assert select(g, "SELECT ?s WHERE { ?s a pvpp:SimpleService }")


def test_each_service_has_one_leaf_kind_and_one_of_smart_simple(g: Graph) -> None:
    bad = select(
        g,
        f"""SELECT ?s WHERE {{ {SERVICE}
        {{ SELECT ?s (COUNT(DISTINCT ?k) AS ?nk) WHERE {{ ?s a ?k . VALUES ?k {{ pvpp:IndividualBenefitService
              pvpp:GeneralBenefitService pvpp:IndividualUseService pvpp:SharedService }} }} GROUP BY ?s }}
        {{ SELECT ?s (COUNT(DISTINCT ?m) AS ?nm) WHERE {{ ?s a ?m . VALUES ?m {{ pvpp:SmartService
              pvpp:SimpleService }} }} GROUP BY ?s }}
        FILTER(?nk != 1 || ?nm != 1) }}""",
    )
    assert bad == []


def test_every_service_is_described(g: Graph) -> None:
    missing = select(
        g,
        f"""SELECT ?s WHERE {{ {SERVICE}
        FILTER NOT EXISTS {{ ?s dct:identifier ?id ; dct:title ?tl, ?te ; dct:description ?d ;
                             pvpp:provider ?p ; pvpp:recipient ?r ; pvpp:satisfiesNeed ?n ;
                             pvpp:serviceLevelAgreement ?sla .
            FILTER(lang(?tl) = "lv" && lang(?te) = "en" && lang(?d) = "lv") }} }}""",
    )
    assert missing == []
    ids = select(
        g,
        f"SELECT ?id (COUNT(?s) AS ?n) WHERE {{ {SERVICE} ?s dct:identifier ?id }} GROUP BY ?id HAVING (COUNT(?s) > 1)",
    )
    assert ids == []


def test_every_service_has_exactly_one_owner_and_one_manager_post(g: Graph) -> None:
    bad = select(
        g,
        f"""SELECT ?s WHERE {{ {SERVICE}
        {{ SELECT ?s (COUNT(DISTINCT ?o) AS ?no) WHERE {{ ?s pvpp:owner ?o }} GROUP BY ?s }}
        {{ SELECT ?s (COUNT(DISTINCT ?m) AS ?nm) WHERE {{ ?s pvpp:serviceManager ?m }} GROUP BY ?s }}
        FILTER(?no != 1 || ?nm != 1) }}""",
    )
    assert bad == []
    assert len(select(g, f"SELECT DISTINCT ?s WHERE {{ {SERVICE} ?s pvpp:owner ?o ; pvpp:serviceManager ?m }}")) == len(
        services(g)
    )


def test_manager_post_is_a_ps_post_in_the_owner_with_one_holder(g: Graph) -> None:
    bad = select(
        g,
        f"""SELECT ?s WHERE {{ {SERVICE} ?s pvpp:owner ?o ; pvpp:serviceManager ?m .
        FILTER NOT EXISTS {{ ?m a org:Post ; org:postIn ?o ; org:role pvppid:role/PS ; org:heldBy ?h }} }}""",
    )
    assert bad == []


def test_every_post_has_exactly_one_holder_and_one_role(g: Graph) -> None:
    bad = select(
        g,
        """SELECT ?p WHERE { ?p a org:Post .
        OPTIONAL { SELECT ?p (COUNT(DISTINCT ?h) AS ?nh) (COUNT(DISTINCT ?r) AS ?nr)
                   WHERE { ?p org:heldBy ?h ; org:role ?r } GROUP BY ?p }
        FILTER(!BOUND(?nh) || ?nh != 1 || ?nr != 1) }""",
    )
    assert bad == []
    holders = {str(row[0]) for row in select(g, "SELECT DISTINCT ?h WHERE { ?p org:heldBy ?h }")}
    assert holders and all(re.fullmatch(rf"{ID}person/p-\d{{4}}", h) for h in holders)


def test_general_benefit_services_have_society_as_only_recipient(g: Graph) -> None:
    bad = select(
        g,
        """SELECT ?s ?r WHERE { ?s a pvpp:GeneralBenefitService ; pvpp:recipient ?r
                       FILTER(?r != pvppid:recipient-group/society) }""",
    )
    assert bad == []


def test_individual_benefit_services_have_individual_recipients(g: Graph) -> None:
    bad = select(
        g,
        """SELECT ?s ?r WHERE { ?s a pvpp:IndividualBenefitService ; pvpp:recipient ?r
        FILTER(?r NOT IN (pvppid:recipient-group/residents, pvppid:recipient-group/entrepreneurs)) }""",
    )
    assert bad == []


def test_inter_institutional_recipients_are_institutions(g: Graph) -> None:
    bad = select(
        g,
        """SELECT ?s ?r WHERE { ?s a ?k ; pvpp:recipient ?r .
        VALUES ?k { pvpp:IndividualUseService pvpp:SharedService }
        FILTER(?r != pvppid:recipient-group/institutions)
        FILTER NOT EXISTS { ?r a ?c . VALUES ?c { pvpp:Ministry pvpp:OtherInstitution pvpp:Novads
                                                  pvpp:StateCity } } }""",
    )
    assert bad == []


def test_referenced_institutions_exist_in_the_registry(g: Graph) -> None:
    dangling = select(
        g,
        """SELECT DISTINCT ?i WHERE {
        { ?x pvpp:owner|pvpp:provider|pvpp:resourceOwner|pvpp:resourceUser|org:postIn ?i }
        UNION { ?x pvpp:recipient ?i FILTER(STRSTARTS(STR(?i), STR(pvppid:institution/))) }
        FILTER NOT EXISTS { ?i a ?c . VALUES ?c { pvpp:Ministry pvpp:OtherInstitution pvpp:Novads
                                                  pvpp:StateCity } }
        }""".replace("pvppid:institution/", f"<{ID}institution/>"),
    )
    assert dangling == []


def test_current_municipalities_only(g: Graph) -> None:
    ended = select(g, "SELECT ?x ?i WHERE { ?x pvpp:owner|pvpp:provider|pvpp:recipient ?i . ?i pvpp:validUntil ?u }")
    assert ended == []


def test_needs_life_situations_resources_slas_are_defined(g: Graph) -> None:
    dangling = select(
        g,
        """SELECT ?x WHERE {
        { ?s pvpp:satisfiesNeed ?x FILTER NOT EXISTS { ?x a pvpp:Need ; skos:prefLabel ?l FILTER(lang(?l) = "lv") } }
        UNION { ?s pvpp:lifeSituation ?x FILTER NOT EXISTS { ?x a pvpp:LifeSituation ; dct:title ?t } }
        UNION { ?s pvpp:usesResource ?x FILTER NOT EXISTS { ?x a ?rc . VALUES ?rc { pvpp:DigitalTechnology
                                                                                 pvpp:Information } } }
        UNION { ?s pvpp:serviceLevelAgreement ?x FILTER NOT EXISTS { ?x a pvpp:ServiceLevelAgreement } } }""",
    )
    assert dangling == []
    assert select(g, "SELECT ?s WHERE { ?s pvpp:lifeSituation ?l }")


def test_sla_values_are_typed(g: Graph) -> None:
    xsd = PREFIXES["xsd"]
    for sla in g.subjects(URIRef(PREFIXES["rdf"] + "type"), PVPP.ServiceLevelAgreement):
        assert len(list(g.objects(sla, PVPP.serviceHours))) == 1
        (avail,) = g.objects(sla, PVPP.availabilityTarget)
        assert avail.datatype == URIRef(xsd + "decimal") and 0 < float(avail) <= 100
        for prop in (PVPP.reactionTime, PVPP.resolutionTime):
            for value in g.objects(sla, prop):
                assert value.datatype == URIRef(xsd + "duration")
                assert re.fullmatch(r"P(\d+D)?(T(\d+H)?(\d+M)?)?", str(value)), value


def test_every_resource_has_one_owner_and_one_manager_post(g: Graph) -> None:
    bad = select(
        g,
        """SELECT ?r WHERE { ?r a ?rc . VALUES ?rc { pvpp:DigitalTechnology pvpp:Information }
        OPTIONAL { SELECT ?r (COUNT(DISTINCT ?o) AS ?no) (COUNT(DISTINCT ?m) AS ?nm)
                   WHERE { ?r pvpp:resourceOwner ?o ; pvpp:resourceManager ?m } GROUP BY ?r }
        FILTER(!BOUND(?no) || ?no != 1 || ?nm != 1) }""",
    )
    assert bad == []
    wrong_post = select(
        g,
        """SELECT ?r WHERE { ?r pvpp:resourceOwner ?o ; pvpp:resourceManager ?m
        FILTER NOT EXISTS { ?m a org:Post ; org:postIn ?o ; org:role pvppid:role/RS ; org:heldBy ?h } }""",
    )
    assert wrong_post == []
    assert select(g, "SELECT ?r WHERE { ?r a pvpp:DigitalTechnology }")
    assert select(g, "SELECT ?r WHERE { ?r a pvpp:Information }")
    assert select(g, "SELECT ?r WHERE { ?r pvpp:resourceUser ?u }")


@pytest.mark.parametrize(
    ("owns", "manager", "role"),
    [
        ("?s pvpp:owner ?i", "pvpp:servicePortfolioManager", "IPKS"),
        ("?s pvpp:resourceOwner ?i", "pvpp:resourcePortfolioManager", "IRKS"),
    ],
)
def test_one_portfolio_manager_per_owning_institution(g: Graph, owns: str, manager: str, role: str) -> None:
    owners = {row[0] for row in select(g, f"SELECT DISTINCT ?i WHERE {{ {owns} }}")}
    managed = select(
        g,
        f"""SELECT ?i (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?i {manager} ?p .
        ?p a org:Post ; org:postIn ?i ; org:role pvppid:role/{role} ; org:heldBy ?h }} GROUP BY ?i""",
    )
    counts = {row[0]: int(row[1]) for row in managed}
    assert owners and set(counts) == owners
    assert set(counts.values()) == {1}
    posts_per_institution = select(
        g,
        f"""SELECT ?i (COUNT(?p) AS ?n) WHERE {{
        ?p org:role pvppid:role/{role} ; org:postIn ?i }} GROUP BY ?i HAVING (COUNT(?p) > 1)""",
    )
    assert posts_per_institution == []


def test_an_institution_without_services_is_in_the_no_services_track(g: Graph) -> None:
    rows = select(
        g,
        """SELECT ?i WHERE { ?i org:classification pvppid:track/no-services
        FILTER NOT EXISTS { ?s pvpp:owner ?i } FILTER NOT EXISTS { ?i pvpp:servicePortfolioManager ?p } }""",
    )
    assert rows
    inconsistent = select(
        g,
        """SELECT ?i WHERE { ?i org:classification pvppid:track/services
                                FILTER NOT EXISTS { ?s pvpp:owner ?i } }""",
    )
    assert inconsistent == []


def test_each_file_holds_only_its_institution_data(per_file: dict[str, Graph]) -> None:
    shared_prefixes = (f"{ID}need/", f"{ID}life-situation/")
    seen_shared: dict[URIRef, str] = {}
    for key, part in per_file.items():
        own = (f"{ID}institution/{key}",)
        own_prefixes = tuple(f"{ID}{kind}/{key}/" for kind in ("service", "post", "resource", "sla"))
        for s in set(part.subjects()):
            iri = str(s)
            assert iri in own or iri.startswith(own_prefixes) or iri.startswith(shared_prefixes), (key, iri)
            if iri.startswith(shared_prefixes):
                assert s not in seen_shared, f"{iri} defined in {seen_shared.get(s)} and {key}"
                seen_shared[s] = key
        for _, o in part.subject_objects(PVPP.owner):
            assert str(o) == own[0]
        for _, o in part.subject_objects(PVPP.resourceOwner):
            assert str(o) == own[0]


def test_real_services_cite_a_source_invented_ones_are_marked(g: Graph) -> None:
    unmarked = select(
        g,
        f"""SELECT ?s WHERE {{ {SERVICE}
        FILTER NOT EXISTS {{ ?s dct:source ?src }}
        FILTER NOT EXISTS {{ ?s skos:editorialNote {EXAMPLE_NOTE.n3()} }} }}""",
    )
    assert unmarked == []
    both = select(g, f"SELECT ?s WHERE {{ ?s dct:source ?src ; skos:editorialNote {EXAMPLE_NOTE.n3()} }}")
    assert both == []


@pytest.mark.parametrize("path", PUBLIC_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_personal_data_in_public_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for forbidden in ("foaf:name", "foaf:mbox", f"{FOAF}name", f"{FOAF}mbox", "mailto:", "Persona "):
        assert forbidden not in text, f"{path.name} contains {forbidden}"


def test_no_person_described_in_public_graphs(g: Graph) -> None:
    described = select(g, f'SELECT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ID}person/")) }}')
    assert described == []
    assert not list(g.triples((None, URIRef(FOAF + "name"), None)))
    assert not list(g.triples((None, URIRef(FOAF + "mbox"), None)))


def test_restricted_people_cover_every_holder(g: Graph) -> None:
    people = Graph().parse(DATA / "restricted" / "people.ttl", format="turtle")
    holders = {row[0] for row in select(g, "SELECT DISTINCT ?h WHERE { ?p org:heldBy ?h }")}
    persons = set(people.subjects(URIRef(PREFIXES["rdf"] + "type"), URIRef(FOAF + "Person")))
    assert holders == persons
    for person in persons:
        (name,) = people.objects(person, URIRef(FOAF + "name"))
        assert re.fullmatch(r"Persona \d{4}", str(name))
        (mbox,) = people.objects(person, URIRef(FOAF + "mbox"))
        assert str(mbox).startswith("mailto:") and str(mbox).endswith("@example.lv")


def test_literals_are_nfc(sample: Graph) -> None:
    for literal in sample.objects():
        if isinstance(literal, Literal):
            assert unicodedata.is_normalized("NFC", str(literal)), literal
