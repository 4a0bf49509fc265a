"""The validation process: SHACL validation requested over HTTP runs here, not in the web process.

Why a process: the SHACL engine evaluates its constraints with pyoxigraph, native code; a crash there (a stack
overflow, an abort) would take the web process and every request in it down. Here it kills this process only:
the parent (:class:`pvpp_kg.store.querypool.QueryPool`, the same pool as the queries') fails the job that
crashed it with a 503, re-runs the jobs beside it each alone, and starts a new process.

Started as ``python -m pvpp_kg.validation.worker FD THREADS NICE SETTINGS_JSON``; it builds the validator (shapes,
materialised reference context) at once, then answers ``(job id, ValidationJob)`` on THREADS threads with
``(job id, status, payload)``: ``("ok", Report)``, ``("refused", (status, code, message))`` for input the
validation refuses, ``("error", message)``. A document travels as N-Triples bytes (:meth:`Document.transfer`).
"""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from pvpp_kg.errors import PvppError
from pvpp_kg.settings import Settings
from pvpp_kg.store.queryworker import serve_jobs
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


def run(validator: Validator, job: ValidationJob, crash_marker: str | None = None) -> Report:
    """The report of one job (the user's shapes are read and compiled here too: the engine parses their queries)."""
    if crash_marker and crash_marker.encode("utf-8") in job.document:
        os.abort()  # the test hook of a native crash (settings.validation_crash_marker)
    data = Document.transferred(job.document)
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
    return validator.validate(
        data,
        lang=job.lang,
        extra_context=job.context,
        layers=job.layers,
        extra_shapes=shapes,
        institution=job.institution,
    )


def outcome(validator: Validator, job: ValidationJob, crash_marker: str | None = None) -> tuple[str, Any]:
    try:
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
