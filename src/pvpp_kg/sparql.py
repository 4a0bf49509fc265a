"""SPARQL 1.1 Protocol rules: read the request, check the query, choose the format, run it.

The query engine is the store's (pyoxigraph or the remote endpoint); this module only decides what may
run and how the answer is shaped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pvpp_kg import formats
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, ServiceNotAllowed, UpdateNotAllowed
from pvpp_kg.formats import Format

QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_VERBS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}

# Everything that is not a keyword: comments, strings, IRIs, variables, prefixed names.
_NOISE = re.compile(
    r"""\#[^\n]*                                   # comment
      | '''(?:[^'\\]|\\.|'(?!''))*'''              # long strings
      | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
      | '(?:[^'\\\n]|\\.)*' | "(?:[^"\\\n]|\\.)*"  # short strings
      | <[^<>"{}|^`\\\s]*>                          # IRIs
      | [?$][A-Za-z0-9_\u00B7-\uFFFF]+              # variables
      | [A-Za-z0-9_\u00B7-\uFFFF.-]*:[A-Za-z0-9_\u00B7-\uFFFF.:%-]*  # prefixed names
    """,
    re.VERBOSE,
)
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class QueryInfo:
    """What the query text says about itself, read without running it."""

    form: str | None  # SELECT / ASK / CONSTRUCT / DESCRIBE, UPDATE, or None when unrecognised
    keywords: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_dataset_clause(self) -> bool:
        return "FROM" in self.keywords

    @property
    def uses_service(self) -> bool:
        return "SERVICE" in self.keywords

    @property
    def is_graph_result(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def inspect(text: str) -> QueryInfo:
    """Find the query form and keywords outside comments, strings, IRIs and names.

    Remembered for the last 512 texts up to 16 k characters: clients repeat their queries, and the scan was a
    tenth of a point lookup's time in the web process.

    >>> inspect("PREFIX s: <http://x/SERVICE> SELECT * { ?s s:p 'SERVICE' }").uses_service
    False
    >>> inspect("# hi\\nINSERT DATA { <a:b> <a:c> 1 }").form
    'UPDATE'
    """
    return _inspect_cached(text) if len(text) <= 16_384 else _inspect(text)


def _inspect(text: str) -> QueryInfo:
    words = [w.upper() for w in _WORD.findall(_NOISE.sub(" ", text))]
    form = None
    for w in words:
        if w in ("PREFIX", "BASE"):
            continue
        if w in QUERY_FORMS:
            form = w
        elif w in UPDATE_VERBS:
            form = "UPDATE"
        break
    return QueryInfo(form, frozenset(words))


_inspect_cached = functools.lru_cache(maxsize=512)(_inspect)


@dataclass(frozen=True)
class SparqlRequest:
    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


def check_query(req: SparqlRequest, *, allow_service: bool) -> QueryInfo:
    """Refuse what must not run: no query, an update, SERVICE while federation is off."""
    if not req.query.strip():
        raise BadRequest("no query: send it as the 'query' parameter or as an application/sparql-query body")
    info = inspect(req.query)
    if info.form == "UPDATE":
        raise UpdateNotAllowed(
            "this is a SPARQL Update; the query endpoint answers queries only — "
            "send updates to /sparql/update with an admin token"
        )
    if info.uses_service and not allow_service:
        raise ServiceNotAllowed("SERVICE federation is disabled on this endpoint (PVPP_ALLOW_SERVICE)")
    return info


def check_update(text: str, *, allow_service: bool) -> None:
    if not text.strip():
        raise BadRequest("no update: send it as the 'update' parameter or as an application/sparql-update body")
    info = inspect(text)
    if info.form in QUERY_FORMS:
        raise BadRequest(f"this is a {info.form} query; send it to /sparql")
    if not allow_service and ({"SERVICE", "LOAD"} & info.keywords):
        raise ServiceNotAllowed("SERVICE and LOAD would fetch remote URLs; they are disabled (PVPP_ALLOW_SERVICE)")


def choose_format(info: QueryInfo, accept: str | None, format_param: str | None) -> Format:
    if info.is_graph_result:
        return negotiate(accept, formats.GRAPH_FORMATS, format_param=format_param)
    return negotiate(accept, formats.RESULT_FORMATS, format_param=format_param)
