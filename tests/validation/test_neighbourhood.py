"""A submission is validated with its neighbourhood among the other institutions' data, not with all of it.

Over real HTTP (a uvicorn subprocess on the sample data): for each rule whose result for a submission's node
depends on another institution's triples, another institution's graph (written by the admin through the Graph
Store) changes the report of the same document — a result appears or goes only because of that graph. On
generated data (``pvpp-kg generate``): every institution's report with the neighbourhood equals its report with
every other institution's data and the stored registry as the context.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pvpp_kg.namespaces import institution_graph
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import EmbeddedBackend
from pvpp_kg.store.embedded import EmbeddedStore
from pvpp_kg.store.loader import ensure_loaded, materialised_ntriples, ontology_graph
from pvpp_kg.store.querypool import QueryPool
from pvpp_kg.validation.neighbourhood import neighbourhood
from pvpp_kg.validation.parse import parse_document
from pvpp_kg.validation.validator import POLICY_LAYERS, Validator
from tests.conftest import ADMIN_TOKEN, LiveServer, generate_tiny, serving, tokens_file

pytestmark = pytest.mark.slow

BASE = (Path(__file__).parents[1] / "data" / "shapes" / "base.ttl").read_text(encoding="utf-8")
LM = "lm-token"
OTHER = institution_graph("zz-citi")  # another institution's graph, written by the admin
REGISTRY = "https://w3id.org/pvpp/graph/institutions"  # the stored registry (generated bodies too)
ID = "https://w3id.org/pvpp/id/"
PREFIXES = """@base <https://w3id.org/pvpp/id/> .
@prefix pvpp: <https://w3id.org/pvpp/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"lm": LM})
    s = make_settings(institution_tokens_file=tokens)
    with serving(s) as srv:
        yield srv


def _other(server: LiveServer, turtle: str | None) -> None:
    """Another institution's stored graph: replaced with ``turtle``, or removed."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if turtle is None:
        r = httpx.delete(server.url + "/store", params={"graph": OTHER}, headers=admin, timeout=60)
        assert r.status_code in (204, 404), r.text
        return
    r = httpx.put(
        server.url + "/store",
        params={"graph": OTHER},
        content=(PREFIXES + turtle).encode(),
        headers={**admin, "Content-Type": "text/turtle"},
        timeout=60,
    )
    assert r.status_code in (201, 204), r.text


def _local(text: str) -> str:
    return " ".join(part.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for part in text.split(" "))


def _results(server: LiveServer, document: str) -> set[tuple[str, str, str]]:
    """(shape, focus node, value) of every result of lm's document, validated as lm (every layer)."""
    r = httpx.post(
        server.url + "/validate",
        content=document.encode(),
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}", "Accept": "application/json"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    out = set()
    for x in r.json()["results"]:
        # a property shape without a name: its path and constraint
        shape = x["sourceShape"] if x["sourceShape"].startswith("http") else f"{x['path']} {x['constraint']}"
        out.add((_local(shape), x["focusNode"].removeprefix(ID), (x["value"] or "").removeprefix(ID)))
    return out


def service(manager: str, *, identifier: str = "test-lm/jauns") -> str:
    """A new service of lm's, conforming but for what a case puts in it."""
    return f"""<service/lm/jauns> a pvpp:IndividualBenefitService ;
    dct:identifier "{identifier}" ;
    dct:title "Jauns pakalpojums"@lv, "New service"@en ;
    dct:description "Jauns."@lv ;
    pvpp:owner <institution/lm> ;
    pvpp:serviceManager {manager} ;
    pvpp:satisfiesNeed <need/test-ienakumi> ."""


