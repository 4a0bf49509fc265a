"""The compliance cockpit as people read it: the national table, one institution's rules and results, the trend,
the responsibility matrix — read from the published measurements (``graph/compliance/*``), never recomputed.

Why read the store and not keep the figures in memory: the measurements are the public linked data, so the pages,
the API, ``/sparql`` and the dumps can only ever show the same figures. The table is read once per data version.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from pvpp_kg import rq
from pvpp_kg.errors import BadRequest, NotFound
from pvpp_kg.namespaces import ID, institution_graph
from pvpp_kg.policy.matrix import ROLES, TASKS
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import ALL_NAMED, Backend
from pvpp_kg.validation.compliance import (
    COMPLIANCE_GRAPHS,
    Institution,
    Metric,
    assemble_institutions,
    read_metrics,
)
from pvpp_kg.validation.submissions import solutions

KINDS = ("ministry", "agency", "municipality", "other")
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
PROFILES = f"{ID}profile/"
SORTS = ("name", "kind", "services", "score", "violations", "warnings", "submitted")


async def _select(backend: Backend, name: str, settings: Settings, **iris: str) -> list[dict[str, str]]:
    """Rows of ``rq/{name}.rq`` with each of ``iris`` (variable name → IRI) bound by substitution."""
    out = await backend.query(
        rq.load(name),
        result_format="JSON",
        dataset=ALL_NAMED,
        substitutions=tuple((k, "iri", v, None) for k, v in iris.items()),
        timeout=settings.query_timeout_s,
    )
    return solutions(out.body)


@dataclass
class Row:
    """One institution in the national table."""

    key: str
    name: dict[str, str]
    kind: str
    sector: str | None
    municipality: str | None
    services: int = 0
    violations: int = 0
    warnings: int = 0
    overall: float | None = None
    scores: dict[str, float] = field(default_factory=dict)  # metric key → score
    failing: dict[str, int] = field(default_factory=dict)  # metric key → failing nodes
    version: int | None = None
    submitted: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "sector": self.sector,
            "municipality": self.municipality,
            "services": self.services,
            "violations": self.violations,
            "warnings": self.warnings,
            "overall": self.overall,
            "scores": self.scores,
            "failing": self.failing,
            "version": self.version,
            "submitted": self.submitted,
        }

    def meets(self, metric: str) -> bool | None:
        score = self.scores.get(metric)
        return None if score is None else score >= 1.0


@dataclass
class Overview:
    version: str
    metrics: list[Metric]
    rows: list[Row]
    national: list[tuple[str, float]]  # (time, score) of every run, oldest first
    derived: dict[Any, Any] = field(default_factory=dict)  # what the pages compute from it, kept with it
    marker: tuple[str, ...] = ()  # the compliance runs it was read after (rq/compliance-marker.rq)
    institutions: dict[str, Institution] = field(default_factory=dict)  # key → the institution of its row
    runs: dict[str, set[str]] = field(default_factory=dict)  # the newest runs it includes → what each used

    def once(self, key: Any, make: Any) -> Any:
        """``make()`` computed once per data version (the charts, a filtered table's JSON): the national table
        has thousands of rows, and a page must not rebuild them on every request."""
        if key not in self.derived:
            if len(self.derived) > 256:
                self.derived.clear()
            self.derived[key] = make()
        return self.derived[key]

    def to_json(self, rows: list[Row]) -> bytes:
        return json.dumps(
            {
                "data_version": self.version,
                "metrics": [
                    {"key": m.key, "notation": m.notation, "label": m.labels, "definition": m.definitions}
                    for m in self.metrics
                ],
                "institutions": [r.to_json() for r in rows],
                "national_trend": [{"time": t, "score": v} for t, v in self.national],
            },
            ensure_ascii=False,
        ).encode("utf-8")

    def rule_shares(self, rows: list[Row]) -> list[tuple[Metric, int, int]]:
        """Per metric: institutions of ``rows`` meeting it, and those it applies to."""
        out = []
        for m in self.metrics:
            applicable = [r for r in rows if m.key in r.scores]
            out.append((m, sum(1 for r in applicable if r.meets(m.key)), len(applicable)))
        return out

    def histogram(self, rows: list[Row], bins: int = 10) -> list[int]:
        """Institutions per score band of width 1/``bins``, and one more for a full score: "meets everything" is
        the question the chart answers first (0.9 and 1.0 in one bar could not tell it)."""
        counts = [0] * (bins + 1)
        for r in rows:
            if r.overall is not None:
                counts[bins if r.overall >= 1 else min(bins - 1, int(r.overall * bins))] += 1
        return counts


_cache: dict[str, Overview] = {}  # per store directory


async def overview(backend: Backend, settings: Settings) -> Overview:
    """The national table as the newest measurements stand (cached per data version; after runs that each
    measured one institution — submissions — only their rows are read again)."""
    version = backend.version()
    held = _cache.get(str(settings.data_dir))
    if held is not None and held.version == version:
        return held
    marker = tuple(
        r.get(k, "") for r in await _select(backend, "compliance-marker", settings) for k in ("runs", "last")
    )
    if held is not None and held.marker == marker:  # a write that changed no figure: the same table, newer version
        held.version = version
        held.derived.clear()
        return held
    result = await _patched(backend, settings, held, marker) if held is not None else None
    if result is None:
        result = await _read(backend, settings, marker)
    result.version = version
    _cache[str(settings.data_dir)] = result  # one version per store: the newest
    return result


async def _read(backend: Backend, settings: Settings, marker: tuple[str, ...]) -> Overview:
    """The whole table read from the store."""
    runs = await _runs_since(backend, settings, marker)  # before the figures: a run found here is in them
    metrics = read_metrics(settings)
    raw = await backend.query(
        rq.load("compliance-institutions"), result_format="JSON", dataset=ALL_NAMED, timeout=settings.query_timeout_s
    )
    bindings = json.loads(raw.body)["results"]["bindings"]
    found = assemble_institutions((b["inst"]["value"], b["what"]["value"], b["x"]) for b in bindings)
    kinds = {k: i.kind for k, i in found.items()}
    rows = {key: _row(i, kinds) for key, i in found.items()}
    out = await backend.query(
        rq.load("compliance-measurements"), result_format="CSV", dataset=ALL_NAMED, timeout=settings.query_timeout_s
    )
    _measured(rows, metrics, itertools.islice(csv.reader(io.StringIO(out.body.decode("utf-8"))), 1, None))
    for v in await _select(backend, "compliance-versions", settings):
        row = rows.get(v["g"].removeprefix(institution_graph("")))
        if row is not None:
            row.version, row.submitted = int(v["version"]), v["time"]
    national = await _national(backend, settings)
    result = Overview("", metrics, sorted(rows.values(), key=_order), national, marker=marker)
    result.institutions, result.runs = found, runs or {}
    return result


def _row(i: Institution, kinds: dict[str, str]) -> Row:
    """An institution's row without figures: its sector and municipality from its kind and its parent's."""
    parent = i.parent
    sector = i.key if i.kind == "ministry" else (parent if kinds.get(parent or "") == "ministry" else None)
    municipality = (
        i.key if i.kind == "municipality" else (parent if kinds.get(parent or "") == "municipality" else None)
    )
    return Row(i.key, i.labels, i.kind, sector, municipality)


def _measured(rows: dict[str, Row], metrics: list[Metric], found: Iterable[list[str]]) -> None:
    """The measurements' (measurement IRI, kind, value) into the rows they name."""
    by_key = {m.key: m for m in metrics}
    prefix = f"{ID}measurement/"
    for m, kind, x in found:
        parts = m.removeprefix(prefix).split("/")
        if not m.startswith(prefix) or len(parts) != 2 or parts[0] not in rows:
            continue  # a history entry, or an institution no longer listed
        row, metric = rows[parts[0]], parts[1]
        if metric == "overall":
            if kind == "value":
                row.overall = float(x)
            elif kind in ("violations", "warnings", "services"):
                setattr(row, kind, int(x))
        elif metric in by_key:
            if kind == "value":
                row.scores[metric] = float(x)
            elif kind == "failing":
                row.failing[metric] = int(x)


async def _national(backend: Backend, settings: Settings) -> list[tuple[str, float]]:
    rows = await _select(backend, "compliance-national", settings)
    return [(h["time"], float(h["value"])) for h in rows]


def _order(r: Row) -> tuple[str, str]:
    return collation_key(r.name.get("lv", r.key)), r.key


async def _runs_since(backend: Backend, settings: Settings, marker: tuple[str, ...]) -> dict[str, set[str]] | None:
    """The runs that ended at or after the marker's newest, each with what it used; None without runs."""
    if len(marker) != 2 or not marker[1]:
        return None
    out = await backend.query(
        rq.load("compliance-runs-since"),
        result_format="JSON",
        dataset=ALL_NAMED,
        substitutions=(("since", "typed", marker[1], XSD_DATETIME),),
        timeout=settings.query_timeout_s,
    )
    runs: dict[str, set[str]] = {}
    for r in solutions(out.body):
        runs.setdefault(r["run"], set()).add(r["used"])
    return runs


async def _patched(backend: Backend, settings: Settings, held: Overview, marker: tuple[str, ...]) -> Overview | None:
    """The held table with the rows of the institutions the runs since it touched read again — or None when a
    run since was not one institution's with the same profile (a revalidation, a changed profile, a run from
    before runs named their data), or an institution's own facts changed: then the whole table is read
    (after a submission, ~1.3 s on the national store instead of ~0.05 s)."""
    since = await _runs_since(backend, settings, held.marker)
    if since is None or len(held.marker) != 2 or not (held.marker[0].isdigit() and marker[0].isdigit()):
        return None
    new = {run: used for run, used in since.items() if run not in held.runs}
    if len(new) != int(marker[0]) - int(held.marker[0]):
        return None  # the history is not what the marker says: a run removed, or one we cannot place
    profiles = {u for used in held.runs.values() for u in used if u.startswith(PROFILES)}
    keys: set[str] = set()
    for used in new.values():
        data = used - profiles
        if len(profiles) != 1 or not profiles <= used or len(data) != 1:
            return None
        (graph,) = data
        if not graph.startswith(institution_graph("")):
            return None  # everyone revalidated
        keys.add(graph.removeprefix(institution_graph("")))
    if not await _same_institutions(backend, settings, held, keys):
        return None
    rows = {r.key: r for r in held.rows}
    kinds = {k: i.kind for k, i in held.institutions.items()}
    for key in keys & rows.keys():
        row = _row(held.institutions[key], kinds)
        rows[key] = row
        graph = COMPLIANCE_GRAPHS + key
        measured = await _select(backend, "compliance-measurements-of", settings, graph=graph)
        _measured(rows, held.metrics, ([m["m"], m["kind"], m["x"]] for m in measured))
        for v in await _select(backend, "compliance-version-of", settings, graph=institution_graph(key)):
            row.version, row.submitted = int(v["version"]), v["time"]
    national = await _national(backend, settings)
    result = Overview("", held.metrics, [rows[r.key] for r in held.rows], national, marker=marker)
    result.institutions, result.runs = held.institutions, since
    return result


async def _same_institutions(backend: Backend, settings: Settings, held: Overview, keys: set[str]) -> bool:
    """Whether the institutions whose facts the touched graphs can state are as the held table has them: each
    touched institution itself (a submission may state facts about its own node), the institutions those graphs
    type, and every institution outside ``id/institution/`` (one a submission described, and may have dropped
    since); no other node's institution facts can change (the submission rules, docs/architecture.md). Any
    change — a name, kind or parent, an institution more or less — and the whole table is read."""
    own = f"{ID}institution/"
    iris = {own + k for k in keys} | {i.iri for i in held.institutions.values() if not i.iri.startswith(own)}
    for key in keys:
        typed = await _select(backend, "compliance-institutions-in", settings, graph=institution_graph(key))
        iris |= {r["inst"] for r in typed}
    facts = []
    for iri in sorted(iris):
        out = await backend.query(
            rq.load("compliance-institutions"),
            result_format="JSON",
            dataset=ALL_NAMED,
            substitutions=(("inst", "iri", iri, None),),
            timeout=settings.query_timeout_s,
        )
        facts += [(b["inst"]["value"], b["what"]["value"], b["x"]) for b in json.loads(out.body)["results"]["bindings"]]
    again = {i.iri: i for i in assemble_institutions(facts).values()}
    by_iri = {i.iri: i for i in held.institutions.values()}
    return all(by_iri.get(iri) == again.get(iri) for iri in iris)


def _fold(text: str) -> str:
    """Case- and diacritics-insensitive: ``ģimene`` matches ``gimene``."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


# Latvian alphabetical order (CLDR's lv collation): č ģ ķ ļ ņ š ž are letters of their own, after c g k l n s z;
# the long vowels sort with the short ones
_LETTERS_OF_THEIR_OWN = str.maketrans({c: f"{b}\x7f" for c, b in zip("čģķļņšž", "cgklnsz", strict=True)})


def collation_key(text: str) -> str:
    """A name's place in Latvian order: Ķekavas novads after Klimata un enerģētikas ministrija."""
    return _fold(text.casefold().translate(_LETTERS_OF_THEIR_OWN))


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    sector: str | None = None
    municipality: str | None = None
    rule: str | None = None  # a metric key: institutions that do not meet it
    q: str | None = None
    sort: str = "name"
    order: str = "asc"

    def check(self, o: Overview) -> Filters:
        """400 for a value the table cannot have: a filter that silently matched nothing would mislead. A rule may
        be named by its notation, as the table's columns are (``M1``): the filters are returned with its key."""
        by_notation = {m.notation.casefold(): m.key for m in o.metrics}
        if self.rule is not None and self.rule.casefold() in by_notation:
            return dataclasses.replace(self, rule=by_notation[self.rule.casefold()]).check(o)
        if self.kind is not None and self.kind not in KINDS:
            raise BadRequest(
                f"unknown institution type {self.kind!r}; one of {', '.join(KINDS)}",
                lv=f"nezināms iestādes veids {self.kind!r}; viens no: {', '.join(KINDS)}",
            )
        keys = {r.key for r in o.rows}
        if self.sector is not None and self.sector not in {r.sector for r in o.rows if r.sector}:
            raise BadRequest(
                f"unknown sector {self.sector!r}: give the key of a ministry",
                lv=f"nezināma nozare {self.sector!r}: norādiet ministrijas identifikatoru",
            )
        if self.municipality is not None and (
            self.municipality not in keys or not any(r.municipality == self.municipality for r in o.rows)
        ):
            raise BadRequest(
                f"unknown municipality {self.municipality!r}: give the key of a municipality",
                lv=f"nezināma pašvaldība {self.municipality!r}: norādiet pašvaldības identifikatoru",
            )
        if self.rule is not None and self.rule not in {m.key for m in o.metrics}:
            known = ", ".join(f"{m.notation} ({m.key})" for m in o.metrics)
            raise BadRequest(
                f"unknown rule {self.rule!r}; one of {known}", lv=f"nezināms noteikums {self.rule!r}; viens no: {known}"
            )
        if self.sort not in SORTS:
            raise BadRequest(
                f"unknown sort {self.sort!r}; one of {', '.join(SORTS)}",
                lv=f"nezināma kārtošana {self.sort!r}; viena no: {', '.join(SORTS)}",
            )
        if self.order not in ("asc", "desc"):
            raise BadRequest(
                f"order must be asc or desc, not {self.order!r}", lv=f"secība ir asc vai desc, nevis {self.order!r}"
            )
        if self.q is not None and len(self.q) > 200:
            raise BadRequest(
                "the text filter is longer than 200 characters", lv="teksta filtrs ir garāks par 200 rakstzīmēm"
            )
        return self

    def apply(self, rows: list[Row], lang: str) -> list[Row]:
        folded = " ".join(_fold(self.q).split()) if self.q and self.q.strip() else None  # spaces typed around it
        out = [
            r
            for r in rows
            if (self.kind is None or r.kind == self.kind)
            and (self.sector is None or r.sector == self.sector)
            and (self.municipality is None or r.municipality == self.municipality)
            and (self.rule is None or r.meets(self.rule) is False)
            and (folded is None or any(folded in _fold(n) for n in (*r.name.values(), r.key)))
        ]
        if self.sort in ("score", "submitted"):  # no data (no score, never submitted) last, whichever the order
            value = (lambda r: r.overall) if self.sort == "score" else (lambda r: r.submitted)
            known = sorted((r for r in out if value(r) is not None), key=value, reverse=self.order == "desc")
            return known + [r for r in out if value(r) is None]
        key = {
            "name": lambda r: (collation_key(r.name.get(lang, r.key)),),
            "kind": lambda r: (r.kind, collation_key(r.name.get(lang, r.key))),
            "services": lambda r: (r.services,),
            "violations": lambda r: (r.violations,),
            "warnings": lambda r: (r.warnings,),
        }[self.sort]
        return sorted(out, key=key, reverse=self.order == "desc")  # type: ignore[arg-type]


def table_csv(rows: list[Row], metrics: list[Metric], lang: str) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "key",
            "name",
            "type",
            "sector",
            "municipality",
            "services",
            "score",
            *[m.key for m in metrics],
            "violations",
            "warnings",
            "version",
            "submitted",
        ]
    )
    for r in rows:
        w.writerow(
            [
                r.key,
                r.name.get(lang, ""),
                r.kind,
                r.sector or "",
                r.municipality or "",
                r.services,
                "" if r.overall is None else f"{r.overall:.3f}",
                *["" if m.key not in r.scores else f"{r.scores[m.key]:.3f}" for m in metrics],
                r.violations,
                r.warnings,
                "" if r.version is None else r.version,
                r.submitted or "",
            ]
        )
    return out.getvalue()


