"""The validation run: targets to focus nodes, every constraint of every shape, nested shapes as node sets.

One :class:`Run` per validation holds the data store and what nested shapes already decided, so a shape that
sh:node, sh:or or a qualified value shape reaches is evaluated once per node, however many shapes point at it.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal
from rdflib.namespace import SH
from rdflib.term import Node

from pvpp_kg.shacl import core, sparql
from pvpp_kg.shacl.classes import Hierarchy
from pvpp_kg.shacl.errors import ShapesError, ValidationFailure
from pvpp_kg.shacl.focus import FEW, Focus, NodesFocus, TargetFocus, ValuesFocus, values
from pvpp_kg.shacl.report import Report, Result
from pvpp_kg.shacl.shapes import Constraint, Shape, ShapesGraph
from pvpp_kg.shacl.terms import OxTerm, skolem, to_ox, to_rdflib
from pvpp_kg.shacl.terms import sparql as sparql_term

Mapper = Callable[..., Iterable[Any]]
Originals = dict[OxTerm, Node]
MANY = 5000  # focus nodes up to which a run lists them for the SPARQL constraints
MAX_DEPTH = 64  # nested shapes deeper than this are a recursion the data never ends
SCANNED = 2000  # failing pairs up to which a property's scan is read and shared between shapes


class Run:
    """One validation of one data store against one shapes graph."""

    def __init__(
        self,
        store: ox.Store,
        shapes: ShapesGraph,
        *,
        union: bool = False,
        only: ox.NamedNode | None = None,
        originals: Originals | None = None,
        hierarchy: Hierarchy | None = None,
        scans: Scans | None = None,
    ) -> None:
        self.store, self.shapes, self.union, self.only = store, shapes, union, only
        self.originals = originals or {}
        self.classes = hierarchy or Hierarchy(store, union)
        self.scans = scans or Scans(self.select)
        self.prefixes: dict[str, str] = {}
        for root in shapes.shapes.values():
            for _, p in root.targets.sparql:
                self.prefixes.update(p)
        self.decided: dict[Shape, dict[OxTerm, tuple[Result, ...]]] = {}  # shape → node → its results
        self.active: list[tuple[Shape, frozenset[OxTerm]]] = []

    # queries -------------------------------------------------------------------------------------------------------

    def _query(self, q: str, prefixes: dict[str, str] | None, subs: dict[str, OxTerm] | None = None) -> Any:
        """Run ``q``; ``subs`` pre-binds variables: written into the text, blank nodes by Oxigraph's substitution."""
        if subs:
            written = {k: sparql_term(v) for k, v in subs.items() if not isinstance(v, ox.BlankNode)}
            q = sparql.substitute(q, written)
            subs = {k: v for k, v in subs.items() if k not in written}
        try:
            return self.store.query(
                q,
                prefixes=prefixes or self.prefixes,
                use_default_graph_as_union=self.union,
                substitutions={ox.Variable(k): v for k, v in subs.items()} if subs else None,
            )
        except SyntaxError as e:
            raise ShapesError(None, f"a compiled query is not valid SPARQL ({e}); query: {q[:300]}") from None
        except (OSError, RuntimeError) as e:
            raise ValidationFailure(f"a validation query failed: {e}") from None

    def select(self, q: str, prefixes: dict[str, str] | None = None) -> list[tuple[OxTerm, ...]]:
        return [tuple(row) for row in self._query(q, prefixes)]

    def solutions(
        self, q: str, prefixes: dict[str, str], subs: dict[str, OxTerm] | None = None
    ) -> list[dict[str, OxTerm]]:
        result = self._query(q, prefixes, subs)
        names = [v.value for v in result.variables]
        return [{n: row[i] for i, n in enumerate(names) if row[i] is not None} for row in result]

    def ask(self, q: str, prefixes: dict[str, str], subs: dict[str, OxTerm]) -> bool:
        return bool(self._query(q, prefixes, subs))

    def original(self, term: OxTerm) -> Node:
        """The term as the data wrote it: Oxigraph stores some literals in a canonical form."""
        return self.originals.get(term) or to_rdflib(term)

    def narrow(self, focus: TargetFocus) -> Focus | None:
        """None when ``focus`` has no node, its few nodes listed when they can be, else ``focus`` with its nodes
        known up to MANY (a SPARQL constraint gets them written in): a shape of a class the data does not use
        costs one lookup instead of a query per constraint. Above FEW nodes the constraints scan their property
        whole, as for any number: Oxigraph scans a property ~10x faster than it looks it up node by node
        (1,000-service submission: validation 1.7 -> 1.0 s, benchmarks/submission)."""
        found = self.select(f"SELECT DISTINCT ?this WHERE {{ {focus.pattern('?this')} }} LIMIT {MANY + 1}")
        if not found:
            return None
        nodes = tuple(row[0] for row in found)
        if len(nodes) <= FEW and not any(isinstance(n, ox.BlankNode) for n in nodes):
            return NodesFocus(nodes)
        return focus if len(nodes) > MANY else dataclasses.replace(focus, listed=nodes)

    def nodes(self, focus: Focus) -> list[OxTerm]:
        if isinstance(focus, TargetFocus) and focus.listed is not None:
            return list(focus.listed)
        return [row[0] for row in self.select(f"SELECT DISTINCT ?this WHERE {{ {focus.pattern('?this')} }}")]

    # shapes --------------------------------------------------------------------------------------------------------

    def validate(self, shape: Shape, focus: Focus) -> list[Result]:
        """Every result of ``shape`` on the focus nodes of ``focus`` (its property shapes' included)."""
        if shape.deactivated:
            return []
        out = self.own(shape, focus)
        if shape.path is None:
            for prop in shape.properties:
                out += self.validate(prop, focus)
        elif shape.properties:
            # each focus node validates its value nodes: a value shared by two focus nodes reports twice
            parents = Counter(
                v for _, v in self.select(f"SELECT DISTINCT ?this ?value WHERE {{ {values(focus, shape.path)} }}")
            )
            for prop in shape.properties:
                for r in self.validate(prop, ValuesFocus(focus, shape.path)):
                    out += [r] * parents[r.focus]
        return out

    def own(self, shape: Shape, focus: Focus) -> list[Result]:
        """The results of ``shape``'s own constraints, not its property shapes'."""
        return [r for c in shape.constraints for r in self._constraint(shape, c, focus)]

    def _constraint(self, shape: Shape, c: Constraint, focus: Focus) -> list[Result]:
        """The results of one constraint: a SPARQL one brings its own messages, a core one its nested results."""
        if c.kind in ("sparql", "component"):
            hits = [(t, v, p, m, ()) for t, v, p, m in sparql.evaluate(self, shape, c, focus)]
        else:
            hits = [(t, v, p, shape.messages, d) for t, v, p, d in core.CHECKS[c.kind](self, shape, c, focus)]
        return [
            Result(
                this,
                path if path is not None else shape.path,
                value,
                shape.node,
                c.component,
                shape.severity,
                messages,
                c.source,
                details,
            )
            for this, value, path, messages, details in hits
        ]

    def failing(self, shape: Shape, focus: Focus, nodes: set[OxTerm]) -> dict[OxTerm, tuple[Result, ...]]:
        """Those of ``nodes`` (the focus nodes of ``focus``) that do not conform to ``shape``, with their results."""
        known = self.decided.setdefault(shape, {})
        todo = frozenset(n for n in nodes if n not in known)
        if todo:
            for s, pending in self.active:
                if s == shape and todo & pending:
                    raise ShapesError(
                        shape.node,
                        "the shape reaches itself through sh:node, sh:not, sh:and, "
                        "sh:or, sh:xone or a qualified value shape on the same node",
                    )
            if len(self.active) >= MAX_DEPTH:
                raise ShapesError(shape.node, f"shapes nested deeper than {MAX_DEPTH} levels")
            self.active.append((shape, todo))
            try:
                if all(not isinstance(n, ox.BlankNode) for n in todo) and len(todo) < len(nodes):
                    focus = NodesFocus(tuple(todo))  # only what is still undecided
                found: dict[OxTerm, list[Result]] = {}
                for r in self.validate(shape, focus):
                    found.setdefault(r.focus, []).append(r)
            finally:
                self.active.pop()
            for n in todo:
                known[n] = tuple(found.get(n, ()))
        return {n: known[n] for n in nodes if known[n]}


