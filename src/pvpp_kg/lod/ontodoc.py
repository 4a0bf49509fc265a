"""Ontology documentation with pyLODE, one page per language (lv, en), made once per ontology content.

pyLODE prints every language's labels side by side and cannot pick one (pyLODE #18, #213), so the graph is
narrowed to one language first: for each subject and property the literals in that language are kept (and
untagged ones); where a property has no literal in that language the others stay, so nothing disappears.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import importlib.metadata
import re
import sys
import threading
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from pvpp_kg.lod.resources import LANGS
from pvpp_kg.namespaces import PREFIXES, PVPP

LANG_NAMES = {"lv": "latviski", "en": "English"}


def _ontpub() -> type:
    """pyLODE's OntPub class. pyLODE 3.4 reads its version from a pyproject.toml that wheels do not ship;
    when that import fails, a stand-in ``pylode.version`` module with the installed version is used."""
    try:
        from pylode import OntPub
    except FileNotFoundError:
        for name in [m for m in sys.modules if m == "pylode" or m.startswith("pylode.")]:
            del sys.modules[name]
        stub = types.ModuleType("pylode.version")
        stub.__version__ = importlib.metadata.version("pylode")  # type: ignore[attr-defined]
        sys.modules["pylode.version"] = stub
        OntPub = importlib.import_module("pylode").OntPub
    return OntPub


def localise(g: Graph, lang: str) -> Graph:
    """A copy of ``g`` whose language-tagged literals are those in ``lang`` wherever such exist."""
    has_lang: set[tuple[object, object]] = set()
    for s, p, o in g:
        if isinstance(o, Literal) and o.language and o.language.split("-")[0].lower() == lang:
            has_lang.add((s, p))
    out = Graph()
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns, override=True)
    for s, p, o in g:
        if isinstance(o, Literal) and o.language and o.language.split("-")[0].lower() != lang and (s, p) in has_lang:
            continue
        out.add((s, p, o))
    return out


def language_switch(lang: str, href: Callable[[str], str]) -> str:
    links = " | ".join(
        f"<strong>{LANG_NAMES[code]}</strong>"
        if code == lang
        else f'<a href="{href(code)}" hreflang="{code}" lang="{code}">{LANG_NAMES[code]}</a>'
        for code in LANGS
    )
    return (
        f'<nav aria-label="language" style="padding:.4rem 1rem;border-bottom:1px solid #ddd">'
        f'<a href="/">pvpp-kg</a> · {links}</nav>'
    )


def fragment_ids(g: Graph) -> dict[str, str]:
    """Each term's HTML id: its local name for the ontology's own terms, so that ``/ontology#ManagementTask`` (what
    the hash IRI dereferences to) lands on it; ``prefix_name`` for the terms of other vocabularies
    (``cpsv_PublicService`` beside ``PublicService``). pyLODE would make them from labels, per language."""
    ids: dict[str, str] = {}
    for s in set(g.subjects()):
        iri = str(s)
        if not isinstance(s, URIRef):
            continue
        if iri.startswith(str(PVPP)) and len(iri) > len(str(PVPP)):
            ids[iri] = iri[len(str(PVPP)) :]
            continue
        for prefix, ns in PREFIXES.items():
            local = iri[len(ns) :]
            if iri.startswith(ns) and local and not any(c in local for c in "/#"):
                ids[iri] = f"{prefix}_{local}"
    return ids


@cache
def _headings(lang: str) -> dict[str, str]:
    """pyLODE's own headings ("Sub Class Of", "Domain") in ``lang``: ``pylode-{lang}.csv`` beside this module
    (pyLODE writes them in English only); none for English."""
    path = Path(__file__).with_name(f"pylode-{lang}.csv")
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["en"]: row[lang] for row in csv.DictReader(f)}


def _translate_headings(html: str, lang: str) -> str:
    """Each heading as a whole element text (``>Domain<``), never a word inside a label or a description."""
    headings = _headings(lang)
    if not headings:
        return html
    pattern = re.compile(">(" + "|".join(re.escape(h) for h in sorted(headings, key=len, reverse=True)) + ")<")
    return pattern.sub(lambda m: f">{headings[m.group(1)]}<", html)


def render(g: Graph, lang: str, href: Callable[[str], str]) -> str:
    """pyLODE HTML of ``g`` in ``lang``, with ``<html lang>`` set, its headings in ``lang`` and a visible
    language switch."""
    pub = _ontpub()(localise(g, lang))
    pub.fids.update(fragment_ids(g))  # pyLODE keeps an id it finds there (utils.generate_fid)
    html: str = _translate_headings(pub.make_html(), lang)
    html = re.sub(r"<html[^>]*>", f'<html lang="{lang}">', html, count=1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + language_switch(lang, href), html, count=1)


class OntologyDocs:
    """Cache of the rendered pages, keyed by the sha256 of the ontology's N-Triples and the language."""

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def page(self, ntriples: bytes, lang: str) -> str:
        key = (hashlib.sha256(ntriples).hexdigest(), lang)
        with self._lock:  # pyLODE keeps module state; one rendering at a time
            if key not in self._pages:
                g = Graph().parse(data=ntriples, format="nt")
                self._pages = {k: v for k, v in self._pages.items() if k[0] == key[0]}
                self._pages[key] = render(g, lang, lambda code: f"?lang={code}")
            return self._pages[key]


def write_docs(g: Graph, out: Path) -> list[Path]:
    """Static documentation for ``make docs``: ``ontology-lv.html``, ``ontology-en.html``, ``index.html``
    (Latvian) and the ontology as Turtle."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in LANGS:
        path = out / f"ontology-{lang}.html"
        path.write_text(render(g, lang, lambda code: f"ontology-{code}.html"), encoding="utf-8")
        written.append(path)
    index = out / "index.html"
    index.write_text((out / "ontology-lv.html").read_text(encoding="utf-8"), encoding="utf-8")
    ttl = out / "ontology.ttl"
    g.serialize(ttl, format="turtle")
    return [*written, index, ttl]
