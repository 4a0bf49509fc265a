"""Institution submissions: validate with the reference data, then replace the institution's graph atomically.

The submission is materialised in memory and its institution measured (both in the validation process), then one
write replaces ``graph/institution/{key}`` and ``graph/compliance/{key}`` and adds the provenance record and the
compliance run — one ``EmbeddedStore.writer()`` block (which publishes a snapshot only when it ends) or, on a
remote store, one SPARQL Update request — so a crash at any point leaves the old or the new graph, never a mix;
a crash of the validation process before the write stores nothing (503).
Every accepted version's content is kept as a file ``{data_dir}/submissions/{key}/{version}.nt``; the provenance
records (pvpp:Submission, PROV-O, SPDX checksum, VoID triple count) live in the public graph ``graph/provenance``,
so the version history is queryable with SPARQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio.to_thread
import pyoxigraph as ox

from pvpp_kg import rq
from pvpp_kg.errors import BackendUnavailable, BadRequest, Forbidden, NotFound, PvppError
from pvpp_kg.namespaces import GRAPH, ID, institution_graph
from pvpp_kg.policy.institutions import institution as institution_iri
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import ALL_NAMED, Backend
from pvpp_kg.validation import compliance
from pvpp_kg.validation.diff import Diff, diff
from pvpp_kg.validation.neighbourhood import neighbourhood
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import Report
from pvpp_kg.validation.runner import Validations
from pvpp_kg.validation.validator import POLICY_LAYERS
from pvpp_kg.validation.worker import Stored

PROVENANCE_GRAPH = str(GRAPH["provenance"])
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PROLOGUE = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


class NotConforming(PvppError):
    """422: the data breaks the rules; the report says which."""

    status = 422
    code = "not_conforming"

    def __init__(self, report: Report) -> None:
        super().__init__(f"the data does not conform: {report.count('Violation')} violations")
        self.report = report


@dataclass(frozen=True)
class Version:
    institution: str
    version: int
    time: str
    checksum: str  # sha256 of the submitted triples as sorted N-Triples
    triples: int
    graph: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise BadRequest(f"not an institution key: {key!r}")
    return key


class ForeignFacts(Forbidden):
    """403: the upload states facts about another institution's or the reference data's nodes. The report says
    which, so that a browser can show them at their cells instead of one message."""

    def __init__(self, message: str, report: Report, lv: str | None = None) -> None:
        super().__init__(message, lv=lv)
        self.report = report


class PersonalData(BadRequest):
    """400: a person's name or contact is in the upload; the report says where."""

    def __init__(self, message: str, report: Report, lv: str | None = None) -> None:
        super().__init__(message, lv=lv)
        self.report = report


def check_own_facts(report: Report, key: str) -> None:
    """The final check before a write, on the report of the submission layer (``shapes/submission-shapes.ttl``)
    on the triples as stated: another institution's or the reference data's nodes are 403, names and contacts of
    people 400; the error carries the layer's violations."""
    refused = dataclasses.replace(report, results=[r for r in report.results if r.severity == "Violation"])
    # personal data first: a person's name is refused as personal data, whoever's node it is on
    for r in sorted(refused.results, key=lambda r: r.shape.endswith("OwnFactsShape")):
        if r.shape.endswith("OwnFactsShape"):
            raise ForeignFacts(
                f"{r.messages['en']} (the token is {key!r}'s)",
                refused,
                lv=f"{r.messages.get('lv')} (pilnvara ir iestādes {key!r})",
            )
        statement = f"{r.focus} {r.path} {r.value}"
        raise PersonalData(
            f"{r.messages['en']} (statement: {statement})",
            refused,
            lv=f"{r.messages.get('lv')} (apgalvojums: {statement})",
        )


def solutions(out: bytes) -> list[dict[str, str]]:
    """A SPARQL JSON result's solutions as plain {variable: value} dicts."""
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(out)["results"]["bindings"]]


async def known(backend: Backend, key: str, *, timeout: float = 30) -> bool:
    """Whether the data has an institution of that key (``id/institution/{key}``)."""
    out = await backend.query(
        f"ASK {{ <{institution_iri(key)}> ?p ?o }}", result_format="JSON", dataset=ALL_NAMED, timeout=timeout
    )
    return bool(json.loads(out.body)["boolean"])


async def versions(backend: Backend, key: str, *, timeout: float = 30) -> list[Version]:
    graph = institution_graph(key)
    q = (
        PROLOGUE
        + f"""SELECT ?v ?t ?sum ?n WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
        ?sub pvpp:submittedGraph <{graph}> ; dcat:version ?v ; prov:generatedAtTime ?t ;
             void:triples ?n ; pvpp:sha256 ?sum }} }}"""
    )
    out = await backend.query(q, result_format="JSON", dataset=ALL_NAMED, timeout=timeout)
    rows = [Version(key, int(r["v"]), r["t"], r["sum"], int(r["n"]), graph) for r in solutions(out.body)]
    return sorted(rows, key=lambda v: v.version)


def version_path(settings: Settings, key: str, version: int) -> Path:
    return settings.data_dir / "submissions" / key / f"{version}.nt"


