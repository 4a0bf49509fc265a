"""SHACL-SPARQL: sh:sparql constraints and SPARQL-based constraint components, with pre-binding as SHACL defines it.

A query is checked once, on rdflib's parse of it, for what SHACL forbids (MINUS, VALUES, SERVICE, assigning a
pre-bound variable, a sub-select that hides ``$this``): no query from a shapes graph ever leaves the machine.
A query whose ``$this`` is certainly bound by its own top-level patterns runs once for all focus nodes, joined
with them; any other query runs once per focus node with ``$this`` substituted (pre-binding proper).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from pvpp_kg.shacl.errors import ShapesError
from pvpp_kg.shacl.focus import FEW, Focus, NodesFocus, TargetFocus, values
from pvpp_kg.shacl.terms import OxTerm, is_true, sh, skolem, sparql

if TYPE_CHECKING:
    from pvpp_kg.shacl.engine import Run
    from pvpp_kg.shacl.shapes import Constraint, Shape, ShapesGraph

SHAPES_GRAPH = URIRef("urn:x-pvpp-kg:shapes-graph")
_THIS = Variable("this")
_PREBOUND = {"this", "shapesGraph", "currentShape"}
# strings, IRIs, comments and escapes: text that may hold braces, variables or keywords that are no syntax
_OPAQUE = (
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"'''
    r"""|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>|#[^\n]*|\\."""
)
# the opaque text is kept as it is; a variable is ?name or $name; keywords mark the clauses
_TOKEN = re.compile(
    _OPAQUE + r"|(?P<bound>\bbound\s*\(\s*[?$](?P<bvar>[A-Za-z0-9_]+)\s*\))"
    r"|[?$](?P<var>[A-Za-z0-9_\u00B7-\uFFFF]+)"
    r"|(?P<kw>\bSELECT\b|\bWHERE\b|\bGROUP\s+BY\b|\bHAVING\b|\bORDER\b|\bLIMIT\b|\bOFFSET\b|[{}])",
    re.IGNORECASE,
)


def substitute(text: str, constants: dict[str, str]) -> str:
    """Pre-bind variables to IRIs or literals in the query text, as SHACL's pre-binding does (5.2.2).

    Outside strings, IRIs and comments each occurrence becomes the constant; in a SELECT projection it becomes
    ``(constant AS ?name)``, in GROUP BY ``(constant)``, and ``bound(?name)`` becomes ``true``.
    """
    clause, selects = "", 0
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if m.group("kw"):
            kw = " ".join(token.upper().split())
            clause = {"SELECT": "select", "GROUP BY": "group"}.get(kw, "")
            selects += kw == "SELECT"
        elif m.group("bvar") in constants:
            token = "(true)"
        elif m.group("var") in constants:
            value, name = constants[m.group("var")], m.group("var")
            # a sub-select projects the constant under another name: the outer projection may not rebind it
            alias = f"?{name}" if selects == 1 else f"?_pb{selects}_{name}"
            token = {"select": f"({value} AS {alias})", "group": f"({value})"}.get(clause, value)
        out.append(token)
    out.append(text[pos:])
    return "".join(out)


# the structure a restriction needs: groups, parentheses, variables and the keywords that decide a group's context
_STRUCTURE = re.compile(
    _OPAQUE + r"|(?P<brace>[{}()])|[?$](?P<var>[A-Za-z0-9_\u00B7-\uFFFF]+)"
    r"|(?<![:\w])(?P<kw>SELECT|OPTIONAL|MINUS|EXISTS|SERVICE|LIMIT|OFFSET)\b",
    re.IGNORECASE,
)
_APART = {"OPTIONAL", "MINUS", "EXISTS", "SERVICE"}  # a group after these does not join with its neighbours


