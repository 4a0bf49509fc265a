"""The query worker process: evaluates one query at a time on a read-only snapshot and sends back bytes.

Started by :class:`pvpp_kg.querypool.QueryPool` as ``python -m pvpp_kg.queryworker FD``, with FD one end of a
socket pair. It imports only the standard library and pyoxigraph (~20 MiB instead of ~80 MiB for a process that
imports the web app), because there is one such process per core and per server worker.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

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


def serve(conn: Connection) -> None:
    """Answer jobs until the parent closes the connection or sends ``None``."""
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


if __name__ == "__main__":
    # run the importable module's serve(), so that pickled jobs and outputs name pvpp_kg.queryworker, not __main__
    from pvpp_kg.queryworker import serve as _serve

    _serve(Connection(int(sys.argv[1])))
