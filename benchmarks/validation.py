"""Validation timings for ``make bench``, each in a fresh process (as the CLI or a server worker would run it).

``python -m benchmarks.validation pvpp SUBMISSION.nt``: pvpp-kg's :class:`~pvpp_kg.validation.Validator`
(parse + validate, median of 3 after one warm-up). ``engine SUBMISSION.nt``: the SHACL engine alone on the
validator's merged store (both layers, median of 3). ``pyshacl|turbo SUBMISSION.nt [CONTEXT.nq]``: plain pyshacl
or pyshacl-turbo (``advanced=True`` for the SHACL-SPARQL shapes) with the same two shape layers, over the
submission merged with the ontology and ``shapes/context.ttl`` — and, given ``CONTEXT.nq``, with the whole national
graph as well. ``stored DATA_DIR``: :func:`~pvpp_kg.validation.validate_stored` on a loaded store, in place.
``turbo-graph GRAPH.nq``: pyshacl-turbo over a whole dataset file (parsed, with the ontology and context).
``http DATA_DIR SUBMISSION.nt``: ``POST /validate`` of the submission to a server on DATA_DIR (which it only
reads), median of 7 after one warm-up — the whole request: upload, parse, validation, the JSON report.
Prints one JSON object; every figure has the process's peak RSS beside it.

``python -m benchmarks.validation suite NQ DATA_DIR [--pyshacl-timeout S]``: all of them on one dataset (the
national preset, loaded into DATA_DIR), written as JSON and as the lines :func:`lines` puts in the README.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pvpp_kg.settings import Settings


def measure_pvpp(path: Path) -> dict[str, Any]:
    from pvpp_kg.validation.parse import parse_document
    from pvpp_kg.validation.validator import Validator

    data = path.read_bytes()
    validator = Validator(Settings(include_sample=False))
    validator.validate(parse_document(data[:2000].rsplit(b"\n", 1)[0] + b"\n", filename="warm.nt"))
    parse, total, results = [], [], 0
    for _ in range(3):
        t0 = time.perf_counter()
        graph = parse_document(data, filename=path.name)
        t1 = time.perf_counter()
        report = validator.validate(graph)
        t2 = time.perf_counter()
        parse.append(t1 - t0)
        total.append(t2 - t0)
        results = len(report.results)
    return {
        "tool": "pvpp_kg.validation.Validator",
        "results": results,
        "parse_s": statistics.median(parse),
        "validate_s": statistics.median(t - p for t, p in zip(total, parse, strict=True)),
        "total_s": statistics.median(total),
        "rss_mib": _rss_mib(),
    }


def _rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_engine(path: Path) -> dict[str, Any]:
    import pvpp_kg.shacl as shacl
    from pvpp_kg.validation.parse import parse_document
    from pvpp_kg.validation.validator import MINE, Validator

    validator = Validator(Settings(include_sample=False))
    store, _ = validator.merge(parse_document(path.read_bytes(), filename=path.name))

    runs, results = [], 0
    for _ in range(4):  # the first warms the shapes' caches
        t0 = time.perf_counter()
        results = sum(
            len(shacl.validate(store, e, only=MINE, map_=validator.map).results) for e in validator.engines.values()
        )
        runs.append(time.perf_counter() - t0)
    return {
        "tool": "pvpp_kg.shacl (both layers, merged store)",
        "results": results,
        "validate_s": statistics.median(runs[1:]),
        "rss_mib": _rss_mib(),
    }


def measure_stored(data_dir: Path) -> dict[str, Any]:
    from pvpp_kg.store.loader import open_stores
    from pvpp_kg.validation.validator import Validator, validate_stored

    settings = Settings(include_sample=False, data_dir=data_dir)
    validator = Validator(settings)
    reader = open_stores(settings)[0].reader()
    runs, results = [], 0
    for _ in range(2):
        t0 = time.perf_counter()
        results = len(validate_stored(validator, reader).results)
        runs.append(time.perf_counter() - t0)
    return {
        "tool": "pvpp_kg.validation.validate_stored (in place)",
        "triples": len(reader),
        "results": results,
        "validate_s": min(runs),
        "runs_s": runs,
        "rss_mib": _rss_mib(),
    }


def measure_pyshacl(path: Path | None, context: Path | None, turbo: bool = False) -> dict[str, Any]:
    if turbo:
        import pyshacl_turbo as pyshacl
    else:
        import pyshacl
    from rdflib import Dataset, Graph

    settings = Settings(include_sample=False)
    t0 = time.perf_counter()
    data = Graph()
    if path is not None:
        data.parse(path, format="nt")
    for ttl in (*sorted(settings.ontology_dir.glob("*.ttl")), settings.shapes_dir / "context.ttl"):
        data.parse(ttl, format="turtle")
    if context is not None:
        ds = Dataset()
        ds.parse(context, format="nquads")
        for s, p, o, _ in ds.quads((None, None, None, None)):
            data.add((s, p, o))
    shapes = Graph()
    for ttl in ("pvpp-shapes.ttl", "vendor/cpsv-ap-3.2.0-SHACL.ttl"):
        shapes.parse(settings.shapes_dir / ttl, format="turtle")
    t1 = time.perf_counter()
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, advanced=True, allow_warnings=True)
    t2 = time.perf_counter()
    from importlib.metadata import version

    name = "pyshacl-turbo" if turbo else "pyshacl"
    return {
        "tool": f"{name} {version(name)} (advanced)",
        "triples": len(data),
        "conforms": conforms,
        "results": len(set(report.objects(None, SH_RESULT))),
        "parse_s": t1 - t0,
        "validate_s": t2 - t1,
        "total_s": t2 - t0,
        "rss_mib": _rss_mib(),
    }


def measure_http(data_dir: Path, path: Path, runs: int = 7) -> dict[str, Any]:
    """``POST /validate`` over HTTP: what an institution waits for, validation process round trip included."""
    import tempfile

    import httpx

    from benchmarks.systems import start_pvpp

    body = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_pvpp(data_dir, log=Path(tmp) / "server.log", env_extra={"PVPP_INCLUDE_SAMPLE": "false"})
        url = server.url.removesuffix("/sparql") + "/validate"
        headers = {"Content-Type": "application/n-triples", "Accept": "application/json"}
        try:
            times, results = [], 0
            with httpx.Client(timeout=600) as c:
                for i in range(runs + 1):
                    t0 = time.perf_counter()
                    r = c.post(url, content=body, headers=headers)
                    if i:
                        times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text[:500]
                    results = len(r.json()["results"])
        finally:
            server.stop()
    return {"tool": "POST /validate", "validate_s": statistics.median(times), "runs_s": times, "results": results}


SH_RESULT = __import__("rdflib").URIRef("http://www.w3.org/ns/shacl#result")


def child(args: list[str], timeout: float) -> dict[str, Any]:
    """One measurement in a fresh process with the malloc the server's validation processes preload (jemalloc
    when installed), the other engines' too: its JSON, or what stopped it."""
    import subprocess

    from pvpp_kg.store.querypool import find_allocator, process_env

    allocator = find_allocator(Settings().query_allocator)
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.validation", *args],
            cwd=root,
            capture_output=True,
            timeout=timeout,
            check=True,
            env=process_env(allocator),
        )
        return {**json.loads(done.stdout), "allocator": allocator or "system"}
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    except subprocess.CalledProcessError as e:
        return {"error": e.stderr.decode()[-1000:]}


