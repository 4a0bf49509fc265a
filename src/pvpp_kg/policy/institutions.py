"""The institutions registry: CSV files in ``data/institutions/`` turned into one RDF graph.

Why CSV and not Turtle: the municipalities come from the State Address Register (VZD, CC BY 4.0) and are kept
*verbatim*, so that a new VZD extract can be dropped in and diffed; ministries and agencies are short tables
that people edit in a spreadsheet. This module is the only place that knows the CSV layouts.

Files read from the directory (all UTF-8, comma-separated, first line a header):

- ``ministries.csv`` — ``key,short,kind,name_lv,name_en,reg_nr,note``; ``kind`` is ``ministry`` (→ ``pvpp:Ministry``)
  or ``other`` (→ ``pvpp:OtherInstitution``, Valsts kanceleja);
- ``agencies.csv`` — ``key,short,name_lv,name_en,parent,reg_nr,note``; ``pvpp:OtherInstitution``,
  ``org:subOrganizationOf`` the ``parent`` ministry;
- ``vzd_aw_novads_extract.csv`` — every ``EKS`` row is a current ``pvpp:Novads``; a ``DEL`` row is a former one with
  ``pvpp:validUntil`` = ``DAT_BEIG`` (Varakļānu novads, merged into Madonas novads on 2025-07-01);
- ``vzd_aw_pilseta_valstspilsetas_extract.csv`` — rows with ``VKUR_CD=100000000`` and ``STATUSS=EKS`` are the
  seven ``pvpp:StateCity`` (valstspilsētas); other rows (cities inside a novads, ended republic cities) are ignored;
- ``municipalities.csv`` — ``atvk,key,name_lv,authority_lv,name_en,reg_nr``: names and key for each ATVK code used.

Municipality keys are derived deterministically and the loader checks the CSV against the rule: ``SORT_NOS``
with Latvian letters folded to ASCII, lower-cased, spaces replaced by ``-`` (``Aizkraukles novads`` →
``aizkraukles-novads``, ``Rīga`` → ``riga``). For a novads, ``name_lv`` must equal ``SORT_NOS``.

Leading roles are data, not inference: VARAM holds ``role/VVI`` (national lead), every ministry ``role/NVI``
(sector lead), every *current* municipality ``role/PVI`` (municipal lead), each as a ``pvpp:RoleParticipation``
at ``id/participation/{key}/{role}``.

Any malformed row raises :class:`ValueError` naming the file and the line, because a registry that silently
drops a municipality would miscount the 42 and break every query built on them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, ORG, OWL, RDF, RDFS, SKOS, XSD

from pvpp_kg.namespaces import CV, ID, PVPP

__all__ = ["municipality_key", "read_institutions", "VZD_DATASET", "NATIONAL_LEAD_KEY"]

VZD_DATASET = URIRef("https://data.gov.lv/dati/lv/dataset/varis-atvertie-dati")
CC_BY_4 = URIRef("https://creativecommons.org/licenses/by/4.0/")
EU_COUNTRY_LVA = URIRef("http://publications.europa.eu/resource/authority/country/LVA")
NATIONAL_LEAD_KEY = "varam"
STATE_LEVEL_VKUR = "100000000"  # VKUR_CD of a territorial unit directly under the state

LATVIA = ID["location/LVA"]
ROLE_VVI, ROLE_NVI, ROLE_PVI = ID["role/VVI"], ID["role/NVI"], ID["role/PVI"]

MINISTRIES_CSV = "ministries.csv"
AGENCIES_CSV = "agencies.csv"
MUNICIPALITIES_CSV = "municipalities.csv"
NOVADI_CSV = "vzd_aw_novads_extract.csv"
CITIES_CSV = "vzd_aw_pilseta_valstspilsetas_extract.csv"

_FOLD = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")
_KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_VZD_DATE_RE = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")

_LEAD_TEXT = {
    "VVI": ("pakalpojumu pārvaldības valsts vadošā iestāde", "national lead institution for service management"),
    "NVI": ("pakalpojumu pārvaldības nozares vadošā iestāde", "sector lead institution for service management"),
    "PVI": ("pakalpojumu pārvaldības pašvaldības vadošā iestāde", "municipal lead institution for service management"),
}


@dataclass(frozen=True)
class Row:
    """One CSV data row with the file name and 1-based line number, so errors can point at it."""

    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def error(self, message: str) -> ValueError:
        return ValueError(f"{self.file}:{self.line}: {message}")

    def required(self, column: str) -> str:
        value = self.values[column].strip()
        if not value:
            raise self.error(f"empty value in column {column!r}")
        return value


def municipality_key(sort_name: str) -> str:
    """The institution key of a municipality: ``SORT_NOS`` folded to lower-case ASCII, spaces as ``-``."""
    nfc = unicodedata.normalize("NFC", sort_name.strip())
    return re.sub(r"\s+", "-", nfc.translate(_FOLD).lower())


def read_csv(path: Path, columns: Iterable[str]) -> list[Row]:
    """Read a CSV with a header, checking the required columns and that every row has as many fields."""
    name = path.name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: institutions source file is missing")
    rows: list[Row] = []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"{name}:{line}: not UTF-8 (byte {data[exc.start]:#04x})") from exc
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{name}:1: empty file, expected a header line")
            header = [h.strip().lstrip("\ufeff") for h in header]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ValueError(f"{name}:1: header lacks column(s) {', '.join(missing)}")
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise ValueError(f"{name}:{line}: expected {len(header)} fields, found {len(fields)}")
                values = {h: unicodedata.normalize("NFC", f) for h, f in zip(header, fields, strict=True)}
                rows.append(Row(name, line, values))
        except csv.Error as exc:
            raise ValueError(f"{name}:{reader.line_num}: {exc}") from exc
    return rows


def _vzd_date(row: Row, column: str) -> date:
    value = row.required(column)
    m = _VZD_DATE_RE.match(value)
    if not m:
        raise row.error(f"{column} {value!r} is not a VZD date YYYY.MM.DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise row.error(f"{column} {value!r}: {exc}") from exc


def _key(row: Row, column: str = "key") -> str:
    key = row.required(column)
    if not _KEY_RE.match(key):
        raise row.error(f"key {key!r} is not a lower-case ASCII slug")
    return key


def institution(key: str) -> URIRef:
    """The IRI of an institution by key (``id/institution/{key}``)."""
    return ID[f"institution/{key}"]


class _Builder:
    """Accumulates the registry graph; one method per kind of source row."""

    def __init__(self) -> None:
        self.g = Graph()
        for prefix, ns in (
            ("pvpp", PVPP),
            ("pvppid", ID),
            ("cv", CV),
            ("org", ORG),
            ("skos", SKOS),
            ("dct", DCTERMS),
            ("dcat", DCAT),
        ):
            self.g.bind(prefix, ns)
        self.keys: dict[str, str] = {}  # key -> "file:line" of its definition

    def claim(self, key: str, row: Row) -> URIRef:
        if key in self.keys:
            raise row.error(f"duplicate institution key {key!r} (first defined at {self.keys[key]})")
        self.keys[key] = f"{row.file}:{row.line}"
        return institution(key)

    def common(self, node: URIRef, key: str, name_lv: str, name_en: str, reg_nr: str, spatial: URIRef) -> None:
        g = self.g
        g.add((node, SKOS.prefLabel, Literal(name_lv, lang="lv")))
        g.add((node, SKOS.prefLabel, Literal(name_en, lang="en")))
        g.add((node, DCTERMS.title, Literal(name_lv, lang="lv")))
        g.add((node, DCTERMS.identifier, Literal(key)))
        g.add((node, DCTERMS.spatial, spatial))
        if reg_nr:
            g.add((node, PVPP.registrationNumber, Literal(reg_nr)))

    def lead(self, key: str, code: str, name_lv: str, name_en: str) -> None:
        """A leading role (VVI/NVI/PVI) held by an institution, as a CPSV-AP participation."""
        g = self.g
        part = ID[f"participation/{key}/{code}"]
        agent = institution(key)
        text_lv, text_en = _LEAD_TEXT[code]
        g.add((part, RDF.type, PVPP.RoleParticipation))
        g.add((part, RDF.type, CV.Participation))
        g.add((part, CV.role, ID[f"role/{code}"]))
        g.add((part, CV.hasParticipant, agent))
        g.add((agent, CV.participates, part))
        g.add((part, DCTERMS.identifier, Literal(f"{key}-{code}")))
        g.add((part, DCTERMS.description, Literal(f"{name_lv} — {text_lv} ({code})", lang="lv")))
        g.add((part, DCTERMS.description, Literal(f"{name_en} — {text_en} ({code})", lang="en")))

    def all_different(self) -> None:
        """The institutions are distinct individuals (OWL has no unique names): two owners of one service, with
        ``pvpp:owner`` functional, are then a contradiction a reasoner reports instead of merging them."""
        members = [institution(key) for key in sorted(self.keys)]
        node = BNode()
        self.g.add((node, RDF.type, OWL.AllDifferent))
        self.g.add((node, OWL.distinctMembers, Collection(self.g, BNode(), members).uri))

    def latvia(self) -> None:
        g = self.g
        g.add((LATVIA, RDF.type, DCTERMS.Location))
        g.add((LATVIA, SKOS.prefLabel, Literal("Latvija", lang="lv")))
        g.add((LATVIA, SKOS.prefLabel, Literal("Latvia", lang="en")))
        g.add((LATVIA, RDFS.seeAlso, EU_COUNTRY_LVA))

    def vzd_dataset(self) -> None:
        g = self.g
        d = VZD_DATASET
        g.add((d, RDF.type, DCAT.Dataset))
        g.add((d, DCTERMS.title, Literal("Valsts adrešu reģistra informācijas sistēmas atvērtie dati", lang="lv")))
        g.add((d, DCTERMS.title, Literal("State Address Register open data", lang="en")))
        for text, lang in (
            ("Administratīvo teritoriju un apdzīvoto vietu klasifikatori (aw_novads, aw_pilseta).", "lv"),
            ("Classifiers of administrative territories and settlements (aw_novads, aw_pilseta).", "en"),
        ):
            g.add((d, DCTERMS.description, Literal(text, lang=lang)))
        g.add((d, DCTERMS.publisher, institution("vzd")))
        g.add((d, DCTERMS.rightsHolder, institution("vzd")))
        g.add((d, DCTERMS.license, CC_BY_4))
        g.add((d, DCTERMS.bibliographicCitation, Literal("Valsts zemes dienests")))

    def ministry(self, row: Row) -> None:
        key = _key(row)
        node = self.claim(key, row)
        kind = row.required("kind")
        if kind not in ("ministry", "other"):
            raise row.error(f"kind {kind!r} must be 'ministry' or 'other'")
        name_lv, name_en = row.required("name_lv"), row.required("name_en")
        self.g.add((node, RDF.type, PVPP.Ministry if kind == "ministry" else PVPP.OtherInstitution))
        self.g.add((node, SKOS.altLabel, Literal(row.required("short"), lang="lv")))
        self.common(node, key, name_lv, name_en, row["reg_nr"].strip(), LATVIA)
        if kind == "ministry":
            self.lead(key, "NVI", name_lv, name_en)
            if key == NATIONAL_LEAD_KEY:
                self.lead(key, "VVI", name_lv, name_en)

    def agency(self, row: Row, ministries: set[str]) -> None:
        key = _key(row)
        node = self.claim(key, row)
        parent = _key(row, "parent")
        if parent not in ministries:
            raise row.error(f"parent {parent!r} is not a key in {MINISTRIES_CSV}")
        self.g.add((node, RDF.type, PVPP.OtherInstitution))
        self.g.add((node, SKOS.altLabel, Literal(row.required("short"), lang="lv")))
        self.g.add((node, ORG.subOrganizationOf, institution(parent)))
        self.common(node, key, row.required("name_lv"), row.required("name_en"), row["reg_nr"].strip(), LATVIA)

    def municipality(self, vzd: Row, names: Row, cls: URIRef, current: bool) -> None:
        g = self.g
        key = _key(names)
        expected = municipality_key(vzd.required("SORT_NOS"))
        if key != expected:
            raise names.error(f"key {key!r} does not follow the rule for {vzd['SORT_NOS']!r}: {expected!r}")
        name_lv, name_en = names.required("name_lv"), names.required("name_en")
        if cls == PVPP.Novads and name_lv != vzd["SORT_NOS"]:
            raise names.error(f"name_lv {name_lv!r} differs from VZD SORT_NOS {vzd['SORT_NOS']!r}")
        node = self.claim(key, names)
        location = ID[f"location/{key}"]
        g.add((location, RDF.type, DCTERMS.Location))
        g.add((location, SKOS.prefLabel, Literal(name_lv, lang="lv")))
        g.add((location, SKOS.prefLabel, Literal(name_en, lang="en")))
        g.add((location, DCTERMS.isPartOf, LATVIA))
        g.add((node, RDF.type, cls))
        self.common(node, key, name_lv, name_en, names["reg_nr"].strip(), location)
        g.add((node, SKOS.altLabel, Literal(names.required("authority_lv"), lang="lv")))
        g.add((node, PVPP.atvkCode, Literal(vzd.required("ATRIB"))))
        g.add((node, PVPP.addressRegisterCode, Literal(vzd.required("KODS"))))
        g.add((node, PVPP.validFrom, Literal(_vzd_date(vzd, "DAT_SAK").isoformat(), datatype=XSD.date)))
        g.add((node, DCTERMS.source, VZD_DATASET))
        if current:
            self.lead(key, "PVI", name_lv, name_en)
        else:
            g.add((node, PVPP.validUntil, Literal(_vzd_date(vzd, "DAT_BEIG").isoformat(), datatype=XSD.date)))


_VZD_COLUMNS = ("KODS", "VKUR_CD", "STATUSS", "SORT_NOS", "DAT_SAK", "DAT_BEIG", "ATRIB")


def _status(row: Row) -> str:
    status = row.required("STATUSS")
    if status not in ("EKS", "DEL"):
        raise row.error(f"STATUSS {status!r} must be EKS or DEL")
    return status


def read_institutions(directory: Path) -> Graph:
    """Build the institutions registry graph from the CSV files in ``directory`` (see the module docstring)."""
    directory = Path(directory)
    b = _Builder()
    b.latvia()
    b.vzd_dataset()

    ministry_keys: set[str] = set()
    for row in read_csv(directory / MINISTRIES_CSV, ("key", "short", "kind", "name_lv", "name_en", "reg_nr")):
        b.ministry(row)
        if row["kind"].strip() == "ministry":
            ministry_keys.add(row["key"].strip())
    if NATIONAL_LEAD_KEY not in ministry_keys:
        raise ValueError(f"{MINISTRIES_CSV}: the national lead ministry {NATIONAL_LEAD_KEY!r} is missing")
    for row in read_csv(directory / AGENCIES_CSV, ("key", "short", "name_lv", "name_en", "parent", "reg_nr")):
        b.agency(row, ministry_keys)

    names: dict[str, Row] = {}
    for row in read_csv(
        directory / MUNICIPALITIES_CSV, ("atvk", "key", "name_lv", "authority_lv", "name_en", "reg_nr")
    ):
        atvk = row.required("atvk")
        if atvk in names:
            raise row.error(f"duplicate ATVK code {atvk}")
        names[atvk] = row

    def names_for(vzd: Row) -> Row:
        atvk = vzd.required("ATRIB")
        if atvk not in names:
            raise vzd.error(f"ATVK {atvk} ({vzd['SORT_NOS']}) has no row in {MUNICIPALITIES_CSV}")
        return names[atvk]

    for row in read_csv(directory / NOVADI_CSV, _VZD_COLUMNS):
        current = _status(row) == "EKS"
        b.municipality(row, names_for(row), PVPP.Novads, current)
    for row in read_csv(directory / CITIES_CSV, _VZD_COLUMNS):
        if row.required("VKUR_CD") == STATE_LEVEL_VKUR and _status(row) == "EKS":
            b.municipality(row, names_for(row), PVPP.StateCity, True)
    for row in names.values():
        if row["key"].strip() not in b.keys:
            raise row.error(f"ATVK {row['atvk']} matches no municipality in the VZD extracts")
    b.all_different()
    return b.g
