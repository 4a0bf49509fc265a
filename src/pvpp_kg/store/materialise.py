"""What SPARQL users need without a reasoner at query time, computed from the ontology.

The ontology's own axioms decide what is added to each data graph:
- ``rdfs:subClassOf`` (transitively): every instance also gets its superclass types (cpsv:PublicService …);
- ``rdfs:subPropertyOf`` (transitively): super-property triples (cv:hasCompetentAuthority …);
- ``owl:inverseOf``: the inverse triple;
- ``pvpp:kindConcept`` on a service class: ``cv:isClassifiedBy`` the kind concept;
- ``pvpp:participationRole`` on a property: a ``cv:Participation`` node for each use of the property.

The result is a handful of SPARQL updates, so it runs unchanged on the embedded or a remote store; and the same
rules as :class:`Entailment`, applied to a stream of quads on its way to the bulk loader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import DCTERMS, ORG

from pvpp_kg.namespaces import CV, ID, PVPP


def _closure(g: Graph, pred: URIRef) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for s in set(g.subjects(pred, None)):
        if not isinstance(s, URIRef):
            continue
        for sup in g.transitive_objects(s, pred):
            if isinstance(sup, URIRef) and sup != s:
                pairs.add((str(s), str(sup)))
    return sorted(pairs)


def _values(rows: list[tuple[str, ...]]) -> str:
    return " ".join("(" + " ".join(f"<{x}>" if x.startswith("http") else x for x in r) + ")" for r in rows)


class _Scope:
    """Where the rules read and write: every named graph (``GRAPH ?g``), one of them, or the default graph."""

    def __init__(self, graph: str | None, default_graph: bool) -> None:
        self.default_graph = default_graph
        self.values = f"VALUES ?g {{ <{graph}> }}" if graph and not default_graph else ""

    def __call__(self, pattern: str) -> str:
        return pattern if self.default_graph else f"GRAPH ?g {{ {pattern} }}"


def _is_post_valued(ontology: Graph, prop: URIRef) -> bool:
    return any(r == ORG.Post for r in ontology.objects(prop, RDFS.range))


@dataclass(frozen=True)
class Rules:
    """The ontology's axioms that entail data triples, as tables of IRIs: what both forms of the rules read."""

    participation: list[tuple[str, str, bool]]  # (property, role concept, the subject is the participant)
    kinds: list[tuple[str, str]]  # (class, kind concept), subclasses of a kind class included
    sub_classes: list[tuple[str, str]]  # (class, superclass), transitive
    sub_properties: list[tuple[str, str]]  # (property, super-property), transitive
    inverses: list[tuple[str, str]]  # (property, inverse), both ways

    @classmethod
    def of(cls, ontology: Graph) -> Rules:
        sub_classes = _closure(ontology, RDFS.subClassOf)
        kinds = {(str(c), str(k)) for c, k in ontology.subject_objects(PVPP.kindConcept) if isinstance(c, URIRef)}
        kinds |= {(sub, k) for sub, sup in sub_classes for c, k in set(kinds) if sup == c}
        inverses = {
            (str(a), str(b))
            for a, b in ontology.subject_objects(OWL.inverseOf)
            if isinstance(a, URIRef) and isinstance(b, URIRef)
        }
        return cls(
            participation=sorted(
                (str(p), str(role), _is_post_valued(ontology, p))
                for p, role in ontology.subject_objects(PVPP.participationRole)
                if isinstance(p, URIRef)
            ),
            kinds=sorted(kinds),
            sub_classes=sub_classes,
            sub_properties=_closure(ontology, RDFS.subPropertyOf),
            inverses=sorted(inverses | {(b, a) for a, b in inverses}),
        )


