"""SHACL Core constraint components, each one SPARQL query over all focus nodes that returns only the violations.

Components that test value nodes against other shapes (sh:node, sh:not, sh:and, sh:or, sh:xone, qualified value
shapes) ask the engine which value nodes conform, as a set, and compare in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from pvpp_kg.shacl.focus import Focus, NodesFocus, ValuesFocus, member, values
from pvpp_kg.shacl.paths import Path
from pvpp_kg.shacl.shapes import Constraint, Shape
from pvpp_kg.shacl.terms import OxTerm, sparql

if TYPE_CHECKING:
    from pvpp_kg.shacl.engine import Run
    from pvpp_kg.shacl.report import Result

# (focus node, value node or None, result path when it is not the shape's, nested results for sh:detail)
Hit = tuple[OxTerm, OxTerm | None, Any, tuple["Result", ...]]

_BAD = "<urn:x-pvpp-kg:ill-typed>"
# datatypes whose lexical space Oxigraph checks when casting a string to them
_CASTS = {
    XSD[n]
    for n in (
        "integer",
        "decimal",
        "float",
        "double",
        "boolean",
        "date",
        "dateTime",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
    )
}
_NODE_KIND = {
    SH.IRI: "isIRI(?value)",
    SH.BlankNode: "isBlank(?value)",
    SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
    SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
    SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
}
_COMPARE = {"minExclusive": ">", "minInclusive": ">=", "maxExclusive": "<", "maxInclusive": "<="}
_SIMPLE = ("class", "nodeKind", "minLength", "maxLength", "pattern", "languageIn", "in", *_COMPARE)


def _string(text: str) -> str:
    return sparql(Literal(text))


def _failing_values(run: Run, shape: Shape, focus: Focus, condition: str) -> Iterator[Hit]:
    """Each (focus, value) whose value node does not meet ``condition``; an error in it counts as not met."""
    for this, value in _failing(run, shape, focus, f"FILTER (!COALESCE({condition}, false))"):
        yield this, value, None, ()


def _failing(run: Run, shape: Shape, focus: Focus, test: str) -> list[tuple[OxTerm, OxTerm]]:
    """The (focus, value) pairs that ``test`` (a FILTER or MINUS on ``?value``) keeps.

    A broad focus on a one-step path reads the pairs from the property's failing pairs, found once per
    validation for every shape that asks the same (national graph: 11 shapes test dct:description's language
    tag, 0.9 s a scan); only the few failing subjects are then checked to be focus nodes. When the property
    fails the test often (the recipients that are not society: 30,000, most of them not this shape's focus
    nodes), reading the pairs costs more than the join, which answers instead."""
    path = shape.path
    found = run.scans.failing(path.sparql, test) if focus.broad and path is not None and path.step else None
    if found is not None:
        subjects = tuple(dict.fromkeys(t for t, _ in found))
        if not subjects:
            return []
        if not any(isinstance(t, ox.BlankNode) for t in subjects):
            listed = NodesFocus(subjects).pattern("?this")
            inside = {
                row[0] for row in run.select(f"SELECT DISTINCT ?this WHERE {{ {listed} {focus.pattern('?this')} }}")
            }
            return [(t, v) for t, v in found if t in inside]
    return [(t, v) for t, v in run.select(f"SELECT DISTINCT ?this ?value WHERE {{ {values(focus, path)} {test} }}")]


# Every condition below is read as COALESCE(condition, false), so a test that is an error on IRIs and blank nodes
# (lang, datatype) needs no isLiteral before it: Oxigraph decodes the value once per test, and the national
# validation's language checks took ~40 % longer with it.
_LANG_STRING = 'lang(?value) != ""'  # a language-tagged literal


def _typed(dt: str) -> str:
    """A condition: ``?value`` is a literal of datatype ``dt`` (lexical form not checked); a language-tagged
    literal's datatype is rdf:langString."""
    return f"datatype(?value) = <{dt}>"


