"""Validation results and the standard sh:ValidationReport graph made from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from pvpp_kg.shacl.paths import Path
from pvpp_kg.shacl.terms import OxTerm, to_rdflib


@dataclass(frozen=True)
class Result:
    """One sh:ValidationResult: data terms are pyoxigraph's, shapes-graph terms rdflib's."""

    focus: OxTerm
    path: Path | Node | None  # a compiled path, or a predicate (sh:closed, SPARQL ?path)
    value: OxTerm | None
    shape: Node
    component: URIRef
    severity: Node
    messages: tuple[Literal, ...] = ()
    constraint: Node | None = None  # sh:sourceConstraint
    details: tuple[Result, ...] = field(default=(), compare=False)


@dataclass
class Report:
    results: list[Result]
    originals: dict[OxTerm, Node] = field(default_factory=dict)  # literals as the data wrote them
    # the triples of each blank-node source shape (``shape_description``), copied beside the results that name it
    shapes: dict[Node, tuple[tuple[Node, Node, Node], ...]] = field(default_factory=dict)

    def term(self, t: OxTerm) -> Node:
        return self.originals.get(t) or to_rdflib(t)

    @property
    def conforms(self) -> bool:
        return not self.results

    def graph(self) -> Graph:
        g = Graph()
        g.bind("sh", SH)
        root = BNode()
        g.add((root, RDF.type, SH.ValidationReport))
        g.add((root, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            g.add((root, SH.result, self.add(g, r)))
        for triples in self.shapes.values():  # a blank-node shape is otherwise "[ ]": which property, which rule?
            for t in triples:
                g.add(t)
        return g

    def add(self, g: Graph, r: Result) -> BNode:
        """``r`` as a sh:ValidationResult node of ``g`` (its nested results as sh:detail)."""
        n = BNode()
        g.add((n, RDF.type, SH.ValidationResult))
        g.add((n, SH.focusNode, self.term(r.focus)))
        g.add((n, SH.resultSeverity, r.severity))
        g.add((n, SH.sourceConstraintComponent, r.component))
        g.add((n, SH.sourceShape, r.shape))
        if isinstance(r.path, Path):
            g.add((n, SH.resultPath, _copy(g, r.path.node, r.path.triples)))
        elif r.path is not None:
            g.add((n, SH.resultPath, r.path))
        if r.value is not None:
            g.add((n, SH.value, self.term(r.value)))
        if r.constraint is not None:
            g.add((n, SH.sourceConstraint, r.constraint))
        for m in r.messages:
            g.add((n, SH.resultMessage, m))
        for d in r.details:
            g.add((n, SH.detail, self.add(g, d)))
        return n


def _copy(g: Graph, node: Node, triples: tuple[tuple[Node, Node, Node], ...]) -> Node:
    """A fresh, unshared copy of a path's structure: each result carries its own, as SHACL's examples do."""
    if not isinstance(node, BNode):
        return node
    copy = BNode()
    for s, p, o in triples:
        if s == node:
            g.add((copy, p, _copy(g, o, triples)))
    return copy


def shape_description(shapes: Graph, shape: Node) -> tuple[tuple[Node, Node, Node], ...]:
    """A blank-node shape's triples and those of the blank nodes under it (its path, lists), as pySHACL and
    TopBraid copy them into a report; nothing for a shape with an IRI, which names itself."""
    if not isinstance(shape, BNode):
        return ()
    found: list[tuple[Node, Node, Node]] = []
    todo, seen = [shape], {shape}
    while todo:
        node = todo.pop()
        for p, o in shapes.predicate_objects(node):
            found.append((node, p, o))
            if isinstance(o, BNode) and o not in seen:
                seen.add(o)
                todo.append(o)
    return tuple(found)
