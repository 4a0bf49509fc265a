"""What SPARQL users need without a reasoner at query time, computed from the ontology.

The ontology's own axioms decide what is added to each data graph:
- ``rdfs:subClassOf`` (transitively): every instance also gets its superclass types (cpsv:PublicService …);
- ``rdfs:subPropertyOf`` (transitively): super-property triples (cv:hasCompetentAuthority …);
- ``owl:inverseOf``: the inverse triple;
- ``pvpp:kindConcept`` on a service class: ``cv:isClassifiedBy`` the kind concept;
- ``pvpp:participationRole`` on a property: a ``cv:Participation`` node for each use of the property.

The result is a handful of SPARQL updates, so it runs unchanged on the embedded or a remote store.
"""

from __future__ import annotations

from rdflib import OWL, RDFS, Graph, URIRef
from rdflib.namespace import ORG

from pvpp_kg.namespaces import ID, PVPP


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


def materialisation_updates(ontology: Graph, graph: str | None = None, *, default_graph: bool = False) -> list[str]:
    """SPARQL updates that materialise the ontology's entailments in ``graph`` (or every named graph, or, with
    ``default_graph``, the default graph: the validator materialises a submission there)."""
    g = _Scope(graph, default_graph)
    updates: list[str] = []
    participation = [
        (str(p), str(role), "true" if _is_post_valued(ontology, p) else "false")
        for p, role in ontology.subject_objects(PVPP.participationRole)
        if isinstance(p, URIRef)
    ]
    if participation:
        # the participant is the object, or the subject when the property points at the post
        node = """
  ?part a pvpp:RoleParticipation, cv:Participation ; cv:role ?role ; cv:hasParticipant ?agent ;
        pvpp:participationContext ?s ; dct:identifier ?id ; dct:description ?desc .
  ?s cv:hasParticipation ?part . ?agent cv:participates ?part"""
        updates.append(f"""
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pvpp: <{PVPP}>
INSERT {{ {g(node)} }}
WHERE {{ {g.values}
  VALUES (?p ?role ?subjectIsAgent) {{ {_values(sorted(participation))} }}
  {g("?s ?p ?o")}
  BIND(IF(?subjectIsAgent, ?s, ?o) AS ?agent)
  BIND(MD5(CONCAT(STR(?s), " ", STR(?role), " ", STR(?agent))) AS ?h)
  BIND(IRI(CONCAT("{ID}participation/", ?h)) AS ?part)
  BIND(CONCAT("participation-", ?h) AS ?id)
  BIND(STRLANG(CONCAT("Role ", STRAFTER(STR(?role), "/role/"), " of ", STR(?agent), " for ", STR(?s)), "en") AS ?desc)
}}""")
    kinds = [(str(c), str(k)) for c, k in ontology.subject_objects(PVPP.kindConcept) if isinstance(c, URIRef)]
    sub_classes = _closure(ontology, RDFS.subClassOf)
    if kinds:
        # a kind class entails its concept, and so do its subclasses
        entailed = set(kinds) | {(sub, k) for sub, sup in sub_classes for c, k in kinds if sup == c}
        updates.append(f"""
PREFIX cv: <http://data.europa.eu/m8g/>
INSERT {{ {g("?s cv:isClassifiedBy ?kind")} }}
WHERE {{ {g.values} VALUES (?c ?kind) {{ {_values(sorted(entailed))} }} {g("?s a ?c")} }}""")
    if sub_classes:
        updates.append(f"""
INSERT {{ {g("?s a ?sup")} }}
WHERE {{ {g.values} VALUES (?sub ?sup) {{ {_values(sub_classes)} }} {g("?s a ?sub")} }}""")
    sub_props = _closure(ontology, RDFS.subPropertyOf)
    inverses = {(str(a), str(b)) for a, b in ontology.subject_objects(OWL.inverseOf)
                if isinstance(a, URIRef) and isinstance(b, URIRef)}
    inverses |= {(b, a) for a, b in inverses}
    if sub_props:
        updates.append(f"""
INSERT {{ {g("?s ?sup ?o")} }}
WHERE {{ {g.values} VALUES (?sub ?sup) {{ {_values(sub_props)} }} {g("?s ?sub ?o")} }}""")
    if inverses:
        updates.append(f"""
INSERT {{ {g("?o ?inv ?s")} }}
WHERE {{ {g.values} VALUES (?p ?inv) {{ {_values(sorted(inverses))} }} {g("?s ?p ?o")} }}""")
    return updates
