"""What counts as a person's name or contact data: kept out of the public store, pages, dumps and /store.

Why one module: the public read paths (pages, dumps, the Graph Store) drop these triples as a last guard, and the
store refuses an administrator's write that would put them in the public store; the submission shapes
(``shapes/submission-shapes.ttl``, ``NoPersonalDataShape``) refuse them in institutions' data with the same lists.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

import pyoxigraph as ox

from pvpp_kg.errors import BadRequest

FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SCHEMAS = ("http://schema.org/", "https://schema.org/")  # both are in use
PERSON_PREFIX = "id/person/"  # under the public base: the pseudonymous holders of posts
HELD_BY = "http://www.w3.org/ns/org#heldBy"  # its object is a person
HOLDS = "http://www.w3.org/ns/org#holds"  # its subject is a person (ORG's inverse of org:heldBy)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

PERSON_CLASSES = frozenset({FOAF + "Person", "http://www.w3.org/ns/person#Person", *(s + "Person" for s in SCHEMAS)})
#: Properties that carry a person's name or contact data: never public when their subject is a person.
PERSONAL_PREDICATES = frozenset(
    {
        *(
            FOAF + p
            for p in (
                "name",
                "givenName",
                "givenname",
                "familyName",
                "family_name",
                "firstName",
                "lastName",
                "surname",
                "nick",
                "mbox",
                "mbox_sha1sum",
                "phone",
                "homepage",
                "img",
                "depiction",
                "title",
            )
        ),
        *(
            VCARD + p
            for p in (
                "fn",
                "given-name",
                "family-name",
                "additional-name",
                "nickname",
                "hasEmail",
                "email",
                "hasTelephone",
                "tel",
                "hasAddress",
                "adr",
                "street-address",
                "hasPhoto",
                "photo",
            )
        ),
        *(
            s + p
            for s in SCHEMAS
            for p in (
                "name",
                "alternateName",
                "givenName",
                "familyName",
                "additionalName",
                "email",
                "telephone",
                "address",
                "image",
            )
        ),
        "http://www.w3.org/2000/01/rdf-schema#label",
        "http://www.w3.org/2004/02/skos/core#prefLabel",
        "http://www.w3.org/2004/02/skos/core#altLabel",
        "http://www.w3.org/2004/02/skos/core#hiddenLabel",
        "http://purl.org/dc/terms/title",
        "http://data.europa.eu/m8g/contactPoint",
        "http://www.w3.org/ns/dcat#contactPoint",
    }
)


def about_person(predicate: str, literal: bool) -> bool:
    """What a person's node may not carry in public: a name or contact property, or any text at all (``literal``:
    the object is a literal; a person is an opaque node that holds posts, and "Anna Kalniņa" in an rdfs:comment or
    a skos:note names her as well)."""
    return predicate in PERSONAL_PREDICATES or literal


def stored_personal_data(base: str) -> str:
    """A SELECT of (up to 5) triples that say something of a person anywhere in the public store: who holds a post
    (either way ORG says it) or is typed as a person, and any text or name or contact property of theirs. The
    whole store, not the graphs a write touched: a label written in one graph becomes a person's name when another
    graph says who holds a post. The people are found first and their triples looked up (national graph: 0.2 s;
    a scan of every name property's triples for subjects under ``{base}id/person/`` took 4.5 s, so that test is
    made on what a write itself states, :func:`personal_in`)."""
    predicates = ", ".join(f"<{p}>" for p in sorted(PERSONAL_PREDICATES))
    classes = " ".join(f"<{c}>" for c in sorted(PERSON_CLASSES))
    return f"""SELECT ?s ?p ?o WHERE {{
  {{ SELECT DISTINCT ?s WHERE {{
      {{ ?post <{HELD_BY}> ?s }} UNION {{ ?s <{HOLDS}> ?post }} UNION {{ VALUES ?c {{ {classes} }} ?s a ?c }}
  }} }}
  ?s ?p ?o
  FILTER (isLiteral(?o) || ?p IN ({predicates}))  # about_person
}} LIMIT 5"""


# Text that reads as a person's contact: the regular expressions of shapes/submission-shapes.ttl
# (NoPersonalDataShape's second constraint), for what an administrator writes (tests/store check they agree)
_CONTACT_TEXT = (
    re.compile(r'[^@\s<>"]+@[^@\s<>"]+\.[A-Za-z]{2,}'),  # an e-mail address
    re.compile(r"^\s*(\+|00)[0-9][0-9 ().-]{6,}[0-9]\s*$"),  # an international number alone
    re.compile(r"^\s*((tel|tālr|phone)\.?:?\s*)?[26][0-9]{7}\s*$", re.IGNORECASE),  # a Latvian number alone
    re.compile(r"(^|[^0-9])(\+|00)371[ .-]?[26][0-9]{7}([^0-9]|$)"),  # one with the country code in a text
    re.compile(r"(tel|tālr|phone)\.?:?\s*(\+?371[ .-]?)?[26][0-9]{7}([^0-9]|$)", re.IGNORECASE),  # after tel.
)
_STRINGS = {"http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def is_contact(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> bool:
    """A mailto:/tel: IRI, or a text that reads as an e-mail address or a phone number."""
    if isinstance(term, ox.NamedNode):
        return term.value.lower().startswith(("mailto:", "tel:"))
    if isinstance(term, ox.Literal) and term.datatype.value in _STRINGS:
        return any(r.search(term.value) for r in _CONTACT_TEXT)
    return False


def contacts_in(quads: Iterable[ox.Quad | ox.Triple]) -> list[ox.Quad | ox.Triple]:
    """The (up to 3) statements whose object reads as a contact."""
    found: list[ox.Quad | ox.Triple] = []
    for q in quads:
        if is_contact(q.object):  # type: ignore[arg-type]
            found.append(q)
            if len(found) == 3:
                break
    return found


def person_subjects(quads: Iterable[ox.Quad | ox.Triple], base: str) -> set[ox.NamedNode | ox.BlankNode]:
    """Who in ``quads`` is a person: a subject under ``{base}id/person/``, typed as a person, or holding a post
    (either way ORG says it)."""
    prefix = base + PERSON_PREFIX
    people: set[ox.NamedNode | ox.BlankNode] = set()
    for q in quads:
        s, p = q.subject, q.predicate.value
        if (
            (isinstance(s, ox.NamedNode) and s.value.startswith(prefix))
            or (p == RDF_TYPE and q.object.value in PERSON_CLASSES)
            or p == HOLDS
        ):
            people.add(s)  # type: ignore[arg-type]
        elif p == HELD_BY and isinstance(q.object, ox.NamedNode | ox.BlankNode):
            people.add(q.object)
    return people


def personal_in(quads: Iterable[ox.Quad | ox.Triple], base: str) -> list[ox.Quad | ox.Triple]:
    """The (up to 3) statements of ``quads`` that give a person's name or contact, judged from ``quads`` alone:
    what a remote store's writer can check before it sends, not seeing what the store already holds."""
    quads = list(quads)
    people = person_subjects(quads, base)
    names = [
        q for q in quads if q.subject in people and about_person(q.predicate.value, isinstance(q.object, ox.Literal))
    ]
    return (names + contacts_in(quads))[:3]


def inserted_by(update: str) -> ox.Store:
    """What ``update`` inserts into an empty store: its ``INSERT DATA`` (a pattern's inserts need data to match)."""
    inserted = ox.Store()
    with contextlib.suppress(SyntaxError, OSError):  # the store it is sent to says what is wrong with it
        inserted.update(update)
    return inserted


def refusal(found: list[ox.Quad | ox.Triple]) -> BadRequest:
    """The 400 for an administrator's write that would publish a person's name or contact."""
    shown = "; ".join(f"{q.subject} {q.predicate} {q.object}" for q in found)
    return BadRequest(
        "refused: the public store never holds people's names or contact data (pvpp-kg publishes posts and roles); "
        f"nothing was written. Found: {shown}"
    )
