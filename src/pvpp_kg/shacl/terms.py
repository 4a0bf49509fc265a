"""Term conversions and SPARQL spelling shared by the engine: rdflib terms for shapes, pyoxigraph terms for data."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


def to_ox(term: Node) -> OxTerm:
    """A shapes-graph constant as a data term (blank nodes keep their id: they only ever meet shapes-graph copies)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term: OxTerm) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    dt = term.datatype.value
    # as stored: rdflib would otherwise rewrite an ill-typed literal ("none"^^xsd:boolean as "false")
    return Literal(term.value, datatype=None if dt == str(XSD.string) else URIRef(dt), normalize=False)


def sparql(term: Node | OxTerm) -> str:
    """The SPARQL spelling of an IRI or literal; blank nodes have none (callers bind them by substitution)."""
    if isinstance(term, URIRef | BNode | Literal):
        if isinstance(term, BNode):
            raise ValueError("a blank node has no SPARQL spelling")
        term = to_ox(term)
    if isinstance(term, ox.BlankNode):
        raise ValueError("a blank node has no SPARQL spelling")
    return str(term)  # pyoxigraph prints N-Triples, which is valid SPARQL for IRIs and literals


def skolem(term: Node) -> Node:
    """Shapes-graph blank nodes as IRIs, so $currentShape and $shapesGraph queries can name them."""
    return URIRef(f"urn:x-pvpp-kg:shape:{term}") if isinstance(term, BNode) else term


def sh(name: str) -> URIRef:
    """A SHACL term by local name (rdflib's closed SH namespace lacks some SHACL-AF and SPARQL terms)."""
    return URIRef("http://www.w3.org/ns/shacl#" + name)


def is_true(value: Node | None) -> bool:
    """SHACL's booleans switch on only with the literal true ("1"^^xsd:boolean does not, per the W3C suite)."""
    return isinstance(value, Literal) and value.datatype == XSD.boolean and str(value) == "true"
