"""pvpp_kg.shacl reports what pyshacl reports, on the project's shapes and on corner cases, so the two cannot drift.

pyshacl (inference none, advanced: SPARQL targets and constraints too) runs the *whole* shapes graph of each layer
over the data ``Validator.merge`` builds (its default graph: the submission, materialised, with the reference
data); every result (focus, path, value, shape, component, severity) must equal the engine's, both for the nodes
the validator reports on (``only=``) and for all focus nodes, on every shape fixture and on the sample data.
Where the shapes graph supplies messages, they must be equal too. A synthetic shapes graph covers the components
and corner cases the real shapes do not use; the few rows where pyshacl departs from the SHACL specification are
named and asserted one by one. The generated-dataset comparison is in test_shacl_differential.py.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from pvpp_kg import shacl
from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.shacl.terms import to_rdflib
from pvpp_kg.validation.parse import parse_files
from pvpp_kg.validation.validator import POLICY_LAYERS, Validator, validator_for
from tests.shacl_compare import (
    MINE,
    Row,
    canonical_path,
    data_graph,
    difference,
    engine_messages,
    engine_rows,
    mine,
    pyshacl_messages,
    pyshacl_rows,
    run_pyshacl,
    shapes_with_messages,
)

TESTS = Path(__file__).parents[1]
SHAPES = TESTS / "data" / "shapes"
FIXTURES = sorted(p.name for p in SHAPES.glob("*.ttl"))
EXPECTED = {
    row["fixture"]: row for row in csv.DictReader((SHAPES / "expected.csv").read_text(encoding="utf-8").splitlines())
}
SAMPLE = sorted((TESTS.parent / "data" / "sample").glob("*.ttl"))
PVPPSH = "https://w3id.org/pvpp/shapes#"
BASE = "https://w3id.org/pvpp/id/"


def _shapes(validator: Validator, layer: str) -> Graph:
    return validator.pvpp_shapes if layer == "pvpp" else validator.cpsv_shapes


def _compare(validator: Validator, data: Graph) -> dict[str, Counter[Row]]:
    """Per layer, assert that the engine reports exactly what pyshacl reports, on the validator's nodes and on all
    focus nodes (rows and, where the shapes give them, messages); return the rows on the validator's nodes."""
    store, count = validator.merge(data)
    ours = mine(store)
    assert len(ours) == count

    def keep(focus: Node) -> bool:
        return focus in ours

    full = data_graph(store)
    found = {}
    for layer in POLICY_LAYERS:
        compiled, shapes = validator.engines[layer], _shapes(validator, layer)
        reference = run_pyshacl(full, shapes)
        everything = shacl.validate(store, compiled)
        restricted = shacl.validate(store, compiled, only=MINE)
        native, expected = engine_rows(restricted), pyshacl_rows(reference, shapes, keep)
        assert native == expected, f"{layer}, on the validator's nodes:\n{difference(native, expected)}"
        native_all, expected_all = engine_rows(everything), pyshacl_rows(reference, shapes)
        assert native_all == expected_all, f"{layer}, all focus nodes:\n{difference(native_all, expected_all)}"
        with_messages = shapes_with_messages(compiled)
        assert engine_messages(everything, with_messages) == pyshacl_messages(reference, with_messages), layer
        found[layer] = native
    return found


def _keys(rows: Counter[Row]) -> set[tuple[str, str, str]]:
    """(focus, path, severity) of the rows, as expected.csv writes them (a sequence or other complex path as
    "(path)", as the report's rows name it)."""

    def path(p: str | None) -> str:
        return "" if p is None else "(path)" if p.startswith("[") else p.strip("<>")

    return {(str(r[0]), path(r[1]), str(r[5]).rsplit("#", 1)[-1]) for r in rows}


@pytest.fixture(scope="module")
def validator(settings: Settings) -> Validator:
    return validator_for(settings.model_copy(update={"max_services_per_person": 3}))  # the workload fires


