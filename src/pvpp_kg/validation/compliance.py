"""The compliance cockpit's figures (issue 28): every institution's stored data held to the validation profile,
measured per metric (W3C DQV), kept as linked data, one named graph per institution.

Why one graph per institution (``graph/compliance/{key}``): a submission replaces one institution's data and its
validation report is exactly that institution's results, so its measurements replace one graph right after; a
profile change (``pvpp-kg revalidate``, or the server's start-up) measures them all from one validation of the
whole store and rewrites the graphs whose content changed (each keeps a digest of its content: a graph whose
figures and results are the same keeps the time and run that made it). Each run appends the institutions' and
the nation's overall scores to ``graph/compliance-history``, which the trend charts read.

The metrics are data (``data/reference/compliance-metrics.ttl``): each names the shapes it measures. A metric's
value for an institution is the share of its nodes the rules apply to (instances of the measured shapes' target
classes in its graph) that break none of them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from pvpp_kg import rq, shacl
from pvpp_kg.namespaces import GRAPH, ID, PVPP, institution_graph
from pvpp_kg.settings import Settings
from pvpp_kg.store.embedded import EmbeddedStore
from pvpp_kg.validation.report import Report, Result
from pvpp_kg.validation.validator import POLICY_LAYERS, Validator, validate_stored

DQV = "http://www.w3.org/ns/dqv#"
SH = "http://www.w3.org/ns/shacl#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
METRICS_FILE = "compliance-metrics.ttl"
OVERALL = f"{ID}metric/overall"
COMPLIANCE_GRAPHS = f"{GRAPH}compliance/"
HISTORY_GRAPH = f"{GRAPH}compliance-history"
NATIONAL = f"{ID}dataset"  # what the national score is computed on: the whole published dataset
_CPSV = "https://semiceu.github.io/CPSV-AP/"


# --- the profile and its metrics --------------------------------------------------------------------------------


# how figures are made from results: part of the profile's version, so that a store measured the old way is
# measured again at start-up when it changes (2: a rule about what an institution has none of does not apply)
METHOD = "2"


def profile_version(settings: Settings) -> str:
    """A digest of everything results and figures depend on besides the data: the shapes, the reference data and
    the way figures are made (``METHOD``)."""
    digest = hashlib.sha256(METHOD.encode() + b"\0")
    for root in (settings.shapes_dir, settings.source_dir / "reference"):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def profile_iri(settings: Settings) -> str:
    return f"{ID}profile/{profile_version(settings)}"


@dataclass(frozen=True)
class Metric:
    iri: str
    notation: str
    labels: dict[str, str]
    definitions: dict[str, str]
    shapes: frozenset[str]
    layer: str | None  # a whole layer of shapes (CPSV-AP), or None for named PVPP shapes

    @property
    def key(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


def read_metrics(settings: Settings) -> list[Metric]:
    """The metrics of ``data/reference/compliance-metrics.ttl`` in notation order (M1, M2, …), without overall."""
    g = Graph().parse(settings.source_dir / "reference" / METRICS_FILE, format="turtle")
    out = []
    for m in g.subjects(RDF.type, URIRef(DQV + "Metric")):
        if str(m) == OVERALL:
            continue
        shapes = frozenset(str(o) for o in g.objects(m, URIRef(PROV + "wasDerivedFrom")))
        out.append(
            Metric(
                str(m),
                str(g.value(m, SKOS.notation)),
                {lit.language: str(lit) for lit in g.objects(m, SKOS.prefLabel) if isinstance(lit, Literal)},
                {lit.language: str(lit) for lit in g.objects(m, SKOS.definition) if isinstance(lit, Literal)},
                shapes,
                "cpsv-ap" if any(s.startswith(_CPSV) for s in shapes) else None,
            )
        )
    return sorted(out, key=lambda m: int(m.notation.lstrip("M")))


@dataclass(frozen=True)
class Profile:
    """The metrics with what they need of the compiled shapes: which root shape each shape belongs to, and the
    classes whose instances each metric applies to."""

    iri: str
    metrics: list[Metric]
    roots: dict[str, str]  # shape node → the root (targeted) shape it is part of
    classes: dict[str, frozenset[str]]  # metric IRI → target classes of its shapes

    @classmethod
    def of(cls, settings: Settings, engines: dict[str, shacl.ShapesGraph]) -> Profile:
        metrics = read_metrics(settings)
        roots: dict[str, str] = {}
        for engine in engines.values():
            for root in engine.roots:
                todo = [root]
                while todo:
                    shape = todo.pop()
                    roots.setdefault(str(shape.node), str(root.node))
                    todo += shape.properties
        classes = {}
        for m in metrics:
            found: set[str] = set()
            layers = [engines[m.layer]] if m.layer else list(engines.values())
            for engine in layers:
                for root in engine.roots:
                    measured = (
                        m.layer is not None
                        or str(root.node) in m.shapes
                        or any(roots.get(s) == str(root.node) for s in m.shapes)
                    )
                    if measured:
                        found |= {str(c) for c in root.targets.classes}
            classes[m.iri] = frozenset(found)
        return cls(profile_iri(settings), metrics, roots, classes)

    def metrics_of(self, r: Result) -> list[Metric]:
        root = self.roots.get(r.shape, r.shape)
        return [m for m in self.metrics if m.layer == r.layer or r.shape in m.shapes or root in m.shapes]


# --- figures ----------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One institution's measurements: per metric the applicable and failing nodes, and its open results."""

    key: str
    data_version: int = 0
    services: int = 0
    applicable: dict[str, int] = field(default_factory=dict)
    failing: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    results: list[tuple[Result, list[Metric]]] = field(default_factory=list)

    def score(self, metric: Metric) -> float | None:
        n = self.applicable.get(metric.iri, 0)
        if n == 0:
            return None
        return max(0.0, 1.0 - len(self.failing.get(metric.iri, ())) / n)

    def overall(self, metrics: Iterable[Metric]) -> float | None:
        scores = [s for s in (self.score(m) for m in metrics) if s is not None]
        return sum(scores) / len(scores) if scores else None

    def count(self, severity: str) -> int:
        return sum(1 for r, _ in self.results if r.severity == severity)


