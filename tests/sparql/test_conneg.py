"""Content negotiation table: Accept header → chosen format."""

from __future__ import annotations

import pytest

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import NotAcceptable
from pvpp_kg.store.query_text import inspect, reaches_network


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/sparql-results+xml", "xml"),
        ("application/json", "json"),
        ("text/csv;q=0.5, text/tab-separated-values;q=0.6", "tsv"),
        ("text/*", "csv"),
        ("text/*;q=0.9, text/csv;q=0.1", "tsv"),
        ("application/xml, text/csv;q=0.2", "xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
        ("application/sparql-results+json;q=0, */*;q=0.1", "xml"),
    ],
)
def test_results(accept: str | None, expected: str) -> None:
    assert negotiate(accept, formats.RESULT_FORMATS).name == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "jsonld"),
        ("application/json", "jsonld"),
        ("text/plain", "ntriples"),
        ("application/rdf+xml;q=1, text/turtle;q=0.9", "rdfxml"),
        ("application/n-quads", "nquads"),
        ("*/*", "turtle"),
    ],
)
def test_graphs(accept: str, expected: str) -> None:
    assert negotiate(accept, formats.GRAPH_FORMATS).name == expected


@pytest.mark.parametrize("accept", ["image/png", "text/csv;q=0", "application/json;q=0"])
def test_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        negotiate(accept, formats.RESULT_FORMATS if "json" not in accept else (formats.JSON,))


def test_format_parameter_wins() -> None:
    assert negotiate("text/html", formats.RESULT_FORMATS, format_param="csv").name == "csv"
    with pytest.raises(NotAcceptable):
        negotiate(None, formats.RESULT_FORMATS, format_param="pdf")


@pytest.mark.parametrize(
    ("text", "form", "service", "dataset"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT", False, False),
        ("prefix x: <http://e/> ask { x:a x:b 'SELECT' }", "ASK", False, False),
        ("# CONSTRUCT\nDESCRIBE <urn:x>", "DESCRIBE", False, False),
        ("SELECT * FROM <urn:g> { ?s ?p ?o }", "SELECT", False, True),
        ("SELECT * { ?from <urn:p> ?service }", "SELECT", False, False),
        ("SELECT * { SERVICE <http://e/sparql> { ?s ?p ?o } }", "SELECT", True, False),
        ("select * { service   <http://e/sparql> { ?s ?p ?o } }", "SELECT", True, False),
        ('SELECT * { ?s ?p """SERVICE "quoted" """ }', "SELECT", False, False),
        ("PREFIX : <http://e/> DELETE WHERE { ?s :p ?o }", "UPDATE", False, False),
        ("LOAD <http://e/data.ttl>", "UPDATE", True, False),
    ],
)
def test_inspect(text: str, form: str, service: bool, dataset: bool) -> None:
    info = inspect(text)
    assert (info.form, reaches_network(text), info.has_dataset_clause) == (form, service, dataset)


def test_a_remembered_choice_is_the_callers_own_format_object() -> None:
    """Choices are cached by value; callers compare the result with ``is`` against the formats they offered."""
    mine = formats.Format("json", "application/json", "", "json")
    theirs = formats.Format("json", "application/json", "", "json")
    assert mine == theirs and mine is not theirs
    assert negotiate("application/json", (formats.HTML, theirs)) is theirs
    assert negotiate("application/json", (formats.HTML, mine)) is mine
    assert negotiate(None, (formats.HTML, mine), format_param="json") is mine
    with pytest.raises(NotAcceptable):  # refusals are not remembered as answers
        negotiate("image/png", (formats.HTML, mine))
    with pytest.raises(NotAcceptable):
        negotiate("image/png", (formats.HTML, mine))
