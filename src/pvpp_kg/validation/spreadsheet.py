"""The spreadsheet template: institutions fill one sheet per entity (XLSX, or one CSV per sheet) instead of RDF.

Why a spreadsheet: most institutions keep their service list in Excel. The layout, ``data/template/columns.csv``, is
the single place that knows it; every conversion error names the sheet, row and column, so the person filling it
can find the cell.
Values are short local ids (``vsaa``, ``pv-gimenes-pabalsti``); lists are separated by ``;``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, SKOS, XSD

from pvpp_kg.errors import InputError
from pvpp_kg.namespaces import CV, ID, PREFIXES, PVPP
from pvpp_kg.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    required: bool = False
    help_lv: str = ""


AUX_SHEETS = ("about", "lists", "results")  # the template's explanation and code lists, fix-it results: no data
COLUMNS_CSV = PROJECT_ROOT / "data" / "template" / "columns.csv"


@lru_cache(maxsize=1)
def column_table() -> dict[str, dict[str, dict[str, str]]]:
    """``data/template/columns.csv``, the template's layout: per sheet (in order) its columns (in order), each
    with whether it is required, its help text, lv/en label, RDF property, code list and example."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    with COLUMNS_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["sheet"], {})[row["column"]] = row
    return out


SHEETS: dict[str, tuple[Column, ...]] = {
    sheet: tuple(Column(name, row["help"], row["required"] == "yes", row["help_lv"]) for name, row in columns.items())
    for sheet, columns in column_table().items()
}


def labels_of(sheet: str) -> dict[str, tuple[str, str]]:
    return {c: (r["label_lv"], r["label_en"]) for c, r in column_table().get(sheet, {}).items()}


@lru_cache(maxsize=256)
def column_for(sheet: str, path: str) -> str | None:
    """The column of ``sheet`` whose values are the property ``path`` (full IRI, or ``^curie`` for an inverse path
    as reports write it: an SLA's service cell states ``service pvpp:serviceLevelAgreement sla``). A column names
    its property first, then the super-properties the ontology entails from it (``pvpp:owner
    cv:hasCompetentAuthority``): a CPSV-AP result on the super-property is about that column too."""
    for column, row in column_table().get(sheet, {}).items():
        for curie in row["property"].split():
            if curie.startswith("^"):  # the row's node is the value (an SLA's service states the agreement)
                if path == curie:
                    return column
                continue
            prefix, _, local = curie.partition(":")
            if PREFIXES[prefix] + local == path:
                return column
    return None


KINDS = {
    "individual-benefit": PVPP.IndividualBenefitService,
    "general-benefit": PVPP.GeneralBenefitService,
    "individual-use": PVPP.IndividualUseService,
    "shared": PVPP.SharedService,
}
RESOURCE_TYPES = {"information": PVPP.Information, "digital-technology": PVPP.DigitalTechnology}
ROLES = ("VVI", "NVI", "PVI", "IPKS", "PS", "PSn", "PSa", "IRKS", "RS", "RL")
RECIPIENT_GROUPS = ("residents", "entrepreneurs", "society", "institutions")
# the concepts of scheme:non-service-functions (data/reference/non-service-functions.ttl): activities not services
FUNCTIONS = (
    "support",
    "administrative",
    "policy-making",
    "control-supervision",
    "communication",
    "no-external-need",
    "internal-needs",
)
COMPLEXITY = {"simple": PVPP.SimpleService, "smart": PVPP.SmartService}
TRACKS = ("services", "no-services")
FLAGS = {"true": True, "false": False, "jā": True, "ja": True, "nē": False, "ne": False}  # as a Latvian clerk types
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_DECIMAL = re.compile(r"^[0-9]+(?:[.,][0-9]+)?$")  # 99,5 as Latvian writes it, or 99.5
_DURATION = re.compile(
    r"^P(?!$)(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?$"
)
_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
_PATH = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9][a-z0-9._-]*)+$")


@dataclass(frozen=True)
class CellProblem:
    """A cell that cannot be converted: where it is and why, in both languages."""

    sheet: str
    row: int
    column: str | None
    column_number: int | None
    messages: dict[str, str]
    kind: str = "CellValue"  # the rule: CellValue, or UnknownSheet / UnknownColumn / MissingColumn (the layout)
    node: str | None = None  # the node a row left unread would have made: the rules' results about it follow from it

    @classmethod
    def at(cls, cell: tuple[str, int, str | None, int | None], en: str, lv: str, kind: str) -> CellProblem:
        """A problem at a cell ``Origin.cell`` located: (sheet, row, column name, column number)."""
        return cls(*cell, {"en": en, "lv": lv}, kind)

    @property
    def message(self) -> str:
        return self.messages["en"]

    @property
    def where(self) -> str:
        return f"sheet {self.sheet}, row {self.row}" + (f", column {self.column}" if self.column else "")


class SheetErrors(InputError):
    """Every cell of an upload that cannot be converted, found in one pass (the first one names the location)."""

    def __init__(self, problems: list[CellProblem], source: str, read: tuple[Triples, Origin] | None = None) -> None:
        self.read = read  # the rows that could be read: the policy's rules can still be checked on them
        self.document: Any = None  # those rows as a parse.Document (parse_document makes it)
        first = problems[0]
        more = (
            f" (and {len(problems) - 1} more: "
            + "; ".join(f"{p.where}: {p.message}" for p in problems[1:6])
            + (" …" if len(problems) > 6 else "")
            + ")"
            if len(problems) > 1
            else ""
        )
        super().__init__(
            f"{first.where}: {first.message}{more}",
            source=source,
            line=first.row,
            column=first.column_number,
        )
        self.problems = problems


class _CellError(Exception):
    def __init__(self, problem: CellProblem) -> None:
        self.problem = problem


