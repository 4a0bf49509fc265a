"""The validation module's pure functions: safe parsing, format detection, report renderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from pvpp_kg.errors import InputError, UnsupportedMediaType
from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.validation.parse import detect_format, parse_document
from pvpp_kg.validation.report import report_html, report_json, report_rdf, report_text
from pvpp_kg.validation.validator import validator_for

SHAPES = Path(__file__).parents[1] / "data" / "shapes"
BASE = (SHAPES / "base.ttl").read_bytes()


@pytest.mark.parametrize(
    ("media_type", "filename", "expected"),
    [
        ("text/turtle; charset=utf-8", None, "turtle"),
        ("application/ld+json", None, "jsonld"),
        ("application/rdf+xml", None, "rdfxml"),
        ("application/n-triples", None, "ntriples"),
        ("application/octet-stream", "x.xlsx", "xlsx"),
        (None, "services.csv", "csv"),
        (None, "a.ttl", "turtle"),
    ],
)
def test_detect_format(media_type: str | None, filename: str | None, expected: str) -> None:
    assert detect_format(media_type, filename) == expected


def test_unknown_format_is_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        detect_format("application/pdf", None)
    with pytest.raises(UnsupportedMediaType):
        detect_format(None, None)


def test_same_data_in_every_rdf_syntax() -> None:
    g = parse_document(BASE, media_type="text/turtle")
    for fmt, mt in (
        ("json-ld", "application/ld+json"),
        ("xml", "application/rdf+xml"),
        ("nt", "application/n-triples"),
    ):
        again = parse_document(g.graph().serialize(format=fmt, encoding="utf-8"), media_type=mt)
        assert len(again) == len(g), fmt


def test_parsed_terms_are_as_the_store_keeps_them() -> None:
    """One copy of each triple, canonical literals, a blank node named alike wherever it occurs, language tags."""
    from rdflib import BNode, Literal
    from rdflib.namespace import XSD

    document = parse_document(
        """@prefix x: <urn:x#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        x:a x:v "99.0"^^xsd:decimal , "099"^^xsd:integer , "Rīga"@LV , "plain" ; x:b [ x:c x:d ] .
        x:a x:v "99.00"^^xsd:decimal .""".encode(),
        media_type="text/turtle",
    )
    assert len(document) == 6  # "99.0" and "99.00" are one decimal
    g = document.graph()
    x = "urn:x#"
    assert set(g.objects(URIRef(x + "a"), URIRef(x + "v"))) == {
        Literal("99", datatype=XSD.decimal),
        Literal("99", datatype=XSD.integer),
        Literal("Rīga", lang="lv"),
        Literal("plain"),
    }
    (blank,) = g.objects(URIRef(x + "a"), URIRef(x + "b"))
    assert isinstance(blank, BNode) and (blank, URIRef(x + "c"), URIRef(x + "d")) in g
    assert len(g) == 6


@pytest.mark.parametrize(
    ("data", "media_type", "needle"),
    [
        (b'{"@context": "http://schema.org/", "name": "x"}', "application/ld+json", "remote @context"),
        (b'{"@context": {"@import": "http://x/c"}, "@id": "http://x/a"}', "application/ld+json", "remote @context"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]><x/>', "application/rdf+xml", "DOCTYPE"),
        (
            b"<http://x/o> <http://www.w3.org/2002/07/owl#imports> <file:///etc/passwd> .",
            "application/n-triples",
            "owl:imports",
        ),
        (b"   \n", "text/turtle", "empty"),
        (b'{"@id": ', "application/ld+json", "malformed JSON-LD"),
    ],
)
def test_unsafe_or_unusable_input_is_refused(data: bytes, media_type: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_document(data, media_type=media_type, filename="up")


def test_doctype_error_names_line_and_column() -> None:
    with pytest.raises(InputError) as e:
        parse_document(b'<?xml version="1.0"?>\n  <!DOCTYPE x>', media_type="application/rdf+xml")
    assert (e.value.line, e.value.column) == (2, 3)


def test_renderings(settings: Settings) -> None:
    data = parse_document((SHAPES / "service-owner-missing.ttl").read_bytes(), media_type="text/turtle")
    report = validator_for(settings).validate(data, lang="lv")
    summary = report_json(report)
    assert summary["conforms"] is False and summary["violations"] == report.count("Violation") >= 1
    json.dumps(summary)
    shacl = Graph().parse(data=report_rdf(report, "turtle"), format="turtle")
    assert (None, SH.conforms, None) in shacl and len(list(shacl.subjects(SH.focusNode, None))) == len(report.results)
    assert len(Graph().parse(data=report_rdf(report, "json-ld"), format="json-ld")) == len(shacl)
    assert "neatbilst" in report_text(report)
    page = report_html(report)
    assert page.count('<tr class="violation"') == report.count("Violation") and 'lang="lv"' in page
    assert "Pārkāpums" in page and ">Violation<" not in page  # severities in the page's language


def test_reports_only_on_the_submission(settings: Settings) -> None:
    """Reference data is never reported against: a submission that only links to it conforms."""
    g = parse_document(
        b"<https://w3id.org/pvpp/id/x> <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
        b"<https://w3id.org/pvpp/id/institution/vsaa> .",
        media_type="application/n-triples",
    )
    assert validator_for(settings).validate(g).results == []


def test_concurrent_validations_are_capped(make_settings) -> None:  # noqa: ANN001
    """With every slot taken, another validation waits for one instead of running alongside."""
    import threading

    from pvpp_kg.validation.validator import Validator

    validator = Validator(make_settings(max_concurrent_validations=2))
    data = parse_document((SHAPES / "base.ttl").read_bytes(), filename="base.ttl")
    for _ in range(2):  # two validations are running
        validator.slots.acquire()
    done: list[bool] = []
    waiting = threading.Thread(target=lambda: done.append(validator.validate(data).conforms))
    waiting.start()
    waiting.join(1.0)
    assert waiting.is_alive() and not done  # the third waits for a slot
    validator.slots.release()
    waiting.join(60)
    assert done == [True]
    validator.slots.release()


def test_report_graph_carries_messages_added_for_cpsv_ap_shapes(settings: Settings) -> None:
    """CPSV-AP shapes carry no sh:message: the validator writes one in each language (no raw engine text), and
    the SHACL report graph, built only when asked for, has both."""
    data = parse_document((SHAPES / "cpsv-identifier-missing.ttl").read_bytes(), filename="x.ttl")
    report = validator_for(settings).validate(data, lang="lv")
    [result] = [r for r in report.results if r.layer == "cpsv-ap" and r.path == "http://purl.org/dc/terms/identifier"]
    assert result.message == "Trūkst obligātas vērtības: identifikators (dct:identifier)."
    assert result.messages["en"] == "A required value is missing: identifier (dct:identifier)."
    shacl = Graph().parse(data=report_rdf(report, "turtle"), format="turtle")
    [node] = shacl.subjects(SH.resultPath, URIRef("http://purl.org/dc/terms/identifier"))
    assert {(str(m), m.language) for m in shacl.objects(node, SH.resultMessage)} == {
        ("Trūkst obligātas vērtības: identifikators (dct:identifier).", "lv"),
        ("A required value is missing: identifier (dct:identifier).", "en"),
    }


def test_a_sparql_constraints_result_names_its_constraint_with_its_query(settings: Settings) -> None:
    """sh:sourceConstraint of a SPARQL constraint (a blank node in the shapes) is copied with its triples, as a
    blank-node shape is: it was an empty "[ ]" that said nothing of the rule."""
    data = parse_document((SHAPES / "service-manager-not-ps.ttl").read_bytes(), filename="x.ttl")
    report = validator_for(settings).validate(data, lang="en")
    g = Graph().parse(data=report_rdf(report, "turtle"), format="turtle")
    constraints = set(g.objects(None, SH.sourceConstraint))
    assert constraints
    for c in constraints:
        assert (c, RDF.type, SH.SPARQLConstraint) in g and "org:role role:PS" in str(g.value(c, SH.select))


@pytest.mark.parametrize(
    ("fixtures", "expected"),
    [
        # each fixture is base.ttl with one change; these changes are additions, so their union keeps all three
        (
            ("service-manager-two.ttl", "post-two-holders.ttl", "sla-availability-out-of-range.ttl"),
            {
                ("pvpp", "service/lm/pabalsts", "ontology#serviceManager"),
                ("pvpp", "post/lm/pv", "org#heldBy"),
                ("pvpp", "sla/lm/pabalsts", "ontology#availabilityTarget"),
            },
        ),
        (("cpsv-identifier-missing.ttl",), {("cpsv-ap", "service/lm/pabalsts", "identifier")}),
    ],
)
def test_checks_side_by_side_give_the_same_report(
    make_settings,
    fixtures: tuple[str, ...],  # noqa: ANN001
    expected: set[tuple[str, str, str]],
) -> None:
    """The SHACL queries of one validation run on a thread pool (``PVPP_VALIDATION_THREADS``): on one thread or
    on three, the same results in the same order."""
    from pvpp_kg.validation.validator import Validator

    data = sum(
        (parse_document((SHAPES / name).read_bytes(), filename=name) for name in fixtures[1:]),
        parse_document((SHAPES / fixtures[0]).read_bytes(), filename=fixtures[0]),
    )
    reports = [Validator(make_settings(validation_threads=n)).validate(data) for n in (1, 3)]
    # (each validator parses the shapes anew, so a blank-node shape has another label in each)
    one, three = (
        [(r.focus, r.path, r.severity, r.messages, r.value, r.component, r.layer) for r in report.results]
        for report in reports
    )
    assert one == three
    violations = {
        (r.layer, r.focus.rsplit("/id/", 1)[1], r.path.rsplit("/", 1)[1])
        for r in reports[1].results
        if r.severity == "Violation" and r.path
    }
    assert violations == expected


def test_validator_for_follows_the_thread_setting(make_settings) -> None:  # noqa: ANN001
    """One validator per configuration, the thread count included: one thread means no pool at all."""
    assert validator_for(make_settings(validation_threads=1)).map is map
    assert validator_for(make_settings(validation_threads=2)).map is not map
