"""Add dataset files (N-Quads, TriG, Turtle) to an existing store in one atomic write, then materialise.

Why separate from :func:`pvpp_kg.loader.build`: ``build`` rebuilds the store from the project sources; a generated
or exported dataset is *added* on top of them (``pvpp-kg load-data national.nq``). The files are bulk-loaded and
the ontology's materialisation updates run once over every graph in the same writer, so readers see the store
before or after the whole dataset, never half of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.errors import InputError
from pvpp_kg.loader import LoadReport, ensure_loaded, ontology_graph
from pvpp_kg.materialise import materialisation_updates
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
    with store.writer() as w:
        for path in files:
            fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
            load_file(w, path, graph, fmt=fmt)
        for update in materialisation_updates(ontology):
            w.update(update)
    return LoadReport(len(files), time.perf_counter() - started, store.graph_counts())
