"""Remote mode: the same backend interface over any SPARQL 1.1 Query/Update + Graph Store Protocol server.

Tested against Oxigraph server. The remote's default graph must be the union of its named graphs
(Oxigraph: ``union-default-graph`` parameter, which this backend sends; Fuseki: ``tdb2:unionDefaultGraph``).

The text index of ``/api/search`` is kept beside the server's own data (``<data_dir>/remote/``), built from the
remote's data with SPARQL (``SparqlSource``) when the server starts and after a SPARQL Update through it; a write of
named graphs through it (a submission, the Graph Store Protocol) updates just those graphs' rows. Changes made to
the remote store by others are not seen until then. ``pvppfn:search`` in a query is rewritten over this index's
matches into standard SPARQL before the query is forwarded (``textsparql``), as the embedded backend does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import anyio.to_thread
import httpx
import pyoxigraph as ox

from pvpp_kg import formats, rq
from pvpp_kg.errors import BackendUnavailable, BadRequest, NotFound, QuerySyntaxError, QueryTimeout
from pvpp_kg.personal import inserted_by, personal_in, refusal
from pvpp_kg.store.backend import Dataset, Substitution, ordered_projection, rewrite_search
from pvpp_kg.store.embedded import dataset_quads
from pvpp_kg.store.query_text import inspect, masked
from pvpp_kg.store.querypool import QueryOutput
from pvpp_kg.store.textindex import FILE_NAME, Text, TextIndex, csv_rows, uses_function

_BY_OXI = {f.oxigraph: f for f in (*formats.RESULT_FORMATS, *formats.GRAPH_FORMATS)}


def _term(kind: str, value: str, extra: str | None) -> str:
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if kind == "iri":
        if any(c in value for c in '<>"{}|^`\\ '):
            raise BadRequest(f"not a valid IRI: {value!r}")
        return f"<{value}>"
    if kind == "lang":
        return f'"{esc}"@{extra}'
    return f'"{esc}"^^<{extra}>' if extra else f'"{esc}"'


def _where_group_start(query: str) -> int:
    """Index just after the '{' that opens the outer WHERE group (skipping a CONSTRUCT template)."""
    depth, groups = 0, 0
    is_construct = inspect(query).form == "CONSTRUCT"
    blanked = masked(query)
    for i, ch in enumerate(blanked):
        if ch == "{":
            if depth == 0:
                groups += 1
                template = is_construct and groups == 1 and not re.search(r"WHERE\s*$", blanked[:i], re.I)
                if not template:
                    return i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
    raise BadRequest("the query has no WHERE group to bind parameters in")


def with_values(query: str, substitutions: tuple[Substitution, ...]) -> str:
    """Bind parameters as the first element of the outer WHERE group, as SEP-0007 substitution would
    (remote servers have no substitution API; a trailing VALUES would bind too late for FILTERs)."""
    if not substitutions:
        return query
    names = " ".join(f"?{v}" for v, *_ in substitutions)
    terms = " ".join(_term(k, val, x) for _, k, val, x in substitutions)
    at = _where_group_start(query)
    return f"{query[:at]} VALUES ({names}) {{ ({terms}) }} {query[at:]}"


class SparqlSource:
    """The text index's data read from a remote SPARQL endpoint (CSV results; the default graph as the union)."""

    def __init__(self, query_url: str, timeout: float = 300) -> None:
        self.query_url = query_url
        self.timeout = timeout

    def select(self, query: str) -> list[list[str]]:
        try:
            r = httpx.post(
                self.query_url,
                data={"query": query},
                params={"union-default-graph": ""},
                headers={"Accept": "text/csv"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as e:
            raise BackendUnavailable(f"the remote store is not reachable: {e}") from None
        if r.status_code != 200:
            raise BackendUnavailable(f"the remote store failed ({r.status_code}): {r.text.strip()[:500]}")
        return csv_rows(r.content)

    def texts(self, fields: dict[str, str], graph: str) -> Iterator[Text]:
        """One query per property (``rq/search-texts.rq``), the property and graph bound by a VALUES block first."""
        for p, field in fields.items():
            bound = f"VALUES ?p {{ <{p}> }} VALUES ?g {{ <{graph}> }}"
            query = rq.load("search-texts").replace("WHERE {", "WHERE { " + bound, 1)
            for s, g, lang, text in self.select(query):
                yield s, g, field, lang, text


class RemoteBackend:
    def __init__(
        self,
        query_url: str,
        update_url: str | None,
        store_url: str | None,
        index_dir: Path | None = None,
        *,
        base_iri: str = "https://w3id.org/pvpp/",
        refuse_personal_data: bool = True,
    ) -> None:
        self.base_iri, self.refuse_personal_data = base_iri, refuse_personal_data
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.client = httpx.AsyncClient()
        self._version = 0
        self.source = SparqlSource(query_url)
        self.index: TextIndex | None = None
        if index_dir is not None:
            index_dir.mkdir(parents=True, exist_ok=True)
            # the remote may have changed while this server was down: an index of an earlier run is not trusted
            (index_dir / FILE_NAME).unlink(missing_ok=True)
            self.index = TextIndex(index_dir)

    def version(self) -> str:
        return f"remote-{self._version}"

    async def _send(self, method: str, url: str, *, timeout: float, **kw: object) -> httpx.Response:
        try:
            r = await self.client.request(method, url, timeout=timeout, **kw)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise QueryTimeout(f"the remote store did not answer within {timeout:g} s") from None
        except httpx.HTTPError as e:
            raise BackendUnavailable(f"the remote store is not reachable: {e}") from None
        if r.status_code == 404:
            raise NotFound(r.text.strip() or "not found")
        if 400 <= r.status_code < 500:
            raise QuerySyntaxError(r.text.strip() or f"the remote store refused the request ({r.status_code})")
        if r.status_code >= 500:
            raise BackendUnavailable(f"the remote store failed ({r.status_code}): {r.text.strip()[:500]}")
        return r

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
        if uses_function(query):  # the text search becomes standard SPARQL over this server's index of the remote
            query = await rewrite_search(query, substitutions, await self.text_index())
        fmt = _BY_OXI[result_format]
        form: dict[str, str | list[str]] = {"query": with_values(query, substitutions)}
        if dataset.default_graphs:
            form["default-graph-uri"] = list(dataset.default_graphs)
        if dataset.named_graphs:
            form["named-graph-uri"] = list(dataset.named_graphs)
        union = {"union-default-graph": ""} if dataset.union_default else {}
        if union and dataset.named_graphs:  # Oxigraph takes no union beside named graphs: name the union's graphs
            form["default-graph-uri"], union = list(await self.graph_counts()), {}
        r = await self._send(
            "POST", self.query_url, timeout=timeout, data=form, params=union, headers={"Accept": fmt.media_type}
        )
        kind = "graph" if fmt in formats.GRAPH_FORMATS else "solutions"  # ASK answers share the results formats
        return QueryOutput(kind, r.content)

    def _refuse_personal_parsed(self, data: bytes, fmt: str, graph: str) -> None:
        if self.refuse_personal_data:
            try:  # relative IRIs against the graph's, as the remote store reads them (else the check was skipped)
                quads = list(ox.parse(data, format=getattr(ox.RdfFormat, fmt), base_iri=graph))
            except SyntaxError:
                return  # the remote store refuses it and says why
            self._refuse_personal(quads)

    def _refuse_personal(self, quads: Iterable[ox.Quad | ox.Triple]) -> None:
        """Refuse, before sending, a write whose own statements give a person's name or contact (the remote store's
        other data cannot be seen from here, so a name made a holder's by what it already holds is not caught)."""
        if self.refuse_personal_data and (found := personal_in(quads, self.base_iri)):
            raise refusal(found)

    async def update(self, update: str, *, timeout: float) -> None:
        if self.refuse_personal_data:
            self._refuse_personal(inserted_by(update))
        await self._send("POST", self.update_url, timeout=timeout, data={"update": update})
        self._version += 1  # which graphs changed is unknown: the index is rebuilt when next asked

    async def _written(self, graphs: list[str]) -> None:
        """After a write of ``graphs`` through this server: the next version, and those graphs' rows of the text
        index read again from the remote (milliseconds), if the index was current."""
        old = self._version
        self._version += 1
        if self.index is not None and self.index.version() == old:
            await anyio.to_thread.run_sync(self.index.apply_graphs, self.source, old, old + 1, graphs)

    def _gsp(self, graph: str | None) -> tuple[str, dict[str, str]]:
        if not self.store_url:
            raise BackendUnavailable("no Graph Store Protocol URL configured (PVPP_REMOTE_STORE_URL)")
        return self.store_url, ({"graph": graph} if graph else {"default": ""})

    async def graph(self, graph: str | None, fmt: str) -> bytes:
        url, params = self._gsp(graph)
        r = await self._send("GET", url, timeout=60, params=params, headers={"Accept": _BY_OXI[fmt].media_type})
        return r.content

    async def replace_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        self._refuse_personal_parsed(data, fmt, graph)
        url, params = self._gsp(graph)
        r = await self._send(
            "PUT", url, timeout=300, params=params, content=data, headers={"Content-Type": _BY_OXI[fmt].media_type}
        )
        await self._written([graph])
        return r.status_code == 201  # the remote store says whether it created the graph

    async def append_graph(self, graph: str, data: bytes, fmt: str) -> bool:
        self._refuse_personal_parsed(data, fmt, graph)
        url, params = self._gsp(graph)
        r = await self._send(
            "POST", url, timeout=300, params=params, content=data, headers={"Content-Type": _BY_OXI[fmt].media_type}
        )
        await self._written([graph])
        return r.status_code == 201

    async def append_dataset(self, data: bytes, fmt: str) -> None:
        quads = dataset_quads(data, fmt)  # refused here, as on the embedded store, before anything is sent
        self._refuse_personal(quads)
        if not self.store_url:
            raise BackendUnavailable("no Graph Store Protocol URL configured (PVPP_REMOTE_STORE_URL)")
        headers = {"Content-Type": _BY_OXI[fmt].media_type}
        await self._send("POST", self.store_url, timeout=300, content=data, headers=headers)
        await self._written(sorted({q.graph_name.value for q in quads}))

    async def delete_graph(self, graph: str) -> None:
        url, params = self._gsp(graph)
        await self._send("DELETE", url, timeout=60, params=params)
        await self._written([graph])

    async def write_graphs(self, graphs: dict[str, bytes], updates: tuple[str, ...] = ()) -> None:
        """One SPARQL Update request (one transaction on Oxigraph, Fuseki, GraphDB): drop, insert, update."""
        operations: list[str] = []
        for name, data in graphs.items():
            operations.append(f"DROP SILENT GRAPH <{name}>")
            if data.strip():
                operations.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{data.decode('utf-8')}\n}} }}")
        # the prefixes go in front: not every server accepts a prologue after ';' (Oxigraph does not)
        prologue = dict.fromkeys(line for u in updates for line in u.splitlines() if line.startswith("PREFIX "))
        bodies = ["\n".join(line for line in u.splitlines() if not line.startswith("PREFIX ")) for u in updates]
        text = "\n".join(prologue) + "\n" + " ;\n".join([*operations, *bodies])
        await self._send("POST", self.update_url, timeout=300, data={"update": text})
        # as in the embedded backend, only the written graphs' index rows are read again (a submission's updates
        # record its provenance and figures, which hold no indexed names)
        await self._written(list(graphs))

    async def graph_counts(self) -> dict[str, int]:
        r = await self._send(
            "POST",
            self.query_url,
            timeout=60,
            data={"query": rq.load("graph-counts")},
            headers={"Accept": formats.JSON.media_type},
        )
        rows = r.json()["results"]["bindings"]
        return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}

    async def text_index(self) -> TextIndex:
        if self.index is None:
            raise BackendUnavailable("text search needs a data directory for its index (PVPP_DATA_DIR)")
        index = self.index
        if index.version() != self._version:
            await anyio.to_thread.run_sync(index.refresh, self._version, lambda: (self._version, self.source))
        return index

    def build_index(self) -> None:
        """Build the text index now (at start-up, in a thread) rather than on the first search."""
        if self.index is not None:
            self.index.refresh(self._version, lambda: (self._version, self.source))

    def close(self) -> None:
        pass
