"""The compliance bench runs end to end on the tiny preset and measures what it names: every institution in the
whole revalidation, the one institution after its submission, the pages and the same figures on Oxigraph server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.compliance import _own_data
from pvpp_kg.policy.generate import generate_file
from pvpp_kg.settings import Settings
from pvpp_kg.store.dataload import load_data
from pvpp_kg.store.loader import open_stores

ROOT = Path(__file__).parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BIGGEST = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s a pvpp:Service ; pvpp:owner ?o } GROUP BY ?o ORDER BY DESC(?n) ?o LIMIT 1"""
# the current institutions: one whose pvpp:validUntil is given has ended and has no row
INSTITUTIONS = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a pvpp:Institution FILTER NOT EXISTS { ?i pvpp:validUntil ?end } }"""


def test_compliance_bench_small_run(tmp_path: Path) -> None:
    generate_file("tiny", tmp_path / "tiny.nq", seed=3, violations=0.05)
    settings = Settings(data_dir=tmp_path / "var", include_sample=False)
    load_data(settings, [tmp_path / "tiny.nq"])
    reader = open_stores(settings)[0].reader()
    owner = next(iter(reader.query(BIGGEST, use_default_graph_as_union=True)))
    key = owner["o"].value.rsplit("/", 1)[-1]
    institutions = int(next(iter(reader.query(INSTITUTIONS, use_default_graph_as_union=True)))["n"].value)
    submission = tmp_path / "submission.nt"
    submission.write_bytes(_own_data(open_stores(settings)[0], key))
    assert len(list(ox.parse(submission.read_bytes(), format=ox.RdfFormat.N_TRIPLES))) > 50
    out = tmp_path / "compliance.json"
    command = ["benchmarks.compliance", str(settings.data_dir), str(submission), key, "--out", str(out)]
    subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=540,
    )
    result = json.loads(out.read_text())
    assert result["full"]["institutions"] == institutions
    # the first run wrote every institution's graph; the second, with nothing changed, only the history's entry;
    # the third, with every digest deleted first, every graph again
    assert result["full"]["graphs_replaced"] == result["full_all_replaced"]["graphs_replaced"] == institutions
    assert result["full_unchanged"]["graphs_replaced"] == 0
    assert result["full_unchanged"]["quads_written"] < result["full"]["quads_written"] / 5
    assert 0 < result["incremental_s"] < result["full"]["seconds"] * 10
    assert set(result["ratios"]) == {
        "compliance_warm",
        "compliance_after_submission",
        "institution_warm",
        "matrix_warm",
        "library",
    }
    assert result["ratios"]["library"]  # the library's compliance queries ran on both servers
