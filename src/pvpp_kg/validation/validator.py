"""The policy's validation: the PVPP and CPSV-AP layers over a submission merged with the reference data.

Two layers of shapes run over one data graph: the PVPP policy shapes (``shapes/pvpp-shapes.ttl``) and the
vendored CPSV-AP 3.2.0 shapes (``shapes/vendor/``). SHACL follows ``rdfs:subClassOf`` and ``sh:class`` only in
the *data* graph, so the ontology, the reference SKOS schemes, the institutions registry and
``shapes/context.ttl`` are merged into it, and the submission is materialised exactly as the loader does.

Results are reported only for what the submission describes (its subjects, and nodes it introduces that the
reference data does not describe), so a flaw in reference data never blocks an institution.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, XSD

from pvpp_kg import rq, shacl
from pvpp_kg.errors import InputError
from pvpp_kg.namespaces import BASE, PVPP
from pvpp_kg.settings import Settings
from pvpp_kg.store.materialise import Entailment, Rules
from pvpp_kg.validation.parse import Document
from pvpp_kg.validation.report import (
    Report,
    report_from,
    sheet_report,
    vocabulary_results,
    with_rules,
    with_vocabulary,
)
from pvpp_kg.validation.spreadsheet import unknown_institutions, unknown_needs

# rdflib logs a stack trace for every ill-formed typed literal ("2024-13-45"^^xsd:date); the shapes report those
logging.getLogger("rdflib.term").setLevel(logging.ERROR)

PVPP_SHAPES = "pvpp-shapes.ttl"
CPSV_SHAPES = "vendor/cpsv-ap-3.2.0-SHACL.ttl"
CPSV_NAMES_LV = "cpsv-ap-names-lv.ttl"  # the Latvian names of the properties CPSV-AP checks
SUBMISSION_SHAPES = "submission-shapes.ttl"
CONTEXT = "context.ttl"
POLICY_LAYERS = ("pvpp", "cpsv-ap")  # what stored data is held to
LAYERS = ("submission", *POLICY_LAYERS)  # what a document is held to: its own, non-personal facts first
MAX_MANAGED = URIRef("https://w3id.org/pvpp/shapes#maxManagedServices")
SH_PATH, SH_NAME = URIRef("http://www.w3.org/ns/shacl#path"), URIRef("http://www.w3.org/ns/shacl#name")


def _load_shapes(shapes_dir: Path, max_services: int) -> tuple[Graph, Graph, Graph, Graph]:
    pvpp = Graph().parse(shapes_dir / PVPP_SHAPES, format="turtle")
    for shape in list(pvpp.subjects(MAX_MANAGED, None)):  # the workload threshold comes from settings
        pvpp.set((shape, MAX_MANAGED, Literal(max_services, datatype=XSD.integer)))
    cpsv = Graph().parse(shapes_dir / CPSV_SHAPES, format="turtle")
    names = Graph().parse(shapes_dir / CPSV_NAMES_LV, format="turtle")
    for shape, path in list(cpsv.subject_objects(SH_PATH)):  # sh:name is not validating: messages only
        for name in names.objects(path, RDFS.label):
            cpsv.add((shape, SH_NAME, name))
    submission = Graph().parse(shapes_dir / SUBMISSION_SHAPES, format="turtle")
    context = Graph().parse(shapes_dir / CONTEXT, format="turtle")
    return pvpp, cpsv, submission, context


def _materialised(graphs: Iterable[tuple[str, Graph]], ontology: Graph) -> ox.Store:
    """The graphs as the store would hold them, materialised by the loader's own step."""
    from pvpp_kg.store.loader import materialised

    def fill(store: ox.Store) -> None:
        for name, g in graphs:
            store.load(
                g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name)
            )

    return materialised(fill, ontology)


def _quads(ntriples: bytes | None) -> list[ox.Quad]:
    """The other institutions' data (N-Triples, as the store's CONSTRUCT gives it) as default-graph quads."""
    return list(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)) if ntriples else []


MINE = ox.NamedNode("urn:x-pvpp-kg:validation:mine")  # the nodes results are reported for, as subjects
_IN = ox.NamedNode("urn:x-pvpp-kg:validation:in")
# what shapes/submission-shapes.ttl reads: the triples as submitted, who submits them, what others describe
STATED = ox.NamedNode("urn:x-pvpp-kg:validation:stated")
DESCRIBED = ox.NamedNode("urn:x-pvpp-kg:validation:described")
_SUBMISSION, _BY = ox.NamedNode("urn:x-pvpp-kg:validation:submission"), ox.NamedNode("urn:x-pvpp-kg:validation:by")