def test_the_real_shapes_compile(validator: Validator) -> None:
    """Both layers compile (no ShapesError), with every component the policy relies on, SPARQL included."""
    for layer in POLICY_LAYERS:
        assert shacl.ShapesGraph(_shapes(validator, layer)).shapes.keys() == validator.engines[layer].shapes.keys()
    pvpp, cpsv = validator.engines["pvpp"], validator.engines["cpsv-ap"]
    assert sum(len(s.constraints) for s in cpsv.shapes.values()) > 100
    assert sum(len(s.constraints) for s in pvpp.shapes.values()) > 40
    components = {
        c.component for layer in POLICY_LAYERS for s in validator.engines[layer].shapes.values() for c in s.constraints
    }
    assert {
        SH.MinCountConstraintComponent,
        SH.ClassConstraintComponent,
        SH.DatatypeConstraintComponent,
        SH.OrConstraintComponent,
        SH.NotConstraintComponent,
        SH.LessThanOrEqualsConstraintComponent,
        SH.UniqueLangConstraintComponent,
        SH.QualifiedMaxCountConstraintComponent,
        SH.SPARQLConstraintComponent,
    } <= components
    # the PVPP layer's SPARQL parts: 6 shapes with SPARQL targets, ten sh:sparql constraints, one SPARQL component
    targeted = {str(s.node).removeprefix(PVPPSH) for s in pvpp.shapes.values() if s.targets.sparql}
    assert targeted == {
        "NationalLeadScale",
        "SectorLeadScale",
        "MunicipalLeadScale",
        "RecipientNeverResponsible",
        "UniqueIdentifierShape",
        "PersonWorkloadShape",
    }
    sparql = sorted(
        (str(s.node).removeprefix(PVPPSH), c.kind)
        for s in pvpp.shapes.values()
        for c in s.constraints
        if c.kind in ("sparql", "component")
    )
    assert sparql == [
        ("PersonWorkloadShape", "component"),
        ("ResourceManagerPost", "sparql"),  # its post in the owner institution, in role RS
        ("ResourceManagerPost", "sparql"),
        ("ResourcePortfolioManagerPost", "sparql"),  # the institution's own post, in role IRKS
        ("ServiceManagerPost", "sparql"),  # its post in the owner institution, in role PS
        ("ServiceManagerPost", "sparql"),
        ("ServiceOwnAgreement", "sparql"),  # an agreement of its own institution that it describes
        ("ServiceOwnResource", "sparql"),  # a resource of its own institution that it describes
        ("ServicePortfolioManagerPost", "sparql"),  # the institution's own post, in role IPKS
        ("UniqueIdentifierShape", "sparql"),
        ("VariantOrStepShape", "sparql"),
    ]
    assert not any(s.targets.sparql for s in cpsv.shapes.values())


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_equals_pyshacl(settings: Settings, fixture: str) -> None:
    row = EXPECTED.get(fixture, {"settings": ""})
    overrides = dict(item.split("=") for item in row["settings"].split(";") if item)
    validator = validator_for(settings.model_copy(update={k: int(v) for k, v in overrides.items()}))
    found = _compare(validator, parse_files([SHAPES / fixture], settings))
    if fixture == "base.ttl":
        assert found == {"pvpp": Counter(), "cpsv-ap": Counter()}
    else:  # the fixture's own violation is among the (equal) results; a path of several steps is "(path)" here
        path = row["path"] if row["path"].startswith("http") or not row["path"] else "(path)"
        assert (row["focus"], path, row["severity"]) in _keys(found[row["layer"]]), found


def test_known_fixtures_give_their_component(validator: Validator, settings: Settings) -> None:
    cases = {
        "sla-availability-out-of-range.ttl": SH.MaxInclusiveConstraintComponent,
        "validity-reversed.ttl": SH.LessThanOrEqualsConstraintComponent,
        "date-invalid.ttl": SH.DatatypeConstraintComponent,
        "service-leaf-kind-two.ttl": SH.QualifiedMaxCountConstraintComponent,
        "inter-institutional-recipient-not-institution.ttl": SH.OrConstraintComponent,
        "support-function.ttl": SH.NotConstraintComponent,
        "cpsv-identifier-missing.ttl": SH.MinCountConstraintComponent,
        "identifier-duplicate.ttl": SH.SPARQLConstraintComponent,
        "person-workload.ttl": URIRef(PVPPSH + "MaxManagedServicesComponent"),
    }
    for fixture, component in cases.items():
        expected = EXPECTED[fixture]
        store, _ = validator.merge(parse_files([SHAPES / fixture], settings))
        report = shacl.validate(store, validator.engines[expected["layer"]], only=MINE)
        hits = [
            r
            for r in report.results
            if str(to_rdflib(r.focus)) == expected["focus"]
            and (str(r.path.node) if isinstance(r.path, shacl.Path) else str(r.path or "")) == expected["path"]
        ]
        assert [r.component for r in hits] == [component], fixture
    # CPSV-AP shapes carry no sh:message: the validator writes its own, in both languages
    data = parse_files([SHAPES / "cpsv-identifier-missing.ttl"], settings)
    [result] = [
        r for r in validator.validate(data, layers=("cpsv-ap",)).results if r.component == "MinCountConstraintComponent"
    ]
    assert result.messages == {
        "lv": "Trūkst obligātas vērtības: identifikators (dct:identifier).",
        "en": "A required value is missing: identifier (dct:identifier).",
    }


@pytest.mark.parametrize(
    "fixture",
    [
        "identifier-duplicate.ttl",
        "person-workload.ttl",
        "national-lead-not-varam.ttl",
        "recipient-responsible.ttl",
    ],
)
def test_sparql_targeted_shapes_report(settings: Settings, fixture: str) -> None:
    """The fixture's result comes from a shape with a SPARQL target, or from a property shape of one, so the
    comparison above is not empty for SPARQL targets and constraints."""
    expected = EXPECTED[fixture]
    validator = validator_for(settings.model_copy(update={"max_services_per_person": 3}))
    compiled = validator.engines["pvpp"]
    store, _ = validator.merge(parse_files([SHAPES / fixture], settings))
    report = shacl.validate(store, compiled, only=MINE)
    targeted = {s.node for s in compiled.shapes.values() if s.targets.sparql}
    targeted |= {p.node for s in compiled.shapes.values() if s.targets.sparql for p in s.properties}
    hits = [r for r in report.results if str(to_rdflib(r.focus)) == expected["focus"]]
    assert hits and all(r.shape in targeted for r in hits), hits


