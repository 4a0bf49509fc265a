"""SHACL Core constraints evaluated natively with pyoxigraph: one SPARQL query per constraint, all focus nodes at once.

Why: pyshacl validates core constraints one focus node at a time on an rdflib graph (some 40,000 shape validations
and two seconds of rdflib lookups for a 1,000-service submission), and needs an rdflib copy of the merged data
for it. Here each constraint of each shape is one query on the pyoxigraph store that :mod:`pvpp_kg.shacl_sparql`
already queries; it returns only the violations. Results come back as a report graph shaped like pyshacl's (the
same focus nodes, paths, values, shapes, components, severities and messages, pyshacl's generic messages
included), so the caller reads both engines' reports alike.

Semantics are pyshacl's with ``allow_warnings`` and ``allow_infos`` (what the validator runs): value nodes are
sets (sh:minCount counts distinct values), sh:class follows ``rdf:type/rdfs:subClassOf*`` in the data graph,
sh:datatype rejects ill-typed literals the way rdflib parses them, a property shape reached through several
``sh:property`` links reports once per link, and so on; where pyshacl's test is Python (datatypes, sh:in with
literals, value ranges, sh:lessThanOrEquals) the query fetches the values and the same test runs here.

Only the focus nodes results are reported for (``mine``) are evaluated: every result's focus node is a focus node
of a root shape (one with targets), each is validated on its own, and the others would only add results that the
caller drops.

Compiled natively: targets (sh:targetClass and implicit class targets, sh:targetNode, sh:targetSubjectsOf,
sh:targetObjectsOf; SPARQL targets come from :mod:`pvpp_kg.shacl_sparql`), node shapes with ``sh:property``,
SHACL paths, sh:class, sh:datatype, sh:in, sh:minCount, sh:maxCount, sh:languageIn, sh:uniqueLang,
sh:minInclusive, sh:maxInclusive, sh:lessThanOrEquals, sh:or, sh:and, sh:not and sh:qualifiedValueShape (when the
shapes they name are node shapes built from sh:class, sh:in with IRIs, sh:languageIn, sh:datatype for
rdf:langString/xsd:string/rdfs:Literal/rdfs:Datatype, sh:or, sh:and and sh:not), ``sh:closed false``,
sh:deactivated, sh:severity, sh:message. A root shape that reaches anything else (sh:node, sh:xone, sh:pattern,
``sh:closed true``, disjoint qualified value shapes, a property shape with its own sh:property, …) is left to
pyshacl: :func:`evaluate` returns a shapes graph in which only those shapes have targets, their focus nodes as
``sh:targetNode``.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD, NamespaceManager
from rdflib.term import Node

from pvpp_kg.shacl_sparql import Mapper, SparqlShapes, path_sparql, to_ox, to_rdflib

_SCRATCH = "urn:x-pvpp-kg:shacl-core:"
_FOCUS_GRAPH = ox.NamedNode(_SCRATCH + "focus")  # root key → focus node, while one evaluation runs
_HAS = ox.NamedNode(_SCRATCH + "has")
_FOCUS, _VALUE = "\0focus", "\0value"  # where a generic message names a data-graph term
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_TYPE_OF = f"<{RDF.type}>/<{RDFS.subClassOf}>*"

# every constraint parameter pyshacl knows (pyshacl.constraints.ALL_CONSTRAINT_PARAMETERS, SHACL-AF aside)
_PARAMETERS = frozenset(SH[p] for p in (
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive", "maxExclusive",
    "maxInclusive", "not", "and", "or", "xone", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang",
    "equals", "disjoint", "lessThan", "lessThanOrEquals", "node", "property", "qualifiedValueShape",
    "qualifiedMinCount", "qualifiedValueShapesDisjoint", "qualifiedMaxCount", "closed", "ignoredProperties",
    "hasValue", "in", "sparql"))
_QUALIFIED = frozenset((SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
                        SH.qualifiedValueShapesDisjoint))

# sh:datatype: the datatypes whose test is a node-kind test (pyshacl's special cases), as SPARQL on ``{v}``
_DATATYPE_TESTS = {
    RDFS.Literal: "isLiteral({v})",
    RDFS.Datatype: f'(isLiteral({{v}}) && lang({{v}}) = "" && datatype({{v}}) != <{XSD.string}>)',
    XSD.string: f"(isLiteral({{v}}) && datatype({{v}}) = <{XSD.string}>)",
    RDF.langString: '(isLiteral({v}) && lang({v}) != "")',
}
# pyshacl's check of a literal that has the required datatype: the Python type rdflib parses it to
_PYTHON_TYPES: dict[URIRef, type] = {
    XSD.integer: int, XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: date,
    XSD.time: time, XSD.dateTime: datetime}


class Unsupported(ValueError):
    """A shape uses something this evaluator does not compile faithfully; pyshacl validates its root shape."""


# ---------------------------------------------------------------------------------------------------------------
# compiled form
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One constraint of one shape over the focus nodes of one root shape: a query and how its rows become results.

    ``kind``: ``focus`` (a row is a result without value), ``value`` (a row is a result with ``?value``),
    ``lang`` (sh:uniqueLang: a result per focus node and repeated language), ``qualified`` (``?n`` conforming
    values; ``param`` is (min, max)), ``datatype``/``in``/``range``/``lessThanOrEquals`` (the rows are all
    values, tested in Python against ``param``).
    """

    root: int
    shape: Node
    path: Node | None
    severity: Node
    component: URIRef
    messages: tuple[Node, ...]  # the shape's sh:message; empty: pyshacl's generic message
    generic: tuple[str, ...]  # the generic message, _FOCUS/_VALUE standing for data-graph terms
    kind: str
    query: str
    param: Any = None