# the participation node the loader makes of lm's new service and its owner (store.materialise: md5 of the service,
# the role PS and the agent), whose identifier is participation-{this}
OWNED = hashlib.md5(f"{ID}service/lm/jauns {ID}role/PS {ID}institution/lm".encode()).hexdigest()
MANAGED = " ".join(f"<service/zz-citi/s-{i}> pvpp:serviceManager <post/zz-citi/p> ." for i in range(10))
# (rule, what lm's document adds to base.ttl, the other institution's graph, results that appear, results that go)
CASES = [
    (
        "sh:class: the type another institution gives a linked post; nodes it describes are not lm's to report on",
        service("<post/zz-citi/vaditajs>"),
        '<post/zz-citi/vaditajs> a org:Post ; skos:prefLabel "Vadītājs"@lv ; org:heldBy <person/z-1> .',
        # a post now, but another institution's, in no role: not lm's service manager
        {("ServiceManagerPost", "service/lm/jauns", "post/zz-citi/vaditajs")},
        {
            ("ServiceManager", "service/lm/jauns", "post/zz-citi/vaditajs"),
            ("heldBy MinCountConstraintComponent", "post/zz-citi/vaditajs", ""),
        },
    ),
    (
        "unique identifier: another institution's node with the same identifier",
        service("<post/lm/pv>", identifier="zz-citi/s-1"),
        '<service/zz-citi/s-1> dct:identifier "zz-citi/s-1" .',
        {("UniqueIdentifierShape", "service/lm/jauns", "zz-citi/s-1")},
        set(),
    ),
    (
        "unique identifier: another institution's node with the identifier the loader gives one of lm's participations",
        service("<post/lm/pv>"),
        f'<service/zz-citi/s-1> dct:identifier "participation-{OWNED}" .',
        {("UniqueIdentifierShape", f"participation/{OWNED}", f"participation-{OWNED}")},
        set(),
    ),
    (
        "own facts: a node another institution describes",
        '<need/kopiga> skos:prefLabel "Kopīga vajadzība"@lv .',
        '<need/kopiga> a pvpp:Need ; skos:prefLabel "Kopīga vajadzība"@lv .',
        {
            ("OwnFactsShape", "need/kopiga", "need/kopiga"),
            ("prefLabel QualifiedMinCountConstraintComponent", "need/kopiga", ""),
        },
        set(),
    ),
    (
        "what another institution states about lm's own node",
        "",
        "<institution/lm> pvpp:servicePortfolioManager <post/lm/pv> .",
        {
            ("servicePortfolioManager MaxCountConstraintComponent", "institution/lm", ""),
            ("ServicePortfolioManagerPost", "institution/lm", "post/lm/pv"),  # a PS post, not IPKS
        },
        set(),
    ),
    (
        "sh:targetObjectsOf: another institution's link makes lm's node a post",
        '<post/lm/jauns> skos:prefLabel "Jauns amats"@lv .',
        "<service/zz-citi/s-2> pvpp:serviceManager <post/lm/jauns> .",
        {("heldBy MinCountConstraintComponent", "post/lm/jauns", "")},
        set(),
    ),
    (
        "person workload: another institution's post of the same person and the services it manages (two hops)",
        "",
        "<post/zz-citi/p> org:heldBy <person/t-3> . " + MANAGED,
        {("PersonWorkloadShape", "person/t-3", "person/t-3")},
        set(),
    ),
    (
        "variant or step: part of another institution's service",
        "<service/lm/pabalsts> dct:isPartOf <service/zz-citi/liels> .",
        "<service/zz-citi/liels> a pvpp:Service ; pvpp:owner <institution/zz-citi> .",
        {("VariantOrStepShape", "service/lm/pabalsts", "service/zz-citi/liels")},
        set(),
    ),
    (
        "variant or step: a service of the same owner stated by another institution, whose title lm's extends",
        "",
        '<service/zz-citi/b> a pvpp:Service ; pvpp:owner <institution/lm> ; dct:title "Pabalsta"@lv .',
        {("VariantOrStepShape", "service/lm/pabalsts", "service/zz-citi/b")},
        set(),
    ),
    (
        "sh:class: a class axiom in another institution's graph",
        service("<post/lm/pv2>")
        + '<post/lm/pv2> a <urn:x-test:Amats> ; skos:prefLabel "Amats"@lv ; org:heldBy <person/t-9> ; '
        + "org:postIn <institution/lm> ; org:role <role/PS> .",
        "<urn:x-test:Amats> rdfs:subClassOf org:Post .",
        {("prefLabel QualifiedMinCountConstraintComponent", "post/lm/pv2", "")},
        {("ServiceManager", "service/lm/jauns", "post/lm/pv2")},
    ),
]


