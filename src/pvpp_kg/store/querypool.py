"""SPARQL evaluation in a query process, so that a query past its timeout is really stopped.

pyoxigraph has no query timeout, and a thread cannot be killed; a process can. The query process opens the
current read-only snapshot of the embedded store (:mod:`pvpp_kg.store.embedded`) once and evaluates up to
``size`` queries at a time on threads (pyoxigraph releases the GIL, so they use the cores; more threads than
cores, so that the OS time-slices a point query in among heavy ones, as Oxigraph server's thread per request
does), serialising each result in the same call and sending back bytes. When a query runs past its deadline,
or its request is cancelled, the parent kills the process, starts a new one and sends it the other queries that
were running, whose own deadlines keep counting: a runaway query costs its neighbours a restart, never a wrong
or lost answer.

Why one process with threads rather than one process per query slot: each process that opens the store holds
its own RocksDB caches and table readers, so one per core multiplies the serving memory for no speed
(benchmarks/README.md).

The same pool runs the validation process (``pvpp_kg.validation.worker``): ``module`` names the process's
module, ``args`` its extra arguments, ``what`` the kind of job in messages, and ``answer`` turns a reply into a
result; a crash there, too, fails only the job that caused it.

The server talks to the process from its event loop (non-blocking socket, ``multiprocessing.Connection``
framing), not from a thread: a point query then costs one process round trip instead of a process round
trip plus two thread hand-offs.
"""

from __future__ import annotations

import asyncio
import ctypes.util
import itertools
import os
import pickle
import socket
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from pvpp_kg.errors import BackendUnavailable, BadRequest, PayloadTooLarge, QuerySyntaxError, QueryTimeout
from pvpp_kg.store.queryworker import EMPTY_GRAPH, QueryJob, QueryOutput, evaluate, outcome

__all__ = [
    "EMPTY_GRAPH",
    "QueryJob",
    "QueryOutput",
    "QueryPool",
    "answer",
    "evaluate",
    "find_allocator",
    "outcome",
    "process_env",
]

# jemalloc gives memory back within a second of a heavy query instead of keeping the peak
_JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


def find_allocator(setting: str | None) -> str | None:
    """The malloc library to preload into query processes, or None for the C library's own.

    Why: with glibc's malloc a heavy query grows slower once the process has run the other governance queries;
    with jemalloc it is faster and stays so.
    ``setting``: None = jemalloc when installed (Debian: libjemalloc2), "system" = glibc, else a library path.
    """
    if setting == "system":
        return None
    if setting:
        if not os.path.exists(setting):
            raise ValueError(f"query allocator {setting!r} does not exist")
        return setting
    return ctypes.util.find_library("jemalloc")


def process_env(allocator: str | None) -> dict[str, str]:
    """The environment of a child process that preloads ``allocator`` (see :func:`find_allocator`)."""
    env = dict(os.environ)
    if allocator:
        env["LD_PRELOAD"] = " ".join(filter(None, (allocator, env.get("LD_PRELOAD"))))
        env.setdefault("MALLOC_CONF", _JEMALLOC_CONF)
    return env


QUERY_WORKER = "pvpp_kg.store.queryworker"


