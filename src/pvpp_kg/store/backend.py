"""The knowledge graph as the server sees it: one interface, an embedded or a remote store behind it.

``EmbeddedBackend`` evaluates in the query pool's process (real timeouts) over the newest snapshot, and a query it
has seen answered there within a few milliseconds on the same snapshot in this process (``CheapJobs``);
``RemoteBackend`` (in ``remote.py``) speaks SPARQL 1.1 Protocol and Graph Store Protocol to another server.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import anyio.to_thread
import pyoxigraph as ox

from pvpp_kg.errors import BadRequest, NotFound, QuerySyntaxError
from pvpp_kg.personal import inserted_by, personal_in, refusal, stored_personal_data
from pvpp_kg.store.embedded import EmbeddedStore, dataset_quads, load_bytes, parse_error
from pvpp_kg.store.query_text import in_order_of_appearance, select_star
from pvpp_kg.store.querypool import QueryJob, QueryOutput, QueryPool, answer, outcome
from pvpp_kg.store.textindex import FUNCTION, StoreSource, TextIndex, uses_function
from pvpp_kg.store.textsparql import rewrite

logger = logging.getLogger(__name__)

Substitution = tuple[str, str, str, str | None]  # (variable, "iri"|"lang"|"typed", value, lang|datatype)


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of one query (SPARQL 1.1 Protocol ``default-graph-uri`` / ``named-graph-uri``)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    from_query: bool = False  # the query text has FROM / FROM NAMED: let it decide
    union: bool = False  # the request named the default graph itself (rdflib's marker): the union of all graphs

    @property
    def from_protocol(self) -> bool:
        """The request named graphs: they replace the query's own FROM / FROM NAMED entirely."""
        return bool(self.default_graphs or self.named_graphs or self.union)

    @property
    def union_default(self) -> bool:
        """No default graph given by the protocol or the query, or the request asked for the default graph: the
        default graph is the union of all graphs."""
        return self.union or not (self.default_graphs or self.named_graphs or self.from_query)

    @property
    def default_graph(self) -> tuple[str, ...] | None:
        """The graphs that make the default graph, or None for the union (or the query's FROM)."""
        return self.default_graphs if self.from_protocol and not self.union else None

    @property
    def named_graph_list(self) -> tuple[str, ...] | None:
        """The graphs GRAPH patterns see, or None for all (or the query's FROM NAMED): a protocol dataset names
        them all, but rdflib's default-graph marker alone leaves every named graph visible."""
        if not self.from_protocol or (self.union and not self.named_graphs):
            return None
        return self.named_graphs


ALL_NAMED = Dataset()  # the union default graph; GRAPH patterns see every named graph


class Backend(Protocol):
    async def query(
        self,
        query: str,
        *,
        result_format: str,
        dataset: Dataset = Dataset(),
        substitutions: tuple[Substitution, ...] = (),
        timeout: float,
    ) -> QueryOutput: ...

    async def update(self, update: str, *, timeout: float) -> None: ...

    async def graph(self, graph: str | None, fmt: str) -> bytes: ...

    async def replace_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        """Replace the graph's content; True when the graph did not exist (Graph Store Protocol: 201 Created)."""
        ...

    async def append_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        """Add to the graph; True when the graph did not exist."""
        ...

    async def append_dataset(self, data: bytes, fmt: str) -> None:
        """Add N-Quads or TriG, each quad to its named graph (a quad in the default graph is refused: the default
        graph here is the union of the named ones)."""
        ...

    async def delete_graph(self, graph: str) -> None: ...

    async def write_graphs(self, graphs: dict[str, bytes], updates: tuple[str, ...] = ()) -> None:
        """Replace each graph with the given N-Triples, then apply the updates: all in one atomic write."""
        ...

    async def graph_counts(self) -> dict[str, int]: ...

    def version(self) -> str: ...

    async def text_index(self) -> TextIndex:
        """The text index of the newest data version (built first if it is not current)."""
        ...

    def close(self) -> None: ...


