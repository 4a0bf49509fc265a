"""The query process: evaluates queries on threads over one read-only snapshot and sends back bytes.

Started by :class:`pvpp_kg.store.querypool.QueryPool` as ``python -m pvpp_kg.store.queryworker FD THREADS NICE``,
with FD one end of a socket pair. It imports only the standard library and pyoxigraph (``pvppfn:search`` reaches it
already rewritten into standard SPARQL, ``textsparql``), so it is a fraction of the size of a process that imports
the web app. Queries run on threads sharing one open store: pyoxigraph evaluates
without the GIL, so the threads use every core, and the store's caches exist once, not per query.
Messages are ``(job id, QueryJob)`` in and ``(job id, status, payload)`` out, answered in any order.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

EMPTY_GRAPH = "https://w3id.org/pvpp/graph/empty"  # never written: stands for an empty default graph


class QueryJob(NamedTuple):
    """Everything a worker needs; plain data so it pickles cheaply. A named tuple, not a frozen dataclass: one is
    made, hashed and compared on every query (see ``backend.CheapJobs``), and a tuple does that in C."""

    snapshot: str
    query: str
    result_format: str  # a QueryResultsFormat or RdfFormat attribute name, e.g. "JSON", "TURTLE"
    use_default_graph_as_union: bool = True
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    substitutions: tuple[tuple[str, str, str, str | None], ...] = ()  # (var, kind, value, datatype|lang)
    max_bytes: int = 100 * 1024 * 1024


@dataclass(frozen=True)
class QueryOutput:
    kind: str  # "solutions" | "boolean" | "graph"
    body: bytes
    seconds: float | None = field(default=None, compare=False)  # evaluation + serialisation, where measured


class _TooLarge(Exception):
    pass


class _CappedWriter:
    """File-like sink that stops serialisation once the result passes the size cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, b: bytes) -> int:
        self.size += len(b)
        if self.size > self.cap:
            raise _TooLarge
        self.parts.append(bytes(b))
        return len(b)

    def flush(self) -> None:
        pass


def _term(kind: str, value: str, extra: str | None) -> Any:
    import pyoxigraph as ox

    if kind == "iri":
        return ox.NamedNode(value)
    if kind == "lang":
        return ox.Literal(value, language=extra)
    if kind == "typed":
        return ox.Literal(value, datatype=ox.NamedNode(extra)) if extra else ox.Literal(value)
    raise ValueError(kind)


def evaluate(store: Any, job: QueryJob, *, small: bool = False) -> QueryOutput:
    """Run one query on an open pyoxigraph store and serialise it (used in workers and in-process).

    A result is streamed through a sink that stops at the size cap, so a huge one never sits in memory; a job
    known to be ``small`` (it took milliseconds before, see ``backend.CheapJobs``) is serialised to bytes in
    one call and measured afterwards, which spares a point lookup the sink's overhead."""
    import pyoxigraph as ox

    started = time.perf_counter()

    kwargs: dict[str, Any] = {}
    if job.default_graph is not None:  # () = the protocol named only named graphs: an empty default graph
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph] or [ox.NamedNode(EMPTY_GRAPH)]
    elif job.use_default_graph_as_union:
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    if job.substitutions:
        kwargs["substitutions"] = {ox.Variable(v): _term(k, val, x) for v, k, val, x in job.substitutions}
    result = store.query(job.query, **kwargs)
    if isinstance(result, ox.QueryBoolean):
        fmt = getattr(ox.QueryResultsFormat, job.result_format)
        return QueryOutput("boolean", result.serialize(format=fmt), time.perf_counter() - started)
    if isinstance(result, ox.QuerySolutions):
        kind, fmt = "solutions", getattr(ox.QueryResultsFormat, job.result_format)
    else:
        kind, fmt = "graph", getattr(ox.RdfFormat, job.result_format)
    if small:
        body = result.serialize(format=fmt)
        if len(body) > job.max_bytes:
            raise _TooLarge
    else:
        sink = _CappedWriter(job.max_bytes)
        result.serialize(sink, format=fmt)
        body = b"".join(sink.parts)
    return QueryOutput(kind, body, time.perf_counter() - started)


def outcome(store: Any, job: QueryJob, *, small: bool = False) -> tuple[str, Any]:
    """``(status, payload)`` of one job: ``("ok", QueryOutput)`` or an error status and its message."""
    try:
        return "ok", evaluate(store, job, small=small)
    except SyntaxError as e:
        return "syntax", str(e)
    except _TooLarge:
        return "too_large", f"the result is larger than {job.max_bytes} bytes; add a LIMIT"
    except Exception as e:  # any evaluation error is reported, never kills the process
        return "error", str(e) or "the engine gave no reason"


def serve(conn: Connection, threads: int, nice: int = 0) -> None:
    """Answer jobs on ``threads`` threads until the parent closes the connection or sends ``None``.

    ``nice`` is added before any thread starts (Linux niceness is per thread, inherited by new threads): with
    query threads filling the cores, the web process would otherwise wait a scheduler slice at each wake-up,
    and so would a point lookup among heavy queries.
    """
    import pyoxigraph as ox

    if nice:
        os.nice(nice)

    stores: dict[str, Any] = {}
    opening = threading.Lock()

    def store_for(snapshot: str) -> Any:
        with opening:
            store = stores.get(snapshot)
            if store is None:  # a newer snapshot: the old store closes when its last running query ends
                stores.clear()
                store = stores[snapshot] = ox.Store.read_only(snapshot)
            return store

    def answer(job: QueryJob) -> tuple[str, Any]:
        try:
            return outcome(store_for(job.snapshot), job)
        except Exception as e:  # the snapshot could not be opened
            return "error", f"{type(e).__name__}: {e}"

    serve_jobs(conn, threads, answer)


def serve_jobs(conn: Connection, threads: int, answer: Callable[[Any], tuple[str, Any]]) -> None:
    """Answer ``(job id, job)`` messages with ``(job id, *answer(job))`` on ``threads`` threads, until the parent
    closes the connection or sends ``None`` (also the validation process's loop, ``pvpp_kg.validation.worker``)."""
    sending = threading.Lock()
    receiving = threading.Lock()

    def take_turns() -> None:
        # each thread reads its own next job: the thread woken by a message runs it, no hand-off to another
        while True:
            with receiving:
                try:
                    message: tuple[int, Any] | None = conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is None:
                os._exit(0)  # running jobs are abandoned, as the parent asked
            job_id, job = message
            reply = answer(job)
            with sending:
                try:
                    conn.send((job_id, *reply))
                except OSError:  # the parent is gone
                    os._exit(0)

    for _ in range(threads - 1):
        threading.Thread(target=take_turns, daemon=True).start()
    take_turns()


if __name__ == "__main__":
    # run the importable module's serve(), so that pickled jobs and outputs name pvpp_kg.store.queryworker, not __main__
    from pvpp_kg.store.queryworker import serve as _serve

    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]))
