"""Point queries side by side: pvpp-kg from this tree, optionally pvpp-kg from another checkout, and Oxigraph
server, on one loaded store, requests alternating between the servers (the host's drift hits them alike).

``python -m benchmarks.probe_point DATA_DIR [--baseline OTHER_CHECKOUT/src] [--rounds 300]``: DATA_DIR is a
pvpp-kg data directory after ``pvpp-kg load-data``; Oxigraph gets a dump of it. Prints each query's median and
its ratio to Oxigraph's. Why: a full ``make bench`` reads ~2 ms queries once per round, too few to tell a
0.1 ms change from the host's spread; this reads them hundreds of times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.systems import (
    Server,
    _spawn,
    dump_store,
    free_port,
    governance_queries,
    load_oxigraph,
    post_query,
    start_oxigraph,
    wait_ready,
)

QUERIES = (
    "anchor/q4-roles-accountable-for-task",
    "anchor/q7-service-card",
    "lib/submission-versions",
    "lib/institution-roles",
    "lib/task-roles",
)


def start(name: str, data_dir: Path, src: Path) -> Server:
    port = free_port()
    env = dict(os.environ, PVPP_DATA_DIR=str(data_dir), PVPP_QUERY_TIMEOUT_S="300", PYTHONPATH=str(src))
    cmd = [sys.executable, "-m", "pvpp_kg", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return wait_ready(Server(name, f"http://127.0.0.1:{port}/sparql", _spawn(cmd, env, None)), 120, time.perf_counter())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.probe_point")
    p.add_argument("data_dir", type=Path)
    p.add_argument("--baseline", type=Path, help="the src/ folder of another pvpp-kg checkout")
    p.add_argument("--rounds", type=int, default=300)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        dump, oxi = Path(work) / "dump.nq", Path(work) / "oxigraph"
        dump_store(args.data_dir, dump)
        load_oxigraph(oxi, dump)
        servers = [start("pvpp-kg", args.data_dir, Path(__file__).resolve().parents[1] / "src")]
        if args.baseline:
            servers.append(start("baseline", args.data_dir, args.baseline))
        servers.append(start_oxigraph(oxi))
        queries = governance_queries()
        try:
            client = httpx.Client()
            for s in servers:  # warm: the store's pages and each server's caches
                for name in QUERIES:
                    for _ in range(30):
                        post_query(client, s.url, queries[name], 60)
            for name in QUERIES:
                times: dict[str, list[float]] = {s.name: [] for s in servers}
                for i in range(args.rounds):
                    for s in servers[i % len(servers) :] + servers[: i % len(servers)]:
                        t0 = time.perf_counter()
                        post_query(client, s.url, queries[name], 60)
                        times[s.name].append(time.perf_counter() - t0)
                med = {k: statistics.median(v) * 1000 for k, v in times.items()}
                cells = [f"{k} {v:.3f} ms ({v / med['oxigraph']:.2f}x)" for k, v in med.items() if k != "oxigraph"]
                print(f"{name:40s} " + "  ".join(cells) + f"  oxigraph {med['oxigraph']:.3f} ms")
        finally:
            for s in servers:
                s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