def test_variant_or_step_names_the_service_it_extends(settings: Settings) -> None:
    """VariantOrStepShape (a class target with one SPARQL constraint since the national validation got faster)
    reports the longer title's service, its value the same-owner service whose lv title it extends."""
    validator = validator_for(settings)
    store, _ = validator.merge(parse_files([SHAPES / "variant-or-step.ttl"], settings))
    report = shacl.validate(store, validator.engines["pvpp"], only=MINE)
    hits = [
        (str(r.focus.value).removeprefix(BASE), str(r.value.value).removeprefix(BASE), str(r.path))
        for r in report.results
        if r.shape == URIRef(PVPPSH + "VariantOrStepShape")
    ]
    assert hits == [("service/lm/pabalsts-pieteiksanas", "service/lm/pabalsts", "http://purl.org/dc/terms/title")]


def test_sample_data_equals_pyshacl(settings: Settings) -> None:
    """The sample conforms; the full reports (every focus node, the reference data's included) are equal, and since
    issue 27 empty: the reference data has no results of its own either (its recipient groups used to lack the
    CPSV-AP agent identifier and title). The fixtures above keep the comparison non-empty."""
    validator = validator_for(settings)
    data = parse_files(SAMPLE, settings)
    assert _compare(validator, data) == {"pvpp": Counter(), "cpsv-ap": Counter()}
    report = validator.validate(data)
    assert report.conforms and report.results == [] and report.engine_results == []
    store, _ = validator.merge(data)
    assert sum(len(shacl.validate(store, validator.engines[layer]).results) for layer in POLICY_LAYERS) == 0


def test_validation_needs_no_pyshacl(validator: Validator, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validator.validate runs on the engine alone: with pyshacl unimportable it reports as before."""
    data = parse_files([SHAPES / "post-two-holders.ttl"], settings)
    before = validator.validate(data)
    monkeypatch.setitem(sys.modules, "pyshacl", None)  # `import pyshacl` now raises ImportError
    report = validator.validate(data)
    assert report.results == before.results and report.results and not report.conforms
    assert len(report.engine_results) == len(report.results)


def test_a_shape_added_to_the_project_runs_in_the_validator(settings: Settings, tmp_path: Path) -> None:
    """A shape the policy shapes did not use before (sh:pattern) is validated by the engine inside
    Validator.validate, with its messages."""
    shapes = tmp_path / "shapes"
    shutil.copytree(settings.shapes_dir, shapes)
    with (shapes / "pvpp-shapes.ttl").open("a", encoding="utf-8") as fh:
        fh.write(
            "\npvppsh:IdentifierPattern a sh:NodeShape ; sh:targetClass pvpp:Service ;\n"
            '    sh:property [ sh:path dct:identifier ; sh:pattern "^lm/" ;\n'
            '        sh:message "Identifikators nesākas ar lm/."@lv, "No lm/ prefix."@en ] .\n'
        )
    validator = validator_for(settings.model_copy(update={"shapes_dir": shapes}))
    report = validator.validate(parse_files([SHAPES / "base.ttl"], settings), lang="lv")
    assert {(r.focus.rsplit("/", 2)[-2], r.component, r.message) for r in report.results} == {
        ("lm", "PatternConstraintComponent", "Identifikators nesākas ar lm/.")
    }
    assert len(report.results) == 4 and not report.conforms  # the four services of base.ttl, nothing else


# ---------------------------------------------------------------------------------------------------------------
# components and corner cases the real shapes do not use
# ---------------------------------------------------------------------------------------------------------------

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
EDGE_SHAPES = """
ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed false ;
  sh:property [ sh:path ex:date ; sh:datatype xsd:date ; sh:maxCount 1 ] ,
    [ sh:path ex:dec ; sh:datatype xsd:decimal ; sh:minInclusive 0 ; sh:maxInclusive 100 ] ,
    [ sh:path ex:int ; sh:datatype xsd:integer ] , [ sh:path ex:dur ; sh:datatype xsd:duration ] ,
    [ sh:path ex:str ; sh:datatype xsd:string ] , [ sh:path ex:any ; sh:datatype rdfs:Literal ] ,
    [ sh:path ex:label ; sh:datatype rdf:langString ; sh:uniqueLang true ; sh:languageIn ( "lv" "en-GB" ) ] ,
    [ sh:path ex:typed ; sh:datatype rdfs:Datatype ] ,
    [ sh:path ex:inlit ; sh:in ( "a" 1 "b"@en ex:x ) ] , [ sh:path ex:initer ; sh:in ( ex:x ex:y ) ] ,
    [ sh:path [ sh:alternativePath ( ex:p ex:q ) ] ; sh:class ex:D , ex:E ; sh:minCount 2 ] ,
    [ sh:path [ sh:inversePath ex:of ] ; sh:maxCount 1 ; sh:class ex:C ; sh:severity sh:Warning ] ,
    [ sh:path ( ex:p ex:r ) ; sh:minCount 1 ; sh:message "no p/r"@en, "nav p/r"@lv ] ,
    [ sh:path ex:from ; sh:lessThanOrEquals ex:until ] , [ sh:path ex:s ; sh:minInclusive "b" ] ,
    [ sh:path ex:o ; sh:or ( [ sh:class ex:D ] [ sh:in ( ex:x ) ] [ sh:datatype xsd:string ] ) ] ,
    [ sh:path ex:n ; sh:not [ sh:languageIn ( "*" ) ] ] ,
    [ sh:path ex:a ; sh:and ( [ sh:class ex:D ] [ sh:not [ sh:class ex:E ] ] ) ] ,
    [ sh:path ex:k ; sh:qualifiedValueShape [ sh:class ex:D ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ] ,
    [ sh:path ex:k ; sh:qualifiedValueShape [ sh:languageIn ( "lv" ) ] ; sh:qualifiedMaxCount 0 ] ,
    [ sh:path ex:off ; sh:minCount 1 ; sh:deactivated true ] , ex:Shared .
ex:Twice a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:Shared .
ex:Shared a sh:PropertyShape ; sh:path ex:p ; sh:maxCount 0 .
ex:D rdfs:subClassOf ex:E .
ex:Imp a rdfs:Class, sh:NodeShape ; sh:class ex:D ; sh:in ( ex:i1 ) ; sh:not [ sh:class ex:Imp ] , [ sh:in ( ) ] .
ex:Subj a sh:PropertyShape ; sh:targetSubjectsOf ex:q ; sh:path ex:q ; sh:uniqueLang true ; sh:maxCount 1 .
ex:Tn a sh:NodeShape ; sh:targetNode ex:i1, ex:nothere ; sh:languageIn ( "en" ) ; sh:severity sh:Info ;
    sh:message "tn"@en, "tn lv"@lv .
ex:Obj a sh:NodeShape ; sh:targetObjectsOf ex:of ; sh:in ( ex:c1 ) .
ex:Pattern a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:pat ; sh:pattern "^a" ] .
ex:Kind a sh:PropertyShape ; sh:targetSubjectsOf ex:p ; sh:path ex:p ; sh:nodeKind sh:IRI .
ex:Nested a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:o ; sh:node [ sh:class ex:D ] ] .
"""
EDGE_DATA = """
ex:c1 a ex:C ; ex:date "2024-01-05", "2024-13-45"^^xsd:date, "2024-01-05T10:00:00"^^xsd:date ;
  ex:dec 99.5, 101.0, "abc"^^xsd:decimal, 5 ; ex:int 1, "x"^^xsd:integer, 1.5 ;
  ex:dur "P1D"^^xsd:duration, "Pxx"^^xsd:duration ; ex:str "s", "t"@en, 3, ex:iri ; ex:any "x", ex:y ;
  ex:label "a"@lv, "b"@LV, "c"@en-GB, "d"@en-US, "e"@en, "f" ; ex:typed "x", 1, "x"@en ;
  ex:inlit "a", "b"@en, "b", 1, "1"^^xsd:int, ex:x, ex:z ; ex:initer ex:x, ex:q ;
  ex:p ex:d1 ; ex:q ex:e1, "lit", "l2"@en, "l3"@en ; ex:from 5, "a", ex:u ; ex:until 3, "b", 7 ;
  ex:s "a", "c", 1 ; ex:o ex:d1, ex:x, "str", 5, ex:e1 ; ex:n "x"@lv, "y" ; ex:a ex:d1, ex:e1 ;
  ex:k ex:d1, ex:d2, "z"@lv ; ex:pat "ab", "ba" .
