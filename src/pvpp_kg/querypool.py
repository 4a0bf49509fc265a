"""SPARQL evaluation in worker processes, so that a query past its timeout is really stopped.

pyoxigraph has no query timeout, and a thread cannot be killed; a process can. Each worker opens the
current read-only snapshot of the embedded store (see ``store.py``), evaluates, serialises the result
in the same call and sends back bytes. The parent kills a worker whose query runs past the deadline
and starts a new one. Workers also spread heavy queries over the machine's cores.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from pvpp_kg.errors import BackendUnavailable, BadRequest, PayloadTooLarge, QuerySyntaxError, QueryTimeout

_CTX = mp.get_context("spawn")
EMPTY_GRAPH = "https://w3id.org/pvpp/graph/empty"  # never written: stands for an empty default graph


@dataclass(frozen=True)
class QueryJob:
    """Everything a worker needs; plain data so it pickles cheaply."""

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


def evaluate(store: Any, job: QueryJob) -> QueryOutput:
    """Run one query on an open pyoxigraph store and serialise it (used in workers and in-process)."""
    import pyoxigraph as ox

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
        return QueryOutput("boolean", result.serialize(format=fmt))
    sink = _CappedWriter(job.max_bytes)
    if isinstance(result, ox.QuerySolutions):
        result.serialize(sink, format=getattr(ox.QueryResultsFormat, job.result_format))
        return QueryOutput("solutions", b"".join(sink.parts))
    result.serialize(sink, format=getattr(ox.RdfFormat, job.result_format))
    return QueryOutput("graph", b"".join(sink.parts))


def _worker_main(conn: Connection) -> None:
    import pyoxigraph as ox

    stores: dict[str, Any] = {}
    while True:
        try:
            job: QueryJob | None = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            store = stores.get(job.snapshot)
            if store is None:
                stores.clear()
                store = stores[job.snapshot] = ox.Store.read_only(job.snapshot)
            conn.send(("ok", evaluate(store, job)))
        except SyntaxError as e:
            conn.send(("syntax", str(e)))
        except _TooLarge:
            conn.send(("too_large", f"the result is larger than {job.max_bytes} bytes; add a LIMIT"))
        except Exception as e:  # any evaluation error is reported, never kills the worker
            conn.send(("error", f"{type(e).__name__}: {e}"))


class _Worker:
    def __init__(self) -> None:
        self.conn, child = _CTX.Pipe()
        self.process = _CTX.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """A fixed number of query worker processes; ``run`` blocks (call it from a thread)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(_Worker())

    def run(self, job: QueryJob, timeout: float) -> QueryOutput:
        """Evaluate ``job``; raise ``QueryTimeout`` (after killing the worker) past ``timeout`` seconds."""
        if self._closed:
            raise BackendUnavailable("the query pool is shut down")
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryTimeout(f"no query worker became free within {timeout:g} s") from None
        try:
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                worker.kill()
                worker = _Worker()
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            status, payload = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            worker.kill()
            worker = _Worker()
            raise BackendUnavailable("the query worker died; the query was not answered") from None
        finally:
            self._idle.put(worker)
        if status == "ok":
            return payload
        if status == "syntax":
            raise QuerySyntaxError(payload)
        if status == "too_large":
            raise PayloadTooLarge(payload)
        raise BadRequest(f"the query could not be evaluated: {payload}")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                w.conn.send(None)
            except OSError:
                pass
            w.process.join(2)
            if w.process.is_alive():
                w.kill()
