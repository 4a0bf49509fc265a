"""The import-layer contract (``[tool.importlinter]`` in pyproject.toml) holds, and fails when a module imports
upwards: a copy of the package with one wrong import is checked by the same command ``make lint`` runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(src))  # before the editable install's path
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_layers() -> None:
    done = _lint(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "wrong", "broken"),
    [
        ("store/embedded.py", "import pvpp_kg.web.app", "pvpp_kg.store is not allowed to import pvpp_kg.web"),
        ("policy/matrix.py", "import pvpp_kg.store.loader", "pvpp_kg.policy is not allowed to import pvpp_kg.store"),
        ("lod/dumps.py", "import pvpp_kg.validation.parse", "pvpp_kg.lod is not allowed to import pvpp_kg.validation"),
        ("errors.py", "import pvpp_kg.shacl", "the shared bottom modules import no part BROKEN"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, wrong: str, broken: str) -> None:
    shutil.copytree(ROOT / "src" / "pvpp_kg", tmp_path / "pvpp_kg", ignore=shutil.ignore_patterns("static"))
    target = tmp_path / "pvpp_kg" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong}  # noqa\n", encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode == 1, done.stdout
    assert broken in done.stdout, done.stdout
