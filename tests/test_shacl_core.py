"""The native SHACL Core evaluator (pyoxigraph) reports what pyshacl reports, so the two engines cannot drift.

pyshacl runs the *whole* shapes graph of each layer (advanced mode: SPARQL targets and constraints too) over the
validator's merged data; its results for what the submission describes must equal what the validator's engines
report (shacl_core for core constraints, shacl_sparql for the SPARQL parts, pyshacl only for shapes shacl_core
leaves to it): on every shape fixture, on the sample data and on a generated dataset with violations. Core results
are compared with their messages (pyshacl's generic ones included, which the CPSV-AP shapes rely on). A synthetic
shapes graph covers the components and corner cases the real shapes do not use, and the fallback to pyshacl.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from pvpp_kg import shacl_core, shacl_sparql
from pvpp_kg.generate import generate
from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.validation import LAYERS, Validator, parse_document, parse_files, validator_for

TESTS = Path(__file__).parent
SHAPES = TESTS / "data" / "shapes"
FIXTURES = sorted(p.name for p in SHAPES.glob("*.ttl"))
EXPECTED = {row["fixture"]: row for row in csv.DictReader((SHAPES / "expected.csv").open(encoding="utf-8"))}
SAMPLE = sorted((TESTS.parent / "data" / "sample").glob("*.ttl"))

Row = tuple[Node, Node | None, Node | None, Node, Node, Node, frozenset[Node] | None]


def _rows(report: Graph, mine: set[Any]) -> Counter[Row]:
    """(focus, path, value, shape, component, severity, messages) of each result on ``mine``; messages only for
    core components (pyshacl keeps just one message of a SPARQL constraint)."""
    rows: Counter[Row] = Counter()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        focus, component = report.value(r, SH.focusNode), report.value(r, SH.sourceConstraintComponent)
        if focus not in mine:
            continue
        sparql = component == SH.SPARQLConstraintComponent or not str(component).startswith(str(SH))
        rows[(focus, report.value(r, SH.resultPath), report.value(r, SH.value), report.value(r, SH.sourceShape),
              component, report.value(r, SH.resultSeverity),
              None if sparql else frozenset(report.objects(r, SH.resultMessage)))] += 1
    return rows


def _pyshacl(data: Graph, shapes: Graph, advanced: bool = False) -> Graph:
    return shacl_validate(data, shacl_graph=shapes, advanced=advanced, allow_warnings=True, allow_infos=True)[1]


def _compare(validator: Validator, data: Graph) -> dict[str, Counter[Row]]:
    """Per layer, assert that the validator's engines report exactly what pyshacl reports; return the rows."""
    store, full, mine = validator.merge(data)
    assert full is not None
    found = {}
    for layer in LAYERS:
        compiled, core = validator.compiled[layer], validator.core[layer]
        shapes = validator.pvpp_shapes if layer == "pvpp" else validator.cpsv_shapes
        reference = _rows(_pyshacl(full, shapes, advanced=True), mine)
        focus = shacl_sparql.all_focus_nodes(store, compiled)
        report, leftover = shacl_core.evaluate(store, core, focus, mine)
        native = _rows(report.graph, mine) + _rows(shacl_sparql.evaluate(store, compiled, focus), mine)
        if leftover is not None:
            native += _rows(_pyshacl(full, leftover), mine)
        assert native == reference, (layer, native - reference, reference - native)
        found[layer] = native
    return found


def _keys(rows: Counter[Row]) -> set[tuple[str, str, str]]:
    """(focus, path, severity) of the rows, as expected.csv writes them."""
    return {(str(r[0]), "" if r[1] is None else str(r[1]), str(r[5]).rsplit("#", 1)[-1]) for r in rows}


@pytest.fixture(scope="module")
def validator(settings: Settings) -> Validator:
    return validator_for(settings.model_copy(update={"max_services_per_person": 3}))  # the workload fires


