"""Linked data as pure functions: server path ↔ IRI, representations and their headers, and the page model.

Every IRI under the public base (``https://w3id.org/pvpp/``) is answered by this server at the same path
(``https://w3id.org/pvpp/id/role/IPKS`` ↔ ``/id/role/IPKS``), so the mapping works on any host. The
description of a resource is its outgoing and incoming triples (the incoming ones are capped, because a
role or a kind concept can be the object of many thousands of triples), labelled in the reader's language.

People's names and contact data never leave the restricted store; ``scrub_personal`` is a second line of
defence applied to everything the public pages and dumps render, should such a triple ever be loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from pvpp_kg import formats, rq
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest
from pvpp_kg.formats import Format
from pvpp_kg.namespaces import LANGS, PREFIXES
from pvpp_kg.personal import PERSON_CLASSES, PERSONAL_PREDICATES, about_person

DEFAULT_LANG = "lv"  # the policy's own language; English labels are working translations
INCOMING_LIMIT = 1000  # the LIMIT of rq/lod-incoming.rq and rq/lod-describe.rq

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Every offered representation of a resource, HTML first (browsers), then RDF in preference order.
RESOURCE_FORMATS: tuple[Format, ...] = (formats.HTML, *formats.TRIPLE_FORMATS)
# a named graph also as a dataset of that one graph, its name kept (N-Quads, TriG), as Oxigraph server gives it
GRAPH_FORMATS: tuple[Format, ...] = (*RESOURCE_FORMATS, formats.NQUADS, formats.TRIG)


# -- languages ---------------------------------------------------------------------------------------
def choose_lang(param: str | None, accept_language: str | None, default: str = DEFAULT_LANG) -> str:
    """``?lang=`` wins (the visible switch), then the best of lv/en in Accept-Language, else ``default`` (Latvian:
    a page's reader; an API names English)."""
    if param and param.lower() in LANGS:
        return param.lower()
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        tag = fields[0].lower().split("-")[0]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGS and q > 0 and (best is None or q > best[0]):
            best = (q, tag)
    return best[1] if best else default


# -- IRIs and paths ----------------------------------------------------------------------------------
def iri_for_path(base: str, path: str) -> str:
    """The public IRI that a server path stands for (``/id/role/IPKS`` → ``{base}id/role/IPKS``)."""
    return base + path.lstrip("/")


def is_iri(text: str) -> bool:
    """Whether ``text`` is an IRI at all: a path with ``<``, a space or a control character names nothing (404)."""
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def href_for(iri: str, base: str) -> str:
    """Where a browser on this server opens ``iri``: our own IRIs locally, other http(s) IRIs as they are, and any
    other scheme as this endpoint's description of it: a link straight to a ``javascript:`` or ``data:`` IRI
    that a submission states would run in the reader's page."""
    if iri.startswith(base):
        return "/" + iri[len(base) :]
    if iri.lower().startswith(("http://", "https://")):
        return iri
    return "/sparql?" + urlencode({"query": f"DESCRIBE <{iri}>", "format": "turtle"})


def split_extension(path: str, offered: tuple[Format, ...] = RESOURCE_FORMATS) -> tuple[str, Format | None]:
    """``id/role/IPKS.ttl`` → (``id/role/IPKS``, Turtle); paths without a known RDF/HTML extension unchanged."""
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        return path, None
    fmt = formats.by_extension(ext, offered)
    return (stem, fmt) if fmt else (path, None)


def choose_representation(
    path: str, accept: str | None, format_param: str | None, offered: tuple[Format, ...] = RESOURCE_FORMATS
) -> tuple[str, Format]:
    """The path without its extension and the chosen form: the extension wins, else ``?format=``, else Accept."""
    stem, by_ext = split_extension(path, offered)
    if by_ext is not None:
        return stem, by_ext
    return path, negotiate(accept, offered, format_param=format_param)


def representation_headers(
    path: str, fmt: Format, lang: str | None = None, offered: tuple[Format, ...] = RESOURCE_FORMATS
) -> dict[str, str]:
    """``Vary``, ``Content-Location`` (the extension URL of ``fmt``) and ``Link`` to every alternate form."""
    links = ", ".join(f'<{quote(path)}.{f.extension}>; rel="alternate"; type="{f.media_type}"' for f in offered)
    h = {"Vary": "Accept, Accept-Language", "Content-Location": quote(f"{path}.{fmt.extension}"), "Link": links}
    if lang:
        h["Content-Language"] = lang
    return h


def alternates(path: str, offered: tuple[Format, ...] = RESOURCE_FORMATS) -> list[dict[str, str]]:
    """The RDF forms of a page, for its "also as" links."""
    names = {
        "html": "HTML",
        "turtle": "Turtle",
        "jsonld": "JSON-LD",
        "rdfxml": "RDF/XML",
        "ntriples": "N-Triples",
        "nquads": "N-Quads",
        "trig": "TriG",
    }
    return [
        {"name": names[f.name], "href": f"{path}.{f.extension}", "type": f.media_type}
        for f in offered
        if f is not formats.HTML
    ]


def sparql_href(query: str) -> str:
    """A link that runs ``query`` on this server's endpoint, answered as CSV."""
    return "/sparql?format=csv&query=" + quote(query)


def resource_query_href(iri: str) -> str:
    """The "see it in SPARQL" link of a resource page: its outgoing triples."""
    return sparql_href(rq.load("lod-resource-link").replace("$iri", f"<{iri}>"))


def curie(iri: str) -> str:
    """``pvpp:Role`` for the project's prefixes, else the IRI (shown next to labels on pages)."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, name = ns, prefix
    if not best:
        return iri
    local = iri[len(best) :]
    return f"{name}:{local}" if local and all(c.isalnum() or c in "-_." for c in local) else iri


def local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


# -- SPARQL JSON results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    kind: str  # "uri" | "literal" | "bnode"
    value: str
    lang: str | None = None
    datatype: str | None = None


def parse_solutions(body: bytes) -> list[dict[str, Term]]:
    """SPARQL 1.1 JSON results → rows of terms (unbound variables are absent)."""
    doc = json.loads(body)
    rows: list[dict[str, Term]] = []
    for b in doc.get("results", {}).get("bindings", []):
        row = {}
        for var, t in b.items():
            kind = "uri" if t["type"] == "uri" else "bnode" if t["type"] == "bnode" else "literal"
            row[var] = Term(kind, t["value"], t.get("xml:lang"), t.get("datatype"))
        rows.append(row)
    return rows


def parse_boolean(body: bytes) -> bool:
    """The answer of an ASK in SPARQL 1.1 JSON results."""
    return bool(json.loads(body).get("boolean"))


def pick_label(labels: Iterable[Term], lang: str) -> str | None:
    """The label in ``lang``, else an untagged one, else the other language's (never empty-handed)."""
    by_lang: dict[str | None, str] = {}
    for t in labels:
        key = (t.lang or "").split("-")[0].lower() or None
        by_lang.setdefault(key, t.value)
    for key in (lang, None, *LANGS):
        if key in by_lang:
            return by_lang[key]
    return next(iter(by_lang.values()), None)


# -- the page model ----------------------------------------------------------------------------------
@dataclass
class Link:
    iri: str
    href: str
    label: str
    curie: str


@dataclass
class Value:
    """One object of a property: a link (IRI), a literal (with language/datatype) or a blank node."""

    text: str
    link: Link | None = None
    lang: str | None = None
    datatype: str | None = None


@dataclass
class PropertyValues:
    predicate: Link
    values: list[Value] = field(default_factory=list)


@dataclass
class Responsibility:
    task: Link
    role: Link
    code: str  # "A" responsible, "L" co-responsible
    label: str


@dataclass
class Participation:
    """A ``cv:Participation`` node as a reader sees it: "role X of Y" (in context Z)."""

    node: Link
    role: Link | None
    participant: Link | None
    context: Link | None

    def text(self, lang: str, here: str | None = None) -> str:
        """ "role PS of LAD for …" / "loma PS — LAD (…)"; on the participant's or the context's own page (``here``)
        that part is left out."""
        out = f"{'loma' if lang == 'lv' else 'role'} {self.role.label if self.role else '?'}"
        if self.participant and self.participant.iri != here:
            out += f" — {self.participant.label}" if lang == "lv" else f" of {self.participant.label}"
        if self.context and self.context.iri != here:
            out += f" ({self.context.label})" if lang == "lv" else f" for {self.context.label}"
        return out


@dataclass
class ResourceView:
    iri: str
    label: str
    lang: str
    types: list[Link]
    properties: list[PropertyValues]
    inverse: list[PropertyValues]
    responsibilities: list[Responsibility]
    incoming_truncated: bool
    is_task: bool
    is_role: bool
    participations: list[Participation] = field(default_factory=list)


@dataclass
class IndexView:
    """An index page ``/id/{kind}``: one page of its members."""

    kind: str
    members: list[Link]
    total: int
    page: int
    pages: int
    size: int


INDEX_PAGE_SIZE = 100


def participations(rows: list[dict[str, Term]], lang: str, base: str) -> dict[str, Participation]:
    """The participation nodes of ``rq/lod-participations.rq`` rows, by IRI."""
    grouped: dict[str, dict[str, list[Term]]] = {}
    for r in rows:
        g = grouped.setdefault(r["part"].value, {k: [] for k in ("role", "who", "ctx", "rl", "wl", "cl")})
        for k in g:
            if k in r:
                g[k].append(r[k])
    out = {}
    for part, g in grouped.items():

        def link(key: str, labels: str, g: dict[str, list[Term]] = g) -> Link | None:
            return _link(g[key][0].value, g[labels], lang, base) if g[key] else None

        node = Link(part, href_for(part, base), local_name(part), curie(part))
        p = Participation(node, link("role", "rl"), link("who", "wl"), link("ctx", "cl"))
        node.label = p.text(lang)
        out[part] = p
    return out


def index_view(
    kind: str, members: list[tuple[str, list[Term]]], lang: str, base: str, page: int, size: int = INDEX_PAGE_SIZE
) -> IndexView:
    """One page (1-based) of an index's members, labelled in the reader's language; a page past the last is a 400,
    as on /compliance: a page that is not there is no page to show."""
    pages = max(1, -(-len(members) // size))
    if page > pages:
        raise BadRequest(f"page {page} is past the last page of /id/{kind} ({pages})")
    page = max(1, page)
    chosen = members[(page - 1) * size : page * size]
    return IndexView(kind, [_link(iri, labels, lang, base) for iri, labels in chosen], len(members), page, pages, size)


def index_members(rows: list[dict[str, Term]]) -> list[tuple[str, list[Term]]]:
    """``rq/lod-index.rq`` rows → (IRI, labels), in natural order of the IRIs' local names."""
    labels: dict[str, list[Term]] = {}
    for r in rows:
        if r["x"].kind != "uri":
            continue
        labels.setdefault(r["x"].value, [])
        if "label" in r:
            labels[r["x"].value].append(r["label"])
    return sorted(labels.items(), key=lambda item: _natural(item[0]))


def _link(iri: str, labels: Iterable[Term], lang: str, base: str) -> Link:
    return Link(iri, href_for(iri, base), pick_label(labels, lang) or local_name(iri) or iri, curie(iri))


def _is_person(iri: str, types: Iterable[str], base: str) -> bool:
    return iri.startswith(base + "id/person/") or any(t in PERSON_CLASSES for t in types)


def scrub_personal(triples: Iterable[tuple[str, str, str]], person_subjects: set[str]) -> list[tuple[str, str, str]]:
    """Drop name/contact triples of people (subjects in ``person_subjects``); keeps everything else."""
    return [t for t in triples if not (t[0] in person_subjects and t[1] in PERSONAL_PREDICATES)]


def _filter_literals(values: list[Value], lang: str) -> list[Value]:
    """Literals in the reader's language (plus untagged ones); all of them if none is in that language."""
    tagged = [v for v in values if v.link is None and v.lang]
    if not tagged:
        return values
    mine = [v for v in tagged if v.lang.split("-")[0].lower() == lang]  # type: ignore[union-attr]
    if not mine:
        return values
    return [v for v in values if v.link is not None or not v.lang or v in mine]


HIDDEN_LABEL = "http://www.w3.org/2004/02/skos/core#hiddenLabel"


def build_view(
    iri: str,
    outgoing: list[dict[str, Term]],
    incoming: list[dict[str, Term]],
    responsibilities: list[dict[str, Term]],
    lang: str,
    base: str,
    participation_rows: list[dict[str, Term]] | None = None,
) -> ResourceView:
    """Group query rows into the page model: properties, inverse links, the A/L table and the participations
    (a participation node shows as "role X of Y", never as its hash)."""
    parts = participations(participation_rows or [], lang, base)
    types = sorted({r["o"].value for r in outgoing if r["p"].value == RDF_TYPE and r["o"].kind == "uri"})
    person = _is_person(iri, types, base)
    pred_labels: dict[str, list[Term]] = {}
    obj_labels: dict[str, list[Term]] = {}
    objects: dict[str, dict[tuple[str, str, str | None, str | None], None]] = {}
    for r in outgoing:
        p, o = r["p"].value, r["o"]
        if (person and about_person(p, o.kind == "literal")) or p == HIDDEN_LABEL:
            continue  # a hidden label is for finding (a misspelling people type), never for showing
        pred_labels.setdefault(p, [])
        if "pl" in r:
            pred_labels[p].append(r["pl"])
        if "ol" in r:
            obj_labels.setdefault(o.value, []).append(r["ol"])
        objects.setdefault(p, {})[(o.kind, o.value, o.lang, o.datatype)] = None

    own_labels = [
        Term("literal", o[1], o[2])
        for p in (
            "http://www.w3.org/2004/02/skos/core#prefLabel",
            "http://www.w3.org/2000/01/rdf-schema#label",
            "http://purl.org/dc/terms/title",
        )
        for o in objects.get(p, {})
        if o[0] == "literal"
    ]
    label = pick_label(own_labels, lang) or (parts[iri].text(lang) if iri in parts else None) or local_name(iri) or iri

    properties: list[PropertyValues] = []
    for p, objs in objects.items():
        if p == RDF_TYPE:
            continue
        values = []
        for kind, value, olang, dtype in objs:
            if kind == "uri":
                link = _link(value, obj_labels.get(value, []), lang, base)
                if value in parts:
                    link.label = parts[value].text(lang, iri)
                values.append(Value(link.label, link))
            elif kind == "bnode":
                values.append(Value("[ … ]"))
            else:
                values.append(Value(value, None, olang, dtype))
        values = _filter_literals(values, lang)
        values.sort(key=lambda v: (v.link is None, v.text.lower()))
        properties.append(PropertyValues(_link(p, pred_labels.get(p, []), lang, base), values))
    properties.sort(key=lambda pv: pv.predicate.label.lower())

    in_pred_labels: dict[str, list[Term]] = {}
    subj_labels: dict[str, list[Term]] = {}
    subjects: dict[str, dict[str, None]] = {}
    for r in incoming:
        x, p = r["x"], r["p"].value
        if x.kind != "uri":
            continue
        in_pred_labels.setdefault(p, [])
        if "pl" in r:
            in_pred_labels[p].append(r["pl"])
        if "xl" in r:
            subj_labels.setdefault(x.value, []).append(r["xl"])
        subjects.setdefault(p, {})[x.value] = None
    inverse = []
    for p, subs in subjects.items():
        links = [_link(s, subj_labels.get(s, []), lang, base) for s in subs]
        for lk in links:
            if lk.iri in parts:
                lk.label = parts[lk.iri].text(lang, iri)
        links.sort(key=lambda lk: lk.label.lower())
        inverse.append(
            PropertyValues(_link(p, in_pred_labels.get(p, []), lang, base), [Value(lk.label, lk) for lk in links])
        )
    inverse.sort(key=lambda pv: pv.predicate.label.lower())

    resp: dict[tuple[str, str], Responsibility] = {}
    grouped: dict[tuple[str, str], dict[str, list[Term]]] = {}
    for r in responsibilities:
        key = (r["task"].value, r["role"].value)
        g = grouped.setdefault(key, {"tl": [], "rl": [], "respl": [], "resp": []})
        g["resp"].append(r["resp"])
        for k in ("tl", "rl", "respl"):
            if k in r:
                g[k].append(r[k])
    for (task, role), g in grouped.items():
        code = local_name(g["resp"][0].value)
        resp[(task, role)] = Responsibility(
            _link(task, g["tl"], lang, base),
            _link(role, g["rl"], lang, base),
            code,
            pick_label(g["respl"], lang) or code,
        )
    is_task = any(t.endswith("#ManagementTask") for t in types) or any(k[0] == iri for k in resp)
    is_role = any(t.endswith("#Role") for t in types) or any(k[1] == iri for k in resp)
    ordered = sorted(resp.values(), key=lambda x: (_natural(local_name(x.task.iri)), _natural(local_name(x.role.iri))))

    return ResourceView(
        iri=iri,
        label=label,
        lang=lang,
        types=[_link(t, obj_labels.get(t, []), lang, base) for t in types],
        properties=properties,
        inverse=inverse,
        responsibilities=ordered,
        incoming_truncated=len({(r["x"].value, r["p"].value) for r in incoming}) >= INCOMING_LIMIT,
        is_task=is_task,
        is_role=is_role,
        participations=sorted(
            (p for p in parts.values() if p.node.iri != iri), key=lambda p: (p.text(lang, iri).lower(), p.node.iri)
        ),
    )


def _natural(s: str) -> tuple[object, ...]:
    """Sort key so that PU2-9 comes before PU2-10."""
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))
