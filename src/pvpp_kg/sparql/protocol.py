"""SPARQL 1.1 Protocol rules: read the request, check the query, choose the format, run it.

The query engine is the store's (pyoxigraph or the remote endpoint); this module only decides what may
run and how the answer is shaped.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, ServiceNotAllowed, UpdateNotAllowed
from pvpp_kg.formats import Format
from pvpp_kg.store.query_text import MAX_NESTING, QUERY_FORMS, QueryInfo, inspect, nesting, reaches_network


@dataclass(frozen=True)
class SparqlRequest:
    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


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


def choose_format(info: QueryInfo, accept: str | None, format_param: str | None) -> Format:
    if info.is_graph_result:
        return negotiate(accept, formats.GRAPH_FORMATS, format_param=format_param)
    return negotiate(accept, formats.RESULT_FORMATS, format_param=format_param)