# --- one institution --------------------------------------------------------------------------------------------


@dataclass
class Finding:
    focus: str
    label: str | None
    severity: str
    metrics: list[str]
    messages: dict[str, str]
    path: str | None


@dataclass
class Detail:
    row: Row
    metrics: list[Metric]
    findings: list[Finding]
    trend: list[tuple[str, float]]
    versions: list[dict[str, Any]]


_details: dict[tuple[str, str, str], Detail] = {}  # (store directory, data version, institution) → its page


async def detail(backend: Backend, settings: Settings, key: str) -> Detail:
    """One institution's rules, results, trend and versions, read once per data version."""
    held = (str(settings.data_dir), backend.version(), key)
    if held in _details:
        return _details[held]
    if len(_details) > 64 or any(k[1] != held[1] for k in _details):
        _details.clear()
    _details[held] = found = await _detail(backend, settings, key)
    return found


async def _detail(backend: Backend, settings: Settings, key: str) -> Detail:
    o = await overview(backend, settings)
    row = next((r for r in o.rows if r.key == key), None)
    if row is None:
        raise NotFound(
            f"no institution {key!r}: see /compliance for the list",
            lv=f"nav iestādes {key!r}: sarakstu skatiet /compliance",
        )
    graph = COMPLIANCE_GRAPHS + key
    findings: dict[str, Finding] = {}
    for f in await _select(backend, "compliance-findings", settings, graph=graph, data=institution_graph(key)):
        item = findings.setdefault(
            f["r"], Finding(f["focus"], f.get("label"), f["severity"].rsplit("#", 1)[-1], [], {}, f.get("path"))
        )
        if "metric" in f and f["metric"].rsplit("/", 1)[-1] not in item.metrics:
            item.metrics.append(f["metric"].rsplit("/", 1)[-1])
        for lang in ("lv", "en"):
            if f"msg_{lang}" in f:
                item.messages[lang] = f[f"msg_{lang}"]
    trend = [
        (h["time"], float(h["value"]))
        for h in await _select(backend, "compliance-history", settings, on=institution_graph(key))
    ]
    versions = await _select(backend, "compliance-submissions", settings, graph=institution_graph(key))
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    ordered = sorted(findings.values(), key=lambda f: (order.get(f.severity, 9), f.metrics, f.focus))
    return Detail(row, o.metrics, ordered, trend, versions)