def restrict(text: str, block: str) -> str:
    """``text`` (a joinable SELECT) with ``block`` (``VALUES ?this {…}``) written at the start of every group that
    joins with the query's result and binds ``$this`` in a triple pattern of its own, so Oxigraph looks up the
    listed focus nodes instead of evaluating the query for every node and joining afterwards.

    The same answers as the query joined with the block: a group that joins with the result may be restricted to
    the rows the join keeps. Groups under OPTIONAL, MINUS, (NOT) EXISTS and SERVICE, groups that contain an OPTIONAL
    (a row the restriction drops may have blocked another) and sub-selects with LIMIT or OFFSET are left alone.
    """
    tokens = [
        (m.group("brace") or (m.group("kw") or "").upper() or ("?" if m.group("var") == "this" else ""), m.end())
        for m in _STRUCTURE.finditer(text)
    ]
    tokens = [t for t in tokens if t[0]]
    at: list[int] = []

    def group(i: int, joins: bool, out: list[int]) -> int:
        """The group opening at tokens[i]; returns the index of its closing brace."""
        start, parens, binds, optional, before = tokens[i][1], 0, False, False, ""
        i += 1
        while i < len(tokens) and tokens[i][0] != "}":
            kind = tokens[i][0]
            if kind == "(":
                parens += 1
            elif kind == ")":
                parens -= 1
            elif kind == "?" and parens == 0:
                binds = True  # outside parentheses a variable is in a triple pattern (FILTER and BIND use them)
            elif kind == "OPTIONAL" and parens == 0:
                optional = True
            elif kind == "{":
                nested = joins and before not in _APART
                if i + 1 < len(tokens) and tokens[i + 1][0] == "SELECT":
                    i = subselect(i + 1, nested, out)
                else:
                    i = group(i, nested, out)
                kind = ""
            before = kind if kind in _APART else before if kind in ("(", ")") else ""
            i += 1
        if joins and binds and not optional:
            out.append(start)
        return i

    def subselect(i: int, joins: bool, out: list[int]) -> int:
        """The sub-select whose SELECT is tokens[i]; returns the index of the brace closing it."""
        while i < len(tokens) and tokens[i][0] != "{":
            i += 1
        inner: list[int] = []
        i = group(i, joins, inner) + 1
        limited = False
        while i < len(tokens) and tokens[i][0] != "}":
            limited = limited or tokens[i][0] in ("LIMIT", "OFFSET")
            i += 1
        if not limited:
            out += inner
        return i

    first = next((i for i, t in enumerate(tokens) if t[0] == "SELECT"), None)
    if first is None:
        return text
    end = subselect(first, True, at)
    if any(t[0] in ("LIMIT", "OFFSET") for t in tokens[end:]):
        return text
    for pos in sorted(at, reverse=True):
        text = f"{text[:pos]} {block}{text[pos:]}"
    return text


@dataclass(frozen=True)
class Query:
    """A checked SHACL-SPARQL query: its text with constants substituted, and how it may be evaluated."""

    text: str
    prefixes: dict[str, str]
    form: str  # "select" | "ask"
    joinable: bool  # $this certainly bound at the top level: evaluate once for all focus nodes
    messages: tuple[Literal, ...]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, CompValue):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
        for v in node:
            yield from _walk(v)


def _mentions(node: Any, var: Variable) -> bool:
    return any(n == var for n in _walk(node) if isinstance(n, Variable))


def _projects(select: CompValue, var: Variable) -> bool:
    projection = [p for p in select.get("projection") or [] if isinstance(p, CompValue)]
    if not projection:  # SELECT *: the variables in scope, which a FILTER alone does not bring
        return _binds(select.get("where"))
    return any(p.get("var") == var or p.get("evar") == var for p in projection)


def _binds(group: Any) -> bool:
    """Whether a group graph pattern certainly binds ?this by its own triples, sub-selects or complete unions."""
    for part in group.get("part") or []:
        name = getattr(part, "name", "")
        if name == "TriplesBlock" and _mentions(part, _THIS):
            return True
        if name == "GraphGraphPattern" and _binds(part.get("graph")):  # GRAPH g { $this … } joins like a triple
            return True
        if name == "GroupOrUnionGraphPattern":
            branches = part.get("graph")
            if all(_branch_binds(b) for b in branches):
                return True
    return False


def _branch_binds(branch: Any) -> bool:
    if getattr(branch, "name", "") == "SubSelect":
        return _projects(branch, _THIS) and _binds(branch.get("where"))
    return _binds(branch)


def _groups_ok(group: Any, bound: bool) -> bool:
    """Every FILTER/BIND that reads ?this sits where ?this is already bound (so a join gives pre-binding's answer)."""
    bound = bound or _binds(group)
    for part in group.get("part") or []:
        name = getattr(part, "name", "")
        if name in ("Filter", "Bind") and _mentions(part, _THIS) and not bound:
            return False
        if name == "OptionalGraphPattern" and not _groups_ok(part.get("graph"), bound):
            return False
        if name == "GroupOrUnionGraphPattern":
            for b in part.get("graph"):
                inner = b.get("where") if getattr(b, "name", "") == "SubSelect" else b
                if _mentions(b, _THIS) and not _groups_ok(inner, False):
                    return False
        if name == "GraphGraphPattern" and _mentions(part, _THIS) and not _groups_ok(part.get("graph"), False):
            return False
    return True


