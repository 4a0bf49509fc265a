"""SPARQL evaluation in worker processes, so that a query past its timeout is really stopped.

pyoxigraph has no query timeout, and a thread cannot be killed; a process can. Each worker opens the
current read-only snapshot of the embedded store (see ``store.py``), evaluates, serialises the result
in the same call and sends back bytes. The parent kills a worker whose query runs past the deadline
(or whose request was cancelled) and starts a new one. Workers also spread heavy queries over the cores.

The server talks to a worker from its event loop (non-blocking socket, ``multiprocessing.Connection``
framing), not from a thread: a point query then costs one process round trip instead of a process round
trip plus two thread hand-offs (~0.5 ms on a 2-core VM).
"""

from __future__ import annotations

import asyncio
import ctypes.util
import os
import pickle
import socket
import struct
import subprocess
import sys
from collections import deque

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
        ours.setblocking(False)
        self.sock = ours

    async def exchange(self, message: object) -> object:
        """Send one pickled message and read the reply, framed as ``multiprocessing.Connection`` does."""
        loop = asyncio.get_running_loop()
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        await loop.sock_sendall(self.sock, struct.pack("!i", len(data)) + data)
        (size,) = struct.unpack("!i", await self._read(loop, 4))
        if size == -1:  # payloads over 2 GiB carry a second, 8-byte length
            (size,) = struct.unpack("!Q", await self._read(loop, 8))
        return pickle.loads(await self._read(loop, size))

    async def _read(self, loop: asyncio.AbstractEventLoop, size: int) -> bytearray:
        buf = bytearray(size)
        view, got = memoryview(buf), 0
        while got < size:
            n = await loop.sock_recv_into(self.sock, view[got:])
            if n == 0:
                raise EOFError("the query worker closed its connection")
            got += n
        return buf

    def stop(self) -> None:
        """Ask the worker to exit (it reads ``None``); kill it if it does not."""
        try:
            self.sock.setblocking(True)
            data = pickle.dumps(None)
            self.sock.sendall(struct.pack("!i", len(data)) + data)
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self.sock.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.sock.close()


class QueryPool:
    """A fixed number of query worker processes, shared by the coroutines of one event loop."""

    def __init__(self, size: int, allocator: str | None = None) -> None:
        self.size = size
        self.allocator = allocator
        self._idle: list[_Worker] = [_Worker(allocator) for _ in range(size)]
        self._waiters: deque[asyncio.Future[_Worker]] = deque()
        self._closed = False

    def _give(self, worker: _Worker) -> None:
        """Hand a free worker to the longest-waiting caller, or put it back."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(worker)
                return
        self._idle.append(worker)

    async def _take(self, timeout: float) -> _Worker:
        if self._idle:
            return self._idle.pop()
        fut: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        taken = False
        try:
            async with asyncio.timeout(timeout):
                worker = await fut
            taken = True
            return worker
        except TimeoutError:
            raise QueryTimeout(f"no query worker became free within {timeout:g} s") from None
        finally:
            if not taken:  # timed out or cancelled: a worker handed over meanwhile goes to the next caller
                if fut.done() and not fut.cancelled():
                    self._give(fut.result())
                else:
                    fut.cancel()

    async def run(self, job: QueryJob, timeout: float) -> QueryOutput:
        """Evaluate ``job``; raise ``QueryTimeout`` (after killing the worker) past ``timeout`` seconds.

        A worker whose exchange did not finish (timeout, death, cancelled request) is killed and replaced,
        so a late answer can never reach the next caller.
        """
        if self._closed:
            raise BackendUnavailable("the query pool is shut down")
        worker = await self._take(timeout)
        done = False
        try:
            async with asyncio.timeout(timeout):
                status, payload = await worker.exchange(job)  # type: ignore[misc]
            done = True
        except TimeoutError:
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from None
        except (EOFError, OSError):
            raise BackendUnavailable("the query worker died; the query was not answered") from None
        finally:
            if not done:
                worker.kill()
                worker = _Worker(self.allocator)
            self._give(worker)
        if status == "ok":
            return payload
        if status == "syntax":
            raise QuerySyntaxError(payload)
        if status == "too_large":
            raise PayloadTooLarge(payload)
        raise BadRequest(f"the query could not be evaluated: {payload}")

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().stop()
