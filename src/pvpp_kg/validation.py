"""SHACL validation of institution data: parse safely, merge with the reference data, run both layers, report.

Two layers of shapes run over one data graph: the PVPP policy shapes (``shapes/pvpp-shapes.ttl``) and the
vendored CPSV-AP 3.2.0 shapes (``shapes/vendor/``). SHACL follows ``rdfs:subClassOf`` and ``sh:class`` only in
the *data* graph, so the ontology, the reference SKOS schemes, the institutions registry and
``shapes/context.ttl`` are merged into it, and the submission is materialised exactly as the loader does.

Results are reported only for what the submission describes (its subjects, and nodes it introduces that the
reference data does not describe), so a flaw in reference data never blocks an institution.

Nothing is fetched from the network: remote JSON-LD contexts, XML DOCTYPEs/entities and ``owl:imports`` are
refused with an :class:`InputError` before or right after parsing.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from pvpp_kg import rq, shacl
from pvpp_kg.errors import InputError, UnsupportedMediaType
from pvpp_kg.materialise import materialisation_updates
from pvpp_kg.namespaces import BASE, PREFIXES, SH
from pvpp_kg.settings import Settings
from pvpp_kg.shacl.terms import to_ox, to_rdflib
from pvpp_kg.store import parse_error

# rdflib logs a stack trace for every ill-formed typed literal ("2024-13-45"^^xsd:date); the shapes report those
logging.getLogger("rdflib.term").setLevel(logging.ERROR)

PVPP_SHAPES = "pvpp-shapes.ttl"
CPSV_SHAPES = "vendor/cpsv-ap-3.2.0-SHACL.ttl"
CONTEXT = "context.ttl"
LAYERS = ("pvpp", "cpsv-ap")
LANGS = ("lv", "en")
MAX_MANAGED = URIRef("https://w3id.org/pvpp/shapes#maxManagedServices")

# document formats: name → (pyoxigraph format or None for the spreadsheet, media types, file extensions)
FORMATS: dict[str, tuple[ox.RdfFormat | None, tuple[str, ...], tuple[str, ...]]] = {
    "turtle": (ox.RdfFormat.TURTLE, ("text/turtle", "application/x-turtle"), ("ttl",)),
    "ntriples": (ox.RdfFormat.N_TRIPLES, ("application/n-triples", "text/plain"), ("nt",)),
    "jsonld": (ox.RdfFormat.JSON_LD, ("application/ld+json", "application/json"), ("jsonld", "json")),
    "rdfxml": (ox.RdfFormat.RDF_XML, ("application/rdf+xml", "application/xml", "text/xml"), ("rdf", "xml", "owl")),
    "csv": (None, ("text/csv",), ("csv",)),
    "xlsx": (None, ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",), ("xlsx",)),
}


# ---------------------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------------------


def detect_format(media_type: str | None, filename: str | None) -> str:
    """The document format from a media type, else from the file extension; 415 when neither says."""
    ctype = (media_type or "").split(";")[0].strip().lower()
    generic = ("", "application/octet-stream", "multipart/form-data", "application/x-www-form-urlencoded")
    if ctype not in generic:
        for name, (_, types, _) in FORMATS.items():
            if ctype in types:
                return name
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        for name, (_, _, exts) in FORMATS.items():
            if ext in exts:
                return name
    known = ", ".join(t for _, types, _ in FORMATS.values() for t in types[:1])
    raise UnsupportedMediaType(
        f"unsupported or missing content type {ctype or '(none)'!r}"
        f"{f' for {filename}' if filename else ''}; send one of: {known}"
    )


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
        raise InputError(
            f"malformed XML: {expat.errors.messages[e.code]}", source=source, line=e.lineno, column=e.offset + 1
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


def _check_jsonld(data: bytes, source: str) -> None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8: {e}", source=source) from None
    except json.JSONDecodeError as e:
        raise InputError(f"malformed JSON-LD: {e.msg}", source=source, line=e.lineno, column=e.colno) from None
    for ctx in _remote_contexts(doc):
        raise InputError(
            f"JSON-LD with a remote @context ({ctx!r}) is refused: pvpp-kg fetches nothing; "
            "inline the context as an object",
            source=source,
        )


def parse_rdf(data: bytes, fmt: str, source: str) -> Graph:
    """Parse one RDF document without touching the network; errors name source, line and column."""
    if not data.strip():
        raise InputError("the document is empty", source=source)
    if fmt == "rdfxml":
        _check_xml(data, source)
        _check_well_formed(data, source)
    elif fmt == "jsonld":
        _check_jsonld(data, source)
    rdf_format = FORMATS[fmt][0]
    assert rdf_format is not None
    try:
        triples = list(ox.parse(data, format=rdf_format, base_iri=BASE + "id/"))
    except SyntaxError as e:
        raise parse_error(e, source) from None
    except (ValueError, OSError) as e:
        raise InputError(f"cannot parse as {fmt}: {e}", source=source) from None
    # through a store: it keeps one copy of each triple and canonical literals ("99.0"^^xsd:decimal is "99"), as
    # the stored data will have them; its terms go to rdflib directly (rdflib's own N-Triples parser took 2x as long)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    graph = Graph()
    graph.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), graph) for q in store)
    _check_imports(graph, source)
    if len(graph) == 0:
        raise InputError(
            "the document holds no triples (a submission would erase the institution's data)", source=source
        )
    return graph


def _check_imports(graph: Graph, source: str) -> None:
    for _, target in graph.subject_objects(OWL.imports):
        if str(target) != BASE + "ontology":
            raise InputError(
                f"owl:imports <{target}> is refused: pvpp-kg never fetches imports; remove the "
                "statement (the PVPP ontology and reference data are always present)",
                source=source,
            )


Document = Graph  # a parsed submission, as the validator and the submission flow take it


def parse_document(
    data: bytes, *, media_type: str | None = None, filename: str | None = None, sheet: str | None = None
) -> Document:
    """Any accepted document (RDF or the spreadsheet template) as an rdflib graph."""
    fmt = detect_format(media_type, filename)
    source = filename or "request body"
    if fmt in ("csv", "xlsx"):
        from pvpp_kg import spreadsheet

        if not data.strip():
            raise InputError("the document is empty", source=source)
        if fmt == "xlsx":
            return spreadsheet.xlsx_to_graph(data, source=source)
        name = sheet or (Path(filename).stem if filename else None)
        return spreadsheet.csv_to_graph(data, sheet=name, source=source)
    return parse_rdf(data, fmt, source)


def parse_files(paths: Iterable[Path], settings: Settings) -> Graph:
    """Several files (CLI) as one graph; size-limited like an HTTP body."""
    from pvpp_kg.errors import PayloadTooLarge

    graph = Graph()
    for path in paths:
        try:
            size = path.stat().st_size
            if size > settings.max_body_bytes:
                raise PayloadTooLarge(f"{path}: {size} bytes, over the limit of {settings.max_body_bytes}")
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", source=str(path)) from None
        graph += parse_document(data, filename=str(path))
    return graph


# ---------------------------------------------------------------------------------------------------------------
# the validator
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    focus: str
    path: str | None
    severity: str  # Violation | Warning | Info
    message: str
    messages: dict[str, str]
    value: str | None
    shape: str
    component: str
    layer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "focusNode": self.focus,
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
            "sourceShape": self.shape,
            "constraint": self.component,
            "layer": self.layer,
        }


@dataclass
class Report:
    conforms: bool
    results: list[Result]
    lang: str
    engine_results: list[shacl.Result] = field(default_factory=list, repr=False)  # the same, as the engine's
    triples: int = 0

    @cached_property
    def graph(self) -> Graph:
        """The SHACL validation report (sh:ValidationReport with every result, messages in lv and en)."""
        g = shacl.Report(self.engine_results).graph()
        g.set((next(g.subjects(RDF.type, SH.ValidationReport)), SH.conforms, Literal(self.conforms)))
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        return g

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def by_focus(self) -> dict[str, list[Result]]:
        out: dict[str, list[Result]] = {}
        for r in self.results:
            out.setdefault(r.focus, []).append(r)
        return out


def _load_shapes(shapes_dir: Path, max_services: int) -> tuple[Graph, Graph, Graph]:
    pvpp = Graph().parse(shapes_dir / PVPP_SHAPES, format="turtle")
    for shape in list(pvpp.subjects(MAX_MANAGED, None)):  # the workload threshold comes from settings
        pvpp.set((shape, MAX_MANAGED, Literal(max_services, datatype=XSD.integer)))
    cpsv = Graph().parse(shapes_dir / CPSV_SHAPES, format="turtle")
    context = Graph().parse(shapes_dir / CONTEXT, format="turtle")
    return pvpp, cpsv, context


def _materialised(graphs: Iterable[tuple[str, Graph]], ontology: Graph) -> ox.Store:
    """The graphs as the store would hold them, materialised by the loader's own step."""
    from pvpp_kg.loader import materialised

    def fill(store: ox.Store) -> None:
        for name, g in graphs:
            store.load(
                g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name)
            )

    return materialised(fill, ontology)


