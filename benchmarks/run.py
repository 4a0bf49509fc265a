"""``make bench``: pvpp-kg against rdflib-endpoint and Oxigraph server on the same national-scale dataset.

Steps (each timed; see ``benchmarks/README.md`` for the last results):
1. ``pvpp-kg generate`` the preset (default ``national``, 1 % violations so the "find the problems" queries
   have rows), ``pvpp-kg load-data`` it into a fresh embedded store, dump the store (after materialisation) as
   N-Quads, ``oxigraph load`` the dump; rdflib-endpoint parses the dump when it starts; then load the preset
   scaled to the load target's 1.1 M triples three times (``--load-scale``, ``--load-runs``);
2. start the three servers on free loopback ports (start = spawn to first answer), sample their RSS all along;
3. run every governance query (``queries/*.rq`` with default parameters + ``benchmarks/queries/*.rq``) over HTTP,
   servers alternating query by query; rdflib-endpoint gets ``--timeout`` (120 s) per query, is restarted after a
   timeout (its event loop stays busy with the abandoned query) and runs slow queries fewer times;
4. throughput of a point and a heavy query at 1, 8 and 32 concurrent keep-alive clients (the systems side by side
   at each client count), and the latency of point lookups while 8 clients run the heavy query;
5. validation of a 1,000-service submission with :mod:`pvpp_kg.validation` (parse + validate);
6. the hostile soak (``benchmarks/soak.py``) and the search benchmark (``benchmarks/search.py``);
7. write ``benchmarks/results/<preset>-<timestamp>.json`` and ``latest.json``, ``benchmarks/results/queries.png``
   and the summary table between the markers in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from benchmarks.systems import (
    BIN,
    ROOT,
    Server,
    dump_store,
    governance_queries,
    load_oxigraph,
    normalise,
    portable_queries,
    post_query,
    query_for,
    query_form,
    query_headers,
    start_oxigraph,
    start_pvpp,
    start_rdflib,
)

RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "benchmarks" / "README.md"
POINT_QUERY = "anchor/q7-service-card"
HEAVY_QUERY = "anchor/q1-services-per-kind-and-institution-type"
HEAVY_CLIENTS = 8  # point lookups are timed while this many clients run the heavy query
MARK_BEGIN, MARK_END = "<!-- results:begin -->", "<!-- results:end -->"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def machine() -> dict[str, Any]:
    import psutil

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command to completion; wall seconds and the peak RSS of its process tree (sampled every 50 ms)."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return time.perf_counter() - started, peak


class RssSampler(threading.Thread):
    """Peak RSS and peak PSS (summed over its process tree) of each running server, sampled every 200 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.servers: dict[str, Server] = {}
        self.peak: dict[str, int] = {}
        self.peak_pss: dict[str, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            for name, server in list(self.servers.items()):
                rss, pss = server.memory_bytes()
                self.peak[name] = max(self.peak.get(name, 0), rss)
                self.peak_pss[name] = max(self.peak_pss.get(name, 0), pss)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(times: list[float]) -> dict[str, float]:
    return {
        "median_s": statistics.median(times),
        "p95_s": percentile(times, 0.95),
        "min_s": min(times),
        "max_s": max(times),
        "runs": len(times),
    }


# -- throughput ---------------------------------------------------------------------------------------------


def throughput(url: str, query: str, clients: int, seconds: float) -> dict[str, float]:
    """Requests per second with ``clients`` threads, each on its own keep-alive connection (http.client: cheap)."""
    parts = urlsplit(url)
    body = query.encode()
    headers = query_headers(query)
    counts, errors = [0] * clients, [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        while time.perf_counter() < deadline:
            try:
                conn.request("POST", parts.path or "/", body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": sum(counts),
        "errors": sum(errors),
        "seconds": elapsed,
        "req_per_s": sum(counts) / elapsed,
    }


def point_under_load(url: str, point: str, heavy: str, heavy_clients: int, seconds: float) -> dict[str, float]:
    """Latency of one client's point lookups while ``heavy_clients`` keep heavy queries running.

    Why: a researcher's lookup should not wait for someone else's aggregate, as it does behind a server that
    queues queries for a few slots; Oxigraph server time-slices a thread per request.
    """
    parts = urlsplit(url)
    loaded: dict[str, float] = {}
    load = threading.Thread(target=lambda: loaded.update(throughput(url, heavy, heavy_clients, seconds)))
    load.start()
    time.sleep(1.0)  # the heavy queries are running
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    headers = query_headers(point)
    times: list[float] = []
    deadline = time.perf_counter() + seconds - 2.0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        conn.request("POST", parts.path or "/", body=point.encode(), headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"point query answered {r.status} under load")
        times.append(time.perf_counter() - started)
    conn.close()
    load.join()
    return {
        "heavy_clients": heavy_clients,
        "heavy_req_per_s": loaded["req_per_s"],
        "point_requests": len(times),
        "point_p50_s": percentile(times, 0.5),
        "point_p95_s": percentile(times, 0.95),
    }


# -- validation ---------------------------------------------------------------------------------------------


def submission(nq: Path, out: Path, services: int = 1000) -> int:
    """The first institution graphs of the dataset holding ``services`` services, as one N-Triples document."""
    lines: list[str] = []
    count, current = 0, ""
    svc_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    with nq.open(encoding="utf-8") as fh:
        for line in fh:
            cut = line.rindex("<")
            g = line[cut:]
            if "/graph/institution/" not in g:
                continue
            if g != current:
                if count >= services:
                    break
                current = g
            subject, predicate, obj = line.split(" ", 2)
            if (
                predicate == svc_type
                and "/id/service/" in subject
                and obj.split("#")[-1].startswith(
                    ("IndividualBenefit", "GeneralBenefit", "IndividualUse", "SharedService")
                )
            ):
                count += 1
            lines.append(line[:cut].rstrip() + " .\n")
    out.write_text("".join(lines), encoding="utf-8")
    return count


def one_institution(source: Path, key: str, out: Path) -> int:
    """``submission``'s document (the graphs of several institutions) made one that institution ``key`` may submit
    over the dataset it came from: the other institutions' services, posts, resources and SLAs renamed into
    ``key``'s namespaces (``service/{key}/{other}-s-1``, identifiers likewise), owners made ``key``, and the
    statements about other institutions, people, recipient groups, needs and life situations (described in the
    store by the graphs they come from; the submission layer refuses them) left out. Returns its triple count."""
    own = re.compile(r"^(https://w3id\.org/pvpp/id/)(service|post|resource|sla)/([^/]+)/(.+)$")
    dropped = re.compile(r"^https://w3id\.org/pvpp/id/(person|recipient-group|need|life-situation|institution)/")
    triples = list(ox.parse(path=source, format=ox.RdfFormat.N_TRIPLES))
    institution = ox.NamedNode(f"https://w3id.org/pvpp/id/institution/{key}")
    owners = {"https://w3id.org/pvpp/ontology#owner", "https://w3id.org/pvpp/ontology#resourceOwner"}

    def renamed(term: Any) -> Any:
        if not isinstance(term, ox.NamedNode):
            return term
        m = own.match(term.value)
        if m and m[3] != key:
            return ox.NamedNode(f"{m[1]}{m[2]}/{key}/{m[3]}-{m[4]}")
        return term

    lines = []
    for t in triples:
        s = t.subject.value if isinstance(t.subject, ox.NamedNode) else ""
        if dropped.match(s) and s != institution.value:
            continue
        o = t.object
        if t.predicate.value in owners:
            o = institution
        elif t.predicate.value == "http://purl.org/dc/terms/identifier" and renamed(t.subject) != t.subject:
            o = ox.Literal(f"{key}/{o.value}")
        else:
            o = renamed(o)
        lines.append(f"{renamed(t.subject)} {t.predicate} {o} .\n")
    out.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def api_timing(base: str, calls: int) -> dict[str, Any]:
    """Each library query through ``/api/queries/{name}`` (default parameters): the first call, whose result
    cache is empty (the store's pages are warm from the SPARQL rounds), and the median of ``calls`` repeats
    with no write in between (answered from the per-data-version cache of whichever server worker answers)."""
    out: dict[str, Any] = {}
    with httpx.Client(timeout=600) as client:
        for p in sorted((ROOT / "queries").glob("*.rq")):
            url = f"{base}/api/queries/{p.stem}"
            t0 = time.perf_counter()
            r = client.get(url, headers={"Accept": "application/sparql-results+json"})
            first = time.perf_counter() - t0
            r.raise_for_status()
            repeats = []
            for _ in range(calls):
                t0 = time.perf_counter()
                client.get(url, headers={"Accept": "application/sparql-results+json"}).raise_for_status()
                repeats.append(time.perf_counter() - t0)
            out[p.stem] = {"first_s": first, "repeat_p50_s": statistics.median(repeats), "repeat_max_s": max(repeats)}
    return out


def validation_timing(nq: Path, work: Path, pyshacl_timeout: float) -> dict[str, Any]:
    """Validation side by side, each in a fresh process: the 1,000-service submission (pvpp-kg's product path, its
    engine alone, pyshacl, pyshacl-turbo, pyshacl over the whole graph) and the whole stored graph in place."""
    from benchmarks import validation

    path = work / "submission-1000.nt"
    out: dict[str, Any] = {"services": submission(nq, path)}
    out.update(validation.suite(nq, work / "pvpp", path, pyshacl_timeout))
    out["pyshacl-full-graph"] = validation.child(["pyshacl", str(path), str(nq)], pyshacl_timeout)
    return out


# -- the run ------------------------------------------------------------------------------------------------


def generate_dataset(out: Path, preset: str, seed: int, violations: float, scale: float = 1.0) -> float:
    """``pvpp-kg generate`` into ``out``; returns seconds."""
    seconds, _ = run_measured(
        [
            str(BIN / "pvpp-kg"),
            "generate",
            "--preset",
            preset,
            "--seed",
            str(seed),
            "--scale",
            str(scale),
            "--violations",
            str(violations),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    return seconds


def load_dataset(data_dir: Path, nq: Path) -> tuple[float, int]:
    """``pvpp-kg load-data`` of ``nq`` into a fresh store in ``data_dir`` (no sample data): seconds, peak RSS."""
    shutil.rmtree(data_dir, ignore_errors=True)
    env = dict(os.environ, PVPP_DATA_DIR=str(data_dir), PVPP_INCLUDE_SAMPLE="false")
    return run_measured([str(BIN / "pvpp-kg"), "load-data", "--quiet", str(nq)], env)


def count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f)


def load_at_scale(work: Path, preset: str, seed: int, violations: float, scale: float, runs: int) -> dict[str, Any]:
    """``pvpp-kg load-data`` of a scaled preset into a fresh store ``runs`` times, and ``oxigraph load`` of what
    it stored. Why: issue 7's load target names 1.1 M triples (the anchors' graph), while the national preset
    stores 2.06 M once materialised; and one timed load cannot tell a 2 s change from this host's spread."""
    work.mkdir(parents=True, exist_ok=True)
    nq = work / f"{preset}-x{scale:g}.nq"
    generate_dataset(nq, preset, seed, violations, scale)
    loads = [load_dataset(work / "pvpp", nq) for _ in range(runs)]
    seconds = [s for s, _ in loads]
    dump = work / "dump.nq"
    triples = dump_store(work / "pvpp", dump)
    oxigraph_s = load_oxigraph(work / "oxigraph", dump)
    return {
        "scale": scale,
        "generated_quads": count_lines(nq),
        "triples": triples,
        "runs_s": seconds,
        "median_s": statistics.median(seconds),
        "peak_rss_mib": max(rss for _, rss in loads) / 2**20,
        "oxigraph_s": oxigraph_s,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict[str, Any] = {
        "machine": machine(),
        "preset": args.preset,
        "seed": args.seed,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load": {},
        "start": {},
        "rss_peak_mib": {},
        "queries": {},
        "throughput": {},
        "notes": [],
    }
    nq = work / f"{args.preset}.nq"
    log(f"generate {args.preset}")
    result["generate_s"] = generate_dataset(nq, args.preset, args.seed, args.violations)
    log("pvpp-kg load-data")
    load_s, load_rss = load_dataset(work / "pvpp", nq)
    result["load"]["pvpp-kg"] = {
        "seconds": load_s,
        "peak_rss_mib": load_rss / 2**20,
        "what": "base sources + dataset bulk load + materialisation",
    }
    dump = work / "dump.nq"
    result["triples"] = dump_store(work / "pvpp", dump)
    result["generated_quads"] = count_lines(nq)
    log(f"{result['triples']:,} triples after materialisation; oxigraph load")
    result["load"]["oxigraph"] = {
        "seconds": load_oxigraph(work / "oxigraph", dump),
        "what": "oxigraph load of the dump",
    }
    if args.load_runs:
        log(f"load at the target's size: preset {args.preset} scaled {args.load_scale:g}, {args.load_runs} runs")
        result["load_target"] = load_at_scale(
            work / "scaled", args.preset, args.seed, args.violations, args.load_scale, args.load_runs
        )

    sampler = RssSampler()
    sampler.start()
    servers: dict[str, Server] = {}
    try:
        log("start servers")
        servers["pvpp-kg"] = start_pvpp(
            work / "pvpp", workers=args.workers, log=work / "pvpp.log", env_extra={"PVPP_INCLUDE_SAMPLE": "false"}
        )
        servers["oxigraph"] = start_oxigraph(work / "oxigraph", log=work / "oxigraph.log")
        if not args.skip_rdflib:
            servers["rdflib-endpoint"] = start_rdflib(dump, log=work / "rdflib.log", timeout=900)
            result["load"]["rdflib-endpoint"] = {
                "seconds": servers["rdflib-endpoint"].start_s,
                "what": "parse at start (included in its start time)",
            }
        for name, s in servers.items():
            result["start"][name] = s.start_s
            sampler.servers[name] = s
        result["queries"] = run_queries(args, servers, sampler, work)
        log("governance API (result cache)")
        result["api"] = api_timing(servers["pvpp-kg"].url.rsplit("/sparql", 1)[0], args.api_calls)
        log("throughput")
        queries = governance_queries()
        concurrent = [s for s in servers if s != "rdflib-endpoint"]  # one event loop: it serves one at a time
        for label, qname, systems in (("point", POINT_QUERY, list(servers)), ("heavy", HEAVY_QUERY, concurrent)):
            for clients in (1, 8, 32):  # systems side by side at each client count: the host's speed drifts
                for system in systems:
                    key = f"{label}/{system}/{clients}"
                    result["throughput"][key] = throughput(
                        servers[system].url, queries[qname], clients, args.throughput_seconds
                    )
                    log(f"  {key}: {result['throughput'][key]['req_per_s']:.1f} req/s")
        log("point lookups while heavy queries run")
        for system in concurrent:
            result.setdefault("point_under_load", {})[system] = point_under_load(
                servers[system].url,
                queries[POINT_QUERY],
                queries[HEAVY_QUERY],
                HEAVY_CLIENTS,
                2 * args.throughput_seconds,
            )
        for name, s in servers.items():
            result.setdefault("rss_serving_mib", {})[name] = s.memory_bytes()[0] / 2**20
    finally:
        sampler.stopped.set()
        for s in servers.values():
            s.stop()
    result["rss_peak_mib"] = {k: v / 2**20 for k, v in sampler.peak.items()}
    result["pss_peak_mib"] = {k: v / 2**20 for k, v in sampler.peak_pss.items()}
    log("validation")
    try:
        result["validation"] = validation_timing(nq, work, args.pyshacl_timeout)
    except Exception as e:  # a missing or changed validation module must not lose the rest of the run
        result["validation"] = {"error": repr(e)}
    log("submission flow (1,000-service XLSX, preview diff)")
    out_sub = ROOT / "benchmarks" / "results" / "submission.json"
    try:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.submission", "--out", str(out_sub)],
            cwd=ROOT,
            timeout=900,
            check=True,
            capture_output=True,
        )
        result["submission"] = json.loads(out_sub.read_text())
    except Exception as e:  # noqa: BLE001 - a failed timing must not lose the rest of the run
        result["submission"] = {"error": repr(e)}
    log("hostile soak (32 clients, 60 s)")
    from benchmarks import soak

    out = ROOT / "benchmarks" / "results" / "soak.json"
    soak.main([str(work / "pvpp"), "--out", str(out)])
    result["soak"] = json.loads(out.read_text())
    log("search (index build, /api/search, suggestions, SPARQL search vs CONTAINS)")
    from benchmarks import search

    out = ROOT / "benchmarks" / "results" / "search.json"
    search.main([str(work / "pvpp"), "--out", str(out)])
    result["search"] = json.loads(out.read_text())
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def run_queries(
    args: argparse.Namespace, servers: dict[str, Server], sampler: RssSampler, work: Path
) -> dict[str, Any]:
    queries = governance_queries()
    portable = portable_queries()
    times: dict[str, dict[str, list[float]]] = {q: {s: [] for s in servers} for q in queries}
    rows: dict[str, dict[str, int]] = {q: {} for q in queries}
    status: dict[str, dict[str, str]] = {q: {} for q in queries}
    answers: dict[str, dict[str, str]] = {q: {} for q in queries}  # sha256 of the normalised answer
    clients = {s: httpx.Client() for s in servers}
    try:
        for run_no in range(args.runs):
            log(f"query round {run_no + 1}/{args.runs}")
            order = list(servers)[run_no % len(servers) :] + list(servers)[: run_no % len(servers)]
            for qname in queries:
                for system in order:
                    text = query_for(system, qname, queries, portable)
                    if status[qname].get(system) in ("timeout", "error"):
                        continue
                    done = len(times[qname][system])
                    if (
                        system == "rdflib-endpoint"
                        and done >= args.rdflib_slow_runs
                        and statistics.median(times[qname][system]) > 5
                    ):
                        continue
                    timeout = args.timeout if system == "rdflib-endpoint" else 600
                    t0 = time.perf_counter()
                    try:
                        r = post_query(clients[system], servers[system].url, text, timeout=timeout)
                        elapsed = time.perf_counter() - t0
                        times[qname][system].append(elapsed)
                        answer = normalise(r, query_form(text))
                        rows[qname][system] = len(answer)
                        answers[qname].setdefault(system, hashlib.sha256(repr(answer).encode()).hexdigest())
                        status[qname][system] = "ok"
                    except httpx.TimeoutException:
                        status[qname][system] = "timeout"
                        log(f"  {system} timed out on {qname} after {timeout:.0f} s; restarting it")
                        servers[system].stop()
                        dump = work / "dump.nq"
                        servers[system] = start_rdflib(dump, log=work / "rdflib.log", timeout=900)
                        sampler.servers[system] = servers[system]
                        clients[system].close()
                        clients[system] = httpx.Client()
                    except httpx.HTTPError as e:
                        status[qname][system] = "error"
                        log(f"  {system} failed on {qname}: {e}")
    finally:
        for c in clients.values():
            c.close()
    out: dict[str, Any] = {}
    for qname in queries:
        entry: dict[str, Any] = {}
        for system in servers:
            t = times[qname][system]
            entry[system] = {
                "status": status[qname].get(system, "skipped"),
                "rows": rows[qname].get(system),
                **(summarise(t) if t else {}),
            }
            if system != "oxigraph" and system in answers[qname] and "oxigraph" in answers[qname]:
                # the same answer as Oxigraph server (terms normalised: numbers by value, blank nodes as one)
                entry[system]["same_answer_as_oxigraph"] = answers[qname][system] == answers[qname]["oxigraph"]
        out[qname] = entry
    return out


# -- reporting ----------------------------------------------------------------------------------------------


def ratios(result: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """pvpp-kg's median divided by each peer's (below 1 = pvpp-kg faster); None where the peer did not finish."""
    out: dict[str, dict[str, float | None]] = {}
    for qname, entry in result["queries"].items():
        mine = entry.get("pvpp-kg", {}).get("median_s")
        out[qname] = {}
        for peer in ("oxigraph", "rdflib-endpoint"):
            theirs = entry.get(peer, {}).get("median_s")
            out[qname][peer] = (mine / theirs) if mine and theirs else None
    return out


def rdflib_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The targets against rdflib-endpoint: speed-ups only where both gave Oxigraph's answer."""
    agreeing, wrong, timeouts = {}, [], {}
    for qname, entry in result["queries"].items():
        mine, theirs = entry.get("pvpp-kg", {}), entry.get("rdflib-endpoint", {})
        if theirs.get("status") == "timeout":
            timeouts[qname] = mine.get("median_s")
        elif theirs.get("same_answer_as_oxigraph") is False:
            wrong.append(qname)
        elif mine.get("median_s") and theirs.get("median_s") and mine.get("same_answer_as_oxigraph"):
            agreeing[qname] = theirs["median_s"] / mine["median_s"]
    if not agreeing:
        return {}
    # a timed-out query took at least the timeout: counted so, the mean is a lower bound over all queries
    bounded = [*agreeing.values(), *(result["timeout"] / t for t in timeouts.values() if t)]
    return {
        "speedup_geomean": statistics.geometric_mean(agreeing.values()),
        "speedup_min": min(agreeing.values()),
        "speedup_geomean_with_timeouts_at_least": statistics.geometric_mean(bounded),
        "slowest_relative": min(agreeing, key=agreeing.__getitem__),
        "compared": len(agreeing),
        "rdflib_wrong_answers": wrong,
        "rdflib_timeouts_pvpp_median_s": timeouts,
    }


def fmt_s(entry: dict[str, Any], timeout: float) -> str:
    if entry.get("status") == "timeout":
        return f"timeout > {timeout:.0f} s"
    if "median_s" not in entry:
        return entry.get("status", "—")
    med, p95 = entry["median_s"], entry["p95_s"]
    return f"{med * 1000:.1f} / {p95 * 1000:.1f} ms" if med < 1 else f"{med:.2f} / {p95:.2f} s"


def table(result: dict[str, Any], timeout: float) -> str:
    systems = [s for s in ("pvpp-kg", "oxigraph", "rdflib-endpoint") if s in result["start"]]
    r = ratios(result)
    lines = [
        "| query | " + " | ".join(f"{s} median / p95" for s in systems) + " | pvpp/oxigraph | pvpp/rdflib |",
        "|---|" + "---|" * (len(systems) + 2),
    ]
    for qname, entry in result["queries"].items():
        cells = [
            fmt_s(entry.get(s, {}), timeout)
            + (" (≠ answer)" if entry.get(s, {}).get("same_answer_as_oxigraph") is False else "")
            for s in systems
        ]
        cells += [f"{x:.3g}×" if x else "—" for x in (r[qname]["oxigraph"], r[qname]["rdflib-endpoint"])]
        lines.append(f"| {qname} | " + " | ".join(cells) + " |")
    m = result["machine"]
    head = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, Python {m['python']}; "
        f"load average at start {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])} (shared machine).",
        f"Dataset: preset `{result['preset']}` seed {result['seed']}: "
        f"{result['generated_quads']:,} generated quads, "
        f"{result['triples']:,} triples after materialisation. Run {result['started']} → {result['finished']}.",
        "",
    ]
    load = [
        "- load: " + "; ".join(f"{k} {v['seconds']:.1f} s ({v['what']})" for k, v in result["load"].items()),
        *(
            [
                f"- load at issue 7's target size: preset `{result['preset']}` scaled {lt['scale']:g} "
                f"({lt['generated_quads']:,} generated quads, {lt['triples']:,} triples stored): pvpp-kg load-data "
                f"median {lt['median_s']:.1f} s (runs {', '.join(f'{x:.1f}' for x in lt['runs_s'])}; peak RSS "
                f"{lt['peak_rss_mib']:.0f} MiB), oxigraph load of what it stored {lt['oxigraph_s']:.1f} s"
            ]
            if (lt := result.get("load_target"))
            else []
        ),
        "- start to first answer: " + "; ".join(f"{k} {v:.2f} s" for k, v in result["start"].items()),
        "- peak memory while serving (process tree, summed): "
        + "; ".join(
            f"{k} RSS {v:.0f} MiB / PSS {result.get('pss_peak_mib', {}).get(k, float('nan')):.0f} MiB"
            for k, v in result["rss_peak_mib"].items()
        ),
    ]
    api = result.get("api", {})
    if api:
        slow_first = max(api, key=lambda k: api[k]["first_s"])
        slow_repeat = max(api, key=lambda k: api[k]["repeat_p50_s"])
        load.append(
            f"- governance API (`/api/queries/…`, {len(api)} queries): first call at most "
            f"{api[slow_first]['first_s']:.2f} s ({slow_first}); repeated calls p50 at most "
            f"{api[slow_repeat]['repeat_p50_s'] * 1000:.1f} ms ({slow_repeat})"
        )
    rs = rdflib_summary(result)
    if rs:
        load.append(
            f"- vs rdflib-endpoint on the {rs['compared']} queries where both gave Oxigraph's answer: "
            f"pvpp-kg {rs['speedup_geomean']:.1f}× faster (geometric mean; at least "
            f"{rs['speedup_geomean_with_timeouts_at_least']:.1f}× with its timeouts counted as "
            f"{result['timeout']:.0f} s), at least "
            f"{rs['speedup_min']:.2f}× ({rs['slowest_relative']}); rdflib-endpoint answered differently on "
            f"{len(rs['rdflib_wrong_answers'])} ({', '.join(rs['rdflib_wrong_answers']) or 'none'}); "
            f"it timed out on {len(rs['rdflib_timeouts_pvpp_median_s'])}, which pvpp-kg answers in at most "
            f"{max(rs['rdflib_timeouts_pvpp_median_s'].values(), default=0):.2f} s"
        )
    for system, m in result.get("point_under_load", {}).items():
        load.append(
            f"- point lookup ({POINT_QUERY}) while {m['heavy_clients']} clients run {HEAVY_QUERY}: {system} "
            f"p50 {m['point_p50_s'] * 1000:.1f} ms, p95 {m['point_p95_s'] * 1000:.1f} ms "
            f"({m['point_requests']} lookups; heavy {m['heavy_req_per_s']:.2f} req/s meanwhile)"
        )
    tp = ["", "| throughput (req/s) | 1 client | 8 clients | 32 clients |", "|---|---|---|---|"]
    keys = sorted({k.rsplit("/", 1)[0] for k in result["throughput"]})
    for k in keys:
        cells = [f"{result['throughput'].get(f'{k}/{c}', {}).get('req_per_s', 0):.1f}" for c in (1, 8, 32)]
        tp.append(f"| {k} | " + " | ".join(cells) + " |")
    from benchmarks import submission, validation

    val = validation.lines(result.get("validation", {})) + submission.lines(result.get("submission", {}))
    return "\n".join(head + lines + [""] + load + val + tp)


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["queries"])
    systems = [s for s in ("pvpp-kg", "oxigraph", "rdflib-endpoint") if s in result["start"]]
    fig, ax = plt.subplots(figsize=(12, max(4, 0.35 * len(names))))
    height = 0.8 / len(systems)
    for i, s in enumerate(systems):
        vals = []
        for q in names:
            e = result["queries"][q].get(s, {})
            vals.append(e.get("median_s") or (result.get("timeout", 120) if e.get("status") == "timeout" else 0))
        ax.barh([n + i * height for n in range(len(names))], vals, height=height, label=s)
    ax.set_yticks([n + 0.4 - height / 2 for n in range(len(names))], names, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("median seconds (log; timeouts drawn at the timeout)")
    ax.set_title(f"pvpp-kg vs Oxigraph server vs rdflib-endpoint — {result['preset']}, {result['triples']:,} triples")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_readme(result: dict[str, Any], timeout: float) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else f"# Benchmarks\n\n{MARK_BEGIN}\n{MARK_END}\n"
    if MARK_BEGIN not in text:
        text += f"\n{MARK_BEGIN}\n{MARK_END}\n"
    before, rest = text.split(MARK_BEGIN, 1)
    after = rest.split(MARK_END, 1)[1]
    block = (
        f"{MARK_BEGIN}\n## Last run (written by `python -m benchmarks.run`)\n\n{table(result, timeout)}\n\n"
        f"![query medians](results/queries-{result['preset']}.png)\n{MARK_END}"
    )
    README.write_text(before + block + after, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="national")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--violations", type=float, default=0.01)
    p.add_argument("--runs", type=int, default=15, help="runs per query and server")
    p.add_argument("--rdflib-slow-runs", type=int, default=3, help="runs of a query rdflib needs > 5 s for")
    p.add_argument("--timeout", type=float, default=120.0, help="rdflib-endpoint per-query timeout")
    p.add_argument("--throughput-seconds", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=1, help="pvpp-kg uvicorn workers (default: as `pvpp-kg serve`)")
    p.add_argument("--api-calls", type=int, default=20, help="repeated calls per library query (cache)")
    p.add_argument("--pyshacl-timeout", type=float, default=900, help="seconds for each plain-pyshacl timing")
    p.add_argument(
        "--load-scale",
        type=float,
        default=0.52,
        help="preset scale of the extra load runs (0.52 of national: 1.1 M triples stored)",
    )
    p.add_argument("--load-runs", type=int, default=3, help="timed loads of the scaled preset (0: none)")
    p.add_argument("--skip-rdflib", action="store_true")
    p.add_argument("--work", default=str(ROOT / "var" / "bench"))
    p.add_argument("--keep", action="store_true", help="keep the work directory (stores, dump)")
    args = p.parse_args(argv)
    result = run(args)
    result["timeout"] = args.timeout
    result["ratios_pvpp_over_peer"] = ratios(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"{args.preset}-{stamp}.json", f"latest-{args.preset}.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    chart(result, RESULTS / f"queries-{args.preset}.png")
    write_readme(result, args.timeout)
    print(table(result, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