def check_query(
    text: str, prefixes: dict[str, str], shape: Node, form: str, prebound: Iterable[str] = ()
) -> tuple[bool, bool]:
    """SHACL's syntax rules for a pre-bound query (5.2.1) and SERVICE refused; returns (joinable, projects $this)."""
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
    try:
        tree = parseQuery(prologue + text)
    except Exception as e:
        raise ShapesError(shape, f"SPARQL syntax error in a constraint query: {str(e).splitlines()[0]}") from None
    query = tree[1]
    if (form == "ask") != (query.name == "AskQuery") or query.name not in ("SelectQuery", "AskQuery"):
        raise ShapesError(shape, f"expected a SPARQL {form.upper()} query")
    bound = {Variable(v) for v in (*_PREBOUND, *prebound)}
    for node in _walk(query):
        name = getattr(node, "name", "")
        if name == "MinusGraphPattern":
            raise ShapesError(shape, "SHACL-SPARQL queries may not use MINUS")
        if name == "InlineData":
            raise ShapesError(shape, "SHACL-SPARQL queries may not use VALUES")
        if name == "ServiceGraphPattern":
            raise ShapesError(shape, "SERVICE is not allowed in shape queries: nothing is fetched from the network")
        if name == "Bind" and node.get("var") in bound:
            raise ShapesError(shape, f"a query may not assign the pre-bound variable ?{node.get('var')}")
        if name == "vars" and node.get("evar") in bound:
            raise ShapesError(shape, f"a query may not assign the pre-bound variable ?{node.get('evar')}")
        if name == "SubSelect" and not _projects(node, _THIS):
            raise ShapesError(shape, "a sub-select must project the pre-bound variable $this")
    where = query.get("where")
    # LIMIT and OFFSET count the rows of one focus node under pre-binding, of all of them in a join
    limited = any(getattr(n, "name", "") == "LimitOffsetClauses" for n in _walk(query))
    joinable = form == "select" and not limited and _projects(query, _THIS) and _binds(where)
    joinable = joinable and _groups_ok(where, False)
    return joinable, form == "ask" or _projects(query, _THIS)