def test_the_real_shapes_compile_without_fallback(validator: Validator) -> None:
    """Both layers run natively, so validating never needs pyshacl nor the rdflib copy of the data."""
    for layer in LAYERS:
        core = validator.core[layer]
        assert core.fallback == frozenset() and core.pyshacl_graph is None, core.fallback_roots
    assert len(validator.core["cpsv-ap"].checks) > 100 and len(validator.core["pvpp"].checks) > 40
    components = {c.component for layer in LAYERS for c in validator.core[layer].checks}
    assert {SH.MinCountConstraintComponent, SH.ClassConstraintComponent, SH.DatatypeConstraintComponent,
            SH.OrConstraintComponent, SH.NotConstraintComponent, SH.LessThanOrEqualsConstraintComponent,
            SH.UniqueLangConstraintComponent} <= components


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_equals_pyshacl(settings: Settings, fixture: str) -> None:
    row = EXPECTED.get(fixture, {"settings": ""})
    overrides = dict(item.split("=") for item in row["settings"].split(";") if item)
    validator = validator_for(settings.model_copy(update={k: int(v) for k, v in overrides.items()}))
    found = _compare(validator, parse_files([SHAPES / fixture], settings))
    if fixture == "base.ttl":
        assert found == {"pvpp": Counter(), "cpsv-ap": Counter()}
    else:  # the fixture's own violation is among the (equal) results
        assert (row["focus"], row["path"], row["severity"]) in _keys(found[row["layer"]]), found


def test_known_fixtures_give_their_component(validator: Validator, settings: Settings) -> None:
    cases = {"sla-availability-out-of-range.ttl": SH.MaxInclusiveConstraintComponent,
             "validity-reversed.ttl": SH.LessThanOrEqualsConstraintComponent,
             "date-invalid.ttl": SH.DatatypeConstraintComponent,
             "service-leaf-kind-two.ttl": SH.QualifiedMaxCountConstraintComponent,
             "inter-institutional-recipient-not-institution.ttl": SH.OrConstraintComponent,
             "support-function.ttl": SH.NotConstraintComponent,
             "cpsv-identifier-missing.ttl": SH.MinCountConstraintComponent}
    for fixture, component in cases.items():
        expected = EXPECTED[fixture]
        store, _, mine = validator.merge(parse_files([SHAPES / fixture], settings), rdflib_graph=False)
        compiled = validator.compiled[expected["layer"]]
        core_report, leftover = shacl_core.evaluate(store, validator.core[expected["layer"]],
                                                    shacl_sparql.all_focus_nodes(store, compiled), mine)
        report = core_report.graph
        assert leftover is None
        hits = [r for r in report.subjects(RDF.type, SH.ValidationResult)
                if str(report.value(r, SH.focusNode)) == expected["focus"]
                and str(report.value(r, SH.resultPath)) == expected["path"]]
        assert [report.value(r, SH.sourceConstraintComponent) for r in hits] == [component], fixture
        if expected["layer"] == "cpsv-ap":  # no sh:message: pyshacl's generic one, terms written as pyshacl does
            [message] = report.objects(hits[0], SH.resultMessage)
            assert str(message) == f"Less than 1 values on <{expected['focus']}>->dc1:identifier"


def test_sample_data_equals_pyshacl(settings: Settings) -> None:
    """The sample conforms; to compare more than two empty sets, every node of the merged graph (reference data
    included) is taken as reported on here."""
    validator = validator_for(settings)
    data = parse_files(SAMPLE, settings)
    found = _compare(validator, data)
    assert found == {"pvpp": Counter(), "cpsv-ap": Counter()}
    store, full, _ = validator.merge(data)
    assert full is not None
    everything = {n for t in full for n in (t[0], t[2]) if not isinstance(n, Literal)}
    compared = 0
    for layer in LAYERS:  # core constraints only: the shapes graph the validator gave pyshacl before
        compiled = validator.compiled[layer]
        focus = shacl_sparql.all_focus_nodes(store, compiled)
        report = shacl_core.evaluate(store, validator.core[layer], focus, everything)[0].graph
        reference = _rows(_pyshacl(full, shacl_sparql.with_target_nodes(compiled, focus)), everything)
        assert _rows(report, everything) == reference, layer
        compared += sum(reference.values())
    assert compared > 0  # the reference data has results of its own (e.g. CPSV-AP identifiers)


def test_generated_dataset_with_violations_equals_pyshacl(validator: Validator) -> None:
    """A tiny generated dataset with 5 % violations, validated as one submission: the promised violations are
    found, with everything else, identically by both engines."""
    out = io.StringIO()
    report = generate("tiny", out, seed=5, violations=0.05)
    assert report.violations
    quads = ox.parse(out.getvalue().encode(), format=ox.RdfFormat.N_QUADS)
    nt = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)
    found = _compare(validator, parse_document(nt, filename="generated.nt"))
    keys = {(str(r[0]), str(r[1])) for r in found["pvpp"] if r[5] == SH.Violation}
    for violation in report.violations:
        assert (violation["focus"], violation["path"]) in keys, violation
    assert sum(found["cpsv-ap"].values()) > 0