@dataclass(frozen=True)
class Root:
    """A shape with targets: where its focus nodes come from."""

    shape: Node
    nodes: tuple[Node, ...] = ()
    classes: tuple[Node, ...] = ()
    subjects_of: tuple[Node, ...] = ()
    objects_of: tuple[Node, ...] = ()
    sparql: bool = False  # shacl_sparql found focus nodes for it too (SPARQL targets)


@dataclass(frozen=True)
class CoreShapes:
    """The core part of a shapes graph: native checks, and what is left to pyshacl."""

    roots: tuple[Root, ...]
    checks: tuple[Check, ...]
    fallback: frozenset[int]  # roots that pyshacl validates
    pyshacl_graph: Graph | None = field(repr=False)  # the shapes without targets, when there is a fallback

    @property
    def fallback_roots(self) -> tuple[Node, ...]:
        return tuple(self.roots[i].shape for i in sorted(self.fallback))


def _key(root: int) -> ox.NamedNode:
    return ox.NamedNode(f"{_SCRATCH}root/{root}")


def _iri(term: Node) -> str:
    if not isinstance(term, URIRef):
        raise Unsupported(f"expected an IRI, not {term!r}")
    return str(ox.NamedNode(str(term)))


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


class _Compiler:
    """Reads the core shapes graph the way pyshacl's ShapesGraph and Shape do, and writes the checks."""

    def __init__(self, spec: SparqlShapes) -> None:
        self.g = spec.core
        self.nsm = spec.core.namespace_manager

    # shapes -----------------------------------------------------------------------------------------------------

    def one(self, node: Node, pred: URIRef) -> Node | None:
        values = list(dict.fromkeys(self.g.objects(node, pred)))
        if len(values) > 1:
            raise Unsupported(f"{node} has several {pred}")
        return values[0] if values else None

    def deactivated(self, shape: Node) -> bool:
        value = self.one(shape, SH.deactivated)
        if value is not None and not isinstance(value, Literal):
            raise Unsupported(f"{shape}: sh:deactivated is not a literal")
        return value is not None and bool(value.value)

    def path(self, shape: Node) -> Node | None:
        """The shape's sh:path (a property shape), or None (a node shape); malformed shapes are pyshacl's."""
        path = self.one(shape, SH.path)
        if path is not None and (shape, RDF.type, SH.NodeShape) in self.g:
            raise Unsupported(f"{shape} is a sh:NodeShape with a sh:path")
        if path is None and (shape, RDF.type, SH.PropertyShape) in self.g:
            raise Unsupported(f"{shape} is a sh:PropertyShape without sh:path")
        return path

    def severity(self, shape: Node) -> Node:
        severity = self.one(shape, SH.severity)
        return SH.Violation if severity is None else severity

    def parameters(self, shape: Node) -> set[URIRef]:
        return {p for p in self.g.predicates(shape) if p in _PARAMETERS}  # type: ignore[misc]

    def items(self, node: Node, nonempty: bool = False) -> list[Node]:
        try:
            members = list(Collection(self.g, node))
        except Exception as e:  # a malformed list: pyshacl fails on it
            raise Unsupported(f"not a list: {node!r}") from e
        if nonempty and not members:
            raise Unsupported(f"an empty list of shapes: {node!r}")
        return members

    def count(self, shape: Node, pred: URIRef) -> int | None:
        value = self.one(shape, pred)
        if value is None:
            return None
        if not isinstance(value, Literal) or value.datatype != XSD.integer or not isinstance(value.value, int) \
                or value.value < 0:
            raise Unsupported(f"{shape}: {pred} must be a non-negative xsd:integer")
        return value.value

    def text(self, node: Node) -> str:
        return _stringify(self.g, node, self.nsm)

    # conformance of nested shapes, as a SPARQL expression on a variable ------------------------------------------

    def conforms(self, shape: Node, var: str, depth: int = 0) -> str:
        """SPARQL expression: ``var`` conforms to ``shape`` (pyshacl: validating it as focus node gives nothing)."""
        if not isinstance(shape, URIRef | BNode) or depth > 16:
            raise Unsupported(f"cannot use {shape!r} as a nested shape")
        if self.deactivated(shape):
            return "true"
        if self.severity(shape) in (SH.Warning, SH.Info):  # pyshacl deems such a shape always conforming
            raise Unsupported(f"{shape}: a nested shape with severity {self.severity(shape)}")
        if self.path(shape) is not None:
            raise Unsupported(f"{shape}: a nested property shape")
        parts = []
        params = self.parameters(shape) - _QUALIFIED  # pyshacl ignores qualified value shapes on node shapes
        for p in params:
            values = list(self.g.objects(shape, p))
            if p == SH["class"]:
                parts += [f"EXISTS {{ {var} {_TYPE_OF} {_iri(c)} }}" for c in values]
            elif p == SH["in"]:
                parts.append(self.in_test(shape, var))
            elif p == SH.languageIn:
                parts.append(self.language_test(shape, var))
            elif p == SH.datatype:
                datatype = self.one(shape, SH.datatype)
                if datatype not in _DATATYPE_TESTS:
                    raise Unsupported(f"{shape}: sh:datatype {datatype} inside another shape")
                parts.append(_DATATYPE_TESTS[datatype].format(v=var))  # type: ignore[index]
            elif p == SH["not"]:
                parts += [f"!({self.conforms(n, var, depth + 1)})" for n in values]
            elif p in (SH["or"], SH["and"]):
                op = " || " if p == SH["or"] else " && "
                parts += ["(" + op.join(self.conforms(m, var, depth + 1) for m in self.items(lst, True)) + ")"
                          for lst in values]
            elif p == SH.closed:
                self.not_closed(shape)
            else:
                raise Unsupported(f"{shape}: {p} inside another shape")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def in_members(self, shape: Node) -> list[Node]:
        lst = self.one(shape, SH["in"])
        assert lst is not None
        return self.items(lst)

    def in_test(self, shape: Node, var: str) -> str:
        members = self.in_members(shape)
        if not all(isinstance(m, URIRef) for m in members):
            raise Unsupported(f"{shape}: sh:in with literals or blank nodes inside another shape")
        return "(" + " || ".join(f"sameTerm({var}, {_iri(m)})" for m in members) + ")" if members else "false"

    def languages(self, shape: Node) -> list[str]:
        lst = self.one(shape, SH.languageIn)
        assert lst is not None
        members = self.items(lst)
        if not all(isinstance(m, Literal) and isinstance(m.value, str) for m in members):
            raise Unsupported(f"{shape}: sh:languageIn members must be strings")
        return list(dict.fromkeys(str(m.value).lower() for m in members))

    def language_test(self, shape: Node, var: str) -> str:
        """pyshacl's sh:languageIn: the lower-cased tag, or its part before the first '-', is listed ('*': any)."""
        wanted = self.languages(shape)
        tagged = f'isLiteral({var}) && lang({var}) != ""'
        if "*" in wanted:
            return f"({tagged})"
        if not wanted:
            return "false"
        listed = ", ".join(_string(w) for w in wanted)
        first = f'IF(CONTAINS(lang({var}), "-"), STRBEFORE(lang({var}), "-"), lang({var}))'
        return f"({tagged} && (LCASE(lang({var})) IN ({listed}) || LCASE({first}) IN ({listed})))"

    def not_closed(self, shape: Node) -> None:
        closed = self.one(shape, SH.closed)
        if not isinstance(closed, Literal) or bool(closed.value) or (shape, SH.ignoredProperties, None) in self.g:
            raise Unsupported(f"{shape}: sh:closed")

    # checks of one shape over a root's focus nodes ----------------------------------------------------------------

    def shape_checks(self, root: int, shape: Node, nested: bool = False) -> list[Check]:
        """The checks of ``shape`` (and of its sh:property shapes) over the focus nodes of root ``root``."""
        if self.deactivated(shape):
            return []
        path = self.path(shape)
        if nested and path is None:
            raise Unsupported(f"{shape}: sh:property names a node shape")
        focus = f"GRAPH {_FOCUS_GRAPH} {{ {_key(root)} {_HAS} ?this }}"
        if path is None:
            values = f"{focus} BIND (?this AS ?value)"
        else:
            try:
                values = f"{focus} ?this {path_sparql(self.g, path)} ?value ."
            except ValueError as e:
                raise Unsupported(str(e)) from e
        severity = self.severity(shape)
        messages = tuple(self.g.objects(shape, SH.message))
        checks: list[Check] = []

        def check(component: URIRef, generic: tuple[str, ...], kind: str, query: str, param: Any = None) -> None:
            checks.append(Check(root, shape, path, severity, component, messages, generic, kind, query, param))

        def property_only(p: URIRef) -> None:
            if path is None:
                raise Unsupported(f"{shape}: {p} on a node shape")

        path_text = self.text(path) if path is not None else ""
        params = self.parameters(shape)
        if path is None:
            params -= _QUALIFIED
        for p in sorted(params):
            objects = list(self.g.objects(shape, p))
            if p == SH.minCount:
                property_only(p)
                n = self.count(shape, p)
                if n:  # sh:minCount 0 always passes
                    check(SH.MinCountConstraintComponent, (f"Less than {n} values on ", _FOCUS, f"->{path_text}"),
                          "focus", f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this "
                          f"{path_sparql(self.g, path)} ?value }} }} GROUP BY ?this "  # type: ignore[arg-type]
                          f"HAVING (COUNT(DISTINCT ?value) < {n})")
            elif p == SH.maxCount:
                property_only(p)
                n = self.count(shape, p)
                check(SH.MaxCountConstraintComponent, (f"More than {n} values on ", _FOCUS, f"->{path_text}"),
                      "focus", f"SELECT ?this WHERE {{ {values} }} GROUP BY ?this "
                      f"HAVING (COUNT(DISTINCT ?value) > {n})")
            elif p == SH["class"]:
                text = (f"Value does not have class {self.text(objects[0])}" if len(objects) < 2 else
                        f"Value class is not in classes ({', '.join(self.text(c) for c in objects)})")
                for c in objects:
                    check(SH.ClassConstraintComponent, (text,), "value",
                          f"SELECT DISTINCT ?this ?value WHERE {{ {values} MINUS {{ ?value {_TYPE_OF} {_iri(c)} }} }}")
            elif p == SH.datatype:
                datatype = self.one(shape, p)
                generic = (f"Value is not Literal with datatype {self.text(datatype)}",)  # type: ignore[arg-type]
                if datatype in _DATATYPE_TESTS:
                    test = _DATATYPE_TESTS[datatype].format(v="?value")  # type: ignore[index]
                    check(SH.DatatypeConstraintComponent, generic, "value",
                          f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER (!{test}) }}")
                else:
                    _iri(datatype)  # type: ignore[arg-type]
                    check(SH.DatatypeConstraintComponent, generic, "datatype",
                          f"SELECT DISTINCT ?this ?value WHERE {{ {values} }}", str(datatype))
            elif p == SH["in"]:
                members = self.in_members(shape)
                in_vals: set[Node] = set()
                for m in members:  # pyshacl lists them in its set's order
                    in_vals.add(m)
                generic = ("Value ", _VALUE, f" not in list {[self.text(m) for m in in_vals]}")
                if all(isinstance(m, URIRef) for m in members):
                    check(SH.InConstraintComponent, generic, "value", f"SELECT DISTINCT ?this ?value WHERE "
                          f"{{ {values} FILTER (!{self.in_test(shape, '?value')}) }}")
                else:
                    check(SH.InConstraintComponent, generic, "in",
                          f"SELECT DISTINCT ?this ?value WHERE {{ {values} }}", frozenset(in_vals))
            elif p == SH.languageIn:
                lst = self.one(shape, p)
                check(SH.LanguageInConstraintComponent,
                      (f"String language is not in {self.text(lst)}",),  # type: ignore[arg-type]
                      "value", f"SELECT DISTINCT ?this ?value WHERE {{ {values} "
                      f"FILTER (!{self.language_test(shape, '?value')}) }}")
            elif p == SH.uniqueLang:
                property_only(p)
                flag = self.one(shape, p)
                if not isinstance(flag, Literal) or not isinstance(flag.value, bool):
                    raise Unsupported(f"{shape}: sh:uniqueLang must be a boolean")
                if flag.value:
                    check(SH.UniqueLangConstraintComponent, ("More than one String shares the same Language",),
                          "lang", f"SELECT ?this ?lang WHERE {{ {values} "
                          f'FILTER (isLiteral(?value) && lang(?value) != "") BIND (LCASE(lang(?value)) AS ?lang) }} '
                          f"GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?value) > 1)")
            elif p in (SH["or"], SH["and"], SH["not"]):
                self.logical(p, objects, values, check)
            elif p == SH.qualifiedValueShape:
                self.qualified(shape, path, focus, check)
            elif p in (SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint):
                if SH.qualifiedValueShape not in params:
                    raise Unsupported(f"{shape}: {p} without sh:qualifiedValueShape")
            elif p in (SH.minInclusive, SH.maxInclusive):
                if not all(isinstance(b, Literal) for b in objects):
                    raise Unsupported(f"{shape}: {p} must be literals")
                op = ">=" if p == SH.minInclusive else "<="
                rules = (self.text(objects[0]) if len(objects) < 2 else
                         "in (" + ", ".join(self.text(b) for b in objects) + ")")
                component = SH.MinInclusiveConstraintComponent if op == ">=" else SH.MaxInclusiveConstraintComponent
                check(component, (f"Value is not {op} {rules}",), "range",
                      f"SELECT DISTINCT ?this ?value WHERE {{ {values} }}", (op, tuple(objects)))
            elif p == SH.lessThanOrEquals:
                property_only(p)
                compared = set(objects)
                if not all(isinstance(c, URIRef) for c in compared):
                    raise Unsupported(f"{shape}: sh:lessThanOrEquals must be IRIs")
                rules = (self.text(next(iter(compared))) if len(compared) < 2 else
                         ", ".join(self.text(c) for c in compared))
                for c in compared:
                    check(SH.LessThanOrEqualsConstraintComponent, ("Value of ", _FOCUS, f"->{rules} < ", _VALUE),
                          "lessThanOrEquals", f"SELECT DISTINCT ?this ?value ?other WHERE {{ {values} "
                          f"OPTIONAL {{ ?this {_iri(c)} ?other }} }}")
            elif p == SH.closed:
                self.not_closed(shape)
            elif p == SH.property:
                if path is not None:
                    raise Unsupported(f"{shape}: sh:property on a property shape")
                for prop in dict.fromkeys(objects):
                    checks += self.shape_checks(root, prop, nested=True)
            else:
                raise Unsupported(f"{shape}: {p} is not compiled natively")
        return checks

    def logical(self, p: URIRef, objects: list[Node], values: str, check: Callable[..., None]) -> None:
        """sh:or/sh:and (one result per value conforming to none/not all members), sh:not (per conforming value)."""
        for obj in objects:
            if p == SH["not"]:
                test = self.conforms(obj, "?value")
                text = (f"Node {{}} must not conform to shape {self.text(objects[0])}" if len(objects) == 1 else
                        "Node {} must not conform to any shapes in " + " , ".join(self.text(n) for n in objects))
                component, violated = SH.NotConstraintComponent, test
            else:
                op, word, name = ((" || ", "one or more", SH.OrConstraintComponent) if p == SH["or"] else
                                  (" && ", "all", SH.AndConstraintComponent))
                members = self.items(obj, nonempty=True)
                violated = "!(" + op.join(self.conforms(m, "?value") for m in members) + ")"
                if len(objects) < 2:
                    listed = " , ".join(self.text(m) for m in self.items(objects[0]))
                else:
                    listed = " and ".join("(" + " , ".join(self.text(m) for m in self.items(lst)) + ")"
                                          for lst in objects)
                text = f"Node {{}} must conform to {word} shapes in {listed}"
                component = name
            before, after = text.split("{}", 1)
            check(component, (before, _VALUE, after), "value",
                  f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER ({violated}) }}")

    def qualified(self, shape: Node, path: Node | None, focus: str, check: Callable[..., None]) -> None:
        """sh:qualifiedValueShape: per focus node, the values conforming to each value shape, counted."""
        disjoint = [d for d in self.g.objects(shape, SH.qualifiedValueShapesDisjoint)
                    if isinstance(d, Literal) and isinstance(d.value, bool) and d.value]
        if disjoint:
            raise Unsupported(f"{shape}: sh:qualifiedValueShapesDisjoint")
        low, high = self.count(shape, SH.qualifiedMinCount), self.count(shape, SH.qualifiedMaxCount)
        if low is None and high is None:
            raise Unsupported(f"{shape}: sh:qualifiedValueShape without sh:qualifiedMinCount/MaxCount")
        value_shapes = set(self.g.objects(shape, SH.qualifiedValueShape))
        counts = (f" MinCount {low}" if low is not None else "") + (f" MaxCount {high}" if high is not None else "")
        listed = ",".join(self.text(s) for s in value_shapes)
        text = (f"Focus node does not conform to shapes{counts}: ({listed})" if len(value_shapes) > 1 else
                f"Focus node does not conform to shape{counts}: {listed}")
        bounds = " || ".join(([f"COUNT(DISTINCT ?value) < {low}"] if low else []) +
                             ([f"COUNT(DISTINCT ?value) > {high}"] if high is not None else []))
        if not bounds:  # qualifiedMinCount 0 and no maximum: always passes
            return
        for value_shape in value_shapes:
            test = self.conforms(value_shape, "?value")
            check(SH.QualifiedMinCountConstraintComponent, (text,), "qualified",  # or …MaxCount…, by the count
                  f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} OPTIONAL {{ ?this "
                  f"{path_sparql(self.g, path)} ?value FILTER ({test}) }} }} "  # type: ignore[arg-type]
                  f"GROUP BY ?this HAVING ({bounds})", (low, high))


def _harvested(g: Graph) -> set[Node]:
    """The nodes pyshacl takes for shapes (ShapesGraph._build_node_shape_cache)."""
    shapes: set[Node] = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    for p in (*_TARGETS, SH.property, SH.node):
        shapes |= set(g.subjects(p, None))
    for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        shapes |= set(g.objects(None, p))
    for p in (SH["and"], SH["or"], SH.xone):
        for lst in g.objects(None, p):
            try:
                shapes |= set(Collection(g, lst))
            except Exception:  # a malformed list: pyshacl reports it
                continue
    return shapes


def _roots(spec: SparqlShapes) -> list[Root]:
    """Shapes with targets, as pyshacl finds them (implicit class targets included), and SPARQL-targeted ones."""
    g = spec.core
    classes = {RDFS.Class, *g.subjects(RDFS.subClassOf, RDFS.Class)}
    roots = []
    for shape in sorted(_harvested(g) | set(spec.targeted_core), key=lambda n: (isinstance(n, BNode), str(n))):
        implicit = (shape,) if any(t in classes for t in g.objects(shape, RDF.type)) else ()
        root = Root(shape, nodes=tuple(g.objects(shape, SH.targetNode)),
                    classes=tuple(g.objects(shape, SH.targetClass)) + implicit,
                    subjects_of=tuple(g.objects(shape, SH.targetSubjectsOf)),
                    objects_of=tuple(g.objects(shape, SH.targetObjectsOf)), sparql=shape in spec.targeted_core)
        if root.nodes or root.classes or root.subjects_of or root.objects_of or root.sparql:
            roots.append(root)
    return roots


def _pyshacl_graph(spec: SparqlShapes) -> Graph:
    """The core shapes without any target (a fallback root gets its focus nodes as sh:targetNode)."""
    g = Graph()
    for prefix, ns in spec.core.namespaces():
        g.bind(prefix, ns)
    g += spec.core
    for p in _TARGETS:
        g.remove((None, p, None))
    classes = {RDFS.Class, *g.subjects(RDFS.subClassOf, RDFS.Class)}
    for shape in _harvested(g):
        for t in classes:
            g.remove((shape, RDF.type, t))
    return g


def compile_shapes(spec: SparqlShapes) -> CoreShapes:
    """Compile the core shapes of ``spec`` (what :func:`pvpp_kg.shacl_sparql.compile_shapes` left for pyshacl).

    A root shape whose checks cannot all be compiled (:class:`Unsupported`) is left to pyshacl as a whole.
    """
    roots = _roots(spec)
    compiler = _Compiler(spec)
    checks: list[Check] = []
    fallback: set[int] = set()
    for i, root in enumerate(roots):
        try:
            checks += compiler.shape_checks(i, root.shape)
        except Unsupported:
            fallback.add(i)
    checks = [c for c in checks if c.root not in fallback]
    return CoreShapes(tuple(roots), tuple(checks), frozenset(fallback),
                      _pyshacl_graph(spec) if fallback else None)


# ---------------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------------

def _ox_node(node: Node) -> ox.NamedNode | ox.BlankNode | None:
    """The store's term for an rdflib node (the inverse of to_rdflib; a blank node label it cannot hold is mapped
    as :func:`to_ox` maps it when loading); None for literals, never reported on, and IRIs no store can hold."""
    try:
        if isinstance(node, URIRef):
            return ox.NamedNode(str(node))
        if isinstance(node, BNode):
            try:
                return ox.BlankNode(str(node))
            except ValueError:
                return to_ox(node)  # type: ignore[return-value]
    except ValueError:
        pass
    return None


def _focus(store: ox.Store, spec: CoreShapes, sparql_focus: dict[Node, set[Node]],
           mine: AbstractSet[ox.NamedNode | ox.BlankNode]) -> dict[int, set[ox.NamedNode | ox.BlankNode]]:
    """Each root's focus nodes among ``mine``: one query per kind of target for all roots (a class or predicate
    that is no IRI, a shapes-graph blank node say, matches nothing in the data)."""
    by_target: dict[tuple[str, URIRef], set[Any]] = {}
    for kind, attr, pattern in (("class", "classes", f"?this {_TYPE_OF} ?t"), ("subjects", "subjects_of",
                                "?this ?t ?o"), ("objects", "objects_of", "?s ?t ?this")):
        wanted = {t for r in spec.roots for t in getattr(r, attr) if isinstance(t, URIRef)}
        if not wanted:
            continue
        listed = " ".join(_iri(t) for t in wanted)
        for row in store.query(f"SELECT DISTINCT ?t ?this WHERE {{ VALUES ?t {{ {listed} }} {pattern} }}"):
            if row["this"] in mine:
                by_target.setdefault((kind, URIRef(row["t"].value)), set()).add(row["this"])
    focus: dict[int, set[Any]] = {}
    for i, root in enumerate(spec.roots):
        nodes = {n for n in map(_ox_node, (*root.nodes, *sparql_focus.get(root.shape, ()))) if n in mine}
        for kind, targets in (("class", root.classes), ("subjects", root.subjects_of), ("objects", root.objects_of)):
            for t in targets:
                nodes |= by_target.get((kind, t), set())
        if nodes:
            focus[i] = nodes
    return focus


# looked up once: rdflib's Namespace attribute access costs microseconds, and a report has thousands of triples
_RESULT_TERMS = (RDF.type, SH.ValidationResult, SH.sourceConstraintComponent, SH.sourceShape, SH.resultSeverity,
                 SH.focusNode, SH.value, SH.resultPath, SH.resultMessage)


class NodeSet:
    """The nodes a validation reports on, held as store terms; an rdflib node is converted when tested.

    Why: a 1,000-service submission introduces ~13,000 nodes and gets a few thousand results; converting every
    node to rdflib up front cost more than the checks that use the set.
    """

    __slots__ = ("terms",)

    def __init__(self, terms: Iterable[ox.NamedNode | ox.BlankNode]) -> None:
        self.terms = frozenset(terms)

    @classmethod
    def of(cls, nodes: Iterable[Node], terms: Iterable[ox.NamedNode | ox.BlankNode] = ()) -> NodeSet:
        """rdflib nodes (literals and IRIs no store can hold are left out) and store terms."""
        return cls({*(t for t in map(_ox_node, nodes) if t is not None), *terms})

    def __contains__(self, node: object) -> bool:
        if isinstance(node, ox.NamedNode | ox.BlankNode):
            return node in self.terms
        return isinstance(node, URIRef | BNode) and _ox_node(node) in self.terms

    def __iter__(self) -> Iterator[Node]:
        return map(to_rdflib, self.terms)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeSet) and self.terms == other.terms

    __hash__ = None  # type: ignore[assignment]


