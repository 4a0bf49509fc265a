"""The server's own SPARQL, kept as ``.rq`` files beside this module (data, not Python literals).

Not the public governance library (``queries/``): these are the fixed queries behind the linked-data pages,
the dataset statistics and the graph counts. A file is read once per process.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    """The text of ``rq/{name}.rq`` without trailing whitespace (pages show some of these verbatim)."""
    return files(__package__).joinpath(f"{name}.rq").read_text(encoding="utf-8").rstrip()
