"""Downloadable dumps of the public graphs, rebuilt when the data changes (keyed by ``backend.version()``).

Files (in ``{dumps_dir}/{version}/``, written to a temporary directory first and renamed into place, so a
reader never sees a half-written set):

- ``pvpp-kg.ttl``      Turtle, the union of the public graphs (what the SPARQL default graph answers)
- ``pvpp-kg.nt.gz``    N-Triples, gzipped, the same triples
- ``pvpp-kg.jsonld``   JSON-LD, the same triples
- ``pvpp-kg.nq.gz``    N-Quads, gzipped, with the named graphs kept
- ``SHA256SUMS``       checksums in ``sha256sum -c`` format; ``manifest.json`` the same as data
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.namespaces import PREFIXES
from pvpp_kg.personal import about_person, person_subjects


@dataclass(frozen=True)
class DumpFile:
    name: str
    title: str
    media_type: str
    encoding: str | None  # "gzip" for compressed files
    size: int
    sha256: str


@dataclass(frozen=True)
class DumpSet:
    version: str
    created: str  # ISO 8601, UTC
    triples: int
    quads: int
    files: tuple[DumpFile, ...]

    def file(self, name: str) -> DumpFile | None:
        return next((f for f in self.files if f.name == name), None)


def public_quads(quads: list[ox.Quad], base: str) -> Iterator[ox.Quad]:
    """Everything except what is said about people (a guard; the public store should hold none)."""
    people = person_subjects(quads, base)
    for q in quads:
        if q.subject in people and about_person(q.predicate.value, isinstance(q.object, ox.Literal)):
            continue
        yield q


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(nquads: bytes, directory: Path, version: str, base: str) -> DumpSet:
    """Write every dump file of one data version into ``directory`` (which must not exist yet)."""
    quads = list(public_quads(list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)), base))
    triples = list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))
    directory.mkdir(parents=True)
    ttl, nt, jsonld, nq = (directory / n for n in ("pvpp-kg.ttl", "pvpp-kg.nt.gz", "pvpp-kg.jsonld", "pvpp-kg.nq.gz"))
    ox.serialize(triples, str(ttl), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    ox.serialize(triples, str(jsonld), format=ox.RdfFormat.JSON_LD)
    with gzip.open(nt, "wb") as f:
        ox.serialize(triples, f, format=ox.RdfFormat.N_TRIPLES)
    with gzip.open(nq, "wb") as f:
        ox.serialize(quads, f, format=ox.RdfFormat.N_QUADS)
    specs = [
        (ttl, "Turtle (union of the public graphs)", "text/turtle", None),
        (nt, "N-Triples, gzipped (union of the public graphs)", "application/n-triples", "gzip"),
        (jsonld, "JSON-LD (union of the public graphs)", "application/ld+json", None),
        (nq, "N-Quads, gzipped (named graphs kept)", "application/n-quads", "gzip"),
    ]
    files = tuple(DumpFile(p.name, title, mt, enc, p.stat().st_size, _sha256(p)) for p, title, mt, enc in specs)
    dump = DumpSet(version, datetime.now(UTC).replace(microsecond=0).isoformat(), len(triples), len(quads), files)
    (directory / "SHA256SUMS").write_text("".join(f"{f.sha256}  {f.name}\n" for f in files), encoding="utf-8")
    (directory / "manifest.json").write_text(json.dumps(asdict(dump), indent=1), encoding="utf-8")
    return dump


def read_manifest(directory: Path) -> DumpSet | None:
    try:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return DumpSet(
        data["version"], data["created"], data["triples"], data["quads"], tuple(DumpFile(**f) for f in data["files"])
    )


def _dirname(version: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", version) or "0"


class Dumps:
    """The dump set of the current data version: built on first request after a change, then reused."""

    def __init__(self, root: Path, base: str) -> None:
        self.root = Path(root)
        self.base = base
        self._lock = threading.Lock()

    def directory(self, version: str) -> Path:
        return self.root / _dirname(version)

    def existing(self, version: str) -> DumpSet | None:
        return read_manifest(self.directory(version))

    def ensure(self, version: str, nquads: bytes) -> DumpSet:
        """Build the set for ``version`` from ``nquads`` unless it is there; drop other versions' sets."""
        with self._lock:
            found = self.existing(version)
            if found is not None:
                return found
            target = self.directory(version)
            tmp = self.root / f".tmp-{_dirname(version)}-{os.getpid()}-{threading.get_ident()}"
            shutil.rmtree(tmp, ignore_errors=True)
            dump = build(nquads, tmp, version, self.base)
            try:
                tmp.rename(target)
            except OSError:  # another server process published the same version first: use its set
                shutil.rmtree(tmp, ignore_errors=True)
                return read_manifest(target) or dump
            for p in self.root.iterdir():
                if p != target and p.is_dir() and not p.name.startswith(".tmp-"):
                    shutil.rmtree(p, ignore_errors=True)
            return dump