_RESULT_IDS = itertools.count()
_RESULT_PREFIX = f"r{uuid.uuid4().hex[:12]}n"


def _result_node() -> BNode:
    """A fresh blank node for a result: unique in the process and across processes like rdflib's ``BNode()``, but
    without a uuid4 (and its system call) for each of a report's thousands of results."""
    return BNode(f"{_RESULT_PREFIX}{next(_RESULT_IDS)}")


@dataclass
class CoreResult:
    """One result of a native check; ``node`` names it in the report graph."""

    node: BNode
    check: Check
    focus: Node
    value: Node | None
    component: URIRef
    messages: list[Literal]


class CoreReport:
    """The results of :func:`evaluate`. Most callers read ``results``; ``graph`` (the report as pyshacl writes it)
    is built when first asked for: thousands of rdflib triples cost more than the checks that found them."""

    def __init__(self) -> None:
        self.results: list[CoreResult] = []

    def add_message(self, result: CoreResult, message: Literal) -> None:
        result.messages.append(message)
        if "graph" in self.__dict__:
            self.graph.add((result.node, _RESULT_TERMS[8], message))

    @cached_property
    def graph(self) -> Graph:
        a, result, source_component, source_shape, severity, focus_node, sh_value, result_path, message = (
            _RESULT_TERMS)
        g = Graph(store="SimpleMemory")  # no contexts: twice as fast to fill, read like any graph
        add = g.add
        for res in self.results:
            r, check = res.node, res.check
            add((r, a, result))
            add((r, source_component, res.component))
            add((r, source_shape, check.shape))
            add((r, severity, check.severity))
            add((r, focus_node, res.focus))
            if res.value is not None:
                add((r, sh_value, res.value))
            if check.path is not None:
                add((r, result_path, check.path))
            for m in res.messages:
                add((r, message, m))
        return g


