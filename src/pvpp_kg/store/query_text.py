"""What a query text says about itself, read without running it: its form (query or update) and keywords.

The store needs it to run a job (a CONSTRUCT answers triples) and the protocol to refuse what must not run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

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

    Remembered for the last 512 texts up to 16 k characters: clients repeat their queries.

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