def findings_csv(d: Detail, lang: str) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["focus", "label", "severity", "rules", "path", "message"])
    for f in d.findings:
        w.writerow([f.focus, f.label or "", f.severity, " ".join(f.metrics), f.path or "", f.messages.get(lang, "")])
    return out.getvalue()


# --- the responsibility matrix ----------------------------------------------------------------------------------


@dataclass
class Matrix:
    tasks: list[dict[str, str]]  # code, lv, en, iri
    roles: list[dict[str, str]]
    cells: dict[tuple[str, str], tuple[str, str]]  # (task, role) → (A|L, reading)
    filled: set[str] | None = None  # roles the institution's posts and lead participations fill
    unfilled_tasks: list[str] | None = None  # tasks none of whose A roles it fills


_grids: dict[tuple[str, str], Matrix] = {}  # (store directory, data version) → the matrix without an institution


async def _grid(backend: Backend, settings: Settings) -> Matrix:
    """The 32 × 10 grid with its names, read once per data version."""
    key = (str(settings.data_dir), backend.version())
    if key in _grids:
        return _grids[key]
    labels: dict[str, dict[str, str]] = {}
    for r in await _select(backend, "matrix-labels", settings):
        labels.setdefault(r["s"], {})[r["lang"]] = r["label"]
    cells = {
        (c["task"].rsplit("/", 1)[-1], c["role"].rsplit("/", 1)[-1]): (
            c["value"].rsplit("/", 1)[-1],
            c["reading"].rsplit("/", 1)[-1],
        )
        for c in await _select(backend, "matrix-cells", settings)
    }

    def entry(kind: str, code: str) -> dict[str, str]:
        iri = f"{ID}{kind}/{code}"
        return {"code": code, "iri": iri, **labels.get(iri, {})}

    _grids.clear()
    _grids[key] = Matrix([entry("task", t) for t in TASKS], [entry("role", r) for r in ROLES], cells)
    return _grids[key]