class SparqlComponents:
    """The SHACL-SPARQL declarations of a shapes graph: prefixes, sh:sparql constraints, constraint components."""

    def __init__(self, shapes: ShapesGraph) -> None:
        self.shapes = shapes
        self.g = shapes.g
        self.uses_shapes_graph = False
        kinds = [SH.ConstraintComponent, *self.g.transitive_subjects(RDFS.subClassOf, SH.ConstraintComponent)]
        self.declared = list(dict.fromkeys(c for k in kinds for c in self.g.subjects(RDF.type, k)))

    def prefixes(self, node: Node, shape: Node) -> dict[str, str]:
        out: dict[str, str] = {}
        todo, seen = list(self.g.objects(node, SH.prefixes)), set()
        while todo:
            onto = todo.pop()
            if onto in seen:
                continue
            seen.add(onto)
            todo += list(self.g.objects(onto, OWL.imports))  # only within the shapes graph: nothing is fetched
            for decl in self.g.objects(onto, SH.declare):
                p, ns = self.shapes.one(decl, SH.prefix, shape), self.shapes.one(decl, SH.namespace, shape)
                if p is None or ns is None:
                    raise ShapesError(shape, "an sh:declare needs sh:prefix and sh:namespace")
                if str(p) in out and out[str(p)] != str(ns):
                    raise ShapesError(shape, f"prefix {p} is declared twice with different namespaces")
                out[str(p)] = str(ns)
        return out

    def check_target(self, text: str, prefixes: dict[str, str], shape: Node) -> None:
        """A SPARQL target is a plain SELECT of ?this: parsed like every shape query, SERVICE refused."""
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
        try:
            tree = parseQuery(prologue + text)
        except Exception as e:
            raise ShapesError(shape, f"SPARQL syntax error in a target query: {str(e).splitlines()[0]}") from None
        if tree[1].name != "SelectQuery" or not _projects(tree[1], _THIS):
            raise ShapesError(shape, "a SPARQL target must be a SELECT query that returns ?this")
        if any(getattr(n, "name", "") == "ServiceGraphPattern" for n in _walk(tree)):
            raise ShapesError(shape, "SERVICE is not allowed in shape queries: nothing is fetched from the network")
        _syntax(text, prefixes, shape)

    def _query(
        self,
        holder: Node,
        shape: Shape,
        form: str,
        constants: dict[str, str],
        messages: tuple[Literal, ...],
        prebound: Iterable[str] = (),
    ) -> Query:
        text = self.shapes.one(holder, sh(form), shape.node)
        if not isinstance(text, Literal):
            raise ShapesError(shape.node, f"sh:{form} must be a string")
        if re.search(r"[?$]shapesGraph\b", str(text)):
            self.uses_shapes_graph = True
        prefixes = self.prefixes(holder, shape.node)
        if shape.path is not None:
            constants = {**constants, "PATH": shape.path.sparql}
        elif re.search(r"\$PATH\b", str(text)):
            raise ShapesError(shape.node, "$PATH in a query of a node shape")
        constants = {"currentShape": sparql(skolem(shape.node)), "shapesGraph": f"<{SHAPES_GRAPH}>", **constants}
        body = substitute(str(text), constants)
        joinable, projects = check_query(body, prefixes, shape.node, form, prebound)
        if not projects:  # SHACL 5.2 and 6.2.3.1: a SELECT returns the focus node as ?this
            raise ShapesError(shape.node, "a SHACL-SPARQL SELECT query must project $this")
        _syntax(body, prefixes, shape.node)
        joinable = joinable and "PREFIX" not in body.upper().split("SELECT")[0]
        return Query(body, prefixes, form, joinable, messages)

    def constraints(self, shape: Shape) -> list[Constraint]:
        from pvpp_kg.shacl.shapes import Constraint

        g, out = self.g, []
        for node in g.objects(shape.node, SH.sparql):
            deactivated = self.shapes.one(node, SH.deactivated, shape.node)
            if is_true(deactivated):
                continue
            messages = tuple(m for m in g.objects(node, SH.message) if isinstance(m, Literal)) or shape.messages
            q = self._query(node, shape, "select", {}, messages)
            out.append(Constraint("sparql", SH.SPARQLConstraintComponent, {"query": q}, source=node))
        for comp in self.declared:
            out += self._component(shape, comp)
        return out

    def _component(self, shape: Shape, comp: Node) -> list[Constraint]:
        from pvpp_kg.shacl.shapes import Constraint

        g = self.g
        params: list[tuple[str, list[Node], bool]] = []
        for p in g.objects(comp, SH.parameter):
            path = self.shapes.one(p, SH.path, comp)
            if not isinstance(path, URIRef):
                raise ShapesError(comp, "a parameter's sh:path must be an IRI")
            optional = self.shapes.one(p, SH.optional, comp)
            name = re.split(r"[#/]", str(path))[-1]
            params.append((name, list(g.objects(shape.node, path)), is_true(optional)))
        if not params or any(not vals and not opt for _, vals, opt in params):
            return []
        kind = SH.propertyValidator if shape.path is not None else SH.nodeValidator
        validator = self.shapes.one(comp, kind, comp) or self.shapes.one(comp, SH.validator, comp)
        if validator is None:
            return []
        form = "ask" if (validator, SH.ask, None) in g else "select"
        if form == "ask" and kind != SH.validator and (comp, kind, validator) in g:
            raise ShapesError(comp, "node and property validators must be SELECT queries")
        messages = (
            tuple(m for m in g.objects(validator, SH.message) if isinstance(m, Literal))
            or tuple(m for m in g.objects(comp, SH.message) if isinstance(m, Literal))
            or shape.messages
        )
        out = []
        names = [n for n, _, _ in params]
        for combo in itertools.product(*[vals or [None] for _, vals, _ in params]):
            constants = {}
            for name, value in zip(names, combo, strict=True):
                if isinstance(value, BNode):
                    raise ShapesError(shape.node, f"parameter ${name} has a blank node value")
                if value is not None:
                    constants[name] = sparql(value)
            q = self._query(validator, shape, form, constants, messages, prebound=["value", *constants])
            bindings = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
            out.append(
                Constraint(
                    "component",
                    comp if isinstance(comp, URIRef) else SH.ConstraintComponent,
                    {"query": q, "bindings": bindings},
                )
            )
        return out


