"""What harvesters read conforms to the official shapes: the public graph to CPSV-AP 3.2.0 (issue 27, point 3), the
catalogue record at ``/.well-known/void`` to DCAT-AP 3.0.0 (point 5).

A harvester takes what the server publishes — a ``CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }`` over ``/sparql`` or
the N-Quads dump — and runs the unmodified shapes of ``shapes/vendor/`` on it with pyshacl, with **no inference and
no extra graph** (none of ``shapes/context.ttl``, which only the submission validator merges). Every check here does
exactly that against a running server and asserts zero results; ``test_a_participation_with_a_post_...`` and
``test_an_untyped_licence_fails_the_dcat_ap_check`` show each check can fail.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH

from pvpp_kg.settings import PROJECT_ROOT, Settings
from tests.conftest import TESTS, LiveServer, generate_tiny, settings_env

CPSV_AP = PROJECT_ROOT / "shapes" / "vendor" / "cpsv-ap-3.2.0-SHACL.ttl"
DCAT_AP = PROJECT_ROOT / "shapes" / "vendor" / "dcat-ap-3.0.0-SHACL.ttl"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
EU = "http://publications.europa.eu/resource/authority/"
CV = Namespace("http://data.europa.eu/m8g/")
PVPP = Namespace("https://w3id.org/pvpp/ontology#")
ID = Namespace("https://w3id.org/pvpp/id/")
EVERYTHING = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def harvest(server_url: str) -> Graph:
    """What a harvester copies: every triple of the public default graph, through the SPARQL protocol."""
    r = httpx.get(
        server_url + "/sparql", params={"query": EVERYTHING}, headers={"Accept": "application/n-triples"}, timeout=120
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/n-triples")
    return Graph().parse(data=r.text, format="nt")


def harvester_results(data: Graph, shapes: Path = CPSV_AP) -> list[tuple[str, str, str]]:
    """pyshacl as harvesters run it: the vendored shapes unchanged, inference none, no ontology/context graph."""
    conforms, report, _ = pyshacl.validate(data, shacl_graph=Graph().parse(shapes), inference="none")
    rows = sorted(
        (
            str(report.value(r, SH.focusNode)),
            str(report.value(r, SH.resultPath)),
            str(report.value(r, SH.resultMessage)),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    )
    assert conforms == (not rows)
    return rows


@pytest.fixture(scope="module")
def harvested(live_server: LiveServer) -> Graph:
    return harvest(live_server.url)


def test_sparql_construct_of_the_public_graph_conforms_to_cpsv_ap(harvested: Graph) -> None:
    assert len(harvested) > 10_000  # the whole public graph, not an empty answer
    assert harvester_results(harvested) == []


def test_nquads_dump_conforms_to_cpsv_ap(live_server: LiveServer) -> None:
    r = httpx.get(live_server.url + "/dumps/pvpp-kg.nq.gz", timeout=60)
    assert r.status_code == 200
    dump = ox.Store()
    dump.load(gzip.decompress(r.content), format=ox.RdfFormat.N_QUADS)
    nt = dump.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }").serialize(format=ox.RdfFormat.N_TRIPLES)
    data = Graph().parse(data=nt, format="nt")
    assert len(data) > 10_000
    assert harvester_results(data) == []


def test_participants_are_agents_and_the_post_is_a_further_link(harvested: Graph) -> None:
    """Participations name the institution (a foaf:Agent) as participant; the IPKS post hangs off the node."""
    csp, post = ID["institution/csp"], ID["post/csp/pakalpojumu-kopuma-vaditajs"]
    rows = list(
        harvested.query(
            """SELECT ?agent ?post WHERE {
                 ?i cv:hasParticipation ?p . ?p cv:role ?role ; cv:hasParticipant ?agent ;
                    pvpp:participationPost ?post .
                 ?agent a foaf:Agent }""",
            initNs={"cv": CV, "pvpp": PVPP, "foaf": Namespace("http://xmlns.com/foaf/0.1/")},
            initBindings={"i": csp, "role": ID["role/IPKS"]},
        )
    )
    assert [(r[0], r[1]) for r in rows] == [(csp, post)]
    foaf_agent = URIRef("http://xmlns.com/foaf/0.1/Agent")
    assert (ID["recipient-group/residents"], RDF.type, foaf_agent) in harvested
    assert (post, RDF.type, foaf_agent) not in harvested  # a post is not an agent


def test_a_participation_with_a_post_as_participant_fails_the_check(harvested: Graph) -> None:
    """The check is live: the old model (a post as cv:hasParticipant) is reported by the same call."""
    broken = Graph()
    for t in harvested:
        broken.add(t)
    part = URIRef(ID + "participation/test-post-participant")
    post = ID["post/csp/pakalpojumu-kopuma-vaditajs"]
    broken.add((part, RDF.type, CV.Participation))
    broken.add((part, CV.hasParticipant, post))
    broken.add((part, URIRef("http://purl.org/dc/terms/identifier"), Literal("test-post-participant")))
    rows = harvester_results(broken)
    assert (str(part), str(CV.hasParticipant), "Value does not have class foaf:Agent") in rows


@pytest.fixture(scope="module")
def generated_server(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The reference data plus the generator's tiny dataset (no violations), loaded through the CLI."""
    settings = make_settings(include_sample=False)
    tiny = generate_tiny(tmp_path_factory.mktemp("tiny") / "tiny.nq", violations=0.0)
    subprocess.run(
        [sys.executable, "-m", "pvpp_kg", "load-data", "--quiet", str(tiny)],
        env=settings_env(settings),
        cwd=TESTS.parent,
        check=True,
        capture_output=True,
        timeout=180,
    )
    server = LiveServer(settings)
    yield server
    server.stop()