MINE = ox.NamedNode("urn:x-pvpp-kg:validation:mine")  # the nodes results are reported for, as subjects
_IN = ox.NamedNode("urn:x-pvpp-kg:validation:in")


class Validator:
    """Shapes and the materialised reference context, built once per settings; ``validate`` is thread-safe."""

    def __init__(self, settings: Settings) -> None:
        from pvpp_kg.loader import ontology_graph
        from pvpp_kg.sources import institution_sources, ontology_sources, reference_sources

        self.settings = settings
        self.pvpp_shapes, self.cpsv_shapes, context = _load_shapes(
            settings.shapes_dir, settings.max_services_per_person
        )
        self.engines = {"pvpp": shacl.ShapesGraph(self.pvpp_shapes), "cpsv-ap": shacl.ShapesGraph(self.cpsv_shapes)}
        self.context_subclasses = list(context.subject_objects(RDFS.subClassOf))
        self.ontology = ontology_graph(settings)
        self.submission_updates = materialisation_updates(self.ontology, default_graph=True)  # see merge()
        sources = [*ontology_sources(settings), *reference_sources(settings), *institution_sources(settings)]
        graphs = [(s.graph, s.to_graph()) for s in sources] + [(BASE + "graph/context", context)]
        # the context once, as default-graph quads, so each validation only adds the submission to a fresh store
        store = _materialised(graphs, self.ontology)
        self.context_quads = list(dict.fromkeys(ox.Quad(q.subject, q.predicate, q.object) for q in store))
        self.described = frozenset(q.subject for q in self.context_quads)  # what the reference data describes
        self.slots = threading.BoundedSemaphore(max(1, settings.max_concurrent_validations))
        # the root shapes are independent queries, and pyoxigraph evaluates them without the GIL: on two cores a
        # 1,000-service submission's checks take half the time side by side
        threads = settings.validation_threads or os.cpu_count() or 1
        self.map: Callable[..., Iterable[Any]] = (
            ThreadPoolExecutor(threads, thread_name_prefix="validation").map if threads > 1 else map
        )

    def merge(self, data: Graph, extra_context: Graph | None = None) -> tuple[ox.Store, int]:
        """The merged, materialised data in one store's default graph, and how many nodes results are reported for
        (listed as subjects of the graph ``MINE``).

        Why in this order: the submission is materialised alone in the default graph of the store the checks
        run on, its nodes are read there, and only then the context is added.
        """
        store = ox.Store()
        store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)
        subjects = [row[0] for row in store.query(rq.load("submission-subjects"))]
        for update in self.submission_updates:
            store.update(update)
        extra_quads = (
            [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in extra_context] if extra_context is not None else []
        )
        described = self.described | {q.subject for q in extra_quads}
        # report on what the submission describes; a reference node it merely links to (and so gains an
        # inverse triple in the materialised graph) stays the reference data's business
        introduced = [row[0] for row in store.query(rq.load("submission-nodes")) if row[0] not in described]
        mine = set(subjects) | set(introduced)
        store.bulk_extend(self.context_quads)
        store.bulk_extend(extra_quads)
        store.bulk_extend(ox.Quad(n, _IN, MINE, MINE) for n in mine)
        return store, len(mine)

    def validate(
        self,
        data: Graph,
        *,
        lang: str = "en",
        extra_context: Graph | None = None,
        layers: tuple[str, ...] = LAYERS,
        extra_shapes: shacl.ShapesGraph | None = None,
    ) -> Report:
        """Validate ``data`` (with the reference data and ``extra_context``) against the chosen layers, and
        against ``extra_shapes`` (a user's own shapes, reported as the layer ``custom``) too."""
        with self.slots:
            store, _ = self.merge(data, extra_context)
            engines = [(layer, self.engines[layer]) for layer in layers]
            engines += [("custom", extra_shapes)] if extra_shapes is not None else []
            found = [
                (layer, engine, shacl.validate(store, engine, only=MINE, map_=self.map)) for layer, engine in engines
            ]
        return _report(found, lang, len(data))

    def validate_alone(self, data: Graph, shapes: shacl.ShapesGraph, *, lang: str = "en") -> Report:
        """Validate ``data`` by itself (no reference data, no policy) against ``shapes``: plain SHACL."""
        with self.slots:
            store = ox.Store()
            store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)
            originals = shacl.originals(o for o in data.objects() if isinstance(o, Literal))
            report = shacl.validate(store, shapes, originals=originals, map_=self.map)
        return _report([("custom", shapes, report)], lang, len(data))


