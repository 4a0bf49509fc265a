"""The W3C SPARQL 1.1 query-evaluation tests: read the manifests, evaluate with Oxigraph, compare results.

Used by ``test_w3c_sparql.py``. The suite is vendored in tests/data/w3c/ (see its README.md); the
manifests are read with rdflib, results are parsed and compared with pyoxigraph terms.

Result comparison: solutions are compared as multisets (as sequences when the outer query has ORDER BY),
graphs as sets of triples; blank nodes may be renamed, consistently (a backtracking search for a
bijection). CSV results are lossy, so they are compared as the strings of the CSV cells.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection

SUITE = Path(os.environ.get("PVPP_W3C_SPARQL11", Path(__file__).parent / "data" / "w3c" / "sparql11"))
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
RDFT = Namespace("http://www.w3.org/ns/rdftest#")

EVALUATION_TYPES = {MF.QueryEvaluationTest, MF.CSVResultFormatTest}
NOT_APPROVED = {"Withdrawn", "Rejected", "NotClassified", "Obsoleted"}  # run: Approved, Proposed, unmarked

RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdf": ox.RdfFormat.RDF_XML}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RESULT_FORMATS = {"srx": ox.QueryResultsFormat.XML, "srj": ox.QueryResultsFormat.JSON, "tsv": ox.QueryResultsFormat.TSV}


@dataclass(frozen=True)
class Case:
    """One mf:QueryEvaluationTest (or mf:CSVResultFormatTest)."""

    iri: str
    name: str
    approval: str | None
    query: str  # file IRI
    data: tuple[str, ...]  # file IRIs loaded into the default graph
    graph_data: tuple[str, ...]  # file IRIs loaded as named graphs of the same name
    result: str  # file IRI of the expected result

    @property
    def short(self) -> str:
        return self.iri.removeprefix(BASE)

    @property
    def result_kind(self) -> str:
        ext = self.result.rsplit(".", 1)[-1]
        return "graph" if ext in RDF_FORMATS else "csv" if ext == "csv" else "results"

    def query_text(self) -> str:
        return path_of(self.query).read_text(encoding="utf-8")

    def ordered(self) -> bool:
        return has_outer_order_by(self.query_text())


@dataclass
class Suite:
    cases: list[Case] = field(default_factory=list)
    service: list[Case] = field(default_factory=list)  # SERVICE tests: the endpoint must refuse them
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> number of manifest entries


def path_of(iri: str) -> Path:
    if not iri.startswith(BASE):
        raise ValueError(f"not a file of the suite: {iri}")
    return SUITE / iri.removeprefix(BASE)


def _manifests() -> Iterator[tuple[str, Path]]:
    top = Graph().parse(SUITE / "manifest-all.ttl", format="turtle", publicID=BASE + "manifest-all.ttl")
    for include in top.objects(None, MF.include):
        for item in Collection(top, include):
            yield str(item), path_of(str(item))


def _skip_reason(g: Graph, test: URIRef, directory: str) -> str | None:
    types = set(g.objects(test, RDF.type))
    local = {str(t).rsplit("#", 1)[-1] for t in types}
    if local & {"UpdateEvaluationTest", "PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11"}:
        return "SPARQL Update (out of scope: the query endpoint answers queries only)"
    if local & {"ProtocolTest", "GraphStoreProtocolTest", "ServiceDescriptionTest"}:
        return "protocol / graph store / service description test (not query evaluation)"
    if local & {"PositiveSyntaxTest11", "NegativeSyntaxTest11", "PositiveSyntaxTest", "NegativeSyntaxTest"}:
        return "syntax test (not query evaluation)"
    if not types & EVALUATION_TYPES:
        return f"unknown test type {sorted(local)}"
    if directory == "entailment":
        return "entailment regime (out of scope: simple entailment only)"
    approval = g.value(test, DAWGT.approval) or g.value(test, RDFT.approval)
    if approval is not None and str(approval).rsplit("#", 1)[-1] in NOT_APPROVED:
        return f"marked {str(approval).rsplit('#', 1)[-1]}"
    return None


def load_suite() -> Suite:
    suite = Suite()
    for manifest_iri, manifest in _manifests():
        directory = manifest.parent.name
        g = Graph().parse(manifest, format="turtle", publicID=manifest_iri)
        for entries in g.objects(None, MF.entries):
            for test in Collection(g, entries):
                reason = _skip_reason(g, test, directory)  # type: ignore[arg-type]
                if reason:
                    suite.skipped[reason] += 1
                    continue
                action = g.value(test, MF.action)
                approval = g.value(test, DAWGT.approval) or g.value(test, RDFT.approval)
                case = Case(
                    iri=str(test),
                    name=str(g.value(test, MF.name)),
                    approval=str(approval).rsplit("#", 1)[-1] if approval else None,
                    query=str(g.value(action, QT.query)),
                    data=tuple(sorted(str(d) for d in g.objects(action, QT.data))),
                    graph_data=tuple(sorted(str(d) for d in g.objects(action, QT.graphData))),
                    result=str(g.value(test, MF.result)),
                )
                (suite.service if directory == "service" else suite.cases).append(case)
    return suite


# -- queries ------------------------------------------------------------------------------------
_STRIP = re.compile(
    r"""\#[^\n]*|'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|<[^<>\s]*>""", re.DOTALL
)


