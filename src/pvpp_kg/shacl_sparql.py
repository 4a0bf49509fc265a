"""SHACL-SPARQL (SPARQL-based targets, constraints and constraint components) evaluated natively with pyoxigraph.

Why: pyshacl runs every SPARQL target and constraint with rdflib's SPARQL engine, once per focus node, which made
the PVPP layer take tens of seconds for a 1,000-service submission. Here each query runs *once* on an in-memory
pyoxigraph store holding the merged data, with ``$this`` left unbound: the solutions whose ``?this`` is a focus
node are the results (SHACL §5.3 pre-binding gives the same solutions when the query binds ``$this`` in its
top-level pattern, as every PVPP query does; a query that does not project ``?this``, or leaves it unbound in a
solution, falls back to one evaluation per focus node with ``$this`` substituted, SEP-0007 style).
pyshacl keeps the core constraints: :func:`compile_shapes` returns a copy of the shapes graph without the SPARQL
parts, and :func:`with_target_nodes` turns SPARQL targets of shapes with core constraints into ``sh:targetNode``.

Results come back as a SHACL validation report graph shaped like pyshacl's, so the caller reads both the same
way. Supported (SHACL §5–6): ``sh:prefixes``/``sh:declare``, ``sh:deactivated``, ``$this``, ``$PATH``,
``$currentShape``, constraint-component parameters (pre-bound by substitution), ``sh:message`` templates with
``{?var}``/``{$var}``, the shape's ``sh:severity``, ``sh:resultPath`` from ``?path`` (else the shape's path),
``sh:value`` from ``?value`` (else the focus node of a node shape), ``?failure``; SELECT validators only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

Term = URIRef | BNode | Literal
RdfTriple = tuple[Term, Term, Term]
# ``map`` or a thread pool's ``map``: how independent queries are run (the results come back in order)
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]

SH_SPARQL_COMPONENT = SH.SPARQLConstraintComponent
_THIS = re.compile(r"[$?]this\b")
_PATH = re.compile(r"\$PATH\b")
_TEMPLATE = re.compile(r"\{[$?]([A-Za-z_][A-Za-z0-9_]*)\}")


class SparqlFailure(RuntimeError):
    """A SPARQL constraint reported ``?failure`` (SHACL §5.3.2): the validation itself failed."""


# ---------------------------------------------------------------------------------------------------------------
# terms: the same node must be the same in pyoxigraph and rdflib (blank nodes keep their label both ways)
# ---------------------------------------------------------------------------------------------------------------

def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Term:
    """A pyoxigraph term as rdflib's (blank node labels are kept, so both graphs name a node alike)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:  # as rdflib's own parsers read a plain literal
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as pyoxigraph's (the inverse of :func:`to_rdflib`)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", str(term)))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or _XSD_STRING)))
    raise TypeError(f"unsupported term {term!r}")


def rdflib_triples(triples: Iterable[ox.Triple | ox.Quad]) -> Iterator[RdfTriple]:
    """pyoxigraph triples (or quads, graph dropped) as rdflib triples."""
    for t in triples:
        yield to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)  # type: ignore[arg-type]


def ox_quads(triples: Iterable[tuple[Node, Node, Node]]) -> Iterator[ox.Quad]:
    """rdflib triples as pyoxigraph quads in the default graph."""
    for s, p, o in triples:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o))  # type: ignore[arg-type]


def _sparql_term(term: Node) -> str:
    """An rdflib IRI as SPARQL text (for ``$PATH``; paths are made of IRIs)."""
    if not isinstance(term, URIRef):
        raise ValueError(f"a SHACL path may only hold IRIs here, not {term!r}")
    return f"<{term}>"


def path_sparql(shapes: Graph, path: Node) -> str:
    """A SHACL property path (SHACL §2.3.1) as a SPARQL property path, for ``$PATH``."""
    if isinstance(path, URIRef):
        return _sparql_term(path)
    if (path, RDF.first, None) in shapes:
        return "(" + " / ".join(path_sparql(shapes, p) for p in Collection(shapes, path)) + ")"
    for pred, fmt in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"), (SH.oneOrMorePath, "{}+"),
                      (SH.zeroOrOnePath, "{}?")):
        inner = shapes.value(path, pred)
        if inner is not None:
            return "(" + fmt.format(path_sparql(shapes, inner)) + ")"
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(path_sparql(shapes, p) for p in Collection(shapes, alternatives)) + ")"
    raise ValueError(f"not a SHACL path: {path!r}")


