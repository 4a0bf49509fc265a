"""``pvppfn:search`` in SPARQL: the query rewritten, before any store sees it, into standard SPARQL 1.1.

Why a rewrite and not a custom function: the same text then runs on the embedded store and on a remote SPARQL
server (which cannot call pvpp-kg's code), with the same answers; and the index's matches can drive the query.
The backend (``backend.EmbeddedBackend``, ``remote.RemoteBackend``) calls :func:`rewrite` with the current text
index's ``scores`` before it evaluates or forwards the query.

``pvppfn:search(X, text [, lang])`` — ``text`` and ``lang`` a literal, a query parameter or a one-row ``VALUES``
(a variable nothing binds is unbound; one a pattern binds is a 400):
- a group whose filter is exactly ``pvppfn:search(?x, …)`` and that binds ``?x`` in a triple pattern of its own gets
  the matches as a ``VALUES`` block that drives it (:func:`narrow`), and the filter goes;
- ``BIND(pvppfn:search(?x, …) AS ?score)`` after a triple pattern binding ``?x`` joins the matches with their
  scores (:func:`_bind_scores`);
- every other call becomes an expression: for an IRI, its score (xsd:double) looked up in the matches (``IN``
  lists, one per score), for a literal ``1.0`` when every query word's stem begins one of its words (``REGEX``
  with each letter's diacritic and case variants), else an error (no value), as the function's definition says.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Callable
from functools import cache

from pvpp_kg.errors import BadRequest
from pvpp_kg.namespaces import LANGS
from pvpp_kg.store.query_text import OPAQUE
from pvpp_kg.store.textindex import FUNCTION_NAMESPACE, _stems, fold, matches_text

Scores = Callable[[str, "str | None"], dict[str, float]]

DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_NONE = 'ABS("")'  # an expression error: the call has no value (a FILTER drops the row, a BIND leaves it unbound)
# IRIs in the IN lists of one call: each candidate is compared with each of them (Oxigraph reads IN item by item),
# so beyond this a query would run for minutes: 60,504 matches against 40,102 services took 58 s
MAX_LISTED = 5_000

# comments, strings and IRIs: what may hold braces, parentheses or commas that are no syntax
_MASK = re.compile(OPAQUE, re.VERBOSE)
_STRING = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')(?:@[A-Za-z0-9-]+|\^\^\S+)?""")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_VARIABLE = re.compile(r"[?$](\w+)")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_ARG = r'(\?\w+|"[^"\\\n]*")'


def _mask(query: str) -> str:
    return _MASK.sub(lambda m: "\0" * len(m.group(0)), query)


def _prefixes(query: str) -> list[str]:
    """The prefixes the query declares for the function namespace (``pvppfn`` whatever it declares)."""
    found = re.findall(r"PREFIX\s+([\w.-]*):\s*<" + re.escape(FUNCTION_NAMESPACE) + ">", query, re.IGNORECASE)
    return sorted({"pvppfn", *found}, key=len, reverse=True)


def _name(query: str) -> str:
    """A regular expression for the function's name in this query (any prefix it declares, or the full IRI)."""
    names = "|".join(re.escape(p) + ":search" for p in _prefixes(query))
    return rf"(?<![\w:?$.-])(?:{names}|<{re.escape(FUNCTION_NAMESPACE)}search>)"


def _call_name(query: str) -> re.Pattern[str]:
    return re.compile(_name(query) + r"\s*\(")


def rewrite(query: str, bound: dict[str, str], scores: Scores) -> str:
    """The query without ``pvppfn:search``: the matches drive the groups they can (:func:`narrow`), every other
    call is an expression over the matches (``bound``: the query parameters' values; ``scores(text, lang)``: the
    matching resources' scores from the text index). A call whose text or language the data gives is a 400: the
    matches are looked up before the query runs."""
    known: dict[tuple[str, str | None], dict[str, float]] = {}
    bound = {**_one_row_values(query), **bound}

    def cached(text: str, lang: str | None) -> dict[str, float]:
        if (text, lang) not in known:
            known[text, lang] = scores(text, lang)
        return known[text, lang]

    free = _free(query)
    query = narrow(query, bound, cached)
    query = _bind_scores(query, bound, cached, free)
    name = _call_name(query)
    calls = [m for m in name.finditer(query) if not _in_text(query, m.start())]
    for m in reversed(calls):  # the last first: an inner call is replaced before the call around it
        masked = _mask(query)
        args, end = _arguments(query, masked, m.end())
        query = query[: m.start()] + _expression(args, bound, cached, free) + query[end:]
    return query


