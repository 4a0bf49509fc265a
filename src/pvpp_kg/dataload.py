"""Add dataset files (N-Quads, TriG, Turtle) to an existing store in one atomic write, then materialise.

Why separate from :func:`pvpp_kg.loader.build`: ``build`` rebuilds the store from the project sources; a generated
or exported dataset is *added* on top of them (``pvpp-kg load-data national.nq``). The new data is materialised in
memory (every rule stays inside one graph) and written in one writer block, so readers see the store before or after
the whole dataset, never half of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.errors import InputError
from pvpp_kg.loader import LoadReport, copy_into, ensure_loaded, materialised, ontology_graph
from pvpp_kg.namespaces import GRAPH_INSTITUTIONS
from pvpp_kg.settings import Settings
from pvpp_kg.store import load_file


def load_data(settings: Settings, paths: Iterable[Path], *, graph: str = str(GRAPH_INSTITUTIONS)) -> LoadReport:
    """Load dataset files into the public store (built first if missing); triples without a graph go to ``graph``."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise InputError("no such file", source=str(path))
    started = time.perf_counter()
    store, _ = ensure_loaded(settings)
    ontology = ontology_graph(settings)

    def fill(mem: ox.Store) -> None:
        for path in files:
            load_file(mem, path, graph, fmt=ox.RdfFormat.from_extension(path.suffix.lstrip(".")))

    mem = materialised(fill, ontology)
    with store.writer() as w:
        copy_into(w, mem)
    return LoadReport(len(files), time.perf_counter() - started, store.graph_counts())
