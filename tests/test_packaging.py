"""Packaging (issue 26, point 5): the runtime dependencies are exactly what the package imports, and the licence
is an SPDX expression in the installed metadata."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
#: needed without being imported by name: FastAPI's form parser
NOT_IMPORTED = {"python-multipart": "FastAPI parses forms and uploads with it"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_distributions() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "src" / "pvpp_kg").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | {"pvpp_kg", "__future__"}
    owners = metadata.packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    assert not missing, f"imported but not installed: {missing}"
    return {owners[m][0].lower().replace("_", "-") for m in modules}


def test_runtime_dependencies_are_what_the_package_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    imported = _imported_distributions()
    assert imported == runtime - set(NOT_IMPORTED), (
        f"imported, not declared: {sorted(imported - runtime)}; declared, not imported: "
        f"{sorted(runtime - imported - set(NOT_IMPORTED))}"
    )
    assert set(NOT_IMPORTED) <= runtime
    test_only = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert {"owlready2", "sparqlwrapper"} <= test_only and not {"owlready2", "sparqlwrapper"} & runtime
    assert {"httpx", "pylode"} <= runtime


def test_the_licence_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "EUPL-1.2 AND CC-BY-4.0"
    assert metadata.metadata("pvpp-kg")["License-Expression"] == "EUPL-1.2 AND CC-BY-4.0"