def _free(query: str) -> set[str]:
    """The variables the query never binds: none of its triple patterns, ``VALUES`` blocks or ``AS`` names them (a
    library query run without its parameters). Given as a text they are unbound, so the call has no value."""
    masked = _mask(query)
    body = masked.find("{")
    if body < 0:
        return set()
    bound, depth = set(), 0
    for m in re.finditer(r"[()]|(?:\bAS\s+)?[?$](\w+)|VALUES\s*\(([?$\w\s]*)\)", masked[body:], re.IGNORECASE):
        token = m.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif m.group(2) is not None:  # VALUES (?a ?b)
            bound.update(_VARIABLE.findall(m.group(2)))
        elif depth == 0 or token[0] not in "?$":  # in a triple pattern, or named by AS
            bound.add(m.group(1))
    return set(_VARIABLE.findall(masked[body:])) - bound


_ONE_ROW = re.compile(
    r"VALUES\s*(?:\((?P<names>[?$\w\s]*)\)\s*\{\s*\((?P<terms>(?:[^()\"']|" + _STRING.pattern + r")*)\)\s*\}"
    r"|[?$](?P<name>\w+)\s*\{\s*(?P<term>" + _STRING.pattern + r")\s*\})",
    re.IGNORECASE,
)


def _one_row_values(query: str) -> dict[str, str]:
    """The strings a one-row ``VALUES`` block gives its variables (how a remote server and the benchmark bind
    parameters): they count as parameters. A variable given in two blocks is left out."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    for m in _ONE_ROW.finditer(query):
        if m.group("name"):
            pairs = [(m.group("name"), m.group("term"))]
        else:
            names = _VARIABLE.findall(m.group("names"))
            terms = [t.group(0) for t in re.finditer(_STRING.pattern + r"|\S+", m.group("terms"))]
            pairs = list(zip(names, terms, strict=False)) if len(names) == len(terms) else []
        for name, term in pairs:
            if name in seen:
                found.pop(name, None)
                continue
            seen.add(name)
            if _STRING.fullmatch(term):
                found[name] = _constant(term, {}) or ""
    return found


def _in_text(query: str, at: int) -> bool:
    """Whether position ``at`` is inside a comment or a string (not merely the start of an IRI)."""
    for m in _MASK.finditer(query):
        if m.start() > at:
            return False
        if m.start() <= at < m.end() and not m.group(0).startswith("<"):
            return True
        if m.start() == at:
            return False
    return False


def _arguments(query: str, masked: str, start: int) -> tuple[list[str], int]:
    """The call's arguments (texts) from just after its '(' and the position after its ')'."""
    depth, args, begin = 0, [], start
    for i in range(start, len(masked)):
        ch = masked[i]
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            if depth == 0:
                args.append(query[begin:i].strip())
                return [a for a in args if a] if args != [""] else [], i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(query[begin:i].strip())
            begin = i + 1
    raise BadRequest("pvppfn:search( is not closed")


