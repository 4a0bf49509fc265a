"""Build the store from ``ontology/`` and ``data/``: load every source, then materialise."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend, EmbeddedBackend
from pvpp_kg.store.embedded import EmbeddedStore, load_bytes, load_file
from pvpp_kg.store.materialise import Entailment, Rules
from pvpp_kg.store.sources import Source, ontology_sources, public_sources, restricted_sources


@dataclass(frozen=True)
class LoadReport:
    sources: int
    seconds: float
    counts: dict[str, int]


def ontology_graph(settings: Settings) -> Graph:
    g = Graph()
    for source in ontology_sources(settings):
        g += source.to_graph()
    return g


_ENTAILMENTS: dict[Path, Entailment] = {}


def entailment(settings: Settings) -> Entailment:
    """The loader's rules, read from the ontology once per process (a web process asks them per submission)."""
    key = settings.ontology_dir.resolve()
    found = _ENTAILMENTS.get(key)
    if found is None:
        found = _ENTAILMENTS[key] = Entailment(Rules.of(ontology_graph(settings)))
    return found


def _load_sources(writer: ox.Store, sources: list[Source]) -> None:
    for src in sources:
        if src.convert is not None:
            data = src.to_graph().serialize(format="nt", encoding="utf-8")
            load_bytes(writer, data, src.graph, ox.RdfFormat.N_TRIPLES)
        else:
            load_file(writer, src.path, src.graph)


def materialised(fill: Callable[[ox.Store], None], ontology: Graph) -> ox.Store:
    """Load into an in-memory store, materialised: what ``fill`` loads, each quad followed by what it entails.

    Every rule stays inside one named graph, so new data can be materialised on its own; the result goes to
    disk with the bulk loader.
    """
    raw = ox.Store()
    fill(raw)
    mem = ox.Store()
    mem.bulk_extend(Entailment(Rules.of(ontology)).quads(raw))
    return mem


def materialised_ntriples(content: bytes, graph: str, ontology: Graph) -> bytes:
    """N-Triples as the store holds them in ``graph``: participations, inverses and superclass types added."""
    node = ox.NamedNode(graph)
    mem = materialised(lambda m: m.load(content, format=ox.RdfFormat.N_TRIPLES, to_graph=node), ontology)
    return mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node)


def copy_into(target: ox.Store, source: ox.Store) -> None:
    """Bulk-load ``source`` into ``target``, then compact: the bulk loader leaves many small files, and
    queries on an uncompacted store are slower."""
    target.bulk_extend(source.quads_for_pattern(None, None, None))
    target.optimize()


def build(settings: Settings, store: EmbeddedStore, restricted: EmbeddedStore) -> LoadReport:
    """Replace the whole store with the sources; atomic: readers see the old or the new store."""
    started = time.perf_counter()
    sources = list(public_sources(settings))
    ontology = ontology_graph(settings)
    mem = materialised(lambda m: _load_sources(m, sources), ontology)
    with store.writer(fresh=True) as w:
        copy_into(w, mem)
    with restricted.writer(fresh=True) as w:
        _load_sources(w, restricted_sources(settings))
    return LoadReport(len(sources), time.perf_counter() - started, store.graph_counts())


def open_stores(settings: Settings) -> tuple[EmbeddedStore, EmbeddedStore]:
    return EmbeddedStore(settings.data_dir / "public"), EmbeddedStore(settings.data_dir / "restricted")


def ensure_loaded(settings: Settings) -> tuple[EmbeddedStore, EmbeddedStore]:
    """Open the stores, building them on first start; an existing store is used as it is."""
    store, restricted = open_stores(settings)
    if not store.exists():
        build(settings, store, restricted)
    return store, restricted


def make_backend(settings: Settings) -> Backend:
    """The remote store if one is configured, else the embedded store (built on first start)."""
    if settings.remote_query_url:
        from pvpp_kg.store.remote import RemoteBackend

        return RemoteBackend(
            settings.remote_query_url,
            settings.remote_update_url,
            settings.remote_store_url,
            index_dir=Path(settings.data_dir) / "remote",
            base_iri=settings.base_iri,
            refuse_personal_data=settings.refuse_personal_data,
        )
    from pvpp_kg.store.querypool import QueryPool, find_allocator

    public, _restricted = ensure_loaded(settings)
    pool = QueryPool(settings.query_pool_size(), find_allocator(settings.query_allocator), settings.query_nice)
    return EmbeddedBackend(
        public,
        pool,
        max_result_bytes=settings.max_result_bytes,
        write_pause_s=settings.submission_pause_s,
        inline_query_s=settings.inline_query_ms / 1000,
        base_iri=settings.base_iri,
        refuse_personal_data=settings.refuse_personal_data,
    )
