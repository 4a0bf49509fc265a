"""Comparing pvpp_kg.shacl with pyshacl result by result (test_shacl_engine.py, test_shacl_differential.py).

A result is the row (focus, path, value, shape, component, severity); reports are compared as multisets of rows
(a shape reached along two paths reports twice, in both engines). Data terms are rdflib terms with the store's
blank node ids, so blank focus nodes and values compare as they are; a complex result path (a blank node) is
compared as a canonical string of its structure, never by its blank node id.

pyshacl always runs with inference="none", allow_warnings=True and advanced=True (SPARQL targets and SHACL-SPARQL)
on an rdflib copy of exactly the data the engine validated: the store's default graph, which is also where
``Validator.merge`` puts the merged data (the nodes reported on are listed in the scratch graph ``MINE``, which the
copy leaves out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pvpp_kg import shacl
from pvpp_kg.namespaces import SH
from pvpp_kg.shacl.terms import to_rdflib
from pvpp_kg.validation.validator import MINE

Row = tuple[Node, str | None, Node | None, Node, Node, Node]  # focus, path, value, shape, component, severity
Keep = Callable[[Node], bool]  # on the focus node


def data_graph(store: ox.Store) -> Graph:
    """The store's default graph as rdflib terms (literals as stored, blank nodes with their store ids)."""
    g = Graph()
    g.addN(
        (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), g)
        for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    )
    return g


def mine(store: ox.Store) -> set[Node]:
    """The nodes ``Validator.merge`` marked as reported on."""
    return {to_rdflib(q.subject) for q in store.quads_for_pattern(None, None, None, MINE)}


def run_pyshacl(data: Graph, shapes: Graph) -> Graph:
    """pyshacl's report graph for ``data`` against ``shapes``."""
    return pyshacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True)[1]


def canonical_path(node: Node, graphs: Iterable[Graph]) -> str:
    """A SHACL path as a string of its structure (IRIs and nested blank nodes; list cells nest as rdf:first/rest)."""
    if not isinstance(node, BNode):
        return node.n3()
    for g in graphs:
        pairs = list(g.predicate_objects(node))
        if pairs:
            return "[" + " ; ".join(sorted(f"{p.n3()} {canonical_path(o, [g])}" for p, o in pairs)) + "]"
    raise AssertionError(f"the path node {node!r} has no structure in any of the graphs")


def engine_path(path: shacl.Path | Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, shacl.Path):
        g = Graph()
        for t in path.triples:
            g.add(t)
        return canonical_path(path.node, [g])
    return canonical_path(path, [])


def engine_rows(report: shacl.Report, keep: Keep | None = None) -> Counter[Row]:
    rows: Counter[Row] = Counter()
    for r in report.results:
        focus = to_rdflib(r.focus)
        if keep is None or keep(focus):
            value = None if r.value is None else to_rdflib(r.value)
            rows[(focus, engine_path(r.path), value, r.shape, r.component, r.severity)] += 1
    return rows


def pyshacl_rows(report: Graph, shapes: Graph, keep: Keep | None = None) -> Counter[Row]:
    """The top-level results of pyshacl's report (sh:detail results are nested explanations, not results)."""
    rows: Counter[Row] = Counter()
    for r in report.objects(None, SH.result):
        focus = report.value(r, SH.focusNode)
        if keep is None or keep(focus):
            path = report.value(r, SH.resultPath)
            rows[
                (
                    focus,
                    None if path is None else canonical_path(path, [report, shapes]),
                    report.value(r, SH.value),
                    report.value(r, SH.sourceShape),
                    report.value(r, SH.sourceConstraintComponent),
                    report.value(r, SH.resultSeverity),
                )
            ] += 1
    return rows


def shapes_with_messages(compiled: shacl.ShapesGraph) -> set[Node]:
    """Shapes whose results carry messages from the shapes graph (sh:message of the shape, of its SPARQL constraint
    or of its component's validator); other results get pyshacl's generic text, which the engine does not write."""
    out = set()
    for s in compiled.shapes.values():
        queries = [c.params.get("query") for c in s.constraints]
        if s.messages or any(q is not None and q.messages for q in queries):
            out.add(s.node)
    return out


MessageRow = tuple[Node, Node, Node, frozenset[str]]  # focus, shape, component, messages (as text)


def engine_messages(report: shacl.Report, shapes: set[Node], keep: Keep | None = None) -> Counter[MessageRow]:
    rows: Counter[MessageRow] = Counter()
    for r in report.results:
        focus = to_rdflib(r.focus)
        if r.shape in shapes and (keep is None or keep(focus)):
            rows[(focus, r.shape, r.component, frozenset(str(m) for m in r.messages))] += 1
    return rows


def pyshacl_messages(report: Graph, shapes: set[Node], keep: Keep | None = None) -> Counter[MessageRow]:
    """pyshacl drops a SPARQL message's language tag: messages are compared as text."""
    rows: Counter[MessageRow] = Counter()
    for r in report.objects(None, SH.result):
        focus, shape = report.value(r, SH.focusNode), report.value(r, SH.sourceShape)
        if shape in shapes and (keep is None or keep(focus)):
            text = frozenset(str(m) for m in report.objects(r, SH.resultMessage) if isinstance(m, Literal))
            rows[(focus, shape, report.value(r, SH.sourceConstraintComponent), text)] += 1
    return rows


def short(term: object) -> str:
    text = term.n3() if isinstance(term, URIRef | BNode | Literal) else str(term)
    for prefix, ns in (("pvpp:", "https://w3id.org/pvpp/"), ("sh:", str(SH)), ("ex:", "http://example.org/")):
        text = text.replace(f"<{ns}", f"<{prefix}")
    return text


def difference(engine: Counter[Row], reference: Counter[Row], limit: int = 40) -> str:
    """The rows only one side has (with how many times), for an assertion message."""
    lines = []
    for side, rows in (("only pvpp_kg.shacl", engine - reference), ("only pyshacl", reference - engine)):
        lines.append(f"{side}: {sum(rows.values())}")
        for row, n in sorted(rows.items(), key=lambda kv: tuple(map(str, kv[0])))[:limit]:
            lines.append(f"  {n} x " + " | ".join(short(t) for t in row))
    return "\n".join(lines)
