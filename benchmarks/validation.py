"""Validation timings for ``make bench``, each in a fresh process (as the CLI or a server worker would run it).

``python -m benchmarks.validation pvpp SUBMISSION.nt``: pvpp-kg's :class:`~pvpp_kg.validation.Validator`
(parse + validate, median of 3 after one warm-up). ``python -m benchmarks.validation pyshacl SUBMISSION.nt
[CONTEXT.nq]``: plain pyshacl (``advanced=True`` for the SHACL-SPARQL shapes) with the same two shape layers, over
the submission merged with the ontology and ``shapes/context.ttl`` — and, given ``CONTEXT.nq``, with the whole
national graph as well, which is what validating "in context" costs without pvpp-kg. Prints one JSON object.
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
    from pvpp_kg.validation import Validator, parse_document

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
    return {"tool": "pvpp_kg.validation.Validator", "results": results, "parse_s": statistics.median(parse),
            "validate_s": statistics.median(t - p for t, p in zip(total, parse, strict=True)),
            "total_s": statistics.median(total)}


def measure_pyshacl(path: Path, context: Path | None) -> dict[str, Any]:
    import pyshacl
    from rdflib import Dataset, Graph

    settings = Settings(include_sample=False)
    t0 = time.perf_counter()
    data = Graph()
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
    return {"tool": f"pyshacl {pyshacl.__version__} (advanced)", "triples": len(data), "conforms": conforms,
            "parse_s": t1 - t0, "validate_s": t2 - t1, "total_s": t2 - t0}


def main(argv: list[str]) -> int:
    tool, path = argv[0], Path(argv[1])
    if tool == "pvpp":
        out = measure_pvpp(path)
    else:
        out = measure_pyshacl(path, Path(argv[2]) if len(argv) > 2 else None)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
