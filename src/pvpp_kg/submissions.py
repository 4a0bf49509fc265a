"""Institution submissions: validate with the reference data, then replace the institution's graph atomically.

One ``EmbeddedStore.writer()`` block does the whole write — clear ``graph/institution/{key}``, load the data,
materialise it, add the provenance record — so a crash at any point leaves the old or the new graph, never a mix
(the store publishes a snapshot only when the block ends). Every accepted version's content is kept as a file
``{data_dir}/submissions/{key}/{version}.nt``; the provenance records (PROV-O, SPDX checksum, VoID triple count)
live in the public graph ``graph/provenance``, so the version history is queryable with SPARQL.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from pvpp_kg.errors import BadRequest, Forbidden, NotFound, PvppError
from pvpp_kg.materialise import materialisation_updates
from pvpp_kg.namespaces import GRAPH, ID, institution_graph
from pvpp_kg.settings import Settings
from pvpp_kg.store import EmbeddedStore
from pvpp_kg.validation import Report, Validator

PROVENANCE_GRAPH = str(GRAPH["provenance"])
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_OWNED = re.compile(rf"^{re.escape(str(ID))}(service|resource|post|sla)/([^/]+)/")
PROLOGUE = """PREFIX pvpp: <https://w3id.org/pvpp/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


class NotConforming(PvppError):
    """422: the data breaks the rules; the report says which."""

    status = 422
    code = "not_conforming"

    def __init__(self, report: Report) -> None:
        super().__init__(f"the data does not conform: {report.count('Violation')} violations")
        self.report = report


@dataclass(frozen=True)
class Version:
    institution: str
    version: int
    time: str
    checksum: str  # sha256 of the submitted triples as sorted N-Triples
    triples: int
    graph: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise BadRequest(f"not an institution key: {key!r}")
    return key


def check_ownership(data: Graph, key: str) -> None:
    """An institution writes only its own graph: no services, resources, posts or SLAs of another institution."""
    for s in set(data.subjects()):
        m = _OWNED.match(str(s))
        if m and m.group(2) != key:
            raise Forbidden(f"<{s}> belongs to institution {m.group(2)!r}; an institution can write only its own "
                            f"data (the token is {key!r}'s)")


def canonical_ntriples(data: Graph) -> bytes:
    lines = sorted(line for line in data.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()
                   if line.strip())
    return ("\n".join(lines) + "\n").encode("utf-8")


def other_institutions(store: EmbeddedStore, key: str) -> Graph:
    """The other institutions' current data: the context cross-institution links are checked against."""
    own = institution_graph(key)
    prefix = institution_graph("")
    q = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
            FILTER (STRSTARTS(STR(?g), "{prefix}") && ?g != <{own}>) }}"""
    nt = store.reader().query(q).serialize(format=ox.RdfFormat.N_TRIPLES)
    return Graph().parse(data=nt.decode("utf-8"), format="nt")


def versions(store: EmbeddedStore, key: str) -> list[Version]:
    q = PROLOGUE + f"""SELECT ?v ?t ?sum ?n WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
        ?sub dct:isVersionOf <{institution_graph(key)}> ; dcat:version ?v ; prov:generatedAtTime ?t ;
             void:triples ?n ; spdx:checksum [ spdx:checksumValue ?sum ] }} }}"""
    rows = [Version(key, int(r["v"].value), r["t"].value, r["sum"].value, int(r["n"].value), institution_graph(key))
            for r in store.reader().query(q)]
    return sorted(rows, key=lambda v: v.version)


def version_path(settings: Settings, key: str, version: int) -> Path:
    return settings.data_dir / "submissions" / key / f"{version}.nt"


def version_content(settings: Settings, store: EmbeddedStore, key: str, version: int) -> bytes:
    if not any(v.version == version for v in versions(store, key)):
        raise NotFound(f"institution {key!r} has no version {version}")
    try:
        return version_path(settings, key, version).read_bytes()
    except OSError:
        raise NotFound(f"the content of version {version} of {key!r} is not kept") from None


def _next_version(w: ox.Store, key: str) -> int:
    q = PROLOGUE + f"""SELECT (MAX(xsd:integer(?v)) AS ?m) WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
        ?sub dct:isVersionOf <{institution_graph(key)}> ; dcat:version ?v }} }}"""
    rows = list(w.query(q))
    m = rows[0]["m"] if rows else None
    return (int(m.value) if m is not None else 0) + 1


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def submit(settings: Settings, store: EmbeddedStore, validator: Validator, key: str, data: Graph, *,
           lang: str = "en") -> tuple[Version, Report]:
    """Validate and, if the data conforms, atomically replace the institution's graph; else NotConforming."""
    check_key(key)
    check_ownership(data, key)
    report = validator.validate(data, lang=lang, extra_context=other_institutions(store, key))
    if not report.conforms:
        raise NotConforming(report)
    content = canonical_ntriples(data)
    checksum = hashlib.sha256(content).hexdigest()
    graph = institution_graph(key)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    with store.writer() as w:
        version = _next_version(w, key)
        _write_file(version_path(settings, key, version), content)
        node = ox.NamedNode(graph)
        if w.contains_named_graph(node):
            w.clear_graph(node)
        w.load(content, format=ox.RdfFormat.N_TRIPLES, to_graph=node)
        if settings.submission_pause_s:  # test hook: a crash test kills the server here, mid-write
            time.sleep(settings.submission_pause_s)
        for update in materialisation_updates(validator.ontology, graph):
            w.update(update)
        sub = URIRef(f"{ID}submission/{key}/{version}")
        w.update(PROLOGUE + f"""INSERT DATA {{ GRAPH <{PROVENANCE_GRAPH}> {{
            <{sub}> a pvpp:Submission, prov:Entity ; pvpp:submittedGraph <{graph}> ; dct:isVersionOf <{graph}> ;
                dcat:version {version} ; pvpp:sha256 "{checksum}" ;
                prov:generatedAtTime "{now}"^^xsd:dateTime ; prov:wasAttributedTo <{ID}institution/{key}> ;
                void:triples {len(data)} ;
                spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ;
                                spdx:checksumValue "{checksum}" ] }} }}""")
    return Version(key, version, now, checksum, len(data), graph), report