async def rewrite_search(query: str, substitutions: tuple[Substitution, ...], index: TextIndex) -> str:
    """The query with ``pvppfn:search`` rewritten over the index's matches (``textsparql.rewrite``), for both
    backends: the store that evaluates it needs no function of ours. A syntax error is reported first, at its
    place in the text as sent (not in the rewritten one)."""
    bound = {v: val for v, _k, val, _x in substitutions}

    def checked() -> str:
        try:  # parsed and planned on an empty store, never evaluated
            ox.Store().query(query, custom_functions={ox.NamedNode(FUNCTION): _no_value})
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from None
        return rewrite(query, bound, index.scores)

    return await anyio.to_thread.run_sync(checked)


def ordered_projection(query: str) -> str:
    """``SELECT *`` with its variables written out in the order the query names them, so that every client sees
    ``?s ?p ?o`` as written (Oxigraph, here and as a remote server, lists them sorted). The same variables: they
    are the ones Oxigraph finds in scope, planned on an empty store, never evaluated."""
    star = select_star(query)
    if star is None:
        return query
    try:
        planned = ox.Store().query(query, custom_functions={ox.NamedNode(FUNCTION): _no_value})
        names = [v.value for v in planned.variables]
    except (SyntaxError, TypeError, ValueError):  # reported as the query runs, at its place in the text as sent
        return query
    if not names:
        return query
    return query[:star] + " ".join("?" + n for n in in_order_of_appearance(query, names)) + query[star + 1 :]


def _no_value(*_args: object) -> None:
    return None


_TRIAL = "import sys, pyoxigraph; pyoxigraph.Store().update(sys.stdin.read())"