def evaluate(store: ox.Store, spec: CoreShapes, sparql_focus: dict[Node, set[Node]],
             mine: Iterable[Node] | NodeSet, *, map_: Mapper = map) -> tuple[CoreReport, Graph | None]:
    """Run the core checks on ``store`` for the focus nodes among ``mine``.

    ``sparql_focus`` is :func:`pvpp_kg.shacl_sparql.all_focus_nodes`' answer (focus nodes of SPARQL targets).
    Returns the results (their report graph shaped like pyshacl's) and, when some root shape is left to pyshacl
    and has focus nodes, the shapes graph to run pyshacl with (else None). The store is left as it was (the focus
    nodes live in a scratch named graph meanwhile). ``map_`` runs the checks' queries (see
    :func:`pvpp_kg.shacl_sparql.evaluate`).
    """
    mine_ox = mine.terms if isinstance(mine, NodeSet) else {n for n in map(_ox_node, mine) if n is not None}
    focus = _focus(store, spec, sparql_focus, mine_ox)
    report = CoreReport()
    native = {i: nodes for i, nodes in focus.items() if i not in spec.fallback}
    store.extend(ox.Quad(_key(i), _HAS, n, _FOCUS_GRAPH) for i, nodes in native.items() for n in nodes)
    try:
        data = _DataText(store)
        checks = [check for check in spec.checks if check.root in native]
        for check, violations in zip(checks, map_(lambda c: list(_violations(store, c)), checks), strict=True):
            for focus_node, value, component in violations:
                messages = list(check.messages) or [Literal("".join(
                    data.text(focus_node) if part == _FOCUS else data.text(value)  # type: ignore[arg-type]
                    if part == _VALUE else part for part in check.generic))]
                report.results.append(CoreResult(_result_node(), check, focus_node, value, component, messages))
    finally:
        store.remove_graph(_FOCUS_GRAPH)
    return report, _fallback_graph(spec, focus)


