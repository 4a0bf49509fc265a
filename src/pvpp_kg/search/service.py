"""Search and suggestions: check the request, ask the text index, count the facets, cut the page.

One index lookup per request (every match with its facet values); the filters, the facet counts (each facet
counted under the other facets' filters, so a chosen value's alternatives stay visible) and the page are
computed from that list.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pvpp_kg.errors import BadRequest
from pvpp_kg.namespaces import LANGS
from pvpp_kg.search.models import Facets, FacetValue, Match, Result, SearchResults, Suggestion, Suggestions
from pvpp_kg.store import textindex
from pvpp_kg.store.textindex import Hit

MAX_QUERY_CHARS = 200
MAX_PAGE_SIZE = 100
FACETS = ("kind", "institution_type", "sector", "lang")
PVPP = "https://w3id.org/pvpp/ontology#"
INSTITUTION_TYPES = ("Ministry", "StateCity", "Novads", "OtherInstitution")  # the ontology's leaf classes


@dataclass(frozen=True)
class Filters:
    kind: frozenset[str] = frozenset()
    institution_type: frozenset[str] = frozenset()
    sector: frozenset[str] = frozenset()
    lang: frozenset[str] = frozenset()

    def passes(self, hit: Hit, *, skip: str | None = None) -> bool:
        for name in FACETS:
            wanted = getattr(self, name)
            if name == skip or not wanted:
                continue
            if not wanted & facet_values(hit, name):
                return False
        return True


def key_of(iri: str | None) -> str | None:
    """The facet value of an IRI: an ontology class's local name, an institution's key."""
    if iri is None:
        return None
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def facet_values(hit: Hit, name: str) -> frozenset[str]:
    if name == "kind":
        return frozenset((hit.kind,))
    if name == "institution_type":
        return frozenset(filter(None, (key_of(hit.inst_type),)))
    if name == "sector":
        return frozenset(filter(None, (key_of(hit.sector),)))
    return hit.langs or frozenset(LANGS)  # only codes matched: a language-neutral match


def check_query(q: str | None) -> str:
    text = (q or "").strip()
    if not text:
        raise BadRequest("q: give the text to search for (1 to 200 characters)")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"q: the text is {len(text)} characters long; at most {MAX_QUERY_CHARS} are searched")
    return text


def check_filters(params: Mapping[str, Sequence[str]], known_sectors: Iterable[str]) -> Filters:
    """The facet filters from the request's parameters; an unknown facet or value is a 400 naming it."""
    kinds = {k["kind"] for k in textindex.kinds()}
    allowed = {
        "kind": kinds,
        "institution_type": set(INSTITUTION_TYPES),
        "sector": set(known_sectors),
        "lang": set(LANGS),
    }
    chosen: dict[str, frozenset[str]] = {}
    for name in FACETS:
        values = {v for raw in params.get(name, ()) for v in raw.split(",") if v}
        if name == "lang":  # a tag by its primary subtag, as langMatches and pvppfn:search read it (lv-LV: lv)
            values = {v.split("-")[0].lower() for v in values}
        unknown = sorted(values - allowed[name])
        if unknown:
            some = ", ".join(sorted(allowed[name])[:20])
            raise BadRequest(f"{name}: unknown value {unknown[0]!r}; known values: {some}")
        chosen[name] = frozenset(values)
    return Filters(**chosen)


def page_of(iri: str, base_iri: str) -> str:
    """The resource's page on this server: its path for the project's IRIs, else the IRI itself."""
    return "/" + iri[len(base_iri) :] if iri.startswith(base_iri) else iri


def _label(hit: Hit, names: Mapping[str, tuple[str | None, str | None]], ui: str) -> str:
    lv, en = names.get(hit.iri, (None, None))
    first, second = (lv, en) if ui == "lv" else (en, lv)
    return first or second or hit.text


def _shown(hit: Hit, names: Mapping[str, tuple[str | None, str | None]], ui: str) -> str:
    """The text a match shows: a hidden label (a misspelling people type) is found but never shown."""
    if hit.field != "hidden":
        return hit.text
    lv, en = names.get(hit.iri, (None, None))
    return (lv, en)[ui != "lv"] or lv or en or hit.iri.rsplit("/", 1)[-1]


_CACHED = 256
_cache: OrderedDict[tuple[str, str, Filters], tuple[list[Hit], dict[str, Counter[str]]]] = OrderedDict()
_cache_lock = threading.Lock()


def _matches(
    conn: sqlite3.Connection, query: str, version: str, filters: Filters
) -> tuple[list[Hit], dict[str, Counter[str]]]:
    """The matches of ``query`` that pass ``filters`` and the facet counts, in the index of data version
    ``version``; remembered for the next requests (the next pages, the results page after a suggestion)."""
    key = (version, query, filters)
    with _cache_lock:
        held = _cache.get(key)
        if held is not None:
            _cache.move_to_end(key)
            return held
    hits = textindex.search(conn, query)
    held = ([h for h in hits if filters.passes(h)], _counts(hits, filters))
    with _cache_lock:
        _cache[key] = held
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return held