def validate_stored(validator: Validator, store: ox.Store, *, lang: str = "en") -> Report:
    """Validate everything a loaded store holds, in place (its graphs read as one, nothing copied or written),
    against both policy layers, with ``shapes/context.ttl``'s class axioms read as data."""
    with validator.slots:
        found = [
            (
                layer,
                validator.engines[layer],
                shacl.validate(
                    store,
                    validator.engines[layer],
                    union=True,
                    map_=validator.map,
                    extra_subclasses=validator.context_subclasses,
                ),
            )
            for layer in LAYERS
        ]
    return _report(found, lang, len(store))


def user_shapes(documents: Iterable[tuple[str, Graph]]) -> shacl.ShapesGraph:
    """Shapes a user brings (CLI ``--shapes``, the ``shapes`` field of /validate), compiled as one shapes graph;
    an ill-formed one is an :class:`InputError` naming its file and shape."""
    merged = Graph()
    for source, g in documents:
        try:
            shacl.ShapesGraph(g)  # alone first, so that an error names the file it is in
        except shacl.ShapesError as e:
            raise InputError(e.message, source=source) from None
        merged += g
    try:
        return shacl.ShapesGraph(merged)
    except shacl.ShapesError as e:
        raise InputError(e.message, source="the shapes files together") from None