def has_outer_order_by(query: str) -> bool:
    """ORDER BY after the last closing brace: the solution modifier of the outer query."""
    text = _STRIP.sub(" ", query)
    return re.search(r"\bORDER\s+BY\b", text[text.rfind("}") :], re.IGNORECASE) is not None


def has_dataset_clause(query: str) -> bool:
    """FROM / FROM NAMED in the query: its own dataset applies (protocol parameters would override it)."""
    return re.search(r"\bFROM\b", _STRIP.sub(" ", query), re.IGNORECASE) is not None


def with_base(case: Case) -> str:
    """The query text for an endpoint that parses without a base IRI: the file IRI as BASE."""
    return f"BASE <{case.query}>\n{case.query_text()}"


# -- data ---------------------------------------------------------------------------------------
def rdf_format(iri: str) -> ox.RdfFormat:
    return RDF_FORMATS[iri.rsplit(".", 1)[-1]]


def triples_of(iri: str) -> list[ox.Triple]:
    return list(ox.parse(path=str(path_of(iri)), format=rdf_format(iri), base_iri=iri))


def ntriples(iris: tuple[str, ...]) -> bytes:
    """The files (relative IRIs resolved against each file's IRI) as one N-Triples document."""
    return ox.serialize([t for iri in iris for t in triples_of(iri)], format=ox.RdfFormat.N_TRIPLES)


def default_graph_name(case: Case) -> str:
    """A graph IRI per distinct default-graph data set, so tests sharing data share one upload."""
    if not case.data:
        return "urn:pvpp-w3c:empty"  # never written: an empty default graph
    return "urn:pvpp-w3c:default:" + hashlib.sha1("\n".join(case.data).encode()).hexdigest()[:16]


# -- results ------------------------------------------------------------------------------------
Row = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """A normalised result: a boolean, a list of solution rows, or a list of triples as rows."""

    kind: str  # "boolean" | "solutions" | "graph" | "csv"
    value: Any


XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {XSD + "integer": int, XSD + "decimal": Decimal, XSD + "double": float, XSD + "float": float}


def norm(term: Any) -> Any:
    """Numeric and boolean literals by value: the suite writes "1.0"^^xsd:decimal where Oxigraph keeps "1"."""
    if isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC:
        try:
            value = _NUMERIC[term.datatype.value](term.value.strip())
        except (ValueError, ArithmeticError):
            return term
        return ("value", term.datatype.value, "NaN" if value != value else value)
    if (
        isinstance(term, ox.Literal)
        and term.datatype.value == XSD + "boolean"
        and term.value in ("true", "1", "false", "0")
    ):
        return ("value", XSD + "boolean", term.value in ("true", "1"))
    return term


def _solutions(results: ox.QuerySolutions) -> list[Row]:
    variables = results.variables
    rows = []
    for solution in results:
        rows.append({v.value: norm(solution[v]) for v in variables if solution[v] is not None})
    return rows


def graph_rows(triples: Any) -> list[Row]:
    unique = {(t.subject, t.predicate, norm(t.object)) for t in triples}
    return [{"s": s, "p": p, "o": o} for s, p, o in unique]


RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"


