"""The benchmark report compares speed with rdflib-endpoint only where both gave Oxigraph's answer; its load step
times the real commands."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.run import load_at_scale, rdflib_summary


def test_rdflib_speedups_count_only_agreeing_answers() -> None:
    def q(pvpp: float, rdflib: float | None, *, same: bool = True, status: str = "ok") -> dict:
        theirs = {"status": status, "same_answer_as_oxigraph": same}
        if rdflib is not None:
            theirs["median_s"] = rdflib
        return {
            "pvpp-kg": {"status": "ok", "median_s": pvpp, "same_answer_as_oxigraph": True},
            "rdflib-endpoint": theirs,
        }

    result = {
        "timeout": 120.0,
        "queries": {
            "a": q(0.1, 2.0),  # 20x
            "b": q(0.5, 2.5),  # 5x
            "c": q(0.2, 0.01, same=False),  # rdflib fast but wrong: not a speed comparison
            "d": q(1.5, None, status="timeout"),  # rdflib could not finish
        },
    }
    s = rdflib_summary(result)
    assert s["compared"] == 2
    assert s["speedup_geomean"] == pytest.approx(10.0)
    assert s["speedup_min"] == pytest.approx(5.0) and s["slowest_relative"] == "b"
    assert s["rdflib_wrong_answers"] == ["c"]
    assert s["rdflib_timeouts_pvpp_median_s"] == {"d": 1.5}
    # the timeout counted as rdflib's time (a lower bound): (20 * 5 * 80) ** (1/3) = 20
    assert s["speedup_geomean_with_timeouts_at_least"] == pytest.approx(20.0)


def test_load_at_scale_times_the_cli_and_counts_what_it_stored(tmp_path: Path) -> None:
    """The load-target step runs `pvpp-kg generate --scale` and `pvpp-kg load-data` for real: it reports every
    run, the triples the store holds (the same after every run: each starts from a fresh store) and Oxigraph's
    load of them."""
    lt = load_at_scale(tmp_path, "tiny", 1, 0.0, 2.0, 2)
    assert len(lt["runs_s"]) == 2 and lt["median_s"] == pytest.approx(sum(lt["runs_s"]) / 2)
    version = (tmp_path / "pvpp" / "public" / "CURRENT").read_text().strip()
    stored = len(ox.Store.read_only(str(tmp_path / "pvpp" / "public" / "snapshots" / version)))
    assert lt["triples"] == stored and lt["generated_quads"] > 0 and stored > lt["generated_quads"]
    assert len(ox.Store.read_only(str(tmp_path / "oxigraph"))) == stored
    assert lt["oxigraph_s"] > 0 and lt["peak_rss_mib"] > 0
