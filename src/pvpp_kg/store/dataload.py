"""Add dataset files (N-Quads, TriG, Turtle …) to an existing store in one atomic write, materialised as they stream.

Why separate from :func:`pvpp_kg.store.loader.build`: ``build`` rebuilds the store from the project sources; a
generated or exported dataset is *added* on top of them (``pvpp-kg load-data national.nq``). Each file is parsed as
a stream, each quad followed by what it entails (:class:`pvpp_kg.store.materialise.Entailment`), straight into the
bulk loader, so a dataset of any size loads in the memory of the loader's batches; the write is one writer block,
so readers see the store before or after the whole dataset, never half of it, and a syntax error anywhere leaves it
as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.errors import InputError
from pvpp_kg.namespaces import GRAPH
from pvpp_kg.personal import PERSON_PREFIX, about_person, stored_personal_data
from pvpp_kg.settings import Settings
from pvpp_kg.store.embedded import file_format, parse_error
from pvpp_kg.store.guards import check_syntax_guards
from pvpp_kg.store.loader import ensure_loaded, entailment

Progress = Callable[[str], None]
_PROGRESS_EVERY = 65_536  # quads between two looks at the clock
_GUARDED = {ox.RdfFormat.RDF_XML: "rdfxml", ox.RdfFormat.JSON_LD: "jsonld"}


@dataclass(frozen=True)
class DataLoadReport:
    files: int
    seconds: float  # reading, materialising, writing and compacting
    graphs: int  # named graphs in the store afterwards
    triples: int  # quads in the store afterwards


def read_quads(files: list[Path], graph: str | None, progress: Progress | None = None) -> Iterator[ox.Quad]:
    """Every file's quads in order, those without a graph in ``graph`` (with none given, such a quad is bad input);
    blank nodes are the file's own (renamed per file). A syntax error names the file and line. Every 5 s (and at
    the end) says how far it has read."""
    target = ox.NamedNode(graph) if graph is not None else None
    sizes = [p.stat().st_size for p in files]
    total, before = sum(sizes), 0
    started = last = time.perf_counter()

    def say(done: int, now: float) -> None:
        if progress is not None:
            progress(f"{done / 2**20:,.0f} of {total / 2**20:,.0f} MB read and materialised ({now - started:.0f} s)")

    for path, size in zip(files, sizes, strict=True):
        with path.open("rb") as f:
            try:
                for i, quad in enumerate(ox.parse(f, file_format(path), rename_blank_nodes=True)):
                    if isinstance(quad.graph_name, ox.DefaultGraph):
                        if target is None:
                            raise _no_graph(path)
                        quad = ox.Quad(quad.subject, quad.predicate, quad.object, target)
                    yield quad
                    if progress is not None and i % _PROGRESS_EVERY == 0 and time.perf_counter() - last >= 5:
                        last = time.perf_counter()
                        say(before + f.tell(), last)
            except SyntaxError as e:
                raise parse_error(e, str(path)) from None
        before += size
    say(total, time.perf_counter())


def _no_graph(path: Path) -> InputError:
    return InputError(
        "holds triples without a named graph: name the graph they go to with --graph (one institution's data: "
        f"{GRAPH}institution/KEY, which its next submission replaces)",
        source=str(path),
    )


def load_data(
    settings: Settings, paths: Iterable[Path], *, graph: str | None = None, progress: Progress | None = None
) -> DataLoadReport:
    """Load dataset files into the public store (built first if missing); triples without a graph go to ``graph``,
    and without one they are refused: put into a shared graph (the registry's), an institution's data would
    outlive its next submission."""
    files = [Path(p) for p in paths]
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError:
            raise InputError(f"--graph {graph!r} is not an absolute IRI") from None
    for path in files:
        if not path.is_file():
            raise InputError("no such file", source=str(path))
        fmt = file_format(path)  # before anything is written
        if fmt in _GUARDED:  # the formats that can carry entities, deep nesting or remote contexts
            check_syntax_guards(path.read_bytes(), _GUARDED[fmt], str(path))
        if graph is None and not fmt.supports_datasets:
            raise _no_graph(path)
    started = time.perf_counter()
    store, _ = ensure_loaded(settings)
    seen: list[ox.Quad] = []  # what is said of nodes under id/person/ (the store's query finds the others)
    with store.writer() as w:
        quads = read_quads(files, graph, progress)
        if settings.refuse_personal_data:
            quads = _watching_people(quads, settings.base_iri + PERSON_PREFIX, seen)
        w.bulk_extend(entailment(settings).quads(quads))
        found = settings.refuse_personal_data and (
            [(q.subject, q.predicate, q.object) for q in seen]
            or [
                (row["s"], row["p"], row["o"])
                for row in w.query(stored_personal_data(settings.base_iri), use_default_graph_as_union=True)
            ]
        )
        if found:  # the writer rolls the load back: the public store never holds people's names or contacts
            shown = "; ".join(f"{s} {p} {o}" for s, p, o in found[:3])
            raise InputError(
                f"hold people's names or contact data, which the public store never holds: {shown}",
                source=", ".join(str(p) for p in files),
            )
        if progress is not None:  # the bulk loader's last batch is written after the last quad: say what waits
            progress(f"written ({time.perf_counter() - started:.0f} s); compacting the store")
        w.optimize()  # see loader.copy_into: the bulk loader leaves many small files
    seconds = time.perf_counter() - started
    return DataLoadReport(len(files), seconds, *store.totals())


def _watching_people(quads: Iterable[ox.Quad], prefix: str, seen: list[ox.Quad]) -> Iterator[ox.Quad]:
    """The quads unchanged, with those that say something of a node under ``prefix`` (a person) noted in ``seen``
    (at most 3): a string test per quad as they stream, where the store would scan every name property."""
    for q in quads:
        s = q.subject
        if len(seen) < 3 and isinstance(s, ox.NamedNode) and s.value.startswith(prefix):
            if about_person(q.predicate.value, isinstance(q.object, ox.Literal)):
                seen.append(q)
        yield q