def materialisation_updates(ontology: Graph, graph: str | None = None, *, default_graph: bool = False) -> list[str]:
    """SPARQL updates that materialise the ontology's entailments in ``graph`` (or every named graph, or, with
    ``default_graph``, the default graph: the validator materialises a submission there)."""
    g = _Scope(graph, default_graph)
    rules = Rules.of(ontology)
    updates: list[str] = []
    if rules.participation:
        # the participant is the object, or the subject when the property points at the post; the node's
        # cv:Participation type is pvpp:RoleParticipation's superclass, added by the subclass update below
        node = """
  ?part a pvpp:RoleParticipation ; cv:role ?role ; cv:hasParticipant ?agent ;
        pvpp:participationContext ?s ; dct:identifier ?id ; dct:description ?desc .
  ?s cv:hasParticipation ?part . ?agent cv:participates ?part"""
        rows = [(p, role, "true" if subject_is_agent else "false") for p, role, subject_is_agent in rules.participation]
        updates.append(f"""
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pvpp: <{PVPP}>
INSERT {{ {g(node)} }}
WHERE {{ {g.values}
  VALUES (?p ?role ?subjectIsAgent) {{ {_values(rows)} }}
  {g("?s ?p ?o")}
  BIND(IF(?subjectIsAgent, ?s, ?o) AS ?agent)
  BIND(MD5(CONCAT(STR(?s), " ", STR(?role), " ", STR(?agent))) AS ?h)
  BIND(IRI(CONCAT("{ID}participation/", ?h)) AS ?part)
  BIND(CONCAT("participation-", ?h) AS ?id)
  BIND(STRLANG(CONCAT("Role ", STRAFTER(STR(?role), "/role/"), " of ", STR(?agent), " for ", STR(?s)), "en") AS ?desc)
}}""")
    if rules.kinds:
        # a kind class entails its concept, and so do its subclasses
        updates.append(f"""
PREFIX cv: <http://data.europa.eu/m8g/>
INSERT {{ {g("?s cv:isClassifiedBy ?kind")} }}
WHERE {{ {g.values} VALUES (?c ?kind) {{ {_values(rules.kinds)} }} {g("?s a ?c")} }}""")
    if rules.sub_classes:
        updates.append(f"""
INSERT {{ {g("?s a ?sup")} }}
WHERE {{ {g.values} VALUES (?sub ?sup) {{ {_values(rules.sub_classes)} }} {g("?s a ?sub")} }}""")
    if rules.sub_properties:
        updates.append(f"""
INSERT {{ {g("?s ?sup ?o")} }}
WHERE {{ {g.values} VALUES (?sub ?sup) {{ {_values(rules.sub_properties)} }} {g("?s ?sub ?o")} }}""")
    if rules.inverses:
        updates.append(f"""
INSERT {{ {g("?o ?inv ?s")} }}
WHERE {{ {g.values} VALUES (?p ?inv) {{ {_values(rules.inverses)} }} {g("?s ?p ?o")} }}""")
    return updates


_Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


def _table(pairs: list[tuple[str, str]]) -> dict[ox.NamedNode, list[ox.NamedNode]]:
    table: dict[ox.NamedNode, list[ox.NamedNode]] = {}
    for a, b in pairs:
        table.setdefault(ox.NamedNode(a), []).append(ox.NamedNode(b))
    return table


