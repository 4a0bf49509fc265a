"""The compliance cockpit's figures (issue 28) on a loaded store, side by side in one run:

- re-validating the whole dataset against the profile in place (``compliance.revalidate``: validation, the
  figures, the one write), as ``pvpp-kg revalidate`` does it, and as the server's start-up does it: in a
  validation process of its own (``runner.revalidate``: process start, the validator built there, the run, the
  N-Quads sent back and written);
- re-measuring one institution after a 1,000-service submission, beyond the submission's own validation: what the
  server does since issue 25 (``Validations.measure``: the submission's stored form and its figures, one job in the
  warm validation process, p50 of 5), and the same two steps in this process (``materialised_ntriples`` +
  ``compliance.institution_run``, where the web process ran them before); its figures ride in the submission's own
  write, timed apart; against the same institution measured from scratch (the whole revalidation);
- ``/compliance``, ``/compliance/{key}`` and ``/matrix`` warm (p50 of 20), and ``/compliance`` right after a write
  (p50 of 5 writes).

    python -m benchmarks.compliance DATA_DIR SUBMISSION.nt KEY [--out FILE]

DATA_DIR is copied first: the run writes to its copy. SUBMISSION.nt is a 1,000-service submission of institution
KEY (``benchmarks.run.submission`` writes one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.run import machine
from benchmarks.systems import start_pvpp


def _p50(url: str, runs: int = 20) -> float:
    times = []
    with httpx.Client(timeout=120) as c:
        c.get(url)  # warm
        for _ in range(runs):
            t0 = time.perf_counter()
            assert c.get(url).status_code == 200
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(data_dir: Path, submission: Path, key: str) -> dict[str, Any]:
    from pvpp_kg.settings import Settings
    from pvpp_kg.store.loader import materialised_ntriples, open_stores
    from pvpp_kg.validation import compliance, runner
    from pvpp_kg.validation.parse import parse_document
    from pvpp_kg.validation.validator import Validator

    settings = Settings(data_dir=data_dir, include_sample=False, revalidate_on_start=False, admin_token="bench")
    store = open_stores(settings)[0]
    validator = Validator(settings)
    out: dict[str, Any] = {"triples": len(store.reader())}

    summary = compliance.revalidate(settings, store, validator)
    out["full"] = {"seconds": summary.seconds, "institutions": summary.institutions, "results": summary.results}

    async def at_start_up() -> compliance.RunSummary:
        pool = runner.revalidation_pool(settings)
        try:
            return await runner.revalidate(settings, store, pool)
        finally:
            pool.close()

    out["full_start_up_process_s"] = asyncio.run(at_start_up()).seconds

    doc = parse_document(submission.read_bytes(), filename=submission.name)
    t0 = time.perf_counter()
    report = validator.validate(doc)
    out["submission_validation_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    stored = materialised_ntriples(doc.ntriples(), compliance.institution_graph(key), validator.ontology)
    t1 = time.perf_counter()
    graph, history = compliance.institution_run(settings, validator, key, 1, stored, report, {}, "bench")
    out["incremental_in_this_process_s"] = {"materialise": t1 - t0, "figures": time.perf_counter() - t1}

    async def in_validation_process() -> list[float]:
        validations = runner.Validations(settings)
        try:
            await validations.measure(doc, compliance.institution_graph(key), key)  # starts the process
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                await validations.measure(
                    doc, compliance.institution_graph(key), key, version=1, report=report, store_version="bench"
                )
                times.append(time.perf_counter() - t0)
            return times
        finally:
            validations.close()

    out["incremental_s"] = statistics.median(asyncio.run(in_validation_process()))  # beside the submission's data
    t0 = time.perf_counter()
    with store.writer() as w:
        w.remove_graph(compliance.ox.NamedNode(compliance.COMPLIANCE_GRAPHS + key))
        w.load(
            graph,
            format=compliance.ox.RdfFormat.N_TRIPLES,
            to_graph=compliance.ox.NamedNode(compliance.COMPLIANCE_GRAPHS + key),
        )
        w.bulk_extend(history)
    out["write_with_figures_s"] = time.perf_counter() - t0  # one write: in the product, the submission's own
    out["incremental_over_full"] = out["incremental_s"] / summary.seconds

    with tempfile.TemporaryDirectory() as tmp:
        server = start_pvpp(
            data_dir,
            log=Path(tmp) / "server.log",
            env_extra={
                "PVPP_ADMIN_TOKEN": "bench",
                "PVPP_INCLUDE_SAMPLE": "false",
            },
        )
        base = server.url.removesuffix("/sparql")
        try:
            out["compliance_p50_s"] = _p50(base + "/compliance?format=json")
            out["compliance_html_p50_s"] = _p50(base + "/compliance")
            out["institution_p50_s"] = _p50(f"{base}/compliance/{key}")
            out["matrix_p50_s"] = _p50(base + "/matrix")
            after = []
            with httpx.Client(timeout=300) as c:
                for i in range(5):
                    r = c.put(
                        base + "/store",
                        params={"graph": "https://w3id.org/pvpp/graph/bench-write"},
                        content=f"<urn:bench> <urn:n> {i} .".encode(),
                        headers={"Content-Type": "text/turtle", "Authorization": "Bearer bench"},
                    )
                    assert r.status_code in (200, 201, 204), r.text
                    t0 = time.perf_counter()
                    assert c.get(base + "/compliance?format=json").status_code == 200
                    after.append(time.perf_counter() - t0)
            out["compliance_after_write_p50_s"] = statistics.median(after)
        finally:
            server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", type=Path)
    p.add_argument("submission", type=Path)
    p.add_argument("key")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/compliance.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.data_dir.parent) as tmp:
        copy = Path(tmp) / "var"
        shutil.copytree(args.data_dir, copy)
        result = measure(copy, args.submission, args.key)
    result["machine"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
