"""Every PVPP rule: a conforming and a violating fixture (tests/data/shapes/), checked in Latvian and English."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF

from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.validation.parse import parse_files
from pvpp_kg.validation.report import Report
from pvpp_kg.validation.validator import Validator, validator_for

SHAPES = Path(__file__).parents[1] / "data" / "shapes"
EXPECTED = list(csv.DictReader((SHAPES / "expected.csv").open(encoding="utf-8")))
SAMPLE = sorted((Path(__file__).parents[2] / "data" / "sample").glob("*.ttl"))


def _validator(settings: Settings, overrides: str) -> Validator:
    if not overrides:
        return validator_for(settings)
    name, value = overrides.split("=")
    return validator_for(settings.model_copy(update={name: int(value)}))


def _messages(shapes: Graph, lang: str) -> set[str]:
    return {str(m) for m in shapes.objects(None, SH.message) if isinstance(m, Literal) and m.language == lang}


def test_base_fixture_conforms_with_no_result(settings: Settings) -> None:
    report = validator_for(settings).validate(parse_files([SHAPES / "base.ttl"], settings))
    assert report.conforms and report.results == []


def test_every_violating_fixture_is_listed() -> None:
    listed = {row["fixture"] for row in EXPECTED}
    on_disk = {p.name for p in SHAPES.glob("*.ttl")} - {"base.ttl"}
    assert listed == on_disk


@pytest.mark.parametrize("row", EXPECTED, ids=[r["fixture"] for r in EXPECTED])
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_violating_fixture(settings: Settings, row: dict[str, str], lang: str) -> None:
    validator = _validator(settings, row["settings"])
    report: Report = validator.validate(parse_files([SHAPES / row["fixture"]], settings), lang=lang)
    hits = [
        r
        for r in report.results
        if r.focus == row["focus"]
        and (r.path or "") == row["path"]
        and r.severity == row["severity"]
        and r.layer == row["layer"]
    ]
    assert hits, f"expected {row} in {[r.to_json() for r in report.results]}"
    hit = hits[0]
    assert hit.message == hit.messages[lang] and hit.message
    other = "en" if lang == "lv" else "lv"
    assert hit.messages[other] and hit.messages[other] != hit.message
    if row["layer"] == "pvpp" and "{" not in hit.message:
        assert hit.message in _messages(validator.pvpp_shapes, lang)
    # the severity decides conformance: warnings never make a submission fail
    assert report.conforms == (not any(r.severity == "Violation" for r in report.results))
    if row["severity"] == "Warning":
        assert report.conforms


def test_workload_threshold_comes_from_settings(settings: Settings) -> None:
    data = parse_files([SHAPES / "person-workload.ttl"], settings)
    assert not [r for r in validator_for(settings).validate(data).results if r.focus.endswith("person/t-3")]
    strict = validator_for(settings.model_copy(update={"max_services_per_person": 3}))
    [hit] = [r for r in strict.validate(data, lang="lv").results if r.focus.endswith("person/t-3")]
    assert hit.severity == "Warning" and "slieksnis" in hit.message  # 4 services > 3


def test_sample_conforms_to_both_layers(settings: Settings) -> None:
    report = validator_for(settings).validate(parse_files(SAMPLE, settings))
    assert report.conforms, [r.to_json() for r in report.results if r.severity == "Violation"]


def test_shapes_graph_is_valid_shacl(settings: Settings) -> None:
    """Both shapes files pass pySHACL's meta-shapes (SHACL-SHACL)."""
    from pyshacl import validate

    for graph in (validator_for(settings).pvpp_shapes, validator_for(settings).cpsv_shapes):
        conforms, _, text = validate(graph, meta_shacl=True, shacl_graph=Graph(), advanced=True)
        assert conforms, text


def test_every_pvpp_shape_has_lv_and_en_messages_and_a_severity(settings: Settings) -> None:
    shapes = validator_for(settings).pvpp_shapes
    constrained = set(shapes.subjects(SH.message, None))
    assert len(constrained) >= 25
    for node in constrained:
        langs = {m.language for m in shapes.objects(node, SH.message)}
        assert {"lv", "en"} <= langs, node
    for node in shapes.subjects(RDF.type, SH.PropertyShape):
        assert shapes.value(node, SH.severity) is not None, node


def test_what_submissions_may_not_state_the_public_views_never_show(settings: Settings) -> None:
    """Every property NoPersonalDataShape refuses is one the public pages, dumps and the store's checks treat as
    a person's name or contact (``pvpp_kg.personal``): the two lists are one policy."""
    import re

    from pvpp_kg.personal import PERSONAL_PREDICATES

    g = Graph().parse(settings.shapes_dir / "submission-shapes.ttl")
    prefixes = {str(g.value(d, SH.prefix)): str(g.value(d, SH.namespace)) for d in g.objects(None, SH.declare)}
    listed: set[str] = set()
    for select in g.objects(None, SH.select):
        for group in re.findall(r"\?path IN \(([^)]*)\)", str(select)):
            for name in re.split(r"[\s,]+", group.strip()):
                prefix, local = name.split(":", 1)
                listed.add(prefixes[prefix] + local)
    assert len(listed) > 40 and "http://schema.org/name" in listed and "https://schema.org/email" in listed
    assert sorted(listed - PERSONAL_PREDICATES) == []


@pytest.mark.parametrize(
    "text",
    [
        "write to janis@example.lv",
        "Jānis Bērziņš, +371 29123456",
        "zvanīt: tālr. 29123456",
        "Kancelejas tel: 67021234",
        "+44 20 7946 0958",
        "29123456",
        "Pieteikumu izskata 5 darba dienās",  # not contacts
        "Tālrunis norādīts iestādes tīmekļvietnē",
        "2024. gada 12345678. lēmums",
    ],
)
def test_the_store_and_the_submission_shapes_read_contacts_alike(settings: Settings, text: str) -> None:
    """An administrator's write is held to what NoPersonalDataShape refuses in a submission: the store's check
    (``pvpp_kg.personal.is_contact``) and the shape's regular expressions agree on every text."""
    import pyoxigraph as ox

    from pvpp_kg.personal import is_contact
    from pvpp_kg.validation.parse import parse_document

    escaped = text.replace('"', '\\"')
    turtle = f'<https://w3id.org/pvpp/id/post/lm/pv> <http://www.w3.org/2000/01/rdf-schema#comment> "{escaped}"@lv .\n'
    report = validator_for(settings).validate(parse_document(turtle.encode(), filename="x.ttl"), layers=("submission",))
    refused = any("contacts are not accepted" in r.message for r in report.results)
    assert refused == is_contact(ox.Literal(text, language="lv"))