@pytest.mark.parametrize(("rule", "extra", "other", "appear", "go"), CASES, ids=[c[0].split(":")[0] for c in CASES])
def test_a_result_follows_another_institutions_data(
    server: LiveServer, rule: str, extra: str, other: str, appear: set, go: set
) -> None:
    document = BASE + "\n" + extra + "\n"
    _other(server, None)
    alone = _results(server, document)
    _other(server, other)
    try:
        beside = _results(server, document)
    finally:
        _other(server, None)
    assert (beside - alone, alone - beside) == (appear, go)


def test_dry_run_and_submission_follow_another_institutions_data(server: LiveServer) -> None:
    """``POST /submissions?dry_run=true`` is refused for a duplicate of another institution's identifier and
    accepted without it; a statement about a node another institution describes is 403 (nothing stored)."""
    document = (BASE + "\n" + service("<post/lm/pv>", identifier="zz-citi/s-1") + "\n").encode()
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"}
    url = server.url + "/submissions"
    _other(server, '<service/zz-citi/s-1> dct:identifier "zz-citi/s-1" .')
    try:
        refused = httpx.post(url, params={"dry_run": "true"}, content=document, headers=headers, timeout=120)
        described = httpx.post(
            url,
            content=BASE.encode() + b'\n<service/zz-citi/s-1> dct:title "Cits"@lv .\n',
            headers=headers,
            timeout=120,
        )
    finally:
        _other(server, None)
    assert refused.status_code == 422
    assert {(_local(x["sourceShape"]), x["focusNode"], x["value"]) for x in refused.json()["results"]} == {
        ("UniqueIdentifierShape", ID + "service/lm/jauns", "zz-citi/s-1")
    }
    assert described.status_code == 403 and "zz-citi/s-1" in described.json()["message"]
    accepted = httpx.post(url, params={"dry_run": "true"}, content=document, headers=headers, timeout=120)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["conforms"] is True
    stored = httpx.post(url, content=document, headers=headers, timeout=120)
    assert stored.status_code == 201, stored.text
    # the stored graph is the loader's materialisation of the document (written from the validation's)
    graph = httpx.get(
        server.url + "/store",
        params={"graph": institution_graph("lm")},
        headers={"Accept": "application/n-triples"},
        timeout=60,
    )
    parsed = parse_document(document, filename="lm.ttl")
    expected = materialised_ntriples(parsed.transfer(), institution_graph("lm"), ontology_graph(server.settings))
    assert set(graph.text.splitlines()) == set(expected.decode().splitlines())
    assert len(graph.text.splitlines()) > 2 * len(parsed)  # inverses, super-classes, participations


# -- on generated data: the neighbourhood's report is the whole context's ------------------------------------


def _documents(nq: Path) -> dict[str, list[ox.Triple]]:
    """Each institution's generated graph (as submitted: not materialised)."""
    prefix = institution_graph("")
    out: dict[str, list[ox.Triple]] = {}
    for q in ox.parse(path=nq, format=ox.RdfFormat.N_QUADS):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(prefix):
            out.setdefault(q.graph_name.value.removeprefix(prefix), []).append(q.triple)
    return out