ex:d1 a ex:D ; ex:r ex:zz . ex:d2 a ex:D . ex:e1 a ex:E .
ex:c2 a ex:C ; ex:p _:b1 . _:b1 a ex:D ; ex:label "nested"@lv ; ex:more [ ex:list ( 1 2 ) ] .
ex:z1 ex:of ex:c1 . ex:z2 ex:of ex:c1 . ex:z3 ex:of ex:c2 .
ex:i1 a ex:Imp . ex:i2 a ex:Imp .
[] a ex:C ; ex:label "x"@lv, "y"@lv .
"""
EX = "http://example.org/"


def _graph(turtle: str) -> Graph:
    return Graph().parse(data=PREFIXES + turtle, format="turtle")


def _store(turtle: str) -> ox.Store:
    """Data read as the product reads it: parsed by Oxigraph, into the default graph."""
    store = ox.Store()
    store.load((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)
    return store


XSD = "http://www.w3.org/2001/XMLSchema#"  # a plain string: pytest probes module attributes, rdflib's XSD warns

# Where pyshacl departs from the SHACL specification (https://www.w3.org/TR/shacl/), on ex:c1 of EDGE_DATA: the
# engine reports these four results and pyshacl does not. (focus, path, value, component) of each, and why:
PYSHACL_DEPARTS = {
    # 4.2.2 sh:datatype: "2024-01-05T10:00:00" is not in xsd:date's lexical space (XSD 1.1 dateLexicalRep has no
    # time part), so the literal is ill-formed and does not match; rdflib reads it as a date and pyshacl accepts it
    (
        EX + "date",
        Literal("2024-01-05T10:00:00", datatype=URIRef(XSD + "date"), normalize=False),
        SH.DatatypeConstraintComponent,
    ),
    # 4.3.4 sh:maxInclusive: a result for each value node v where "v <= 100" does not return true; for the
    # ill-typed "abc"^^xsd:decimal it is a SPARQL error; pyshacl orders rdflib's ill-typed literal below 100
    # (it does report the same value for sh:minInclusive 0)
    (EX + "dec", Literal("abc", datatype=URIRef(XSD + "decimal"), normalize=False), SH.MaxInclusiveConstraintComponent),
    # 4.2.2 sh:datatype: the datatype of "x" is xsd:string, not rdfs:Literal; pyshacl lets any literal match
    # rdfs:Literal (a documented pyshacl special case)
    (EX + "any", Literal("x"), SH.DatatypeConstraintComponent),
    # 4.2.2 sh:datatype: the datatype of 1 is xsd:integer, not rdfs:Datatype; pyshacl lets any literal with a
    # datatype match rdfs:Datatype (a pyshacl special case; plain "x" it still reports, as rdflib gives it none)
    (EX + "typed", Literal("1", datatype=URIRef(XSD + "integer")), SH.DatatypeConstraintComponent),
}


def _departs(row: Row) -> bool:
    focus, path, value, _, component, _ = row
    return focus == URIRef(EX + "c1") and (str(path).strip("<>"), value, component) in PYSHACL_DEPARTS


def _edge(restrict: set[str] | None = None) -> tuple[Counter[Row], Counter[Row]]:
    """The edge data as the product reads data (parsed by Oxigraph), validated by both engines; with ``restrict``
    the engine reports only on those nodes (``only=``) and pyshacl's results are filtered to them."""
    shapes = _graph(EDGE_SHAPES)
    store = _store(EDGE_DATA)
    full = data_graph(store)
    only = None
    if restrict is not None:
        only = ox.NamedNode("urn:x-test:mine")
        store.bulk_extend(ox.Quad(ox.NamedNode(EX + n), only, only, only) for n in restrict)
    native = engine_rows(shacl.validate(store, shacl.ShapesGraph(shapes), only=only))
    keep = None if restrict is None else {URIRef(EX + n) for n in restrict}.__contains__
    return native, pyshacl_rows(run_pyshacl(full, shapes), shapes, keep)