class _Row:
    """One filled row; ``get`` checks the cell and raises a _CellError naming sheet, row and column."""

    def __init__(self, source: str, sheet: str, number: int, cells: dict[str, str], header: list[str]) -> None:
        self.source, self.sheet, self.number, self.cells, self.header = source, sheet, number, cells, header

    def error(self, column: str, en: str, lv: str) -> _CellError:
        col = self.header.index(column) + 1 if column in self.header else None
        return _CellError(CellProblem(self.sheet, self.number, column, col, {"en": en, "lv": lv}))

    def get(self, column: str, *, pattern: re.Pattern[str] | None = None, choices: tuple[str, ...] = ()) -> str:
        value = self.cells.get(column, "").strip()
        spec = next(c for c in SHEETS[self.sheet] if c.name == column)
        if not value:
            if spec.required:
                raise self.error(column, "a value is required", "vērtība ir obligāta")
            return ""
        if choices and value not in choices:
            raise self.error(
                column,
                f"{value!r} is not one of: {', '.join(choices)}",
                f"{value!r} nav neviena no atļautajām vērtībām: {', '.join(choices)}",
            )
        if pattern and not pattern.match(value):
            if ";" in value:  # a list in a cell that takes one value: say so, not "not an id"
                raise self.error(
                    column,
                    f"{value!r}: this column takes one value, not a list (;)",
                    f"{value!r}: šajā kolonnā ir viena vērtība, nevis saraksts (;)",
                )
            raise self.error(
                column,
                f"{value!r} is not a valid id (Latin lowercase letters a–z without diacritics and digits, joined by "
                "-, _ or .)",
                f"{value!r} nav derīgs identifikators (latīņu mazie burti a–z bez garumzīmēm un cipari, savienoti ar "
                "-, _ vai .)",
            )
        return value

    def items(self, column: str, *, pattern: re.Pattern[str] = _ID) -> list[str]:
        raw = self.get(column)
        out = [v.strip() for v in raw.split(";") if v.strip()]
        for v in out:
            if not pattern.match(v):
                if pattern is _URL:
                    raise self.error(column, f"{v!r} is not a web address (https://…)", f"{v!r} nav tīmekļa adrese")
                raise self.error(column, f"{v!r} is not a valid id", f"{v!r} nav derīgs identifikators")
        return out

    def typed(self, column: str, pattern: re.Pattern[str], en: str, lv: str) -> str:
        """A value that must have a form (a number, a duration): the messages say which."""
        value = self.get(column)
        if value and not pattern.match(value):
            raise self.error(column, f"{value!r} is not {en}", f"{value!r} nav {lv}")
        return value

    def flag(self, g: Any, node: URIRef) -> None:
        """The ``illustrative`` column: true or false, jā or nē (any letter case, as a spreadsheet may write it)."""
        value = unicodedata.normalize("NFC", self.cells.get("illustrative", "").strip().lower())
        if value:
            if value not in FLAGS:
                raise self.error(
                    "illustrative",
                    f"{value!r} is not one of: true, false (or jā, nē)",
                    f"{value!r} nav ne jā, ne nē (true, false)",
                )
            g.add((node, PVPP.illustrative, Literal(FLAGS[value])))


def _lit(g: Graph, s: URIRef, p: URIRef, value: str, lang: str | None = None) -> None:
    if value:
        g.add((s, p, Literal(value, lang=lang)))


