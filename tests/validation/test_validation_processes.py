"""The validation processes (requests' and the start-up revalidation's) preload the query processes' malloc:
with jemalloc the national validation takes ~17 % less time (benchmarks/README.md, issue 23)."""

from __future__ import annotations

import time
from pathlib import Path

from pvpp_kg.settings import Settings
from pvpp_kg.store.querypool import QueryPool
from pvpp_kg.validation import runner


def _mapped_libraries(pool: QueryPool) -> str:
    """The shared libraries of the pool's process once Python runs in it: an extension module it imports is
    mapped only after the dynamic loader has mapped the preloaded ones (the executable alone is mapped earlier)."""
    maps = Path(f"/proc/{pool.worker.process.pid}/maps")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = maps.read_text()
        if "lib-dynload" in text or "site-packages" in text:
            return text
        time.sleep(0.05)
    raise AssertionError("the validation process never started")


def test_validation_processes_preload_jemalloc(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "store", include_sample=False)
    for pool in (runner.Validations(settings).pool, runner.revalidation_pool(settings)):
        try:
            assert "libjemalloc" in _mapped_libraries(pool)
        finally:
            pool.close()


def test_the_system_allocator_setting_preloads_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "store", include_sample=False, query_allocator="system")
    pool = runner.revalidation_pool(settings)
    try:
        assert "libjemalloc" not in _mapped_libraries(pool)
    finally:
        pool.close()