def test_corner_cases_equal_pyshacl() -> None:
    native, reference = _edge()
    assert reference - native == Counter(), difference(native, reference)
    departing = native - reference
    assert all(_departs(r) and n == 1 for r, n in departing.items()), difference(native, reference)
    assert {(str(r[1]).strip("<>"), r[2], r[4]) for r in departing} == PYSHACL_DEPARTS
    components = Counter(r[4] for r in native.elements())
    for name in (
        "Datatype",
        "MinInclusive",
        "MaxInclusive",
        "In",
        "LanguageIn",
        "UniqueLang",
        "Class",
        "MinCount",
        "MaxCount",
        "LessThanOrEquals",
        "Or",
        "And",
        "Not",
        "QualifiedMinCount",
        "QualifiedMaxCount",
        "Pattern",
        "NodeKind",
        "Node",
    ):
        assert components[SH[name + "ConstraintComponent"]], name
    # ill-typed and wrongly typed values are reported, the well-typed one is not
    dates = {str(r[2]) for r in native if r[1] == f"<{EX}date>" and r[4] == SH.DatatypeConstraintComponent}
    assert dates == {"2024-01-05", "2024-13-45", "2024-01-05T10:00:00"}
    # a blank focus node is validated like any other
    assert {r[4] for r in native if isinstance(r[0], BNode)} == {
        SH.UniqueLangConstraintComponent,
        SH.MinCountConstraintComponent,
        SH.QualifiedMinCountConstraintComponent,
    }
    # complex paths are reported with their structure
    paths = {r[1] for r in native}
    assert f"[{SH.inversePath.n3()} <{EX}of>]" in paths
    assert any(p and p.startswith(f"[{SH.alternativePath.n3()} [") for p in paths)
    # a property shape reached from two node shapes reports twice, as pyshacl does
    shared = sorted(str(r[0]) for r, n in native.items() if r[3] == URIRef(EX + "Shared") and n == 2)
    assert shared == [EX + "c1", EX + "c2"]


def test_corner_cases_restricted_to_mine() -> None:
    """With ``only=`` the engine reports on the listed nodes alone: what pyshacl reports on them."""
    restrict = {"c1", "i1", "z1"}
    native, reference = _edge(restrict)
    assert reference and {r[0] for r in native} <= {URIRef(EX + n) for n in restrict}
    assert reference - native == Counter(), difference(native, reference)
    assert all(_departs(r) for r in native - reference) and len(native - reference) == len(PYSHACL_DEPARTS)


def test_blank_node_in_less_than_or_equals() -> None:
    """A blank node cannot be compared: a result where it meets a value of the other property (SHACL 4.4.4:
    "or where the two values cannot be compared"), none where it meets nothing. pyshacl refuses the data
    instead (ReportableRuntimeError), in both cases. Validating leaves the store as it was."""
    shapes = _graph(
        "ex:L a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:f ; sh:lessThanOrEquals ex:u ] ."
    )
    compiled = shacl.ShapesGraph(shapes)
    for data, results in (("ex:c a ex:C ; ex:f [] ; ex:u 3 .", 1), ("ex:c a ex:C ; ex:f [] .", 0)):
        store = _store(data)
        size = len(store)
        report = shacl.validate(store, compiled)
        assert len(report.results) == results
        for r in report.results:
            assert isinstance(r.value, ox.BlankNode) and r.component == SH.LessThanOrEqualsConstraintComponent
        assert len(store) == size and not list(store.named_graphs())
        with pytest.raises(ReportableRuntimeError, match="BlankNode"):
            run_pyshacl(data_graph(store), shapes)