def _datatype(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    dt = c.params["iri"]
    if dt == RDF.langString:
        yield from _failing_values(run, shape, focus, _LANG_STRING)
        return
    right = _typed(dt)
    if dt in _CASTS:  # well-formed: the lexical form casts to the datatype
        right += f" && !sameTerm(COALESCE(<{dt}>(STR(?value)), {_BAD}), {_BAD})"
    if dt in _CASTS or dt == XSD.string or not dt.startswith(str(XSD)):
        yield from _failing_values(run, shape, focus, right)
        return
    # other XSD datatypes: Oxigraph stores the derived integer types as xsd:integer and keeps ill-formed literals
    # verbatim, so the original literal decides
    candidates = f"datatype(?value) IN (<{dt}>, <{XSD.integer}>)"
    q = f"SELECT DISTINCT ?this ?value ({candidates} AS ?maybe) WHERE {{ {values(focus, shape.path)} }}"
    for this, value, maybe in run.select(q):
        if maybe is None or maybe.value != "true":
            yield this, value, None, ()
            continue
        original = run.original(value)
        if not (isinstance(original, Literal) and original.datatype == dt and not original.ill_typed):
            yield this, value, None, ()


def _count(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    n, path = c.params["n"], shape.path
    assert path is not None
    if c.kind == "minCount":
        q = _too_few(focus, path, n)
    else:
        q = _too_many(focus, path, n)
    for (this,) in run.select(q) if q else ():
        yield this, None, None, ()


def _too_few(focus: Focus, path: Path, n: int, condition: str = "") -> str | None:
    """The focus nodes with fewer than ``n`` value nodes meeting ``condition``, or None when none can have."""
    if n == 0:
        return None
    if n == 1 and not path.nullable:
        # what has no value at all: an anti-join, 5x faster on Oxigraph than counting every node's values
        anti = "MINUS" if focus.broad else "FILTER NOT EXISTS"
        return f"SELECT ?this WHERE {{ {focus.pattern('?this')} {anti} {{ ?this {path.sparql} ?value {condition} }} }}"
    reach = values(focus, path) if path.nullable else f"?this {path.sparql} ?value"
    return (
        f"SELECT ?this WHERE {{ {focus.pattern('?this')} OPTIONAL {{ {reach} {condition} }} }} "
        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})"
    )


def _too_many(focus: Focus, path: Path, n: int, condition: str = "") -> str:
    """The focus nodes with more than ``n`` value nodes meeting ``condition``."""
    if focus.broad and path.step:
        # the property scanned and counted whole first (a node's count of triples is at least its count of
        # distinct values), only the few over ``n`` recounted exactly: 7x faster on the national graph
        over = (
            f"{{ SELECT ?this WHERE {{ ?this {path.sparql} ?value {condition} }} "
            f"GROUP BY ?this HAVING (COUNT(?value) > {n}) }}"
        )
        body = f"{focus.pattern('?this')} {over} ?this {path.sparql} ?value {condition}"
    else:
        body = f"{values(focus, path)} {condition}"
    return f"SELECT ?this WHERE {{ {body} }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})"


def _condition(run: Run, c: Constraint) -> str:
    p = c.params
    match c.kind:
        case "class":
            return f"EXISTS {{ {run.classes.instance('?value', p['iri'], '?_t', bound=True)} }}"
        case "nodeKind":
            return _NODE_KIND[p["kind"]]
        case "minLength":
            return f"!isBlank(?value) && STRLEN(STR(?value)) >= {p['n']}"
        case "maxLength":
            return f"!isBlank(?value) && STRLEN(STR(?value)) <= {p['n']}"
        case "pattern":
            return f"!isBlank(?value) && REGEX(STR(?value), {_string(p['pattern'])}, {_string(p['flags'])})"
        case "languageIn":
            tests = " || ".join(f"langMatches(lang(?value), {_string(x)})" for x in p["langs"]) or "false"
            return f"({tests})"
        case "in":
            return " || ".join(f"sameTerm(?value, {sparql(v)})" for v in p["values"]) or "false"
        case "minExclusive" | "minInclusive" | "maxExclusive" | "maxInclusive":
            return f"?value {_COMPARE[c.kind]} {sparql(p['bound'])}"
    raise AssertionError(c.kind)


