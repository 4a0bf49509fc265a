"""What a query text says about itself, read without running it: its form (query or update), its keywords, and
whether it could reach the network.

The store needs it to run a job (a CONSTRUCT answers triples) and the protocol to refuse what must not run.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_VERBS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}

# What may hold brackets or keywords that are no syntax: comments, strings, IRIs (a verbose pattern).
OPAQUE = r"""\#[^\n]*                                   # comment
      | '''(?:[^'\\]|\\.|'(?!''))*'''              # long strings
      | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
      | '(?:[^'\\\n]|\\.)*' | "(?:[^"\\\n]|\\.)*"  # short strings
      | <[^<>"{}|^`\\\s]*>                          # IRIs
"""
# Everything that is not a keyword: the opaque text, variables, prefixed names.
_NOISE = re.compile(
    OPAQUE
    + r"""
      | [?$][A-Za-z0-9_\u00B7-\uFFFF]+              # variables
      | [A-Za-z0-9_\u00B7-\uFFFF.-]*:(?:[A-Za-z0-9_\u00B7-\uFFFF.:%-]|\\[_~.\-!$&'()*+,;=/?\#@%])*  # prefixed names
    """,
    re.VERBOSE,
)
_WORD = re.compile(r"[A-Za-z]+")


def masked(query: str) -> str:
    """The query with its comments, strings, IRIs, variables and prefixed names blanked, same length: what is left
    are keywords and punctuation, at their places."""
    return _NOISE.sub(lambda m: " " * len(m.group(0)), query)


_TOKEN = re.compile(
    rf"(?P<noise>{_NOISE.pattern})|(?P<open>\{{)|(?P<close>\}})|(?P<semi>;)|(?P<word>[A-Za-z]+)", re.VERBOSE
)


@dataclass(frozen=True)
class Token:
    kind: str  # "open" / "close" (curly brackets), "semi", "word" (a keyword), "noise" (anything else of note)
    text: str
    start: int


MAX_TOKENS = 500_000  # keywords, names, literals and brackets in one query or update: 100x a 2,000-IRI VALUES


def too_many_tokens(text: str) -> bool:
    """Whether the text has more than ``MAX_TOKENS`` tokens, counted (lazily, up to the limit) before any parser
    recurses."""
    return any(True for _ in itertools.islice(_TOKEN.finditer(text), MAX_TOKENS, None))


def tokens(text: str) -> Iterator[Token]:
    """The text's keywords, curly brackets and semicolons, with their offsets; comments, strings, IRIs, variables
    and prefixed names come as noise, so a keyword inside them is never mistaken for one."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "noise"
        yield Token(kind, m.group(), m.start())


@dataclass(frozen=True)
class QueryInfo:
    """What the query text says about itself, read without running it."""

    form: str | None  # SELECT / ASK / CONSTRUCT / DESCRIBE, UPDATE, or None when unrecognised
    keywords: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_dataset_clause(self) -> bool:
        return "FROM" in self.keywords

    @property
    def is_graph_result(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def inspect(text: str) -> QueryInfo:
    """Find the query form and keywords outside comments, strings, IRIs and names.

    Remembered for the last 512 texts up to 16 k characters: clients repeat their queries.

    >>> inspect("PREFIX s: <http://x/SERVICE> SELECT * { ?s s:p 'SERVICE' }").form
    'SELECT'
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


# SPARQL 1.1 section 19.2: \u and \U escapes are replaced in the whole text before it is parsed
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescaped(text: str) -> str:
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


@functools.lru_cache(maxsize=512)
def reaches_network(text: str) -> bool:
    """Whether a query or update could open a connection: the keyword SERVICE or LOAD.

    Read on SPARQL's own terminals, after its code-point unescaping (section 19.2): comments, strings, IRIs,
    variables and prefixed names (with their ``PN_LOCAL_ESC`` escapes such as ``ex:a\\#``) are set aside, and
    what remains are keywords and punctuation. A bare word SERVICE or LOAD there can only be the keyword, so
    the text is refused without a full parse — rdflib's parser gives up (RecursionError) on queries of a few
    hundred triple patterns, which would refuse every large query that mentions ``pvpp:Service``.
    """
    words = {w.upper() for w in _WORD.findall(_NOISE.sub(" ", _unescaped(text)))}
    return not words.isdisjoint(("SERVICE", "LOAD"))


MAX_NESTING = 128  # groups, sub-selects and brackets inside each other: far beyond any real query


@functools.lru_cache(maxsize=512)  # clients repeat their queries
def nesting(text: str) -> int:
    """How deep ``{``, ``(`` and ``[`` nest outside strings, IRIs and comments (after unescaping), read before any
    parser recurses: a query nested thousands deep would exhaust the engine's stack."""
    depth = deepest = 0
    for ch in _NOISE.sub(" ", _unescaped(text)):
        if ch in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "})]":
            depth -= 1
    return deepest


_SELECT = re.compile(r"\bSELECT\b", re.IGNORECASE)
_STAR = re.compile(r"SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?(\*)", re.IGNORECASE)
_VARIABLE = re.compile(OPAQUE + r"| [?$]([A-Za-z0-9_\u00B7-\uFFFF]+)", re.VERBOSE)


def select_star(query: str) -> int | None:
    """The position of the ``*`` when the outer query is ``SELECT *`` (``DISTINCT``/``REDUCED`` too), else None:
    the first ``SELECT`` of a query text is its outer one (sub-selects come after it)."""
    text = masked(query)
    first = _SELECT.search(text)
    star = _STAR.match(text, first.start()) if first else None
    return star.start(1) if star else None


def in_order_of_appearance(query: str, names: list[str]) -> list[str]:
    """``names`` (variables) in the order the query text first names them, as Jena and Fuseki list ``SELECT *``'s
    columns (Oxigraph sorts them: ``?o ?p ?s``)."""
    first: dict[str, int] = {}
    for m in _VARIABLE.finditer(query):
        if m.group(1) is not None:
            first.setdefault(m.group(1), m.start())
    return sorted(names, key=lambda n: (first.get(n, len(query)), n))


def default_graph_use(update: str) -> str | None:
    """``"reads"`` when an update matches triple patterns outside ``GRAPH`` (in ``WHERE`` or ``DELETE WHERE``, with
    no ``WITH`` or ``USING``), ``"writes"`` when its ``INSERT`` template puts triples outside ``GRAPH``, else None.
    In this store the default graph of an update is its own default graph, which holds nothing (every triple is in
    a named graph; queries see their union): such an update would match nothing, or write what no page and no
    dump shows, and still answer 204. None when rdflib cannot read the text: Oxigraph then says what is wrong."""
    if "WHERE" not in inspect(update).keywords:
        return None  # INSERT DATA, DELETE DATA, CLEAR, …: no pattern, no template
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        operations = translateUpdate(parseUpdate(update)).algebra
    except Exception:  # noqa: BLE001 - rdflib's parser raises many kinds; the store's own parser decides
        return None
    for op in operations:
        part = functools.partial(dict.get, op)  # rdflib's CompValue.get answers a missing key with its name
        if op.name == "DeleteWhere" and part("triples"):
            return "reads"
        if op.name != "Modify" or part("withClause"):
            continue
        if not part("using") and _outside_graph(part("where")):
            return "reads"
        if part("insert") is not None and dict.get(part("insert"), "triples"):
            return "writes"
    return None


def _outside_graph(node: object) -> bool:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "Graph":
            return False
        if node.name == "BGP":
            return bool(dict.get(node, "triples"))
        return any(_outside_graph(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_outside_graph(v) for v in node)
    return False