SPARQL_SHAPES = """
ex:P a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ( ex:a ex:b ) ; sh:severity sh:Warning ;
    sh:sparql [ sh:message "{$this} has {?value}"@en ;
                sh:select "SELECT $this ?value WHERE { $this $PATH ?value FILTER (?value > 1) }" ] .
ex:N a sh:NodeShape ; sh:targetNode ex:x ;
    sh:sparql [ sh:message "no d"@en ;
                sh:select '''SELECT $this ?value WHERE {
                    FILTER NOT EXISTS { $this <http://example.org/d> ?v } BIND (1 AS ?value) }''' ] .
"""
SPARQL_DATA = """
ex:x a ex:C ; ex:a [ ex:b 1, 2 ] . ex:y a ex:C ; ex:a [ ex:b 5 ] ; ex:d 1 . ex:z ex:a [ ex:b 9 ] ."""


def test_message_templates_paths_and_pre_binding() -> None:
    """Message templates filled per solution, a sequence path as the result path, and a query whose $this only a
    FILTER reads (so it runs once per focus node with $this pre-bound): as pyshacl reports them."""
    shapes = _graph(SPARQL_SHAPES)
    store = _store(SPARQL_DATA)
    report = shacl.validate(store, shacl.ShapesGraph(shapes))
    reference = run_pyshacl(data_graph(store), shapes)
    native, expected = engine_rows(report), pyshacl_rows(reference, shapes)
    assert native == expected, difference(native, expected)
    messages = {URIRef(EX + "P"), URIRef(EX + "N")}
    assert engine_messages(report, messages) == pyshacl_messages(reference, messages)
    assert {(str(to_rdflib(r.focus)), str(m)) for r in report.results for m in r.messages} == {
        (EX + "x", EX + "x has 2"),
        (EX + "y", EX + "y has 5"),
        (EX + "x", "no d"),
    }
    first, rest = RDF.first.n3(), RDF.rest.n3()
    sequence = f"[{first} <{EX}a> ; {rest} [{first} <{EX}b> ; {rest} {RDF.nil.n3()}]]"  # ( ex:a ex:b )
    assert {r[1] for r in native if r[3] == URIRef(EX + "P")} == {sequence}
    # the report graph carries the path's structure (an RDF list), not the shapes graph's node
    g = report.graph()
    paths = {o for o in g.objects(None, SH.resultPath)}
    assert paths and all(isinstance(p, BNode) and canonical_path(p, [g]) == sequence for p in paths)


def test_listed_focus_nodes_are_written_into_the_groups_that_bind_this() -> None:
    """``restrict``: the VALUES block goes at the start of each group that joins with the result and binds $this
    in a triple pattern of its own (union branches, sub-selects), never under OPTIONAL, MINUS, EXISTS, into a
    group holding an OPTIONAL, or into a sub-select with LIMIT."""
    from pvpp_kg.shacl.sparql import restrict

    q = (
        "SELECT $this ?v WHERE { { $this <p> ?v } UNION { { SELECT $this ?o WHERE { $this <o> ?o } } ?v <o> ?o } "
        "FILTER NOT EXISTS { $this <n> ?v } }"
    )
    assert restrict(q, "V") == (
        "SELECT $this ?v WHERE { { V $this <p> ?v } UNION { { SELECT $this ?o WHERE { V $this <o> ?o } } "
        "?v <o> ?o } FILTER NOT EXISTS { $this <n> ?v } }"
    )
    # a FILTER reading $this is no binding; "?thisOne" is another variable
    assert restrict("SELECT $this WHERE { ?thisOne <p> ?x FILTER (?x != $this) }", "V") == (
        "SELECT $this WHERE { ?thisOne <p> ?x FILTER (?x != $this) }"
    )
    left_alone = [
        "SELECT $this WHERE { $this <p> ?x OPTIONAL { $this <q> ?y } }",
        "SELECT $this WHERE { { SELECT $this WHERE { $this <p> ?x } ORDER BY ?x LIMIT 1 } }",
        "SELECT $this WHERE { ?x <p> ?y MINUS { $this <q> ?y } FILTER (EXISTS { $this <r> ?y }) }",
        "SELECT $this WHERE { $this <p> ?x } OFFSET 1",
        'SELECT $this WHERE { ?x <p> "{ $this <q> ?y }" }',
    ]
    for query in left_alone:
        assert restrict(query, "V") == query


