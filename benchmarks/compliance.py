"""The compliance cockpit's figures (issue 28) on a loaded store, side by side in one run:

- re-validating the whole dataset against the profile in place (``compliance.revalidate``: validation, the
  figures, the one write), as ``pvpp-kg revalidate`` does it — on the store as given, again with nothing changed
  (only the history's entry written), and with every institution's graph counted as changed (all replaced, the
  store compacted) — and as the server's start-up does it: in a validation process of its own
  (``runner.revalidate``: process start, the validator built there, the run, the changed graphs' N-Quads sent back
  and written);
- re-measuring one institution after a 1,000-service submission, beyond the submission's own validation: what the
  server does since issue 25 (``Validations.measure``: the submission's stored form and its figures, one job in the
  warm validation process, p50 of 5), and the same two steps in this process (the validation's materialisation +
  ``compliance.institution_run``, where the web process ran them before); its figures ride in the submission's own
  write, timed apart; against the same institution measured from scratch (the whole revalidation);
- ``/compliance``, ``/compliance/{key}`` and ``/matrix`` warm (p50 of 20), and ``/compliance`` right after a write
  elsewhere and right after a submission's write for institution KEY (p50 of 5 each);
- the same figures computed from scratch with the equivalent SPARQL on Oxigraph server (``oxigraph serve`` on a
  dump of the same store): the queries the cockpit reads the table, an institution page and the matrix with
  (``src/pvpp_kg/rq/``), and the library queries ``queries/compliance-*.rq`` on both servers (p50 of 5 each).

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
from benchmarks.systems import (
    ROOT,
    dump_store,
    load_oxigraph,
    load_queries,
    post_query,
    start_oxigraph,
    start_pvpp,
)

ID = "https://w3id.org/pvpp/id/"
GRAPH = "https://w3id.org/pvpp/graph/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SERVICE = "https://w3id.org/pvpp/ontology#Service"
# what the cockpit reads, from scratch (rq/ name, substitutions): the national table, one institution's page, /matrix
TABLE = [
    ("compliance-institutions", {}),
    ("compliance-measurements", {}),
    ("compliance-versions", {}),
    ("compliance-history", {"on": ID + "dataset"}),
]
MATRIX = [("matrix-labels", {}), ("matrix-cells", {})]


def institution_page(key: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("compliance-measurements-of", {"graph": f"{GRAPH}compliance/{key}"}),
        ("compliance-version-of", {"graph": f"{GRAPH}institution/{key}"}),
        ("compliance-findings", {"graph": f"{GRAPH}compliance/{key}", "data": f"{GRAPH}institution/{key}"}),
        ("compliance-history", {"on": f"{GRAPH}institution/{key}"}),
        ("compliance-submissions", {"graph": f"{GRAPH}institution/{key}"}),
    ]


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
    from pvpp_kg.store.loader import open_stores
    from pvpp_kg.validation import compliance, runner
    from pvpp_kg.validation.parse import parse_document
    from pvpp_kg.validation.validator import POLICY_LAYERS, Validator

    settings = Settings(data_dir=data_dir, include_sample=False, revalidate_on_start=False, admin_token="bench")
    store = open_stores(settings)[0]
    validator = Validator(settings)
    out: dict[str, Any] = {"triples": len(store.reader())}

    def full() -> Any:
        run = compliance.revalidate(settings, store, validator)
        figures = {"seconds": run.seconds, "institutions": run.institutions, "results": run.results}
        return run, {**figures, "graphs_replaced": run.replaced, "quads_written": run.written}

    summary, out["full"] = full()  # on the store as given: every graph written if it holds none
    out["full_unchanged"] = full()[1]  # again, nothing changed: only the history's entry written
    with store.writer() as w:  # every graph counted as changed (as a store written before digests were kept)
        w.update("DELETE WHERE { GRAPH ?g { ?r <https://w3id.org/pvpp/ontology#contentDigest> ?d } }")
    out["full_all_replaced"] = full()[1]  # every graph removed and written again, the store compacted

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
    quads = validator.materialised(doc)  # as the validation process: the validation's own materialisation
    compliance.ox.serialize(quads, format=compliance.ox.RdfFormat.N_QUADS)  # the stored form, as there
    t1 = time.perf_counter()
    graph, history = compliance.institution_run(settings, validator, key, 1, quads, report, {}, "bench")
    out["incremental_in_this_process_s"] = {"materialise": t1 - t0, "figures": time.perf_counter() - t1}

    async def in_validation_process() -> list[float]:
        validations = runner.Validations(settings)
        try:
            await validations.measure(doc, compliance.institution_graph(key), key)  # starts the process
            times = []
            for _ in range(5):
                # as the server does: the submission's own validation (untimed) in the same process, then this
                await validations.validate(doc, institution=key, layers=POLICY_LAYERS)
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
            # the start-up's text index built first (a thread of the web process): the warm figures are the pages'
            assert httpx.get(base + "/api/search", params={"q": "pakalpojums"}, timeout=900).status_code == 200
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
            out.update(_after_submissions(base, settings, store, validator, key))
            out["oxigraph"] = _oxigraph(data_dir, Path(tmp), server.url, key)
        finally:
            server.stop()
    ox = out["oxigraph"]
    out["ratios"] = {  # pvpp-kg's figure / the same figure from scratch on Oxigraph server
        "compliance_warm": out["compliance_p50_s"] / ox["table"]["total_s"],
        "compliance_after_submission": out["compliance_after_submission_p50_s"] / ox["table"]["total_s"],
        "institution_warm": out["institution_p50_s"] / ox["institution"]["total_s"],
        "matrix_warm": out["matrix_p50_s"] / ox["matrix"]["total_s"],
        "library": {k: v["pvpp_kg_s"] / v["oxigraph_s"] for k, v in ox["library"].items()},
    }
    return out


def _own_data(store: Any, key: str) -> bytes:
    """KEY's stored graph, only the statements about its own nodes (its services, posts, resources, SLAs and
    itself): what it may submit; materialisation adds the rest again."""
    import pyoxigraph as ox

    own = tuple(f"{ID}{kind}/{key}/" for kind in ("service", "post", "resource", "sla")) + (f"{ID}institution/{key}",)
    quads = store.reader().quads_for_pattern(None, None, None, ox.NamedNode(f"{GRAPH}institution/{key}"))
    kept = [ox.Triple(q.subject, q.predicate, q.object) for q in quads if q.subject.value.startswith(own)]
    return ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES)


def _after_submissions(base: str, settings: Any, store: Any, validator: Any, key: str, runs: int = 5) -> dict[str, Any]:
    """``/compliance`` right after each of ``runs`` submissions of KEY (its own stored data again). The write is
    the one ``POST /submissions`` makes — the data graph, its ``graph/compliance/{key}`` from the submission's own
    report, the run in the history, in one write — done from this process while the server holds the table:
    ``POST /submissions`` itself cannot run on the national store (it reads every other institution's data as one
    CONSTRUCT, over the 200 MB result cap)."""
    import pyoxigraph as ox

    from pvpp_kg.store.loader import materialised_ntriples
    from pvpp_kg.validation import compliance
    from pvpp_kg.validation.parse import parse_document

    document = parse_document(_own_data(store, key), filename=f"{key}.nt")
    data, figures = (ox.NamedNode(f"{GRAPH}{kind}/{key}") for kind in ("institution", "compliance"))
    after, validate, write = [], [], []
    with httpx.Client(timeout=600) as c:
        assert c.get(base + "/compliance?format=json").status_code == 200  # the table held
        for _ in range(runs):
            t0 = time.perf_counter()
            report = validator.validate(document)
            validate.append(time.perf_counter() - t0)
            stored = materialised_ntriples(document.ntriples(), data.value, validator.ontology)
            triples = ox.parse(stored, format=ox.RdfFormat.N_TRIPLES)
            graph, history = compliance.institution_run(settings, validator, key, 1, triples, report, {}, "bench")
            t0 = time.perf_counter()
            with store.writer() as w:
                w.remove_graph(data)
                w.load(stored, format=ox.RdfFormat.N_TRIPLES, to_graph=data)
                w.remove_graph(figures)
                w.load(graph, format=ox.RdfFormat.N_TRIPLES, to_graph=figures)
                w.bulk_extend(history)
            write.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            table = c.get(base + "/compliance?format=json")
            after.append(time.perf_counter() - t0)
            assert table.status_code == 200
            row = next(x for x in table.json()["institutions"] if x["key"] == key)
            services = sum(1 for t in document.triples if t.predicate.value == RDF_TYPE and t.object.value == SERVICE)
            assert row["services"] == services and row["overall"] is not None, row
    return {
        "submission_triples": len(document.triples),
        "submission_validation_p50_s": statistics.median(validate),
        "submission_write_p50_s": statistics.median(write),
        "compliance_after_submission_p50_s": statistics.median(after),
        "compliance_after_submission_s": after,
    }


def _timed(url: str, query: str, runs: int = 5) -> float:
    """p50 of ``runs`` answers (after one to warm the server's caches of the store's pages)."""
    times = []
    with httpx.Client() as c:
        post_query(c, url, query, 600)
        for _ in range(runs):
            t0 = time.perf_counter()
            post_query(c, url, query, 600)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _oxigraph(data_dir: Path, tmp: Path, pvpp_url: str, key: str) -> dict[str, Any]:
    """The same figures from scratch on Oxigraph server: the cockpit's reads (``rq/``, substitutions bound as
    VALUES as for a remote store), and the library queries on both servers."""
    from pvpp_kg import rq
    from pvpp_kg.store.remote import with_values

    nq = tmp / "dump.nq"
    out: dict[str, Any] = {"quads": dump_store(data_dir, nq)}
    out["load_s"] = load_oxigraph(tmp / "oxigraph", nq)
    nq.unlink()
    server = start_oxigraph(tmp / "oxigraph", log=tmp / "oxigraph.log")
    try:

        def text(name: str, subs: dict[str, str]) -> str:
            return with_values(rq.load(name), tuple((k, "iri", v, None) for k, v in subs.items()))

        for figure, reads in (("table", TABLE), ("institution", institution_page(key)), ("matrix", MATRIX)):
            each = {name: _timed(server.url, text(name, subs)) for name, subs in reads}
            out[figure] = {"total_s": sum(each.values()), "queries_s": each}
        library = load_queries(("lib", ROOT / "queries"))
        out["library"] = {
            name.removeprefix("lib/"): {"pvpp_kg_s": _timed(pvpp_url, q), "oxigraph_s": _timed(server.url, q)}
            for name, q in library.items()
            if name.startswith("lib/compliance-")
        }
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