# ---------------------------------------------------------------------------------------------------------------
# compiling the shapes graph
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SparqlCheck:
    """One SPARQL-based constraint (or constraint-component use) of one shape, ready to run."""

    shape: Node
    query: str  # prefixes applied, $PATH substituted, $this left as ?this
    bindings: tuple[tuple[str, Node], ...]  # pre-bound in the query text (parameters, shape): for messages
    severity: URIRef
    messages: tuple[Literal, ...]
    component: Node
    source_constraint: Node | None
    path: Node | None  # the shape's sh:path when it is a property shape


@dataclass(frozen=True)
class Targets:
    """A shape's target declarations, all evaluated natively (SPARQL targets and the core ones)."""

    nodes: tuple[Node, ...] = ()
    classes: tuple[Node, ...] = ()
    subjects_of: tuple[Node, ...] = ()
    objects_of: tuple[Node, ...] = ()
    sparql: tuple[str, ...] = ()


@dataclass(frozen=True)
class SparqlShapes:
    """The SPARQL part of a shapes graph, and a copy of the graph without it for pyshacl (core constraints)."""

    core: Graph = field(repr=False)
    checks: tuple[SparqlCheck, ...]
    targets: dict[Node, Targets]  # every shape with a SPARQL target or a SPARQL check
    targeted_core: frozenset[Node]  # shapes whose SPARQL targets pyshacl needs as sh:targetNode


def _prefixes(shapes: Graph, node: Node) -> str:
    lines = []
    for holder in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            prefix, ns = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{ns}>")
    return "\n".join(lines) + "\n"


def _is_true(value: Node | None) -> bool:
    return isinstance(value, Literal) and value.toPython() is True


def _drop(g: Graph, node: Node) -> None:
    """Remove a node's description and, recursively, the blank nodes (lists included) it alone describes."""
    for _, _, o in list(g.triples((node, None, None))):
        g.remove((node, None, o))
        if isinstance(o, BNode) and not any(g.subjects(None, o)):
            _drop(g, o)


def _bound(query: str, name: str) -> re.Pattern[str]:
    return re.compile(rf"[$?]{name}\b")


def _pre_bind(query: str, name: str, value: Node) -> str:
    """Substitute a pre-bound variable by its value (SHACL §5.3.1); pyoxigraph's SEP-0007 substitutions need the
    variable in the projection, which parameters and ``$currentShape`` usually are not."""
    pattern = _bound(query, name)
    if not pattern.search(query):
        return query
    head = re.split(r"\bWHERE\b|\{", query, maxsplit=1, flags=re.I)[0]
    if pattern.search(head) or isinstance(value, BNode):
        raise ValueError(f"cannot pre-bind ${name} (projected, or a blank node) in: {query}")
    return pattern.sub(lambda _: str(to_ox(value)), query)


def _query(shapes: Graph, holder: Node, path: Node | None, select: Node | None,
           bindings: tuple[tuple[str, Node], ...] = ()) -> str:
    if select is None:
        raise ValueError(f"{holder} has no sh:select")
    text = str(select)
    if _PATH.search(text):
        if path is None:
            raise ValueError(f"$PATH used by {holder} outside a property shape")
        text = _PATH.sub(lambda _: path_sparql(shapes, path), text)
    if "$shapesGraph" in text:
        raise ValueError(f"$shapesGraph is not supported ({holder})")
    for name, value in bindings:
        text = _pre_bind(text, name, value)
    return _prefixes(shapes, holder) + _THIS.sub("?this", text)


def _referenced(shapes: Graph, shape: Node) -> bool:
    return any(p != RDF.first for _, p in shapes.subject_predicates(shape))