class Scans:
    """A property's failing (subject, value) pairs under a test, found once per validation for every shape that
    applies the same test to the same property (the CPSV-AP shapes test the language tags of dct:title and
    dct:description class by class)."""

    def __init__(self, select: Callable[[str], list[tuple[OxTerm, ...]]]) -> None:
        self.select = select
        self.found: dict[tuple[str, str], list[tuple[OxTerm, OxTerm]] | None] = {}
        self.locks: dict[tuple[str, str], threading.Lock] = {}
        self.lock = threading.Lock()

    def failing(self, path: str, test: str) -> list[tuple[OxTerm, OxTerm]] | None:
        """The failing pairs, or None when there are more than SCANNED: each pair read costs ~5 us, so many of
        them cost more than joining the test with each shape's focus nodes (30,091 pairs: 0.2 s against 0.02 s)."""
        key = (path, test)
        with self.lock:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:  # one thread scans, the others wait for its answer
            if key not in self.found:
                q = f"SELECT DISTINCT ?this ?value WHERE {{ ?this {path} ?value {test} }} LIMIT {SCANNED + 1}"
                found = [(t, v) for t, v in self.select(q)]
                self.found[key] = found if len(found) <= SCANNED else None
            return self.found[key]


def validate(
    store: ox.Store,
    shapes: ShapesGraph,
    *,
    union: bool = False,
    only: ox.NamedNode | None = None,
    originals: Originals | None = None,
    extra_subclasses: Iterable[tuple[Node, Node]] = (),
    map_: Mapper = map,
) -> Report:
    """Validate the data in ``store`` (its default graph, or all graphs with ``union``) against ``shapes``.

    ``only``: report only on focus nodes that are subjects in that named graph. ``originals``: literals as the
    data wrote them (see :func:`originals`). ``extra_subclasses``: rdfs:subClassOf axioms to read the data
    with, as if the data graph stated them. ``map_`` may run the root shapes in threads: pyoxigraph evaluates
    queries without the GIL.
    """
    (report,) = validate_each(
        store, [shapes], union=union, only=only, originals=originals, extra_subclasses=extra_subclasses, map_=map_
    )
    return report


