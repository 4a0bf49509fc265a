"""The formats pvpp-kg offers, as values: SPARQL results formats, RDF formats and HTML."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # short name, also the ``format=`` parameter value
    media_type: str
    oxigraph: str  # attribute name on pyoxigraph.QueryResultsFormat / RdfFormat ("" for HTML)
    extension: str
    aliases: tuple[str, ...] = ()  # other media types naming it, in Accept and in the format parameter
    names: tuple[str, ...] = ()  # other values clients send in a format/output/results parameter (never Accept)

    @property
    def content_type(self) -> str:
        text = self.media_type.startswith("text/") or self.media_type.endswith(("json", "xml", "turtle", "trig"))
        return f"{self.media_type}; charset=utf-8" if text or "triples" in self.media_type else self.media_type


JSON = Format("json", "application/sparql-results+json", "JSON", "srj", ("application/json",))
XML = Format("xml", "application/sparql-results+xml", "XML", "srx", ("application/xml", "text/xml"))
CSV = Format("csv", "text/csv", "CSV", "csv")
TSV = Format("tsv", "text/tab-separated-values", "TSV", "tsv")
RESULT_FORMATS = (JSON, XML, CSV, TSV)

# ``names``: what SPARQLWrapper, Virtuoso-style and sparqler-style clients put in format/output/results for a graph
# result (SPARQLWrapper's default "xml" means RDF/XML there). N3 is answered with Turtle, its subset, in Accept too
# (rdflib's ``parse(url, format="n3")`` asks for text/n3 only), as Oxigraph server and Fuseki do
TURTLE = Format(
    "turtle",
    "text/turtle",
    "TURTLE",
    "ttl",
    ("application/x-turtle", "text/n3", "text/rdf+n3"),
    ("n3", "application/n3", "application/turtle"),
)
NTRIPLES = Format("ntriples", "application/n-triples", "N_TRIPLES", "nt", ("text/plain",), ("n-triples",))
JSONLD = Format(
    "jsonld",
    "application/ld+json",
    "JSON_LD",
    "jsonld",
    ("application/json",),
    ("json-ld", "json", "application/x-json+ld"),
)
RDFXML = Format("rdfxml", "application/rdf+xml", "RDF_XML", "rdf", ("application/xml", "text/xml"), ("xml", "rdf+xml"))
NQUADS = Format("nquads", "application/n-quads", "N_QUADS", "nq")
TRIG = Format("trig", "application/trig", "TRIG", "trig")
GRAPH_FORMATS = (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS, TRIG)
TRIPLE_FORMATS = (TURTLE, NTRIPLES, JSONLD, RDFXML)

HTML = Format("html", "text/html", "", "html", ("application/xhtml+xml",))

ALL = (*RESULT_FORMATS, *GRAPH_FORMATS, HTML)


def by_name(name: str, offered: tuple[Format, ...]) -> Format | None:
    """A ``format=`` value: a short name, an extension, a media type or another name clients use for it."""
    name = name.strip().lower()
    for f in offered:
        if name in (f.name, f.extension, f.media_type, *f.aliases, *f.names):
            return f
    return None


def by_extension(ext: str, offered: tuple[Format, ...]) -> Format | None:
    ext = ext.lower().lstrip(".")
    return next((f for f in offered if f.extension == ext or (ext == "json" and f.name == "jsonld")), None)