def _fallback_graph(spec: CoreShapes, focus: dict[int, set[Any]]) -> Graph | None:
    """The shapes for pyshacl, the roots left to it targeting their focus nodes; None when none has any."""
    targets = [(spec.roots[i].shape, SH.targetNode, to_rdflib(n)) for i in sorted(spec.fallback)
               for n in focus.get(i, ())]
    if not targets or spec.pyshacl_graph is None:
        return None
    g = Graph()
    for prefix, ns in spec.pyshacl_graph.namespaces():
        g.bind(prefix, ns)
    g += spec.pyshacl_graph
    for t in targets:
        g.add(t)
    return g


def _violations(store: ox.Store, check: Check) -> Iterator[tuple[Node, Node | None, URIRef]]:
    """(focus node, value, component) of each result of ``check``."""
    rows = store.query(check.query)
    kind, param = check.kind, check.param
    for row in rows:
        this = to_rdflib(row["this"])
        if kind == "focus" or kind == "lang":
            yield this, None, check.component
        elif kind == "value":
            yield this, to_rdflib(row["value"]), check.component
        elif kind == "qualified":
            n, (low, high) = int(row["n"].value), param
            if high is not None and n > high:
                yield this, None, SH.QualifiedMaxCountConstraintComponent
            if low is not None and n < low:
                yield this, None, SH.QualifiedMinCountConstraintComponent
        elif kind == "datatype":
            value = row["value"]
            if not (isinstance(value, ox.Literal) and value.datatype.value == param
                    and _well_typed(value.value, param)):
                yield this, to_rdflib(value), check.component
        elif kind == "in":
            value = to_rdflib(row["value"])
            if value not in param:
                yield this, value, check.component
        elif kind == "range":
            value = to_rdflib(row["value"])
            op, bounds = param
            for bound in bounds:
                if not _in_range(value, bound, op):
                    yield this, value, check.component
        elif kind == "lessThanOrEquals":
            value, other = to_rdflib(row["value"]), row["other"]
            if isinstance(value, BNode) or isinstance(other, ox.BlankNode):
                raise RuntimeError("Cannot use sh:lessThanOrEquals to compare a BlankNode.")  # as pyshacl
            if other is not None and not _less_or_equal(value, to_rdflib(other)):
                yield this, value, check.component
        else:
            raise AssertionError(kind)