def _convert(row: _Row, g: Graph) -> URIRef:
    """The row's triples into ``g``; the node the row describes is returned."""
    sheet = row.sheet
    if sheet == "institutions":
        key = row.get("key", pattern=_ID)
        inst = ID[f"institution/{key}"]
        for col, prop in (
            ("service_portfolio_manager", PVPP.servicePortfolioManager),
            ("resource_portfolio_manager", PVPP.resourcePortfolioManager),
        ):
            if post := row.get(col, pattern=_ID):
                g.add((inst, prop, ID[f"post/{key}/{post}"]))
        if track := row.get("track", choices=TRACKS):
            g.add((inst, ORG.classification, ID[f"track/{track}"]))
        return inst
    if sheet == "posts":
        key, local = row.get("institution", pattern=_ID), row.get("id", pattern=_ID)
        post = ID[f"post/{key}/{local}"]
        g.add((post, RDF.type, ORG.Post))
        _lit(g, post, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, post, SKOS.prefLabel, row.get("label_en"), "en")
        g.add((post, ORG.postIn, ID[f"institution/{key}"]))
        g.add((post, ORG.role, ID[f"role/{row.get('role', choices=ROLES)}"]))
        if holder := row.get("holder", pattern=_ID):
            if not any(c.isdigit() for c in holder):  # "janis.berzins" would be published as a person's IRI
                raise row.error(
                    "holder",
                    f"{holder!r} looks like a name: a holder is a pseudonymous id with digits (p-0042), never a name",
                    f"{holder!r} izskatās pēc vārda: ieņēmējs ir pseidonīms identifikators ar cipariem (p-0042), "
                    "nekad vārds",
                )
            g.add((post, ORG.heldBy, ID[f"person/{holder}"]))
        row.flag(g, post)
        return post
    if sheet == "services":
        key, local = row.get("institution", pattern=_ID), row.get("id", pattern=_ID)
        s = ID[f"service/{key}/{local}"]
        g.add((s, RDF.type, KINDS[row.get("kind", choices=tuple(KINDS))]))
        g.add((s, DCTERMS.identifier, Literal(f"{key}/{local}")))
        _lit(g, s, DCTERMS.title, row.get("title_lv"), "lv")
        _lit(g, s, DCTERMS.title, row.get("title_en"), "en")
        _lit(g, s, DCTERMS.description, row.get("description_lv"), "lv")
        _lit(g, s, DCTERMS.description, row.get("description_en"), "en")
        g.add((s, PVPP.owner, ID[f"institution/{key}"]))
        g.add((s, PVPP.serviceManager, ID[f"post/{key}/{row.get('manager', pattern=_ID)}"]))
        for p in row.items("providers"):
            g.add((s, PVPP.provider, ID[f"institution/{p}"]))
        for r in row.items("recipients"):
            g.add((s, PVPP.recipient, ID[f"recipient-group/{r}"] if r in RECIPIENT_GROUPS else ID[f"institution/{r}"]))
        for n in row.items("needs"):
            g.add((s, PVPP.satisfiesNeed, ID[f"need/{n}"]))
        for r in row.items("resources", pattern=re.compile(r"^[a-z0-9-]+(?:/[a-z0-9][a-z0-9._-]*)?$")):
            g.add((s, PVPP.usesResource, ID[f"resource/{r if '/' in r else f'{key}/{r}'}"]))
        if fn := row.get("function", choices=FUNCTIONS):
            g.add((s, CV.isClassifiedBy, ID[f"function/{fn}"]))
        if complexity := row.get("complexity", choices=tuple(COMPLEXITY)):
            g.add((s, RDF.type, COMPLEXITY[complexity]))
        for situation in row.items("life_situations"):
            g.add((s, PVPP.lifeSituation, ID[f"life-situation/{situation}"]))
        for url in row.items("sources", pattern=_URL):
            g.add((s, DCTERMS.source, URIRef(url)))
        _lit(g, s, SKOS.editorialNote, row.get("note_lv"), "lv")
        _lit(g, s, SKOS.editorialNote, row.get("note_en"), "en")
        row.flag(g, s)
        return s
    if sheet == "resources":
        key, local = row.get("institution", pattern=_ID), row.get("id", pattern=_ID)
        r = ID[f"resource/{key}/{local}"]
        g.add((r, RDF.type, RESOURCE_TYPES[row.get("type", choices=tuple(RESOURCE_TYPES))]))
        g.add((r, DCTERMS.identifier, Literal(f"{key}/{local}")))
        _lit(g, r, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, r, SKOS.prefLabel, row.get("label_en"), "en")
        _lit(g, r, DCTERMS.description, row.get("description_lv"), "lv")
        _lit(g, r, DCTERMS.description, row.get("description_en"), "en")
        g.add((r, PVPP.resourceOwner, ID[f"institution/{key}"]))
        g.add((r, PVPP.resourceManager, ID[f"post/{key}/{row.get('manager', pattern=_ID)}"]))
        for u in row.items("users"):
            g.add((r, PVPP.resourceUser, ID[f"institution/{u}"]))
        row.flag(g, r)
        return r
    if sheet == "slas":
        key, local = row.get("institution", pattern=_ID), row.get("id", pattern=_ID)
        sla = ID[f"sla/{key}/{local}"]
        g.add((ID[f"service/{key}/{row.get('service', pattern=_ID)}"], PVPP.serviceLevelAgreement, sla))
        g.add((sla, RDF.type, PVPP.ServiceLevelAgreement))
        _lit(g, sla, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, sla, SKOS.prefLabel, row.get("label_en"), "en")
        _lit(g, sla, PVPP.serviceHours, row.get("service_hours"))
        if target := row.typed("availability_target", _DECIMAL, "a number such as 99.5", "skaitlis, piemēram, 99,5"):
            g.add((sla, PVPP.availabilityTarget, Literal(target.replace(",", "."), datatype=XSD.decimal)))
        for column, prop in (("reaction_time", PVPP.reactionTime), ("resolution_time", PVPP.resolutionTime)):
            duration = row.typed(
                column, _DURATION, "an ISO 8601 duration such as PT4H or P2D", "ISO 8601 ilgums, piemēram, PT4H vai P2D"
            )
            if duration:
                g.add((sla, prop, Literal(duration, datatype=XSD.duration)))
        _lit(g, sla, DCTERMS.description, row.get("description_lv"), "lv")
        _lit(g, sla, DCTERMS.description, row.get("description_en"), "en")
        row.flag(g, sla)
        return sla
    if sheet == "needs":
        need = ID[f"need/{row.get('id', pattern=_ID)}"]
        g.add((need, RDF.type, PVPP.Need))
        _lit(g, need, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, need, SKOS.prefLabel, row.get("label_en"), "en")
        row.flag(g, need)
        return need
    if sheet == "life_situations":
        local = row.get("id", pattern=_ID)
        situation = ID[f"life-situation/{local}"]
        g.add((situation, RDF.type, PVPP.LifeSituation))
        g.add((situation, DCTERMS.identifier, Literal(local)))
        _lit(g, situation, DCTERMS.title, row.get("title_lv"), "lv")
        _lit(g, situation, DCTERMS.title, row.get("title_en"), "en")
        _lit(g, situation, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, situation, SKOS.prefLabel, row.get("label_en"), "en")
        for url in row.items("source", pattern=_URL):
            g.add((situation, DCTERMS.source, URIRef(url)))
        return situation
    if sheet == "participations":
        key, role = row.get("participant", pattern=_ID), row.get("role", choices=ROLES)
        context = row.get("context", pattern=_PATH)
        # under submitted/, so they never collide with the registry's own participation/{key}/{role}
        local = f"submitted/{key}/{role}" + (f"/{context.replace('/', '-')}" if context else "")
        part = ID[f"participation/{local}"]
        g.add((part, RDF.type, PVPP.RoleParticipation))
        g.add((part, RDF.type, CV.Participation))
        g.add((part, CV.role, ID[f"role/{role}"]))
        g.add((part, CV.hasParticipant, ID[f"institution/{key}"]))
        g.add((part, DCTERMS.identifier, Literal(f"participation/{local}")))
        desc = row.get("description_lv") or f"{key}: loma {role}" + (f" ({context})" if context else "")
        g.add((part, DCTERMS.description, Literal(desc, lang="lv")))
        if context:
            g.add((part, PVPP.participationContext, ID[context]))
        return part
    raise AssertionError(sheet)


@dataclass
class Origin:
    """Where a spreadsheet upload's nodes come from: node IRI → (sheet, row), and each sheet's header, so a
    validation result on a node (and its path) can be pointed at a cell."""

    rows: dict[str, tuple[str, int]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)

    def cell(
        self, focus: str, path: str | None, language: str | None = None
    ) -> tuple[str, int, str | None, int | None] | None:
        """(sheet, row, column name, column number) of a result on ``focus`` with ``path``, if a row made it; a
        result about the ``language`` text of a property (a missing English title) points at that language's
        column (``title_en``), not the first one of the property (``title_lv``)."""
        found = self.rows.get(focus)
        if found is None:
            return None
        sheet, row = found
        header = self.headers.get(sheet, [])
        column = column_for(sheet, path) if path else None
        if column and language and column.endswith("_lv") and f"{column[:-3]}_{language}" in header:
            column = f"{column[:-3]}_{language}"
        if column is None or column not in header:
            column = next((c for c in ("id", "key", "participant") if c in header), None)
        return sheet, row, column, (header.index(column) + 1 if column in header else None)


