"""Remote mode: the same backend interface over any SPARQL 1.1 Query/Update + Graph Store Protocol server.

Tested against Oxigraph server. The remote's default graph must be the union of its named graphs
(Oxigraph: ``union-default-graph`` parameter, which this backend sends; Fuseki: ``tdb2:unionDefaultGraph``).
"""

from __future__ import annotations

import re

import httpx

from pvpp_kg import formats, rq
from pvpp_kg.errors import BackendUnavailable, BadRequest, NotFound, QuerySyntaxError, QueryTimeout
from pvpp_kg.store.backend import Dataset, Substitution
from pvpp_kg.store.query_text import _NOISE, inspect
from pvpp_kg.store.querypool import QueryOutput

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
    masked = _NOISE.sub(lambda m: " " * len(m.group(0)), query)
    for i, ch in enumerate(masked):
        if ch == "{":
            if depth == 0:
                groups += 1
                template = is_construct and groups == 1 and not re.search(r"WHERE\s*$", masked[:i], re.I)
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


class RemoteBackend:
    def __init__(self, query_url: str, update_url: str | None, store_url: str | None) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self.client = httpx.AsyncClient()
        self._version = 0

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

    async def update(self, update: str, *, timeout: float) -> None:
        await self._send("POST", self.update_url, timeout=timeout, data={"update": update})
        self._version += 1

    def _gsp(self, graph: str | None) -> tuple[str, dict[str, str]]:
        if not self.store_url:
            raise BackendUnavailable("no Graph Store Protocol URL configured (PVPP_REMOTE_STORE_URL)")
        return self.store_url, ({"graph": graph} if graph else {"default": ""})

    async def graph(self, graph: str | None, fmt: str) -> bytes:
        url, params = self._gsp(graph)
        r = await self._send("GET", url, timeout=60, params=params, headers={"Accept": _BY_OXI[fmt].media_type})
        return r.content

    async def replace_graph(self, graph: str, data: bytes, fmt: str) -> None:
        url, params = self._gsp(graph)
        await self._send(
            "PUT", url, timeout=300, params=params, content=data, headers={"Content-Type": _BY_OXI[fmt].media_type}
        )
        self._version += 1

    async def append_graph(self, graph: str, data: bytes, fmt: str) -> None:
        url, params = self._gsp(graph)
        await self._send(
            "POST", url, timeout=300, params=params, content=data, headers={"Content-Type": _BY_OXI[fmt].media_type}
        )
        self._version += 1

    async def delete_graph(self, graph: str) -> None:
        url, params = self._gsp(graph)
        await self._send("DELETE", url, timeout=60, params=params)
        self._version += 1

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
        await self.update("\n".join(prologue) + "\n" + " ;\n".join([*operations, *bodies]), timeout=300)

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

    def close(self) -> None:
        pass