def _simple(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    if c.kind == "class" and focus.broad and (classes := run.classes.subclasses(c.params["iri"])):
        # the values without one of the types, as an anti-join: 12x faster than a type lookup per value
        types = f"MINUS {{ VALUES ?_t {{ {' '.join(classes)} }} ?value <{RDF.type}> ?_t }}"
        for this, value in _failing(run, shape, focus, types):
            yield this, value, None, ()
        return
    yield from _failing_values(run, shape, focus, _condition(run, c))


def _pairs(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    """sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals: value nodes against the values of a property."""
    other, path, f = f"<{c.params['iri']}>", shape.path, values(focus, shape.path)
    if c.kind == "equals":
        q = (
            f"SELECT DISTINCT ?this ?value WHERE {{ {{ {f} FILTER NOT EXISTS {{ ?this {other} ?value }} }} UNION "
            f"{{ {focus.pattern('?this')} ?this {other} ?value FILTER (!{member(path)}) }} }}"
        )
    elif c.kind == "disjoint":
        q = f"SELECT DISTINCT ?this ?value WHERE {{ {f} ?this {other} ?value }}"
    else:
        op = "<" if c.kind == "lessThan" else "<="
        test = f"FILTER (!COALESCE(?value {op} ?_o, false))"
        q = f"SELECT DISTINCT ?this ?value ?_o WHERE {{ {f} ?this {other} ?_o {test} }}"
    for this, value, *_ in run.select(q):
        yield this, value, None, ()


def _has_value(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    v = sparql(c.params["value"])
    q = f"SELECT ?this WHERE {{ {focus.pattern('?this')} FILTER (!{member(shape.path, value=v)}) }}"
    for (this,) in run.select(q):
        yield this, None, None, ()


def _unique_lang(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    if not c.params["on"]:
        return
    # the tag read once per value and tested as the bound ?lang (unbound on IRIs and blank nodes): 27 % faster
    q = (
        f"SELECT ?this ?lang WHERE {{ {values(focus, shape.path)} BIND (LCASE(lang(?value)) AS ?lang) "
        f'FILTER (?lang != "") }} GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?value) > 1)'
    )
    for this, _ in run.select(q):
        yield this, None, None, ()


def _closed(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    allowed = ", ".join(f"<{p}>" for p in c.params["allowed"])
    test = f"FILTER (?_p NOT IN ({allowed}))" if allowed else ""
    q = f"SELECT DISTINCT ?this ?_o ?_p WHERE {{ {values(focus, shape.path)} ?value ?_p ?_o {test} }}"
    for this, o, p in run.select(q):
        yield this, o, URIRef(p.value), ()


def _value_pairs(run: Run, shape: Shape, focus: Focus) -> tuple[list[tuple[OxTerm, OxTerm]], Focus]:
    pairs = [(t, v) for t, v in run.select(f"SELECT DISTINCT ?this ?value WHERE {{ {values(focus, shape.path)} }}")]
    return pairs, ValuesFocus(focus, shape.path)


def _logical(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    if (test := _logical_test(run, c)) is not None:  # one filter: the value pairs never cross into Python
        yield from _failing_values(run, shape, focus, test)
        return
    pairs, vfocus = _value_pairs(run, shape, focus)
    if not pairs:
        return
    nodes = {v for _, v in pairs}
    if c.kind in ("node", "not"):
        failing = run.failing(c.params["shape"], vfocus, nodes)
        for this, v in pairs:
            if (v in failing) == (c.kind == "node"):
                yield this, v, None, tuple(failing.get(v, ())) if c.kind == "node" else ()
        return
    fails = [run.failing(s, vfocus, nodes) for s in c.params["shapes"]]
    for this, v in pairs:
        passed = sum(v not in f for f in fails)
        ok = {"and": passed == len(fails), "or": passed >= 1, "xone": passed == 1}[c.kind]
        if not ok:
            yield this, v, None, ()


def _value_test(run: Run, shape: Shape) -> str | None:
    """A condition on ``?value`` that holds exactly when the value node conforms to ``shape``, or None when the
    shape needs more than value tests (a path, property shapes, nested shapes, SPARQL)."""
    if shape.deactivated:
        return "true"
    if shape.path is not None or shape.properties:
        return None
    tests = []
    for c in shape.constraints:
        if c.kind == "datatype":
            dt = c.params["iri"]
            if dt != XSD.string and dt.startswith(str(XSD)):
                return None  # the datatype test that reads the original literal
            tests.append(_LANG_STRING if dt == RDF.langString else _typed(dt))
        elif c.kind in _SIMPLE:
            tests.append(_condition(run, c))
        else:
            return None
    return " && ".join(f"COALESCE({t}, false)" for t in tests) or "true"


def _logical_test(run: Run, c: Constraint) -> str | None:
    """The condition a value node meets when it passes sh:not, sh:and, sh:or or sh:xone, when every shape in it is
    value tests (NotAServiceFunctionShape's sh:not sh:in on the national graph: 80,000 value pairs read into
    Python, 0.8 s); None for sh:node, whose results carry the nested results as sh:detail."""
    if c.kind == "node":
        return None
    tests = [_value_test(run, s) for s in ([c.params["shape"]] if c.kind == "not" else c.params["shapes"])]
    if None in tests:
        return None
    if c.kind == "not":
        return f"!({tests[0]})"
    if c.kind == "xone":
        return f"({' + '.join(f'IF({t}, 1, 0)' for t in tests) or '0'}) = 1"
    joined = f" {'&&' if c.kind == 'and' else '||'} ".join(f"({t})" for t in tests)
    return joined or ("true" if c.kind == "and" else "false")


def _qualified(run: Run, shape: Shape, c: Constraint, focus: Focus) -> Iterator[Hit]:
    tests = [_value_test(run, s) for s in (c.params["shape"], *c.params["siblings"])]
    if None not in tests:  # one aggregate query: the whole national graph never crosses into Python
        yield from _qualified_inline(run, shape, c, focus, tests[0], tests[1:])
        return
    pairs, vfocus = _value_pairs(run, shape, focus)
    nodes = {v for _, v in pairs}
    failing = run.failing(c.params["shape"], vfocus, nodes) if nodes else {}
    sibling_fails = [run.failing(s, vfocus, nodes) for s in c.params["siblings"]] if nodes else []
    counts: dict[OxTerm, int] = {}
    for this, v in pairs:
        good = v not in failing and all(v in f for f in sibling_fails)
        counts[this] = counts.get(this, 0) + good
    n = c.params["n"]
    if c.kind == "qualifiedMinCount":
        for this in run.nodes(focus):
            if counts.get(this, 0) < n:
                yield this, None, None, ()
    else:
        for this, k in counts.items():
            if k > n:
                yield this, None, None, ()


def _qualified_inline(
    run: Run, shape: Shape, c: Constraint, focus: Focus, test: str | None, siblings: list[str | None]
) -> Iterator[Hit]:
    """Qualified counts where conformance is a value test: counted by Oxigraph, with the siblings' exclusion."""
    good = " && ".join([f"({test})", *(f"!({t})" for t in siblings)])
    n, path = c.params["n"], shape.path
    assert path is not None
    condition = f"FILTER ({good})"
    if c.kind == "qualifiedMinCount":
        q = _too_few(focus, path, n, condition)
    else:
        q = _too_many(focus, path, n, condition)
    for (this,) in run.select(q) if q else ():
        yield this, None, None, ()


CHECKS: dict[str, Callable[[Run, Shape, Constraint, Focus], Iterator[Hit]]] = {
    "datatype": _datatype,
    "minCount": _count,
    "maxCount": _count,
    "equals": _pairs,
    "disjoint": _pairs,
    "lessThan": _pairs,
    "lessThanOrEquals": _pairs,
    "hasValue": _has_value,
    "uniqueLang": _unique_lang,
    "closed": _closed,
    "node": _logical,
    "not": _logical,
    "and": _logical,
    "or": _logical,
    "xone": _logical,
    "qualifiedMinCount": _qualified,
    "qualifiedMaxCount": _qualified,
    **dict.fromkeys(_SIMPLE, _simple),
}
