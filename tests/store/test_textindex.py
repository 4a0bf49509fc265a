"""The text index's whole build against its per-graph update, on a small store: the same rows either way."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from pvpp_kg.store.textindex import StoreSource, TextIndex

DATA = """
@prefix pvpp: <https://w3id.org/pvpp/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ex: <https://example.org/> .

ex:svc a pvpp:Service, skos:Concept ;
    skos:prefLabel "Ģimenes pabalsts"@lv, "Family benefit"@en ;
    dct:description <https://example.org/not-a-text> ;
    dct:identifier "S-1" ;
    pvpp:owner ex:inst .
ex:inst a pvpp:Institution ; skos:prefLabel "Iestāde"@lv .
ex:participation dct:description "Nav indeksēts"@lv ; dct:identifier "P-1" .
ex:post a org:Post ; skos:prefLabel "Pakalpojuma pārvaldnieks"@lv ; org:postIn ex:inst .
"""
GRAPH = "https://example.org/graph"


def _rows(index: TextIndex) -> list[tuple]:
    conn = index.connection()
    texts = conn.execute(
        "SELECT iri, graph, field, lang, text, folded, kind, institution FROM texts ORDER BY iri, field, lang, text"
    ).fetchall()
    resources = conn.execute("SELECT * FROM resources ORDER BY iri").fetchall()
    return [*texts, *resources]


def test_a_whole_build_reads_the_texts_of_known_kinds_once(tmp_path: Path) -> None:
    store = ox.Store()
    store.load(DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH))
    index = TextIndex(tmp_path)
    index.build(StoreSource(store), 1)
    texts = index.connection().execute("SELECT iri, field, lang, text, kind FROM texts ORDER BY 1, 2, 3").fetchall()
    ex = "https://example.org/"
    assert texts == [
        (ex + "inst", "label", "lv", "Iestāde", "institution"),
        (ex + "post", "label", "lv", "Pakalpojuma pārvaldnieks", "post"),
        # a service that is also a concept: its texts once, as a service; the IRI-valued description is no text
        (ex + "svc", "label", "en", "Family benefit", "service"),
        (ex + "svc", "label", "lv", "Ģimenes pabalsts", "service"),
        (ex + "svc", "notation", "", "S-1", "service"),
    ]  # the untyped participation's description and identifier are not indexed


def test_a_whole_build_equals_a_per_graph_update(tmp_path: Path) -> None:
    store = ox.Store()
    built = TextIndex(tmp_path / "built")
    (tmp_path / "built").mkdir()
    updated = TextIndex(tmp_path / "updated")
    (tmp_path / "updated").mkdir()
    updated.build(StoreSource(store), 1)  # empty
    store.load(DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH))
    assert updated.apply_graphs(StoreSource(store), 1, 2, [GRAPH])
    built.build(StoreSource(store), 2)
    assert _rows(built) == _rows(updated)
    assert len(_rows(built)) == 8  # 5 texts, 3 resources