def test_generated_data_conforms_to_cpsv_ap(generated_server: LiveServer) -> None:
    data = harvest(generated_server.url)
    services = set(data.subjects(RDF.type, URIRef("http://purl.org/vocab/cpsv#PublicService")))
    assert len([s for s in services if "/service/" in str(s) and "/s-" in str(s)]) == 160
    assert harvester_results(data) == []


# -- DCAT-AP 3.0.0: the catalogue, the dataset, its distributions and the SPARQL data service ---------------------
@pytest.fixture(scope="module")
def void(live_server: LiveServer) -> Graph:
    r = httpx.get(live_server.url + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=r.text, format="turtle")


def test_void_catalogue_record_conforms_to_dcat_ap(void: Graph) -> None:
    assert harvester_results(void, DCAT_AP) == []


def test_void_record_uses_the_eu_vocabularies_typed(void: Graph, live_server: LiveServer) -> None:
    ds, licence = URIRef("https://w3id.org/pvpp/dataset"), URIRef(EU + "licence/CC_BY_4_0")
    catalogue = URIRef("https://w3id.org/pvpp/dataset#catalogue")
    assert (catalogue, RDF.type, DCAT.Catalog) in void
    assert set(void.objects(catalogue, DCAT.dataset)) == {ds}
    assert set(void.objects(catalogue, DCAT.service)) == {URIRef(live_server.url + "/sparql#service")}
    assert (ds, DCT.license, licence) in void and (licence, RDF.type, DCT.LicenseDocument) in void
    assert set(void.objects(ds, DCT.language)) == {URIRef(EU + "language/LAV"), URIRef(EU + "language/ENG")}
    assert all((lang, RDF.type, DCT.LinguisticSystem) in void for lang in void.objects(ds, DCT.language))
    nq = URIRef(live_server.url + "/dumps/pvpp-kg.nq.gz")
    assert void.value(nq, DCT["format"]) == URIRef(EU + "file-type/RDF_N_QUADS")
    assert (URIRef(EU + "file-type/RDF_N_QUADS"), RDF.type, DCT.MediaTypeOrExtent) in void
    assert void.value(nq, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/application/n-quads")
    spdx = Namespace("http://spdx.org/rdf/terms#")
    algorithm = void.value(void.value(nq, spdx.checksum), spdx.algorithm)
    assert algorithm == spdx.checksumAlgorithm_sha256 and (algorithm, RDF.type, spdx.ChecksumAlgorithm) in void
    assert void.value(ds, DCT.source) == URIRef("https://data.gov.lv/dati/lv/dataset/varis-atvertie-dati")


def test_an_untyped_licence_fails_the_dcat_ap_check(void: Graph, live_server: LiveServer) -> None:
    broken = Graph()
    for t in void:
        broken.add(t)
    licence = URIRef(EU + "licence/CC_BY_4_0")
    broken.remove((licence, RDF.type, DCT.LicenseDocument))
    rows = harvester_results(broken, DCAT_AP)
    focus = {f.removeprefix(live_server.url) for f, _, _ in rows}
    assert focus == {
        "https://w3id.org/pvpp/dataset#catalogue",
        "/sparql#service",
        "/sparql#distribution",
        *(f"/dumps/pvpp-kg.{ext}" for ext in ("ttl", "nt.gz", "jsonld", "nq.gz")),
    }
    assert {(p, m.split(":")[-1]) for _, p, m in rows} == {(str(DCT.license), "LicenseDocument")}
