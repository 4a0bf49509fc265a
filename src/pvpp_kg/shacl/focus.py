"""Focus nodes as SPARQL: every constraint query starts from a pattern that binds the focus variable.

Why patterns and not lists of nodes: blank nodes have no SPARQL spelling, and the national graph's 40,000 services
would make a query text of megabytes; a pattern lets Oxigraph join the targets with the constraint in one pass.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyoxigraph as ox

from pvpp_kg.shacl.classes import Hierarchy
from pvpp_kg.shacl.paths import Path
from pvpp_kg.shacl.shapes import Targets
from pvpp_kg.shacl.terms import OxTerm, sparql

_fresh = itertools.count()
# focus nodes up to which a constraint query lists them (VALUES) and looks their values up node by node; above it
# a constraint scans its property whole and joins
FEW = 64


def fresh() -> str:
    """A variable name no shape author writes, for one level of nesting."""
    return f"?_v{next(_fresh)}"


class Focus:
    """Where a shape's focus nodes come from; ``pattern(var)`` is a group graph pattern binding ``var``."""

    broad = True  # many nodes: scan a property whole and join, rather than look it up node by node

    def pattern(self, var: str) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class TargetFocus(Focus):
    """The focus nodes of a shape's targets, optionally only those that are subjects in the ``only`` graph."""

    targets: Targets
    classes: Hierarchy
    only: ox.NamedNode | None = None
    listed: tuple[OxTerm, ...] | None = None  # the nodes when Run.narrow found few enough (None: more)

    def pattern(self, var: str) -> str:
        t = self.targets
        parts = [f"{{ {self.classes.instance(var, c, fresh(), bound=False)} }}" for c in t.classes]
        if t.nodes:
            parts.append(f"{{ VALUES {var} {{ {' '.join(sparql(n) for n in t.nodes)} }} }}")
        parts += [f"{{ {var} <{p}> [] }}" for p in t.subjects_of]
        parts += [f"{{ [] <{p}> {var} }}" for p in t.objects_of]
        parts += [
            f"{{ {q} }}" if var == "?this" else f"{{ SELECT (?this AS {var}) WHERE {{ {q} }} }}" for q, _ in t.sparql
        ]
        union = " UNION ".join(parts)
        restrict = f" FILTER EXISTS {{ GRAPH {self.only} {{ {var} ?_rp ?_ro }} }}" if self.only is not None else ""
        return f"{{ SELECT DISTINCT {var} WHERE {{ {union}{restrict} }} }}"


@dataclass(frozen=True)
class NodesFocus(Focus):
    """Explicit focus nodes: IRIs and literals only (a blank node cannot be written in a query)."""

    nodes: tuple[OxTerm, ...]
    broad = False

    def pattern(self, var: str) -> str:
        return f"{{ VALUES {var} {{ {' '.join(sparql(n) for n in self.nodes)} }} }}"


@dataclass(frozen=True)
class ValuesFocus(Focus):
    """The value nodes of a path (or the focus nodes themselves when ``path`` is None) from another focus."""

    parent: Focus
    path: Path | None

    @property
    def broad(self) -> bool:  # type: ignore[override]
        return self.parent.broad

    def pattern(self, var: str) -> str:
        if self.path is None:
            return self.parent.pattern(var)
        t = fresh()
        return f"{{ SELECT DISTINCT {var} WHERE {{ {values(self.parent, self.path, t, var)} }} }}"


def values(focus: Focus, path: Path | None, this: str = "?this", value: str = "?value") -> str:
    """A pattern binding each focus node ``this`` and each of its value nodes ``value`` (SHACL 2.3.2)."""
    f = focus.pattern(this)
    if path is None:
        return f"{f} BIND ({this} AS {value})"
    step = f"{this} {path.sparql} {value} ."
    if not path.nullable:
        return f"{f} {step}"
    # a zero-length path reaches the focus node even where the data graph does not mention it
    return f"{{ {f} BIND ({this} AS {value}) }} UNION {{ {f} {step} }}"


def member(path: Path | None, this: str = "?this", value: str = "?value") -> str:
    """A condition: ``value`` is a value node of ``this`` (for use where both are bound)."""
    if path is None:
        return f"sameTerm({value}, {this})"
    exists = f"EXISTS {{ {this} {path.sparql} {value} }}"
    return f"(sameTerm({value}, {this}) || {exists})" if path.nullable else exists