def compile_shapes(shapes: Graph) -> SparqlShapes:
    """Split ``shapes``: SPARQL targets/constraints/components to run natively, the rest (a copy) for pyshacl.

    Raises ``ValueError`` for what this evaluator cannot do faithfully (an ASK validator, a SPARQL check on a
    shape that other shapes reference, ``$shapesGraph``), rather than validating differently from pyshacl.
    """
    core = Graph()
    for prefix, ns in shapes.namespaces():
        core.bind(prefix, ns)
    core += shapes
    checks: list[SparqlCheck] = []
    targets: dict[Node, Targets] = {}
    sparql_targeted: set[Node] = set()

    def shape_path(shape: Node) -> Node | None:
        return shapes.value(shape, SH.path)

    def severity(shape: Node) -> URIRef:
        value = shapes.value(shape, SH.severity)
        return value if isinstance(value, URIRef) else SH.Violation

    # SPARQL-based constraints (SHACL §5)
    for shape, constraint in shapes.subject_objects(SH.sparql):
        core.remove((shape, SH.sparql, constraint))
        _drop(core, constraint)
        if _is_true(shapes.value(shape, SH.deactivated)) or _is_true(shapes.value(constraint, SH.deactivated)):
            continue
        if _referenced(shapes, shape):
            raise ValueError(f"{shape} has a SPARQL constraint and is referenced by another shape")
        select = shapes.value(constraint, SH.select)
        messages = tuple(m for m in shapes.objects(constraint, SH.message) if isinstance(m, Literal)) or tuple(
            m for m in shapes.objects(shape, SH.message) if isinstance(m, Literal))
        subs = (("currentShape", shape),) if isinstance(shape, URIRef) else ()
        checks.append(SparqlCheck(shape, _query(shapes, constraint, shape_path(shape), select, subs), subs,
                                  severity(shape), messages, SH_SPARQL_COMPONENT, constraint, shape_path(shape)))

    # SPARQL-based constraint components (SHACL §6): every shape that gives all mandatory parameters uses one
    for component in set(shapes.subjects(RDF.type, SH.ConstraintComponent)):
        params = [(shapes.value(p, SH.path), _is_true(shapes.value(p, SH.optional)))
                  for p in shapes.objects(component, SH.parameter)]
        mandatory = [p for p, optional in params if not optional and p is not None]
        users = set.intersection(*(set(shapes.subjects(p, None)) for p in mandatory)) if mandatory else set()
        for shape in users:
            if _is_true(shapes.value(shape, SH.deactivated)):
                continue
            if _referenced(shapes, shape):
                raise ValueError(f"{shape} uses {component} and is referenced by another shape")
            path = shape_path(shape)
            kind = SH.propertyValidator if path is not None else SH.nodeValidator
            validator = shapes.value(component, kind) or shapes.value(component, SH.validator)
            select = shapes.value(validator, SH.select) if validator is not None else None
            if validator is None or select is None:
                raise ValueError(f"{component}: only SELECT validators are supported natively")
            bound = tuple((str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1], v) for p, _ in params if p is not None
                          for v in shapes.objects(shape, p))
            subs = bound + ((("currentShape", shape),) if isinstance(shape, URIRef) else ())
            messages = (tuple(m for m in shapes.objects(shape, SH.message) if isinstance(m, Literal))
                        or tuple(m for m in shapes.objects(validator, SH.message) if isinstance(m, Literal))
                        or tuple(m for m in shapes.objects(component, SH.message) if isinstance(m, Literal)))
            checks.append(SparqlCheck(shape, _query(shapes, validator, path, select, subs), subs, severity(shape),
                                      messages, component, None, path))
        _drop(core, component)

    # SPARQL targets (SHACL-AF §5.1), and the targets of every shape with a native check
    for shape, target in shapes.subject_objects(SH.target):
        if (target, RDF.type, SH.SPARQLTarget) not in shapes:
            raise ValueError(f"{shape}: only SPARQL targets are supported among sh:target")
        core.remove((shape, SH.target, target))
        _drop(core, target)
        sparql_targeted.add(shape)
    for shape in sparql_targeted | {c.shape for c in checks}:
        implicit = ((shape, RDF.type, RDFS.Class) in shapes and (shape, RDF.type, SH.NodeShape) in shapes)
        targets[shape] = Targets(
            nodes=tuple(shapes.objects(shape, SH.targetNode)),
            classes=tuple(shapes.objects(shape, SH.targetClass)) + ((shape,) if implicit else ()),
            subjects_of=tuple(shapes.objects(shape, SH.targetSubjectsOf)),
            objects_of=tuple(shapes.objects(shape, SH.targetObjectsOf)),
            sparql=tuple(_query(shapes, t, None, shapes.value(t, SH.select))
                         for t in shapes.objects(shape, SH.target)))
    return SparqlShapes(core, tuple(checks), targets, frozenset(sparql_targeted))


# ---------------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------------

def _iri(term: Node) -> str:
    if not isinstance(term, URIRef):
        raise ValueError(f"target predicates and classes must be IRIs, not {term!r}")
    return f"<{term}>"


def focus_nodes(store: ox.Store, targets: Targets, among: Container[Any] | None = None) -> set[Node]:
    """The focus nodes of one shape's targets (SHACL §2.1.3; class targets follow rdfs:subClassOf in the data);
    with ``among`` (store terms), only the nodes found in the data that are among them, and sh:targetNode's."""
    found: set[Node] = set(targets.nodes)
    queries = list(targets.sparql)
    queries += [f"SELECT DISTINCT ?this WHERE {{ ?this a/<{RDFS.subClassOf}>* {_iri(c)} }}"
                for c in targets.classes]
    queries += [f"SELECT DISTINCT ?this WHERE {{ ?this {_iri(p)} ?o }}" for p in targets.subjects_of]
    queries += [f"SELECT DISTINCT ?this WHERE {{ ?s {_iri(p)} ?this }}" for p in targets.objects_of]
    for q in queries:
        for row in store.query(q):
            this = row["this"]
            if this is not None and (among is None or this in among):
                found.add(to_rdflib(this))
    return found