def trial_run(update: str) -> None:
    """Run an update on an empty in-memory store in a throwaway process first: an update that crashes native code
    (the engine's parser or planner) then crashes that process, never the web process that holds the store."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _TRIAL], input=update.encode("utf-8"), capture_output=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        raise BadRequest("the update did not finish even on an empty store; it was not applied") from None
    if done.returncode < 0:
        raise BadRequest("the update crashed the SPARQL engine in a trial run on an empty store; it was not applied")


class CheapJobs:
    """The jobs the query process answered within ``max_seconds``: asked again, they are evaluated in this process.

    Why: a point lookup through the query process wakes that process and then this one again; on a 2-core VM,
    after an idle moment, those two wake-ups cost more than the lookup. A job names its snapshot, so what is
    learnt holds for one data version and a write starts afresh; the same query on the same data costs the same,
    so nothing slow runs here, where it could not be stopped. Bounded: at most ``size`` jobs, of queries up to
    ``max_chars`` characters.
    """

    def __init__(self, max_seconds: float, size: int = 1024, max_chars: int = 16_384) -> None:
        self.max_seconds = max_seconds
        self.size = size
        self.max_chars = max_chars
        self._jobs: OrderedDict[QueryJob, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job: QueryJob) -> bool:
        if job in self._jobs:
            self._jobs.move_to_end(job)
            return True
        return False

    def learn(self, job: QueryJob, seconds: float | None) -> None:
        """Keep ``job`` if it took at most ``max_seconds`` (forget it if it took longer)."""
        if seconds is not None and seconds <= self.max_seconds and len(job.query) <= self.max_chars:
            self._jobs[job] = None
            self._jobs.move_to_end(job)
            while len(self._jobs) > self.size:
                self._jobs.popitem(last=False)
        else:
            self._jobs.pop(job, None)


class EmbeddedBackend:
    def __init__(
        self,
        store: EmbeddedStore,
        pool: QueryPool,
        *,
        max_result_bytes: int,
        write_pause_s: float = 0.0,
        inline_query_s: float = 0.0,
        base_iri: str = "https://w3id.org/pvpp/",
        refuse_personal_data: bool = True,
    ) -> None:
        self.store = store
        self.base_iri, self.refuse_personal_data = base_iri, refuse_personal_data
        self.pool = pool
        self.max_result_bytes = max_result_bytes
        self.write_pause_s = write_pause_s  # test hook: crash tests kill the server inside a write
        self.cheap = CheapJobs(inline_query_s)
        self._newest: tuple[int, str] | None = None
        self.index = TextIndex(store.directory)

    async def text_index(self) -> TextIndex:
        if self.index.version() != self.store.version():
            await anyio.to_thread.run_sync(self.index.ensure, self.store)
        return self.index

    def _update_index(self, old: int, graphs: list[str]) -> None:
        """After a write of ``graphs`` that made version ``old`` + 1: update the text index's rows of those graphs
        (a write that is not the next version, or an index that is not at ``old``, leaves it to be rebuilt)."""
        new, snapshot = self.store.newest_snapshot()
        if new == old + 1:
            try:
                self.index.apply_graphs(StoreSource(self.store.reader_of(snapshot)), old, new, graphs)
            except Exception:  # the write stands; the index, still at the old version, is rebuilt when next asked
                logger.exception("the text index could not follow the write; it will be rebuilt")

    def version(self) -> str:
        return str(self.store.version())

    def _snapshot(self) -> str:
        """The newest snapshot's directory: the query process opens it, this process need not.
        Remembered per version (asked on every query; the path arithmetic cost more than the lookup's version)."""
        known = self._newest
        if known is None or known[0] != self.store.version():
            version, path = self.store.newest_snapshot()
            known = self._newest = (version, str(path))
        return known[1]

    async def query(
        self,
        query: str,
        *,
        result_format: str,
        dataset: Dataset = Dataset(),
        substitutions: tuple[Substitution, ...] = (),
        timeout: float,
    ) -> QueryOutput:
        query = ordered_projection(query)  # on the text as sent: the search's rewrite may make it 70 KB
        if uses_function(query):  # the text search becomes standard SPARQL over the current index's matches
            query = await rewrite_search(query, substitutions, await self.text_index())
        job = QueryJob(
            snapshot=self._snapshot(),
            query=query,
            result_format=result_format,
            use_default_graph_as_union=dataset.union_default,
            default_graph=dataset.default_graph,
            named_graphs=dataset.named_graph_list,
            substitutions=substitutions,
            max_bytes=self.max_result_bytes,
        )
        if job in self.cheap:
            output = answer(*outcome(self.store.reader_of(job.snapshot), job, small=True))
        else:
            output = await self.pool.run(job, timeout)
        self.cheap.learn(job, output.seconds)
        return output

    def _update_sync(self, update: str) -> None:
        trial_run(update)
        if self.refuse_personal_data:
            self._refuse_personal(inserted_by(update))
        with self.store.writer() as w:
            try:
                w.update(update)
            except SyntaxError as e:
                raise BadRequest(f"malformed update: {e}") from None
            except OSError as e:
                raise BadRequest(f"the update could not be applied: {e}") from None
            self._refuse_personal_data(w)

    def _refuse_personal(self, quads: Iterable[ox.Quad | ox.Triple]) -> None:
        """Raise before anything is written if a written statement's object reads as a person's contact (an e-mail
        address, a phone number), or says something of a person the statements themselves show (a node under
        ``id/person/`` included): submissions are refused them (NoPersonalDataShape), so is an administrator."""
        if self.refuse_personal_data and (found := personal_in(quads, self.base_iri)):
            raise refusal(found)

    def _refuse_personal_data(self, w: ox.Store) -> None:
        """Raise (the writer then rolls the write back) if the public store would hold a person's name or
        contacts: an administrator's write is held to what submissions are."""
        if not self.refuse_personal_data:
            return
        # read whole here: the solutions may not outlive this thread (pyoxigraph's are unsendable)
        query = stored_personal_data(self.base_iri)
        found = [ox.Triple(r["s"], r["p"], r["o"]) for r in w.query(query, use_default_graph_as_union=True)]
        if found:
            raise refusal(found)

    async def update(self, update: str, *, timeout: float) -> None:
        await anyio.to_thread.run_sync(self._update_sync, update)

    def _graph_sync(self, graph: str | None, fmt: str) -> bytes:
        store = self.store.reader()
        rdf_format = getattr(ox.RdfFormat, fmt)
        if graph is None:
            if rdf_format.supports_datasets:
                return store.dump(format=rdf_format)
            return store.dump(format=rdf_format, from_graph=ox.DefaultGraph())
        node = ox.NamedNode(graph)
        if not store.contains_named_graph(node):
            raise NotFound(f"no graph <{graph}> in the store")
        return store.dump(format=rdf_format, from_graph=node)

    async def graph(self, graph: str | None, fmt: str) -> bytes:
        return await anyio.to_thread.run_sync(self._graph_sync, graph, fmt)

    def _write_graph_sync(self, graph: str, data: bytes, fmt: str, replace: bool) -> bool:
        rdf_format = getattr(ox.RdfFormat, fmt)
        data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark is not part of the document
        try:  # parse first, so that bad input never opens the writer; relative IRIs against the graph's, as the
            # Graph Store Protocol's Oxigraph server and Fuseki read them
            self._refuse_personal(ox.parse(data, format=rdf_format, base_iri=graph))
        except SyntaxError as e:
            raise parse_error(e, "request body") from None
        with self.store.writer() as w:
            old = self.store.version()
            node = ox.NamedNode(graph)
            existed = w.contains_named_graph(node)
            if replace and existed:
                w.clear_graph(node)
            load_bytes(w, data, graph, rdf_format, base_iri=graph)
            self._refuse_personal_data(w)
        self._update_index(old, [graph])
        return not existed

    async def replace_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        return await anyio.to_thread.run_sync(self._write_graph_sync, graph, data, fmt, True)

    async def append_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        return await anyio.to_thread.run_sync(self._write_graph_sync, graph, data, fmt, False)

    def _append_dataset_sync(self, data: bytes, fmt: str) -> None:
        # parsed whole first, so that bad input never opens the writer
        quads = dataset_quads(data.removeprefix(b"\xef\xbb\xbf"), fmt)
        self._refuse_personal(quads)
        with self.store.writer() as w:
            old = self.store.version()
            w.extend(quads)
            self._refuse_personal_data(w)
        self._update_index(old, sorted({q.graph_name.value for q in quads}))

    async def append_dataset(self, data: bytes, fmt: str) -> None:
        await anyio.to_thread.run_sync(self._append_dataset_sync, data, fmt)

    def _write_graphs_sync(self, graphs: dict[str, bytes], updates: tuple[str, ...]) -> None:
        for name, data in graphs.items():  # parse first, so that bad input never opens the writer
            try:
                ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
            except SyntaxError as e:
                raise parse_error(e, name) from None
        with self.store.writer() as w:
            old = self.store.version()
            for name, data in graphs.items():
                node = ox.NamedNode(name)
                if w.contains_named_graph(node):
                    w.clear_graph(node)
                load_bytes(w, data, name, ox.RdfFormat.N_TRIPLES)
            if self.write_pause_s:
                time.sleep(self.write_pause_s)
            for update in updates:
                w.update(update)
        self._update_index(old, list(graphs))

    async def write_graphs(self, graphs: dict[str, bytes], updates: tuple[str, ...] = ()) -> None:
        await anyio.to_thread.run_sync(self._write_graphs_sync, graphs, updates)

    def _delete_sync(self, graph: str) -> None:
        with self.store.writer() as w:
            old = self.store.version()
            node = ox.NamedNode(graph)
            if not w.contains_named_graph(node):
                raise NotFound(f"no graph <{graph}> in the store")
            w.remove_graph(node)
        self._update_index(old, [graph])

    async def delete_graph(self, graph: str) -> None:
        await anyio.to_thread.run_sync(self._delete_sync, graph)

    async def graph_counts(self) -> dict[str, int]:
        return await anyio.to_thread.run_sync(self.store.graph_counts)

    def close(self) -> None:
        self.pool.close()
