"""Add dataset files (N-Quads, TriG, Turtle) to an existing store in one atomic write, then materialise.

Why separate from :func:`pvpp_kg.loader.build`: ``build`` rebuilds the store from the project sources; a generated
or exported dataset is *added* on top of them (``pvpp-kg load-data national.nq``). Line-based files (N-Quads,
N-Triples) are read in parts of a few MB, each materialised on its own and streamed to the bulk loader, so a
dataset of any size loads in bounded memory; the write is one writer block, so readers see the store before or
after the whole dataset, never half of it, and a syntax error anywhere leaves the store as it was.
"""

from __future__ import annotations

import mmap
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.errors import InputError
from pvpp_kg.loader import LoadReport, ensure_loaded, materialised_parts, ontology_graph
from pvpp_kg.namespaces import GRAPH_INSTITUTIONS
from pvpp_kg.settings import Settings
from pvpp_kg.store import file_format, load_file

LINE_BASED = (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Part:
    """A run of whole lines of a line-based file (``data``), or a whole file (``data is None``)."""

    path: Path
    fmt: ox.RdfFormat
    data: bytes | None = None
    first_line: int = 1
    end: int = 0  # byte offset in the file where the part ends (for progress)


def _has_blank_nodes(path: Path) -> bool:
    """Whether ``_:`` occurs anywhere (conservatively: also inside literals). pyoxigraph renames blank nodes per
    parse, so a file whose blank nodes may span two parts must be parsed whole."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return m.find(b"_:") >= 0


def parts(path: Path, part_bytes: int) -> Iterator[Part]:
    """``path`` in parts of about ``part_bytes`` cut at line ends; one part when the format is not line-based or
    the file has blank nodes."""
    fmt = file_format(path)
    if fmt not in LINE_BASED or _has_blank_nodes(path):
        yield Part(path, fmt, end=path.stat().st_size)
        return
    line, offset, rest = 1, 0, b""
    with path.open("rb") as f:
        while block := f.read(part_bytes):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            data, rest = block[:cut], block[cut:]
            if data:
                offset += len(data)
                yield Part(path, fmt, data, line, offset)
                line += data.count(b"\n")
    if rest:
        yield Part(path, fmt, rest, line, offset + len(rest))


def _fill(part: Part, graph: str, mem: ox.Store) -> None:
    load_file(mem, part.path, graph, fmt=part.fmt, data=part.data, first_line=part.first_line)


def _all_parts(files: list[Path], part_bytes: int, progress: Progress | None) -> Iterator[Part]:
    """Every file's parts in order; every 5 s (and at the end) says how much is done."""
    sizes = [p.stat().st_size for p in files]
    total, before = sum(sizes), 0
    started = last = time.perf_counter()
    for path, size in zip(files, sizes, strict=True):
        for part in parts(path, part_bytes):
            yield part  # resumed when the part's quads have all gone to the bulk loader
            now = time.perf_counter()
            if progress is not None and (now - last >= 5 or before + part.end == total):
                last = now
                progress(f"{(before + part.end) / 2**20:,.0f} of {total / 2**20:,.0f} MB read and materialised "
                         f"({now - started:.0f} s)")
        before += size


def load_data(settings: Settings, paths: Iterable[Path], *, graph: str = str(GRAPH_INSTITUTIONS),
              progress: Progress | None = None) -> LoadReport:
    """Load dataset files into the public store (built first if missing); triples without a graph go to ``graph``."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise InputError("no such file", source=str(path))
        file_format(path)  # before anything is written
    started = time.perf_counter()
    store, _ = ensure_loaded(settings)
    ontology = ontology_graph(settings)
    fills = (partial(_fill, part, graph) for part in _all_parts(files, settings.load_part_bytes, progress))
    with store.writer() as w:
        w.bulk_extend(materialised_parts(fills, ontology))
        if progress is not None:  # the bulk loader's last batch is written after the last part: say what waits
            progress(f"written ({time.perf_counter() - started:.0f} s); compacting the store")
        w.optimize()  # see loader.copy_into: the bulk loader leaves many small files
    return LoadReport(len(files), time.perf_counter() - started, store.graph_counts())
