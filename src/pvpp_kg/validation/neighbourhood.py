"""The other institutions' data a submission is validated with: its neighbourhood, not the whole store.

Why: a submission's report depends on other institutions' triples only through a few rules, and reading all of
them (2 M triples on the national store, over the query result cap) made ``POST /submissions`` fail there. What
each rule reads of the others, for the nodes results are reported on (the submission's subjects, and the nodes it
links to that nobody else describes), is fetched with the ``rq/neighbourhood-*.rq`` queries, each a lookup per
node of the submission (``VALUES`` … ``LATERAL``), so its cost follows the submission, not the country:

- which of the submission's nodes another institution describes (the submission layer's own-facts rule, and which
  nodes are reported on), and what others state about the submission's subjects (every shape reads a focus node's
  own triples, wherever they are stated): ``neighbourhood-described``;
- the types of the nodes the submission (or another institution, about the submission's subjects) links to
  (``sh:class`` of the policy and CPSV-AP shapes), their owners and titles (``pvppsh:VariantOrStepShape``'s
  "part of a service"): ``neighbourhood-linked``; ``rdfs:subClassOf`` stated in institution graphs:
  ``neighbourhood-classes``;
- links into those nodes by the properties of ``sh:targetObjectsOf`` and ``org:heldBy``, and the services another
  post of the same person manages (``pvppsh:PersonWorkloadShape``, two hops): ``neighbourhood-incoming``;
- the other services of the owners of the submission's services, with their types and titles
  (``pvppsh:VariantOrStepShape``): ``neighbourhood-same-owner``;
- other nodes with one of the submission's identifiers (``pvppsh:UniqueIdentifierShape``), those of the
  participation nodes its triples make (``participation-{md5}``, see ``store.materialise``) included:
  ``neighbourhood-identifiers``.

"Other institutions' graphs" here are every ``graph/institution/{key}`` but the submitter's, and the stored
registry ``graph/institutions``: on generated data it also holds the generated bodies, which the validator's
reference context (the registry's source files) does not know, and whose types ``sh:class`` needs (as the
whole-store validation of the compliance figures reads them). A test compares the report with this context against
the report with all of those graphs as the context (``tests/validation/test_neighbourhood.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pyoxigraph as ox

from pvpp_kg import rq
from pvpp_kg.namespaces import ID, PVPP, institution_graph
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import ALL_NAMED, Backend
from pvpp_kg.store.loader import entailment
from pvpp_kg.store.materialise import Entailment
from pvpp_kg.validation.parse import Document

OWNER = ox.NamedNode("https://w3id.org/pvpp/ontology#owner")
IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")


def filled(name: str, own: str, var: str, terms: Iterable[ox.NamedNode | ox.Literal]) -> str:
    """``rq/{name}.rq`` with its empty ``VALUES ?own {}`` and ``VALUES ?{var} {}`` blocks filled."""
    text = rq.load(name).replace("VALUES ?own {}", f"VALUES ?own {{ <{own}> }}", 1)
    return text.replace(f"VALUES ?{var} {{}}", f"VALUES ?{var} {{ {' '.join(map(str, terms))} }}", 1)


class Neighbourhood:
    """The context of one submission, read with a few lookups (two rounds, the queries of a round side by side)."""

    def __init__(self, backend: Backend, key: str, rules: Entailment, *, timeout: float) -> None:
        self.backend, self.own, self.rules, self.timeout = backend, institution_graph(key), rules, timeout

    async def _construct(self, name: str, var: str, terms: set[ox.NamedNode] | set[ox.Literal]) -> list[ox.Triple]:
        if not terms and var:
            return []
        out = await self.backend.query(
            filled(name, self.own, var, sorted(terms, key=str)),
            result_format="N_TRIPLES",
            dataset=ALL_NAMED,
            timeout=self.timeout,
        )
        return [q.triple for q in ox.parse(out.body, format=ox.RdfFormat.N_TRIPLES)]

    async def read(self, data: Document) -> bytes:
        """The neighbourhood of ``data`` as N-Triples (each triple once)."""
        subjects = {t.subject for t in data.triples if isinstance(t.subject, ox.NamedNode)}
        objects = {t.object for t in data.triples if isinstance(t.object, ox.NamedNode)} - subjects
        described, linked, classes = await asyncio.gather(
            self._construct("neighbourhood-described", "n", subjects),
            self._construct("neighbourhood-linked", "n", objects),
            self._construct("neighbourhood-classes", "", set()),
        )
        # round two: what depends on the first (others' statements about the submission's subjects, which nodes
        # nobody else describes)
        theirs = [t for t in described if t.subject in subjects]
        new_objects = {t.object for t in theirs if isinstance(t.object, ox.NamedNode)} - subjects - objects
        others_describe = {t.subject for t in linked}
        stated = [*data.triples, *theirs]
        owners = {t.object for t in stated if t.predicate == OWNER and isinstance(t.object, ox.NamedNode)}
        identifiers = {t.object for t in stated if t.predicate == IDENTIFIER and isinstance(t.object, ox.Literal)}
        identifiers |= self.rules.participation_identifiers(data.triples)
        rounds = await asyncio.gather(
            self._construct("neighbourhood-linked", "n", new_objects),
            self._construct("neighbourhood-incoming", "n", subjects | (objects - others_describe)),
            self._construct("neighbourhood-same-owner", "o", owners),
            self._construct("neighbourhood-identifiers", "id", identifiers),
        )
        triples = dict.fromkeys([*described, *linked, *classes, *(t for r in rounds for t in r)])
        return "".join(f"{t} .\n" for t in triples).encode("utf-8")


_OWNER = ox.NamedNode(str(PVPP.owner))
_INSTITUTION = f"{ID}institution/"


def sole_owner(data: Document) -> str | None:
    """The institution whose data a document is, when all its services name one owner (an anonymous pre-check:
    the other institutions' data is then the context, as for that institution's submission)."""
    owners = {
        t.object.value.removeprefix(_INSTITUTION)
        for t in data.triples
        if t.predicate == _OWNER and isinstance(t.object, ox.NamedNode) and t.object.value.startswith(_INSTITUTION)
    }
    return owners.pop() if len(owners) == 1 else None


async def neighbourhood(settings: Settings, backend: Backend, key: str, data: Document) -> bytes:
    """What the policy's cross-institution rules read of the other institutions' current data for ``data``
    (N-Triples): the context a submission of institution ``key`` is validated with."""
    rules = await asyncio.to_thread(entailment, settings)  # the ontology read once per process, off the loop
    return await Neighbourhood(backend, key, rules, timeout=settings.query_timeout_s).read(data)