def _is_label_row(sheet: str, header: list[str], values: list[str]) -> bool:
    """The template's second and third rows: the columns' names in Latvian and in English."""
    labels = labels_of(sheet)
    named = [(h, (v or "").strip()) for h, v in zip(header, values, strict=False) if h and (v or "").strip()]
    return bool(named) and all(v in labels.get(h, ()) for h, v in named)


class Triples(list[tuple[Any, Any, Any]]):
    """The rows' triples as made (rdflib terms), in a plain list: an rdflib Graph per row costs more than the read."""

    def add(self, triple: tuple[Any, Any, Any]) -> None:
        self.append(triple)


def _is_example_row(sheet: str, header: list[str], values: list[str]) -> bool:
    """The empty template's fourth row, left as it is: every column's example (``columns.csv``), nothing else."""
    examples = {c: r["example"] for c, r in column_table().get(sheet, {}).items() if r["example"]}
    named = {h: (v or "").strip() for h, v in zip(header, values, strict=False) if h and (v or "").strip()}
    return bool(named) and named == {h: e for h, e in examples.items() if h in header}


def unknown_sheet(name: str) -> CellProblem:
    """A sheet (or CSV file) the template does not have: named in the report, its rows not read."""
    expected = ", ".join(SHEETS)
    return CellProblem(
        name,
        1,
        None,
        None,
        {
            "en": f"unknown sheet {name!r}; the template's sheets are: {expected}",
            "lv": f"nezināma lapa {name!r}; veidnes lapas ir: {expected}",
        },
        "UnknownSheet",
    )


def _header_problems(sheet: str, header: list[str]) -> list[CellProblem]:
    """Columns the sheet does not have, and required columns that are missing, each named."""
    known = [c.name for c in SHEETS[sheet]]
    out = [
        CellProblem(
            sheet,
            1,
            h,
            i,
            {
                "en": f"unknown column {h!r}; the sheet's columns are: {', '.join(known)}",
                "lv": f"nezināma kolonna {h!r}; lapas kolonnas ir: {', '.join(known)}",
            },
            "UnknownColumn",
        )
        for i, h in enumerate(header, start=1)
        if h and h not in known
    ]
    out += [
        CellProblem(
            sheet,
            1,
            c.name,
            None,
            {
                "en": f"the required column {c.name!r} is missing (add it to row 1)",
                "lv": f"trūkst obligātās kolonnas {c.name!r} (pievienojiet to 1. rindā)",
            },
            "MissingColumn",
        )
        for c in SHEETS[sheet]
        if c.required and c.name not in header
    ]
    return out


def _beyond_header(sheet: str, row: int, columns: int, first: int) -> CellProblem:
    """A row with a filled cell right of the last column heading: its place in no column is an error, not data."""
    from openpyxl.utils import get_column_letter  # openpyxl loads in ~0.1 s, for this rare message only

    letter = get_column_letter(first)
    return CellProblem(
        sheet,
        row,
        None,
        first,
        {
            "en": f"cell {letter}{row} is filled, but the sheet has headings for {columns} columns only: "
            "move the value under its heading or add the heading",
            "lv": f"šūna {letter}{row} ir aizpildīta, bet lapai ir virsraksti tikai {columns} kolonnām: "
            "pārvietojiet vērtību zem tās virsraksta vai pievienojiet virsrakstu",
        },
        "BeyondHeader",
    )


def _id_column(header: list[str]) -> str | None:
    """The column that names a row's node (``key`` of an institution, else ``id``), if the sheet has one."""
    return next((c for c in ("key", "id") if c in header), None)


def _duplicate(sheet: str, row: int, header: list[str], column: str, first: int) -> CellProblem:
    return CellProblem(
        sheet,
        row,
        column,
        header.index(column) + 1,
        {
            "en": f"this {column} is already used in row {first} of the sheet: each row describes its own "
            "(rename one, or merge the two rows)",
            "lv": f"šis {column} jau ir lapas {first}. rindā: katra rinda apraksta savu (pārdēvējiet vienu vai "
            "apvienojiet abas rindas)",
        },
        "DuplicateId",
    )


def _rows_to_graph(
    source: str, sheet: str, rows: list[list[str]], g: Triples, origin: Origin, problems: list[CellProblem]
) -> None:
    """The sheet's rows as triples; its layout's problems and every refused cell go to ``problems``. A sheet
    without a required column is not read further (each row would only repeat that the column is missing)."""
    if not rows:
        return
    header = [h.strip() for h in rows[0]]
    layout = _header_problems(sheet, header)
    problems += layout
    if any(p.kind == "MissingColumn" for p in layout):
        return
    header = [h if h in {c.name for c in SHEETS[sheet]} else "" for h in header]  # an unknown column is not read
    origin.headers[sheet] = header
    for number, values in enumerate(rows[1:], start=2):
        if (number <= 3 and _is_label_row(sheet, header, values)) or (
            number == 4 and _is_example_row(sheet, header, values)
        ):
            continue
        cells = {h: (v or "").strip() for h, v in zip(header, values, strict=False) if h}
        beyond = [(i, v) for i, v in enumerate(values[len(header) :], start=len(header) + 1) if (v or "").strip()]
        if beyond:  # cells right of the last heading would be lost without a word; the row is read without them
            problems.append(_beyond_header(sheet, number, len(header), beyond[0][0]))
        if any(cells.values()):
            node, part = _convert_row(source, sheet, number, cells, header, problems)
            if node is None:
                continue
            seen = origin.rows.get(str(node))
            if seen is not None and seen[0] == sheet and (key := _id_column(header)):
                problems.append(_duplicate(sheet, number, header, key, seen[1]))  # two rows would merge into one
                continue
            g.extend(part)
            origin.rows.setdefault(str(node), (sheet, number))


