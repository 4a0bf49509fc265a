"""SPARQL evaluation in worker processes, so that a query past its timeout is really stopped.

pyoxigraph has no query timeout, and a thread cannot be killed; a process can. Each worker opens the
current read-only snapshot of the embedded store (see ``store.py``), evaluates, serialises the result
in the same call and sends back bytes. The parent kills a worker whose query runs past the deadline
and starts a new one. Workers also spread heavy queries over the machine's cores.
"""

from __future__ import annotations

import ctypes.util
import os
import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from pvpp_kg.errors import BackendUnavailable, BadRequest, PayloadTooLarge, QuerySyntaxError, QueryTimeout
from pvpp_kg.queryworker import EMPTY_GRAPH, QueryJob, QueryOutput, evaluate

__all__ = ["EMPTY_GRAPH", "QueryJob", "QueryOutput", "QueryPool", "evaluate", "find_allocator"]

# jemalloc gives memory back within a second of a heavy query instead of keeping the peak
_JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


def find_allocator(setting: str | None) -> str | None:
    """The malloc library to preload into query processes, or None for the C library's own.

    Why: with glibc's malloc a national heavy query (GROUP BY over 40,000 services) took 441 ms and 499 ms
    once the process had run the other governance queries; with jemalloc 377 ms, and it stays there.
    ``setting``: None = jemalloc when installed (Debian: libjemalloc2), "system" = glibc, else a library path.
    """
    if setting == "system":
        return None
    if setting:
        if not os.path.exists(setting):
            raise ValueError(f"query allocator {setting!r} does not exist")
        return setting
    return ctypes.util.find_library("jemalloc")


class _Worker:
    """One ``python -m pvpp_kg.queryworker`` process and our end of its socket pair.

    Why not ``multiprocessing.Process``: a spawned child re-imports the parent's ``__main__`` (the CLI, and
    with it the web app) and needs a resource-tracker process; a plain subprocess imports only what it uses.
    """

    def __init__(self, allocator: str | None) -> None:
        env = dict(os.environ)
        if allocator:
            env["LD_PRELOAD"] = " ".join(filter(None, (allocator, env.get("LD_PRELOAD"))))
            env.setdefault("MALLOC_CONF", _JEMALLOC_CONF)
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pvpp_kg.queryworker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        self.conn = Connection(ours.detach())

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.conn.close()


class QueryPool:
    """A fixed number of query worker processes; ``run`` blocks (call it from a thread)."""

    def __init__(self, size: int, allocator: str | None = None) -> None:
        self.size = size
        self.allocator = allocator
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(_Worker(self.allocator))

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
                worker = _Worker(self.allocator)
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            status, payload = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            worker.kill()
            worker = _Worker(self.allocator)
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
