"""The three systems compared, started as real servers on loopback ports, and one HTTP client for all of them.

Used by ``benchmarks/run.py`` and by the smoke test (``tests/test_bench_smoke.py``), so that the correctness check
and the timings go through exactly the same code path: SPARQL protocol POST ``application/sparql-query``, JSON
results for SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE, a keep-alive client per server.

All three serve the *same* dataset: the pvpp-kg store after loading and materialisation, dumped as N-Quads
(:func:`dump_store`), so differences in answers are differences between engines, not between data.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {
    XSD + t
    for t in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "unsignedInt",
    )
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """One running server: its query URL, process, and how long it took from spawn to first answer."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    start_s: float = 0.0
    log: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def memory_bytes(self) -> tuple[int, int]:
        """(RSS, PSS) of the server and its children (uvicorn workers, query pool), summed.

        RSS counts pages shared between the processes (the Python runtime, pyoxigraph's library) once per
        process; PSS divides each shared page among its sharers, so its sum is the tree's real footprint.
        """
        import psutil

        try:
            proc = psutil.Process(self.process.pid)
            procs = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0, 0
        rss = pss = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                info = p.memory_full_info()
                rss += info.rss
                pss += info.pss
        return rss, pss

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _spawn(cmd: list[str], env: dict[str, str] | None, log: Path | None) -> subprocess.Popen[bytes]:
    out: Any = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(server: Server, timeout: float, started: float) -> Server:
    """Poll with ``ASK {}`` until the server answers; record the start time."""
    deadline = started + timeout
    with httpx.Client(timeout=5) as c:
        while time.perf_counter() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode} (log: {server.log})")
            try:
                r = c.post(
                    server.url,
                    content="ASK {}",
                    headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
                )
                if r.status_code == 200:
                    server.start_s = time.perf_counter() - started
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    server.stop()
    raise TimeoutError(f"{server.name} not ready after {timeout:.0f} s (log: {server.log})")


def start_pvpp(
    data_dir: Path,
    *,
    workers: int = 1,
    log: Path | None = None,
    timeout: float = 120,
    env_extra: dict[str, str] | None = None,
) -> Server:
    port = free_port()
    # no background revalidation: the systems compared must hold the same data (the dump taken before start)
    env = dict(
        os.environ,
        PVPP_DATA_DIR=str(data_dir),
        PVPP_QUERY_TIMEOUT_S="300",
        PVPP_REVALIDATE_ON_START="false",
        **(env_extra or {}),
    )
    started = time.perf_counter()
    proc = _spawn(
        [str(BIN / "pvpp-kg"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)], env, log
    )
    return wait_ready(Server("pvpp-kg", f"http://127.0.0.1:{port}/sparql", proc, log=log), timeout, started)


def load_oxigraph(location: Path, nquads: Path) -> float:
    """``oxigraph load`` the dump; returns seconds."""
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(nquads)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def start_oxigraph(location: Path, *, log: Path | None = None, timeout: float = 60) -> Server:
    port = free_port()
    started = time.perf_counter()
    proc = _spawn(
        [
            str(BIN / "oxigraph"),
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        None,
        log,
    )
    return wait_ready(Server("oxigraph", f"http://127.0.0.1:{port}/query", proc, log=log), timeout, started)


def start_rdflib(nquads: Path, *, log: Path | None = None, timeout: float = 600) -> Server:
    """rdflib-endpoint's own CLI: an rdflib ``Dataset(default_union=True)`` in the default Memory store."""
    port = free_port()
    started = time.perf_counter()
    proc = _spawn(
        [str(BIN / "rdflib-endpoint"), "serve", str(nquads), "--host", "127.0.0.1", "--port", str(port)], None, log
    )
    return wait_ready(Server("rdflib-endpoint", f"http://127.0.0.1:{port}/", proc, log=log), timeout, started)


def dump_store(data_dir: Path, out: Path) -> int:
    """Write the public store's newest snapshot (every named graph) as N-Quads; returns the quad count."""
    public = data_dir / "public"
    version = (public / "CURRENT").read_text().strip()
    store = ox.Store.read_only(str(public / "snapshots" / version))
    store.dump(output=str(out), format=ox.RdfFormat.N_QUADS)
    return len(store)


# -- queries -------------------------------------------------------------------------------------------------

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(query: str) -> str:
    text = "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith("PREFIX") else "" for line in query.splitlines()
    )
    m = _FORM.search(text)
    return m.group(1).upper() if m else "SELECT"