def owner_of(focus: str, owners: dict[str, str]) -> str | None:
    """The institution a focus node belongs to: the institution graph it is stated in, else its IRI's pattern."""
    if focus in owners:
        return owners[focus]
    if focus.startswith(f"{ID}institution/"):
        return focus.removeprefix(f"{ID}institution/").split("/")[0]
    for kind in ("service", "post", "resource", "sla"):
        if focus.startswith(f"{ID}{kind}/"):
            return focus.removeprefix(f"{ID}{kind}/").split("/")[0]
    return None


def figures(
    profile: Profile,
    report: Report,
    owners: dict[str, str],
    counts: dict[str, dict[str, int]],
    versions: dict[str, int],
    services: dict[str, int],
    keys: Iterable[str],
) -> dict[str, Figures]:
    """Every institution's figures from one report. ``counts``: institution → metric IRI → applicable nodes."""
    out = {k: Figures(k, versions.get(k, 0), services.get(k, 0), dict(counts.get(k, {}))) for k in keys}
    people = f"{ID}person/"
    for r in report.results:
        if r.focus.startswith(people):
            continue  # people are restricted data: the cockpit publishes nothing about them
        key = owner_of(r.focus, owners)
        if key is None or key not in out:
            continue  # a reference node: not an institution's business
        metrics = profile.metrics_of(r)
        out[key].results.append((r, metrics))
        for m in metrics:
            out[key].failing[m.iri].add(r.focus)
    return out


# --- as linked data ---------------------------------------------------------------------------------------------


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _double(x: float) -> ox.Literal:
    return ox.Literal(repr(round(x, 6)), datatype=_n(XSD + "double"))


_TYPE = _n(str(RDF.type))


def _iri(x: str) -> str:
    return f"<{x}>"


