"""The submission bench measures what it says: a small run through the real command gives the diff and the
results its data was built to have."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def test_submission_bench_small_run(tmp_path: Path) -> None:
    out = tmp_path / "submission.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.submission", "--services", "100", "--repeats", "1", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    result = json.loads(out.read_text())
    # 50 titles changed and 10 services added against 100 stored; one service whose manager post nobody holds
    # (a violation on the post) and which states no need (a warning)
    assert result["diff_counts"] == {"added": 10, "removed": 0, "changed": 50, "unchanged": 50}
    assert result["results"] == 2
    assert result["total_s"] == pytest.approx(result["parse_s"] + result["validate_s"] + result["fixit_s"])
