"""The validation process: SHACL validation requested over HTTP runs here, not in the web process.

Why a process: the SHACL engine evaluates its constraints with pyoxigraph, native code; a crash there (a stack
overflow, an abort) would take the web process and every request in it down. Here it kills this process only:
the parent (:class:`pvpp_kg.store.querypool.QueryPool`, the same pool as the queries') fails the job that
crashed it with a 503, re-runs the jobs beside it each alone, and starts a new process.

The same process does the rest of a submission's native work on the SHACL side (:class:`MeasureJob`: the stored,
materialised form of an accepted submission and its compliance figures), and a process of its own does the
server's start-up revalidation of the whole store (:class:`RevalidateJob`), so that a crash there, too, fails
alone.

Started as ``python -m pvpp_kg.validation.worker FD THREADS NICE SETTINGS_JSON``; it builds the validator (shapes,
materialised reference context) at once, then answers ``(job id, job)`` on THREADS threads with
``(job id, status, payload)``: ``("ok", Report | Stored | compliance.FullRun)``,
``("refused", (status, code, message))`` for input the validation refuses, ``("error", message)``. A document
travels as N-Triples bytes (:meth:`Document.transfer`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import pyoxigraph as ox

from pvpp_kg.errors import PvppError
from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import materialised_ntriples
from pvpp_kg.store.queryworker import serve_jobs
from pvpp_kg.validation import compliance
from pvpp_kg.validation.parse import Document, detect_format, parse_rdf
from pvpp_kg.validation.report import Report
from pvpp_kg.validation.validator import LAYERS, Validator, user_shapes, validator_for

MODULE = "pvpp_kg.validation.worker"


class ValidationJob(NamedTuple):
    """One validation: plain data, so that it pickles cheaply."""

    kind: str  # "policy": the policy's layers (+ user shapes) | "alone": user shapes only | "refusals"
    document: bytes  # Document.transfer()
    lang: str = "en"
    layers: tuple[str, ...] = LAYERS
    institution: str | None = None
    context: bytes | None = None  # the other institutions' data, N-Triples
    shapes: tuple[tuple[bytes, str | None, str], ...] = ()  # a user's shapes files: content, media type, name
    origin: Any = None  # a spreadsheet's rows (spreadsheet.Origin): its cells can be named in the process


class MeasureJob(NamedTuple):
    """An accepted submission's stored form and, with ``version``, its compliance figures (issue 28)."""

    document: bytes  # Document.transfer()
    graph: str  # the institution's graph
    key: str
    version: int | None = None  # the version the write will record; None: the stored form only (a preview)
    report: Report | None = None  # the submission's own validation report
    others: tuple[tuple[str, float], ...] = ()  # the other institutions' current overall scores
    store_version: str = ""


class Stored(NamedTuple):
    """What a submission's write holds besides its provenance record, all N-Triples."""

    stored: bytes  # the submission materialised as the store holds it
    figures: bytes | None = None  # graph/compliance/{key}
    history: bytes | None = None  # the run's entry in graph/compliance-history


class RevalidateJob(NamedTuple):
    """Every institution's figures from one validation of a read-only snapshot of the store, in place."""

    snapshot: str
    store_version: str


def crashes(data: bytes, marker: str | None, stage: str) -> bool:
    """The test hook of a native crash (``settings.validation_crash_marker``): the validation crashes on a document
    holding the marker not followed by ``#``; a later stage on one holding ``{marker}#{stage}`` (``#measure``)."""
    if not marker:
        return False
    if stage == "validation":
        return re.search(re.escape(marker.encode("utf-8")) + rb"(?!#)", data) is not None
    return f"{marker}#{stage}".encode() in data


class Recent:
    """The materialisation of the last documents validated here, by their transfer's digest: an accepted
    submission's stored form is then written from it instead of materialising the document again."""

    def __init__(self, size: int = 2) -> None:
        self.size, self.lock, self.kept = size, threading.Lock(), OrderedDict[bytes, Document]()

    def add(self, transfer: bytes, data: Document) -> None:
        with self.lock:
            self.kept[hashlib.sha256(transfer).digest()] = data
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)

    def materialised(self, transfer: bytes) -> list[ox.Quad] | None:
        """The document's triples and what they entail (default-graph quads, a triple two rules entail twice),
        if it is kept."""
        with self.lock:
            data = self.kept.get(hashlib.sha256(transfer).digest())
        return None if data is None or data.entailed is None else data.entailed[1]


