"""HermiT (via owlready2) finds the ontology and its data consistent, and rejects a known contradiction.

owlready2 cannot read Turtle, so each graph is serialised to N-Triples in a temp file and loaded into a fresh
World. ``xsd:date`` and ``xsd:duration`` (validFrom, reactionTime …) are outside the OWL 2 datatype map,
so HermiT is told to ignore unsupported datatypes instead of aborting.
"""

from __future__ import annotations

from pathlib import Path

import owlready2
import pytest
from rdflib import Graph

from pvpp_kg.settings import Settings
from pvpp_kg.store.sources import ontology_sources, public_graph, reference_sources

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parents[1] / "data" / "inconsistent-service.ttl"


def hermit_consistent(g: Graph, tmp_path: Path) -> bool:
    path = tmp_path / "graph.nt"
    g.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load(format="ntriples")
    try:
        with onto:
            owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    finally:
        world.close()
    return True


def ontology_and_reference() -> Graph:
    g = Graph()
    settings = Settings()
    for source in [*ontology_sources(settings), *reference_sources(settings)]:
        g += source.to_graph()
    return g


def test_ontology_and_reference_are_consistent(tmp_path: Path) -> None:
    g = ontology_and_reference()
    assert len(g) > 3000
    assert hermit_consistent(g, tmp_path)


def test_disjoint_service_kinds_are_detected(tmp_path: Path) -> None:
    g = ontology_and_reference()
    g.parse(FIXTURE)
    assert not hermit_consistent(g, tmp_path)


def test_public_graph_is_consistent(tmp_path: Path) -> None:
    """Everything the public store loads: ontology, reference, institutions and the sample."""
    g = public_graph(Settings())
    assert hermit_consistent(g, tmp_path)
