"""SPARQL evaluation in worker processes, so that a query past its timeout is really stopped.

pyoxigraph has no query timeout, and a thread cannot be killed; a process can. Each worker opens the
current read-only snapshot of the embedded store (see ``store.py``), evaluates, serialises the result
in the same call and sends back bytes. The parent kills a worker whose query runs past the deadline
and starts a new one. Workers also spread heavy queries over the machine's cores.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from pvpp_kg.errors import BackendUnavailable, BadRequest, PayloadTooLarge, QuerySyntaxError, QueryTimeout
from pvpp_kg.queryworker import EMPTY_GRAPH, QueryJob, QueryOutput, evaluate

__all__ = ["EMPTY_GRAPH", "QueryJob", "QueryOutput", "QueryPool", "evaluate"]


class _Worker:
    """One ``python -m pvpp_kg.queryworker`` process and our end of its socket pair.

    Why not ``multiprocessing.Process``: a spawned child re-imports the parent's ``__main__`` (the CLI, and
    with it the web app) and needs a resource-tracker process; a plain subprocess imports only what it uses.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pvpp_kg.queryworker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        self.conn = Connection(ours.detach())

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
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
            try:
                w.process.wait(2)
            except subprocess.TimeoutExpired:
                w.kill()
