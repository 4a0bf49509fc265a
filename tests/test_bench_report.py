"""The benchmark report compares speed with rdflib-endpoint only where both gave Oxigraph's answer."""

from __future__ import annotations

import pytest

from benchmarks.run import rdflib_summary


def test_rdflib_speedups_count_only_agreeing_answers() -> None:
    def q(pvpp: float, rdflib: float | None, *, same: bool = True, status: str = "ok") -> dict:
        theirs = {"status": status, "same_answer_as_oxigraph": same}
        if rdflib is not None:
            theirs["median_s"] = rdflib
        return {"pvpp-kg": {"status": "ok", "median_s": pvpp, "same_answer_as_oxigraph": True},
                "rdflib-endpoint": theirs}

    result = {"timeout": 120.0, "queries": {
        "a": q(0.1, 2.0),                      # 20x
        "b": q(0.5, 2.5),                      # 5x
        "c": q(0.2, 0.01, same=False),         # rdflib fast but wrong: not a speed comparison
        "d": q(1.5, None, status="timeout"),   # rdflib could not finish
    }}
    s = rdflib_summary(result)
    assert s["compared"] == 2
    assert s["speedup_geomean"] == pytest.approx(10.0)
    assert s["speedup_min"] == pytest.approx(5.0) and s["slowest_relative"] == "b"
    assert s["rdflib_wrong_answers"] == ["c"]
    assert s["rdflib_timeouts_pvpp_median_s"] == {"d": 1.5}
    # the timeout counted as rdflib's time (a lower bound): (20 * 5 * 80) ** (1/3) = 20
    assert s["speedup_geomean_with_timeouts_at_least"] == pytest.approx(20.0)