async def version_content(settings: Settings, backend: Backend, key: str, version: int) -> bytes:
    if not any(v.version == version for v in await versions(backend, key)):
        raise NotFound(f"institution {key!r} has no version {version}")
    try:
        return version_path(settings, key, version).read_bytes()
    except OSError:
        raise NotFound(f"the content of version {version} of {key!r} is not kept") from None


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _provenance_update(key: str, graph: str, now: str, checksum: str, triples: int) -> str:
    """The provenance record; its version number is computed inside the same atomic write."""
    return (
        PROLOGUE
        + f"""INSERT {{ GRAPH <{PROVENANCE_GRAPH}> {{
    ?sub a pvpp:Submission, prov:Entity ; pvpp:submittedGraph <{graph}> ; dct:isVersionOf <{graph}> ;
        dcat:version ?next ; pvpp:sha256 "{checksum}" ;
        prov:generatedAtTime "{now}"^^xsd:dateTime ; prov:wasAttributedTo <{ID}institution/{key}> ;
        void:triples {triples} ;
        spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue "{checksum}" ] }} }}
WHERE {{
  {{ SELECT (COALESCE(MAX(xsd:integer(?v)), 0) + 1 AS ?next) WHERE {{
      OPTIONAL {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?old pvpp:submittedGraph <{graph}> ; dcat:version ?v }} }} }} }}
  BIND(IRI(CONCAT("{ID}submission/{key}/", STR(?next))) AS ?sub)
}}"""
    )


async def accepted(
    settings: Settings, backend: Backend, validations: Validations, key: str, data: Document, lang: str
) -> Report:
    """The checks a submission passes before anything is stored (and a preview before it is shown): the key, its
    own non-personal facts (403/400), the policy with the other institutions as context (NotConforming); the
    SHACL runs in the validation process."""
    check_key(key)
    # what the cross-institution rules read of the others' data, not all of it (issue 29: over the cap nationally)
    context = await neighbourhood(settings, backend, key, data)
    check_own_facts(await validations.refusals(data, key, context), key)
    # the submission layer has just run alone (check_own_facts) and found nothing: only the policy's layers
    report = await validations.validate(data, lang=lang, context=context, institution=key, layers=POLICY_LAYERS)
    if not report.conforms:
        raise NotConforming(report)
    return report


async def submit(
    settings: Settings,
    backend: Backend,
    validations: Validations,
    key: str,
    data: Document,
    *,
    lang: str = "en",
) -> tuple[Version, Report]:
    """Validate and, if the data conforms, atomically replace the institution's graph; else NotConforming.

    Works on the embedded and on a remote store alike: the graph replacement, the provenance record and the
    institution's compliance figures are one write (one writer block, or one SPARQL Update request). The stored
    form and the figures are made in the validation process; if that fails (a crash, a timeout), nothing is
    stored and the answer is a 503: the data and its figures always move together.
    """
    report = await accepted(settings, backend, validations, key, data, lang)
    content = data.ntriples()
    checksum = hashlib.sha256(content).hexdigest()
    graph = institution_graph(key)
    now = compliance.now_iso()
    # the compliance figures go in the same write: one snapshot, and the cockpit never lags the data
    expected = max((v.version for v in await versions(backend, key)), default=0) + 1
    measured = await measure(settings, backend, validations, key, expected, data, report)
    assert measured.figures is not None and measured.history is not None
    graphs = {graph: measured.stored, compliance.COMPLIANCE_GRAPHS + key: measured.figures}
    updates = (_provenance_update(key, graph, now, checksum, len(data)), history_update(measured.history))
    await backend.write_graphs(graphs, updates)
    version = max(v.version for v in await versions(backend, key) if v.checksum == checksum and v.time == now)
    _write_file(version_path(settings, key, version), content)
    return Version(key, version, now, checksum, len(data), graph), report


def history_update(ntriples: bytes) -> str:
    """The update adding a compliance run (N-Triples) to ``graph/compliance-history``."""
    return f"INSERT DATA {{ GRAPH <{compliance.HISTORY_GRAPH}> {{\n{ntriples.decode('utf-8')}}} }}"


async def measure(
    settings: Settings,
    backend: Backend,
    validations: Validations,
    key: str,
    version: int,
    data: Document,
    report: Report,
) -> Stored:
    """The submission's stored form and its institution's compliance figures from its own report (issue 28), made
    in the validation process. ``version``: the version this write will record (two submissions of one institution
    racing could both measure the same number; the provenance record, numbered inside the write, stays the
    authority). Any failure there is a 503 saying that nothing was stored."""
    q = rq.load("compliance-overall")
    out = await backend.query(q, result_format="JSON", dataset=ALL_NAMED, timeout=settings.query_timeout_s)
    others = {
        r["g"].removeprefix(compliance.COMPLIANCE_GRAPHS): float(r["value"])
        for r in solutions(out.body)
        if r["g"] != compliance.COMPLIANCE_GRAPHS + key
    }
    try:
        return await validations.measure(
            data,
            institution_graph(key),
            key,
            version=version,
            report=report,
            others=others,
            store_version=backend.version(),
        )
    except PvppError as e:
        logging.getLogger("pvpp_kg").error("measuring %s's submission failed: %s", key, e.message)
        raise BackendUnavailable(
            f"the submission was not stored: measuring its compliance figures failed: {e.message}. "
            "The stored data and figures are unchanged; send it again"
        ) from None


async def current_ntriples(backend: Backend, key: str) -> bytes:
    """The institution's graph as stored now, as N-Triples (empty if it has none)."""
    try:
        return await backend.graph(institution_graph(key), "N_TRIPLES")
    except NotFound:
        return b""


async def current_triples(backend: Backend, key: str) -> list[ox.Triple]:
    data = await current_ntriples(backend, key)
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]


async def preview(
    settings: Settings,
    backend: Backend,
    validations: Validations,
    key: str,
    data: Document,
    *,
    lang: str = "en",
) -> tuple[Report, Diff]:
    """What :func:`submit` would do, without writing: the same checks (403/400/NotConforming), then the diff of
    the institution's stored graph against the graph the submission would be stored as (made in the validation
    process)."""
    report = await accepted(settings, backend, validations, key, data, lang)
    current = await current_ntriples(backend, key)
    stored = await validations.measure(data, institution_graph(key), key)
    return report, await anyio.to_thread.run_sync(diff, current, stored.stored)
