"""The shapes graph read once into shapes, targets and constraints, with every well-formedness rule checked up front.

Why up front: a shapes author learns about a malformed path, an unknown parameter or a SPARQL syntax error from
one clear :class:`ShapesError` naming the shape, before any data is read, instead of a half-made report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from pvpp_kg.shacl.errors import ShapesError
from pvpp_kg.shacl.paths import Path, compile_path
from pvpp_kg.shacl.terms import is_true, sh

# SHACL core parameters, each naming its constraint component (the "main" parameter of a multi-parameter one)
CORE = {
    "class": "Class",
    "datatype": "Datatype",
    "nodeKind": "NodeKind",
    "minCount": "MinCount",
    "maxCount": "MaxCount",
    "minExclusive": "MinExclusive",
    "minInclusive": "MinInclusive",
    "maxExclusive": "MaxExclusive",
    "maxInclusive": "MaxInclusive",
    "minLength": "MinLength",
    "maxLength": "MaxLength",
    "pattern": "Pattern",
    "languageIn": "LanguageIn",
    "uniqueLang": "UniqueLang",
    "equals": "Equals",
    "disjoint": "Disjoint",
    "lessThan": "LessThan",
    "lessThanOrEquals": "LessThanOrEquals",
    "not": "Not",
    "and": "And",
    "or": "Or",
    "xone": "Xone",
    "node": "Node",
    "hasValue": "HasValue",
    "in": "In",
    "closed": "Closed",
    "qualifiedValueShape": "QualifiedValueShape",
}
_PROPERTY_ONLY = {"minCount", "maxCount", "uniqueLang", "lessThan", "lessThanOrEquals", "qualifiedValueShape"}
# the rest of the SHACL vocabulary a shape may carry without it being a constraint of its own
_OTHER = {
    "targetClass",
    "targetNode",
    "targetSubjectsOf",
    "targetObjectsOf",
    "target",
    "message",
    "severity",
    "deactivated",
    "path",
    "property",
    "sparql",
    "name",
    "description",
    "order",
    "group",
    "defaultValue",
    "flags",
    "ignoredProperties",
    "qualifiedMinCount",
    "qualifiedMaxCount",
    "qualifiedValueShapesDisjoint",
    "declare",
    "prefixes",
    "rule",
    "condition",
    "labelTemplate",
    "resultAnnotation",
    "shapesGraph",
    "entailment",
    "suggestedShapesGraph",
    "parameter",
    "validator",
    "nodeValidator",
    "propertyValidator",
    "select",
    "ask",
    "expression",
    "filterShape",
    "intersection",
    "union",
    "this",
    "values",
    "nodes",
    "zeroOrMorePath",
}
_KNOWN = {sh(n) for n in (*CORE, *_OTHER)}
_NODE_KINDS = {SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral, SH.IRIOrLiteral}


@dataclass(frozen=True)
class Constraint:
    """One component instance of one shape: ``kind`` is the core component's local name or ``sparql``."""

    kind: str
    component: URIRef
    params: dict[str, Any]
    source: Node | None = None  # sh:sourceConstraint (the sh:sparql node)


@dataclass
class Targets:
    classes: list[Node] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    subjects_of: list[Node] = field(default_factory=list)
    objects_of: list[Node] = field(default_factory=list)
    sparql: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (SELECT ?this …, prefixes)

    def __bool__(self) -> bool:
        return bool(self.classes or self.nodes or self.subjects_of or self.objects_of or self.sparql)


@dataclass
class Shape:
    node: Node
    path: Path | None
    severity: Node
    messages: tuple[Literal, ...]
    deactivated: bool
    targets: Targets
    constraints: list[Constraint] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)

    def __hash__(self) -> int:
        return hash(self.node)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and other.node == self.node