RECENT = Recent()


def run(validator: Validator, job: ValidationJob, crash_marker: str | None = None) -> Report:
    """The report of one job (the user's shapes are read and compiled here too: the engine parses their queries)."""
    if crashes(job.document, crash_marker, "validation"):
        os.abort()
    data = Document.transferred(job.document)
    data.origin = job.origin  # a spreadsheet's: the validator names the cells of unknown institution keys
    if job.kind == "refusals":
        assert job.institution is not None
        return validator.refusals(data, job.institution, job.context)
    shapes = (
        user_shapes(
            (name, parse_rdf(content, detect_format(ctype, name), name).graph()) for content, ctype, name in job.shapes
        )
        if job.shapes
        else None
    )
    if job.kind == "alone":
        assert shapes is not None
        return validator.validate_alone(data, shapes, lang=job.lang)
    report = validator.validate(
        data,
        lang=job.lang,
        extra_context=job.context,
        layers=job.layers,
        extra_shapes=shapes,
        institution=job.institution,
    )
    if job.institution is not None:  # a submission's (or its preview's) check: its stored form is asked next
        RECENT.add(job.document, data)
    return report


def measure(validator: Validator, job: MeasureJob, crash_marker: str | None = None) -> Stored:
    """The submission materialised as the loader does, and (with a version) the institution measured from its own
    report and that stored content (``compliance.institution_run``: no second validation)."""
    if crashes(job.document, crash_marker, "measure"):
        os.abort()
    # issue 28's re-measurement after a submission: the stored form and the figures from the validation's
    # materialisation, not a second one; written as N-Quads of default-graph quads, i.e. N-Triples lines, with a
    # triple two rules entailed twice (the store keeps one): 0.07-0.16 s -> 0.02 s for 1,000 services
    quads = RECENT.materialised(job.document)
    if quads is not None:
        stored = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    else:
        stored = materialised_ntriples(job.document, job.graph, validator.ontology)
    if job.version is None:
        return Stored(stored)
    assert job.report is not None
    triples = quads if quads is not None else ox.parse(stored, format=ox.RdfFormat.N_TRIPLES)
    figures, history = compliance.institution_run(
        validator.settings, validator, job.key, job.version, triples, job.report, dict(job.others), job.store_version
    )
    return Stored(stored, figures, compliance.ntriples(history))


def revalidate(validator: Validator, job: RevalidateJob, crash_marker: str | None = None) -> compliance.FullRun:
    """``compliance.full_run`` on the snapshot, opened read-only here: the web process only writes the result."""
    store = ox.Store.read_only(job.snapshot)
    if crash_marker and next(store.quads_for_pattern(ox.NamedNode(f"{crash_marker}#revalidate"), None, None), None):
        os.abort()  # the test hook: a store holding <{marker}#revalidate> as a subject
    return compliance.full_run(validator.settings, validator, store, job.store_version)


def outcome(
    validator: Validator, job: ValidationJob | MeasureJob | RevalidateJob, crash_marker: str | None = None
) -> tuple[str, Any]:
    try:
        if isinstance(job, MeasureJob):
            return "ok", measure(validator, job, crash_marker)
        if isinstance(job, RevalidateJob):
            return "ok", revalidate(validator, job, crash_marker)
        return "ok", run(validator, job, crash_marker)
    except PvppError as e:  # input the validation refuses (ill-formed shapes, a failed constraint query)
        return "refused", (e.status, e.code, e.message)
    except RecursionError:
        return "refused", (400, "invalid_input", "the document or the shapes nest too deeply to be validated")
    except Exception as e:  # any other error is reported, never kills the process
        return "error", str(e) or type(e).__name__


def serve(conn: Connection, threads: int, nice: int, settings: Settings) -> None:
    if nice:
        os.nice(nice)
    validator = validator_for(settings)  # now, not on the first job: a restarted process is ready sooner
    serve_jobs(conn, threads, lambda job: outcome(validator, job, settings.validation_crash_marker))


if __name__ == "__main__":
    # the importable module's serve(), so that pickled jobs and reports name pvpp_kg.validation.*, not __main__
    from pvpp_kg.validation.worker import serve as _serve

    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), Settings.model_validate_json(sys.argv[4]))
