"""What SPARQL users need without a reasoner at query time, computed from the ontology.

The ontology's own axioms decide what is added to each data graph:
- ``rdfs:subClassOf`` (transitively): every instance also gets its superclass types (cpsv:PublicService …);
- ``rdfs:subPropertyOf`` (transitively): super-property triples (cv:hasCompetentAuthority …);
- ``owl:inverseOf``: the inverse triple;
- ``pvpp:kindConcept`` on a service class: ``cv:isClassifiedBy`` the kind concept;
- ``pvpp:participationRole`` on a property: a ``cv:Participation`` node for each use of the property. Its
  participant is always the agent: the property's value, or its subject (the institution) when the value is a
  post, which the node then links with ``pvpp:participationPost`` (docs/cpsv-ap-conformance.md).

:class:`Entailment` applies them to a stream of quads, each quad followed by what it entails, so data is
materialised on its way to a store (the bulk loader, an in-memory store, a remote store) and no store has to run
updates. The rules' SPARQL form is kept in the tests, as the reference the stream is checked against.
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


_Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


def _table(pairs: list[tuple[str, str]]) -> dict[ox.NamedNode, list[ox.NamedNode]]:
    table: dict[ox.NamedNode, list[ox.NamedNode]] = {}
    for a, b in pairs:
        table.setdefault(ox.NamedNode(a), []).append(ox.NamedNode(b))
    return table


class Entailment:
    """The rules applied to a stream of quads one quad at a time.

    Each rule reads one triple and what that triple entailed, in a fixed order (participation, kinds, subclasses,
    super-properties, inverses), so a quad's consequences follow from the quad alone. Quads in the default graph
    pass unchanged (named graphs hold the data). ``tests/store/test_dataload.py`` checks the stream against the
    rules' SPARQL form (``tests/store/materialise_reference.py``).
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

    def participation_identifiers(self, triples: Iterable[ox.Triple]) -> set[ox.Literal]:
        """The identifiers of the participation nodes ``triples`` make (``participation-{md5}``): a submission's
        nodes too, so its neighbourhood must look them up among the others' identifiers."""
        found: set[ox.Literal] = set()
        for t in triples:
            part = self.participation.get(t.predicate)
            if part is None:
                continue
            for _s, p, o in self._participation(t.subject, t.object, *part):  # type: ignore[arg-type]
                if p == IDENTIFIER and isinstance(o, ox.Literal):
                    found.add(o)
        return found

    def quads(self, quads: Iterable[ox.Quad], *, default_graph: bool = False) -> Iterator[ox.Quad]:
        """Each quad, followed by what it entails (duplicates across quads included: the store keeps one); quads
        in the default graph are entailed too only with ``default_graph`` (the validator keeps a submission there)."""
        predicates = self.predicates
        for quad in quads:
            yield quad
            p = quad.predicate
            if p not in predicates:
                continue
            graph = quad.graph_name
            if not default_graph and isinstance(graph, ox.DefaultGraph):
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
        if agent_is_subject and not isinstance(o, ox.Literal):  # the value is the post the agent acts through
            out.append((node, PARTICIPATION_POST, o))
        return out


RDF_TYPE = ox.NamedNode(str(RDF.type))
IS_CLASSIFIED_BY = ox.NamedNode(CV + "isClassifiedBy")
ROLE_PARTICIPATION = ox.NamedNode(PVPP + "RoleParticipation")
CV_ROLE = ox.NamedNode(CV + "role")
HAS_PARTICIPANT = ox.NamedNode(CV + "hasParticipant")
PARTICIPATION_CONTEXT = ox.NamedNode(PVPP + "participationContext")
PARTICIPATION_POST = ox.NamedNode(PVPP + "participationPost")
IDENTIFIER = ox.NamedNode(str(DCTERMS.identifier))
DESCRIPTION = ox.NamedNode(str(DCTERMS.description))
HAS_PARTICIPATION = ox.NamedNode(CV + "hasParticipation")
PARTICIPATES = ox.NamedNode(CV + "participates")
