"""The ontology catches the contradictions that matter (issue 27, point 4).

Each case injects one contradiction into a copy of everything the public store loads (ontology, reference data,
institutions, the sample) and HermiT (owlready2) must find the copy inconsistent; the same copy with an injection
the policy allows (a second provider, a second recipient) stays consistent, and so does the unmodified copy
(``test_reasoner.py``). The axioms are in ``ontology/pvpp.ttl`` ("Contradictions the ontology catches"), the
``owl:AllDifferent`` declarations in ``data/reference/`` and the institutions graph.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from pvpp_kg.settings import Settings
from pvpp_kg.store.sources import public_graph
from tests.policy.test_reasoner import hermit_consistent

pytestmark = pytest.mark.slow

PREFIXES = """@base <https://w3id.org/pvpp/id/> .
@prefix pvpp: <https://w3id.org/pvpp/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
"""
SERVICE = "<service/csp/e-parskati>"  # IndividualBenefitService, SimpleService, owner csp, manager pv-datu-vaksana

CONTRADICTIONS = {
    # disjoint top classes
    "a service that is also an institution": f"{SERVICE} a pvpp:Institution .",
    "a role that is also a task": "<role/PS> a pvpp:ManagementTask .",
    "an SLA that is also a service": "<sla/csp/e-parskati> a pvpp:Service .",
    "a post used as a resource": f"{SERVICE} pvpp:usesResource <post/csp/pv-datu-vaksana> .",
    "a service used as a need": f"{SERVICE} pvpp:satisfiesNeed <service/csp/statistikas-datu-pieprasijumi> .",
    "a need that is also a recipient group": "<need/statistikas-dati> a pvpp:RecipientGroup .",
    # kinds that exclude each other
    "a service of two leaf kinds": f"{SERVICE} a pvpp:SharedService .",
    "a service both smart and simple": f"{SERVICE} a pvpp:SmartService .",
    "a resource both information and digital technology": "<resource/csp/statistikas-datubaze> a "
    "pvpp:DigitalTechnology .",
    "a ministry that is also a municipality": "<institution/lm> a pvpp:Municipality .",
    "a plan of both plan kinds": "<plan/test> a pvpp:IndividualImprovementPlan, pvpp:ServiceDevelopmentPlan .",
    # "exactly one" (functional properties) with values known to be different
    "two owners of one service": f"{SERVICE} pvpp:owner <institution/lm> .",
    "two service managers declared different": f"""{SERVICE} pvpp:serviceManager <post/csp/pv-statistikas-izplatisana> .
        <post/csp/pv-statistikas-izplatisana> owl:differentFrom <post/csp/pv-datu-vaksana> .""",
    "two owners of one resource": "<resource/csp/statistikas-datubaze> pvpp:resourceOwner <institution/varam> .",
    "two service portfolio managers declared different": """<institution/csp> pvpp:servicePortfolioManager
        <post/csp/resursu-kopuma-vaditajs> .
        <post/csp/resursu-kopuma-vaditajs> owl:differentFrom <post/csp/pakalpojumu-kopuma-vaditajs> .""",
    "a role on two scales": "<role/PS> pvpp:scale <scale/state> .",
    "a matrix cell both A and L": "<assignment/PU1-1/VVI> pvpp:responsibility <responsibility/L> .",
    "a task in two task groups": "<task/PU2-21> pvpp:taskGroup <taskgroup/PU1> .",
}

ALLOWED = {
    "a second provider": f"{SERVICE} pvpp:provider <institution/vdaa> .",
    "a second recipient": f"{SERVICE} pvpp:recipient <recipient-group/residents> .",
    "a second level of a role": "<role/PS> pvpp:level <level/policy> .",
}


@pytest.fixture(scope="module")
def public() -> Graph:
    return public_graph(Settings())


def injected(public: Graph, turtle: str) -> Graph:
    g = Graph()
    g += public
    g.parse(data=PREFIXES + turtle, format="turtle")
    assert len(g) > len(public)  # the injection added something
    return g


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_contradiction_is_detected(public: Graph, tmp_path: Path, name: str) -> None:
    assert not hermit_consistent(injected(public, CONTRADICTIONS[name]), tmp_path)


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_what_the_policy_allows_stays_consistent(public: Graph, tmp_path: Path, name: str) -> None:
    assert hermit_consistent(injected(public, ALLOWED[name]), tmp_path)
