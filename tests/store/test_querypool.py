"""The query pool: one lean query process with threads, the configured allocator, answers, timeouts, waiting,
cancelling, and the restart that hands a stopped query's neighbours to a new process."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.errors import QueryTimeout
from pvpp_kg.settings import Settings
from pvpp_kg.store.embedded import EmbeddedStore, load_bytes
from pvpp_kg.store.querypool import QueryJob, QueryOutput, QueryPool, find_allocator

G = "https://w3id.org/pvpp/graph/test"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = EmbeddedStore(tmp_path_factory.mktemp("pool"))
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:p> 1, 2, 3 .\n", G, ox.RdfFormat.TURTLE)
    return str(store.snapshot_path())


def _count(patterns: int) -> str:
    """3^patterns rows counted: 14 patterns take ~4 s, 20 run for hours."""
    return "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(patterns)) + " }"


SLOW = _count(20)


def run(pool: QueryPool, job: QueryJob, timeout: float) -> QueryOutput:
    return asyncio.run(pool.run(job, timeout))


def _mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _modules_of(pool: QueryPool) -> list[str]:
    return [line for line in _mapped(pool.worker.process.pid).splitlines() if ".so" in line]


def test_workers_preload_jemalloc_when_installed_and_answer(snapshot: str) -> None:
    allocator = find_allocator(None)
    assert allocator is not None, "libjemalloc2 should be installed by `make test` (make jemalloc)"
    pool = QueryPool(1, allocator)
    try:
        out = run(pool, QueryJob(snapshot, "SELECT (SUM(?o) AS ?s) WHERE { ?x ?p ?o }", "JSON"), timeout=30)
        assert json.loads(out.body)["results"]["bindings"][0]["s"]["value"] == "6"
        mapped = _modules_of(pool)
        assert any("jemalloc" in line for line in mapped)
        assert not any("rdflib" in line or "fastapi" in line for line in mapped)
    finally:
        pool.close()


def test_system_allocator_and_unknown_allocator(snapshot: str) -> None:
    assert find_allocator("system") is None
    with pytest.raises(ValueError, match="does not exist"):
        find_allocator("/nonexistent/libmalloc.so")
    pool = QueryPool(1, None)
    try:
        run(pool, QueryJob(snapshot, "ASK { ?s ?p ?o }", "JSON"), timeout=30)
        assert not any("jemalloc" in line for line in _modules_of(pool))
    finally:
        pool.close()


def test_a_query_past_its_timeout_is_stopped_and_the_pool_goes_on(snapshot: str) -> None:
    pool = QueryPool(1, find_allocator(None))
    try:
        first = pool.worker.process
        with pytest.raises(QueryTimeout):
            run(pool, QueryJob(snapshot, SLOW, "JSON"), timeout=0.5)
        assert first.poll() is not None  # the process running it was killed
        out = run(pool, QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), timeout=30)
        assert json.loads(out.body)["boolean"] is True
    finally:
        pool.close()


def test_callers_wait_for_a_free_worker_and_are_served_in_turn(snapshot: str) -> None:
    pool = QueryPool(1, None)

    async def three() -> list[str]:
        jobs = [QueryJob(snapshot, f"SELECT (SUM(?o) + {i} AS ?s) WHERE {{ ?x ?p ?o }}", "JSON") for i in range(3)]
        outs = await asyncio.gather(*(pool.run(j, 30) for j in jobs))
        return [json.loads(o.body)["results"]["bindings"][0]["s"]["value"] for o in outs]

    try:
        assert asyncio.run(three()) == ["6", "7", "8"]
        assert pool._free == 1 and not pool._waiters and not pool._running
    finally:
        pool.close()


def test_a_cancelled_request_kills_its_worker_so_no_late_answer_reaches_the_next_caller(snapshot: str) -> None:
    pool = QueryPool(1, None)
    first = pool.worker.process

    async def cancel_then_ask() -> tuple[bool, QueryOutput, bool]:
        slow = asyncio.create_task(pool.run(QueryJob(snapshot, SLOW, "JSON"), 60))
        waiting = asyncio.create_task(pool.run(QueryJob(snapshot, "ASK { ?s ?p 9 }", "JSON"), 60))
        await asyncio.sleep(0.3)
        waiting.cancel()  # a caller that gave up while waiting for a worker takes none with it
        slow.cancel()  # the client went away while its query ran
        await asyncio.gather(slow, waiting, return_exceptions=True)
        out = await pool.run(QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), 30)
        return slow.cancelled() and waiting.cancelled(), out, pool._free == 1

    try:
        cancelled, out, one_idle = asyncio.run(cancel_then_ask())
        assert cancelled and one_idle
        assert first.wait(5) is not None  # the worker still counting was killed, a new one answered
        assert json.loads(out.body)["boolean"] is True
    finally:
        pool.close()


def test_waiting_for_a_busy_pool_times_out_with_a_clear_error(snapshot: str) -> None:
    pool = QueryPool(1, None)

    async def two() -> list[object]:
        return await asyncio.gather(
            pool.run(QueryJob(snapshot, SLOW, "JSON"), 1.0),
            pool.run(QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), 0.3),
            return_exceptions=True,
        )

    try:
        slow, waiting = asyncio.run(two())
        assert isinstance(slow, QueryTimeout) and "ran longer than 1 s" in str(slow)
        assert isinstance(waiting, QueryTimeout) and "no query worker became free within 0.3 s" in str(waiting)
        assert pool._free == 1
    finally:
        pool.close()


def test_queries_run_side_by_side_in_one_process(snapshot: str) -> None:
    pool = QueryPool(2, None)

    async def slow_and_quick() -> tuple[object, QueryOutput, bool]:
        slow = asyncio.create_task(pool.run(QueryJob(snapshot, SLOW, "JSON"), 3.0))
        await asyncio.sleep(0.2)
        quick = await pool.run(QueryJob(snapshot, "ASK { ?s ?p 3 }", "JSON"), 30)
        answered_while_slow_ran = not slow.done()
        return (await asyncio.gather(slow, return_exceptions=True))[0], quick, answered_while_slow_ran

    try:
        process = pool.worker.process
        slow, quick, side_by_side = asyncio.run(slow_and_quick())
        assert side_by_side and json.loads(quick.body)["boolean"] is True
        assert isinstance(slow, QueryTimeout)
        assert process.wait(5) is not None and pool.worker.process is not process
    finally:
        pool.close()


def test_the_default_pool_answers_a_point_query_while_more_heavy_queries_than_cores_run(snapshot: str) -> None:
    """A point lookup is not queued behind heavy queries (with one slot per core it waited for a slot)."""
    settings = Settings(query_workers=None, _env_file=None)  # the default, whatever PVPP_QUERY_WORKERS says
    pool = QueryPool(settings.query_pool_size(), None, settings.query_nice)
    heavy = 2 * (os.cpu_count() or 1)

    async def point_among_heavy() -> tuple[QueryOutput, bool, list[object]]:
        slow = [asyncio.create_task(pool.run(QueryJob(snapshot, SLOW, "JSON"), 3.0)) for _ in range(heavy)]
        await asyncio.sleep(0.3)
        quick = await pool.run(QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), 30)
        all_still_running = not any(t.done() for t in slow)
        return quick, all_still_running, await asyncio.gather(*slow, return_exceptions=True)

    try:
        quick, all_still_running, slow = asyncio.run(point_among_heavy())
        assert json.loads(quick.body)["boolean"] is True
        assert all_still_running
        assert all(isinstance(s, QueryTimeout) for s in slow)
    finally:
        pool.close()


def test_the_query_process_runs_at_the_configured_extra_niceness(snapshot: str) -> None:
    pool = QueryPool(2, None, nice=3)
    try:
        run(pool, QueryJob(snapshot, "ASK { ?s ?p 1 }", "JSON"), 30)  # answered, so past its set-up
        assert os.getpriority(os.PRIO_PROCESS, pool.worker.process.pid) == min(19, os.nice(0) + 3)
    finally:
        pool.close()


def test_a_stopped_query_s_neighbour_is_rerun_in_the_new_process_and_answered(snapshot: str) -> None:
    pool = QueryPool(2, None)

    async def neighbours() -> tuple[object, QueryOutput, float, float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        slow = asyncio.create_task(pool.run(QueryJob(snapshot, SLOW, "JSON"), 1.0))
        await asyncio.sleep(0.3)
        medium = asyncio.create_task(pool.run(QueryJob(snapshot, _count(14), "JSON"), 60))
        stopped = (await asyncio.gather(slow, return_exceptions=True))[0]
        stopped_at = loop.time() - start
        answer = await medium
        return stopped, answer, stopped_at, loop.time() - start

    try:
        first = pool.worker.process
        stopped, answer, stopped_at, answered_at = asyncio.run(neighbours())
        assert isinstance(stopped, QueryTimeout) and "ran longer than 1 s" in str(stopped)
        assert first.wait(5) is not None  # killed with both queries in it
        assert answered_at > stopped_at  # so the medium query was still running when its process was killed
        assert json.loads(answer.body)["results"]["bindings"][0]["n"]["value"] == str(3**14)
        assert pool._free == 2 and not pool._running
    finally:
        pool.close()


def test_a_query_process_that_dies_has_its_queries_rerun_alone_and_is_replaced(snapshot: str) -> None:
    """Killed from outside (e.g. the kernel's OOM killer): the queries it ran are re-run, each in a process of its
    own, and answered; the pool goes on with a new process."""
    pool = QueryPool(2, None)
    counting = _count(12)  # 3^12 rows: still running when the process is killed

    async def die_while_running() -> tuple[list[object], QueryOutput]:
        jobs = [asyncio.create_task(pool.run(QueryJob(snapshot, counting, "JSON"), 60)) for _ in range(2)]
        await asyncio.sleep(0.2)
        pool.worker.process.kill()
        answered = await asyncio.gather(*jobs, return_exceptions=True)
        return answered, await pool.run(QueryJob(snapshot, "ASK { ?s ?p 1 }", "JSON"), 30)

    try:
        first = pool.worker.process
        answered, after = asyncio.run(die_while_running())
        assert first.poll() is not None and pool.worker.process is not first
        counts = [json.loads(a.body)["results"]["bindings"][0]["n"]["value"] for a in answered]  # type: ignore[union-attr]
        assert counts == [str(3**12), str(3**12)]
        assert json.loads(after.body)["boolean"] is True
    finally:
        pool.close()


def test_a_rerun_query_past_its_deadline_is_stopped(snapshot: str) -> None:
    pool = QueryPool(1, None)

    async def die_then_wait() -> object:
        job = asyncio.create_task(pool.run(QueryJob(snapshot, SLOW, "JSON"), 2))
        await asyncio.sleep(0.3)
        pool.worker.process.kill()
        return (await asyncio.gather(job, return_exceptions=True))[0]

    try:
        assert isinstance(asyncio.run(die_then_wait()), QueryTimeout)
    finally:
        pool.close()


@pytest.mark.parametrize("small", [False, True], ids=["streamed", "small"])
def test_outcome_caps_results_either_way(snapshot: str, small: bool) -> None:
    """A known-small job is serialised in one call and measured after; a streamed one stops at the cap. Same
    answers, same refusal."""
    from pvpp_kg.store.queryworker import outcome

    store = ox.Store.read_only(snapshot)
    query = "SELECT ?o WHERE { ?x ?p ?o } ORDER BY ?o"
    status, out = outcome(store, QueryJob(snapshot, query, "CSV"), small=small)
    assert status == "ok" and out.kind == "solutions" and out.body == b"o\r\n1\r\n2\r\n3\r\n"
    status, out = outcome(store, QueryJob(snapshot, "CONSTRUCT WHERE { ?x ?p 1 }", "N_TRIPLES"), small=small)
    assert status == "ok" and out.kind == "graph"
    assert out.body == b'<urn:a> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    status, message = outcome(store, QueryJob(snapshot, query, "CSV", max_bytes=8), small=small)
    assert status == "too_large" and "8 bytes" in message


def test_a_query_that_crashes_the_engine_fails_alone(snapshot: str) -> None:
    """Issue 25, point 4: a query that kills native code (nested 20,000 deep: a stack overflow in the engine, which
    the protocol refuses before it gets here) takes its process down; the queries running beside it are re-run
    each in a process of its own and answered, and only the crashing one fails."""
    from pvpp_kg.errors import BackendUnavailable

    pool = QueryPool(4, None)
    crash = "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000
    neighbours = [f"SELECT (SUM(?o) + {i} AS ?s) WHERE {{ ?x ?p ?o }}" for i in range(3)]

    async def together() -> list[object]:
        # the neighbours are slowed by a join so that they are still running when the crash comes
        slow = [q.replace("?x ?p ?o", "?x ?p ?o . ?y ?q ?r . ?z ?t ?u") for q in neighbours]
        jobs = [pool.run(QueryJob(snapshot, q, "JSON"), 60) for q in slow]
        jobs.append(pool.run(QueryJob(snapshot, crash, "JSON"), 60))
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        first = pool.worker.process
        *answers, crashed = asyncio.run(together())
        assert isinstance(crashed, BackendUnavailable) and "crashed the query engine" in crashed.message
        assert first.poll() is not None  # the shared process did die
        sums = [json.loads(a.body)["results"]["bindings"][0]["s"]["value"] for a in answers]  # type: ignore[union-attr]
        assert sums == ["54", "55", "56"]  # 6 × 3 × 3 rows of the join, plus i
        out = run(pool, QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), timeout=30)
        assert json.loads(out.body)["boolean"] is True
    finally:
        pool.close()