def _convert_row(
    source: str, sheet: str, number: int, cells: dict[str, str], header: list[str], problems: list[CellProblem]
) -> tuple[Any, Triples]:
    """A row's node and triples, each refused cell reported and the row read without it, so that what the rest
    of the row says still counts (a post whose flag cell is refused still holds its post: no phantom "the service
    has no manager" elsewhere). None when a refused cell is one the row cannot be made without (its id, its kind):
    the row's other cells are still checked, with the column's example standing in for it, so that every refused
    cell of the row is reported in one pass."""
    original, cells, first, unread = cells, dict(cells), len(problems), False
    examples = {c: r["example"] for c, r in column_table().get(sheet, {}).items()}
    for _ in range(2 * len(cells) + 2):
        part = Triples()
        try:
            node = _convert(_Row(source, sheet, number, cells, header), part)  # type: ignore[arg-type]
            if not unread:
                return node, part
            break
        except _CellError as e:
            refused = e.problem.column
            if not any(p.where == e.problem.where and p.kind == e.problem.kind for p in problems[first:]):
                problems.append(e.problem)
            if refused is not None and cells.get(refused):  # read the row without it
                cells[refused] = ""
            elif refused is not None and examples.get(refused) and cells.get(refused) != examples[refused]:
                unread, cells[refused] = True, examples[refused]  # the row cannot be made: check its other cells
            else:
                unread = True
                break
    node = _row_node(sheet, original)
    problems[first:] = [dataclasses.replace(p, node=node) for p in problems[first:]]
    return None, Triples()


# the IRI (under id/) of the node each sheet's row makes, from its key cells
_ROW_NODES = {
    "institutions": "institution/{key}",
    "posts": "post/{institution}/{id}",
    "services": "service/{institution}/{id}",
    "resources": "resource/{institution}/{id}",
    "slas": "sla/{institution}/{id}",
    "needs": "need/{id}",
    "life_situations": "life-situation/{id}",
}


def _row_node(sheet: str, cells: dict[str, str]) -> str | None:
    """The node a row would have made, when its key cells are readable (None when one of them is refused)."""
    pattern = _ROW_NODES.get(sheet)
    keys = re.findall(r"{(\w+)}", pattern or "")
    if pattern is None or not all(_ID.match(cells.get(k, "")) for k in keys):
        return None
    return str(ID[pattern.format(**{k: cells[k] for k in keys})])


def csv_to_graph(data: bytes, *, sheet: str | None, source: str = "upload.csv") -> Graph:
    return _graph(read_csv(data, sheet=sheet, source=source)[0])


def _graph(triples: Triples) -> Graph:
    g = Graph()
    for t in triples:
        g.add(t)
    return g


def read_csv(data: bytes, *, sheet: str | None, source: str = "upload.csv") -> tuple[Triples, Origin]:
    """One sheet as CSV; ``sheet`` comes from the file name (``services.csv``) or a ``sheet`` parameter."""
    if not sheet:
        raise InputError(
            f"name the sheet of this CSV (file name or sheet parameter): one of {', '.join(SHEETS)}", source=source
        )
    rows = _csv_rows(data, source)

    def fill(g: Triples, origin: Origin, problems: list[CellProblem]) -> None:
        if sheet not in SHEETS:
            problems.append(unknown_sheet(sheet))
        else:
            _rows_to_graph(source, sheet, rows, g, origin, problems)

    return _finish(source, fill)


def read_csv_zip(
    data: bytes, *, source: str = "upload.zip", limits: SheetLimits | None = None
) -> tuple[Triples, Origin]:
    """The template's CSV variant: a zip of ``{sheet}.csv`` files, checked as a package before it is inflated
    (size, parts, nested archives), every sheet's cell errors collected as for a workbook."""
    limits = limits or SheetLimits()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if len(members) > limits.members:
                raise InputError(f"the zip has {len(members)} files; at most {limits.members} are read", source=source)
            if sum(m.file_size for m in members) > limits.inflated_bytes:
                raise InputError(f"the zip expands to more than {limits.inflated_bytes:,} bytes", source=source)
            files = []
            for m in members:
                name = m.filename.rsplit("/", 1)[-1]
                if not name.lower().endswith(".csv"):
                    raise InputError(
                        f"{m.filename}: the zip holds the template's sheets as CSV files, one of: "
                        + ", ".join(f"{s}.csv" for s in SHEETS),
                        source=source,
                    )
                files.append((name[:-4], z.read(m), f"{source}:{name}"))
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        raise InputError(
            "not a readable zip of CSV files", source=source, lv="nav nolasāms CSV failu zip arhīvs"
        ) from None
    return read_csv_files(files, source=source, limits=limits)


def read_csv_files(
    files: list[tuple[str, bytes, str]], *, source: str, limits: SheetLimits | None = None
) -> tuple[Triples, Origin]:
    """The template's sheets as ``(sheet, CSV bytes, where it comes from)``, read as one workbook (a zip's files,
    or the CLI's ``validate dir/*.csv``): a manager names a post of the posts sheet, every cell error collected."""
    limits = limits or SheetLimits()

    def fill(g: Triples, origin: Origin, problems: list[CellProblem]) -> None:
        for sheet, content, label in files:
            if sheet not in SHEETS:
                problems.append(unknown_sheet(sheet))
                continue
            if not content.strip():  # not even the heading row: as an empty sheet it would erase the sheet's data
                raise InputError(
                    "the file is empty (not even the template's heading row): give the sheet with its headings, "
                    "or leave the file out",
                    source=label,
                    lv="fails ir tukšs (nav pat veidnes virsrakstu rindas): dodiet lapu ar tās virsrakstiem vai "
                    "neiekļaujiet failu",
                )
            rows = _csv_rows(content, label)
            if len(rows) > limits.rows or any(len(r) > limits.columns for r in rows):
                raise InputError(f"{sheet}.csv has more than {limits.rows:,} rows or {limits.columns} columns")
            _rows_to_graph(source, sheet, rows, g, origin, problems)

    return _finish(source, fill)


def _csv_rows(data: bytes, source: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"the CSV is not UTF-8 (byte {data[e.start]:#04x}): save it as 'CSV UTF-8'",
            source=source,
            line=line,
            lv=f"CSV fails nav UTF-8 kodējumā (baits {data[e.start]:#04x}): saglabājiet to kā 'CSV UTF-8'",
        ) from None
    # Excel with Latvian (and most European) regional settings saves ";"-separated CSV: the header, whose column
    # names hold no separator, says which one the file uses
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as e:
        raise InputError(f"malformed CSV: {e}", source=source) from None