class Validator:
    """Shapes and the materialised reference context, built once per settings; ``validate`` is thread-safe."""

    def __init__(self, settings: Settings) -> None:
        from pvpp_kg.store.loader import ontology_graph
        from pvpp_kg.store.sources import institution_sources, ontology_sources, reference_sources

        self.settings = settings
        self.pvpp_shapes, self.cpsv_shapes, submission, context = _load_shapes(
            settings.shapes_dir, settings.max_services_per_person
        )
        self.engines = {
            "submission": shacl.ShapesGraph(submission),
            "pvpp": shacl.ShapesGraph(self.pvpp_shapes),
            "cpsv-ap": shacl.ShapesGraph(self.cpsv_shapes),
        }
        self.context_subclasses = list(context.subject_objects(RDFS.subClassOf))
        self.ontology = ontology_graph(settings)
        self.terms = frozenset(  # the PVPP ontology's own terms: an upload using another pvpp: IRI mistyped one
            str(s) for s in self.ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(str(PVPP))
        )
        self.entailment = Entailment(Rules.of(self.ontology))
        sources = [*ontology_sources(settings), *reference_sources(settings), *institution_sources(settings)]
        graphs = [(s.graph, s.to_graph()) for s in sources] + [(BASE + "graph/context", context)]
        # the context once, as default-graph quads, so each validation only adds the submission to a fresh store
        store = _materialised(graphs, self.ontology)
        self.context_quads = list(dict.fromkeys(ox.Quad(q.subject, q.predicate, q.object) for q in store))
        self.described = frozenset(q.subject for q in self.context_quads)  # what the reference data describes
        institution = f"{BASE}id/institution/"
        self.institutions = frozenset(n.value for n in self.described if n.value.startswith(institution))
        self.described_quads = [ox.Quad(n, _IN, n, DESCRIBED) for n in self.described]
        self.slots = threading.BoundedSemaphore(max(1, settings.max_concurrent_validations))
        # the root shapes are independent queries, and pyoxigraph evaluates them without the GIL, so they run side
        # by side on every core
        threads = settings.validation_threads or os.cpu_count() or 1
        self.map: Callable[..., Iterable[Any]] = (
            ThreadPoolExecutor(threads, thread_name_prefix="validation").map if threads > 1 else map
        )

    def merge(
        self, data: Document, extra_context: bytes | None = None, institution: str | None = None
    ) -> tuple[ox.Store, int]:
        """The merged, materialised data in one store's default graph, and how many nodes results are reported for
        (listed as subjects of the graph ``MINE``).

        Why in this order: the submission is materialised alone in the default graph of the store the checks
        run on, its nodes are read there, and only then the context is added.
        """
        subjects = {t.subject for t in data.triples}
        store = ox.Store()  # the submission materialised as the loader does, kept in the default graph
        store.bulk_extend(self.materialised(data))
        extra_quads = _quads(extra_context)
        described = self.described | {q.subject for q in extra_quads}
        # report on what the submission describes; a reference node it merely links to (and so gains an
        # inverse triple in the materialised graph) stays the reference data's business
        introduced = [row[0] for row in store.query(rq.load("submission-nodes")) if row[0] not in described]
        mine = subjects | set(introduced)
        store.bulk_extend(self.context_quads)
        store.bulk_extend(extra_quads)
        store.bulk_extend(ox.Quad(n, _IN, MINE, MINE) for n in mine)
        store.bulk_extend(self._submission_markers(data, extra_quads, institution))
        return store, len(mine)

    def materialised(self, data: Document) -> list[ox.Quad]:
        """The document materialised as the loader does (default-graph quads, a duplicate where two triples entail
        the same), made once per document: the preview's diff reads what the validation made."""
        if data.entailed is None or data.entailed[0] is not self.entailment:
            quads = (ox.Quad(t.subject, t.predicate, t.object) for t in data.triples)
            data.entailed = (self.entailment, list(self.entailment.quads(quads, default_graph=True)))
        return data.entailed[1]

    def _submission_markers(
        self, data: Document, extra_quads: list[ox.Quad], institution: str | None
    ) -> Iterable[ox.Quad]:
        """What ``shapes/submission-shapes.ttl`` reads: the triples as stated, the submitter, what others describe."""
        yield from (ox.Quad(t.subject, t.predicate, t.object, STATED) for t in data.triples)
        if institution is not None:
            yield ox.Quad(_SUBMISSION, _BY, ox.NamedNode(f"{BASE}id/institution/{institution}"), STATED)
        yield from self.described_quads
        yield from (ox.Quad(n, _IN, n, DESCRIBED) for n in {q.subject for q in extra_quads} - self.described)

    def refusals(self, data: Document, institution: str, extra_context: bytes | None = None) -> Report:
        """The submission layer alone (own facts, no personal data) on the triples as stated: the final check
        before a write, fast because nothing is materialised."""
        extra_quads = _quads(extra_context)
        store = ox.Store()
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in data.triples)
        store.bulk_extend(self._submission_markers(data, extra_quads, institution))
        engine = self.engines["submission"]
        return report_from([("submission", engine, shacl.validate(store, engine))], "en", len(data))

    def validate(
        self,
        data: Document,
        *,
        lang: str = "en",
        extra_context: bytes | None = None,
        layers: tuple[str, ...] = LAYERS,
        extra_shapes: shacl.ShapesGraph | None = None,
        institution: str | None = None,
    ) -> Report:
        """Validate ``data`` (with the reference data and ``extra_context``) against the chosen layers, and
        against ``extra_shapes`` (a user's own shapes, reported as the layer ``custom``) too. ``institution``:
        who submits it, for the submission layer's own-facts rule."""
        with self.slots:
            store, _ = self.merge(data, extra_context, institution)
            engines = [(layer, self.engines[layer]) for layer in layers]
            engines += [("custom", extra_shapes)] if extra_shapes is not None else []
            with _naming_the_file(extra_shapes):
                reports = shacl.validate_each(store, [e for _, e in engines], only=MINE, map_=self.map)
            found = [(layer, engine, report) for (layer, engine), report in zip(engines, reports, strict=True)]
            described_needs = (
                {row[0].value for row in store.query(rq.load("described-needs"))} if data.origin is not None else set()
            )
        report = report_from(found, lang, len(data))
        if unknown_terms := vocabulary_results(data.triples, self.terms, lang):
            report = with_vocabulary(report, unknown_terms)
        if data.origin is not None:  # a spreadsheet: an institution key neither registry nor store knows, at its cell
            stored: set[str] = set()
            unknown = self._unknown_keys(data, stored, described_needs)
            if unknown and extra_context:  # the stored data read for it may know more (a generated body, a need)
                stored = {q.subject.value for q in _quads(extra_context) if isinstance(q.subject, ox.NamedNode)}
                unknown = self._unknown_keys(data, stored, described_needs)
            if unknown:
                return with_rules(sheet_report(unknown, lang), report)
        return report

    def _unknown_keys(self, data: Document, stored: set[str], needs: set[str]) -> list[Any]:
        """A spreadsheet's cells naming an institution or a need that neither the upload, the reference data nor
        ``stored`` (what the stored data read beside it describes) knows."""
        found = unknown_institutions(data.triples, data.origin, self.institutions | stored)
        return found + unknown_needs(data.triples, data.origin, frozenset(needs | stored))

    def validate_alone(self, data: Document, shapes: shacl.ShapesGraph, *, lang: str = "en") -> Report:
        """Validate ``data`` by itself (no reference data, no policy) against ``shapes``: plain SHACL."""
        with self.slots:
            store = ox.Store()
            store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in data.triples)
            with _naming_the_file(shapes):
                report = shacl.validate(store, shapes, map_=self.map)
        return report_from([("custom", shapes, report)], lang, len(data))