def validate_each(
    store: ox.Store,
    graphs: Sequence[ShapesGraph],
    *,
    union: bool = False,
    only: ox.NamedNode | None = None,
    originals: Originals | None = None,
    extra_subclasses: Iterable[tuple[Node, Node]] = (),
    map_: Mapper = map,
) -> list[Report]:
    """:func:`validate` against several shapes graphs, a report each, their root shapes given to ``map_`` as one
    list: the threads stay busy until the last root of all, not of each graph in turn."""
    jobs: list[tuple[int, Callable[[], list[Result]]]] = []
    for i, shapes in enumerate(graphs):
        jobs += [(i, job) for job in _root_jobs(store, shapes, union, only, originals, extra_subclasses)]
    found: list[list[Result]] = [[] for _ in graphs]
    # no de-duplication: a shape reached along two paths reports twice, as SHACL's report does
    for (i, _), results in zip(jobs, map_(lambda job: job[1](), jobs), strict=True):
        found[i] += results
    return [Report(results, originals or {}) for results in found]


def _root_jobs(
    store: ox.Store,
    shapes: ShapesGraph,
    union: bool,
    only: ox.NamedNode | None,
    originals: Originals | None,
    extra_subclasses: Iterable[tuple[Node, Node]],
) -> list[Callable[[], list[Result]]]:
    """Jobs for the root shapes of ``shapes``: a node shape's own constraints and each of its property shapes are
    jobs of their own, so that the threads stay busy to the end (on the national graph a root took up to 1.3 s,
    and one thread ran on alone ~0.9 s); the jobs share the class hierarchy, the property scans and each root's
    focus nodes."""
    if shapes.uses_shapes_graph:
        store = _with_shapes_graph(store, shapes.g, union)
        union = False
    hierarchy = Hierarchy(store, union, extra_subclasses)  # shared by the runs: the lookups are the same
    scans = Run(store, shapes, union=union, originals=originals, hierarchy=hierarchy).scans  # one for all runs
    foci: dict[Shape, Focus | None] = {}
    locks = {shape: threading.Lock() for shape in shapes.roots}

    def run_for(shape: Shape) -> tuple[Run, Focus | None]:
        run = Run(store, shapes, union=union, only=only, originals=originals, hierarchy=hierarchy, scans=scans)
        with locks[shape]:  # a root's focus nodes are found once, by whichever of its jobs comes first
            if shape not in foci:
                foci[shape] = run.narrow(TargetFocus(shape.targets, hierarchy, only))
        return run, foci[shape]

    def validate(root: Shape, shape: Shape) -> list[Result]:  # ``shape``: the root or one of its property shapes
        run, focus = run_for(root)
        return run.validate(shape, focus) if focus is not None else []

    def own(root: Shape) -> list[Result]:
        run, focus = run_for(root)
        return run.own(root, focus) if focus is not None else []

    jobs: list[Callable[[], list[Result]]] = []
    for shape in shapes.roots:
        if shape.path is not None or not shape.properties:
            jobs.append(functools.partial(validate, shape, shape))
        else:  # in the order Run.validate reports them
            jobs.append(functools.partial(own, shape))
            jobs += [functools.partial(validate, shape, p) for p in shape.properties]
    return jobs


