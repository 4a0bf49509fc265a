"""SPARQL 1.1 Protocol rules: read the request, check the query, choose the format, run it.

The query engine is the store's (pyoxigraph or the remote endpoint); this module only decides what may
run and how the answer is shaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, NotAcceptable, ServiceNotAllowed, UpdateNotAllowed
from pvpp_kg.formats import Format
from pvpp_kg.store.backend import Dataset
from pvpp_kg.store.query_text import MAX_NESTING, QUERY_FORMS, QueryInfo, inspect, nesting, reaches_network

#: The parameters clients name the results format with: ``format`` (Virtuoso, Fuseki), ``output`` (sparqler, Fuseki)
#: and ``results``; SPARQLWrapper sends all three, with the same value (and for TSV, RDF/XML and JSON-LD a second,
#: the media type, beside it).
FORMAT_PARAMS = ("format", "output", "results")
#: rdflib's identifier of a Dataset's default graph, which ``Dataset(SPARQLStore(url))`` sends as
#: ``default-graph-uri``: read as this endpoint's default graph, the union of all graphs.
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class SparqlRequest:
    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format_values: tuple[str, ...] = ()  # every format/output/results value, in order


def _check_nesting(text: str, what: str) -> None:
    if nesting(text) > MAX_NESTING:
        raise BadRequest(f"the {what} nests groups or brackets more than {MAX_NESTING} levels deep; flatten it")


def graph_iri(text: str) -> str:
    """A graph parameter (Graph Store Protocol, dataset parameters) that must be an absolute IRI."""
    try:
        iri = ox.NamedNode(text).value
    except ValueError:
        iri = ""
    if not iri.startswith(("http://", "https://", "urn:")):
        raise BadRequest(f"graph must be an absolute IRI (http, https or urn) without spaces or <>: {text[:200]!r}")
    return iri


def dataset_iri(text: str, parameter: str) -> str:
    """A ``default-graph-uri`` / ``named-graph-uri`` / ``using-…`` value: any absolute IRI."""
    try:
        iri = ox.NamedNode(text).value
    except ValueError:
        iri = ""
    if not _SCHEME.match(iri):
        raise BadRequest(
            f"{parameter} must be an absolute IRI (such as https://…) without spaces or <>: {text[:200]!r}"
        )
    return iri


def dataset(req: SparqlRequest, info: QueryInfo) -> Dataset:
    """The query's RDF dataset from the protocol's parameters, each checked to be an IRI. rdflib's default-graph
    marker stands for the default graph itself (the union of all graphs here)."""
    default = tuple(dataset_iri(g, "default-graph-uri") for g in req.default_graphs)
    named = tuple(dataset_iri(g, "named-graph-uri") for g in req.named_graphs)
    union = RDFLIB_DEFAULT_GRAPH in default
    if union:
        default = tuple(g for g in default if g != RDFLIB_DEFAULT_GRAPH)
        union = not default  # beside real graphs, the marker adds nothing to name
    return Dataset(default, named, from_query=info.has_dataset_clause, union=union)


def check_query(req: SparqlRequest, *, allow_service: bool) -> QueryInfo:
    """Refuse what must not run: no query, an update, SERVICE while federation is off."""
    if not req.query.strip():
        raise BadRequest("no query: send it as the 'query' parameter or as an application/sparql-query body")
    _check_nesting(req.query, "query")
    info = inspect(req.query)
    if info.form == "UPDATE":
        raise UpdateNotAllowed(
            "this is a SPARQL Update; the query endpoint answers queries only — "
            "send updates to /sparql/update with an admin token"
        )
    if not allow_service and reaches_network(req.query):
        raise ServiceNotAllowed(
            "SERVICE federation is disabled on this endpoint (PVPP_ALLOW_SERVICE): the query has a SERVICE pattern, "
            "or mentions SERVICE in a way that cannot be told apart from one"
        )
    return info


def check_update(text: str, *, allow_service: bool) -> None:
    if not text.strip():
        raise BadRequest("no update: send it as the 'update' parameter or as an application/sparql-update body")
    _check_nesting(text, "update")
    info = inspect(text)
    if info.form in QUERY_FORMS:
        raise BadRequest(f"this is a {info.form} query; send it to /sparql")
    if not allow_service and reaches_network(text):
        raise ServiceNotAllowed("SERVICE and LOAD would fetch remote URLs; they are disabled (PVPP_ALLOW_SERVICE)")


def format_param(values: Iterable[str], offered: tuple[Format, ...], form: str) -> str | None:
    """The one format the format/output/results values name for this query form (empty values ignored); repeats
    must agree (``tsv`` and ``text/tab-separated-values`` do), a value not offered for the form is a 406. A value
    may list media types separated by commas, read as alternatives."""
    chosen: Format | None = None
    for value in values:
        if not value.strip():
            continue
        # a list of alternatives (SPARQLWrapper repeats its Accept list for JSON-LD): the first one offered
        f = next((f for v in value.split(",") if (f := formats.by_name(v, offered)) is not None), None)
        if f is None:
            names = ", ".join(f.name for f in offered)
            raise NotAcceptable(
                f"format {value.strip()[:100]!r} is not offered for a {form} query; use one of: {names}"
            )
        if chosen is not None and f is not chosen:
            raise BadRequest(
                f"the format parameters disagree: {chosen.name} and {f.name}; name one format "
                "(format, output and results are read as one)"
            )
        chosen = f
    return chosen.name if chosen else None


def choose_format(info: QueryInfo, accept: str | None, format_values: Iterable[str] = ()) -> Format:
    offered = formats.GRAPH_FORMATS if info.is_graph_result else formats.RESULT_FORMATS
    form = info.form or "SELECT"
    return negotiate(accept, offered, format_param=format_param(format_values, offered, form))