# the cells that name a post of the posts sheet: a mistyped id would otherwise make a post of its own, reported as
# "a post must have exactly one holder" with no cell to point at
_POST_REFERENCES = (
    PVPP.serviceManager,
    PVPP.resourceManager,
    PVPP.servicePortfolioManager,
    PVPP.resourcePortfolioManager,
)


def _unknown_posts(g: Triples, origin: Origin, problems: list[CellProblem]) -> list[CellProblem]:
    """Each manager cell naming a post the posts sheet does not have, at that cell. Only when the upload has a
    posts sheet whose rows were all read: a services CSV alone, or a refused posts row, cannot tell."""
    if "posts" not in origin.headers or any(p.sheet == "posts" for p in problems):
        return []
    posts = {s for s, p, o in g if p == RDF.type and o == ORG.Post}
    out = []
    for s, p, o in g:
        if p not in _POST_REFERENCES or o in posts or (cell := origin.cell(str(s), str(p))) is None:
            continue
        key, local = str(o).rsplit("/", 2)[-2:]
        out.append(
            CellProblem.at(
                cell,
                f"post {local!r} is not in the posts sheet (institution {key!r}): give the id of one there",
                f"amata {local!r} nav lapā posts (iestāde {key!r}): norādiet tur esoša amata identifikatoru",
                "UnknownPost",
            )
        )
    return sorted(out, key=lambda p: (p.sheet, p.row))


def did_you_mean(word: str, choices: Sequence[str], shown: str = "{!r}") -> tuple[str, str]:
    """The nearest of ``choices`` as a hint to append, in en and lv ("" when none is near); ``shown`` formats it."""
    near = difflib.get_close_matches(word, choices, n=1)
    if not near:
        return "", ""
    return f" (did you mean {shown.format(near[0])}?)", f" (varbūt {shown.format(near[0])}?)"


def unknown_institutions(triples: Iterable[Any], origin: Origin, known: frozenset[str]) -> list[CellProblem]:
    """Each cell naming an institution key the registry does not have (``cesu-novds`` for ``cesu-novads``), at
    that cell with the nearest key: otherwise the typo shows only as CPSV-AP class results on hashed nodes.
    ``triples``: the upload's, as pyoxigraph terms; ``known``: the registry's institution IRIs."""
    prefix = f"{ID}institution/"
    keys = sorted(k.removeprefix(prefix) for k in known)
    found: dict[tuple[str, int, str | None, int | None], str] = {}
    for t in triples:
        s, p, o = t.subject.value, t.predicate.value, t.object
        if isinstance(o, ox.NamedNode) and o.value.startswith(prefix) and o.value not in known:
            cell = origin.cell(s, p)
            if cell is not None:
                found.setdefault(cell, o.value.removeprefix(prefix))
        if s.startswith(prefix) and s not in known and origin.rows.get(s, ("",))[0] == "institutions":
            cell = origin.cell(s, None)
            if cell is not None:
                found.setdefault(cell, s.removeprefix(prefix))
    out = []
    for cell, key in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        hint_en, hint_lv = did_you_mean(key, keys)
        out.append(
            CellProblem.at(
                cell,
                f"institution {key!r} is not in the registry of institutions{hint_en}",
                f"iestādes {key!r} nav iestāžu reģistrā{hint_lv}",
                "UnknownInstitution",
            )
        )
    return out


def unknown_needs(triples: Iterable[Any], origin: Origin, described: frozenset[str]) -> list[CellProblem]:
    """Each services cell naming a need nobody describes (not in the needs sheet, the reference data or the
    stored data read beside the upload), at that cell with the nearest described need: a need is shared by every
    institution, so no rule of the stored data's checks it, and a typo would otherwise pass (``need/statistikas-datii``
    for ``statistikas-dati``)."""
    prefix = f"{ID}need/"
    ids = sorted(n.removeprefix(prefix) for n in described)
    found: dict[tuple[str, int, str | None, int | None], list[str]] = {}
    for t in triples:
        o = t.object
        if t.predicate.value == str(PVPP.satisfiesNeed) and isinstance(o, ox.NamedNode) and o.value not in described:
            cell = origin.cell(t.subject.value, t.predicate.value)
            if cell is not None and o.value.startswith(prefix):
                found.setdefault(cell, []).append(o.value.removeprefix(prefix))
    out = []
    for cell, names in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for name in sorted(names):
            hint_en, hint_lv = did_you_mean(name, ids)
            out.append(
                CellProblem.at(
                    cell,
                    f"need {name!r} is described neither in the needs sheet nor in the stored data{hint_en}",
                    f"vajadzība {name!r} nav aprakstīta ne vajadzību lapā, ne glabātajos datos{hint_lv}",
                    "UnknownNeed",
                )
            )
    return out


def _finish(source: str, fill: Any) -> tuple[Triples, Origin]:
    g, origin, problems = Triples(), Origin(), []
    fill(g, origin, problems)
    problems += _unknown_posts(g, origin, problems)
    if problems:
        raise SheetErrors(problems, source, (g, origin))
    return g, origin


@dataclass(frozen=True)
class SheetLimits:
    """What one workbook may hold, checked before and while it is read (settings ``max_sheet_*``)."""

    inflated_bytes: int = 64 * 1024 * 1024
    rows: int = 100_000
    columns: int = 64
    cells: int = 1_000_000
    members: int = 500

    @classmethod
    def of(cls, settings: Settings) -> SheetLimits:
        return cls(settings.max_inflated_bytes, settings.max_sheet_rows, cells=settings.max_sheet_cells)


_MACROS = ("xl/vbaproject.bin", "xl/macrosheets/", "xl/activex/")


