"""SPARQL 1.1 Protocol rules: read the request, check the query, choose the format, run it.

The query engine is the store's (pyoxigraph or the remote endpoint); this module only decides what may
run and how the answer is shaped.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import pyoxigraph as ox

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import (
    BadRequest,
    NotAcceptable,
    QuerySyntaxError,
    ServiceNotAllowed,
    UnsupportedMediaType,
    UpdateNotAllowed,
)
from pvpp_kg.formats import Format
from pvpp_kg.personal import inserted_by
from pvpp_kg.store.backend import Dataset
from pvpp_kg.store.query_text import (
    MAX_NESTING,
    MAX_TOKENS,
    QUERY_FORMS,
    QueryInfo,
    default_graph_use,
    inspect,
    nesting,
    reaches_network,
    tokens,
    too_many_tokens,
)

#: The parameters clients name the results format with: ``format`` (Virtuoso, Fuseki), ``output`` (sparqler, Fuseki)
#: and ``results``; SPARQLWrapper sends all three, with the same value (and for TSV, RDF/XML and JSON-LD a second,
#: the media type, beside it).
FORMAT_PARAMS = ("format", "output", "results")
#: rdflib's identifier of a Dataset's default graph, which ``Dataset(SPARQLStore(url))`` sends as
#: ``default-graph-uri``: read as this endpoint's default graph, the union of all graphs.
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: An IRI reference without a scheme (``<s>``, ``<../o>``, ``<#x>``); may also match text that only looks like one,
#: which then merely gets a BASE it does not need.
_RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]*:)[^<>\"{}|^`\\\s]*>")


def with_base(text: str, base: str) -> str:
    """The text with a ``BASE`` in front when it has relative IRIs, resolved then against ``base`` (the endpoint's
    URL, as RFC 3986 takes the request's URI as the base of its content). On the first line, so the engine's line
    numbers in error messages stay those of the text sent; a BASE of the text's own comes later and wins."""
    return f"BASE <{base}> {text}" if _RELATIVE_IRI.search(text) else text


_FIRST_LINE_POSITION = re.compile(r"\b1:(\d+)\b")


@contextlib.contextmanager
def positions_as_sent(sent: str, original: str) -> Iterator[None]:
    """An error's positions on the first line as the client counts them: a ``BASE`` put in front of the text
    (:func:`with_base`) moved every column of that line ("error at 1:62" in a 25-character query)."""
    shift = len(sent) - len(original) if sent.endswith(original) else 0
    try:
        yield
    except BadRequest as e:
        if not shift or type(e) not in (BadRequest, QuerySyntaxError):  # a syntax error's plain message
            raise

        def back(m: re.Match[str]) -> str:
            column = int(m.group(1))
            return f"1:{column - shift}" if column > shift else m.group(0)

        raise type(e)(_FIRST_LINE_POSITION.sub(back, e.message)) from None


@dataclass(frozen=True)
class SparqlRequest:
    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format_values: tuple[str, ...] = ()  # every format/output/results value, in order


def _check_nesting(text: str, what: str) -> None:
    if nesting(text) > MAX_NESTING:
        raise BadRequest(f"the {what} nests groups or brackets more than {MAX_NESTING} levels deep; flatten it")
    if too_many_tokens(text):
        raise BadRequest(f"the {what} has more than {MAX_TOKENS:,} tokens; split it into smaller ones")


def graph_iri(text: str) -> str:
    """A graph parameter (Graph Store Protocol, dataset parameters) that must be an absolute IRI."""
    try:
        iri = ox.NamedNode(text).value
    except ValueError:
        iri = ""
    if not iri.startswith(("http://", "https://", "urn:")):
        raise BadRequest(f"graph must be an absolute IRI (http, https or urn) without spaces or <>: {text[:200]!r}")
    return iri


def check_charset(content_type: str | None, what: str) -> None:
    """SPARQL bodies are UTF-8: a Content-Type that declares another charset is refused (415) before any reading."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8", "us-ascii"):
            raise UnsupportedMediaType(f"the {what} is declared as {charset[:40]!r}; send it in UTF-8 (charset=utf-8)")


def decode_body(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the {what} is not UTF-8 (byte {e.start}); send it in UTF-8") from None


def read_form(body: bytes, what: str) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body, its percent-escapes read as UTF-8 strictly (a parser that
    replaced bad bytes would run a different text than the one sent)."""
    try:
        return parse_qs(decode_body(body, what), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"the {what} has percent-escapes that are not UTF-8; encode the text as UTF-8") from None


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


@dataclass(frozen=True)
class UpdateRequest:
    update: str
    using_graphs: tuple[str, ...] = ()  # using-graph-uri
    using_named_graphs: tuple[str, ...] = ()  # using-named-graph-uri
    base: str | None = None  # what relative IRIs are resolved against: the update endpoint's URL


def prepare_update(req: UpdateRequest, *, allow_service: bool) -> str:
    """The update text to run: checked (:func:`check_update`), the protocol's dataset made ``USING`` clauses of
    each ``INSERT``/``DELETE … WHERE`` operation, and a ``BASE`` in front (on the first line, so the engine's
    line numbers stay those of the text sent)."""
    check_update(req.update, allow_service=allow_service)
    default = tuple(dataset_iri(g, "using-graph-uri") for g in req.using_graphs)
    named = tuple(dataset_iri(g, "using-named-graph-uri") for g in req.using_named_graphs)
    text = with_using(req.update, default, named) if default or named else req.update
    text = with_base(text, req.base) if req.base else text
    _check_named_graphs(text)
    return text


def _check_named_graphs(text: str) -> None:
    """400 for an update that would use the store's own default graph: it holds nothing (queries read the union
    of the named graphs), so a pattern there matches nothing and a triple written there is never shown, yet the
    update would answer 204. Oxigraph server's and Fuseki's union default graph are read-only the same way."""
    use = default_graph_use(text)
    if use == "reads":
        raise BadRequest(
            "this update matches triple patterns outside GRAPH, i.e. in the store's own default graph, which holds "
            "nothing here (queries read the union of the named graphs; updates do not): write GRAPH ?g { … } in "
            "its WHERE, or name the graphs with WITH, USING or using-graph-uri; nothing was changed"
        )
    if use == "writes" or any(q.graph_name == ox.DefaultGraph() for q in inserted_by(text)):
        raise BadRequest(
            "this update writes triples outside GRAPH, into the store's own default graph, which no page, dump or "
            "query shows here (all data lives in named graphs under https://w3id.org/pvpp/graph/): write them "
            "inside GRAPH <…> { … }; nothing was changed"
        )


def with_using(text: str, default: tuple[str, ...], named: tuple[str, ...]) -> str:
    """SPARQL 1.1 Protocol §2.2.3: ``using-graph-uri`` / ``using-named-graph-uri`` are the dataset of every
    operation's ``WHERE``, as ``USING`` / ``USING NAMED`` would be; an update with its own ``USING`` or ``WITH`` as
    well is refused. ``INSERT DATA``, ``DELETE DATA`` and ``DELETE WHERE`` have no dataset to set."""
    clause = "".join(f"USING <{g}> " for g in default) + "".join(f"USING NAMED <{g}> " for g in named)
    inserts: list[int] = []
    depth = 0
    first: str | None = None  # the operation's first keyword (after PREFIX and BASE)
    modify = False  # an INSERT/DELETE … WHERE operation whose WHERE is still to come
    after_first = False  # the previous token (comments aside) was the operation's first keyword
    for tok in tokens(text):
        just_after, after_first = after_first, after_first and tok.kind == "noise"
        if tok.kind == "open":
            depth += 1
        elif tok.kind == "close":
            depth -= 1
        elif depth == 0 and tok.kind == "semi":
            first, modify = None, False
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            if first is None:
                if word not in ("PREFIX", "BASE"):
                    first, modify, after_first = word, word in ("INSERT", "DELETE"), True
                    if word == "WITH":
                        raise BadRequest(_CONFLICT)
            elif word == "USING":
                raise BadRequest(_CONFLICT)
            elif just_after and word in ("DATA", "WHERE"):  # INSERT DATA, DELETE DATA, DELETE WHERE
                modify = False
            elif modify and word == "WHERE":
                inserts.append(tok.start)
                modify = False
    for at in reversed(inserts):
        text = text[:at] + clause + text[at:]
    return text


_CONFLICT = (
    "the update names its dataset with USING or WITH and the request with using-graph-uri / "
    "using-named-graph-uri; give one of them"
)


def choose_format(info: QueryInfo, accept: str | None, format_values: Iterable[str] = ()) -> Format:
    offered = formats.GRAPH_FORMATS if info.is_graph_result else formats.RESULT_FORMATS
    form = info.form or "SELECT"
    return negotiate(accept, offered, format_param=format_param(format_values, offered, form))
