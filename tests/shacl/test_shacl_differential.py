"""Differential test: pvpp_kg.shacl and pyshacl give the same report on generated policy data with violations.

For each seed, ``pvpp-kg generate --preset tiny --violations 0.05`` (the real CLI, in a subprocess) writes a
dataset (about 78 institutions, 160 services, 4,600 quads; all of it is used, no subset: pyshacl needs 3-4 s
for both layers); it is read as one submission (its triples) and merged by ``Validator.merge`` with the
reference data and shapes/context.ttl, as validation does. Both layers (the PVPP policy shapes and the vendored
CPSV-AP 3.2.0 shapes) then run over that store in both engines, and EVERY result (focus, path, value, shape,
component, severity) of the full report, i.e. for all focus nodes and not only the submission's, must be equal,
as must the messages the shapes define. The violations the generator promises must be among the results, so the
comparison is never vacuous. See tests/shacl_compare.py for how rows are compared.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from pvpp_kg import shacl
from pvpp_kg.namespaces import SH
from pvpp_kg.settings import Settings
from pvpp_kg.validation.parse import parse_document
from pvpp_kg.validation.validator import POLICY_LAYERS, Validator, validator_for
from tests.conftest import generate_tiny
from tests.shacl_compare import (
    MINE,
    data_graph,
    difference,
    engine_messages,
    engine_rows,
    mine,
    pyshacl_messages,
    pyshacl_rows,
    run_pyshacl,
    shapes_with_messages,
)

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def validator(settings: Settings) -> Validator:
    return validator_for(settings)


def _generate(seed: int, out: Path) -> tuple[bytes, list[dict[str, str]]]:
    """The N-Triples of a generated tiny dataset, and the violations it promises (its sidecar file)."""
    generate_tiny(out, seed=seed)
    quads = ox.parse(out.read_bytes(), format=ox.RdfFormat.N_QUADS)
    nt = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)
    sidecar = json.loads(out.with_name(out.name + ".violations.json").read_text(encoding="utf-8"))
    return nt, sidecar["violations"]


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_data_engine_equals_pyshacl(validator: Validator, tmp_path: Path, seed: int) -> None:
    nt, promised = _generate(seed, tmp_path / f"tiny-{seed}.nq")
    assert promised, "the generator promised no violation"
    store, _ = validator.merge(parse_document(nt, filename=f"tiny-{seed}.nt"))
    full = data_graph(store)
    ours = mine(store)
    violations: dict[str, Counter[tuple[str, str | None]]] = {}
    for layer in POLICY_LAYERS:
        shapes = validator.pvpp_shapes if layer == "pvpp" else validator.cpsv_shapes
        compiled = validator.engines[layer]
        report = shacl.validate(store, compiled)  # every focus node: the full report, no `only`
        reference = run_pyshacl(full, shapes)
        native, expected = engine_rows(report), pyshacl_rows(reference, shapes)
        assert native == expected, f"seed {seed}, layer {layer}:\n{difference(native, expected)}"
        with_messages = shapes_with_messages(compiled)
        assert engine_messages(report, with_messages) == pyshacl_messages(reference, with_messages), (seed, layer)
        # and as the validator runs it, on the submission's own nodes
        restricted = engine_rows(shacl.validate(store, compiled, only=MINE))
        assert restricted == pyshacl_rows(reference, shapes, ours.__contains__), (seed, layer)
        violations[layer] = Counter(
            (str(r[0]), r[1] and r[1].strip("<>")) for r in native.elements() if r[5] == SH.Violation
        )
    assert sum(violations["pvpp"].values()) > 0 and sum(violations["cpsv-ap"].values()) > 0
    for v in promised:
        assert violations["pvpp"][(v["focus"], v["path"])] > 0, v
