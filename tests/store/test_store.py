"""The embedded store: snapshots publish whole writes only; failed or crashed writes roll back."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg.errors import InputError
from pvpp_kg.store.embedded import EmbeddedStore, load_bytes

G = "https://w3id.org/pvpp/graph/test"
Q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"


def count(store: EmbeddedStore) -> int:
    return int(next(iter(store.reader().query(Q)))["n"].value)


def test_a_store_never_written_gets_an_empty_first_snapshot(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    assert store.version() == 0
    version, path = store.newest_snapshot()
    assert (version, path) == (1, tmp_path / "snapshots" / "1") and path.is_dir()
    assert count(store) == 0 and store.version() == 1  # the reader opens that snapshot, no second one


def test_write_publishes_a_new_snapshot(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:b> 1 .\n", G, ox.RdfFormat.TURTLE)
    assert store.version() == 1 and count(store) == 1
    old_reader = store.reader()
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:b> 2 .\n", G, ox.RdfFormat.TURTLE)
    assert store.version() == 2 and count(store) == 2
    # a reader opened before the write still sees the old, complete state
    assert int(next(iter(old_reader.query(Q)))["n"].value) == 1


def test_a_write_through_another_handle_is_seen_at_once(tmp_path: Path) -> None:
    """The version is cached per handle (read again only when CURRENT is replaced): a server process must still
    see every write another process (load-data, a second worker) publishes, as the next query's version."""
    server, writer = EmbeddedStore(tmp_path), EmbeddedStore(tmp_path)
    assert server.version() == 0
    for expected in (1, 2, 3):
        with writer.writer() as w:
            load_bytes(w, f"<urn:a> <urn:b> {expected} .\n".encode(), G, ox.RdfFormat.TURTLE)
        assert server.version() == expected and count(server) == expected
    (tmp_path / "CURRENT").unlink()
    assert server.version() == 0


def test_failed_write_changes_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:b> 1 .\n", G, ox.RdfFormat.TURTLE)
    with pytest.raises(InputError) as e, store.writer() as w:
        w.clear()
        load_bytes(w, b"<urn:a> <urn:b> .\n", G, ox.RdfFormat.TURTLE)
    assert e.value.line == 1
    assert store.version() == 1 and count(store) == 1
    with store.writer() as w:  # the next write starts from the published state, not the half-done one
        pass
    assert count(store) == 1


def _crash_mid_write(directory: str) -> None:
    store = EmbeddedStore(Path(directory))
    with store.writer() as w:
        w.clear()
        w.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:y"), ox.Literal("half"), ox.NamedNode(G)))
        w.flush()
        os._exit(9)  # the process dies before the write is published


def test_crashed_writer_is_rolled_back(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:b> 1 .\n<urn:a> <urn:b> 2 .\n", G, ox.RdfFormat.TURTLE)
    p = mp.get_context("spawn").Process(target=_crash_mid_write, args=(str(tmp_path),))
    p.start()
    p.join(60)
    assert p.exitcode == 9
    assert count(store) == 2  # readers never saw the half-done write
    with store.writer() as w:
        assert len(list(w.quads_for_pattern(None, None, None, ox.NamedNode(G)))) == 2


def test_fresh_write_starts_empty_and_rolls_back_on_failure(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    with store.writer() as w:
        load_bytes(w, b"<urn:a> <urn:b> 1, 2 .\n", G, ox.RdfFormat.TURTLE)
    with pytest.raises(RuntimeError), store.writer(fresh=True) as w:
        assert len(w.store) == 0  # a new, empty store, not a cleared one
        load_bytes(w, b"<urn:a> <urn:b> 3 .\n", G, ox.RdfFormat.TURTLE)
        raise RuntimeError("interrupted rebuild")
    assert store.version() == 1 and count(store) == 2
    with store.writer(fresh=True) as w:
        load_bytes(w, b"<urn:a> <urn:b> 3 .\n", G, ox.RdfFormat.TURTLE)
    assert store.version() == 2 and count(store) == 1
    with store.writer() as w:  # the next ordinary write continues from the fresh store
        assert len(w.store) == 1


def test_rollback_links_the_snapshot_files_and_leaves_the_snapshot_intact(tmp_path: Path) -> None:
    """rw/ is restored with hard links to the snapshot's SST files (no full copy); later writes and compaction
    in rw/ leave the snapshot's data as it was."""
    store = EmbeddedStore(tmp_path)
    with store.writer() as w:
        w.bulk_extend(
            ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(i), ox.NamedNode(G))
            for i in range(2000)
        )
    with pytest.raises(RuntimeError), store.writer() as w:
        w.clear()
        raise RuntimeError("failed load")
    snapshot = store.snapshot_path()
    ssts = sorted(p.name for p in snapshot.glob("*.sst"))
    assert ssts
    for name in ssts:
        assert (tmp_path / "rw" / name).stat().st_ino == (snapshot / name).stat().st_ino
    with store.writer() as w:
        assert len(w.store) == 2000
        w.remove(ox.Quad(ox.NamedNode("urn:s1"), ox.NamedNode("urn:p"), ox.Literal(1), ox.NamedNode(G)))
        w.optimize()
    assert count(store) == 1999
    assert len(ox.Store.read_only(str(snapshot))) == 2000
