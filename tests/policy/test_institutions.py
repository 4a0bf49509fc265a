"""The institutions registry built from data/institutions/*.csv: counts, codes and leading roles."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from pvpp_kg.namespaces import ID, PREFIXES, PVPP
from pvpp_kg.policy.institutions import municipality_key, read_institutions

INSTITUTIONS_DIR = Path(__file__).resolve().parents[2] / "data" / "institutions"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
VZD_FILES = ("vzd_aw_novads_extract.csv", "vzd_aw_pilseta_valstspilsetas_extract.csv")


@pytest.fixture(scope="module")
def g() -> Graph:
    return read_institutions(INSTITUTIONS_DIR)


def select(g: Graph, query: str) -> list[tuple]:
    """Run SPARQL; ``pvppid:a/b`` (not a legal prefixed name: it has a slash) is expanded to a full IRI."""
    query = re.sub(r"pvppid:([\w/-]+)", lambda m: f"<{ID}{m[1]}>", query)
    return [tuple(row) for row in g.query(query, initNs=PREFIXES)]


def count(g: Graph, where: str) -> int:
    return int(select(g, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")[0][0])


CURRENT = "?x a ?c . VALUES ?c { pvpp:Novads pvpp:StateCity } FILTER NOT EXISTS { ?x pvpp:validUntil ?u }"


def test_exactly_14_ministries(g: Graph) -> None:
    assert count(g, "?x a pvpp:Ministry") == 14


def test_state_chancellery_present_and_not_a_ministry(g: Graph) -> None:
    vk = ID["institution/vk"]
    assert (vk, None, None) in g
    assert (vk, RDF_TYPE, PVPP.OtherInstitution) in g
    assert (vk, RDF_TYPE, PVPP.Ministry) not in g


def test_42_current_municipalities(g: Graph) -> None:
    assert count(g, CURRENT) == 42
    assert count(g, "?x a pvpp:Novads FILTER NOT EXISTS { ?x pvpp:validUntil ?u }") == 35
    assert count(g, "?x a pvpp:StateCity FILTER NOT EXISTS { ?x pvpp:validUntil ?u }") == 7


@pytest.mark.parametrize(
    ("key", "atvk", "kods", "valid_from"),
    [
        ("aizkraukles-novads", "0020000", "100016630", "2021-07-01"),
        ("riga", "0001000", "100003003", "1999-03-16"),
        ("madonas-novads", "0038001", "100016671", "2021-07-01"),
        ("kekavas-novads", "0034000", "100016470", "2021-07-01"),
        ("liepaja", "0005000", "100003044", "1999-03-16"),
    ],
)
def test_codes_match_vzd(g: Graph, key: str, atvk: str, kods: str, valid_from: str) -> None:
    node = ID[f"institution/{key}"]
    assert set(g.objects(node, PVPP.atvkCode)) == {Literal(atvk)}
    assert set(g.objects(node, PVPP.addressRegisterCode)) == {Literal(kods)}
    assert set(g.objects(node, PVPP.validFrom)) == {Literal(valid_from, datatype=XSD_DATE)}


def test_labels_lv_and_en(g: Graph) -> None:
    labels = select(
        g,
        """SELECT ?lv ?en WHERE { pvppid:institution/aizkraukles-novads skos:prefLabel ?lv, ?en
                          FILTER(lang(?lv) = "lv" && lang(?en) = "en") }""",
    )
    assert labels == [(Literal("Aizkraukles novads", lang="lv"), Literal("Aizkraukle Municipality", lang="en"))]
    riga = set(g.objects(ID["institution/riga"], URIRef(PREFIXES["skos"] + "prefLabel")))
    assert Literal("Rīgas valstspilsēta", lang="lv") in riga
    assert Literal("Riga State City", lang="en") in riga


def test_varaklani_ended_and_not_current(g: Graph) -> None:
    node = ID["institution/varaklanu-novads"]
    assert set(g.objects(node, PVPP.validUntil)) == {Literal("2025-06-30", datatype=XSD_DATE)}
    current = {row[0] for row in select(g, f"SELECT ?x WHERE {{ {CURRENT} }}")}
    assert node not in current
    assert count(g, "?x cv:hasParticipant pvppid:institution/varaklanu-novads") == 0


def test_every_institution_has_identifier_labels_and_location(g: Graph) -> None:
    assert count(g, "?x a ?c . VALUES ?c { pvpp:Ministry pvpp:OtherInstitution pvpp:Novads pvpp:StateCity }") == (
        15 + 9 + 43
    )
    missing = select(
        g,
        """SELECT ?x WHERE {
        ?x a ?c . VALUES ?c { pvpp:Ministry pvpp:OtherInstitution pvpp:Novads pvpp:StateCity }
        FILTER NOT EXISTS { ?x dct:identifier ?id ; skos:prefLabel ?lv, ?en ; dct:spatial ?loc .
                            ?loc a dct:Location . FILTER(lang(?lv) = "lv" && lang(?en) = "en") } }""",
    )
    assert missing == []


def test_municipalities_cite_the_vzd_dataset(g: Graph) -> None:
    assert count(g, f"{CURRENT} ?x dct:source ?d . ?d dct:license ?l") == 42


def test_agencies_belong_to_a_ministry(g: Graph) -> None:
    orphans = select(
        g,
        """SELECT ?x WHERE { ?x a pvpp:OtherInstitution FILTER(?x != pvppid:institution/vk)
                           FILTER NOT EXISTS { ?x org:subOrganizationOf ?m . ?m a pvpp:Ministry } }""",
    )
    assert orphans == []
    assert (ID["institution/vsaa"], URIRef(PREFIXES["org"] + "subOrganizationOf"), ID["institution/lm"]) in g


def leads(g: Graph, code: str) -> set:
    return {
        row[0]
        for row in select(
            g,
            f"""SELECT ?x WHERE {{
        ?p a pvpp:RoleParticipation, cv:Participation ; cv:role pvppid:role/{code} ; cv:hasParticipant ?x ;
           dct:identifier ?id ; dct:description ?d }}""",
        )
    }


def test_varam_is_the_only_national_lead(g: Graph) -> None:
    assert leads(g, "VVI") == {ID["institution/varam"]}


def test_each_ministry_is_a_sector_lead(g: Graph) -> None:
    ministries = {row[0] for row in select(g, "SELECT ?x WHERE { ?x a pvpp:Ministry }")}
    assert leads(g, "NVI") == ministries


def test_each_current_municipality_is_a_municipal_lead(g: Graph) -> None:
    current = {row[0] for row in select(g, f"SELECT ?x WHERE {{ {CURRENT} }}")}
    assert leads(g, "PVI") == current


def test_municipality_key_rule() -> None:
    assert municipality_key("Aizkraukles novads") == "aizkraukles-novads"
    assert municipality_key("Rīga") == "riga"
    assert municipality_key("Ķekavas novads") == "kekavas-novads"


# sha256 of the VZD extracts in shared/anchors/latvia, recorded when they were vendored
VZD_SHA256 = {
    "vzd_aw_novads_extract.csv": "c00047cdd654f9dfaaf247b780aeaa2f17b72fe5431f6d391702a9898118cd79",
    "vzd_aw_pilseta_valstspilsetas_extract.csv": "f73243e3c47a21486f0e463c1d4f778ec3c5977e3cae40bbb454a1ba62ad9519",
}


def test_vzd_extracts_are_verbatim_copies() -> None:
    anchors = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "latvia"
    for name in VZD_FILES:
        data = (INSTITUTIONS_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == VZD_SHA256[name]
        if anchors.is_dir():  # and against the shared copy itself where it sits beside the checkout
            assert data == (anchors / name).read_bytes()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS_DIR, target)
    return target


def _corrupt(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = text
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "line", "text"),
    [
        ("ministries.csv", 4, "em,EM,ministry,Ekonomikas ministrija\n"),
        ("ministries.csv", 5, "fm,FM,department,Finanšu ministrija,Ministry of Finance,,\n"),
        ("agencies.csv", 3, "vzd,VZD,Valsts zemes dienests,State Land Service,nowhere,90000030432,\n"),
        ("municipalities.csv", 2, "0020000,Aizkraukle,Aizkraukles novads,x,Aizkraukle Municipality,\n"),
        (
            "vzd_aw_novads_extract.csv",
            6,
            '"100016575","113","Bauskas nov.","100000000","101","Y","252","EKS","Bauskas novads",'
            '"2021-07-01","2026.03.30","","0025000","Bauskas nov."\n',
        ),
        ("vzd_aw_novads_extract.csv", 7, '"100016487","113","Cēsu nov."\n'),
    ],
)
def test_malformed_csv_names_file_and_line(tmp_path: Path, file: str, line: int, text: str) -> None:
    directory = _copy(tmp_path)
    _corrupt(directory / file, line, text)
    with pytest.raises(ValueError, match=rf"{file}:{line}\b"):
        read_institutions(directory)


def test_a_registry_csv_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    """A ministries file saved by Excel as Windows-1257 on one line: the error names the file and that line."""
    directory = _copy(tmp_path)
    path = directory / "ministries.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[5] = "fm,FM,ministry,Finanšu ministrija,Ministry of Finance,90000014724\n".encode("cp1257")
    path.write_bytes(b"".join(lines))
    with pytest.raises(ValueError, match=r"ministries\.csv:6: not UTF-8 \(byte 0xf0\)"):
        read_institutions(directory)