def _check_package(data: bytes, limits: SheetLimits, source: str) -> None:
    """The zip package before any XML is parsed: a bomb, a nested archive or macros are refused unread."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InputError(
            "not a readable XLSX workbook (the file is not a zip package)",
            source=source,
            lv="nav nolasāma XLSX darbgrāmata (fails nav zip pakete)",
        ) from None
    if len(members) > limits.members:
        raise InputError(f"the workbook has {len(members)} parts; at most {limits.members} are read", source=source)
    inflated = sum(m.file_size for m in members)
    if inflated > limits.inflated_bytes:
        raise InputError(
            f"the workbook expands to {inflated:,} bytes; at most {limits.inflated_bytes:,} are read "
            "(split it, or remove empty formatted rows)",
            source=source,
        )
    for m in members:
        name = m.filename.lower()
        if name.startswith(_MACROS):
            raise InputError(
                "macro-enabled workbooks are not accepted: save it as .xlsx without macros",
                source=source,
                lv="darbgrāmatas ar makro netiek pieņemtas: saglabājiet to kā .xlsx bez makro",
            )
        if name.endswith((".zip", ".xlsx", ".xlsm", ".gz")):
            raise InputError(f"the workbook contains an archive ({m.filename}); it is not read", source=source)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for m in members:
                if m.filename.lower().endswith((".xml", ".rels", ".vml")):
                    with z.open(m) as f:
                        head = f.read(4096)
                    if b"<!DOCTYPE" in head or b"<\x00!\x00D\x00O\x00C" in head:  # UTF-8 or UTF-16 XML
                        raise InputError(
                            f"the workbook's part {m.filename} declares a DTD (entities are never expanded); "
                            "save the file again from a spreadsheet program",
                            source=source,
                        )
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, EOFError):
        raise InputError(
            "not a readable XLSX workbook (a part of the zip package is damaged)",
            source=source,
            lv="nav nolasāma XLSX darbgrāmata (zip paketes daļa ir bojāta)",
        ) from None


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _xml(z: zipfile.ZipFile, name: str) -> Any:
    """One part's XML, parsed with DTDs and entities refused (an entity bomb is not expanded)."""
    from defusedxml import ElementTree

    with z.open(name) as f:
        return ElementTree.parse(f, forbid_dtd=True)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_TIME_FORMATS = {18, 19, 20, 21, 45, 46, 47}  # Excel's built-in h:mm, h:mm:ss, [h]:mm:ss, mm:ss …
_DATE_FORMATS = {14, 15, 16, 17, 22}  # Excel's built-in d/m/yyyy, d-mmm-yy, … and m/d/yy h:mm


def _number_styles(z: zipfile.ZipFile) -> dict[int, str]:
    """The cell styles that show a number as what the clerk typed, not as it is stored: ``percent`` (98,5 % is
    stored as 0.985; built-in formats 9 and 10, or one with a % sign), ``time`` (4:00 is stored as 0.1667 of
    a day; built-in time formats, or one with hours or seconds and no year or day) and ``date`` (02.01.2025 is
    stored as the day number 45659; built-in date formats, or one with a year or a day)."""
    if "xl/styles.xml" not in z.namelist():
        return {}
    root = _xml(z, "xl/styles.xml").getroot()
    date = "date1904" if _date1904(z) else "date"
    kinds: dict[int, str] = {
        9: "percent", 10: "percent", **dict.fromkeys(_TIME_FORMATS, "time"), **dict.fromkeys(_DATE_FORMATS, date)
    }  # fmt: skip
    for f in root.iter(f"{_MAIN}numFmt"):
        # quoted text, escaped characters, locale codes and colours are not the format
        code = re.sub(r'"[^"]*"|\\.|\[(\$[^]]*|[a-z]{3,}|color\d+)\]', "", f.get("formatCode", "").lower())
        if "%" in code:
            kinds[int(f.get("numFmtId", "-1"))] = "percent"
        elif "y" in code or "d" in code:
            kinds[int(f.get("numFmtId", "-1"))] = date
        elif "h" in code or "s" in code:
            kinds[int(f.get("numFmtId", "-1"))] = "time"
    xfs = root.find(f"{_MAIN}cellXfs")
    if xfs is None:
        return {}
    found = {i: kinds.get(int(xf.get("numFmtId", "0"))) for i, xf in enumerate(xfs.iter(f"{_MAIN}xf"))}
    return {i: kind for i, kind in found.items() if kind}


def _date1904(z: zipfile.ZipFile) -> bool:
    """Does the workbook count days from 1904 (old Mac Excel) rather than from 1900?"""
    pr = _xml(z, "xl/workbook.xml").getroot().find(f"{_MAIN}workbookPr")
    return pr is not None and pr.get("date1904", "").lower() in ("1", "true")


def _shown(value: float, kind: str) -> str:
    """A number as its cell shows it: a percentage as the number before the % sign (0.985 → 98.5), a time as the
    ISO 8601 duration the template asks for (4:00 → PT4H, 48:00 → PT48H), a date as an ISO 8601 date (45659 →
    2025-01-02; with a time of day, a date-time)."""
    if kind in ("date", "date1904"):
        epoch = datetime.datetime(1904, 1, 1) if kind == "date1904" else datetime.datetime(1899, 12, 30)
        try:
            moment = epoch + datetime.timedelta(seconds=round(value * 86400))
        except OverflowError:
            return str(value)
        return moment.date().isoformat() if moment.time() == datetime.time() else moment.isoformat()
    if kind == "percent":
        shown = round(value * 100, 10)
        return str(int(shown)) if shown.is_integer() else str(shown)
    seconds = round(value * 86400)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n]
    return "PT" + ("".join(parts) or "0S")


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    """The shared strings table: each item's text runs joined (phonetic runs left out)."""
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    out = []
    for si in _xml(z, "xl/sharedStrings.xml").getroot().iter(f"{_MAIN}si"):
        t = si.find(f"{_MAIN}t")
        out.append(
            t.text or "" if t is not None else "".join(r.findtext(f"{_MAIN}t") or "" for r in si.iter(f"{_MAIN}r"))
        )
    return out