def _report(found: list[tuple[str, shacl.ShapesGraph, shacl.Report]], lang: str, triples: int) -> Report:
    """The engine's reports as one: results with messages in both languages, violations first."""
    results: list[Result] = []
    engine_results: list[shacl.Result] = []
    for layer, engine, report in found:
        for r in report.results:
            result, full = _result(r, engine.g, lang, layer)
            results.append(result)
            engine_results.append(full)
    order = sorted(
        range(len(results)),
        key=lambda i: (
            _SEVERITY_ORDER.get(results[i].severity, 9),
            results[i].focus,
            results[i].path or "",
            results[i].message,
        ),
    )
    results = [results[i] for i in order]
    engine_results = [engine_results[i] for i in order]
    conforms = not any(r.severity == "Violation" for r in results)
    return Report(conforms, results, lang, engine_results, triples)


_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}

# messages for the CPSV-AP shapes, which carry none: by constraint component, in both languages
_COMPONENT_MESSAGES = {
    "MinCountConstraintComponent": ("Trūkst obligātas vērtības: {path}.", "A required value is missing: {path}."),
    "MaxCountConstraintComponent": ("Pārāk daudz vērtību: {path}.", "Too many values: {path}."),
    "ClassConstraintComponent": (
        "Vērtība {value} nav prasītās klases ({path}).",
        "The value {value} is not of the required class ({path}).",
    ),
    "DatatypeConstraintComponent": (
        "Vērtībai {value} ir nepareizs datu tips ({path}).",
        "The value {value} has the wrong datatype ({path}).",
    ),
    "NodeKindConstraintComponent": (
        "Vērtībai {value} ir nepareizs mezgla veids ({path}).",
        "The value {value} has the wrong node kind ({path}).",
    ),
}


_OTHER_MESSAGES = {
    "cpsv-ap": ("Neatbilst CPSV-AP prasībai ({path}).", "Does not meet a CPSV-AP requirement ({path})."),
    "custom": ("Neatbilst formas prasībai ({path}).", "Does not meet a requirement of the shape ({path})."),
}


def _short(node: Any) -> str:
    text = str(node)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns):
            return f"{prefix}:{text[len(ns) :]}"
    return text


