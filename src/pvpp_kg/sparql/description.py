"""The SPARQL 1.1 Service Description of the endpoint (what a client configures itself from)."""

from __future__ import annotations

from importlib.resources import files

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from pvpp_kg.namespaces import DATASET_IRI, SD, VOID
from pvpp_kg.store.textindex import FUNCTION_NAMESPACE

FORMATS = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = [
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
    "N-Quads",
    "TriG",
]


def functions_graph() -> Graph:
    """The endpoint's own SPARQL functions (``functions.ttl``): in the service description, and what their
    namespace ``https://w3id.org/pvpp/function`` answers."""
    return Graph().parse(data=files(__package__).joinpath("functions.ttl").read_text(encoding="utf-8"))


def service_description(endpoint: str, void_url: str, counts: dict[str, int]) -> Graph:
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    svc = URIRef(endpoint)
    g.add((svc, RDF.type, SD.Service))
    g.add((svc, SD.endpoint, svc))
    g.add((svc, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((svc, SD.feature, SD.UnionDefaultGraph))
    for f in _RESULT_FORMATS:
        g.add((svc, SD.resultFormat, URIRef(FORMATS + f)))
    # the endpoint's own functions (functions.ttl): the text search over the names of every resource
    g += (functions := functions_graph())
    g.bind("pvppfn", FUNCTION_NAMESPACE)
    for function in functions.subjects(RDF.type, SD.Function):
        g.add((svc, SD.extensionFunction, function))
    g.add((svc, SD.defaultDataset, DATASET_IRI))
    g.add((DATASET_IRI, RDF.type, SD.Dataset))
    g.add((DATASET_IRI, RDF.type, VOID.Dataset))
    g.add((DATASET_IRI, RDFS.seeAlso, URIRef(void_url)))
    g.add((DATASET_IRI, VOID.sparqlEndpoint, svc))
    default = BNode()
    g.add((DATASET_IRI, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(sum(counts.values()), datatype=XSD.integer)))
    for name, n in counts.items():
        ng, graph = BNode(), BNode()
        g.add((DATASET_IRI, SD.namedGraph, ng))
        g.add((ng, RDF.type, SD.NamedGraph))
        g.add((ng, SD.name, URIRef(name)))
        g.add((ng, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(n, datatype=XSD.integer)))
    return g