def _syntax(body: str, prefixes: dict[str, str], shape: Node) -> None:
    """Oxigraph's own parser must accept the query too (it is the one that runs it)."""
    try:
        ox.Store().query(body, prefixes=prefixes, substitutions=None)
    except SyntaxError as e:
        raise ShapesError(shape, f"SPARQL syntax error in a constraint query: {e}") from None
    except Exception:  # noqa: S110 - an empty store cannot bind $this; only syntax matters here
        pass


_TEMPLATE = re.compile(r"\{[?$]([A-Za-z0-9_]+)\}")


def message(template: Literal, bindings: dict[str, Any]) -> Literal:
    def repl(m: re.Match[str]) -> str:
        v = bindings.get(m.group(1))
        return m.group(0) if v is None else (v.value if hasattr(v, "value") else str(v))

    return Literal(_TEMPLATE.sub(repl, str(template)), lang=template.language, datatype=template.datatype)


def _known(run: Run, focus: Focus) -> tuple[OxTerm, ...] | None:
    """The focus nodes when they are known to be few enough to list (Run.narrow's, or at most FEW), else None."""
    if isinstance(focus, NodesFocus):
        known: tuple[OxTerm, ...] = focus.nodes
    elif isinstance(focus, TargetFocus):  # narrowed: listed up to MANY nodes, else too many to list
        if focus.listed is None:
            return None
        known = focus.listed
    else:
        found = run.select(f"SELECT DISTINCT ?this WHERE {{ {focus.pattern('?this')} }} LIMIT {FEW + 1}")
        known = tuple(row[0] for row in found)
        if len(known) > FEW:
            return None
    return None if any(isinstance(n, ox.BlankNode) for n in known) else known


def evaluate(
    run: Run, shape: Shape, c: Constraint, focus: Focus
) -> Iterator[tuple[OxTerm, OxTerm | None, Any, tuple[Literal, ...]]]:
    """(focus, value, result path, messages) per solution of a SPARQL constraint or component validator."""
    q: Query = c.params["query"]
    bindings = {k: v for k, v in c.params.get("bindings", {}).items()}
    if q.form == "ask":
        pairs = run.select(f"SELECT DISTINCT ?this ?value WHERE {{ {values(focus, shape.path)} }}")
        for this, value in pairs:
            if not run.ask(q.text, q.prefixes, {"this": this, "value": value}):
                yield (
                    this,
                    value,
                    None,
                    tuple(message(m, {**bindings, "this": this, "value": value}) for m in q.messages),
                )
        return
    known = _known(run, focus)
    if q.joinable and known is not None:
        # the listed nodes written into the groups that bind $this: Oxigraph evaluates a joined query in full
        # before the join, however few the focus nodes (VariantOrStepShape's constraint over the ~2,400 nodes
        # its former SPARQL target found on the national graph: 5.7 -> 1.4 s)
        block = f"VALUES ?this {{ {' '.join(sparql(n) for n in known)} }}"
        solutions: Iterable[dict[str, OxTerm]] = run.solutions(
            f"SELECT * WHERE {{ {block} {{ {restrict(q.text, block)} }} }}", q.prefixes
        )
    elif q.joinable:
        solutions = run.solutions(f"SELECT * WHERE {{ {focus.pattern('?this')} {{ {q.text} }} }}", q.prefixes)
    else:  # pre-binding proper: once per node, $this written in
        nodes = list(known) if known is not None else run.nodes(focus)
        solutions = itertools.chain.from_iterable(run.solutions(q.text, q.prefixes, {"this": n}) for n in nodes)
    for row in solutions:
        if row.get("failure") is not None and row["failure"].value == "true":
            from pvpp_kg.shacl.errors import ValidationFailure

            raise ValidationFailure(f"shape {shape.node.n3()}: a constraint query reported ?failure")
        this = row.get("this")
        if this is None:
            continue
        value = row.get("value")
        if value is None and shape.path is None:
            value = this
        path = row.get("path")
        path = URIRef(path.value) if isinstance(path, ox.NamedNode) else None
        yield this, value, path, tuple(message(m, {**bindings, **row}) for m in q.messages)