# ---------------------------------------------------------------------------------------------------------------
# pyshacl's tests that are Python, not SPARQL
# ---------------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _well_typed(lexical: str, datatype: str) -> bool:
    """pyshacl's sh:datatype test of a literal that has the required datatype: rdflib parses it, to the expected
    Python type for the datatypes pyshacl knows."""
    literal = Literal(lexical, datatype=URIRef(datatype))
    if literal.ill_typed is True:
        return False
    expected = _PYTHON_TYPES.get(URIRef(datatype))
    return expected is None or isinstance(literal.value, expected)


def _compare(a: Literal, b: Literal) -> int:
    """pyshacl's compare_literal: value order, datetimes and times compared as Python values."""
    if a.eq(b):
        return 0
    if a.value.__class__ in (datetime, time):
        if a.value == b.value:
            return 0
        if a.value > b.value:
            return 1
    elif a > b:
        return 1
    return -1


def _in_range(value: Node, bound: Literal, op: str) -> bool:
    """pyshacl's sh:minInclusive (op '>=') / sh:maxInclusive ('<='): IRIs, blank nodes and a string against a
    non-string never pass; values that cannot be compared do not either."""
    if not isinstance(value, Literal) or isinstance(value.value, str) != isinstance(bound.value, str):
        return False
    try:
        order = _compare(value, bound)
    except (TypeError, NotImplementedError):
        return False
    return order >= 0 if op == ">=" else order <= 0