def _string(text: str, lang: str | None = None) -> str:
    """A string literal in N-Triples (the four characters N-Triples requires escaped, escaped)."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{body}"@{lang}' if lang else f'"{body}"'


def _typed(lexical: str, datatype: str) -> str:
    return f'"{lexical}"^^<{XSD}{datatype}>'


_A = _iri(str(RDF.type))
# the predicates of a measurement, spelt once (as rdflib attributes each was a new URIRef per measurement)
_MEASUREMENT = _iri(DQV + "QualityMeasurement")
_OF, _ON, _VALUE = _iri(DQV + "isMeasurementOf"), _iri(DQV + "computedOn"), _iri(DQV + "value")
_DATA_VERSION = _iri(str(PVPP.dataVersion))
_APPLICABLE, _FAILING = _iri(str(PVPP.applicableNodes)), _iri(str(PVPP.failingNodes))
_VIOLATIONS, _WARNINGS, _SERVICES = (_iri(str(p)) for p in (PVPP.violationCount, PVPP.warningCount, PVPP.serviceCount))
_MEASURED_BY, _DIGEST = _iri(str(PVPP.measuredBy)), _iri(str(PVPP.contentDigest))


@dataclass(frozen=True)
class GraphText:
    """One institution's ``graph/compliance/{key}`` as triples (N-Triples lines without their ``.``), and the
    digest of all of them but the run's time and IRI: a whole revalidation rewrites only the graphs whose digest
    changed (issue 28's whole revalidation: the write of ~560,000 quads and the compaction after it, ~12 s)."""

    key: str
    triples: list[str]
    digest: str

    def ntriples(self) -> bytes:
        return "".join(f"{t} .\n" for t in self.triples).encode()

    def nquads(self) -> str:
        g = _iri(COMPLIANCE_GRAPHS + self.key)
        return "".join(f"{t} {g} .\n" for t in self.triples)


def _result_order(item: tuple[Result, list[Metric]]) -> tuple[str, ...]:
    r = item[0]
    return (r.focus, r.shape, r.component, r.path or "", r.value or "", r.severity, r.message)


def institution_graph_text(profile: Profile, f: Figures, now: str, run: str) -> GraphText:
    """The institution's graph: one dqv:QualityMeasurement per applicable metric and the overall one, and its open
    SHACL results (each linked to the metrics it lowers) in one sh:ValidationReport. Written as text: building
    half a million ``pyoxigraph.Quad`` objects for the national graph took ~2.5 s.

    Its results are numbered in a fixed order, so that the same figures make the same graph (and digest)."""
    data = _iri(institution_graph(f.key))
    at, by = _typed(now, "dateTime"), _iri(run)
    version = _typed(str(f.data_version), "integer")
    content: list[str] = []  # what the digest covers
    stamps: list[str] = []  # when and by which run

    def measurement(metric: str, value: float, extra: list[tuple[str, str]]) -> None:
        node = _iri(f"{ID}measurement/{f.key}/{metric.rsplit('/', 1)[-1]}")
        for p, o in [
            (_A, _MEASUREMENT),
            (_OF, _iri(metric)),
            (_ON, data),
            (_VALUE, _typed(repr(round(value, 6)), "double")),
            (_DATA_VERSION, version),
            *extra,
        ]:
            content.append(f"{node} {p} {o}")
        stamps.append(f"{node} <{PROV}generatedAtTime> {at}")
        stamps.append(f"{node} <{PROV}wasGeneratedBy> {by}")

    def count(p: str, n: int) -> tuple[str, str]:
        return p, _typed(str(n), "integer")

    for m in profile.metrics:
        score = f.score(m)
        if score is not None:
            failing = len(f.failing.get(m.iri, ()))
            measurement(
                m.iri,
                score,
                [count(_APPLICABLE, f.applicable[m.iri]), count(_FAILING, failing)],
            )
    overall = f.overall(profile.metrics)
    if overall is not None:
        measurement(
            OVERALL,
            overall,
            [
                count(_VIOLATIONS, f.count("Violation")),
                count(_WARNINGS, f.count("Warning")),
                count(_SERVICES, f.services),
            ],
        )
    report = _iri(f"{ID}compliance-report/{f.key}")
    content.append(f"{report} {_A} <{SH}ValidationReport>")
    conforms = not any(r.severity == "Violation" for r, _ in f.results)
    content.append(f"{report} <{SH}conforms> {_typed(str(conforms).lower(), 'boolean')}")
    for i, (r, metrics) in enumerate(sorted(f.results, key=_result_order)):
        node = _iri(f"{ID}compliance-report/{f.key}/{i + 1}")
        focus = _iri(r.focus) if "://" in r.focus else _string(r.focus)
        content += [
            f"{report} <{SH}result> {node}",
            f"{node} {_A} <{SH}ValidationResult>",
            f"{node} <{SH}focusNode> {focus}",
            f"{node} <{SH}resultSeverity> <{SH}{r.severity}>",
            f"{node} <{SH}sourceConstraintComponent> <{SH}{r.component}>",
        ]
        shape = r.shape if "://" in r.shape else profile.roots.get(r.shape, "")
        if "://" in shape:
            content.append(f"{node} <{SH}sourceShape> {_iri(shape)}")
        if r.path and "://" in r.path:
            content.append(f"{node} <{SH}resultPath> {_iri(r.path)}")
        for lang, text in r.messages.items():
            if lang in ("lv", "en"):
                content.append(f"{node} <{SH}resultMessage> {_string(text, lang)}")
        for m in metrics:
            content.append(f"{node} {_MEASURED_BY} {_iri(m.iri)}")
    digest = hashlib.sha256("\n".join(content).encode()).hexdigest()
    stamps.append(f"{report} <{PROV}wasGeneratedBy> {by}")
    stamps.append(f"{report} {_DIGEST} {_string(digest)}")
    return GraphText(f.key, content + stamps, digest)


def run_iri(now: str) -> str:
    """A new run's IRI: its time and a random part (two submissions in one second are two runs, and the cockpit
    counts runs to see that figures changed)."""
    return f"{ID}compliance-run/{now.replace(':', '').replace('-', '')}-{secrets.token_hex(4)}"


def history_quads(
    profile: Profile, run: str, now: str, store_version: str, scores: dict[str, float], scope: str
) -> list[ox.Quad]:
    """One run in the history: the activity, the data it validated (``scope``: one institution's graph, or
    :data:`NATIONAL` for everyone — the cockpit re-reads only the institutions a run touched) and the overall score
    of each institution it measured and of the nation (the mean over all institutions with data, as they stand
    after the run)."""
    g = _n(HISTORY_GRAPH)
    at = ox.Literal(now, datatype=_n(XSD + "dateTime"))
    node = _n(run)
    quads = [
        ox.Quad(node, _TYPE, _n(PROV + "Activity"), g),
        ox.Quad(node, _n(PROV + "endedAtTime"), at, g),
        ox.Quad(node, _n(PROV + "used"), _n(profile.iri), g),
        ox.Quad(node, _n(PROV + "used"), _n(scope), g),
        ox.Quad(node, _n(str(PVPP.dataVersion)), ox.Literal(store_version), g),
    ]
    stamp = run.rsplit("/", 1)[-1]
    for key, score in scores.items():
        m = _n(f"{ID}measurement/{key}/overall/{stamp}")
        on = _n(NATIONAL if key == "national" else institution_graph(key))
        for p, o in [
            (str(RDF.type), _n(DQV + "QualityMeasurement")),
            (DQV + "isMeasurementOf", _n(OVERALL)),
            (DQV + "computedOn", on),
            (DQV + "value", _double(score)),
            (PROV + "generatedAtTime", at),
            (PROV + "wasGeneratedBy", node),
        ]:
            quads.append(ox.Quad(m, _n(p), o, g))
    return quads


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ntriples(quads: Iterable[ox.Quad]) -> bytes:
    return ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)


