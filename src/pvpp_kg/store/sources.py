"""Where the knowledge graph comes from: the source files and the named graph each one fills.

Turtle files are loaded by the store as they are; CSV sources (the responsibility matrix, the VZD and
ministry lists) are converted to RDF by the module that owns that format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from pvpp_kg.namespaces import GRAPH_INSTITUTIONS, GRAPH_ONTOLOGY, GRAPH_REFERENCE, institution_graph
from pvpp_kg.settings import Settings

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld"}


@dataclass(frozen=True)
class Source:
    """One file and the named graph it belongs to; ``convert`` turns a non-RDF file into a graph."""

    graph: str
    path: Path
    convert: Callable[[Path], Graph] | None = None

    def to_graph(self) -> Graph:
        """Parse or convert the file with rdflib (for small files: reasoning, tests, validation)."""
        if self.convert is not None:
            return self.convert(self.path)
        return Graph().parse(self.path, format=RDF_SUFFIXES[self.path.suffix])


def _rdf_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in RDF_SUFFIXES)


def ontology_sources(settings: Settings) -> list[Source]:
    return [Source(str(GRAPH_ONTOLOGY), p) for p in _rdf_files(settings.ontology_dir)]


def reference_sources(settings: Settings) -> list[Source]:
    from pvpp_kg.policy.matrix import read_matrix

    ref = settings.source_dir / "reference"
    out = [Source(str(GRAPH_REFERENCE), p) for p in _rdf_files(ref)]
    matrix = ref / "responsibility-matrix.csv"
    if matrix.exists():
        out.append(Source(str(GRAPH_REFERENCE), matrix, read_matrix))
    return out


def institution_sources(settings: Settings) -> list[Source]:
    from pvpp_kg.policy.institutions import read_institutions

    inst = settings.source_dir / "institutions"
    out = [Source(str(GRAPH_INSTITUTIONS), p) for p in _rdf_files(inst)]
    if inst.is_dir():
        out.append(Source(str(GRAPH_INSTITUTIONS), inst, read_institutions))
    return out


def sample_sources(settings: Settings) -> list[Source]:
    """One graph per institution: ``data/sample/{key}.ttl`` fills ``graph/institution/{key}``."""
    return [Source(institution_graph(p.stem), p) for p in _rdf_files(settings.source_dir / "sample")]


def public_sources(settings: Settings) -> Iterator[Source]:
    """Every source of the public store, in load order."""
    yield from ontology_sources(settings)
    yield from reference_sources(settings)
    yield from institution_sources(settings)
    if settings.include_sample:
        yield from sample_sources(settings)


def restricted_sources(settings: Settings) -> list[Source]:
    """People's names and contacts: loaded only into the restricted store."""
    return [
        Source(str(GRAPH_INSTITUTIONS).replace("institutions", "restricted"), p)
        for p in _rdf_files(settings.source_dir / "restricted")
    ]


def public_graph(settings: Settings) -> Graph:
    """All public sources in one rdflib graph (for the reasoner and tests; the server uses the store)."""
    g = Graph()
    for source in public_sources(settings):
        g += source.to_graph()
    return g