def _less_or_equal(value: Node, other: Node) -> bool:
    """pyshacl's sh:lessThanOrEquals pair test: IRIs and string literals compare as strings, only with strings."""
    def plain(n: Node) -> tuple[Any, bool]:
        if isinstance(n, URIRef):
            return str(n), True
        if isinstance(n, Literal) and isinstance(n.value, str):
            return n.value, True
        return n, False

    (a, a_string), (b, b_string) = plain(value), plain(other)
    return a_string == b_string and bool(a <= b)


# ---------------------------------------------------------------------------------------------------------------
# generic messages: terms written as pyshacl's stringify_node writes them
# ---------------------------------------------------------------------------------------------------------------

class _DataText:
    """Data-graph terms for generic messages: prefixes of a fresh rdflib graph (pyshacl saw one), blank nodes
    described by their triples in the store."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self._graph: Graph | None = None

    def text(self, node: Node) -> str:
        if self._graph is None:
            self._graph = Graph()
        nsm = self._graph.namespace_manager
        return _stringify(self._description(node) if isinstance(node, BNode) else self._graph, node, nsm)

    def _description(self, node: BNode) -> Graph:
        g = Graph()
        todo, seen = [node], set()
        while todo:
            b = todo.pop()
            if b in seen:
                continue
            seen.add(b)
            subject = _ox_node(b)
            if subject is None:
                continue
            for q in self.store.quads_for_pattern(subject, None, None, ox.DefaultGraph()):
                s, p, o = to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)
                g.add((s, p, o))
                if isinstance(o, BNode):
                    todo.append(o)
        return g


def _stringify(graph: Graph, node: Node, nsm: NamespaceManager, recursion: int = 0) -> str:
    """A term as pyshacl's ``stringify_node`` writes it (blank nodes by their description in ``graph``)."""
    if isinstance(node, Literal):
        return _stringify_literal(graph, node, nsm)
    if isinstance(node, BNode):
        return _stringify_blank(graph, node, nsm, recursion + 1)
    if isinstance(node, URIRef):
        try:
            return node.n3(namespace_manager=nsm)
        except Exception:
            return str(node)
    return str(node)


