"""Every setting is documented in the README's settings table, under its environment variable."""

from __future__ import annotations

from pathlib import Path

from pvpp_kg.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"PVPP_{name.upper()}" not in text]
    assert not missing, f"settings missing from README.md: {missing}"


def test_environment_overrides(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PVPP_PORT", "9123")
    monkeypatch.setenv("PVPP_QUERY_TIMEOUT_S", "2.5")
    s = Settings()
    assert (s.port, s.query_timeout_s) == (9123, 2.5)


def test_query_slots_default_to_32_per_server_split_over_workers_at_least_4() -> None:
    sizes = [Settings(workers=w, query_workers=None, _env_file=None).query_pool_size() for w in (1, 4, 16)]
    assert sizes == [32, 8, 4]
    assert Settings(query_workers=3, _env_file=None).query_pool_size() == 3
