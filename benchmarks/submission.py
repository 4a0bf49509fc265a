"""The browser submission's two costs (issue 29), timed in this process after one warm-up, median of 5:

- a 1,000-service XLSX (the template, one institution, 100 posts, 1 % of the services with a manager that is no
  post): parse + validate + the fix-it workbook written — target < 1.5 s;
- the preview diff of that submission (50 titles changed, 10 services added) against the 1,000-service version as
  stored: the new graph as it would be stored (written from the materialisation its validation made), then
  compared — target < 300 ms. The preview's validation is the same as the first figure's and is not timed again.

``python -m benchmarks.submission [--out FILE]`` prints one JSON object (and writes it to FILE); ``make bench``
runs it and puts :func:`lines` in the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pvpp_kg.namespaces import institution_graph
from pvpp_kg.settings import Settings

KEY = "vsaa"


def rows(services: int, *, changed: int = 0, added: int = 0, broken: int = 0) -> dict[str, list[dict[str, str]]]:
    """The template rows of an institution with ``services`` services (and 10 per manager post)."""
    posts = [
        {
            "institution": KEY,
            "id": f"pv-{i}",
            "label_lv": f"Pakalpojuma vadītājs {i}",
            "label_en": f"Service manager {i}",
            "role": "PS",
            "holder": f"p-{i:04d}",
        }  # fmt: skip
        for i in range(services // 10 + 1)
    ]
    posts += [
        {
            "institution": KEY,
            "id": "ipks",
            "label_lv": "Pakalpojumu kopuma vadītājs",
            "label_en": "Service portfolio manager",
            "role": "IPKS",
            "holder": "p-9001",
        },  # fmt: skip
        {
            "institution": KEY,
            "id": "irks",
            "label_lv": "Resursu kopuma vadītājs",
            "label_en": "Resource portfolio manager",
            "role": "IRKS",
            "holder": "p-9002",
        },  # fmt: skip
    ]
    out = []
    for i in range(services + added):
        out.append(
            {
                "institution": KEY,
                "id": f"pakalpojums-{i}",
                "kind": ("individual-benefit", "general-benefit", "shared")[i % 3],
                "title_lv": f"Pakalpojums {i}." + (" (mainīts)" if i < changed else ""),  # no title extends another
                "title_en": f"Service {i}.",
                "description_lv": f"Pakalpojuma {i} apraksts.",
                "description_en": f"Description of service {i}.",
                "manager": "nav-tada-amata" if i % 100 == 7 and broken else f"pv-{i // 10}",
                "providers": KEY,
                "recipients": ("residents", "society", "institutions")[i % 3],
                "needs": f"vajadziba-{i % 50}",
            }
        )
    institutions = [{"key": KEY, "service_portfolio_manager": "ipks", "resource_portfolio_manager": "irks"}]
    return {"institutions": institutions, "posts": posts, "services": out}


def measure(services: int = 1000, repeats: int = 5) -> dict[str, Any]:
    import pyoxigraph as ox

    from pvpp_kg.store.loader import materialised_ntriples
    from pvpp_kg.validation.diff import diff
    from pvpp_kg.validation.fixit import fixit_workbook
    from pvpp_kg.validation.parse import parse_document
    from pvpp_kg.validation.template import build_workbook
    from pvpp_kg.validation.validator import POLICY_LAYERS, Validator

    settings = Settings(include_sample=False)
    validator = Validator(settings)
    reference = settings.source_dir / "reference"
    upload = build_workbook(reference, rows(services, broken=1))

    def flow() -> tuple[int, float, float, float]:
        t0 = time.perf_counter()
        document = parse_document(upload, filename="upload.xlsx", settings=settings)
        t1 = time.perf_counter()
        report = validator.validate(document, institution=KEY).located(document.origin)
        t2 = time.perf_counter()
        fixit_workbook(upload, report)
        t3 = time.perf_counter()
        return len(report.results), t1 - t0, t2 - t1, t3 - t2

    flow()  # warm-up
    runs = [flow() for _ in range(repeats)]
    graph = institution_graph(KEY)
    current_doc = parse_document(build_workbook(reference, rows(services)), filename="current.xlsx")
    current = materialised_ntriples(current_doc.ntriples(), graph, validator.ontology)
    new_xlsx = build_workbook(reference, rows(services, changed=50, added=10))

    def preview() -> tuple[Any, float, float]:
        # a fresh upload, validated as the preview's acceptance check does (the validation is the first figure's,
        # not timed again); then what the preview adds: the graph as it would be stored, and the diff
        new_doc = parse_document(new_xlsx, filename="new.xlsx")
        validator.validate(new_doc, institution=KEY, layers=POLICY_LAYERS)
        t0 = time.perf_counter()
        stored = materialised_ntriples(new_doc.transfer(), graph, validator.ontology)  # the validation process's
        t1 = time.perf_counter()
        d = diff(current, stored)
        t2 = time.perf_counter()
        return d, t1 - t0, t2 - t1

    preview()
    previews = [preview() for _ in range(repeats)]
    d = previews[-1][0]
    total = [p + v + f for _, p, v, f in runs]
    return {
        "services": services,
        "xlsx_bytes": len(upload),
        "results": runs[-1][0],
        "parse_s": statistics.median(r[1] for r in runs),
        "validate_s": statistics.median(r[2] for r in runs),
        "fixit_s": statistics.median(r[3] for r in runs),
        "total_s": statistics.median(total),
        "target_s": 1.5,
        "preview_materialise_s": statistics.median(p[1] for p in previews),
        "preview_diff_s": statistics.median(p[2] for p in previews),
        "preview_s": statistics.median(p[1] + p[2] for p in previews),
        "preview_target_s": 0.3,
        "current_triples": current.count(b"\n"),
        "diff_counts": d.counts.get("service"),
        "pyoxigraph": ox.__version__,
    }


def lines(result: dict[str, Any]) -> list[str]:
    if not result or "error" in result:
        return [f"- submission flow: not measured ({result.get('error', 'no result')})"] if result else []
    return [
        f"- submission of a {result['services']:,}-service XLSX ({result['xlsx_bytes']:,} bytes, {result['results']} "
        f"results): parse {result['parse_s']:.2f} s + validate {result['validate_s']:.2f} s + fix-it workbook "
        f"{result['fixit_s']:.2f} s = {result['total_s']:.2f} s (target < {result['target_s']} s)",
        f"- preview against the stored {result['services']:,}-service version ({result['current_triples']:,} triples; "
        f"{result['diff_counts']}): stored form {result['preview_materialise_s'] * 1000:.0f} ms + diff "
        f"{result['preview_diff_s'] * 1000:.0f} ms = {result['preview_s'] * 1000:.0f} ms "
        f"(target < {result['preview_target_s'] * 1000:.0f} ms)",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.submission", description=__doc__.split("\n")[0])
    p.add_argument("--services", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    result = measure(args.services, args.repeats)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print("\n".join(lines(result)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