def _counts(hits: list[Hit], filters: Filters) -> dict[str, Counter[str]]:
    """Each facet's values counted over the hits that pass the other facets' filters."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    active = [name for name in FACETS if getattr(filters, name)]
    for hit in hits:
        values = {name: facet_values(hit, name) for name in FACETS}
        failed = [name for name in active if not getattr(filters, name) & values[name]]
        if len(failed) > 1:
            continue
        for name in FACETS:
            if not failed or failed == [name]:
                counts[name].update(values[name])
    return counts


def _kind_labels(ui: str) -> dict[str, str]:
    return {k["kind"]: k[f"label_{ui}"] for k in textindex.kinds()}


def _sectors(conn: sqlite3.Connection) -> dict[str, str]:
    """Ministry key -> IRI, for every sector in the index."""
    return {
        key_of(r[0]) or r[0]: r[0]
        for r in conn.execute("SELECT DISTINCT sector FROM institutions WHERE sector IS NOT NULL")
    }


def search(
    conn: sqlite3.Connection,
    q: str | None,
    params: Mapping[str, Sequence[str]],
    *,
    page: int,
    size: int,
    ui: str,
    base_iri: str,
    version: str,
) -> SearchResults:
    query = check_query(q)
    if page < 1:
        raise BadRequest("page: pages are numbered from 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(f"size: give 1 to {MAX_PAGE_SIZE} results per page")
    sectors = _sectors(conn)
    filters = check_filters(params, sectors)
    chosen, counts = _matches(conn, query, version, filters)

    kind_labels = _kind_labels(ui)
    ui_index = 0 if ui == "lv" else 1
    type_iris = [PVPP + t for t in INSTITUTION_TYPES]
    shown = chosen[(page - 1) * size : page * size]
    names = textindex.labels(
        conn, [*type_iris, *sectors.values(), *(h.institution for h in shown if h.institution), *(h.iri for h in shown)]
    )

    def name(iri: str | None) -> str | None:
        if iri is None:
            return None
        pair = names.get(iri)
        return (pair[ui_index] or pair[1 - ui_index]) if pair else None

    def values(facet: str, labels: Mapping[str, str]) -> list[FacetValue]:
        wanted = getattr(filters, facet)
        return [
            FacetValue(value=v, label=labels.get(v, v), count=n, selected=v in wanted)
            for v, n in sorted(counts[facet].items(), key=lambda vn: (-vn[1], vn[0]))
        ]

    facets = Facets(
        kind=values("kind", kind_labels),
        institution_type=values("institution_type", {t: name(PVPP + t) or t for t in INSTITUTION_TYPES}),
        sector=values("sector", {k: name(iri) or k for k, iri in sectors.items()}),
        lang=values(
            "lang", {"lv": "latviski" if ui == "lv" else "Latvian", "en": "angliski" if ui == "lv" else "English"}
        ),
    )
    results = [
        Result(
            iri=h.iri,
            page=page_of(h.iri, base_iri),
            label=_label(h, names, ui),
            label_lv=names.get(h.iri, (None, None))[0],
            label_en=names.get(h.iri, (None, None))[1],
            kind=h.kind,
            kind_label=kind_labels.get(h.kind, h.kind),
            institution=h.institution,
            institution_label=name(h.institution),
            institution_type=key_of(h.inst_type),
            sector=key_of(h.sector),
            score=h.score,
            match=Match(text=_shown(h, names, ui), field=h.field, langs=sorted(h.langs)),
        )
        for h in shown
    ]
    return SearchResults(
        query=query,
        total=len(chosen),
        page=page,
        size=size,
        pages=max(1, -(-len(chosen) // size)),
        version=version,
        results=results,
        facets=facets,
    )


def suggest(conn: sqlite3.Connection, q: str | None, *, limit: int, ui: str, base_iri: str) -> Suggestions:
    """The best few names for a half-typed query (names, other names and codes; not descriptions)."""
    query = check_query(q)
    if not 1 <= limit <= 20:
        raise BadRequest("limit: give 1 to 20 suggestions")
    hits = textindex.suggest(conn, query, limit=limit)
    names = textindex.labels(conn, [h.iri for h in hits])
    kind_labels = _kind_labels(ui)
    return Suggestions(
        query=query,
        suggestions=[
            Suggestion(
                label=_label(h, names, ui),
                iri=h.iri,
                page=page_of(h.iri, base_iri),
                kind=h.kind,
                kind_label=kind_labels.get(h.kind, h.kind),
                match=_shown(h, names, ui),
            )
            for h in hits
        ],
    )