def _rdf_result_set(triples: list[ox.Triple]) -> Outcome | None:
    """The DAWG result-set vocabulary (rs:ResultSet) in an RDF file: a SELECT or ASK result, not a graph."""
    by_subject: dict[Any, dict[str, list[Any]]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
    roots = [
        s
        for s, props in by_subject.items()
        if any(o == ox.NamedNode(RS + "ResultSet") for o in props.get(RDF_TYPE, []))
    ]
    if len(roots) != 1:
        return None
    root = by_subject[roots[0]]
    if RS + "boolean" in root:
        return Outcome("boolean", root[RS + "boolean"][0].value == "true")
    rows: list[tuple[int, Row]] = []
    for solution in root.get(RS + "solution", []):
        props = by_subject.get(solution, {})
        row: Row = {}
        for binding in props.get(RS + "binding", []):
            b = by_subject[binding]
            row[b[RS + "variable"][0].value] = norm(b[RS + "value"][0])
        index = props.get(RS + "index")
        rows.append((int(index[0].value) if index else 0, row))
    return Outcome("solutions", [row for _, row in sorted(rows, key=lambda r: r[0])])


def csv_rows(body: bytes) -> list[Row]:
    """CSV results as strings (blank nodes stay blank nodes so that they can be renamed)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    header = next(reader, [])
    rows = []
    for line in reader:
        row: Row = {}
        for name, cell in zip(header, line, strict=False):
            if cell != "":
                row[name] = ox.BlankNode(cell[2:]) if cell.startswith("_:") else cell
        rows.append(row)
    return rows


def outcome_of_results(results: Any, kind: str) -> Outcome:
    """An outcome from a pyoxigraph query result (QueryBoolean, QuerySolutions or QueryTriples)."""
    if isinstance(results, ox.QueryBoolean):
        return Outcome("boolean", bool(results))
    if isinstance(results, ox.QuerySolutions):
        if kind == "csv":
            return Outcome("csv", csv_rows(results.serialize(format=ox.QueryResultsFormat.CSV)))
        return Outcome("solutions", _solutions(results))
    return Outcome("graph", graph_rows(results))


def expected(case: Case) -> Outcome:
    ext = case.result.rsplit(".", 1)[-1]
    path = path_of(case.result)
    if ext in RDF_FORMATS:
        triples = triples_of(case.result)
        return _rdf_result_set(triples) or Outcome("graph", graph_rows(triples))
    if ext == "csv":
        return Outcome("csv", csv_rows(path.read_bytes()))
    return outcome_of_results(ox.parse_query_results(path=str(path), format=RESULT_FORMATS[ext]), "results")


def _is_bnode(t: Any) -> bool:
    return isinstance(t, ox.BlankNode)


def _shape(row: Row) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, None if _is_bnode(v) else v) for k, v in row.items()))


def _extend(exp: Row, act: Row, fwd: dict, bwd: dict) -> list[tuple[Any, Any]] | None:
    """Bind the blank nodes of ``exp`` to those of ``act``; the new pairs, or None on a conflict."""
    added: list[tuple[Any, Any]] = []
    for k, e in exp.items():
        a = act[k]
        if not _is_bnode(e):
            continue
        if fwd.get(e, a) != a or bwd.get(a, e) != e:
            for x, y in added:
                del fwd[x], bwd[y]
            return None
        if e not in fwd:
            fwd[e], bwd[a] = a, e
            added.append((e, a))
    return added


def rows_match(exp: list[Row], act: list[Row], *, ordered: bool, budget: int = 200_000) -> bool:
    """Equal up to a consistent renaming of blank nodes; as sequences if ``ordered``, else as multisets."""
    if len(exp) != len(act):
        return False
    fwd: dict[Any, Any] = {}
    bwd: dict[Any, Any] = {}
    if ordered:
        pairs = zip(exp, act, strict=True)
        return all(_shape(e) == _shape(a) and _extend(e, a, fwd, bwd) is not None for e, a in pairs)
    if Counter(map(_shape, exp)) != Counter(map(_shape, act)):
        return False
    with_b = [e for e in exp if any(map(_is_bnode, e.values()))]
    if not with_b:
        return True
    candidates: dict[Any, list[Row]] = {}
    for a in act:
        if any(map(_is_bnode, a.values())):
            candidates.setdefault(_shape(a), []).append(a)
    used: set[int] = set()
    steps = 0

    def search(i: int) -> bool:
        nonlocal steps
        if i == len(with_b):
            return True
        e = with_b[i]
        for a in candidates[_shape(e)]:
            steps += 1
            if steps > budget or id(a) in used:
                continue
            added = _extend(e, a, fwd, bwd)
            if added is None:
                continue
            used.add(id(a))
            if search(i + 1):
                return True
            used.discard(id(a))
            for x, y in added:
                del fwd[x], bwd[y]
        return False

    return search(0)


def same(exp: Outcome, act: Outcome, *, ordered: bool) -> bool:
    if exp.kind != act.kind:
        return False
    if exp.kind == "boolean":
        return exp.value == act.value
    return rows_match(exp.value, act.value, ordered=ordered and exp.kind != "graph")


# -- Oxigraph itself ----------------------------------------------------------------------------
def run_oxigraph(case: Case) -> Outcome:
    """Fresh in-memory store: qt:data in the default graph, qt:graphData as named graphs; query with the file base."""
    store = ox.Store()
    for iri in case.data:
        store.load(path=str(path_of(iri)), format=rdf_format(iri), base_iri=iri, to_graph=ox.DefaultGraph())
    for iri in case.graph_data:
        store.load(path=str(path_of(iri)), format=rdf_format(iri), base_iri=iri, to_graph=ox.NamedNode(iri))
    return outcome_of_results(store.query(case.query_text(), base_iri=case.query), case.result_kind)