class Entailment:
    """The updates of :func:`materialisation_updates`, applied to a stream of quads one quad at a time.

    Why a second form of the same rules: loading a dataset then needs no store to run updates in. Each rule
    reads one triple and what that triple entailed, in the updates' order (participation, kinds, subclasses,
    super-properties, inverses), so a quad's consequences follow from the quad alone, and the stream goes
    straight to the bulk loader instead of through in-memory stores. Quads in the default graph pass unchanged,
    as the updates read named graphs. ``tests/store/test_dataload.py`` checks that both forms give the same quads.
    """

    def __init__(self, rules: Rules) -> None:
        self.participation = {  # STRAFTER(STR(?role), "/role/"): the role's code
            ox.NamedNode(p): (ox.NamedNode(role), role.split("/role/", 1)[1] if "/role/" in role else "", is_subject)
            for p, role, is_subject in rules.participation
        }
        self.kinds = _table(rules.kinds)
        self.sub_classes = _table(rules.sub_classes)
        self.sub_properties = _table(rules.sub_properties)
        self.inverses = _table(rules.inverses)
        #: the predicates some rule reads; most quads (labels, identifiers …) entail nothing and pass as they are
        self.predicates = {RDF_TYPE, *self.participation, *self.sub_properties, *self.inverses}

    def quads(self, quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
        """Each quad, followed by what it entails (duplicates across quads included: the store keeps one)."""
        predicates = self.predicates
        for quad in quads:
            yield quad
            p = quad.predicate
            if p not in predicates:
                continue
            graph = quad.graph_name
            if isinstance(graph, ox.DefaultGraph):
                continue
            for s, p2, o in self.entailed(quad.subject, p, quad.object)[1:]:  # type: ignore[arg-type]
                yield ox.Quad(s, p2, o, graph)

    def entailed(
        self, s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> list[_Triple]:
        """The triple and everything it entails, each rule reading what the rules before it added."""
        out: list[_Triple] = [(s, p, o)]
        part = self.participation.get(p)
        if part is not None:
            out += self._participation(s, o, *part)
        if p == RDF_TYPE:
            out += [(s, IS_CLASSIFIED_BY, k) for k in self.kinds.get(o, ())]  # type: ignore[arg-type]
        out += [(t[0], RDF_TYPE, sup) for t in out if t[1] == RDF_TYPE for sup in self.sub_classes.get(t[2], ())]  # type: ignore[arg-type]
        out += [(t[0], sup, t[2]) for t in out for sup in self.sub_properties.get(t[1], ())]
        out += [
            (t[2], inv, t[0]) for t in out if not isinstance(t[2], ox.Literal) for inv in self.inverses.get(t[1], ())
        ]  # type: ignore[misc]
        return out

    @staticmethod
    def _participation(
        s: ox.NamedNode | ox.BlankNode,
        o: ox.NamedNode | ox.BlankNode | ox.Literal,
        role: ox.NamedNode,
        code: str,
        agent_is_subject: bool,
    ) -> list[_Triple]:
        """The ``cv:Participation`` node of the participation update (same IRI, identifier and description; its
        cv:Participation type, as there, comes from the subclass rule)."""
        agent = s if agent_is_subject else o
        if isinstance(s, ox.BlankNode) or isinstance(agent, ox.BlankNode):  # STR() of a blank node is unbound
            return []
        h = hashlib.md5(f"{s.value} {role.value} {agent.value}".encode()).hexdigest()
        node = ox.NamedNode(f"{ID}participation/{h}")
        out: list[_Triple] = [
            (node, RDF_TYPE, ROLE_PARTICIPATION),
            (node, CV_ROLE, role),
            (node, HAS_PARTICIPANT, agent),
            (node, PARTICIPATION_CONTEXT, s),
            (node, IDENTIFIER, ox.Literal(f"participation-{h}")),
            (node, DESCRIPTION, ox.Literal(f"Role {code} of {agent.value} for {s.value}", language="en")),
            (s, HAS_PARTICIPATION, node),
        ]
        if not isinstance(agent, ox.Literal):
            out.append((agent, PARTICIPATES, node))
        return out


RDF_TYPE = ox.NamedNode(str(RDF.type))
IS_CLASSIFIED_BY = ox.NamedNode(CV + "isClassifiedBy")
ROLE_PARTICIPATION = ox.NamedNode(PVPP + "RoleParticipation")
CV_ROLE = ox.NamedNode(CV + "role")
HAS_PARTICIPANT = ox.NamedNode(CV + "hasParticipant")
PARTICIPATION_CONTEXT = ox.NamedNode(PVPP + "participationContext")
IDENTIFIER = ox.NamedNode(str(DCTERMS.identifier))
DESCRIPTION = ox.NamedNode(str(DCTERMS.description))
HAS_PARTICIPATION = ox.NamedNode(CV + "hasParticipation")
PARTICIPATES = ox.NamedNode(CV + "participates")