async def matrix(backend: Backend, settings: Settings, institution: str | None) -> Matrix:
    grid = await _grid(backend, settings)
    m = Matrix(grid.tasks, grid.roles, grid.cells)
    if institution is not None:
        o = await overview(backend, settings)
        if not any(r.key == institution for r in o.rows):
            raise NotFound(
                f"no institution {institution!r}: see /compliance for the list",
                lv=f"nav iestādes {institution!r}: sarakstu skatiet /compliance",
            )
        rows = await _select(
            backend,
            "matrix-filled",
            settings,
            institution=f"{ID}institution/{institution}",
        )
        m.filled = {r["role"].rsplit("/", 1)[-1] for r in rows}
        m.unfilled_tasks = [
            t for t in TASKS if not any(m.cells.get((t, r), ("", ""))[0] == "A" and r in m.filled for r in ROLES)
        ]
    return m


async def measurements_turtle(backend: Backend, settings: Settings, keys: list[str]) -> bytes:
    """The published measurements and results of these institutions, as Turtle (the table's RDF download):
    their subjects' IRIs carry the institution's key (``measurement/{key}/…``, ``compliance-report/{key}/…``)."""
    out = await backend.query(
        rq.load("compliance-construct"), result_format="N_TRIPLES", dataset=ALL_NAMED, timeout=settings.query_timeout_s
    )
    wanted = set(keys)
    kept = [
        t
        for t in ox.parse(out.body, format=ox.RdfFormat.N_TRIPLES)
        if _key_in(t.subject.value, wanted)  # type: ignore[union-attr]
    ]
    return ox.serialize(kept, format=ox.RdfFormat.TURTLE, prefixes=_PREFIXES)


_PREFIXES = {
    "dqv": "http://www.w3.org/ns/dqv#",
    "sh": "http://www.w3.org/ns/shacl#",
    "prov": "http://www.w3.org/ns/prov#",
    "pvpp": "https://w3id.org/pvpp/ontology#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _key_in(subject: str, keys: set[str]) -> bool:
    for family in ("measurement/", "compliance-report/"):
        if subject.startswith(f"{ID}{family}"):
            return subject.removeprefix(f"{ID}{family}").split("/")[0] in keys
    return False
