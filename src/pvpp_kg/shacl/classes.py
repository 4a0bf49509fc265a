"""The class hierarchy SHACL reads from the data graph (rdf:type/rdfs:subClassOf*), looked up once per validation.

Why: a class check or class target written as the property path walks rdfs:subClassOf for every node; a join
on rdf:type against the class's subclasses, listed once, costs far less. It also lets a caller add the
standard vocabularies' axioms that stored data does not repeat (``shapes/context.ttl``) without writing them
into the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from pvpp_kg.shacl.terms import OxTerm, to_ox

RDF_TYPE = f"<{RDF.type}>"
TYPE_PATH = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


class Hierarchy:
    """rdfs:subClassOf in the data (and ``extra`` axioms): each class's subclasses, itself included."""

    def __init__(self, store: ox.Store, union: bool, extra: Iterable[tuple[Node, Node]] = ()) -> None:
        self.store, self.union = store, union
        self.extra = [(to_ox(sub), to_ox(sup)) for sub, sup in extra]
        self._subs: dict[OxTerm, set[OxTerm]] | None = None
        self._closure: dict[Node, tuple[str, ...]] = {}
        self._by_extra: set[OxTerm] = set()  # classes whose subclasses only the extra axioms give
        self._needs_list: set[Node] = set()  # classes whose instances the path alone would miss
        self._lock = threading.Lock()

    def _direct(self) -> dict[OxTerm, set[OxTerm]]:
        if self._subs is None:
            subs: dict[OxTerm, set[OxTerm]] = {}
            q = f"SELECT DISTINCT ?sub ?sup WHERE {{ ?sub <{RDFS.subClassOf}> ?sup }}"
            pairs = [(row[0], row[1]) for row in self.store.query(q, use_default_graph_as_union=self.union)]
            for sub, sup in pairs:
                subs.setdefault(sup, set()).add(sub)
            for sub, sup in self.extra:
                if sub not in subs.get(sup, ()):
                    subs.setdefault(sup, set()).add(sub)
                    self._by_extra.add(sup)
            self._subs = subs
        return self._subs

    def subclasses(self, cls: Node) -> tuple[str, ...]:
        """``cls`` and every subclass, in SPARQL; empty when one is a blank node (then only the path can test)."""
        with self._lock:
            if cls not in self._closure:
                direct, seen, todo = self._direct(), {to_ox(cls)}, [to_ox(cls)]
                while todo:
                    for sub in direct.get(todo.pop(), ()):
                        if sub not in seen:
                            seen.add(sub)
                            todo.append(sub)
                blank = any(isinstance(c, ox.BlankNode) for c in seen)
                self._closure[cls] = () if blank else tuple(sorted(str(c) for c in seen))
                if seen & self._by_extra:
                    self._needs_list.add(cls)
            return self._closure[cls]

    def instance(self, var: str, cls: Node, fresh: str, *, bound: bool) -> str:
        """A pattern: ``var`` is a SHACL instance of ``cls`` (``fresh`` names its type). A ``bound`` node's types
        are read and filtered; otherwise each class's instances are looked up by index."""
        classes = self.subclasses(cls)
        if not classes:
            return f"{var} {TYPE_PATH} <{cls}> ."
        if bound:
            return f"{var} {RDF_TYPE} {fresh} FILTER ({fresh} IN ({', '.join(classes)}))"
        if cls not in self._needs_list:  # Oxigraph walks the path from the class faster than it joins a list
            return f"{var} {TYPE_PATH} <{cls}> ."
        return f"VALUES {fresh} {{ {' '.join(classes)} }} {var} {RDF_TYPE} {fresh} ."
