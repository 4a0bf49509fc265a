"""The governance query library: ``queries/*.rq`` files with a metadata header.

Header lines (before the query) look like ``# title@lv: …``, ``# title@en: …``, ``# description@en: …``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(r"^#\s*([a-z_]+)(?:@([a-z]{2}))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class LibraryQuery:
    name: str
    text: str
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.name


def parse_query_file(path: Path) -> LibraryQuery:
    text = path.read_text(encoding="utf-8")
    title: dict[str, str] = {}
    description: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if m and m.group(1) in ("title", "description"):
            target = title if m.group(1) == "title" else description
            target[m.group(2) or "en"] = m.group(3).strip()
    return LibraryQuery(path.stem, text, title, description)


def load_library(directory: Path) -> list[LibraryQuery]:
    return [parse_query_file(p) for p in sorted(Path(directory).glob("*.rq"))]
