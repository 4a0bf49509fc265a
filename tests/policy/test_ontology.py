"""The ontology and the reference vocabularies: well-formed, fully labelled, self-contained, counted."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

from pvpp_kg.namespaces import ID, PVPP
from pvpp_kg.policy.matrix import read_matrix

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY = ROOT / "ontology" / "pvpp.ttl"
REFERENCE = ROOT / "data" / "reference"
ONT = URIRef("https://w3id.org/pvpp/ontology")
BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
CPSV = Namespace("http://purl.org/vocab/cpsv#")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """Every file of ontology/, as the loader reads them (pvpp.ttl and the compliance terms beside it)."""
    g = Graph()
    for p in sorted(ONTOLOGY.parent.glob("*.ttl")):
        g.parse(p)
    return g


@pytest.fixture(scope="module")
def reference() -> Graph:
    g = Graph()
    for p in sorted(REFERENCE.glob("*.ttl")):
        g.parse(p)
    return g + read_matrix(REFERENCE / "responsibility-matrix.csv")


@pytest.fixture(scope="module")
def both(ontology: Graph, reference: Graph) -> Graph:
    return ontology + reference


def declared(ontology: Graph) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in ontology.subjects(RDF.type, t) if isinstance(s, URIRef)}


def langs(g: Graph, s: URIRef, p: URIRef) -> set[str | None]:
    return {o.language for o in g.objects(s, p) if isinstance(o, Literal)}


def test_header(ontology: Graph) -> None:
    assert (ONT, RDF.type, OWL.Ontology) in ontology
    assert (ONT, OWL.versionIRI, URIRef("https://w3id.org/pvpp/ontology/0.1.0")) in ontology
    assert ontology.value(ONT, OWL.versionInfo) is not None
    assert (ONT, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in ontology
    assert {"lv", "en"} <= langs(ontology, ONT, DCTERMS.title)
    assert {"lv", "en"} <= langs(ontology, ONT, DCTERMS.description)
    assert ontology.value(ONT, DCTERMS.publisher) is not None
    assert ontology.value(ONT, DCTERMS.source) is not None
    assert not list(ontology.objects(ONT, OWL.imports)), "the ontology must load without the network"


def test_every_pvpp_term_is_labelled_defined_and_sourced(ontology: Graph) -> None:
    terms = [t for t in declared(ontology) if t.startswith(str(PVPP))]
    assert len(terms) > 60
    problems = []
    for t in sorted(terms):
        for p in (RDFS.label, SKOS.prefLabel):
            if not {"lv", "en"} <= langs(ontology, t, p):
                problems.append(f"{t}: {p} in lv and en")
        if not list(ontology.objects(t, SKOS.definition)):
            problems.append(f"{t}: no skos:definition")
        if not list(ontology.objects(t, DCTERMS.source)):
            problems.append(f"{t}: no dct:source")
    assert not problems, "\n".join(problems)


def test_external_terms_are_declared_with_a_label(ontology: Graph) -> None:
    for t in declared(ontology):
        if not t.startswith(str(PVPP)):
            assert "en" in langs(ontology, t, RDFS.label), t


def test_every_predicate_and_class_used_is_declared(both: Graph, ontology: Graph) -> None:
    known = declared(ontology)

    def ok(x: URIRef) -> bool:
        return x in known or str(x).startswith(BUILTIN)

    used_predicates = {p for p in both.predicates() if isinstance(p, URIRef)}
    used_classes = {o for o in both.objects(None, RDF.type) if isinstance(o, URIRef)}
    for p in (RDFS.subClassOf, RDFS.domain, RDFS.range, OWL.disjointWith, OWL.someValuesFrom):
        used_classes |= {o for o in both.objects(None, p) if isinstance(o, URIRef)}
    for p in (RDFS.subPropertyOf, OWL.inverseOf, OWL.onProperty):
        used_predicates |= {o for o in both.objects(None, p) if isinstance(o, URIRef)}
    undeclared = sorted(str(x) for x in used_predicates | used_classes if not ok(x))
    assert not undeclared, undeclared


def test_no_dangling_pvpp_iris(both: Graph, ontology: Graph) -> None:
    """A pvpp: IRI anywhere (e.g. a typo in rdfs:seeAlso) must be a declared term."""
    known = declared(ontology)
    used = {x for t in both for x in t if isinstance(x, URIRef) and x.startswith(str(PVPP))}
    assert not sorted(used - known)


def test_concepts_are_labelled_and_in_a_scheme(reference: Graph) -> None:
    problems = []
    schemes = set(reference.subjects(RDF.type, SKOS.ConceptScheme))
    for c in set(reference.subjects(RDF.type, SKOS.Concept)):
        if not {"lv", "en"} <= langs(reference, c, SKOS.prefLabel):
            problems.append(f"{c}: prefLabel lv+en")
        if not set(reference.objects(c, SKOS.inScheme)) & schemes:
            problems.append(f"{c}: not in a declared scheme")
        if not list(reference.objects(c, DCTERMS.source)):
            problems.append(f"{c}: no dct:source")
    for s in schemes:
        if not {"lv", "en"} <= langs(reference, s, SKOS.prefLabel):
            problems.append(f"{s}: scheme prefLabel lv+en")
        for top in reference.objects(s, SKOS.hasTopConcept):
            if (top, SKOS.topConceptOf, s) not in reference:
                problems.append(f"{top}: hasTopConcept without topConceptOf")
    assert not problems, "\n".join(problems)


def test_at_most_one_pref_label_per_language(both: Graph) -> None:
    seen: dict[tuple[URIRef, str | None], int] = {}
    for s, o in both.subject_objects(SKOS.prefLabel):
        if isinstance(o, Literal):
            seen[s, o.language] = seen.get((s, o.language), 0) + 1
    assert not [k for k, n in seen.items() if n > 1]


def test_literals_are_nfc(both: Graph) -> None:
    bad = [str(o) for o in both.objects() if isinstance(o, Literal) and unicodedata.normalize("NFC", str(o)) != str(o)]
    assert not bad


def test_official_spelling_starpiestazu(both: Graph) -> None:
    texts = [str(o) for o in both.objects() if isinstance(o, Literal)]
    assert any("starpiestāžu" in t.lower() for t in texts)
    for s, o in both.subject_objects(SKOS.prefLabel):
        assert "starpvietāžu" not in str(o).lower(), s
    for s, o in both.subject_objects(RDFS.label):
        assert "starpvietāžu" not in str(o).lower(), s


def test_service_alignment(ontology: Graph) -> None:
    assert (PVPP.Service, RDFS.subClassOf, CPSV.PublicService) in ontology
    assert not list(ontology.triples((None, OWL.equivalentClass, CPSV.PublicService)))
    assert not list(ontology.triples((CPSV.PublicService, OWL.equivalentClass, None)))


def test_leaf_service_kinds(ontology: Graph, reference: Graph) -> None:
    leaves = {PVPP.IndividualBenefitService, PVPP.GeneralBenefitService, PVPP.IndividualUseService, PVPP.SharedService}
    for leaf in leaves:
        kind = ontology.value(leaf, PVPP.kindConcept)
        assert kind is not None and (kind, SKOS.inScheme, ID["scheme/service-kinds"]) in reference
        assert reference.value(kind, SKOS.broader) is not None
    kinds = set(reference.subjects(SKOS.inScheme, ID["scheme/service-kinds"]))
    assert len(kinds) == 6
    assert len({k for k in kinds if reference.value(k, SKOS.broader) is not None}) == 4
    disjoint = [
        m
        for d in ontology.subjects(RDF.type, OWL.AllDisjointClasses)
        for m in [set(ontology.items(ontology.value(d, OWL.members)))]
        if leaves <= m
    ]
    assert disjoint, "the four leaf kinds must be pairwise disjoint"


def test_participation_roles(ontology: Graph) -> None:
    expected = {
        "owner": "PS",
        "provider": "PSn",
        "recipient": "PSa",
        "resourceOwner": "RS",
        "resourceUser": "RL",
        "servicePortfolioManager": "IPKS",
        "resourcePortfolioManager": "IRKS",
    }
    got = {
        str(p).removeprefix(str(PVPP)): str(r).removeprefix(str(ID["role/"]))
        for p, r in ontology.subject_objects(PVPP.participationRole)
    }
    assert got == expected


def test_inverses(ontology: Graph) -> None:
    for p, inv in [
        ("owner", "ownsService"),
        ("serviceManager", "managesService"),
        ("provider", "providesService"),
        ("resourceOwner", "ownsResource"),
        ("resourceManager", "managesResource"),
    ]:
        assert (PVPP[p], OWL.inverseOf, PVPP[inv]) in ontology


def test_counts(reference: Graph) -> None:
    roles = set(reference.subjects(SKOS.inScheme, ID["scheme/roles"]))
    assert len(roles) == 10
    assert all((r, RDF.type, PVPP.Role) in reference and (r, RDF.type, SKOS.Concept) in reference for r in roles)
    assert len(set(reference.objects(ID["scheme/scales"], SKOS.hasTopConcept))) == 4
    assert len(set(reference.subjects(SKOS.inScheme, ID["scheme/levels"]))) == 3
    tasks = set(reference.subjects(RDF.type, PVPP.ManagementTask))
    by_group = {
        g: len({t for t in tasks if reference.value(t, PVPP.taskGroup) == ID[f"taskgroup/{g}"]})
        for g in ("PU1", "PU2", "PU3")
    }
    assert by_group == {"PU1": 5, "PU2": 23, "PU3": 4}
    assert len(set(reference.subjects(RDF.type, PVPP.GeneralPrinciple))) == 7
    assert len(set(reference.subjects(RDF.type, PVPP.ManagementSystemComponent))) == 4
    assert len(set(reference.subjects(SKOS.inScheme, ID["scheme/capabilities"]))) == 9


def test_roles_and_tasks_detail(reference: Graph) -> None:
    ipks = ID["role/IPKS"]
    assert {str(n) for n in reference.objects(ipks, SKOS.notation)} == {"R4", "IPKS"}
    assert Literal("Pakalpojumu kopuma vadītājs", lang="lv") in set(reference.objects(ipks, PVPP.performerTitle))
    assert set(reference.objects(ipks, PVPP.level)) == {ID["level/policy"], ID["level/core"]}
    t = ID["task/PU2-21"]
    assert reference.value(t, SKOS.notation) == Literal("PU2-21")
    assert str(reference.value(t, SKOS.prefLabel)) in {
        "Iespējami ātra pakalpojumu pieejamības atjaunošana (Incidentu pārvaldība)",
        "Restoring service availability as quickly as possible (incident management)",
    }
    assert int(reference.value(t, PVPP.slideOrder)) == 15
    pu3 = ID["task/PU3-1"]
    assert Literal("PU3-1 (nosaukums nav zināms)", lang="lv") in set(reference.objects(pu3, SKOS.prefLabel))
    assert Literal("PU3-1 (name not known)", lang="en") in set(reference.objects(pu3, SKOS.prefLabel))
    assert list(reference.objects(pu3, SKOS.editorialNote))
