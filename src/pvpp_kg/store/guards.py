"""The input gate's syntax guards: what must be refused before an RDF parser sees the bytes.

Why in ``store``: every door that takes RDF passes here — uploads and submissions (``validation``), the Graph
Store (``web``) and ``pvpp-kg load-data`` (this package) — and ``store`` is the lowest part they all reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pvpp_kg.errors import InputError


def _position(data: bytes, index: int) -> tuple[int, int]:
    before = data[:index]
    return before.count(b"\n") + 1, index - (before.rfind(b"\n") + 1) + 1


def _check_xml(data: bytes, source: str) -> None:
    m = re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, flags=re.I)
    if m:
        line, col = _position(data, m.start())
        raise InputError(
            f"RDF/XML with <!{m.group(1).decode().upper()} …> is refused (entities could read files "
            "or the network); remove the declaration",
            source=source,
            line=line,
            column=col,
        )


def _check_well_formed(data: bytes, source: str) -> None:
    """pyoxigraph's RDF/XML parser forgives unclosed elements; a truncated upload must not pass as data."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        reason = expat.errors.messages[e.code]
        raise InputError(
            f"malformed XML: {reason}", source=source, line=e.lineno, column=e.offset + 1, lv=f"nepareizs XML: {reason}"
        ) from None


def _remote_contexts(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "@context":
                for c in v if isinstance(v, list) else [v]:
                    if isinstance(c, str):
                        yield c
                    elif isinstance(c, dict):
                        if isinstance(c.get("@import"), str):
                            yield c["@import"]
                        yield from _remote_contexts(c)
            else:
                yield from _remote_contexts(v)
    elif isinstance(node, list):
        for x in node:
            yield from _remote_contexts(x)


MAX_JSON_NESTING = 64  # objects and arrays inside each other: far beyond any JSON-LD document of ours


MAX_JSON_NODES = 2_000_000  # objects and arrays in one document: ~40x the national preset's largest institution


def _json_nesting(text: str) -> tuple[int, int]:
    """How deep JSON objects and arrays nest, and how many there are, read before the parser recurses (outside
    strings)."""
    depth = deepest = nodes = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        ch = token.group(0)
        if ch in "[{":
            depth += 1
            nodes += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest, nodes


def _check_jsonld(data: bytes, source: str) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 (byte {e.start})", source=source) from None
    deepest, nodes = _json_nesting(text)
    if deepest > MAX_JSON_NESTING:
        raise InputError(f"JSON nested more than {MAX_JSON_NESTING} levels deep is refused", source=source)
    if nodes > MAX_JSON_NODES:
        raise InputError(f"JSON with more than {MAX_JSON_NODES:,} objects and arrays is refused", source=source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"malformed JSON-LD: {e.msg}",
            source=source,
            line=e.lineno,
            column=e.colno,
            lv=f"nepareizs JSON-LD: {e.msg}",
        ) from None
    for ctx in _remote_contexts(doc):
        raise InputError(
            f"JSON-LD with a remote @context ({ctx!r}) is refused: pvpp-kg fetches nothing; "
            "inline the context as an object",
            source=source,
        )


def check_syntax_guards(data: bytes, fmt: str, source: str) -> None:
    """What must be refused before an RDF parser sees the bytes: XML entities and DOCTYPEs, malformed XML, JSON-LD
    nested too deep or with a remote context. Every door that takes RDF calls it (uploads, the Graph Store)."""
    if fmt == "rdfxml":
        _check_xml(data, source)
        _check_well_formed(data, source)
    elif fmt == "jsonld":
        _check_jsonld(data, source)
