"""Linked data over HTTP: dereferencing, conneg, extensions, 404, languages, ontology docs, dumps, VoID/DCAT-AP,
and that people's names and contact data never reach a public page, dump or SPARQL result."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, RDFS, SKOS

from pvpp_kg.lod import resources as lod
from pvpp_kg.settings import PROJECT_ROOT, Settings
from pvpp_kg.web.app import create_app
from tests.conftest import ADMIN_TOKEN

ID = "https://w3id.org/pvpp/id/"
IPKS = URIRef(ID + "role/IPKS")
PVPP = Namespace("https://w3id.org/pvpp/ontology#")
VOID = Namespace("http://rdfs.org/ns/void#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}


def responsibilities(html: str) -> dict[str, str]:
    """The A/L table of a resource page: {other side's code: "A"|"L"}."""
    rows = re.findall(r'<tr data-code="([^"]+)">.*?<td class="code"[^>]*>([AL])</td>', html, flags=re.S)
    return dict(rows)


# -- pure functions ----------------------------------------------------------------------------------
def test_choose_lang_param_beats_header_and_default_is_latvian() -> None:
    assert lod.choose_lang("en", "lv") == "en"
    assert lod.choose_lang(None, "de-DE, en-GB;q=0.8, lv;q=0.5") == "en"
    assert lod.choose_lang(None, "lv-LV,en;q=0.9") == "lv"
    assert lod.choose_lang(None, "de") == "lv"
    assert lod.choose_lang("fr", None) == "lv"


def test_split_extension_keeps_dotted_iris() -> None:
    assert lod.split_extension("id/role/IPKS.ttl")[0] == "id/role/IPKS"
    assert lod.split_extension("id/role/IPKS.jsonld")[1].name == "jsonld"  # type: ignore[union-attr]
    assert lod.split_extension("id/measure/P1.1") == ("id/measure/P1.1", None)
    assert lod.href_for(ID + "task/PU2-21", "https://w3id.org/pvpp/") == "/id/task/PU2-21"
    assert lod.curie(str(PVPP.Role)) == "pvpp:Role"


# -- resource pages ----------------------------------------------------------------------------------
def test_task_page_lists_its_roles_with_a_and_l(client: TestClient) -> None:
    r = client.get("/id/task/PU2-21", headers={**HTML, "Accept-Language": "en"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    table = responsibilities(r.text)
    assert table == {"IPKS": "A", "PS": "A", "PSn": "A", "PSa": "L", "IRKS": "A", "RS": "A", "RL": "L"}
    assert 'href="/id/role/IPKS"' in r.text and 'href="/id/role/PSa"' in r.text


def test_role_page_lists_its_tasks_with_a_and_l(client: TestClient) -> None:
    r = client.get("/id/role/IPKS", headers=HTML)
    assert r.status_code == 200
    table = responsibilities(r.text)
    assert table["PU2-21"] == "A"
    assert table["PU1-1"] == "L"
    assert 'href="/id/task/PU2-21"' in r.text
    # links to the RDF forms of the same IRI
    for ext in ("ttl", "jsonld", "rdf", "nt"):
        assert f'href="/id/role/IPKS.{ext}"' in r.text


def test_json_ld_is_compact_with_an_inline_context_and_the_same_triples(client: TestClient) -> None:
    """A script reads ``doc["skos:prefLabel"]``: the project's prefixes as an inline @context (never a remote one),
    and exactly the triples of the Turtle form; the ontology's form too."""
    import json

    from rdflib.compare import isomorphic

    doc = client.get("/id/role/IPKS.jsonld").json()
    assert doc["@context"]["skos"] == str(SKOS) and doc["@context"]["pvpp"] == str(PVPP)
    assert all(isinstance(v, str) for v in doc["@context"].values())  # prefixes only, nothing to fetch
    node = next(n for n in doc.get("@graph", [doc]) if n.get("@id") == str(IPKS))
    labels = node["skos:prefLabel"]
    assert {"@language": "lv", "@value": "Iestādes pakalpojumu kopuma saimnieks"} in labels
    as_json = Graph().parse(data=json.dumps(doc), format="json-ld")
    as_turtle = Graph().parse(data=client.get("/id/role/IPKS.ttl").content, format="turtle")
    assert len(as_json) > 20 and isomorphic(as_json, as_turtle)
    ontology = client.get("/ontology.jsonld")
    assert ontology.json()["@context"]["owl"] == "http://www.w3.org/2002/07/owl#"
    assert len(Graph().parse(data=ontology.content, format="json-ld")) == len(
        Graph().parse(data=client.get("/ontology.ttl").content, format="turtle")
    )


@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_accept_negotiates_rdf(client: TestClient, media_type: str) -> None:
    r = client.get("/id/role/IPKS", headers={"Accept": media_type})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in r.headers["vary"]
    g = Graph().parse(data=r.content, format=RDF_TYPES[media_type])
    assert (IPKS, RDF.type, PVPP.Role) in g
    assert (IPKS, SKOS.prefLabel, Literal("Iestādes pakalpojumu kopuma saimnieks", lang="lv")) in g
    # incoming links are part of the description: an assignment points at the role
    assert (URIRef(ID + "assignment/PU2-21/IPKS"), PVPP.role, IPKS) in g


@pytest.mark.parametrize(
    ("ext", "media_type"),
    [
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
        ("nt", "application/n-triples"),
        ("html", "text/html"),
    ],
)
def test_extension_selects_the_format(client: TestClient, ext: str, media_type: str) -> None:
    r = client.get(f"/id/task/PU2-21.{ext}", headers=HTML)  # the extension wins over Accept
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert r.headers["content-location"] == f"/id/task/PU2-21.{ext}"


def test_direct_200_without_redirect(client: TestClient) -> None:
    r = client.get("/id/role/IPKS", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert r.status_code == 200
    assert r.headers["content-location"] == "/id/role/IPKS.ttl"


def test_unknown_iri_is_404(client: TestClient) -> None:
    assert client.get("/id/role/NOPE", headers={"Accept": "text/turtle"}).status_code == 404
    r = client.get("/id/role/NOPE", headers=HTML)
    assert r.status_code == 404 and "https://w3id.org/pvpp/id/role/NOPE" in r.text
    assert client.get("/id/role/NOPE.ttl").status_code == 404
    assert client.get("/graph/nope", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/ontology/9.9.9", headers={"Accept": "text/turtle"}).status_code == 404


def test_an_rdf_client_gets_its_error_as_plain_text(client: TestClient) -> None:
    """A client that asked for RDF (rdflib, curl -H 'Accept: text/turtle') gets the message as plain text, as the
    SPARQL and Graph Store paths answer; one that accepts JSON a JSON problem document."""
    r = client.get("/id/role/NOPE", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "nothing is known about <https://w3id.org/pvpp/id/role/NOPE>\n"
    r = client.get("/ontology", headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.headers["content-type"].startswith("text/plain")
    for accept in ("application/json", "application/ld+json"):
        r = client.get("/id/role/NOPE", headers={"Accept": accept})
        assert r.status_code == 404 and r.json()["error"] == "not_found", accept


def test_language_follows_accept_language_and_switch(client: TestClient) -> None:
    lv = client.get("/id/role/IPKS", headers={**HTML, "Accept-Language": "lv"})
    en = client.get("/id/role/IPKS", headers={**HTML, "Accept-Language": "en-GB,en;q=0.9"})
    assert "<h1>Iestādes pakalpojumu kopuma saimnieks</h1>" in lv.text
    assert "<h1>Institutional service portfolio owner</h1>" in en.text
    assert lv.headers["content-language"] == "lv" and en.headers["content-language"] == "en"
    assert '<html lang="lv">' in lv.text and '<html lang="en">' in en.text
    assert 'href="?lang=en"' in lv.text and 'href="?lang=lv"' in en.text  # the visible switch
    switched = client.get("/id/role/IPKS?lang=en", headers={**HTML, "Accept-Language": "lv"})
    assert "<h1>Institutional service portfolio owner</h1>" in switched.text


def test_the_language_switch_keeps_the_pages_parameters(client: TestClient) -> None:
    """Switching language keeps what the reader chose: a library query's arguments, the table's filters."""
    page = client.get("/api/queries/role-tasks?role=RL&level=core&lang=lv", headers=HTML)
    assert 'href="?role=RL&amp;level=core&amp;lang=en"' in page.text
    table = client.get("/compliance?kind=ministry&sort=score&lang=lv", headers=HTML)
    assert 'href="?kind=ministry&amp;sort=score&amp;lang=en"' in table.text


def test_an_english_library_page_answers_in_english(client: TestClient) -> None:
    """A library query with a ``lang`` parameter that the reader did not give answers in the page's language:
    an English page of role-tasks lists the tasks' English names, not the Latvian ones."""
    client.cookies.clear()  # the language a switch chose earlier would answer instead of Accept-Language
    en = client.get("/api/queries/role-tasks?role=IPKS", headers={**HTML, "Accept-Language": "en"}).text
    lv = client.get("/api/queries/role-tasks?role=IPKS", headers={**HTML, "Accept-Language": "lv"}).text
    assert 'name="lang" value="en"' in en and 'name="lang" value="lv"' in lv
    english, latvian = "Planning and updating of the service management policy", "Pakalpojumu pārvaldības politikas"
    assert english in en and latvian not in en and latvian in lv and english not in lv
    # a program that asks for JSON keeps the query's own default (lv), whatever its Accept-Language
    rows = client.get(
        "/api/queries/role-tasks?role=IPKS", headers={"Accept": "application/json", "Accept-Language": "en"}
    )
    assert rows.json()["results"]["bindings"][0]["taskLabel"]["xml:lang"] == "lv"


def test_links_to_a_resource_read_resource_property_this(client: TestClient) -> None:
    """An incoming link is shown as its property (the linking resource's) with an arrow, never "is … of" around
    a label that is a verb ("is owns service of")."""
    en = client.get("/id/role/IPKS", headers={**HTML, "Accept-Language": "en"}).text
    links = en.split('<section id="inverse">', 1)[1].split("</section>", 1)[0]
    assert '<dt><small class="muted">←</small>' in links and " is " not in links and " of (" not in links


# -- ontology ----------------------------------------------------------------------------------------
def test_ontology_html_is_pylode_in_each_language(client: TestClient) -> None:
    en = client.get("/ontology?lang=en", headers=HTML)
    # the switch is remembered (a cookie, web/language.py): a person who chose English keeps it
    assert '<html lang="en">' in client.get("/ontology", headers={**HTML, "Accept-Language": "lv"}).text
    client.cookies.clear()  # a visitor who chose nothing: Accept-Language decides
    lv = client.get("/ontology", headers={**HTML, "Accept-Language": "lv"})
    assert en.status_code == lv.status_code == 200
    assert '<html lang="en">' in en.text and '<html lang="lv">' in lv.text
    assert "pyLODE" in en.text
    assert "Institutional service portfolio owner" not in lv.text or "Pakalpojums" in lv.text
    assert ">Service<" in en.text and ">Pakalpojums<" in lv.text
    assert ">Pakalpojums<" not in en.text  # English page: Latvian labels replaced where English exists
    # pyLODE's own headings in the page's language (it writes them in English only)
    assert ">Apakšklase klasei<" in lv.text and ">Domēns<" in lv.text and ">Klases<" in lv.text
    assert ">Sub Class Of<" not in lv.text and ">Domain<" not in lv.text and ">Sub Class Of<" in en.text
    assert "Angliskie nosaukumi ir darba tulkojumi" in lv.text and "working translations" not in lv.text


def test_ontology_hash_iris_land_on_their_term(client: TestClient) -> None:
    """``https://w3id.org/pvpp/ontology#X`` dereferences to ``/ontology#X``: every term of the ontology has its
    local name as the id of its section, in both languages, and other vocabularies' terms of the same name do
    not take it (pyLODE made ids from labels: ``#PublicService`` was CPSV's, ``#ManagementTask`` was missing)."""
    ontology = client.get("/ontology", headers={"Accept": "text/turtle"})
    g = Graph().parse(data=ontology.content, format="turtle")
    terms = {
        str(s).removeprefix(str(PVPP))
        for s in g.subjects(RDFS.label, None)
        if str(s).startswith(str(PVPP)) and str(s) != str(PVPP)
    }
    assert {"ManagementTask", "PublicService", "Role", "Novads", "ResponsibilityAssignment"} <= terms
    for lang in ("en", "lv"):
        page = client.get(f"/ontology?lang={lang}", headers=HTML).text
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert terms <= set(ids), sorted(terms - set(ids))
        section = page[page.index('id="PublicService"') :][:3000]
        assert f"{PVPP}PublicService" in section and "cpsv#PublicService" not in section
        assert 'id="cpsv_PublicService"' in page and 'id="org_Role"' in page


def test_ontology_rdf_by_accept_extension_and_version_iri(client: TestClient) -> None:
    onto = URIRef("https://w3id.org/pvpp/ontology")
    for r in (
        client.get("/ontology", headers={"Accept": "text/turtle"}),
        client.get("/ontology.ttl"),
        client.get("/ontology/0.1.0", headers={"Accept": "text/turtle"}),
    ):
        assert r.status_code == 200
        g = Graph().parse(data=r.content, format="turtle")
        assert (onto, RDF.type, OWL.Ontology) in g
        assert (PVPP.Role, RDF.type, OWL.Class) in g
    assert client.get("/ontology.jsonld").headers["content-type"].startswith("application/ld+json")


def test_named_graph_dereferences(client: TestClient) -> None:
    r = client.get("/graph/reference", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format="turtle")
    assert (IPKS, RDF.type, PVPP.Role) in g
    assert client.get("/graph/reference", headers=HTML).status_code == 200


# -- home --------------------------------------------------------------------------------------------
def test_home_page_statistics_and_links(client: TestClient) -> None:
    r = client.get("/", headers={**HTML, "Accept-Language": "en"})
    assert r.status_code == 200
    assert re.search(r'data-stat="roles">10<', r.text)
    assert re.search(r'data-stat="tasks">32<', r.text)
    for href in ("/sparql", "/validate", "/dumps", "/ontology", "/.well-known/void", "/id/role/IPKS"):
        assert f'href="{href}' in r.text
    assert "/sparql?format=csv&amp;query=" in r.text  # a runnable example query
    rdf = client.get("/", headers={"Accept": "text/turtle"})
    assert (URIRef("https://w3id.org/pvpp/dataset"), RDF.type, DCAT.Dataset) in Graph().parse(data=rdf.content)


def test_home_example_query_runs(client: TestClient) -> None:
    from pvpp_kg import rq

    r = client.get("/sparql", params={"query": rq.load("home-example"), "format": "csv"})
    assert r.status_code == 200
    assert "https://w3id.org/pvpp/id/task/PU2-21" in r.text


# -- dumps -------------------------------------------------------------------------------------------
def test_dumps_listed_with_correct_checksums(client: TestClient) -> None:
    listing = client.get("/dumps", headers={"Accept": "application/json"}).json()
    names = [f["name"] for f in listing["files"]]
    assert names == ["pvpp-kg.ttl", "pvpp-kg.nt.gz", "pvpp-kg.jsonld", "pvpp-kg.nq.gz"]
    sums = client.get("/dumps/SHA256SUMS").text
    for f in listing["files"]:
        body = client.get(f"/dumps/{f['name']}").content
        assert hashlib.sha256(body).hexdigest() == f["sha256"]
        assert len(body) == f["size"]
        assert f"{f['sha256']}  {f['name']}" in sums
    ttl = Graph().parse(data=client.get("/dumps/pvpp-kg.ttl").content, format="turtle")
    nt = Graph().parse(data=gzip.decompress(client.get("/dumps/pvpp-kg.nt.gz").content), format="nt")
    assert len(ttl) == len(nt) == listing["triples"]
    assert (IPKS, RDF.type, PVPP.Role) in ttl
    html = client.get("/dumps", headers=HTML)
    assert listing["files"][0]["sha256"] in html.text


def test_dumps_regenerate_when_data_changes(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    with TestClient(create_app(settings)) as c:
        before = c.get("/dumps", headers={"Accept": "application/json"}).json()
        extra = b'<https://w3id.org/pvpp/id/need/test-need> <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n'
        r = c.put(
            "/store",
            params={"graph": "https://w3id.org/pvpp/graph/institution/test"},
            content=extra,
            headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert r.status_code == 201  # a new graph
        after = c.get("/dumps", headers={"Accept": "application/json"}).json()
        assert after["version"] != before["version"]
        assert after["triples"] == before["triples"] + 1
        assert b"test-need" in c.get("/dumps/pvpp-kg.ttl").content
        void = Graph().parse(data=c.get("/.well-known/void").content, format="turtle")
        ds = URIRef("https://w3id.org/pvpp/dataset")
        assert int(void.value(ds, VOID.triples)) == after["triples"]  # type: ignore[arg-type]


def test_an_iri_of_another_scheme_is_never_a_link_to_it(make_settings: Callable[..., Settings]) -> None:
    """A ``javascript:`` (or ``data:``) IRI a graph states is shown, but its link is this endpoint's DESCRIBE of
    it: a link straight to it would run in the reader's page."""
    assert lod.href_for("javascript:alert(1)", "https://w3id.org/pvpp/") == (
        "/sparql?query=DESCRIBE+%3Cjavascript%3Aalert%281%29%3E&format=turtle"
    )
    assert lod.href_for("https://example.org/x", "https://w3id.org/pvpp/") == "https://example.org/x"
    assert lod.href_for("https://w3id.org/pvpp/id/role/PS", "https://w3id.org/pvpp/") == "/id/role/PS"
    settings = make_settings()
    with TestClient(create_app(settings)) as c:
        see_also = b"<https://w3id.org/pvpp/id/need/xss> <http://www.w3.org/2000/01/rdf-schema#seeAlso>"
        data = see_also + b" <javascript:alert(1)> .\n" + see_also + b" <data:text/html,x> .\n"
        r = c.put(
            "/store",
            params={"graph": "https://w3id.org/pvpp/graph/institution/test"},
            content=data,
            headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert r.status_code == 201
        page = c.get("/id/need/xss").text
        assert "javascript:alert(1)" in page  # shown as its IRI
        assert 'href="javascript:' not in page and 'href="data:' not in page
        assert 'href="/sparql?query=DESCRIBE+%3Cjavascript%3Aalert%281%29%3E&amp;format=turtle"' in page


# -- VoID and DCAT-AP --------------------------------------------------------------------------------
def test_void_statistics(client: TestClient) -> None:
    r = client.get("/.well-known/void")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.content, format="turtle")
    ds = URIRef("https://w3id.org/pvpp/dataset")
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    n = int(
        client.get("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}).json()[
            "results"
        ]["bindings"][0]["n"]["value"]
    )
    assert int(g.value(ds, VOID.triples)) == n  # type: ignore[arg-type]
    assert g.value(ds, VOID.sparqlEndpoint) == URIRef("http://testserver/sparql")
    roles = [p for p in g.objects(ds, VOID.classPartition) if g.value(p, VOID["class"]) == PVPP.Role]
    assert len(roles) == 1 and int(g.value(roles[0], VOID.entities)) == 10  # type: ignore[arg-type]
    assert int(g.value(ds, VOID.classes)) > 20 and int(g.value(ds, VOID.properties)) > 40  # type: ignore[arg-type]
    assert any(g.value(p, VOID.property) == PVPP.responsibility for p in g.objects(ds, VOID.propertyPartition))


def test_dcat_ap_record(client: TestClient) -> None:
    g = Graph().parse(
        data=client.get("/.well-known/void", headers={"Accept": "application/ld+json"}).content, format="json-ld"
    )
    ds = URIRef("https://w3id.org/pvpp/dataset")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert (ds, DCTERMS.license, URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")) in g
    publisher = g.value(ds, DCTERMS.publisher)
    assert publisher == URIRef(ID + "institution/varam")
    agents = {g.value(a, PROV.agent) for a in g.objects(ds, PROV.qualifiedAttribution)}
    assert URIRef("https://www.vzd.gov.lv/") in agents
    assert URIRef("https://semiceu.github.io/CPSV-AP/releases/3.2.0/") in set(g.objects(ds, DCTERMS.conformsTo))
    downloads = {
        str(g.value(d, DCAT.downloadURL)): d
        for d in g.objects(ds, DCAT.distribution)
        if g.value(d, DCAT.downloadURL) is not None
    }
    assert "http://testserver/dumps/pvpp-kg.ttl" in downloads
    ttl = downloads["http://testserver/dumps/pvpp-kg.ttl"]
    checksum = g.value(ttl, SPDX.checksum)
    listing = client.get("/dumps", headers={"Accept": "application/json"}).json()
    assert str(g.value(checksum, SPDX.checksumValue)) == listing["files"][0]["sha256"]
    services = list(g.subjects(RDF.type, DCAT.DataService))
    assert g.value(services[0], DCAT.endpointURL) == URIRef("http://testserver/sparql")


def test_service_description_links_the_real_void(client: TestClient) -> None:
    sd = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).content, format="turtle")
    see_also = sd.value(URIRef("https://w3id.org/pvpp/dataset"), RDFS.seeAlso)
    assert str(see_also) == "http://testserver/.well-known/void"
    assert client.get("/.well-known/void").status_code == 200
    assert client.get("/dataset", headers={"Accept": "text/turtle"}).status_code == 200


@pytest.mark.parametrize(
    ("accept", "location"),
    [("text/turtle", "/dataset.ttl"), ("application/ld+json", "/dataset.jsonld"), ("text/html", "/dataset.html")],
)
def test_the_dataset_names_its_form_and_links_the_others(client: TestClient, accept: str, location: str) -> None:
    """As /id/… and /ontology: Content-Location is the chosen form's own URL and Link lists every form (it was
    /dataset for each, so a cache could not tell them apart)."""
    r = client.get("/dataset", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-location"] == location
    assert '</dataset.ttl>; rel="alternate"; type="text/turtle"' in r.headers["link"]
    assert '</dataset.jsonld>; rel="alternate"' in r.headers["link"] and "Accept" in r.headers["vary"]
    assert client.get(location).status_code == 200


def test_the_graphs_namespace_resolves_to_the_dataset_that_lists_them(client: TestClient) -> None:
    """https://w3id.org/pvpp/graph/ is the prefix of every graph's name: it was a 404; now a 303 to the dataset's
    description, whose page lists each public graph with its triples (the VoID lists them as subsets)."""
    page = client.get("/graph/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/dataset#graphs"
    rdf = client.get("/graph/", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert rdf.status_code == 303 and rdf.headers["location"] == "/dataset"
    html = client.get("/dataset", params={"lang": "en"}, headers={"Accept": "text/html"}).text
    listed = html.split('id="graphs"', 1)[1].split("</table>", 1)[0]
    assert 'href="/graph/ontology"' in listed and 'href="/graph/institution/vsaa"' in listed
    assert "restricted" not in listed


# -- personal data -----------------------------------------------------------------------------------
def _personal_values() -> tuple[list[str], list[str]]:
    g = Graph().parse(PROJECT_ROOT / "data" / "restricted" / "people.ttl")
    foaf = Namespace("http://xmlns.com/foaf/0.1/")
    names = sorted({str(o) for o in g.objects(None, foaf.name)})
    contacts = sorted({str(o) for p in (foaf.mbox, foaf.phone) for o in g.objects(None, p)})
    return names, contacts


def test_people_never_public(client: TestClient) -> None:
    names, contacts = _personal_values()
    assert names and contacts
    secrets = [*names, *contacts]
    person = re.search(r"person/(p-\d+)", (PROJECT_ROOT / "data" / "sample" / "varam.ttl").read_text())
    assert person, "the sample names a post holder by IRI"
    bodies = [
        client.get(f"/id/person/{person.group(1)}", headers=HTML).text,
        client.get(f"/id/person/{person.group(1)}.ttl").text,
        client.get("/id/institution/varam", headers=HTML).text,
        client.get("/dumps/pvpp-kg.ttl").text,
        client.get("/dumps/pvpp-kg.jsonld").text,
        gzip.decompress(client.get("/dumps/pvpp-kg.nt.gz").content).decode(),
        gzip.decompress(client.get("/dumps/pvpp-kg.nq.gz").content).decode(),
        client.get("/store", headers={"Accept": "application/n-quads"}).text,
        client.get("/", headers=HTML).text,
    ]
    for body in bodies:
        leaked = [s for s in secrets if s in body]
        assert not leaked, leaked[:3]
    q = (
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/> SELECT ?v WHERE { "
        "{ ?s a foaf:Person ; foaf:name|foaf:mbox|foaf:phone ?v } "
        "UNION { ?s foaf:name|foaf:mbox|foaf:phone ?v "
        'FILTER(STRSTARTS(STR(?s), "https://w3id.org/pvpp/id/person/")) } '
        'UNION { ?s ?p ?v FILTER(isLiteral(?v) && CONTAINS(STR(?v), "' + names[0] + '")) } }'
    )
    r = client.get("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert r.json()["results"]["bindings"] == []


def test_restricted_store_needs_the_admin_token(client: TestClient) -> None:
    names, _ = _personal_values()
    assert client.get("/restricted").status_code == 401
    wrong = client.get("/restricted", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert client.get("/graph/restricted", headers={"Accept": "text/turtle"}).status_code == 404
    r = client.get("/restricted", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200 and names[0] in r.text
    assert r.headers["cache-control"] == "no-store"


# -- make docs ---------------------------------------------------------------------------------------
def test_docs_command_writes_pylode_pages(tmp_path: Path) -> None:
    from pvpp_kg.cli import main

    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    en = (tmp_path / "ontology-en.html").read_text(encoding="utf-8")
    lv = (tmp_path / "ontology-lv.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in en and '<html lang="lv">' in lv
    assert 'href="ontology-lv.html"' in en
    assert (tmp_path / "index.html").exists()
    Graph().parse(tmp_path / "ontology.ttl")


def test_shape_iris_land_on_their_shape(client: TestClient) -> None:
    """``https://w3id.org/pvpp/shapes#X`` dereferences: the metrics (``prov:wasDerivedFrom``) and the validation
    reports name the shapes, and each is a section of ``/shapes`` with its messages in the page's language;
    RDF clients get the shapes graph itself."""
    pvppsh = Namespace("https://w3id.org/pvpp/shapes#")
    metrics = Graph().parse(PROJECT_ROOT / "data" / "reference" / "compliance-metrics.ttl")
    named = {str(o).removeprefix(str(pvppsh)) for o in metrics.objects(None, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))
             if str(o).startswith(str(pvppsh))}  # fmt: skip
    assert {"ServiceOwner", "ServiceResourceShape", "VariantOrStepShape"} <= named
    for lang, message in (("en", "A service must have exactly one owner"), ("lv", "Pakalpojumam jābūt tieši vienam")):
        page = client.get("/shapes", params={"lang": lang}, headers=HTML)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        ids = set(re.findall(r'<section id="([^"]+)"', page.text))
        assert named <= ids, sorted(named - ids)
        owner = page.text.split('<section id="ServiceOwner">', 1)[1].split("</section>", 1)[0]
        assert message in owner
    turtle = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=turtle.text, format="turtle")
    assert (pvppsh.ServiceShape, RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")) in g
    sub = client.get("/shapes/submission.ttl")
    assert sub.status_code == 200 and "NoPersonalDataShape" in sub.text
    missing = client.get("/shapes/nope", headers={"Accept": "text/turtle"})
    assert missing.status_code == 404 and "/shapes/submission" in missing.text


def test_an_index_answers_rdf_clients_as_a_collection(client: TestClient) -> None:
    """``/id/role`` is the ten roles for RDF clients too (it was a 404 "nothing is known"): a hydra:Collection
    with its members, their lv/en labels and the total; a page past the last is the same 400 as for HTML."""
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    r = client.get("/id/role", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle"), r.text
    g = Graph().parse(data=r.text, format="turtle")
    roles = URIRef("https://w3id.org/pvpp/id/role")
    assert (roles, RDF.type, hydra.Collection) in g and g.value(roles, hydra.totalItems) == Literal(10)
    members = set(g.objects(roles, hydra.member))
    assert len(members) == 10 and URIRef("https://w3id.org/pvpp/id/role/PS") in members
    assert {lbl.language for lbl in g.objects(URIRef("https://w3id.org/pvpp/id/role/PS"), RDFS.label)} == {"lv", "en"}
    assert (roles, hydra.view, None) not in g  # one page
    for accept in ("text/turtle", "text/html"):
        past = client.get("/id/role", params={"page": 2}, headers={"Accept": accept})
        assert past.status_code == 400 and "past the last page" in past.text
    assert client.get("/id/nothing-here", headers={"Accept": "text/turtle"}).status_code == 404


def test_an_index_page_of_a_large_kind_links_its_neighbours(client: TestClient) -> None:
    """The matrix's 173 A/L cells are two pages: page 2 lists the other 73 as hydra:member, links
    the first, previous, next and last pages, and names its own forms (Content-Location keeps the page)."""
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    iri = "https://w3id.org/pvpp/id/assignment"
    first = Graph().parse(data=client.get("/id/assignment", headers={"Accept": "text/turtle"}).text, format="turtle")
    total = int(first.value(URIRef(iri), hydra.totalItems))
    assert total == 173 and len(set(first.objects(URIRef(iri), hydra.member))) == 100
    r = client.get("/id/assignment", params={"page": 2}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-location"] == "/id/assignment.ttl?page=2"
    g = Graph().parse(data=r.text, format="turtle")
    view = URIRef(iri + "?page=2")
    assert (URIRef(iri), hydra.view, view) in g and len(set(g.objects(URIRef(iri), hydra.member))) == 73
    assert {p: str(g.value(view, hydra[p])) for p in ("first", "previous", "next", "last")} == {
        "first": iri + "?page=1",
        "previous": iri + "?page=1",
        "next": "None",  # the last page
        "last": iri + "?page=2",
    }
    assert not set(g.objects(URIRef(iri), hydra.member)) & set(first.objects(URIRef(iri), hydra.member))