def validate_stored(validator: Validator, store: ox.Store, *, lang: str = "en") -> Report:
    """Validate everything a loaded store holds, in place (its graphs read as one, nothing copied or written),
    against both policy layers, with ``shapes/context.ttl``'s class axioms read as data. The report's ``triples``
    stays 0: counting a store's quads reads all of them (0.3 s on the national graph, holding the GIL), and the
    revalidation, its one caller, never reads the count."""
    engines = [validator.engines[layer] for layer in POLICY_LAYERS]
    with validator.slots:  # both layers' roots in one list: the threads stay busy to the end
        reports = shacl.validate_each(
            store, engines, union=True, map_=validator.map, extra_subclasses=validator.context_subclasses
        )
    found = list(zip(POLICY_LAYERS, engines, reports, strict=True))
    return report_from(found, lang, 0)


@contextlib.contextmanager
def _naming_the_file(shapes: shacl.ShapesGraph | None) -> Iterator[None]:
    """A user's shape found ill-formed while validating (one that reaches itself on the data) is refused as input
    naming the file it is in, as the shapes' other errors are when they are read."""
    try:
        yield
    except shacl.ShapesError as e:
        sources: dict[Any, str] = getattr(shapes, "sources", {})
        if e.shape not in sources:
            raise
        raise InputError(e.message, source=sources[e.shape]) from None


def user_shapes(documents: Iterable[tuple[str, Graph]]) -> shacl.ShapesGraph:
    """Shapes a user brings (CLI ``--shapes``, the ``shapes`` field of /validate), compiled as one shapes graph;
    an ill-formed one is an :class:`InputError` naming its file and shape."""
    merged = Graph()
    sources: dict[Any, str] = {}  # each shape's file, for the errors found only while validating
    for source, g in documents:
        for subject in set(g.subjects()):
            sources.setdefault(subject, source)
        try:
            shacl.ShapesGraph(g)  # alone first, so that an error names the file it is in
        except shacl.ShapesError as e:
            raise InputError(e.message, source=source) from None
        except RecursionError:  # a path or list thousands of levels deep: compiled by recursion
            raise InputError("the shapes nest too deeply to be read", source=source) from None
        merged += g
    try:
        compiled = shacl.ShapesGraph(merged)
    except shacl.ShapesError as e:
        raise InputError(e.message, source="the shapes files together") from None
    compiled.sources = sources  # type: ignore[attr-defined]
    return compiled


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