def suite(nq: Path, data_dir: Path, submission: Path, pyshacl_timeout: float) -> dict[str, Any]:
    """Every validation figure on one dataset, side by side: the submission and the whole stored graph."""
    out: dict[str, Any] = {"triples": submission.read_bytes().count(b"\n")}
    out["pvpp-kg"] = child(["pvpp", str(submission)], 600)
    out["engine"] = child(["engine", str(submission)], 600)
    out["pyshacl"] = child(["pyshacl", str(submission)], pyshacl_timeout)
    out["pyshacl-turbo"] = child(["turbo", str(submission)], pyshacl_timeout)
    out["stored"] = child(["stored", str(data_dir)], 1200)
    out["turbo-graph"] = child(["turbo-graph", str(nq)], pyshacl_timeout)
    return out


def lines(v: dict[str, Any]) -> list[str]:
    """The README's validation lines, with ratios pvpp-kg / peer (below 1: pvpp-kg faster)."""

    def seconds(key: str) -> float | None:
        return v.get(key, {}).get("validate_s")

    def describe(key: str, what: str) -> str:
        t = v.get(key, {})
        if "timeout_s" in t:
            return f"  - {what}: did not finish in {t['timeout_s']:.0f} s"
        if "validate_s" not in t:
            return f"  - {what}: {t.get('error', 'not run')[-300:]}"
        parse = f"parse {t['parse_s']:.2f} s, " if "parse_s" in t else ""
        results = f", {t['results']:,} results" if "results" in t else ""
        return (
            f"  - {what} ({t['tool']}): {parse}validate {t['validate_s']:.2f} s{results}, "
            f"peak RSS {t.get('rss_mib', 0):.0f} MiB"
        )

    out = [
        f"- validation of a {v.get('services', '?')}-service submission ({v.get('triples', '?')} triples), "
        "each in a fresh process:"
    ]
    for key, what in (
        ("pvpp-kg", "pvpp-kg, product path (parse, merge with the reference data, validate)"),
        ("engine", "pvpp-kg's SHACL engine alone on the merged store"),
        ("pyshacl", "plain pyshacl, same data"),
        ("pyshacl-turbo", "pyshacl-turbo, same data"),
        ("pyshacl-full-graph", "plain pyshacl over the whole national graph"),
    ):
        if key in v:
            out.append(describe(key, what))
    engine = seconds("engine")
    for peer in ("pyshacl", "pyshacl-turbo"):
        if engine and seconds(peer):
            out.append(f"  - ratio engine / {peer}: {engine / seconds(peer):.3f}")
    out.append("- validation of the whole stored graph, both layers:")
    out.append(describe("stored", "pvpp-kg in place on the loaded store (no re-parse)"))
    out.append(describe("turbo-graph", "pyshacl-turbo over the dataset file (parsed)"))
    if seconds("stored") and seconds("turbo-graph"):
        out.append(f"  - ratio pvpp-kg / pyshacl-turbo: {seconds('stored') / seconds('turbo-graph'):.3f}")
    return out


def main(argv: list[str]) -> int:
    tool = argv[0]
    if tool == "suite":
        import argparse

        p = argparse.ArgumentParser(prog="benchmarks.validation suite")
        p.add_argument("nq", type=Path)
        p.add_argument("data_dir", type=Path)
        p.add_argument("--pyshacl-timeout", type=float, default=600)
        args = p.parse_args(argv[1:])
        from benchmarks.run import submission

        path = args.data_dir.parent / "submission-1000.nt"
        services = submission(args.nq, path)
        result = {"services": services, **suite(args.nq, args.data_dir, path, args.pyshacl_timeout)}
        print(json.dumps(result, indent=1))
        print("\n".join(lines(result)), file=sys.stderr)
        return 0
    path = Path(argv[1])
    if tool == "pvpp":
        out = measure_pvpp(path)
    elif tool == "engine":
        out = measure_engine(path)
    elif tool == "stored":
        out = measure_stored(path)
    elif tool == "http":
        out = measure_http(path, Path(argv[2]))
    elif tool == "turbo-graph":
        out = measure_pyshacl(None, path, turbo=True)
    else:
        out = measure_pyshacl(path, Path(argv[2]) if len(argv) > 2 else None, turbo=tool == "turbo")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
