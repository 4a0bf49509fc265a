"""The embedded backend: a query the query process answered quickly is evaluated in this process when asked again
on the same data (``PVPP_INLINE_QUERY_MS``), and a write starts afresh."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.errors import QueryTimeout
from pvpp_kg.store.backend import CheapJobs, EmbeddedBackend
from pvpp_kg.store.embedded import EmbeddedStore, load_bytes
from pvpp_kg.store.querypool import QueryJob, QueryPool
from tests.store.test_querypool import SLOW

G = "https://w3id.org/pvpp/graph/test"
POINT = "ASK { ?s ?p 2 }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _backend(directory: Path, inline_s: float) -> EmbeddedBackend:
    store = EmbeddedStore(directory)
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:p> 1, 2, 3 .\n", G, ox.RdfFormat.TURTLE)
    return EmbeddedBackend(store, QueryPool(1, None), max_result_bytes=1 << 20, inline_query_s=inline_s)


@pytest.mark.parametrize(("inline_s", "answered_again"), [(0.05, True), (0.0, False)])
def test_a_query_answered_quickly_before_is_answered_while_the_only_slot_is_busy(
    tmp_path: Path, inline_s: float, answered_again: bool
) -> None:
    backend = _backend(tmp_path, inline_s)

    async def scenario() -> list[object]:
        first = await backend.query(POINT, result_format="JSON", timeout=30)  # through the query process
        slow = asyncio.create_task(backend.query(SLOW, result_format="JSON", timeout=3.0))
        await asyncio.sleep(0.3)  # the pool's one slot is taken
        again, unseen = await asyncio.gather(
            backend.query(POINT, result_format="JSON", timeout=0.5),
            backend.query("ASK { ?s ?p 3 }", result_format="JSON", timeout=0.5),
            return_exceptions=True,
        )
        return [first, again, unseen, *(await asyncio.gather(slow, return_exceptions=True))]

    try:
        first, again, unseen, slow = asyncio.run(scenario())
        assert json.loads(first.body)["boolean"] is True  # type: ignore[attr-defined]
        if answered_again:
            assert again == first  # the same bytes, evaluated here
        else:
            assert isinstance(again, QueryTimeout) and "no query worker became free" in str(again)
        assert isinstance(unseen, QueryTimeout)  # never answered before: it waits for the slot
        assert isinstance(slow, QueryTimeout)
    finally:
        backend.close()


def test_a_write_starts_afresh_and_the_next_answers_see_it(tmp_path: Path) -> None:
    backend = _backend(tmp_path, 0.05)

    def count() -> int:
        out = asyncio.run(backend.query(COUNT, result_format="JSON", timeout=30))
        return int(json.loads(out.body)["results"]["bindings"][0]["n"]["value"])

    try:
        assert [count(), count()] == [3, 3]  # the second in this process
        assert len(backend.cheap) == 1
        asyncio.run(backend.append_graph(G, b'<urn:b> <urn:p> "4" .\n', "N_TRIPLES"))
        assert [count(), count()] == [4, 4]  # a new snapshot: the query process first, then here again
    finally:
        backend.close()


def _job(query: str) -> QueryJob:
    return QueryJob("/s/snapshots/1", query, "JSON")


def test_cheap_jobs_keep_only_quick_short_recent_queries() -> None:
    cheap = CheapJobs(0.005, size=2, max_chars=40)
    cheap.learn(_job("ASK { 1 }"), 0.001)
    cheap.learn(_job("ASK { 2 }"), 0.05)  # too slow
    cheap.learn(_job("ASK { " + "?s ?p ?o . " * 5 + "}"), 0.001)  # too long to keep
    cheap.learn(_job("ASK { 3 }"), None)  # not measured (a remote answer)
    assert _job("ASK { 1 }") in cheap and len(cheap) == 1
    assert _job("ASK { 1 }") not in CheapJobs(0.005)  # nothing is known at first
    assert QueryJob("/s/snapshots/2", "ASK { 1 }", "JSON") not in cheap  # another data version
    cheap.learn(_job("ASK { 4 }"), 0.001)
    assert _job("ASK { 1 }") in cheap  # now the most recently used
    cheap.learn(_job("ASK { 5 }"), 0.001)  # over the size: the least recently used goes
    assert [_job(f"ASK {{ {n} }}") in cheap for n in (1, 4, 5)] == [True, False, True]
    cheap.learn(_job("ASK { 5 }"), 0.02)  # slower this time: forgotten
    assert _job("ASK { 5 }") not in cheap and len(cheap) == 1


def test_an_update_that_crashes_the_engine_is_tried_in_a_throwaway_process_first(tmp_path: Path) -> None:
    """Issue 25, point 4: an update nested 20,000 deep overflows the engine's stack (the protocol refuses it before
    it gets here); the trial run crashes a throwaway process and this one lives to refuse it."""
    from pvpp_kg.errors import BadRequest
    from pvpp_kg.store.backend import trial_run

    crash = "INSERT { <urn:a> <urn:b> <urn:c> } WHERE " + "{" * 20_000 + "}" * 20_000
    with pytest.raises(BadRequest, match="crashed the SPARQL engine in a trial run"):
        trial_run(crash)
    trial_run("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # an ordinary update passes its trial


def test_json_ld_with_too_many_objects_is_refused_before_parsing() -> None:
    """Issue 25: a token-count limit for JSON-LD beside its depth limit, read before any parser runs."""
    from pvpp_kg.errors import InputError
    from pvpp_kg.store.guards import MAX_JSON_NODES, check_syntax_guards

    many = b"[" + b"[]," * MAX_JSON_NODES + b"[]]"
    with pytest.raises(InputError, match="more than 2,000,000 objects and arrays"):
        check_syntax_guards(many, "jsonld", "many.jsonld")
    check_syntax_guards(b"[" + b"[]," * 1000 + b"[]]", "jsonld", "few.jsonld")  # an ordinary document passes