def _stringify_blank(graph: Graph, node: BNode, nsm: NamespaceManager, recursion: int) -> str:
    if recursion >= 12:
        return "<http://recursion.too.deep>"
    predicates = list(graph.predicates(node))
    if not predicates:
        return "[ ]"
    if RDF.first in predicates:
        return "( {} )".format(" ".join(_stringify(graph, i, nsm, recursion + 1) for i in graph.items(node)))
    texts: dict[str, str] = {}
    for p in predicates:
        objects = sorted(_stringify(graph, o, nsm, recursion + 1) for o in graph.objects(node, p))
        if objects:
            texts[p.n3(namespace_manager=nsm)] = ", ".join(objects)
    body = " ; ".join(f"{p} {o}" for p, o in sorted(texts.items()))
    return f"[ {body} ]"


def _stringify_literal(graph: Graph, node: Literal, nsm: NamespaceManager) -> str:
    value = None if node.value is None else str(node.value)
    lexical = str(node)
    if value is not None and value.find(" object at 0x") > 0:
        value = value[:value.find(" object at 0x")]
    text = f'"{lexical}" = {value}' if value is not None and value != lexical else f'"{lexical}"'
    lang = f", lang={node.language}" if node.language else ""
    datatype = f", datatype={_stringify(graph, node.datatype, nsm)}" if node.datatype else ""
    return f"Literal({text}{lang}{datatype})"