def _crossed(own: list[ox.Triple], theirs: list[ox.Triple], key: str) -> list[ox.Triple]:
    """``own`` with links into another institution's data, one for each cross-institution rule: part of its
    service, its identifier, a post held by one of its post holders, its post as a manager, a statement about its
    service, and one of its services' owner as an owner."""

    def first(pattern: str, kind: type = ox.NamedNode) -> ox.Triple:
        return next(t for t in theirs if pattern in str(t.predicate) and isinstance(t.object, kind))

    service = next(t.subject for t in own if "/id/service/" in str(t.subject))
    other_service = first("#owner").subject
    post = ox.NamedNode(f"{ID}post/{key}/cits")
    term = ox.NamedNode
    return [
        *own,
        ox.Triple(service, term("http://purl.org/dc/terms/isPartOf"), other_service),
        ox.Triple(service, term("http://purl.org/dc/terms/identifier"), first("identifier", ox.Literal).object),
        ox.Triple(post, term("http://www.w3.org/ns/org#heldBy"), first("heldBy").object),
        ox.Triple(service, term("https://w3id.org/pvpp/ontology#serviceManager"), first("#serviceManager").object),
        ox.Triple(
            other_service, term("http://www.w3.org/2004/02/skos/core#altLabel"), ox.Literal("cits", language="lv")
        ),
        ox.Triple(service, term("https://w3id.org/pvpp/ontology#owner"), first("#owner").object),
    ]


def test_the_neighbourhood_reports_what_every_other_institution_would(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from pvpp_kg.store.dataload import load_data

    tmp = tmp_path_factory.mktemp("neighbourhood")
    settings = make_settings(max_services_per_person=1)  # a person managing two services is a workload result
    ensure_loaded(settings)
    nq = generate_tiny(tmp / "tiny.nq", seed=3, violations=0.1)
    load_data(settings, [nq])
    documents = _documents(nq)
    store = EmbeddedStore(settings.data_dir / "public")
    reader = store.reader()
    validator = Validator(settings)
    keys = sorted(documents)
    prefix = institution_graph("")

    def rows(report: object) -> list[tuple[str, ...]]:
        return sorted(
            (r.shape, r.focus, r.path or "", r.value or "", r.severity, r.message)
            for r in report.results  # type: ignore[attr-defined]
        )

    async def contexts(key: str, document: object) -> bytes:
        backend = EmbeddedBackend(store, QueryPool(1, None), max_result_bytes=10**8)
        try:
            return await neighbourhood(settings, backend, key, document)  # type: ignore[arg-type]
        finally:
            backend.close()

    compared = crossed = 0
    shapes: set[str] = set()
    for i, key in enumerate(keys):
        triples = documents[key]
        if i % 2:  # every other institution links into the next one's data
            triples = _crossed(triples, documents[keys[(i + 1) % len(keys)]], key)
            crossed += 1
        document = parse_document("".join(f"{t} .\n" for t in triples).encode(), filename="doc.nt")
        everyone = reader.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
            f'FILTER (?g = <{REGISTRY}> || STRSTARTS(STR(?g), "{prefix}") && ?g != <{prefix}{key}>) }}'
        ).serialize(format=ox.RdfFormat.N_TRIPLES)
        with ThreadPoolExecutor(1) as pool:  # a thread of its own: the browser tests keep an event loop in this one
            near = pool.submit(asyncio.run, contexts(key, document)).result()
        assert len(near) < len(everyone) / 5, key  # a neighbourhood, not the country
        for context in (near, everyone):
            assert context  # both are read
        pairs = [
            (rows(validator.refusals(document, key, c)), rows(validator.validate(document, extra_context=c,
             institution=key, layers=POLICY_LAYERS)))
            for c in (near, everyone)
        ]  # fmt: skip
        assert pairs[0] == pairs[1], key
        compared += 1
        shapes |= {_local(r[0]) for r in pairs[1][0] + pairs[1][1] if r[0].startswith("http")}
    assert compared == len(keys) == 78 and crossed == 39
    # the cross-institution rules were exercised, not only compared empty
    assert {
        "OwnFactsShape",
        "UniqueIdentifierShape",
        "VariantOrStepShape",
        "PersonWorkloadShape",
        "ServiceManager",
    } <= shapes
