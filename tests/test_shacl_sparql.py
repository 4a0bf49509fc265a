"""The native SHACL-SPARQL evaluator (pyoxigraph) reports what pyshacl reports, so the two engines cannot drift.

For every shape fixture, pyshacl runs the *whole* PVPP shapes graph (SPARQL targets and constraints included,
advanced mode) over the same merged data; its results from SPARQL constraints and components, and from the core
constraints of SPARQL-targeted shapes, must equal what the validator's split produces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from pvpp_kg import shacl_sparql
from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.validation import parse_files, validator_for

SHAPES = Path(__file__).parent / "data" / "shapes"
FIXTURES = sorted(p.name for p in SHAPES.glob("*.ttl"))

Row = tuple[str, str | None, str, str, frozenset[str]]


def _rows(report: Graph, keep: Any) -> set[Row]:
    rows = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(r, SH.sourceShape)
        if not keep(shape, report.value(r, SH.sourceConstraintComponent)):
            continue
        focus, path = report.value(r, SH.focusNode), report.value(r, SH.resultPath)
        messages = frozenset(str(m) for m in report.objects(r, SH.resultMessage) if isinstance(m, Literal))
        rows.add((str(focus) if isinstance(focus, URIRef) else "_:", None if path is None else str(path),
                  str(report.value(r, SH.resultSeverity)), str(shape), messages))
    return rows


@pytest.mark.parametrize("fixture", FIXTURES)
def test_native_sparql_equals_pyshacl(settings: Settings, fixture: str) -> None:
    validator = validator_for(settings.model_copy(update={"max_services_per_person": 3}))  # the workload fires
    compiled = validator.compiled["pvpp"]
    store, full, _ = validator.merge(parse_files([SHAPES / fixture], settings))
    _, reference, _ = shacl_validate(full, shacl_graph=validator.pvpp_shapes, advanced=True, allow_warnings=True,
                                     allow_infos=True)
    checked = {c.shape for c in compiled.checks}
    components = {c.component for c in compiled.checks}

    def sparql_part(shape: Any, component: Any) -> bool:
        return shape in checked and component in components

    def targeted_core(shape: Any, component: Any) -> bool:
        return shape in compiled.targeted_core and component not in components

    focus = shacl_sparql.all_focus_nodes(store, compiled)
    native = shacl_sparql.evaluate(store, compiled, focus)
    assert _rows(native, sparql_part) == _rows(reference, sparql_part)
    _, core, _ = shacl_validate(full, shacl_graph=shacl_sparql.with_target_nodes(compiled, focus),
                                allow_warnings=True, allow_infos=True)
    # property shapes of SPARQL-targeted node shapes are blank nodes: compare their node shape's results via focus
    assert _rows(core, lambda *_: True) - _rows(reference, lambda *_: True) == set()
    assert _rows(reference, lambda *_: True) - _rows(native, lambda *_: True) - _rows(core, lambda *_: True) == set()


def test_the_pvpp_shapes_have_sparql_checks_and_targets(settings: Settings) -> None:
    compiled = validator_for(settings).compiled["pvpp"]
    assert len(compiled.checks) == 3 and len(compiled.targeted_core) == 7
    assert not list(compiled.core.subjects(SH.sparql, None)) and not list(compiled.core.subjects(SH.target, None))
    assert all(t.sparql for shape, t in compiled.targets.items() if shape in compiled.targeted_core)


def test_message_templates_path_and_per_focus_fallback() -> None:
    shapes = Graph().parse(format="turtle", data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:P a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ( ex:a ex:b ) ; sh:severity sh:Warning ;
            sh:sparql [ sh:message "{$this} has {?value}"@en ;
                        sh:select "SELECT $this ?value WHERE { $this $PATH ?value FILTER (?value > 1) }" ] .
        ex:N a sh:NodeShape ; sh:targetNode ex:x ;
            sh:sparql [ sh:message "no d"@en ;
                        sh:select '''SELECT ?value WHERE {
                            FILTER NOT EXISTS { $this <http://example.org/d> ?v } BIND (1 AS ?value) }''' ] .
    """)
    compiled = shacl_sparql.compile_shapes(shapes)
    store = ox.Store()
    data = Graph().parse(format="turtle", data="""@prefix ex: <http://example.org/> .
        ex:x a ex:C ; ex:a [ ex:b 1, 2 ] . ex:y a ex:C ; ex:a [ ex:b 5 ] ; ex:d 1 . ex:z ex:a [ ex:b 9 ] .""")
    store.bulk_extend(shacl_sparql.ox_quads(data))
    report = shacl_sparql.evaluate(store, compiled, shacl_sparql.all_focus_nodes(store, compiled))
    got = {(str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath) or ""),
            str(report.value(r, SH.resultMessage))) for r in report.subjects(RDF.type, SH.ValidationResult)}
    path = report.value(next(report.subjects(RDF.type, SH.ValidationResult)), SH.resultPath)
    assert isinstance(path, BNode | URIRef)
    assert {(f, m) for f, _, m in got} == {("http://example.org/x", "http://example.org/x has 2"),
                                           ("http://example.org/y", "http://example.org/y has 5"),
                                           ("http://example.org/x", "no d")}


@pytest.mark.parametrize("fixture", ["identifier-duplicate.ttl", "person-workload.ttl", "variant-or-step.ttl",
                                     "national-lead-not-varam.ttl", "recipient-responsible.ttl"])
def test_the_comparison_is_not_empty(settings: Settings, fixture: str) -> None:
    validator = validator_for(settings.model_copy(update={"max_services_per_person": 3}))
    compiled = validator.compiled["pvpp"]
    store, _, _ = validator.merge(parse_files([SHAPES / fixture], settings))
    focus = shacl_sparql.all_focus_nodes(store, compiled)
    native = shacl_sparql.evaluate(store, compiled, focus)
    checked = {c.shape for c in compiled.checks}
    assert any(native.subjects(RDF.type, SH.ValidationResult)) or any(
        focus[s] for s in compiled.targeted_core if s not in checked)