# --- runs -------------------------------------------------------------------------------------------------------

_INSTITUTION_GRAPHS = institution_graph("")


@dataclass(frozen=True)
class Institution:
    key: str
    iri: str
    labels: dict[str, str]
    kind: str  # ministry | agency | municipality | other
    parent: str | None  # the body it is part of (org:subOrganizationOf): a ministry or a municipality


def _select(store: ox.Store, name: str) -> list[tuple[ox.NamedNode | ox.Literal | None, ...]]:
    return [tuple(row) for row in store.query(rq.load(name), use_default_graph_as_union=True)]


def institutions(store: ox.Store) -> dict[str, Institution]:
    return assemble_institutions((r[0].value, r[1].value, r[2]) for r in _select(store, "compliance-institutions"))  # type: ignore[union-attr]


def assemble_institutions(rows: Iterable[tuple[str, str, object]]) -> dict[str, Institution]:
    """``rq/compliance-institutions.rq``'s (institution, property, value) rows as institutions: the current ones
    (no pvpp:validUntil), each with its kind (ministry, municipality, an agency under a parent, other) and the
    ministry leading its sector. Where the data gives several keys, names in a language or parents, the least
    is taken, so that the answer does not depend on the order of the rows (the cockpit reads one institution's
    rows again after a submission and must find what the whole table's read found)."""
    props: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for inst, what, x in rows:
        props[inst][what].append(x)
    out: dict[str, Institution] = {}
    for inst, p in sorted(props.items()):
        if p.get("ended") or not p.get("key"):
            continue
        key = min(_text(k) for k in p["key"])
        labels: dict[str, str] = {}
        for lit in p.get("label", []):
            lang = getattr(lit, "language", None) or (lit.get("xml:lang") if isinstance(lit, dict) else None)
            if lang in ("lv", "en"):
                labels[lang] = min(labels.get(lang, _text(lit)), _text(lit))
        types = {_text(t) for t in p.get("type", [])}
        parent = min(_key_of(_text(x)) for x in p["parent"]) if p.get("parent") else None
        if str(PVPP.Ministry) in types:
            kind = "ministry"
        elif str(PVPP.Municipality) in types:
            kind = "municipality"
        else:
            kind = "agency" if parent else "other"
        out.setdefault(key, Institution(key, inst, labels, kind, parent))
    return out


