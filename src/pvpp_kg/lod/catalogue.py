"""The dataset described for machines: VoID statistics and a DCAT-AP 3 record, in one graph.

``https://w3id.org/pvpp/dataset`` is at once the ``void:Dataset`` the SPARQL service description names as
its default dataset and the ``dcat:Dataset`` that catalogues (data.gov.lv, data.europa.eu) harvest. It is
served at ``/.well-known/void`` (RFC 8615 / VoID §6) and at ``/dataset`` (the IRI's own path), with the
``dcat:Catalog`` that lists it and the SPARQL ``dcat:DataService``.

The record conforms to the official DCAT-AP 3.0.0 shapes as a harvester runs them (no inference, no vocabulary
graph): every object is typed with the class DCAT-AP names for it — licences, languages, file and media types,
the checksum algorithm, standards (``data/catalogue/terms.ttl``, EU authority-table IRIs where they exist),
and the server's own URLs (``rdfs:Resource``, the landing page ``foaf:Document``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from pvpp_kg.lod.dumps import DumpSet
from pvpp_kg.namespaces import ADMS, BASE, DATASET_IRI, GRAPH, ONTOLOGY_IRI, PROV, SPDX, VOID
from pvpp_kg.settings import PROJECT_ROOT

EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_LICENCE = Namespace("http://publications.europa.eu/resource/authority/licence/")
EU_LANG = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_COUNTRY = Namespace("http://publications.europa.eu/resource/authority/country/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
IANA = "https://www.iana.org/assignments/media-types/"
LICENCE = EU_LICENCE.CC_BY_4_0  # CC BY 4.0 in the EU licence table (typed dct:LicenseDocument in terms.ttl)
VZD_DATASET = URIRef("https://data.gov.lv/dati/lv/dataset/varis-atvertie-dati")

VARAM = URIRef(BASE + "id/institution/varam")
CATALOGUE_IRI = URIRef(DATASET_IRI + "#catalogue")  # a fragment of the record that describes it
TERMS = PROJECT_ROOT / "data" / "catalogue" / "terms.ttl"
VZD = URIRef("https://www.vzd.gov.lv/")
CPSV_AP = URIRef("https://semiceu.github.io/CPSV-AP/releases/3.2.0/")
EU_COMMISSION = URIRef("http://publications.europa.eu/resource/authority/corporate-body/COM")

_FILE_TYPES = {
    "text/turtle": "RDF_TURTLE",
    "application/n-triples": "RDF_N_TRIPLES",
    "application/ld+json": "JSON_LD",
    "application/n-quads": "RDF_N_QUADS",
}


@dataclass(frozen=True)
class Statistics:
    """VoID numbers of the union of the public graphs."""

    triples: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int] = field(default_factory=dict)  # class IRI → instances
    properties: dict[str, int] = field(default_factory=dict)  # property IRI → triples
    graphs: dict[str, int] = field(default_factory=dict)  # named graph IRI → triples


def _int(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)


def _agent(g: Graph, node: URIRef, lv: str, en: str, kind: URIRef = FOAF.Organization) -> URIRef:
    g.add((node, RDF.type, FOAF.Agent))
    g.add((node, RDF.type, kind))
    g.add((node, FOAF.name, Literal(lv, lang="lv")))
    g.add((node, FOAF.name, Literal(en, lang="en")))
    return node


@lru_cache(maxsize=4)
def _terms(path: Path) -> tuple[tuple[URIRef, URIRef, URIRef | Literal], ...]:
    return tuple(Graph().parse(path, format="turtle"))  # type: ignore[arg-type]


def _url(g: Graph, url: str, cls: URIRef = RDFS.Resource) -> URIRef:
    """A URL of this server as the object of a DCAT property, typed as DCAT-AP's range asks."""
    node = URIRef(url)
    g.add((node, RDF.type, cls))
    return node