class _Worker:
    """One ``python -m MODULE FD THREADS NICE [ARGS…]`` process and our end of its socket pair.

    Why not ``multiprocessing.Process``: a spawned child re-imports the parent's ``__main__`` (the CLI, and
    with it the web app) and needs a resource-tracker process; a plain subprocess imports only what it uses.
    """

    def __init__(
        self, allocator: str | None, threads: int, nice: int, module: str = QUERY_WORKER, args: tuple[str, ...] = ()
    ) -> None:
        env = process_env(allocator)
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, str(theirs.fileno()), str(threads), str(nice), *args],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        ours.setblocking(False)
        self.sock = ours
        self.sending: asyncio.Lock | None = None  # made in the event loop that first sends
        self.reader: asyncio.Task[None] | None = None

    async def send(self, message: object) -> None:
        """Send one pickled message, framed as ``multiprocessing.Connection`` does; one message at a time."""
        assert self.sending is not None
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        async with self.sending:
            await asyncio.get_running_loop().sock_sendall(self.sock, struct.pack("!i", len(data)) + data)

    async def receive(self) -> object:
        loop = asyncio.get_running_loop()
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
                raise EOFError("the worker process closed its connection")
            got += n
        return buf

    def stop(self) -> None:
        """Ask the process to exit (it reads ``None``); kill it if it does not."""
        if self.reader is not None:
            self.reader.cancel()
        try:
            self.sock.setblocking(True)
            data = pickle.dumps(None)
            self.sock.sendall(struct.pack("!i", len(data)) + data)
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self.sock.close()

    def kill(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        self.process.kill()
        self.process.wait(5)
        self.sock.close()


def answer(status: str, payload: object) -> QueryOutput:
    """The output of an ``outcome`` (see ``queryworker``), or the HTTP error it stands for."""
    if status == "ok":
        return payload  # type: ignore[return-value]
    if status == "syntax":
        raise QuerySyntaxError(payload)
    if status == "too_large":
        raise PayloadTooLarge(payload)
    raise BadRequest(f"the query could not be evaluated: {payload}")


class _Running:
    """A job sent to the query process and the future its caller awaits."""

    def __init__(self, job: Any, future: asyncio.Future[tuple[str, object]]) -> None:
        self.job = job
        self.future = future
        self.alone: _Worker | None = None  # the process of its own it was re-run in after a crash


class QueryPool:
    """``size`` query slots on one query process, shared by the coroutines of one event loop."""

    def __init__(
        self,
        size: int,
        allocator: str | None = None,
        nice: int = 0,
        *,
        module: str = QUERY_WORKER,
        args: tuple[str, ...] = (),
        what: str = "query",
        answer: Callable[[str, object], Any] = answer,
    ) -> None:
        self.size = size
        self.allocator = allocator
        self.nice = nice
        self.module, self.args, self.what, self.answer = module, args, what, answer
        self.worker = self._start(size)
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._running: dict[int, _Running] = {}
        self._ids = itertools.count()
        self._closed = False

    def _start(self, threads: int) -> _Worker:
        return _Worker(self.allocator, threads, self.nice, self.module, self.args)

    # --- slots -------------------------------------------------------------------------------------------

    def _release(self) -> None:
        """Hand the freed slot to the longest-waiting caller, or keep it."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self._free += 1

    async def _acquire(self, timeout: float) -> None:
        if self._free:
            self._free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        taken = False
        try:
            async with asyncio.timeout(timeout):
                await fut
            taken = True
        except TimeoutError:
            raise QueryTimeout(f"no {self.what} worker became free within {timeout:g} s") from None
        finally:
            if not taken:  # timed out or cancelled: a slot handed over meanwhile goes to the next caller
                if fut.done() and not fut.cancelled():
                    self._release()
                else:
                    fut.cancel()

    # --- the query process -------------------------------------------------------------------------------

    def _connected(self) -> _Worker:
        """The query process, with its reply reader running in this event loop."""
        worker = self.worker
        if worker.reader is None or worker.reader.done():
            worker.sending = asyncio.Lock()
            worker.reader = asyncio.get_running_loop().create_task(self._read_replies(worker))
        return worker

    async def _read_replies(self, worker: _Worker) -> None:
        try:
            while True:
                job_id, status, payload = await worker.receive()  # type: ignore[misc]
                running = self._running.get(job_id)
                if running is not None and not running.future.done():
                    running.future.set_result((status, payload))
        except (EOFError, OSError):
            if worker is self.worker and not self._closed:  # it died on its own: nothing it ran will answer
                self._replace_process()
                loop = asyncio.get_running_loop()
                for running in self._running.values():
                    if not running.future.done():
                        loop.create_task(self._quarantine(running))

    async def _quarantine(self, running: _Running) -> None:
        """Re-run one job of a process that crashed, alone in a process of its own: the job that crashed it
        crashes only that one and fails alone; the innocent ones beside it are answered."""
        worker = running.alone = self._start(1)
        worker.sending = asyncio.Lock()
        try:
            await worker.send((0, running.job))
            _, status, payload = await worker.receive()  # type: ignore[misc]
            if not running.future.done():
                running.future.set_result((status, payload))
        except (EOFError, OSError):
            if not running.future.done():
                running.future.set_exception(
                    BackendUnavailable(
                        f"the {self.what} crashed the {self.what} engine and was stopped; nothing else was affected"
                    )
                )
        finally:
            worker.kill()

    def _replace_process(self) -> None:
        old, self.worker = self.worker, self._start(self.size)
        old.kill()

    def _restart(self, abandoned: int) -> None:
        """Kill the process (stopping job ``abandoned``) and give the other running jobs to a new one."""
        self._replace_process()
        others = [(i, r.job) for i, r in self._running.items() if i != abandoned and not r.future.done()]
        worker = self._connected()
        if others:
            asyncio.get_running_loop().create_task(self._resend(worker, others))

    async def _resend(self, worker: _Worker, jobs: list[tuple[int, Any]]) -> None:
        for message in jobs:
            try:
                await worker.send(message)
            except OSError:  # that process was killed too; its successor got these jobs
                return

    async def run(self, job: Any, timeout: float) -> Any:
        """Evaluate ``job``; raise ``QueryTimeout`` past ``timeout`` seconds (its query is stopped).

        A job that did not finish (timeout, cancelled request) has its process killed and replaced, and the
        process's other jobs are sent to the new one, so a late answer can never reach anyone.
        """
        if self._closed:
            raise BackendUnavailable(f"the {self.what} pool is shut down")
        await self._acquire(timeout)
        try:
            job_id = next(self._ids)
            running = _Running(job, asyncio.get_running_loop().create_future())
            self._running[job_id] = running
            worker = self._connected()
            done = False
            try:
                try:
                    await worker.send((job_id, job))
                except OSError:
                    if worker is self.worker:
                        raise BackendUnavailable(
                            f"the {self.what} process is gone; the {self.what} was not answered"
                        ) from None
                    # restarted meanwhile: the new process was given this job
                async with asyncio.timeout(timeout):
                    status, payload = await running.future  # cancelled on timeout: then nothing answers it
                done = True
            except TimeoutError:
                raise QueryTimeout(f"the {self.what} ran longer than {timeout:g} s and was stopped") from None
            finally:
                del self._running[job_id]
                # not answered (timeout, cancelled request): still running in the process, which must go
                if not done and running.alone is not None:
                    running.alone.kill()
                elif not done and (running.future.cancelled() or not running.future.done()) and not self._closed:
                    self._restart(job_id)
        finally:
            self._release()
        return self.answer(status, payload)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.worker.stop()