def test_listed_focus_nodes_give_pre_bindings_answers() -> None:
    """A joinable constraint over listed focus nodes (its union branches and sub-select restricted to them) finds
    what pyshacl finds; a sub-select with LIMIT counts per focus node, as pre-binding does, not over all nodes."""
    shapes = _graph("""ex:S a sh:NodeShape ; sh:targetClass ex:C ;
        sh:sparql [ sh:message "{$this} {?value}"@en ; sh:select '''SELECT $this ?value WHERE {
            { $this <http://example.org/part> ?value }
            UNION
            { { SELECT $this ?o WHERE { $this <http://example.org/owner> ?o } }
              ?value <http://example.org/owner> ?o FILTER (?value != $this) } }''' ] .
    ex:L a sh:NodeShape ; sh:targetClass ex:C ;
        sh:sparql [ sh:message "least {?value}"@en ; sh:select '''SELECT $this ?value WHERE {
            { SELECT $this ?value WHERE { $this <http://example.org/n> ?value } ORDER BY ?value LIMIT 1 } }''' ] .""")
    store = _store("""ex:a a ex:C ; ex:owner ex:o1 ; ex:n 3, 4 . ex:b a ex:C ; ex:owner ex:o1 ; ex:n 1, 2 .
        ex:c a ex:C ; ex:owner ex:o2 ; ex:part ex:a . ex:d ex:owner ex:o2 .""")
    compiled = shacl.ShapesGraph(shapes)
    (limited,) = [c for c in compiled.shapes[URIRef(EX + "L")].constraints if c.kind == "sparql"]
    assert not limited.params["query"].joinable
    report = shacl.validate(store, compiled)
    assert {(str(to_rdflib(r.focus)), str(m)) for r in report.results for m in r.messages} == {
        (EX + "a", f"{EX}a {EX}b"),
        (EX + "b", f"{EX}b {EX}a"),
        (EX + "c", f"{EX}c {EX}a"),
        (EX + "c", f"{EX}c {EX}d"),
        (EX + "a", "least 3"),
        (EX + "b", "least 1"),
    }
    reference = run_pyshacl(data_graph(store), shapes)
    native, expected = engine_rows(report), pyshacl_rows(reference, shapes)
    assert native == expected, difference(native, expected)


def test_logical_and_qualified_value_tests_as_one_filter() -> None:
    """sh:not, sh:and, sh:or, sh:xone and qualified shapes whose shapes are value tests are one filter query; the
    answers stay pyshacl's (rdf:langString there means a language tag, as in sh:datatype itself)."""
    shapes = _graph("""ex:S a sh:NodeShape ; sh:targetClass ex:C ;
        sh:property [ sh:path ex:kind ; sh:not [ sh:in ( ex:bad ex:worse ) ] ] ;
        sh:property [ sh:path ex:name ; sh:or ( [ sh:datatype xsd:string ] [ sh:datatype rdf:langString ] ) ] ;
        sh:property [ sh:path ex:name ; sh:qualifiedValueShape [ sh:datatype rdf:langString ] ;
                      sh:qualifiedMinCount 1 ] ;
        sh:property [ sh:path ex:n ; sh:xone ( [ sh:minInclusive 0 ] [ sh:maxInclusive 10 ] ) ] ;
        sh:property [ sh:path ex:n ; sh:and ( [ sh:nodeKind sh:Literal ] [ sh:maxExclusive 100 ] ) ] .""")
    store = _store("""ex:a a ex:C ; ex:kind ex:good ; ex:name "A"@en ; ex:n 50 .
        ex:b a ex:C ; ex:kind ex:bad ; ex:name "B" ; ex:n 5, 200 .
        ex:c a ex:C ; ex:kind ex:worse, ex:good ; ex:name 3 ; ex:n -1 .""")
    report = shacl.validate(store, shacl.ShapesGraph(shapes))
    found = {
        (str(to_rdflib(r.focus)), str(to_rdflib(r.value)) if r.value else None, r.component) for r in report.results
    }
    assert found == {
        (EX + "b", EX + "bad", SH.NotConstraintComponent),
        (EX + "c", EX + "worse", SH.NotConstraintComponent),
        (EX + "c", "3", SH.OrConstraintComponent),
        (EX + "b", None, SH.QualifiedMinCountConstraintComponent),
        (EX + "c", None, SH.QualifiedMinCountConstraintComponent),
        (EX + "b", "5", SH.XoneConstraintComponent),  # both: 0 <= 5 <= 10
        (EX + "b", "200", SH.AndConstraintComponent),
    }
    reference = run_pyshacl(data_graph(store), shapes)
    native, expected = engine_rows(report), pyshacl_rows(reference, shapes)
    assert native == expected, difference(native, expected)


