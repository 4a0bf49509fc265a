"""SHACL property paths: checked for well-formedness and spelled as SPARQL property paths."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from pvpp_kg.shacl.errors import ShapesError

_UNARY = {SH.inversePath: "^", SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}


@dataclass(frozen=True)
class Path:
    """A compiled sh:path: its node in the shapes graph, the SPARQL path, and whether it can match zero steps."""

    node: Node
    sparql: str
    nullable: bool
    triples: tuple[tuple[Node, Node, Node], ...] = ()  # the structure as read, for sh:resultPath in reports

    @property
    def predicate(self) -> URIRef | None:
        """The IRI when the path is a single predicate (sh:closed and sh:equals need that)."""
        return self.node if isinstance(self.node, URIRef) else None

    @property
    def step(self) -> bool:
        """One predicate, forwards or inverse: cheap for Oxigraph to scan whole, with no focus node bound."""
        return re.fullmatch(r"\^?<[^<>]*>", self.sparql) is not None


def compile_path(g: Graph, node: Node, shape: Node, seen: frozenset[Node] = frozenset()) -> Path:
    """Read ``node`` as a SHACL path (section 2.3.1); anything else is a :class:`ShapesError` naming ``shape``."""
    if node == RDF.nil:  # "( )" in Turtle: an empty SHACL list, not the property rdf:nil
        raise ShapesError(shape, "an empty list is not a path (a sequence path needs at least two members)")
    if isinstance(node, URIRef):
        return Path(node, f"<{node}>", False)
    if not isinstance(node, BNode) or node in seen:
        raise ShapesError(shape, f"malformed sh:path {node.n3()}")
    seen = seen | {node}
    preds = set(g.predicates(node)) - {RDF.type}
    if (node, RDF.first, None) in g:  # a list is a sequence path, whatever else the node carries
        members = _members(g, node, shape)
        if len(members) < 2:
            raise ShapesError(shape, "a sequence path needs at least two members")
        parts = [compile_path(g, m, shape, seen) for m in members]
        triples = _cells(g, node, shape) + tuple(t for p in parts for t in p.triples)
        return Path(node, "(" + "/".join(p.sparql for p in parts) + ")", all(p.nullable for p in parts), triples)
    if preds == {SH.alternativePath}:
        (lst,) = g.objects(node, SH.alternativePath)
        members = _members(g, lst, shape)
        if len(members) < 2:
            raise ShapesError(shape, "sh:alternativePath needs a list of at least two paths")
        parts = [compile_path(g, m, shape, seen) for m in members]
        triples = ((node, SH.alternativePath, lst), *_cells(g, lst, shape), *(t for p in parts for t in p.triples))
        return Path(node, "(" + "|".join(p.sparql for p in parts) + ")", any(p.nullable for p in parts), triples)
    if len(preds) == 1 and (pred := next(iter(preds))) in _UNARY:
        values = list(g.objects(node, pred))
        if len(values) != 1:
            raise ShapesError(shape, f"{pred.n3(g.namespace_manager)} needs exactly one value")
        inner = compile_path(g, values[0], shape, seen)
        op, triples = _UNARY[pred], ((node, pred, values[0]), *inner.triples)
        if op == "^":
            return Path(node, f"^{inner.sparql}", inner.nullable, triples)
        return Path(node, f"({inner.sparql}){op}", op in "*?" or inner.nullable, triples)
    raise ShapesError(shape, f"malformed sh:path: a blank node with {sorted(map(str, preds)) or 'no properties'}")


def _members(g: Graph, node: Node, shape: Node) -> list[Node]:
    return [first for _, _, first in _cells(g, node, shape)[::2]]


def _cells(g: Graph, node: Node, shape: Node | None = None) -> tuple[tuple[Node, Node, Node], ...]:
    """The rdf:first/rdf:rest triples of a well-formed list (a cycle or a missing rest is a ShapesError)."""
    out: list[tuple[Node, Node, Node]] = []
    seen: set[Node] = set()
    while node != RDF.nil:
        first, rest = list(g.objects(node, RDF.first)), list(g.objects(node, RDF.rest))
        if node in seen or len(first) != 1 or len(rest) != 1:
            raise ShapesError(shape, f"malformed RDF list in sh:path at {node!r}")
        seen.add(node)
        out += [(node, RDF.first, first[0]), (node, RDF.rest, rest[0])]
        node = rest[0]
    return tuple(out)
