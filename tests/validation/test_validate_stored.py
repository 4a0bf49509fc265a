"""The whole loaded store validated in place (``validation.validate_stored``): nothing copied or written, and the
same report as validating a copy of the same triples with ``shapes/context.ttl`` merged in."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest
from rdflib import Graph

from pvpp_kg import shacl
from pvpp_kg.settings import Settings
from pvpp_kg.shacl.terms import to_ox
from pvpp_kg.store.dataload import load_data
from pvpp_kg.store.loader import open_stores
from pvpp_kg.validation.validator import LAYERS, Validator, validate_stored
from tests.conftest import generate_tiny
from tests.shacl_compare import engine_rows


@pytest.fixture(scope="module")
def loaded(make_settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:  # type: ignore[no-untyped-def]
    """A store with the real sources and a generated tiny dataset that breaks rules (5 % of its services)."""
    settings = make_settings(include_sample=False)
    out = tmp_path_factory.mktemp("generated") / "tiny.nq"
    generate_tiny(out)
    load_data(settings, [out])
    return settings


def test_in_place_equals_a_copy(loaded: Settings) -> None:
    validator = Validator(loaded)
    stored = open_stores(loaded)[0]
    version = stored.version()
    reader = stored.reader()
    report = validate_stored(validator, reader)
    assert stored.version() == version  # nothing written

    # the copy: every triple once in a default graph, with the class axioms validation merges
    copy = ox.Store()
    copy.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in reader)  # blank nodes keep their ids
    context = Graph().parse(loaded.shapes_dir / "context.ttl")
    copy.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in context)
    expected: Counter[object] = Counter()
    for layer in LAYERS:
        expected += engine_rows(shacl.validate(copy, validator.engines[layer]))
    found = engine_rows(shacl.Report(report.engine_results))
    assert found == expected
    by_layer = Counter(r.layer for r in report.results)
    assert by_layer["pvpp"] > 0 and by_layer["cpsv-ap"] > 0 and not report.conforms


def test_every_result_reads_in_both_languages(loaded: Settings) -> None:
    """No raw engine text on any layer: each result has a lv and an en message, the CPSV-AP ones naming the
    property in the message's language (``shapes/cpsv-ap-names-lv.ttl``), and severities are translated."""
    from pvpp_kg.validation.report import report_csv

    validator = Validator(loaded)
    report = validate_stored(validator, open_stores(loaded)[0].reader(), lang="lv")
    assert report.results
    for r in report.results:
        assert r.messages.keys() == {"lv", "en"} and all(r.messages.values()), r
        assert not any(raw in r.messages["en"] for raw in ("values on", "Less than", "->")), r
    names = Graph().parse(loaded.shapes_dir / "cpsv-ap-names-lv.ttl")
    lv_name = {str(p): str(n) for p, n in names.subject_objects()}
    cpsv = [r for r in report.results if r.layer == "cpsv-ap" and r.path]
    assert cpsv and all(f"{lv_name[r.path]} (" in r.messages["lv"] for r in cpsv)
    competent = [r for r in cpsv if r.path == "http://data.europa.eu/m8g/hasCompetentAuthority"]
    assert competent and competent[0].messages == {
        "lv": "Trūkst obligātas vērtības: kompetentā iestāde (cv:hasCompetentAuthority).",
        "en": "A required value is missing: has competent authority (cv:hasCompetentAuthority).",
    }
    lines = report_csv(report).splitlines()[1:]
    assert {line.split(",", 1)[0] for line in lines} <= {"Pārkāpums", "Brīdinājums", "Informācija"}
    counts = report.rule_counts()
    assert sum(n for *_, n in counts) == len(report.results)
    assert {layer for layer, *_ in counts} == {"pvpp", "cpsv-ap"}