def _worksheets(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(title, part name) of each sheet in the workbook's order."""
    rels = {
        r.get("Id"): r.get("Target", "")
        for r in _xml(z, "xl/_rels/workbook.xml.rels").getroot().iter(f"{_PKG_REL}Relationship")
        if r.get("Type", "").endswith("/worksheet")  # a chart sheet holds no cells (openpyxl skipped them too)
    }
    out = []
    for sheet in _xml(z, "xl/workbook.xml").getroot().iter(f"{_MAIN}sheet"):
        if (target := rels.get(sheet.get(f"{_REL}id"))) is not None:
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            out.append((sheet.get("name", ""), part))
    return out


def _value(c: Any, shared: list[str], styles: dict[int, str] | None = None) -> str:
    """A cell's value as text, as openpyxl would give it (numbers as int or float, booleans as True/False); a
    number shown as a percentage or a time as what its cell shows (see :func:`_shown`)."""
    kind = c.get("t", "n")
    if kind == "inlineStr":
        node = c.find(f"{_MAIN}is")
        if node is None:
            return ""
        t = node.find(f"{_MAIN}t")
        return t.text or "" if t is not None else "".join(r.findtext(f"{_MAIN}t") or "" for r in node.iter(f"{_MAIN}r"))
    v = c.findtext(f"{_MAIN}v")
    if v is None:
        return ""
    if kind == "s":
        return shared[int(v)]
    if kind == "b":
        return str(v == "1")
    if kind == "n":
        if styles and (shown_as := styles.get(int(c.get("s", "0")))):
            return _shown(float(v), shown_as)
        try:
            return str(int(v))
        except ValueError:
            return str(float(v))
    return v


def _sheet_rows(
    z: zipfile.ZipFile,
    title: str,
    part: str,
    shared: list[str],
    limits: SheetLimits,
    source: str,
    styles: dict[int, str] | None = None,
) -> list[list[str]]:
    """A sheet's values, read as a stream: its declared size first, then the rows as read (a declared size can
    lie); a formula is refused where it is found."""
    from defusedxml.ElementTree import iterparse

    rows: list[list[str]] = []
    cells = 0
    with z.open(part) as f:
        for _, el in iterparse(f, events=("end",), forbid_dtd=True):
            tag = el.tag
            if tag == f"{_MAIN}dimension":
                last = el.get("ref", "").rpartition(":")[2]
                if m := _CELL_REF.match(last):
                    declared_rows, declared_columns = int(m.group(2)), _column_number(m.group(1))
                    if declared_rows > limits.rows or declared_columns > limits.columns:
                        raise InputError(
                            f"sheet {title!r} declares {declared_rows:,} rows × {declared_columns:,} columns; at "
                            f"most {limits.rows:,} rows and {limits.columns} columns are read",
                            source=source,
                        )
            elif tag == f"{_MAIN}row":
                number = int(el.get("r") or len(rows) + 1)
                if number > limits.rows:
                    raise InputError(f"sheet {title!r} has more than {limits.rows:,} rows", source=source)
                values: list[str] = []
                for c in el.iter(f"{_MAIN}c"):
                    m = _CELL_REF.match(c.get("r", ""))
                    column = _column_number(m.group(1)) if m else len(values) + 1
                    if column > limits.columns:
                        raise InputError(f"sheet {title!r} has more than {limits.columns} columns", source=source)
                    if c.find(f"{_MAIN}f") is not None:
                        raise InputError(
                            f"sheet {title!r}, row {number}, column {m.group(1) if m else column}: formulas are "
                            "not accepted; paste the values instead",
                            source=source,
                        )
                    values += [""] * (column - 1 - len(values))
                    values.append(_value(c, shared, styles))
                rows += [[] for _ in range(number - 1 - len(rows))]  # the empty rows a sheet leaves out
                rows.append(values)
                cells += len(values)
                if cells > limits.cells:
                    raise InputError(f"the workbook has more than {limits.cells:,} cells", source=source)
                el.clear()
    return rows


def xlsx_to_graph(data: bytes, *, source: str = "upload.xlsx", limits: SheetLimits | None = None) -> Graph:
    return _graph(read_xlsx(data, source=source, limits=limits)[0])


def read_xlsx(data: bytes, *, source: str = "upload.xlsx", limits: SheetLimits | None = None) -> tuple[Triples, Origin]:
    """Every known sheet of the workbook; an unknown sheet is reported (a typo would silently drop data), the
    template's own sheets (``about``, ``lists``) are skipped. Every layout and cell problem is collected
    (:class:`SheetErrors`). The sheets' XML is read directly as a stream, with DTDs refused: openpyxl's reader
    took 0.3 s of the 1,000-service workbook's 0.5 s parse (benchmarks/submission.py)."""
    limits = limits or SheetLimits()
    _check_package(data, limits, source)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        shared = _shared_strings(z)
        sheets = _worksheets(z)
        styles = _number_styles(z)
    except InputError:
        raise
    except Exception:  # a missing part, bad XML or a DTD: all mean the same to the person uploading it
        raise InputError(
            "not a readable XLSX workbook (a part of it is not valid spreadsheet XML)", source=source
        ) from None

    def fill(g: Triples, origin: Origin, problems: list[CellProblem]) -> None:
        for title, part in sheets:
            if title in AUX_SHEETS:
                continue
            if title not in SHEETS:
                problems.append(unknown_sheet(title))
                continue
            try:
                rows = _sheet_rows(z, title, part, shared, limits, source, styles)
            except InputError:
                raise
            except Exception:
                raise InputError(f"sheet {title!r} is not valid spreadsheet XML", source=source) from None
            _rows_to_graph(source, title, rows, g, origin, problems)

    try:
        return _finish(source, fill)
    finally:
        z.close()


# -- writing ----------------------------------------------------------------------------------------------------

Rows = dict[str, list[dict[str, str]]]


def write_workbook(path: Path, rows: Rows | None = None) -> None:
    """The template workbook (``template.build_workbook``: lv/en header rows, drop-downs, the ``about`` sheet)."""
    from pvpp_kg.validation.template import build_workbook

    path.write_bytes(build_workbook(PROJECT_ROOT / "data" / "reference", rows))


def write_csvs(directory: Path, rows: Rows | None = None) -> list[Path]:
    out = []
    for sheet, columns in SHEETS.items():
        path = directory / f"{sheet}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=[c.name for c in columns])
            w.writeheader()
            for row in (rows or {}).get(sheet, []):
                w.writerow({c.name: row.get(c.name, "") for c in columns})
        out.append(path)
    return out


def write_template(directory: Path) -> list[Path]:
    """``pvpp-template.xlsx`` and one empty CSV per sheet."""
    directory.mkdir(parents=True, exist_ok=True)
    xlsx = directory / "pvpp-template.xlsx"
    write_workbook(xlsx)
    return [xlsx, *write_csvs(directory)]
