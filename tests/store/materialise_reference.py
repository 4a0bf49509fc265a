"""The materialisation rules as SPARQL updates: the reference :class:`pvpp_kg.store.materialise.Entailment` is
checked against (the product applies only the streamed form)."""

from __future__ import annotations

from rdflib import Graph

from pvpp_kg.namespaces import ID, PVPP
from pvpp_kg.store.materialise import Rules


def _values(rows: list[tuple[str, ...]]) -> str:
    return " ".join("(" + " ".join(f"<{x}>" if x.startswith("http") else x for x in r) + ")" for r in rows)


class _Scope:
    """Where the rules read and write: every named graph (``GRAPH ?g``), one of them, or the default graph."""

    def __init__(self, graph: str | None, default_graph: bool) -> None:
        self.default_graph = default_graph
        self.values = f"VALUES ?g {{ <{graph}> }}" if graph and not default_graph else ""

    def __call__(self, pattern: str) -> str:
        return pattern if self.default_graph else f"GRAPH ?g {{ {pattern} }}"


def materialisation_updates(ontology: Graph, graph: str | None = None, *, default_graph: bool = False) -> list[str]:
    """SPARQL updates that materialise the ontology's entailments in ``graph`` (or every named graph, or, with
    ``default_graph``, the default graph: the validator materialises a submission there)."""
    g = _Scope(graph, default_graph)
    rules = Rules.of(ontology)
    updates: list[str] = []
    if rules.participation:
        # the participant is the object, or the subject when the property points at the post (then the post is
        # the node's pvpp:participationPost); the node's cv:Participation type is pvpp:RoleParticipation's
        # superclass, added by the subclass update below
        node = """
  ?part a pvpp:RoleParticipation ; cv:role ?role ; cv:hasParticipant ?agent ;
        pvpp:participationContext ?s ; dct:identifier ?id ; dct:description ?desc ; pvpp:participationPost ?post .
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
  BIND(IF(?subjectIsAgent && !isLiteral(?o), ?o, ?unbound) AS ?post)  # an error leaves ?post unbound
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
