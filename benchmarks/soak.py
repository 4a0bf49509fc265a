"""Hostile soak (issue 25): 32 clients mix point queries, heavy aggregates, pages and library queries for 60 s
while a hostile request (deep nesting, an XLSX zip bomb, SERVICE to a local listener, a billion-laughs upload, a
validation that crashes the validation process — the server runs with the test hook ``PVPP_VALIDATION_CRASH_MARKER``,
which makes the process abort as a native crash would) arrives every second. Legitimate requests must all
succeed; the point-query p99 goes to ``benchmarks/README.md``.

    python -m benchmarks.soak [DATA_DIR] [--clients 32] [--seconds 60]

DATA_DIR is a loaded store (e.g. the national preset after ``pvpp-kg load-data``); without it, a fresh store of
the project's own data and sample is built in a temporary directory.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import socket
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

from benchmarks.run import machine, percentile
from benchmarks.systems import start_pvpp

POINT = "SELECT ?p ?o WHERE {{ <https://w3id.org/pvpp/id/role/{role}> ?p ?o }}"
ROLES = ["IPKS", "IRKS", "PS", "RS", "PT", "RT"]
HEAVY = (
    "PREFIX pvpp: <https://w3id.org/pvpp/ontology#> SELECT ?owner (COUNT(?s) AS ?n) "
    "WHERE { ?s a pvpp:Service ; pvpp:owner ?owner } GROUP BY ?owner ORDER BY DESC(?n) LIMIT 20"
)
CRASH = "urn:x-pvpp-soak:crash"  # the validation process aborts on a document holding it
PAGES = ["/", "/id/role/IPKS", "/id/task/PU2-21", "/ontology", "/validate"]
LIBRARY = [
    "/api/queries/role-responsibility-counts",
    "/api/queries/responsibility-matrix",
    "/api/queries/task-roles?task=PU2-21",
]
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [ <!ENTITY a "ha"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"> ]>'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="urn:a"/></rdf:RDF>'
)


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * 80_000_000)
    return out.getvalue()


def _listener() -> tuple[socket.socket, list[object]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    accepted: list[object] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(sock.accept())
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return sock, accepted


def soak(base: str, clients: int, seconds: float) -> dict[str, Any]:
    sock, accepted = _listener()
    remote = f"http://127.0.0.1:{sock.getsockname()[1]}/x"
    bomb = _bomb()
    hostile = [
        ("nesting", lambda c: c.post(base + "/sparql", data={"query": "SELECT * WHERE " + "{" * 20000 + "}" * 20000})),
        (
            "service",
            lambda c: c.get(base + "/sparql", params={"query": f"SELECT * {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}"}),
        ),
        (
            "xlsx-bomb",
            lambda c: c.post(
                base + "/validate",
                content=bomb,
                headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
            ),
        ),
        (
            "laughs",
            lambda c: c.post(base + "/validate", content=LAUGHS, headers={"Content-Type": "application/rdf+xml"}),
        ),
        (
            "validation-crash",
            lambda c: c.post(
                base + "/validate",
                content=f'<{CRASH}> <{CRASH}> "x" .'.encode(),
                headers={"Content-Type": "text/turtle"},
            ),
        ),
    ]
    kinds = itertools.cycle(["point", "point", "point", "heavy", "page", "library"])
    lock = threading.Lock()
    times: dict[str, list[float]] = {"point": [], "heavy": [], "page": [], "library": []}
    failures: list[str] = []
    refused: dict[str, int] = {}
    stop = time.perf_counter() + seconds

    def legit(index: int) -> None:
        with httpx.Client(timeout=120) as c:
            n = index
            while time.perf_counter() < stop:
                with lock:
                    kind = next(kinds)
                n += 1
                t0 = time.perf_counter()
                try:
                    if kind == "point":
                        r = c.get(
                            base + "/sparql",
                            params={"query": POINT.format(role=ROLES[n % len(ROLES)])},
                            headers={"Accept": "application/sparql-results+json"},
                        )
                    elif kind == "heavy":
                        r = c.get(base + "/sparql", params={"query": HEAVY}, headers={"Accept": "text/csv"})
                    elif kind == "page":
                        r = c.get(base + PAGES[n % len(PAGES)], headers={"Accept": "text/html"})
                    else:
                        r = c.get(base + LIBRARY[n % len(LIBRARY)], headers={"Accept": "application/json"})
                    ok = r.status_code == 200
                    detail = f"{kind} {r.status_code} {r.text[:120]!r}"
                except httpx.HTTPError as e:
                    ok, detail = False, f"{kind} {type(e).__name__}"
                with lock:
                    (times[kind] if ok else failures).append(time.perf_counter() - t0 if ok else detail)  # type: ignore[arg-type]

    def attacker() -> None:
        with httpx.Client(timeout=120) as c:
            for name, send in itertools.cycle(hostile):
                if time.perf_counter() >= stop:
                    return
                t0 = time.perf_counter()
                try:
                    status = send(c).status_code
                except httpx.HTTPError as e:
                    status = type(e).__name__
                with lock:
                    key = f"{name}:{status}"
                    refused[key] = refused.get(key, 0) + 1
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))

    threads = [threading.Thread(target=legit, args=(i,)) for i in range(clients)]
    threads.append(threading.Thread(target=attacker))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sock.close()
    point = times["point"]
    return {
        "clients": clients,
        "seconds": seconds,
        "legitimate": {k: len(v) for k, v in times.items()},
        "failed_legitimate": len(failures),
        "failures_sample": failures[:10],
        "hostile": refused,
        "connections_to_listener": len(accepted),
        "point_p50_ms": round(percentile(point, 0.50) * 1000, 1) if point else None,
        "point_p99_ms": round(percentile(point, 0.99) * 1000, 1) if point else None,
        "heavy_p50_ms": round(percentile(times["heavy"], 0.50) * 1000, 1) if times["heavy"] else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", nargs="?", type=Path)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/soak.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "var"
        server = start_pvpp(
            data_dir, log=Path(tmp) / "server.log", timeout=600, env_extra={"PVPP_VALIDATION_CRASH_MARKER": CRASH}
        )
        try:
            result = soak(server.url.removesuffix("/sparql"), args.clients, args.seconds)
        finally:
            server.stop()
    result["data"] = str(args.data_dir or "project data + sample")
    result["machine"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    return 0 if result["failed_legitimate"] == 0 and result["connections_to_listener"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