class ShapesGraph:
    """Every shape of a shapes graph, compiled lazily from whatever references it and checked as it is read."""

    def __init__(self, g: Graph) -> None:
        self.g = g
        self.shapes: dict[Node, Shape] = {}
        from pvpp_kg.shacl.sparql import SparqlComponents  # the SHACL-SPARQL side reads its own declarations

        self.components = SparqlComponents(self)
        for node in self._shape_nodes():
            try:
                self.shape(node)
            except ShapesError as e:
                raise self._located(e) from None
        self._refuse_same_node_cycles()
        self.roots = [s for s in self.shapes.values() if s.targets and not s.deactivated]
        self.uses_shapes_graph = self.components.uses_shapes_graph

    def _refuse_same_node_cycles(self) -> None:
        """A shape that reaches itself through sh:node, sh:not, sh:and, sh:or or sh:xone without a path between
        (each step on the same focus node) can never be decided: refused when the shapes are read, whether or not
        the data reaches it (the run refuses the other recursions, through paths, when a node meets itself)."""

        def same_node(shape: Shape) -> list[Shape]:
            if shape.path is not None:  # a property shape's references apply to its value nodes
                return []
            out = [c.params["shape"] for c in shape.constraints if c.kind in ("node", "not")]
            out += [t for c in shape.constraints if c.kind in ("and", "or", "xone") for t in c.params["shapes"]]
            return out

        state: dict[Shape, int] = {}  # 1: on the current path, 2: done
        for start in self.shapes.values():
            if start in state:
                continue
            stack = [(start, iter(same_node(start)))]
            state[start] = 1
            while stack:
                shape, todo = stack[-1]
                nxt = next(todo, None)
                if nxt is None:
                    state[shape] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    raise self._located(
                        ShapesError(
                            nxt.node,
                            "the shape reaches itself through sh:node, sh:not, sh:and, sh:or or sh:xone on the same "
                            "node, so it can never be decided",
                        )
                    )
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(same_node(nxt))))

    def _located(self, e: ShapesError) -> ShapesError:
        """A blank-node shape is named by the IRI shape it belongs to, so the author can find it."""
        node, hops = e.shape, 0
        while isinstance(node, BNode) and hops < 16:
            node, hops = next(self.g.subjects(None, node), None), hops + 1
        if node is None or node == e.shape or isinstance(node, BNode):
            return e
        return ShapesError(e.shape, f"{e.message.split(': ', 1)[-1]} (in {node.n3()})")

    # reading -----------------------------------------------------------------------------------------------------

    def _shape_nodes(self) -> list[Node]:
        g = self.g
        found: dict[Node, None] = {}
        shape_classes = {SH.NodeShape, SH.PropertyShape, SH.Shape}
        for cls in list(shape_classes):
            shape_classes |= set(g.transitive_subjects(RDFS.subClassOf, cls))
        for cls in shape_classes:
            found.update(dict.fromkeys(g.subjects(RDF.type, cls)))
        for p in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target, SH.path):
            found.update(dict.fromkeys(g.subjects(p, None)))
        for param in g.objects(None, SH.parameter):  # a component's parameter declaration is not a shape
            found.pop(param, None)
        for p in (SH.node, SH.property, sh("not"), SH.qualifiedValueShape):
            found.update(dict.fromkeys(g.objects(None, p)))
        for p in (sh("and"), sh("or"), SH.xone):
            for lst in g.objects(None, p):
                found.update(dict.fromkeys(self.items(lst, None)))
        return [n for n in found if not isinstance(n, Literal)]

    def one(self, node: Node, pred: URIRef, shape: Node | None = None) -> Node | None:
        values = list(self.g.objects(node, pred))
        if len(values) > 1:
            raise ShapesError(shape or node, f"{pred.n3(self.g.namespace_manager)} has {len(values)} values")
        return values[0] if values else None

    def items(self, lst: Node, shape: Node | None) -> list[Node]:
        if lst != RDF.nil and (lst, RDF.first, None) not in self.g:
            raise ShapesError(shape, f"{lst!r} is not an RDF list")
        try:
            return list(Collection(self.g, lst))
        except Exception:
            raise ShapesError(shape, f"malformed RDF list at {lst!r}") from None

    def shape(self, node: Node) -> Shape:
        """The compiled shape at ``node`` (compiled once; references between shapes may form cycles)."""
        if node in self.shapes:
            return self.shapes[node]
        g = self.g
        path_node = self.one(node, SH.path)
        path = compile_path(g, path_node, node) if path_node is not None else None
        deactivated = self.one(node, SH.deactivated)
        shape = Shape(
            node=node,
            path=path,
            severity=self.one(node, SH.severity) or SH.Violation,
            messages=tuple(m for m in g.objects(node, SH.message) if isinstance(m, Literal)),
            deactivated=is_true(deactivated),
            targets=self._targets(node),
        )
        self.shapes[node] = shape  # before the constraints: they may point back here
        unknown = {p for p in g.predicates(node) if str(p).startswith(str(SH)) and p not in _KNOWN}
        if unknown:
            raise ShapesError(node, f"unknown SHACL parameter {sorted(u.n3(g.namespace_manager) for u in unknown)}")
        shape.constraints = self._core(shape)
        shape.constraints += self.components.constraints(shape)
        shape.properties = [self.shape(p) for p in g.objects(node, SH.property)]
        return shape

    def _targets(self, node: Node) -> Targets:
        g = self.g
        t = Targets(
            classes=list(g.objects(node, SH.targetClass)),
            nodes=list(g.objects(node, SH.targetNode)),
            subjects_of=list(g.objects(node, SH.targetSubjectsOf)),
            objects_of=list(g.objects(node, SH.targetObjectsOf)),
        )
        if (node, RDF.type, RDFS.Class) in g and isinstance(node, URIRef):
            t.classes.append(node)  # implicit class target
        for c in t.classes + t.subjects_of + t.objects_of:
            if not isinstance(c, URIRef):
                raise ShapesError(node, f"a target class or property must be an IRI, not {c!r}")
        for target in g.objects(node, SH.target):
            select = self.one(target, SH.select, node)
            if select is None:
                raise ShapesError(node, "sh:target is not a SPARQL target (no sh:select)")
            prefixes = self.components.prefixes(target, node)
            self.components.check_target(str(select), prefixes, node)
            t.sparql.append((str(select), prefixes))
        return t

    def _core(self, shape: Shape) -> list[Constraint]:
        g, node = self.g, shape.node
        out: list[Constraint] = []
        for name, comp in CORE.items():
            values = list(g.objects(node, sh(name)))
            if not values:
                continue
            if name in _PROPERTY_ONLY and shape.path is None:
                raise ShapesError(node, f"sh:{name} is only allowed on property shapes")
            component = sh(comp + "ConstraintComponent")
            if name == "closed":
                if len(values) > 1 or not isinstance(values[0], Literal):
                    raise ShapesError(node, "sh:closed needs one boolean")
                if values[0].toPython() is True:
                    ignored = self.one(node, SH.ignoredProperties)
                    allowed = {
                        p.path.node
                        for p in map(self.shape, g.objects(node, SH.property))
                        if p.path is not None and isinstance(p.path.node, URIRef)
                    }
                    allowed |= set(self.items(ignored, node)) if ignored is not None else set()
                    out.append(Constraint(name, component, {"allowed": sorted(allowed)}))
                continue
            if name == "qualifiedValueShape":
                out.extend(self._qualified(shape, values))
                continue
            for value in values:
                out.append(Constraint(name, component, self._param(shape, name, value)))
        return out

    def _param(self, shape: Shape, name: str, value: Node) -> dict[str, Any]:
        node = shape.node
        if name in ("minCount", "maxCount", "minLength", "maxLength"):
            if not (isinstance(value, Literal) and isinstance(value.toPython(), int) and value.toPython() >= 0):
                raise ShapesError(node, f"sh:{name} needs a non-negative xsd:integer, not {value!r}")
            return {"n": value.toPython()}
        if name in ("class", "datatype", "equals", "disjoint", "lessThan", "lessThanOrEquals"):
            if not isinstance(value, URIRef):
                raise ShapesError(node, f"sh:{name} needs an IRI, not {value!r}")
            return {"iri": value}
        if name == "nodeKind":
            if value not in _NODE_KINDS:
                raise ShapesError(node, f"sh:nodeKind {value!r} is not one of SHACL's six node kinds")
            return {"kind": value}
        if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            if not isinstance(value, Literal):
                raise ShapesError(node, f"sh:{name} needs a literal, not {value!r}")
            return {"bound": value}
        if name == "pattern":
            flags = self.one(node, SH.flags)
            if not isinstance(value, Literal) or (flags is not None and not isinstance(flags, Literal)):
                raise ShapesError(node, "sh:pattern and sh:flags need string literals")
            return {"pattern": str(value), "flags": str(flags) if flags is not None else ""}
        if name == "languageIn":
            langs = self.items(value, node)
            if not all(isinstance(x, Literal) for x in langs):
                raise ShapesError(node, "sh:languageIn needs a list of strings")
            return {"langs": [str(x) for x in langs]}
        if name == "uniqueLang":
            if not isinstance(value, Literal) or value.datatype != XSD.boolean:
                raise ShapesError(node, "sh:uniqueLang needs a boolean")
            return {"on": is_true(value)}
        if name == "in":
            return {"values": self.items(value, node)}
        if name == "hasValue":
            return {"value": value}
        if name in ("node", "not"):
            return {"shape": self.shape(value)}
        if name in ("and", "or", "xone"):
            return {"shapes": [self.shape(s) for s in self.items(value, node)]}
        raise AssertionError(name)

    def _qualified(self, shape: Shape, values: list[Node]) -> list[Constraint]:
        g, node = self.g, shape.node
        lo, hi = self.one(node, SH.qualifiedMinCount), self.one(node, SH.qualifiedMaxCount)
        disjoint = self.one(node, SH.qualifiedValueShapesDisjoint)
        for v in (lo, hi):
            if v is not None and not (isinstance(v, Literal) and isinstance(v.toPython(), int)):
                raise ShapesError(node, "sh:qualifiedMinCount/MaxCount need an xsd:integer")
        siblings: list[Shape] = []
        if is_true(disjoint):
            # the sibling shapes: qualified value shapes of the other property shapes of the same parents
            for parent in g.subjects(SH.property, node):
                for sib in g.objects(parent, SH.property):
                    if sib != node:
                        siblings += [self.shape(q) for q in g.objects(sib, SH.qualifiedValueShape)]
        out = []
        component = SH.QualifiedMinCountConstraintComponent
        for value in values:
            q = self.shape(value)
            if lo is not None:
                out.append(
                    Constraint("qualifiedMinCount", component, {"shape": q, "n": lo.toPython(), "siblings": siblings})
                )
            if hi is not None:
                out.append(
                    Constraint(
                        "qualifiedMaxCount",
                        SH.QualifiedMaxCountConstraintComponent,
                        {"shape": q, "n": hi.toPython(), "siblings": siblings},
                    )
                )
        return out