def _text(x: object) -> str:
    if isinstance(x, dict):  # a SPARQL JSON results term
        return str(x["value"])
    return str(getattr(x, "value", x))


def _key_of(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _applicable(profile: Profile, classes: dict[str, int], data: bool) -> dict[str, int]:
    """Per metric: instances of its classes in one institution's graph (none: the metric does not apply — a
    ministry without services is not "met" on the service rules); 1 for a metric of the institution itself (no
    class targets, e.g. its portfolio managers), when the institution has data at all (``data``)."""
    return {
        m.iri: sum(classes.get(c, 0) for c in profile.classes[m.iri]) if profile.classes[m.iri] else int(data)
        for m in profile.metrics
    }


def owners_of(store: ox.Store, foci: Iterable[str]) -> dict[str, str]:
    """The institution each focus node is typed in (the key of its ``graph/institution/{key}``), looked up node by
    node: only results need an owner (the national graph's 190,000 typed nodes listed in one query: 2.5 s)."""
    out: dict[str, str] = {}
    for focus in foci:
        for term in _subjects(focus):
            for q in store.quads_for_pattern(term, _TYPE, None, None):
                g = q.graph_name
                if isinstance(g, ox.NamedNode) and g.value.startswith(_INSTITUTION_GRAPHS):
                    out[focus] = g.value.removeprefix(_INSTITUTION_GRAPHS)
    return out


def _subjects(focus: str) -> list[ox.NamedNode | ox.BlankNode]:
    """The stored subjects a result's focus (its IRI or blank node label) may be."""
    out: list[ox.NamedNode | ox.BlankNode] = []
    for make in (ox.NamedNode, ox.BlankNode) if ":" in focus else (ox.BlankNode,):
        try:
            out.append(make(focus))
        except ValueError:
            pass
    return out


def class_counts(store: ox.Store, profile: Profile) -> dict[str, dict[str, int]]:
    """Institution key → class → instances in its graph, for the classes the metrics apply to and pvpp:Service
    (one count per class: counting every class of every graph cost 1.95 s on the national graph)."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    query = rq.load("compliance-class-counts")
    for c in sorted({str(PVPP.Service)}.union(*profile.classes.values())):
        rows = store.query(query, use_default_graph_as_union=True, substitutions={ox.Variable("class"): _n(c)})
        for _, g, n in rows:
            if isinstance(g, ox.NamedNode) and g.value.startswith(_INSTITUTION_GRAPHS):
                out[g.value.removeprefix(_INSTITUTION_GRAPHS)][c] = int(n.value)  # type: ignore[union-attr]
    return out


def has_data(store: ox.Store, key: str, classes: dict[str, dict[str, int]]) -> bool:
    """Whether the institution's graph types any node (the counts say so for all but those without any node of a
    measured class; for them, one look at the graph)."""
    if classes.get(key):
        return True
    graph = _n(institution_graph(key))
    return next(iter(store.quads_for_pattern(None, _TYPE, None, graph)), None) is not None


@dataclass(frozen=True)
class FullRun:
    """What a whole revalidation writes — the compliance graphs whose content changed (``replace``: the keys whose
    graphs go, those and the institutions no longer there) and the run's entry in the history, as N-Quads — and
    what it found."""

    nquads: bytes
    replace: list[str]
    institutions: int
    measured: int  # institutions with data
    results: int
    national: float | None

    @property
    def written(self) -> int:
        return self.nquads.count(b"\n")

    def summary(self, seconds: float) -> RunSummary:
        return RunSummary(
            self.institutions, self.measured, self.results, self.national, seconds, len(self.replace), self.written
        )


def stored_digests(store: ox.Store) -> dict[str, str | None]:
    """Institution key → the content digest of its stored compliance graph (None: written without one)."""
    return {
        g.value.removeprefix(COMPLIANCE_GRAPHS): d.value if d is not None else None  # type: ignore[union-attr]
        for g, d in _select(store, "compliance-digests")
    }


def full_run(settings: Settings, validator: Validator, store: ox.Store, store_version: str) -> FullRun:
    """Every institution validated in place and measured; the graphs to write are those that differ from the
    ones ``store`` holds."""
    report = validate_stored(validator, store)
    profile = profile_for(settings, validator)
    owners = owners_of(store, {r.focus for r in report.results})
    classes = class_counts(store, profile)
    versions = {
        g.value.removeprefix(_INSTITUTION_GRAPHS): int(v.value)  # type: ignore[union-attr]
        for g, v, _ in _select(store, "compliance-versions")
    }
    keys = list(institutions(store))
    figs = figures(
        profile,
        report,
        owners,
        {k: _applicable(profile, classes.get(k, {}), has_data(store, k, classes)) for k in keys},
        versions,
        {k: classes.get(k, {}).get(str(PVPP.Service), 0) for k in keys},
        keys,
    )
    now = now_iso()
    run = run_iri(now)
    stored = stored_digests(store)
    texts = [institution_graph_text(profile, f, now, run) for f in figs.values()]
    changed = [t for t in texts if stored.get(t.key, "") != t.digest]
    gone = sorted(set(stored) - set(figs))
    scores = {k: s for k, s in ((k, f.overall(profile.metrics)) for k, f in figs.items()) if s is not None}
    national = sum(scores.values()) / len(scores) if scores else None
    # the history gets the scores that moved: an unchanged graph's score is its last entry's (27,000 quads a national
    # run otherwise, for nothing new), so each institution's trend has a point per change and the nation one per run
    moved = {t.key for t in changed}
    entry = {k: s for k, s in scores.items() if k in moved}
    entry = {**entry, "national": national} if national is not None else entry
    history = history_quads(profile, run, now, store_version, entry, NATIONAL)
    return FullRun(
        "".join(t.nquads() for t in changed).encode() + ox.serialize(history, format=ox.RdfFormat.N_QUADS),
        [t.key for t in changed] + gone,
        len(keys),
        len(scores),
        sum(len(f.results) for f in figs.values()),
        national,
    )


class Moved(Exception):
    """The data changed while the figures were computed: they describe a version that is no longer current."""


ATTEMPTS = 3  # whole runs a revalidation makes while the data keeps moving, then Moved


# a write of this many quads or more is compacted after it (at national scale every query after a rewrite of all
# ~560,000 quads was 1.5-2.3x slower until compacted: a CONTAINS over the titles 0.69-1.06 s against 0.46 s)
COMPACT_AFTER = 100_000


def write_full(store: EmbeddedStore, run: FullRun, measured: int) -> None:
    """Replace the compliance graphs ``run`` changed and add it to the history, in one atomic write.
    ``measured``: the data version the figures were computed on; if a write has published another one since,
    nothing is written and :class:`Moved` is raised (the graphs kept were compared with that version's)."""
    with store.writer() as w:
        if store.version() != measured:
            raise Moved(f"the data moved from version {measured} to {store.version()} during the revalidation")
        for key in run.replace:
            w.remove_graph(_n(COMPLIANCE_GRAPHS + key))
        w.bulk_load(run.nquads, format=ox.RdfFormat.N_QUADS, lenient=True)  # made by full_run: unchecked, in bulk
        if run.written >= COMPACT_AFTER:  # ~5.7 s at national scale, once
            w.optimize()


def institution_run(
    settings: Settings,
    validator: Validator,
    key: str,
    version: int,
    stored: Iterable[ox.Triple | ox.Quad],
    report: Report,
    others: dict[str, float],
    store_version: str,
) -> tuple[bytes, list[ox.Quad]]:
    """One institution measured from its accepted submission's own report and stored content (its triples, a
    triple given twice counted once): its ``graph/compliance/{key}`` as N-Triples and the history entry.
    ``others``: the other institutions' current overall scores, for the national one."""
    profile = profile_for(settings, validator)
    # issue 28's re-measurement after a submission: the instances of each class counted as the triples are read,
    # not loaded into a store and asked (0.11 → 0.05 s for 1,000 services)
    instances: dict[str, set[str]] = {}
    owners: dict[str, str] = {}
    named = ox.NamedNode
    for t in stored:
        s = t.subject
        if type(s) is named:
            owners[s.value] = key
        if t.predicate == _TYPE:
            instances.setdefault(t.object.value, set()).add(str(s))
    classes = {c: len(nodes) for c, nodes in instances.items()}
    # the policy's rules only, as a full revalidation of the stored data reads them (not the checks of an upload)
    policy = Report(report.conforms, [r for r in report.results if r.layer in POLICY_LAYERS], report.lang)
    figs = figures(
        profile,
        policy,
        owners,
        {key: _applicable(profile, classes, bool(classes))},
        {key: version},
        {key: classes.get(str(PVPP.Service), 0)},
        [key],
    )
    now = now_iso()
    run = run_iri(now)
    f = figs[key]
    graph = institution_graph_text(profile, f, now, run).ntriples()
    scores = dict(others)
    own = f.overall(profile.metrics)
    if own is not None:
        scores[key] = own
    entry = {key: own} if own is not None else {}
    if scores:
        entry["national"] = sum(scores.values()) / len(scores)
    return graph, history_quads(profile, run, now, store_version, entry, institution_graph(key))


_profiles: dict[int, Profile] = {}


def profile_for(settings: Settings, validator: Validator) -> Profile:
    """One profile per validator (its compiled shapes) — the metrics file is read once."""
    if id(validator) not in _profiles:
        _profiles[id(validator)] = Profile.of(settings, validator.engines)
    return _profiles[id(validator)]


@dataclass(frozen=True)
class RunSummary:
    institutions: int
    measured: int  # institutions with data
    results: int
    national: float | None
    seconds: float
    replaced: int  # compliance graphs written (changed, new) or dropped
    written: int  # quads written, the history's included


def stored_profile(store: ox.Store) -> str | None:
    rows = _select(store, "compliance-profile")
    return rows[0][0].value if rows and rows[0][0] is not None else None


def revalidate(settings: Settings, store: EmbeddedStore, validator: Validator | None = None) -> RunSummary:
    """``pvpp-kg revalidate``: every institution measured against the current profile, published in one write. If
    another process publishes a new data version meanwhile (a submission to a running server), the run starts
    again on it, at most :data:`ATTEMPTS` times, as the server's start-up revalidation does (:class:`Moved` after
    that)."""
    from pvpp_kg.validation.validator import validator_for

    started = time.perf_counter()
    validator = validator or validator_for(settings)
    for attempt in range(ATTEMPTS):
        version, snapshot = store.newest_snapshot()
        run = full_run(settings, validator, store.reader_of(snapshot), str(version))
        try:
            write_full(store, run, version)
        except Moved:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return run.summary(time.perf_counter() - started)
    raise AssertionError("unreachable")
