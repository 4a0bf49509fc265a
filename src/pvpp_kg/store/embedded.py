"""The embedded, persistent pyoxigraph store: the only module that opens a ``pyoxigraph.Store``.

Layout of the data directory::

    rw/               the read-write RocksDB store, opened only while writing, under ``write.lock``
    snapshots/<n>/    read-only checkpoints (hard links, cheap to make); queries read the newest
    CURRENT           the number of the newest snapshot = the data version

Every write (load, update, graph replacement) happens in one ``writer()`` block and ends with a new
snapshot, so readers in any process see either the old or the new state, never a mix, and several
server processes can share one store (RocksDB allows a single read-write opener).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from pvpp_kg import rq
from pvpp_kg.errors import BadRequest, InputError

KEEP_SNAPSHOTS = 3
SNAPSHOT_MIN_AGE_S = 300.0


class _WriteHandle:
    """The read-write store for one ``writer()`` block; closed (RocksDB lock released) when it ends,
    even if the caller still holds a reference to the handle."""

    def __init__(self, store: ox.Store) -> None:
        self._store: ox.Store | None = store

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            raise RuntimeError("the writer block has ended")
        return self._store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def close(self) -> None:
        self._store = None


class EmbeddedStore:
    """Persistent pyoxigraph store with atomic, snapshot-published writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._current = str(self.directory / "CURRENT")
        self._version: tuple[tuple[int, int, int], int] | None = None
        self._reader: tuple[int, ox.Store] | None = None
        self._reader_lock = threading.Lock()
        self._thread_lock = threading.RLock()

    # -- reading ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        return os.path.exists(self._current)

    def version(self) -> int:
        """The published data version. Asked on every query, so the file is read only when a stat() shows that
        a write replaced it (``os.replace`` gives CURRENT a new inode and times)."""
        try:
            st = os.stat(self._current)
        except FileNotFoundError:
            return 0
        key = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        known = self._version
        if known is not None and known[0] == key:
            return known[1]
        try:
            with open(self._current, encoding="ascii") as f:
                v = int(f.read())
        except (FileNotFoundError, ValueError):
            return 0
        self._version = (key, v)
        return v

    def snapshot_path(self, version: int | None = None) -> Path:
        return self.directory / "snapshots" / str(self.version() if version is None else version)

    def newest_snapshot(self) -> tuple[int, Path]:
        """The data version and its snapshot directory; a store never written gets its first (empty) snapshot."""
        v = self.version()
        if v == 0:
            with self.writer():
                pass
            v = self.version()
        return v, self.snapshot_path(v)

    def reader(self) -> ox.Store:
        """A read-only store of the newest snapshot, reopened when the version changes."""
        return self.reader_of(self.newest_snapshot()[1])

    def reader_of(self, snapshot: str | Path) -> ox.Store:
        """A read-only store of one snapshot directory (``snapshots/<version>``); one is kept open at a time."""
        v = int(os.path.basename(snapshot))
        with self._reader_lock:
            if self._reader is None or self._reader[0] != v:
                self._reader = (v, ox.Store.read_only(str(snapshot)))
            return self._reader[1]

    # -- writing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self, *, fresh: bool = False) -> Iterator[ox.Store]:
        """Open the read-write store under an exclusive lock; publish a new snapshot on success.

        ``fresh=True`` starts from an empty store instead of clearing the old one: ``clear()`` leaves range
        tombstones that compaction does not drop and that every later scan pays for. A failed fresh write rolls
        back to the last snapshot like any other.
        """
        with self._thread_lock, open(self.directory / "write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            dirty = self.directory / "DIRTY"
            if dirty.exists():  # a writer died mid-way: its partial changes were never published
                self._rollback()
            dirty.touch()
            if fresh:
                shutil.rmtree(self.directory / "rw", ignore_errors=True)
            try:
                handle = _WriteHandle(ox.Store(str(self.directory / "rw")))
                try:
                    yield handle  # type: ignore[misc]
                    handle.store.flush()
                    self._publish(handle.store)
                except BaseException:
                    handle.close()
                    self._rollback()
                    dirty.unlink()
                    raise
                else:
                    handle.close()
                    dirty.unlink()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _publish(self, store: ox.Store) -> None:
        snapshots = self.directory / "snapshots"
        snapshots.mkdir(exist_ok=True)
        new = self.version() + 1
        target = snapshots / str(new)
        if target.exists():
            shutil.rmtree(target)
        store.backup(str(target))
        tmp = self.directory / "CURRENT.tmp"
        tmp.write_text(str(new))
        os.replace(tmp, self.directory / "CURRENT")
        self._prune(snapshots, new)

    def _rollback(self) -> None:
        """A failed write may have left part of its changes in rw/: restore rw/ from the last snapshot.

        The SST files are hard-linked, as RocksDB's own checkpoints do (it never changes an SST file, it only
        unlinks it), and the rest is copied: restoring a 14 GB store takes milliseconds, not a full copy."""
        snapshot = self.snapshot_path()
        rw = self.directory / "rw"
        shutil.rmtree(rw, ignore_errors=True)
        if self.version() and snapshot.exists():
            shutil.copytree(snapshot, rw, copy_function=_link_or_copy)

    @staticmethod
    def _prune(snapshots: Path, newest: int) -> None:
        """Drop old snapshots that no reader can still be using (old and not among the newest)."""
        now = time.time()
        for p in snapshots.iterdir():
            if p.name.isdigit() and int(p.name) <= newest - KEEP_SNAPSHOTS:
                if now - p.stat().st_mtime > SNAPSHOT_MIN_AGE_S:
                    shutil.rmtree(p, ignore_errors=True)

    def clear(self) -> None:
        with self.writer(fresh=True):
            pass

    # -- convenience -----------------------------------------------------------------------------
    def totals(self) -> tuple[int, int]:
        """(named graphs, quads) of the newest snapshot: what ``graph_counts`` sums, without its GROUP BY over every
        quad."""
        store = self.reader()
        return sum(1 for _ in store.named_graphs()), len(store)

    def graph_counts(self) -> dict[str, int]:
        return {str(s["g"].value): int(s["n"].value) for s in self.reader().query(rq.load("graph-counts"))}


def _link_or_copy(src: str, dst: str) -> None:
    if src.endswith(".sst"):
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system, or no hard links: copy
            pass
    shutil.copy2(src, dst)


def parse_error(e: SyntaxError, source: str) -> InputError:
    """Turn a pyoxigraph parse error ("... at line L column C") into an InputError naming the place."""
    import re

    msg = str(e)
    m = re.search(r"line (\d+)(?: column| between columns) (\d+)", msg) or re.search(r"(\d+):(\d+)", msg)
    line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return InputError(msg, source=source, line=line, column=col, lv=f"sintakses kļūda, dokumentu nevar nolasīt ({msg})")


def file_format(path: Path) -> ox.RdfFormat:
    """The RDF format named by a file's extension; an unknown one is bad input."""
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None:
        raise InputError("unknown RDF file extension (use .nq, .nt, .trig, .ttl, .rdf or .jsonld)", source=str(path))
    return fmt


def load_file(store: ox.Store, path: Path, graph: str) -> None:
    """Bulk-load one RDF file into a named graph (triples without one); a syntax error names the file and line."""
    fmt = file_format(path)
    kwargs: dict[str, Any] = {} if fmt.supports_datasets else {"to_graph": ox.NamedNode(graph)}
    try:
        store.bulk_load(path=str(path), format=fmt, **kwargs)
    except SyntaxError as e:
        raise parse_error(e, str(path)) from None


def dataset_quads(data: bytes, fmt: str) -> list[ox.Quad]:
    """N-Quads or TriG (``fmt``: the RdfFormat's name) parsed whole; a quad in the default graph is refused: the
    default graph here is the union of the named ones, so it cannot be written."""
    try:
        quads = list(ox.parse(data, format=getattr(ox.RdfFormat, fmt)))
    except SyntaxError as e:
        raise parse_error(e, "request body") from None
    if any(isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
        raise BadRequest("a quad is in the default graph, which here is the union of the named graphs: name its graph")
    return quads


def load_bytes(store: ox.Store, data: bytes, graph: str, fmt: ox.RdfFormat, base_iri: str | None = None) -> None:
    try:
        store.load(data, format=fmt, to_graph=ox.NamedNode(graph), base_iri=base_iri)
    except SyntaxError as e:
        raise parse_error(e, graph) from None