@lru_cache(maxsize=4096)
def _shape_messages(shapes: Graph, shape: Node) -> dict[str, str]:
    """A shape's own sh:message (or its SPARQL constraint's), by language."""
    found: dict[str, str] = {}
    for node in (shape, *shapes.objects(shape, SH.sparql)):
        for m in shapes.objects(node, SH.message):
            if isinstance(m, Literal) and m.language in LANGS:
                found[m.language] = str(m)
    return found


def _result(r: shacl.Result, shapes: Graph, lang: str, layer: str) -> tuple[Result, shacl.Result]:
    """One result with messages in both languages, and the engine's result carrying the same messages."""
    component = str(r.component).rsplit("#", 1)[-1]
    messages = {m.language or "": str(m) for m in r.messages}
    path = r.path.node if isinstance(r.path, shacl.Path) else r.path
    value = None if r.value is None else to_rdflib(r.value)
    if not {"lv", "en"} <= messages.keys():  # a SPARQL constraint may carry only some: ask the shape
        messages.update(_shape_messages(shapes, r.shape))
    if not {"lv", "en"} <= messages.keys():
        lv, en = _COMPONENT_MESSAGES.get(component, _OTHER_MESSAGES.get(layer, _OTHER_MESSAGES["custom"]))
        shown = r.path.sparql if isinstance(r.path, shacl.Path) and not isinstance(path, URIRef) else path
        fill = {
            "path": _short(shown) if shown is not None else "—",
            "value": _short(value) if value is not None else "—",
        }
        messages.setdefault("lv", lv.format(**fill))
        messages.setdefault("en", messages.get("", en.format(**fill)))
    result = Result(
        focus=str(to_rdflib(r.focus)),
        path=str(path) if isinstance(path, URIRef) else (None if path is None else "(path)"),
        severity=str(r.severity).rsplit("#", 1)[-1],
        message=messages.get(lang, ""),
        messages=messages,
        value=None if value is None else str(value),
        shape=str(r.shape),
        component=component,
        layer=layer,
    )
    literals = tuple(_message_literal(text, key) for key, text in messages.items() if key in LANGS)
    return result, dataclasses.replace(r, messages=literals)


@lru_cache(maxsize=4096)
def _message_literal(text: str, lang: str) -> Literal:
    """A message literal, made once per text: a report repeats a few messages thousands of times."""
    return Literal(text, lang=lang)


_validators: dict[tuple[Any, ...], Validator] = {}
_validators_lock = threading.Lock()


def validator_for(settings: Settings) -> Validator:
    """One validator per configuration (shapes and context are reloaded only when the settings differ)."""
    key = (
        settings.shapes_dir,
        settings.ontology_dir,
        settings.source_dir,
        settings.max_services_per_person,
        settings.max_concurrent_validations,
        settings.validation_threads,
    )
    with _validators_lock:
        if key not in _validators:
            _validators[key] = Validator(settings)
        return _validators[key]


# ---------------------------------------------------------------------------------------------------------------
# renderings
# ---------------------------------------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    return {
        "conforms": report.conforms,
        "lang": report.lang,
        "triples": report.triples,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "infos": report.count("Info"),
        "results": [r.to_json() for r in report.results],
    }


def report_rdf(report: Report, fmt: str = "turtle") -> str:
    """The SHACL validation report graph (``turtle`` or ``json-ld``)."""
    return report.graph.serialize(format=fmt)


def report_text(report: Report) -> str:
    head = {
        "lv": ("atbilst", "neatbilst", "pārkāpumi", "brīdinājumi"),
        "en": ("conforms", "does not conform", "violations", "warnings"),
    }[report.lang]
    lines = [
        f"{head[0] if report.conforms else head[1]}: {report.count('Violation')} {head[2]}, "
        f"{report.count('Warning')} {head[3]}"
    ]
    for r in report.results:
        path = f" {_short(r.path)}" if r.path else ""
        lines.append(f"{r.severity:<9} {_short(r.focus)}{path}: {r.message}")
    return "\n".join(lines) + "\n"


@lru_cache
def _jinja() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=select_autoescape(["html"])
    )
    env.globals["url_for"] = lambda name, path="": f"/static/{path}"
    env.filters["short"] = _short
    return env


def report_html(report: Report) -> str:
    return _jinja().get_template("validation_report.html").render(report=report, lang=report.lang, escape=html.escape)
