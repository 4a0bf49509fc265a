"""The query pool: lean worker processes, the configured allocator, answers and timeouts."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.errors import QueryTimeout
from pvpp_kg.querypool import QueryJob, QueryPool, find_allocator
from pvpp_kg.store import EmbeddedStore, load_bytes

G = "https://w3id.org/pvpp/graph/test"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = EmbeddedStore(tmp_path_factory.mktemp("pool"))
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:p> 1, 2, 3 .\n", G, ox.RdfFormat.TURTLE)
    return str(store.snapshot_path())


def _mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _modules_of(pool: QueryPool) -> list[str]:
    worker = pool._idle.queue[0]  # the one idle worker of a pool of one
    return [line for line in _mapped(worker.process.pid).splitlines() if ".so" in line]


def test_workers_preload_jemalloc_when_installed_and_answer(snapshot: str) -> None:
    allocator = find_allocator(None)
    assert allocator is not None, "libjemalloc2 should be installed by `make test` (make jemalloc)"
    pool = QueryPool(1, allocator)
    try:
        out = pool.run(QueryJob(snapshot, "SELECT (SUM(?o) AS ?s) WHERE { ?x ?p ?o }", "JSON"), timeout=30)
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
        pool.run(QueryJob(snapshot, "ASK { ?s ?p ?o }", "JSON"), timeout=30)
        assert not any("jemalloc" in line for line in _modules_of(pool))
    finally:
        pool.close()


def test_a_query_past_its_timeout_is_stopped_and_the_pool_goes_on(snapshot: str) -> None:
    pool = QueryPool(1, find_allocator(None))
    slow = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?a{i} ?b{i} ?c{i} ." for i in range(20)) + " }"  # 3^20 rows
    try:
        first = pool._idle.queue[0].process
        with pytest.raises(QueryTimeout):
            pool.run(QueryJob(snapshot, slow, "JSON"), timeout=0.5)
        assert first.poll() is not None  # the worker running it was killed
        out = pool.run(QueryJob(snapshot, "ASK { ?s ?p 2 }", "JSON"), timeout=30)
        assert json.loads(out.body)["boolean"] is True
    finally:
        pool.close()