@pytest.mark.parametrize("scanned", [2000, 10])
def test_a_shared_scan_with_many_failing_pairs_gives_way_to_the_join(
    scanned: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broad focus (more than FEW nodes) reads a property's failing pairs once for every shape; with more failing
    pairs than SCANNED (here 200 > 10: most of them another class's) each shape joins the test with its own focus
    nodes instead. Both ways report exactly the 100 nodes of ex:C, once each."""
    monkeypatch.setattr(shacl.engine, "SCANNED", scanned)
    shapes = _graph("""ex:S a sh:NodeShape ; sh:targetClass ex:C ;
        sh:property [ sh:path ex:name ; sh:datatype rdf:langString ] .""")
    data = "\n".join(f'ex:c{i} a ex:C ; ex:name "c{i}" . ex:d{i} a ex:D ; ex:name "d{i}" .' for i in range(100))
    report = shacl.validate(_store(data), shacl.ShapesGraph(shapes))
    found = sorted(str(to_rdflib(r.focus)).removeprefix(EX) for r in report.results)
    assert found == sorted(f"c{i}" for i in range(100))
    assert {r.component for r in report.results} == {SH.DatatypeConstraintComponent}


def test_a_select_that_does_not_project_this_is_ill_formed() -> None:
    """SHACL 5.2: "The SPARQL query derived from the value of sh:select projects the variable this in the SELECT
    clause." Without it the shape is ill-formed: ShapesError, as for the engine's other syntax rules (pyshacl is
    lenient and reports the pre-bound focus node)."""
    shapes = _graph("""ex:N a sh:NodeShape ; sh:targetNode ex:x ; sh:sparql [
        sh:select "SELECT ?value WHERE { FILTER NOT EXISTS { $this ex:d ?v } BIND (1 AS ?value) }" ;
        sh:prefixes [ sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] ] ] .""")
    with pytest.raises(shacl.ShapesError):
        shacl.ShapesGraph(shapes)


def test_focus_nodes_restricted_to_the_reported_nodes() -> None:
    """``only=``: focus nodes of every kind of target (class, node, SPARQL) are kept only when they are subjects in
    the named graph, so a node the submission does not describe is never reported on."""
    shapes = _graph("""ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:targetNode ex:listed ;
            sh:target [ a sh:SPARQLTarget ; sh:select "SELECT ?this WHERE { ?this <http://example.org/t> 1 }" ] ;
            sh:sparql [ sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://example.org/p> 1 } }" ] .
    """)
    store = _store("ex:a a ex:C . ex:b a ex:C . ex:c a ex:C . ex:t1 ex:t 1 . ex:t2 ex:t 1 .")
    compiled = shacl.ShapesGraph(shapes)
    everything = shacl.validate(store, compiled)
    native, reference = engine_rows(everything), pyshacl_rows(run_pyshacl(data_graph(store), shapes), shapes)
    assert native == reference, difference(native, reference)
    assert {str(to_rdflib(r.focus)) for r in everything.results} == {
        EX + n for n in ("a", "b", "c", "t1", "t2", "listed")
    }
    only = ox.NamedNode("urn:x-test:mine")
    store.bulk_extend(ox.Quad(ox.NamedNode(EX + n), only, only, only) for n in ("a", "c", "t2", "elsewhere"))
    restricted = shacl.validate(store, compiled, only=only)
    assert {str(to_rdflib(r.focus)) for r in restricted.results} == {EX + "a", EX + "c", EX + "t2"}


def test_extra_subclass_axioms_count_as_data() -> None:
    """``extra_subclasses``: axioms the stored data does not repeat (shapes/context.ttl) are read as if the data
    graph stated them, for class targets and sh:class alike, without writing them into the store."""
    shapes = _graph("""ex:S a sh:NodeShape ; sh:targetClass ex:Super ;
        sh:property [ sh:path ex:p ; sh:minCount 1 ] ; sh:property [ sh:path ex:q ; sh:class ex:Super ] .""")
    store = ox.Store()
    store.load(
        b"""@prefix ex: <http://example.org/> .
        ex:a a ex:Sub ; ex:q ex:b .  ex:b a ex:Sub .  ex:c a ex:Super ; ex:p 1 ; ex:q ex:b .""",
        ox.RdfFormat.TURTLE,
    )
    compiled = shacl.ShapesGraph(shapes)
    rows = lambda report: sorted((to_rdflib(r.focus), str(r.component).rsplit("#")[-1]) for r in report.results)  # noqa: E731
    before = len(store)
    # without the axiom ex:a is no ex:Super (not a focus node) and ex:b fails ex:c's sh:class
    assert rows(shacl.validate(store, compiled)) == [(URIRef(EX + "c"), "ClassConstraintComponent")]
    axiom = [(URIRef(EX + "Sub"), URIRef(EX + "Super"))]
    assert rows(shacl.validate(store, compiled, extra_subclasses=axiom)) == [
        (URIRef(EX + "a"), "MinCountConstraintComponent"),  # now an ex:Super without ex:p
        (URIRef(EX + "b"), "MinCountConstraintComponent"),  # likewise; and ex:c's value ex:b is an ex:Super
    ]
    assert len(store) == before


def test_validate_each_reports_per_shapes_graph() -> None:
    """Several shapes graphs validated together (their roots in one thread pool's list) give each graph the report
    it gets alone, in order."""
    from concurrent.futures import ThreadPoolExecutor

    first = shacl.ShapesGraph(
        _graph("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .")
    )
    second = shacl.ShapesGraph(
        _graph("ex:T a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:q ; sh:maxCount 0 ] .")
    )
    store = _store("ex:a a ex:C ; ex:q 1 . ex:b a ex:C ; ex:p 1 .")
    with ThreadPoolExecutor(2) as pool:
        both = shacl.validate_each(store, [first, second], map_=pool.map)
    assert [engine_rows(r) for r in both] == [engine_rows(shacl.validate(store, s)) for s in (first, second)]
    assert [{(str(to_rdflib(r.focus)), r.component) for r in report.results} for report in both] == [
        {(EX + "a", SH.MinCountConstraintComponent)},  # a has no ex:p
        {(EX + "a", SH.MaxCountConstraintComponent)},  # a has an ex:q
    ]
