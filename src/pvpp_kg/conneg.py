"""Content negotiation as a pure function: Accept header (+ ``format`` parameter) → offered format.

Follows RFC 9110 §12.5.1: q-values, ``type/*`` and ``*/*`` wildcards, the most specific range wins for a
given type, and among equal q-values the server's order of preference decides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pvpp_kg.errors import NotAcceptable
from pvpp_kg.formats import Format, by_name


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        t, _, s = media_type.partition("/")
        return self.type in ("*", t) and self.subtype in ("*", s)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; malformed ranges are skipped (as browsers' odd headers must not fail)."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if "/" not in mt:
            continue
        t, _, s = mt.partition("/")
        q = 1.0
        for param in fields[1:]:
            k, _, v = param.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(t, s, q))
    return ranges


def _quality(f: Format, ranges: list[MediaRange]) -> float:
    """The q of the most specific range naming this format: its media type (wildcards allowed) or,
    exactly, one of its aliases (so ``text/*`` does not pick RDF/XML through its ``text/xml`` alias)."""
    best: tuple[int, float] | None = None
    for r in ranges:
        exact_alias = r.specificity == 2 and f"{r.type}/{r.subtype}" in f.aliases
        if r.matches(f.media_type) or exact_alias:
            key = (r.specificity, r.q)
            if best is None or key > best:
                best = key
    return best[1] if best else 0.0


def negotiate(accept: str | None, offered: tuple[Format, ...], *, format_param: str | None = None) -> Format:
    """Choose from ``offered`` (in server preference order); raise NotAcceptable when nothing fits.

    >>> from pvpp_kg.formats import RESULT_FORMATS
    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_FORMATS).name
    'xml'
    """
    return offered[_choice(accept, offered, format_param)]  # the caller's own object: callers compare with ``is``


@functools.lru_cache(maxsize=256)
def _choice(accept: str | None, offered: tuple[Format, ...], format_param: str | None) -> int:
    """The index of the chosen format. Remembered for the last 256 (Accept, offered, format) triples: clients
    send the same header every time, and parsing it was a twentieth of a point lookup."""
    if format_param:
        chosen = by_name(format_param, offered)
        if chosen is None:
            names = ", ".join(f.name for f in offered)
            raise NotAcceptable(f"format {format_param!r} is not offered here; use one of: {names}")
        return offered.index(chosen)
    ranges = parse_accept(accept)
    if not ranges:
        return 0
    best: tuple[float, int] | None = None
    for i, f in enumerate(offered):
        q = _quality(f, ranges)
        if q > 0 and (best is None or q > best[0]):
            best = (q, i)
    if best is None:
        offered_types = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(f"none of the accepted types ({accept}) is offered; offered: {offered_types}")
    return best[1]
