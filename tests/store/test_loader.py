"""The load step: every source in its graph, and the ontology's entailments materialised."""

from __future__ import annotations

import subprocess
import sys

import httpx

from pvpp_kg.settings import Settings
from tests.conftest import LiveServer, settings_env

PREFIXES = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX cpsv: <http://purl.org/vocab/cpsv#>
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX org: <http://www.w3.org/ns/org#>
"""


def ask(server: LiveServer, body: str) -> bool:
    r = httpx.get(server.url + "/sparql", params={"query": PREFIXES + body})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def count(server: LiveServer, where: str) -> int:
    r = httpx.get(server.url + "/sparql", params={"query": PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_superclass_types_are_materialised(live_server: LiveServer) -> None:
    services = count(live_server, "?s a pvpp:Service")
    assert services >= 40
    assert count(live_server, "?s a pvpp:Service, cpsv:PublicService") == services
    assert not ask(
        live_server, "ASK { ?s a pvpp:IndividualBenefitService . FILTER NOT EXISTS { ?s a pvpp:PublicService } }"
    )
    assert count(live_server, "?s a pvpp:Ministry, cv:PublicOrganisation") == 14


def test_kind_concepts_and_inverses(live_server: LiveServer) -> None:
    assert not ask(
        live_server,
        """ASK { ?s a pvpp:SharedService .
        FILTER NOT EXISTS { ?s cv:isClassifiedBy <https://w3id.org/pvpp/id/kind/shared> } }""",
    )
    assert not ask(live_server, "ASK { ?s pvpp:owner ?o . FILTER NOT EXISTS { ?o pvpp:ownsService ?s } }")
    assert not ask(live_server, "ASK { ?s pvpp:owner ?o . FILTER NOT EXISTS { ?s cv:hasCompetentAuthority ?o } }")
    assert not ask(live_server, "ASK { ?s pvpp:serviceManager ?p . FILTER NOT EXISTS { ?p pvpp:managesService ?s } }")


def test_participations_are_materialised(live_server: LiveServer) -> None:
    # one PS participation per (service, owner), with the owner as participant
    assert count(live_server, "?s pvpp:owner ?o") == count(
        live_server,
        """
        ?s cv:hasParticipation ?p . ?p cv:role <https://w3id.org/pvpp/id/role/PS> ; cv:hasParticipant ?o""",
    )
    # an institution's portfolio-manager post makes the institution the IPKS participant
    assert not ask(
        live_server,
        """ASK { ?i pvpp:servicePortfolioManager ?post .
        FILTER NOT EXISTS { ?p cv:role <https://w3id.org/pvpp/id/role/IPKS> ; cv:hasParticipant ?i } }""",
    )


def test_stats_prints_counts_per_graph(settings: Settings) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "stats"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = dict(line.rsplit(None, 1) for line in out.stdout.strip().splitlines())
    assert int(lines["https://w3id.org/pvpp/graph/reference"].replace(",", "")) > 1000
    assert "https://w3id.org/pvpp/graph/institution/vsaa" in lines
    assert int(lines["total"].replace(",", "")) == sum(
        int(v.replace(",", "")) for k, v in lines.items() if k != "total"
    )


def test_load_names_file_and_line_of_bad_input(make_settings, tmp_path) -> None:  # noqa: ANN001
    import shutil

    source = tmp_path / "data"
    shutil.copytree(Settings().source_dir, source)
    (source / "sample" / "broken.ttl").write_text("@prefix x: <urn:x#> .\n\nx:a x:b .\n", encoding="utf-8")
    s = make_settings(source_dir=source)
    out = subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load"], env=settings_env(s), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2
    assert "broken.ttl:3:" in out.stderr and "Traceback" not in out.stderr


def test_materialisation_in_the_default_graph_adds_what_it_adds_in_a_named_graph(settings: Settings) -> None:
    """The validator materialises a submission in the default graph, the loader in each named graph: same rules,
    same triples (participation nodes included, named alike)."""
    from pathlib import Path

    import pyoxigraph as ox

    from pvpp_kg.store.loader import ontology_graph
    from tests.store.materialise_reference import materialisation_updates

    data = (Path(__file__).parents[1] / "data" / "shapes" / "base.ttl").read_bytes()
    ontology = ontology_graph(settings)
    named, default, plain = ox.Store(), ox.Store(), ox.Store()
    graph = ox.NamedNode("https://w3id.org/pvpp/graph/x")
    named.load(data, format=ox.RdfFormat.TURTLE, to_graph=graph)
    default.load(data, format=ox.RdfFormat.TURTLE)
    plain.load(data, format=ox.RdfFormat.TURTLE)
    for update in materialisation_updates(ontology, graph.value):
        named.update(update)
    for update in materialisation_updates(ontology, default_graph=True):
        default.update(update)
    as_triples = {ox.Triple(q.subject, q.predicate, q.object) for q in named}
    assert as_triples == {ox.Triple(q.subject, q.predicate, q.object) for q in default}
    assert len(as_triples) > 2 * len(plain)  # the entailments more than double the data
    participation = ox.NamedNode("http://data.europa.eu/m8g/Participation")
    assert list(default.quads_for_pattern(None, None, participation, ox.DefaultGraph()))