def _with_shapes_graph(store: ox.Store, g: Graph, union: bool) -> ox.Store:
    """A copy of the data with the shapes graph beside it, for queries that read $shapesGraph."""
    copy = ox.Store()
    data = store.quads_for_pattern(None, None, None, None if union else ox.DefaultGraph())
    copy.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in data)
    name = ox.NamedNode(str(sparql.SHAPES_GRAPH))
    copy.bulk_extend(ox.Quad(to_ox(skolem(s)), to_ox(p), to_ox(skolem(o)), name) for s, p, o in g)
    return copy


def validate_graphs(data: Graph, shapes: Graph) -> Graph:
    """Validate an rdflib graph against an rdflib shapes graph: the report graph (W3C suite, tests, scripts)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)
    compiled = ShapesGraph(shapes)
    literals = [o for o in data.objects() if isinstance(o, Literal)]
    literals += [n for s in compiled.shapes.values() for n in s.targets.nodes if isinstance(n, Literal)]
    return validate(store, compiled, originals=originals(literals)).graph()


def originals(literals: Iterable[Literal]) -> Originals:
    """The literals that Oxigraph stores in another form ("4.0"^^xsd:decimal as "4"), by their stored form."""
    literals = list(dict.fromkeys(literals))
    probe = ox.Store()
    p = ox.NamedNode("urn:x-pvpp-kg:p")
    probe.bulk_extend(ox.Quad(ox.NamedNode(f"urn:x-pvpp-kg:{i}"), p, to_ox(lit)) for i, lit in enumerate(literals))
    out: Originals = {}
    for q in probe.quads_for_pattern(None, p, None):
        original = literals[int(q.subject.value.rsplit(":", 1)[1])]
        if q.object != to_ox(original):
            out.setdefault(q.object, original)
    return out


__all__ = ["SH", "Run", "validate", "validate_each", "validate_graphs"]
