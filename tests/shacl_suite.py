"""The W3C SHACL test suite (core + sparql): read the manifests, run any engine, compare reports the suite's way.

Used by ``test_shacl_suite_harness.py`` (the harness checked against pyshacl) and ``test_w3c_shacl.py`` (the
project's engine). The suite is not vendored: it lives in ``shared/`` beside the repository (CI clones the repo
with ``shared/`` next to it); ``PVPP_W3C_SHACL`` may name another copy (the folder holding the top manifest.ttl).

Comparison follows https://w3c.github.io/data-shapes/data-shapes-test-suite/#Validate ("full compliance"):
both reports are reduced, then compared by RDF graph isomorphism (blank nodes may be renamed, consistently).

- expected: the triples of the mf:result node R, of every sh:result of R, and those representing each
  sh:resultPath (the blank-node path structure).
- actual: the one sh:ValidationReport node with rdf:type sh:ValidationReport, sh:conforms and sh:result; each
  result with only rdf:type sh:ValidationResult (other types dropped: subclasses must not count), sh:focusNode,
  sh:resultPath, sh:resultSeverity, sh:sourceConstraint, sh:sourceConstraintComponent, sh:sourceShape and
  sh:value. So sh:detail (nested results) and anything else an engine adds is dropped. sh:resultMessage is
  dropped too, unless the expected report has one (core/misc/message-001 and sparql/pre-binding-001 test
  sh:message: "the test harness needs to preserve all sh:resultMessage triples"); then all are kept.
- the report and its results become fresh blank nodes on both sides (IRIs allowed by SHACL are no failure),
  and every blank-node sh:resultPath is copied afresh for each result (structures shared between results, or
  with the shapes graph, must not change the verdict). The structure is the closure over the path predicates
  (rdf:first, rdf:rest, sh:inversePath, sh:alternativePath, sh:zeroOrMorePath, sh:oneOrMorePath,
  sh:zeroOrOnePath), copied verbatim from the report graph; when the report names a blank node without giving
  its structure (an engine reusing the shapes graph's node), it is copied from the shapes graph.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import rdflib
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

SUITE = Path(
    os.environ.get("PVPP_W3C_SHACL")
    or Path(__file__).resolve().parents[1].parent
    / "shared"
    / "w3c-suites"
    / "data-shapes"
    / "data-shapes-test-suite"
    / "tests"
)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")

REPORT_PREDICATES = frozenset({RDF.type, SH.conforms, SH.result})
RESULT_PREDICATES = frozenset(
    {
        RDF.type,
        SH.focusNode,
        SH.resultPath,
        SH.resultSeverity,
        SH.sourceConstraint,
        SH.sourceConstraintComponent,
        SH.sourceShape,
        SH.value,
    }
)
PATH_PREDICATES = frozenset(
    {RDF.first, RDF.rest, SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath}
)

Validate = Callable[[Graph, Graph], Graph]


@dataclass
class Case:
    """One sht:Validate entry: the graphs to validate and the report (or sht:Failure) the suite expects."""

    id: str  # the entry IRI relative to the suite root, e.g. "core/node/class-001"
    label: str
    path: Path  # the file holding the entry
    data: Graph
    shapes: Graph  # the same object as ``data`` when both name the same file
    expected: Graph | None  # the reduced expected report; None: sht:Failure (validation must raise)
    expected_node: BNode | None  # the report node in ``expected``
    expected_conforms: bool | None
    status: str  # "approved", "proposed", ... (the local name of mf:status)

    @property
    def approved(self) -> bool:
        return self.status == "approved"


def suite_dir() -> Path:
    """The folder holding the top manifest.ttl; a missing suite is an error (the tests must fail, not skip)."""
    if not (SUITE / "manifest.ttl").is_file():
        raise FileNotFoundError(
            f"W3C SHACL test suite not found: no manifest.ttl in {SUITE}. Put the w3c/data-shapes test suite at "
            "<repo>/../shared/w3c-suites/data-shapes/data-shapes-test-suite/tests or set PVPP_W3C_SHACL to its folder."
        )
    return SUITE


def _file_of(uri: Node) -> Path:
    parsed = urlparse(str(uri))
    if parsed.scheme != "file":
        raise ValueError(f"the suite names a non-file resource: {uri}")
    return Path(unquote(parsed.path))


@contextmanager
def literals_as_written() -> Iterator[None]:
    """rdflib keeps the lexical form of typed literals while this is active."""
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def cases(root: Path | None = None) -> list[Case]:
    """Every sht:Validate entry reachable from the top manifest through mf:include, in manifest order.

    Files are parsed with their file URI as base, so ``<>`` is the file itself; each file is parsed once per
    call, so a test whose data and shapes graphs are one file gets one Graph object for both.
    """
    top = (root or suite_dir()) / "manifest.ttl"
    base = top.parent.as_uri() + "/"
    graphs: dict[Path, Graph] = {}

    def load(path: Path) -> Graph:
        if path not in graphs:
            # literals as written: the suite has ill-typed ("none"^^xsd:boolean) and non-canonical ("1"^^xsd:boolean)
            # literals on purpose, which rdflib would otherwise rewrite while parsing
            with warnings.catch_warnings(), literals_as_written():
                warnings.simplefilter("ignore", UserWarning)
                graphs[path] = Graph().parse(path, format="turtle", publicID=path.as_uri())
        return graphs[path]

    found: list[Case] = []
    visited: set[Path] = set()

    def walk(path: Path) -> None:
        if path in visited:
            return
        visited.add(path)
        g = load(path)
        manifest = URIRef(path.as_uri())
        for lst in g.objects(manifest, MF.entries):
            for entry in Collection(g, lst):
                if (entry, RDF.type, SHT.Validate) in g:
                    found.append(_case(g, entry, path, base, load))
        for included in g.objects(manifest, MF.include):
            walk(_file_of(included))

    walk(top)
    return found


def _case(g: Graph, entry: Node, path: Path, base: str, load: Callable[[Path], Graph]) -> Case:
    action = g.value(entry, MF.action)
    data_uri, shapes_uri = g.value(action, SHT.dataGraph), g.value(action, SHT.shapesGraph)
    result = g.value(entry, MF.result)
    if data_uri is None or shapes_uri is None or result is None:
        raise ValueError(f"{entry}: an sht:Validate entry needs sht:dataGraph, sht:shapesGraph and mf:result")
    expected: Graph | None = None
    node: BNode | None = None
    conforms: bool | None = None
    if result != SHT.Failure:
        expected, node = _reduce(g, result, keep_all=True, keep_messages=True, path_sources=[g])
        value = expected.value(node, SH.conforms)
        conforms = bool(value.toPython()) if isinstance(value, Literal) else None
    status = g.value(entry, MF.status)
    label = g.value(entry, RDFS.label) or g.value(entry, MF.name) or entry
    return Case(
        id=str(entry).removeprefix(base),
        label=str(label),
        path=path,
        data=load(_file_of(data_uri)),
        shapes=load(_file_of(shapes_uri)),
        expected=expected,
        expected_node=node,
        expected_conforms=conforms,
        status=str(status).rsplit("#", 1)[-1] if status is not None else "",
    )


def _reduce(
    g: Graph, report: Node, *, keep_all: bool, keep_messages: bool, path_sources: list[Graph]
) -> tuple[Graph, BNode]:
    """The report rooted at ``report`` as the comparison sees it (see the module docstring).

    ``keep_all`` keeps every triple of the report and its results (the expected side, as the suite defines it);
    otherwise only the listed predicates survive (the actual side).
    """
    out = Graph()
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns, override=True, replace=True)
    root = BNode()
    out.add((root, RDF.type, SH.ValidationReport))
    for p, o in g.predicate_objects(report):
        if p == SH.result:
            out.add((root, SH.result, _reduce_result(g, o, out, keep_all, keep_messages, path_sources)))
        elif p == RDF.type:
            if keep_all and o != SH.ValidationReport:
                out.add((root, p, o))
        elif keep_all or p in REPORT_PREDICATES:
            out.add((root, p, o))
    return out, root


def _reduce_result(
    g: Graph, result: Node, out: Graph, keep_all: bool, keep_messages: bool, path_sources: list[Graph]
) -> BNode:
    node = BNode()
    for p, o in g.predicate_objects(result):
        if not (keep_all or p in RESULT_PREDICATES or (keep_messages and p == SH.resultMessage)):
            continue
        if p == RDF.type and o != SH.ValidationResult and not keep_all:
            continue
        if p == SH.resultPath and isinstance(o, BNode):
            o = _copy_path(o, path_sources, out)
        out.add((node, p, o))
    return node


def _copy_path(start: BNode, sources: list[Graph], out: Graph) -> BNode:
    """A fresh copy of the path structure at ``start``, from the first source that describes it."""
    src = next((s for s in sources if any(p in PATH_PREDICATES for p in s.predicates(start))), None)
    copies: dict[BNode, BNode] = {}

    def copy(node: BNode) -> BNode:
        if node not in copies:
            copies[node] = BNode()
            if src is not None:
                for p, o in src.predicate_objects(node):
                    if p in PATH_PREDICATES:
                        out.add((copies[node], p, copy(o) if isinstance(o, BNode) else o))
        return copies[node]

    return copy(start)


def reports_match(expected: Graph, expected_node: Node, actual: Graph, shapes: Graph | None = None) -> tuple[bool, str]:
    """Whether ``actual`` (an engine's report graph) passes against the expected report, and if not why.

    ``expected`` holds the expected report at ``expected_node`` (a test file's graph, or a Case's reduced
    ``expected``); ``shapes`` supplies path structures the report names but does not spell out.
    """
    reports = set(actual.subjects(RDF.type, SH.ValidationReport))
    if len(reports) != 1:
        return False, f"the report graph has {len(reports)} sh:ValidationReport nodes, not 1"
    report = reports.pop()
    keep_messages = any(
        True for r in expected.objects(expected_node, SH.result) for _ in expected.objects(r, SH.resultMessage)
    )
    want, want_root = _reduce(expected, expected_node, keep_all=True, keep_messages=True, path_sources=[expected])
    sources = [actual] + ([shapes] if shapes is not None else [])
    got, got_root = _reduce(actual, report, keep_all=False, keep_messages=keep_messages, path_sources=sources)
    if isomorphic(want, got):
        return True, ""
    return False, _diff(want, want_root, got, got_root, expected.namespace_manager)


def _diff(want: Graph, want_root: Node, got: Graph, got_root: Node, nsm: NamespaceManager) -> str:
    """Short text: the sh:conforms difference, then the results missing from and extra in the actual report."""
    lines: list[str] = []
    want_conforms = sorted(_term(o, nsm) for o in want.objects(want_root, SH.conforms))
    got_conforms = sorted(_term(o, nsm) for o in got.objects(got_root, SH.conforms))
    if want_conforms != got_conforms:
        lines.append(
            f"sh:conforms: expected {' '.join(want_conforms) or 'none'}, got {' '.join(got_conforms) or 'none'}"
        )
    want_results = Counter(_describe(want, r, nsm) for r in want.objects(want_root, SH.result))
    got_results = Counter(_describe(got, r, nsm) for r in got.objects(got_root, SH.result))
    for title, counter in (("missing", want_results - got_results), ("extra", got_results - want_results)):
        items = sorted(counter.elements())
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in items[:10])
            if len(items) > 10:
                lines.append(f"  ... and {len(items) - 10} more")
    for title, g, root in (("expected", want, want_root), ("got", got, got_root)):
        extra = sorted(
            f"{_term(p, nsm)} {_term(o, nsm)}"
            for p, o in g.predicate_objects(root)
            if p not in (SH.conforms, SH.result) and (p, o) != (RDF.type, SH.ValidationReport)
        )
        if extra:
            lines.append(f"{title} report also has: {'; '.join(extra)}")
    if not lines:
        lines.append("results read alike but the graphs are not isomorphic (blank nodes shared differently)")
    return "\n".join(lines)


ORDER = [
    SH.focusNode,
    SH.resultPath,
    SH.value,
    SH.sourceConstraintComponent,
    SH.sourceShape,
    SH.resultSeverity,
    SH.sourceConstraint,
    SH.resultMessage,
]
SHORT = {
    SH.focusNode: "focus",
    SH.resultPath: "path",
    SH.value: "value",
    SH.sourceConstraintComponent: "component",
    SH.sourceShape: "shape",
    SH.resultSeverity: "severity",
    SH.sourceConstraint: "constraint",
    SH.resultMessage: "message",
}


def _describe(g: Graph, result: Node, nsm: NamespaceManager) -> str:
    """One result as a line: its values in a fixed order, blank nodes as [] and paths in SPARQL path syntax."""
    parts: list[str] = []
    preds = sorted(set(g.predicates(result)), key=lambda p: (ORDER.index(p) if p in ORDER else len(ORDER), str(p)))
    for p in preds:
        if p == RDF.type and set(g.objects(result, p)) == {SH.ValidationResult}:
            continue
        values = sorted(_path(g, o, nsm) if p == SH.resultPath else _term(o, nsm) for o in g.objects(result, p))
        parts.append(f"{SHORT.get(p) or _term(p, nsm)}={','.join(values)}")
    if (result, RDF.type, SH.ValidationResult) not in g:
        parts.append("(no rdf:type sh:ValidationResult)")
    return " ".join(parts)


def _term(term: Node, nsm: NamespaceManager) -> str:
    if isinstance(term, BNode):
        return "[]"
    if isinstance(term, URIRef | Literal):
        return term.n3(nsm)
    return str(term)


def _path(g: Graph, node: Node, nsm: NamespaceManager, depth: int = 0) -> str:
    if not isinstance(node, BNode):
        return _term(node, nsm)
    if depth > 20:
        return "..."
    if g.value(node, RDF.first) is not None:
        return "(" + " / ".join(_path(g, m, nsm, depth + 1) for m in _members(g, node)) + ")"
    alternatives = g.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(_path(g, m, nsm, depth + 1) for m in _members(g, alternatives)) + ")"
    for pred, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = g.value(node, pred)
        if inner is not None:
            return fmt.format(_path(g, inner, nsm, depth + 1))
    return "[]"


def _members(g: Graph, head: Node) -> list[Node]:
    """The rdf:List at ``head``; an engine's report may hold a broken or cyclic list, so walk it warily."""
    members: list[Node] = []
    seen: set[Node] = set()
    while head != RDF.nil and head not in seen and len(members) < 100:
        seen.add(head)
        first = g.value(head, RDF.first)
        if first is None:
            break
        members.append(first)
        head = g.value(head, RDF.rest) or RDF.nil
    return members


def run(validate: Validate, selected: Iterable[Case] | None = None) -> dict[str, tuple[bool, str]]:
    """Each case's id -> (passed, why not); ``validate(data, shapes)`` returns the report graph.

    A case expecting sht:Failure passes iff ``validate`` raises; elsewhere an exception fails the case.
    """
    outcomes: dict[str, tuple[bool, str]] = {}
    for case in cases() if selected is None else selected:
        try:
            report = validate(case.data, case.shapes)
        except Exception as e:  # noqa: BLE001 - any error is an outcome of the case, not of the harness
            raised = f"{type(e).__name__}: {e}".strip()
            outcomes[case.id] = (True, "") if case.expected is None else (False, f"raised {raised[:500]}")
            continue
        if case.expected is None or case.expected_node is None:
            outcomes[case.id] = (False, "expected sht:Failure (validation must fail), but a report was returned")
        elif not isinstance(report, Graph):
            outcomes[case.id] = (False, f"validate returned {type(report).__name__}, not an rdflib Graph")
        else:
            outcomes[case.id] = reports_match(case.expected, case.expected_node, report, shapes=case.shapes)
    return outcomes


def failures_text(outcomes: dict[str, tuple[bool, str]]) -> str:
    """The failing ids, each followed by its reason indented, for assertion messages and summaries."""
    return "\n".join(
        f"  {case_id}\n" + "\n".join(f"      {line}" for line in why.splitlines())
        for case_id, (ok, why) in outcomes.items()
        if not ok
    )