def all_focus_nodes(store: ox.Store, spec: SparqlShapes, among: Container[Any] | None = None, *,
                    map_: Mapper = map) -> dict[Node, set[Node]]:
    """Focus nodes of every shape that has a SPARQL target or a SPARQL check (``among``: see :func:`focus_nodes`;
    ``map_``: see :func:`evaluate`)."""
    found = map_(lambda targets: focus_nodes(store, targets, among), spec.targets.values())
    return dict(zip(spec.targets, found, strict=True))


def with_target_nodes(spec: SparqlShapes, focus: dict[Node, set[Node]]) -> Graph:
    """The core shapes graph with the SPARQL-target focus nodes of shapes with core constraints as sh:targetNode.

    The core graph is copied only when there is something to add (pyshacl then finds these shapes' targets
    without running SPARQL).
    """
    add = [(shape, SH.targetNode, node) for shape in spec.targeted_core for node in focus.get(shape, ())]
    if not add:
        return spec.core
    g = Graph()
    g += spec.core
    for t in add:
        g.add(t)
    return g


def _message(template: Literal, bindings: dict[str, Node]) -> Literal:
    text = _TEMPLATE.sub(lambda m: str(bindings[m.group(1)]) if m.group(1) in bindings else m.group(0),
                         str(template))
    return Literal(text, lang=template.language)


def _solutions(store: ox.Store, check: SparqlCheck, focus: set[Node]) -> Iterator[dict[str, Node]]:
    """The solutions of ``check`` for the focus nodes, as variable → rdflib term (``this`` always bound)."""
    rows = store.query(check.query)
    names = [v.value for v in rows.variables]
    solutions = [{n: to_rdflib(row[n]) for n in names if row[n] is not None} for row in rows]
    if "this" in names and all("this" in s for s in solutions):
        yield from (s for s in solutions if s["this"] in focus)
        return
    for node in focus:  # the query does not bind ?this itself: pre-bind it, one focus node at a time
        if "this" in names:
            per_node = store.query(check.query, substitutions={ox.Variable("this"): to_ox(node)})
        else:
            per_node = store.query(_pre_bind(check.query, "this", node))
        for row in per_node:
            solution = {n: to_rdflib(row[n]) for n in names if row[n] is not None}
            solution.setdefault("this", node)
            yield solution


def evaluate(store: ox.Store, spec: SparqlShapes, focus: dict[Node, set[Node]], *, map_: Mapper = map) -> Graph:
    """Run every SPARQL check once over ``store``; the results as a SHACL report graph (sh:ValidationResult nodes).

    ``focus`` is :func:`all_focus_nodes`' answer. Solutions are de-duplicated on (this, path, value, the other
    variables) as pyshacl does; messages keep their language tags. ``map_`` runs the checks' queries: a thread
    pool's ``map`` runs them side by side (pyoxigraph evaluates without the GIL), in the same order.
    """
    report = Graph()
    checks = [check for check in spec.checks if focus.get(check.shape)]
    answers = map_(lambda check: list(_solutions(store, check, focus[check.shape])), checks)
    for check, solutions in zip(checks, answers, strict=True):
        seen: set[tuple[tuple[str, Node], ...]] = set()
        for solution in solutions:
            if "failure" in solution and _is_true(solution["failure"]):
                raise SparqlFailure(f"SPARQL check of {check.shape} reported a failure")
            key = tuple(sorted(solution.items()))
            if key in seen:
                continue
            seen.add(key)
            this = solution["this"]
            value = solution.get("value", this if check.path is None else None)
            path = solution.get("path", check.path)
            bindings = {**dict(check.bindings), **solution}
            if value is not None:
                bindings.setdefault("value", value)
            if path is not None:
                bindings.setdefault("path", path)
            r = BNode()
            report.add((r, RDF.type, SH.ValidationResult))
            report.add((r, SH.focusNode, this))
            report.add((r, SH.resultSeverity, check.severity))
            report.add((r, SH.sourceShape, check.shape))
            report.add((r, SH.sourceConstraintComponent, check.component))
            if check.source_constraint is not None:
                report.add((r, SH.sourceConstraint, check.source_constraint))
            if path is not None:
                report.add((r, SH.resultPath, path))
            if value is not None:
                report.add((r, SH.value, value))
            for m in check.messages:
                report.add((r, SH.resultMessage, _message(m, bindings)))
    return report
