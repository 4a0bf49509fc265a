"""Namespace IRIs and the one prefix map used by queries, CURIEs, serialisers and the query UI."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, RDF, RDFS, SKOS, XSD

LANGS: tuple[str, ...] = ("lv", "en")  # the languages of every name, message and page (language tags)
BASE = "https://w3id.org/pvpp/"
PVPP = Namespace(BASE + "ontology#")
ONTOLOGY_IRI = BASE + "ontology"
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
LOCN = Namespace("http://www.w3.org/ns/locn#")

DATASET_IRI = URIRef(BASE + "dataset")  # the void:Dataset the catalogue and the service description name
GRAPH_ONTOLOGY = GRAPH["ontology"]
GRAPH_REFERENCE = GRAPH["reference"]
GRAPH_INSTITUTIONS = GRAPH["institutions"]


def institution_graph(key: str) -> str:
    """The named graph that holds one institution's own data (what its submission replaces)."""
    return f"{GRAPH}institution/{key}"


PREFIXES: dict[str, str] = {
    "pvpp": str(PVPP),
    "pvppid": str(ID),
    "cpsv": str(CPSV),
    "cv": str(CV),
    "org": str(ORG),
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "adms": str(ADMS),
    "prov": str(PROV),
    "dcat": str(DCAT),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "sh": str(SH),
    "void": str(VOID),
    "locn": str(LOCN),
    "pvppfn": "https://w3id.org/pvpp/function#",  # the endpoint's SPARQL functions (sparql/functions.ttl)
}


def sparql_prologue() -> str:
    """PREFIX lines for every prefix above, for query text shown to people."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