def _constant(arg: str, bound: dict[str, str], free: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The text of a literal or bound parameter (None for an IRI, which is not a text, or a ``free`` variable,
    which is unbound); 400 for anything else."""
    if m := _STRING.fullmatch(arg):
        body = m.group(1)[1:-1]
        return re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), e.group(0)), body)
    if _NUMBER.fullmatch(arg) or arg in ("true", "false"):
        return arg
    if (m := _VARIABLE.fullmatch(arg)) and m.group(1) in bound:
        return bound[m.group(1)]
    if m and m.group(1) in free:
        return None
    if arg.startswith("<") or re.fullmatch(r"[\w.-]*:[\w.-]*", arg):
        return None
    raise BadRequest(
        f"pvppfn:search takes its text and language as literals, query parameters or one-row VALUES, "
        f"not {arg[:80]!r}: the text index is asked before the query runs, so a text the data gives (a variable a "
        "pattern binds, an expression) cannot be looked up"
    )


def _checked(text: str | None, lang: str | None) -> tuple[str | None, str | None]:
    """The call's text and language as the index reads them, or a 400 as ``/api/search`` gives: an empty text finds
    nothing to look for, and a language is a tag whose primary subtag (``lv-LV``: lv, as langMatches reads it) is
    one the data is written in."""
    if text is not None and not _stems(text):  # nothing to look for once folded ("", "***")
        raise BadRequest("pvppfn:search: the text to look for is empty (it has no letters or digits)")
    if lang is None:
        return text, None
    primary = lang.split("-")[0].lower()
    if primary not in LANGS:
        raise BadRequest(f"pvppfn:search: language {lang!r} is not one of {', '.join(LANGS)}")
    return text, primary


def _expression(args: list[str], bound: dict[str, str], scores: Scores, free: set[str]) -> str:
    if len(args) not in (2, 3):
        raise BadRequest(f"pvppfn:search takes 2 or 3 arguments (?x, text [, language]), not {len(args)}")
    x, text = args[0], _constant(args[1], bound, free)
    text, lang = _checked(text, _constant(args[2], bound, free) if len(args) == 3 else None)
    if text is None or not _stems(text):
        return _NONE
    if m := _STRING.fullmatch(x):  # a literal: decided now
        tag = re.fullmatch(r".*@([A-Za-z0-9-]+)", m.group(0), re.DOTALL)
        if lang and (tag.group(1) if tag else "").split("-")[0].lower() != lang:
            return _NONE
        return _double(1.0) if matches_text(_constant(x, bound) or "", text) else _NONE
    literal = _literal_test(x, text, lang)
    if x.upper().startswith(("STR(", "LCASE(", "UCASE(", "CONCAT(")):  # a string, never an IRI
        return literal
    return f"IF(isLITERAL({x}), {literal}, {_lookup(x, scores(text, lang))})"


def _double(score: float) -> str:
    return f'"{score}"^^<{DOUBLE}>'


def _lookup(x: str, matches: dict[str, float]) -> str:
    """The score of the IRI ``x`` among the matches: one ``IN`` list per score, highest first."""
    if len(matches) > MAX_LISTED:
        raise BadRequest(
            f"pvppfn:search matches {len(matches):,} resources here, too many to look up in an expression (at most "
            f"{MAX_LISTED:,}): use it as FILTER(pvppfn:search(?x, …)) or BIND(pvppfn:search(?x, …) AS ?score) after "
            "a triple pattern that binds ?x, where the matches drive the query, or a narrower text"
        )
    by_score: dict[float, list[str]] = {}
    for iri, score in matches.items():
        by_score.setdefault(score, []).append(iri)
    expression = _NONE
    for score in sorted(by_score):
        listed = ", ".join(f"<{i}>" for i in sorted(by_score[score]))
        expression = f"IF({x} IN ({listed}), {_double(score)}, {expression})"
    return expression


def _literal_test(x: str, text: str, lang: str | None) -> str:
    """``1.0`` when every stem of ``text`` begins a word of the literal ``x`` (in ``lang``), else an error."""
    tests = [f'REGEX(STR({x}), "{_sparql_escape(_word_start(s))}")' for s in _stems(text)]
    if lang:
        tests.append(f'STRBEFORE(CONCAT(LCASE(LANG({x})), "-"), "-") = "{_sparql_escape(lang)}"')
    return f"IF({' && '.join(tests)}, {_double(1.0)}, {_NONE})"


def _sparql_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@cache
def _variants() -> dict[str, str]:
    """Each folded letter or digit and the characters (Latin, Greek, Cyrillic, any case) that fold to it."""
    found: dict[str, list[str]] = {}
    for cp in range(0x30, 0x2000):
        ch = chr(cp)
        if not ch.isalnum() or unicodedata.combining(ch):
            continue
        folded = fold(ch)
        if len(folded) == 1:
            found.setdefault(folded, []).append(ch)
    return {k: "".join(v) for k, v in found.items()}


def _word_start(stem: str) -> str:
    """A regular expression for a word that begins with ``stem`` (folded), in unfolded text: a character class of
    each letter's variants after the start or a character that is no letter or digit."""
    parts = []
    for ch in stem:
        variants = _variants().get(ch, ch)
        parts.append(f"[{variants}]" if len(variants) > 1 else re.escape(ch))
    return r"(^|[^\p{L}\p{N}])" + "".join(parts)


# --- letting the index drive a group ------------------------------------------------------------------------


def narrow(query: str, bound: dict[str, str], scores: Scores) -> str:
    """The query with the index's matches driving each group that has ``FILTER(pvppfn:search(?x, text [, lang]))``
    and binds ``?x`` in a triple pattern of its own, when the text and language are literals or bound parameters
    (however many matches: 60,504 matches of *pakalpojum* take ~2 s at national scale, the filter alone took longer).

    Why: as an expression, the call is evaluated once per candidate. Oxigraph joins only by hashing, so a VALUES
    block of the matches beside the group's patterns still reads every candidate (and joins a large block in worse
    than linear time); ``LATERAL`` evaluates the group once per match with ``?x`` bound, i.e. by index lookups. So a
    group of triple patterns and filters only (no nested group) becomes ``{ VALUES ?x { matches } LATERAL { the
    group without that filter } }``: every solution of the group binds ``?x`` in a triple pattern, the filter keeps
    exactly the matches, and the VALUES block holds exactly them, so the answers are the same. A group with nested
    groups (OPTIONAL, MINUS, GRAPH, ...), where binding ``?x`` first could change what they mean, and a group whose
    filters see variables around it (the group of an OPTIONAL, EXISTS or SERVICE) get the matches as a sub-select
    joined in instead of the filter (true for every match, no value for anything else).
    """
    masked = _mask(query)
    groups: set[int] = set()  # one call drives a group
    edits: list[tuple[int, int, str]] = []  # (from, to, replacement), none overlapping
    call = re.compile(
        r"FILTER\s*\(\s*" + _name(query) + r"\s*\(\s*\?(\w+)\s*,\s*" + _ARG + r"\s*(?:,\s*" + _ARG + r"\s*)?\)\s*\)"
    )
    for m in call.finditer(query):
        if masked[m.start()] == "\0":  # inside a comment or a string
            continue
        args = []
        for arg in (m.group(2), m.group(3)):
            if arg is None:
                args.append(None)
            elif arg.startswith("?"):
                args.append(bound.get(arg[1:]))
                if args[-1] is None:
                    break
            else:
                args.append(arg[1:-1])
        else:
            var = m.group(1)
            open_at = _group_start(masked, m.start())
            if open_at is None or open_at in groups or not _binds(masked, open_at, var):
                continue
            text, lang = _checked(args[0], args[1])
            try:
                matches = scores(text or "", lang)
            except sqlite3.Error:  # no index to read: left to the expression (which finds nothing)
                continue
            values = f"VALUES ?{var} {{ {' '.join(f'<{iri}>' for iri in sorted(matches))} }}"
            close_at = _group_end(masked, open_at)
            if "{" not in masked[open_at + 1 : close_at] and not _SEES_OUTSIDE.search(masked, 0, open_at):
                rest = query[open_at + 1 : m.start()] + query[m.end() : close_at]
                edits.append((open_at + 1, close_at, f" {values} LATERAL {{ {rest} }} "))
            else:  # the group joins the matches; the filter, true for every match, goes
                edits.append((open_at + 1, open_at + 1, f" {{ SELECT ?{var} WHERE {{ {values} }} }} "))
                edits.append((m.start(), m.end(), " "))
            groups.add(open_at)
    for start, end, text in sorted(edits, reverse=True):
        query = query[:start] + text + query[end:]
    return query


def _bind_scores(query: str, bound: dict[str, str], scores: Scores, free: set[str]) -> str:
    """Each ``BIND(pvppfn:search(?x, text [, lang]) AS ?score)`` that follows a triple pattern binding ``?x`` in
    its group becomes ``OPTIONAL { VALUES (?x ?score) { matches and scores } }``: the same solutions (``?x`` is
    bound, so each gets its score or none), joined by hashing instead of an expression read once per candidate."""
    masked = _mask(query)
    bind = re.compile(
        r"BIND\s*\(\s*"
        + _name(query)
        + r"\s*\(\s*\?(\w+)\s*,\s*"
        + _ARG
        + r"\s*(?:,\s*"
        + _ARG
        + r"\s*)?\)\s+AS\s+\?(\w+)\s*\)",
        re.IGNORECASE,
    )
    edits = []
    for m in bind.finditer(query):
        if masked[m.start()] == "\0":
            continue
        text, lang = _checked(*(_constant(a, bound, free) if a else None for a in (m.group(2), m.group(3))))
        open_at = _group_start(masked, m.start())
        if text is None or open_at is None or not _binds(masked[: m.start()] + "}", open_at, m.group(1)):
            continue
        matches = scores(text, lang) if _stems(text) else {}
        rows = " ".join(f"(<{iri}> {_double(score)})" for iri, score in sorted(matches.items()))
        edits.append((m.start(), m.end(), f"OPTIONAL {{ VALUES (?{m.group(1)} ?{m.group(4)}) {{ {rows} }} }}"))
    for start, end, text in reversed(edits):
        query = query[:start] + text + query[end:]
    return query


# a group whose filters see the variables around it: OPTIONAL's (the left join's condition), EXISTS' (substituted),
# SERVICE's (sent elsewhere); its filters must stay at its own level, so it gets the joined form
_SEES_OUTSIDE = re.compile(r"(?:OPTIONAL|EXISTS|SERVICE(?:\s+SILENT)?\s+\S+)\s*\Z", re.IGNORECASE)


def _group_end(masked: str, open_at: int) -> int:
    """The position of the '}' that closes the group opened at ``open_at``."""
    depth = 0
    for i in range(open_at + 1, len(masked)):
        ch = masked[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
    return len(masked)


def _group_start(masked: str, at: int) -> int | None:
    """The position of the '{' that opens the group holding position ``at``."""
    depth = 0
    for i in range(at - 1, -1, -1):
        ch = masked[i]
        if ch == "}":
            depth += 1
        elif ch == "{":
            if depth == 0:
                return i
            depth -= 1
    return None


def _binds(masked: str, open_at: int, var: str) -> bool:
    """Whether ``?var`` is the subject of a triple pattern directly in the group opened at ``open_at``."""
    depth, flat = 0, []
    for ch in masked[open_at + 1 :]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0:
            flat.append(ch)
    text = "".join(flat)
    return re.search(rf"(?:^|[.{{;\s])\?{re.escape(var)}\s+(?:a\s|\0|[A-Za-z][\w.-]*:)", text) is not None