_PARAM = re.compile(r"^#\s*param:\s*(.*)$", re.MULTILINE)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_IRI_FAMILY = {"task-group": "taskgroup"}
_LITERAL_TYPES = {
    "integer": XSD + "integer",
    "decimal": XSD + "decimal",
    "date": XSD + "date",
    "boolean": XSD + "boolean",
}


def _term(kind: str, value: str) -> str:
    if kind in ("string", "language"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "iri":
        return f"<{value}>"
    if kind == "date" and value == "today":
        value = time.strftime("%Y-%m-%d")
    if kind in _LITERAL_TYPES:
        return f'"{value}"^^<{_LITERAL_TYPES[kind]}>'
    return f"<https://w3id.org/pvpp/id/{_IRI_FAMILY.get(kind, kind)}/{value}>"


def bind_defaults(text: str) -> str:
    """A library query with its ``# param:`` defaults bound by a VALUES block at the top of its WHERE group.

    That is how the governance API binds parameters on a remote store; parameters without a default stay unbound
    (optional filters), exactly as a call without them.
    """
    names, terms = [], []
    for spec in _PARAM.findall(text):
        fields = [f.strip() for f in spec.split("|")]
        if len(fields) >= 3 and fields[2]:
            names.append("?" + fields[0])
            terms.append(_term(fields[1], fields[2]))
    if not names:
        return text
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }} "
    m = _WHERE.search(text)
    if m is None:
        raise ValueError("library query without a WHERE {: cannot bind its parameters")
    return text[: m.end()] + block + text[m.end() :]


def load_queries(*directories: tuple[str, Path]) -> dict[str, str]:
    """``label/name -> runnable text`` for every ``*.rq`` (library queries get their default parameters bound)."""
    out: dict[str, str] = {}
    for label, d in directories:
        for p in sorted(d.glob("*.rq")) if d.is_dir() else []:
            out[f"{label}/{p.stem}"] = bind_defaults(p.read_text(encoding="utf-8"))
    return out


def governance_queries() -> dict[str, str]:
    """The library (``queries/``) plus the eight anchor-shaped benchmark queries (``benchmarks/queries/``)."""
    return load_queries(("lib", ROOT / "queries"), ("anchor", ROOT / "benchmarks" / "queries"))


def query_headers(query: str) -> dict[str, str]:
    """POST headers every system understands: graphs as N-Triples, solutions as SPARQL JSON."""
    accept = (
        "application/n-triples" if query_form(query) in ("CONSTRUCT", "DESCRIBE") else "application/sparql-results+json"
    )
    return {"Content-Type": "application/sparql-query", "Accept": accept}


def post_query(client: httpx.Client, url: str, query: str, timeout: float) -> httpx.Response:
    r = client.post(url, content=query.encode("utf-8"), timeout=timeout, headers=query_headers(query))
    r.raise_for_status()
    return r


def _norm_literal(value: str, datatype: str | None, lang: str | None) -> tuple[str, ...]:
    if lang:
        return ("lit", value, lang.lower())
    if datatype in NUMERIC:
        try:
            return ("num", format(Decimal(value).normalize(), "f"))
        except InvalidOperation:
            return ("lit", value, datatype or "")
    if datatype == XSD + "string":
        datatype = None
    return ("lit", value, datatype or "")


def _norm_json_term(t: dict[str, Any] | None) -> tuple[str, ...]:
    if t is None:
        return ("unbound",)
    kind = t["type"]
    if kind == "uri":
        return ("uri", t["value"])
    if kind == "bnode":
        return ("bnode",)
    return _norm_literal(t["value"], t.get("datatype"), t.get("xml:lang"))


def _norm_ox_term(t: Any) -> tuple[str, ...]:
    if isinstance(t, ox.NamedNode):
        return ("uri", t.value)
    if isinstance(t, ox.BlankNode):
        return ("bnode",)
    return _norm_literal(t.value, t.datatype.value if t.datatype else None, t.language)


def normalise(response: httpx.Response, form: str) -> list[tuple[Any, ...]]:
    """Sorted rows of engine-neutral terms: numbers by value, xsd:string = plain literal, blank nodes as one token."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        triples = ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
        return sorted(
            {(_norm_ox_term(t.subject), _norm_ox_term(t.predicate), _norm_ox_term(t.object)) for t in triples}
        )
    data = response.json()
    if "boolean" in data:
        return [(("bool", str(data["boolean"]).lower()),)]
    names = data["head"].get("vars", [])
    return sorted(tuple(_norm_json_term(b.get(v)) for v in names) for b in data["results"]["bindings"])


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[tuple[Server, ...]]:
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()