def dataset_description(
    stats: Statistics, site: str, dumps: DumpSet | None, version: str, terms: Path | None = None
) -> Graph:
    """VoID + DCAT-AP of the public dataset; ``site`` is where this server answers (no trailing slash);
    ``terms`` is the Turtle file typing the external terms the record uses (``data/catalogue/terms.ttl``)."""
    g = Graph()
    for triple in _terms(terms or TERMS):
        g.add(triple)
    for prefix, ns in (
        ("void", VOID),
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("prov", PROV),
        ("spdx", SPDX),
        ("adms", ADMS),
    ):
        g.bind(prefix, ns)
    ds = DATASET_IRI
    endpoint = URIRef(site + "/sparql")
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.identifier, Literal(str(ds))))
    g.add((ds, DCTERMS.title, Literal("PVPP zināšanu grafs: pakalpojumu pārvaldības politika 2024–2027", lang="lv")))
    g.add(
        (
            ds,
            DCTERMS.title,
            Literal("PVPP knowledge graph: Latvia's public-service management policy 2024–2027", lang="en"),
        )
    )
    g.add(
        (
            ds,
            DCTERMS.description,
            Literal(
                "Pakalpojumu vides pilnveides plāna 2024.–2027. gadam jēdzieni, lomas, uzdevumi un atbildības matrica, "
                "iestādes un to pakalpojumi, resursi un pakalpojumu līmeņu vienošanās kā saistītie dati.",
                lang="lv",
            ),
        )
    )
    g.add(
        (
            ds,
            DCTERMS.description,
            Literal(
                "The concepts, roles, management tasks and responsibility matrix of the Service Environment "
                "Improvement Plan 2024–2027, with institutions and their services, resources and service level "
                "agreements, as linked data. People appear only as posts and roles; names and contact data are not "
                "published.",
                lang="en",
            ),
        )
    )
    g.add((ds, DCTERMS.license, LICENCE))
    g.add(
        (
            ds,
            DCTERMS.rights,
            Literal(
                "CC BY 4.0. Attribution: VARAM (policy and data); Valsts zemes dienests, Valsts adrešu reģistrs "
                "(municipality codes and names, CC BY 4.0); CPSV-AP 3.2.0 © European Union (CC BY 4.0).",
                lang="en",
            ),
        )
    )
    g.add(
        (
            ds,
            DCTERMS.publisher,
            _agent(
                g,
                VARAM,
                "Viedās administrācijas un reģionālās attīstības ministrija",
                "Ministry of Smart Administration and Regional Development",
            ),
        )
    )
    for agent, lv, en, role in (
        (VZD, "Valsts zemes dienests", "State Land Service of Latvia", "originator"),
        (EU_COMMISSION, "Eiropas Komisija (CPSV-AP)", "European Commission (CPSV-AP)", "originator"),
    ):
        attribution = BNode()
        g.add((ds, PROV.qualifiedAttribution, attribution))
        g.add((attribution, RDF.type, PROV.Attribution))
        g.add((attribution, PROV.agent, _agent(g, agent, lv, en)))
        g.add((attribution, DCAT.hadRole, URIRef(f"http://registry.it.csiro.au/def/isotc211/CI_RoleCode/{role}")))
    g.add((ds, DCTERMS.source, VZD_DATASET))
    g.add((ds, DCTERMS.conformsTo, CPSV_AP))
    g.add((ds, DCTERMS.conformsTo, URIRef(ONTOLOGY_IRI)))
    g.add((ds, DCTERMS.language, EU_LANG.LAV))
    g.add((ds, DCTERMS.language, EU_LANG.ENG))
    g.add((ds, DCTERMS.spatial, EU_COUNTRY.LVA))
    g.add((ds, DCAT.theme, EU_THEME.GOVE))
    g.add((ds, DCAT.keyword, Literal("publiskie pakalpojumi", lang="lv")))
    g.add((ds, DCAT.keyword, Literal("public services", lang="en")))
    g.add((ds, DCAT.landingPage, _url(g, site + "/", FOAF.Document)))
    g.add((ds, ADMS.version, Literal(version)))
    g.add((ds, DCTERMS.temporal, _period(g)))

    # VoID
    g.add((ds, VOID.sparqlEndpoint, endpoint))
    g.add((ds, VOID.uriSpace, Literal(BASE)))
    g.add((ds, VOID.vocabulary, URIRef(BASE + "ontology#")))
    g.add((ds, VOID.triples, _int(stats.triples)))
    g.add((ds, VOID.distinctSubjects, _int(stats.distinct_subjects)))
    g.add((ds, VOID.distinctObjects, _int(stats.distinct_objects)))
    g.add((ds, VOID.classes, _int(len(stats.classes))))
    g.add((ds, VOID.properties, _int(len(stats.properties))))
    g.add((ds, VOID.exampleResource, URIRef(BASE + "id/role/IPKS")))
    g.add((ds, VOID.exampleResource, URIRef(BASE + "id/task/PU2-21")))
    g.add((ds, VOID.rootResource, URIRef(ONTOLOGY_IRI)))
    for cls, n in sorted(stats.classes.items()):
        part = URIRef(f"{ds}/class/{_slug(cls)}")
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, _int(n)))
    for prop, n in sorted(stats.properties.items()):
        part = URIRef(f"{ds}/property/{_slug(prop)}")
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, _int(n)))
    for graph, n in sorted(stats.graphs.items()):
        sub = URIRef(graph)
        if not graph.startswith(str(GRAPH)):
            continue
        g.add((ds, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, VOID.triples, _int(n)))

    # DCAT distributions: the dumps and the SPARQL endpoint
    if dumps is not None:
        g.add((ds, DCTERMS.modified, Literal(dumps.created, datatype=XSD.dateTime)))
        for f in dumps.files:
            dist = URIRef(f"{site}/dumps/{f.name}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f.title, lang="en")))
            g.add((dist, DCAT.accessURL, _url(g, site + "/dumps")))
            g.add((dist, DCAT.downloadURL, _url(g, str(dist))))
            g.add((dist, DCAT.mediaType, URIRef(IANA + f.media_type)))
            g.add((dist, DCTERMS["format"], EU_FILE_TYPE[_FILE_TYPES[f.media_type]]))
            if f.encoding == "gzip":
                g.add((dist, DCAT.compressFormat, URIRef(IANA + "application/gzip")))
            g.add((dist, DCAT.byteSize, Literal(f.size, datatype=XSD.nonNegativeInteger)))
            g.add((dist, DCTERMS.license, LICENCE))
            checksum = BNode()
            g.add((dist, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            g.add((checksum, SPDX.checksumValue, Literal(f.sha256, datatype=XSD.hexBinary)))
            g.add((ds, VOID.dataDump, dist))
    service = URIRef(site + "/sparql#service")
    sparql_dist = URIRef(site + "/sparql#distribution")
    g.add((ds, DCAT.distribution, sparql_dist))
    g.add((sparql_dist, RDF.type, DCAT.Distribution))
    g.add((sparql_dist, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    g.add((sparql_dist, DCAT.accessURL, _url(g, str(endpoint))))
    g.add((sparql_dist, DCAT.accessService, service))
    g.add((sparql_dist, DCTERMS.license, LICENCE))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCTERMS.title, Literal("pvpp-kg SPARQL endpoint", lang="en")))
    g.add((service, DCAT.endpointURL, _url(g, str(endpoint))))
    g.add((service, DCAT.endpointDescription, _url(g, str(endpoint))))
    g.add((service, DCAT.servesDataset, ds))
    g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    g.add((service, DCTERMS.license, LICENCE))
    g.add((ds, RDFS.seeAlso, URIRef(site + "/.well-known/void")))
    _catalogue(g, service)
    return g


def _catalogue(g: Graph, service: URIRef) -> None:
    """The catalogue a harvester starts from: the dataset and the SPARQL service, published by VARAM."""
    cat = CATALOGUE_IRI
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, Literal("PVPP zināšanu grafa katalogs", lang="lv")))
    g.add((cat, DCTERMS.title, Literal("PVPP knowledge graph catalogue", lang="en")))
    g.add((cat, DCTERMS.description, Literal("PVPP zināšanu grafa datu kopa un tās SPARQL pakalpojums.", lang="lv")))
    g.add((cat, DCTERMS.description, Literal("The PVPP knowledge graph dataset and its SPARQL service.", lang="en")))
    g.add((cat, DCTERMS.publisher, VARAM))
    g.add((cat, DCTERMS.license, LICENCE))
    g.add((cat, DCTERMS.language, EU_LANG.LAV))
    g.add((cat, DCTERMS.language, EU_LANG.ENG))
    g.add((cat, DCTERMS.spatial, EU_COUNTRY.LVA))
    g.add((cat, DCAT.dataset, DATASET_IRI))
    g.add((cat, DCAT.service, service))


def _period(g: Graph) -> BNode:
    period = BNode()
    g.add((period, RDF.type, DCTERMS.PeriodOfTime))
    g.add((period, DCAT.startDate, Literal("2024-01-01", datatype=XSD.date)))
    g.add((period, DCAT.endDate, Literal("2027-12-31", datatype=XSD.date)))
    return period


def _slug(iri: str) -> str:
    """A stable path segment for a partition IRI (the class or property's CURIE-like tail)."""
    import hashlib

    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tail)[:60]
    return f"{safe}-{hashlib.sha256(iri.encode()).hexdigest()[:8]}"