def test_merge_without_the_rdflib_graph(validator: Validator, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    data = parse_files([SHAPES / "post-two-holders.ttl"], settings)
    store, full, mine = validator.merge(data)
    lean_store, lean_full, lean_mine = validator.merge(data, rdflib_graph=False)
    assert lean_full is None and full is not None and lean_mine == mine and len(lean_store) == len(store)
    asked: list[bool] = []
    merge = Validator.merge

    def spy(self: Validator, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["rdflib_graph"])
        return merge(self, *args, **kwargs)

    monkeypatch.setattr(Validator, "merge", spy)
    report = validator.validate(data)
    assert asked == [False] and report.results and not report.conforms  # validated without the rdflib copy


# ---------------------------------------------------------------------------------------------------------------
# components and corner cases the real shapes do not use, and the fallback to pyshacl
# ---------------------------------------------------------------------------------------------------------------

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
EDGE_SHAPES = PREFIXES + """
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
EDGE_DATA = PREFIXES + """
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


def _edge(mine: set[Any] | None = None) -> tuple[Counter[Row], Counter[Row], shacl_core.CoreShapes]:
    shapes = Graph().parse(data=EDGE_SHAPES, format="turtle")
    store = ox.Store()
    store.bulk_extend(shacl_sparql.ox_quads(Graph().parse(data=EDGE_DATA, format="turtle")))
    full = Graph()
    for t in shacl_sparql.rdflib_triples(store):
        full.add(t)
    spec = shacl_sparql.compile_shapes(shapes)
    core = shacl_core.compile_shapes(spec)
    if mine is None:
        mine = {n for t in full for n in (t[0], t[2]) if not isinstance(n, Literal)}
    focus = shacl_sparql.all_focus_nodes(store, spec)
    report, leftover = shacl_core.evaluate(store, core, focus, mine)
    assert leftover is not None
    native = _rows(report.graph, mine) + _rows(_pyshacl(full, leftover), mine)
    # pyshacl gets the shapes as the validator gave them to it (the order of sh:class values in a generic
    # message is the order that graph lists them in)
    return native, _rows(_pyshacl(full, shacl_sparql.with_target_nodes(spec, focus)), mine), core


def test_corner_cases_equal_pyshacl() -> None:
    native, reference, core = _edge()
    assert native == reference, (native - reference, reference - native)
    assert set(core.fallback_roots) == {URIRef(EX + n) for n in ("Pattern", "Kind", "Nested")}
    components = Counter(r[4] for r in reference.elements())
    for name in ("Datatype", "MinInclusive", "MaxInclusive", "In", "LanguageIn", "UniqueLang", "Class", "MinCount",
                 "MaxCount", "LessThanOrEquals", "Or", "And", "Not", "QualifiedMinCount", "QualifiedMaxCount",
                 "Pattern", "NodeKind", "Node"):
        assert components[SH[name + "ConstraintComponent"]], name
    # ill-typed and wrongly typed values are reported, well-typed ones (rdflib's reading) are not
    dates = {r[2] for r in reference if r[1] == URIRef(EX + "date") and r[4] == SH.DatatypeConstraintComponent}
    assert {str(d) for d in dates} == {"2024-01-05", "2024-13-45"}
    # the blank-node focus node gets pyshacl's generic message, written from its description
    [blank] = [r for r in reference if isinstance(r[0], BNode) and r[4] == SH.UniqueLangConstraintComponent]
    assert blank[6] == frozenset({Literal("More than one String shares the same Language")})
    [counted] = [r for r in reference if isinstance(r[0], BNode) and r[4] == SH.MinCountConstraintComponent
                 and r[6] and not any(m.language for m in r[6])]
    assert counted[6] == frozenset({Literal(
        'Less than 2 values on [ <http://example.org/label> Literal("x", lang=lv), Literal("y", lang=lv) ; '
        'rdf:type <http://example.org/C> ]->[ sh:alternativePath ( ex:p ex:q ) ]')})
    # a property shape reached from two node shapes reports twice, as pyshacl does
    assert sorted(str(r[0]) for r, n in reference.items() if r[3] == URIRef(EX + "Shared") and n == 2) == [
        EX + "c1", EX + "c2"]


def test_corner_cases_restricted_to_mine() -> None:
    mine = {URIRef(EX + "c1"), URIRef(EX + "i1"), URIRef(EX + "z1")}
    native, reference, _ = _edge(mine)
    assert native == reference and reference
    assert {r[0] for r in reference} <= mine


def test_blank_node_in_less_than_or_equals_fails_like_pyshacl() -> None:
    shapes = Graph().parse(format="turtle", data=PREFIXES + """
        ex:L a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:f ; sh:lessThanOrEquals ex:u ] .""")
    data = Graph().parse(format="turtle", data=PREFIXES + "ex:c a ex:C ; ex:f [] .")
    store = ox.Store()
    store.bulk_extend(shacl_sparql.ox_quads(data))
    spec = shacl_sparql.compile_shapes(shapes)
    with pytest.raises(RuntimeError, match="BlankNode"):
        shacl_core.evaluate(store, shacl_core.compile_shapes(spec), {}, {URIRef(EX + "c")})
    with pytest.raises(RuntimeError, match="BlankNode"):
        _pyshacl(data, shapes)
    assert not list(store.named_graphs())  # the scratch graph is gone even so


def test_validator_leaves_an_uncompiled_shape_to_pyshacl(settings: Settings, tmp_path: Path) -> None:
    """A shape with sh:pattern (not compiled) is validated by pyshacl inside Validator.validate; the rest stays
    native, and the data graph for pyshacl is built only then."""
    shapes = tmp_path / "shapes"
    shutil.copytree(settings.shapes_dir, shapes)
    with (shapes / "pvpp-shapes.ttl").open("a", encoding="utf-8") as fh:
        fh.write('\npvppsh:IdentifierPattern a sh:NodeShape ; sh:targetClass pvpp:Service ;\n'
                 '    sh:property [ sh:path dct:identifier ; sh:pattern "^lm/" ;\n'
                 '        sh:message "Identifikators nesākas ar lm/."@lv, "No lm/ prefix."@en ] .\n')
    validator = validator_for(settings.model_copy(update={"shapes_dir": shapes}))
    assert validator.core["pvpp"].fallback_roots == (URIRef("https://w3id.org/pvpp/shapes#IdentifierPattern"),)
    assert validator.core["cpsv-ap"].fallback == frozenset()
    report = validator.validate(parse_files([SHAPES / "base.ttl"], settings), lang="lv")
    assert {(r.focus.rsplit("/", 2)[-2], r.component, r.message) for r in report.results} == {
        ("lm", "PatternConstraintComponent", "Identifikators nesākas ar lm/.")}
    assert len(report.results) == 4 and not report.conforms  # the four services of base.ttl, nothing else


def test_node_set_tests_rdflib_and_store_terms_alike() -> None:
    nodes = shacl_core.NodeSet.of([URIRef(EX + "a"), BNode("b1"), Literal("x"), URIRef("not an iri")],
                                  [ox.NamedNode(EX + "c")])
    assert len(nodes) == 3
    assert URIRef(EX + "a") in nodes and ox.NamedNode(EX + "a") in nodes and BNode("b1") in nodes
    assert ox.BlankNode("b1") in nodes and URIRef(EX + "c") in nodes
    assert URIRef(EX + "z") not in nodes and Literal("x") not in nodes and "a" not in nodes
    assert set(nodes) == {URIRef(EX + "a"), BNode("b1"), URIRef(EX + "c")}


def test_focus_nodes_among_keeps_only_those_found_in_the_data() -> None:
    shapes = Graph().parse(data=PREFIXES + """
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:targetNode ex:listed ;
            sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p 1 }" ] .""", format="turtle")
    store = ox.Store()
    store.bulk_extend(shacl_sparql.ox_quads(Graph().parse(data=PREFIXES + """
        ex:a a ex:C . ex:b a ex:C . ex:c a ex:C .""", format="turtle")))
    spec = shacl_sparql.compile_shapes(shapes)
    S = URIRef(EX + "S")
    assert shacl_sparql.all_focus_nodes(store, spec)[S] == {URIRef(EX + n) for n in ("a", "b", "c", "listed")}
    among = shacl_core.NodeSet.of([URIRef(EX + "a"), URIRef(EX + "c")])
    assert shacl_sparql.all_focus_nodes(store, spec, among=among.terms)[S] == {
        URIRef(EX + "a"), URIRef(EX + "c"), URIRef(EX + "listed")}
