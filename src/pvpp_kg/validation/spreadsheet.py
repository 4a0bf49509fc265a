"""The spreadsheet template: institutions fill one sheet per entity (XLSX, or one CSV per sheet) instead of RDF.

Why a spreadsheet: most institutions keep their service list in Excel. The layout below is the single place that
knows it; every conversion error names the sheet, row and column, so the person filling it can find the cell.
Values are short local ids (``vsaa``, ``pv-gimenes-pabalsti``); lists are separated by ``;``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, SKOS

from pvpp_kg.errors import InputError
from pvpp_kg.namespaces import CV, ID, PREFIXES, PVPP
from pvpp_kg.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    required: bool = False


SHEETS: dict[str, tuple[Column, ...]] = {
    "institutions": (
        Column("key", "institution key from the registry, e.g. vsaa", True),
        Column("service_portfolio_manager", "post id of the service-portfolio manager (Pakalpojumu kopuma vadītājs)"),
        Column("resource_portfolio_manager", "post id of the resource-portfolio manager (Resursu kopuma vadītājs)"),
    ),
    "posts": (
        Column("institution", "institution key", True),
        Column("id", "post id, unique within the institution", True),
        Column("label_lv", "post name in Latvian", True),
        Column("label_en", "post name in English"),
        Column("role", "role code: VVI NVI PVI IPKS PS PSn PSa IRKS RS RL", True),
        Column("holder", "pseudonymous person id, e.g. p-0042 (no names)"),
    ),
    "services": (
        Column("institution", "owner institution key", True),
        Column("id", "service id, unique within the institution", True),
        Column("kind", "individual-benefit | general-benefit | individual-use | shared", True),
        Column("title_lv", "title in Latvian", True),
        Column("title_en", "title in English"),
        Column("description_lv", "description in Latvian", True),
        Column("description_en", "description in English"),
        Column("manager", "post id of the service manager (Pakalpojuma vadītājs)", True),
        Column("providers", "provider institution keys; ;-separated"),
        Column("recipients", "residents | entrepreneurs | society | institutions, or institution keys; ;-separated"),
        Column("needs", "need ids; ;-separated"),
        Column("resources", "resource ids (own) or institution/id; ;-separated"),
        Column("function", "only if the 'service' is a support | administrative | communication function"),
    ),
    "resources": (
        Column("institution", "owner institution key", True),
        Column("id", "resource id, unique within the institution", True),
        Column("type", "information | digital-technology", True),
        Column("label_lv", "name in Latvian", True),
        Column("label_en", "name in English"),
        Column("description_lv", "description in Latvian"),
        Column("manager", "post id of the resource manager (Resursa vadītājs)", True),
        Column("users", "user institution keys; ;-separated"),
    ),
    "participations": (
        Column("participant", "institution key", True),
        Column("role", "role code, e.g. NVI", True),
        Column("context", "what the role is about, e.g. service/vsaa/x (optional)"),
        Column("description_lv", "description in Latvian"),
    ),
}

AUX_SHEETS = ("about", "lists", "results")  # the template's explanation and code lists, fix-it results: no data
COLUMNS_CSV = PROJECT_ROOT / "data" / "template" / "columns.csv"


@lru_cache(maxsize=1)
def column_table() -> dict[str, dict[str, dict[str, str]]]:
    """``data/template/columns.csv``: per sheet and column its lv/en label, RDF property, code list and example."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    with COLUMNS_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["sheet"], {})[row["column"]] = row
    return out


def labels_of(sheet: str) -> dict[str, tuple[str, str]]:
    return {c: (r["label_lv"], r["label_en"]) for c, r in column_table().get(sheet, {}).items()}


@lru_cache(maxsize=256)
def column_for(sheet: str, path: str) -> str | None:
    """The column of ``sheet`` whose values are the property ``path`` (full IRI)."""
    for column, row in column_table().get(sheet, {}).items():
        prefix, _, local = row["property"].partition(":")
        if prefix and PREFIXES[prefix] + local == path:
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
FUNCTIONS = ("support", "administrative", "communication")
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

    @property
    def message(self) -> str:
        return self.messages["en"]


class SheetErrors(InputError):
    """Every cell of an upload that cannot be converted, found in one pass (the first one names the location)."""

    def __init__(self, problems: list[CellProblem], source: str) -> None:
        first = problems[0]
        more = (
            f" (and {len(problems) - 1} more: "
            + "; ".join(f"sheet {p.sheet}, row {p.row}, column {p.column}: {p.message}" for p in problems[1:6])
            + (" …" if len(problems) > 6 else "")
            + ")"
            if len(problems) > 1
            else ""
        )
        super().__init__(
            f"sheet {first.sheet}, row {first.row}, column {first.column}: {first.message}{more}",
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
            raise self.error(
                column,
                f"{value!r} is not a valid id (lowercase letters, digits and -)",
                f"{value!r} nav derīgs identifikators (mazie burti, cipari un -)",
            )
        return value

    def items(self, column: str, *, pattern: re.Pattern[str] = _ID) -> list[str]:
        raw = self.get(column)
        out = [v.strip() for v in raw.split(";") if v.strip()]
        for v in out:
            if not pattern.match(v):
                raise self.error(column, f"{v!r} is not a valid id", f"{v!r} nav derīgs identifikators")
        return out


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
            g.add((post, ORG.heldBy, ID[f"person/{holder}"]))
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
        return s
    if sheet == "resources":
        key, local = row.get("institution", pattern=_ID), row.get("id", pattern=_ID)
        r = ID[f"resource/{key}/{local}"]
        g.add((r, RDF.type, RESOURCE_TYPES[row.get("type", choices=tuple(RESOURCE_TYPES))]))
        g.add((r, DCTERMS.identifier, Literal(f"{key}/{local}")))
        _lit(g, r, SKOS.prefLabel, row.get("label_lv"), "lv")
        _lit(g, r, SKOS.prefLabel, row.get("label_en"), "en")
        _lit(g, r, DCTERMS.description, row.get("description_lv"), "lv")
        g.add((r, PVPP.resourceOwner, ID[f"institution/{key}"]))
        g.add((r, PVPP.resourceManager, ID[f"post/{key}/{row.get('manager', pattern=_ID)}"]))
        for u in row.items("users"):
            g.add((r, PVPP.resourceUser, ID[f"institution/{u}"]))
        return r
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

    def cell(self, focus: str, path: str | None) -> tuple[str, int, str | None, int | None] | None:
        """(sheet, row, column name, column number) of a result on ``focus`` with ``path``, if a row made it."""
        found = self.rows.get(focus)
        if found is None:
            return None
        sheet, row = found
        header = self.headers.get(sheet, [])
        column = column_for(sheet, path) if path else None
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


def _rows_to_graph(
    source: str, sheet: str, rows: list[list[str]], g: Triples, origin: Origin, problems: list[CellProblem]
) -> None:
    if not rows:
        return
    header = [h.strip() for h in rows[0]]
    known = [c.name for c in SHEETS[sheet]]
    for i, h in enumerate(header, start=1):
        if h and h not in known:
            raise InputError(
                f"sheet {sheet}, row 1, column {i}: unknown column {h!r}; expected {', '.join(known)}",
                source=source,
                line=1,
                column=i,
            )
    for c in SHEETS[sheet]:
        if c.required and c.name not in header:
            raise InputError(f"sheet {sheet}, row 1: the required column {c.name!r} is missing", source=source, line=1)
    origin.headers[sheet] = header
    for number, values in enumerate(rows[1:], start=2):
        if (number <= 3 and _is_label_row(sheet, header, values)) or (
            number == 4 and _is_example_row(sheet, header, values)
        ):
            continue
        cells = {h: (v or "").strip() for h, v in zip(header, values, strict=False) if h}
        if any(cells.values()):
            row = _Row(source, sheet, number, cells, header)
            part = Triples()
            try:
                node = _convert(row, part)  # type: ignore[arg-type]
            except _CellError as e:
                problems.append(e.problem)
                continue
            g.extend(part)
            origin.rows.setdefault(str(node), (sheet, number))


def csv_to_graph(data: bytes, *, sheet: str | None, source: str = "upload.csv") -> Graph:
    return _graph(read_csv(data, sheet=sheet, source=source)[0])


def _graph(triples: Triples) -> Graph:
    g = Graph()
    for t in triples:
        g.add(t)
    return g


def read_csv(data: bytes, *, sheet: str | None, source: str = "upload.csv") -> tuple[Triples, Origin]:
    """One sheet as CSV; ``sheet`` comes from the file name (``services.csv``) or a ``sheet`` parameter."""
    if sheet not in SHEETS:
        raise InputError(
            f"name the sheet of this CSV (file name or sheet parameter): one of {', '.join(SHEETS)}", source=source
        )
    rows = _csv_rows(data, source)
    return _finish(source, lambda g, origin, problems: _rows_to_graph(source, sheet, rows, g, origin, problems))


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
                if not name.lower().endswith(".csv") or name[:-4] not in SHEETS:
                    raise InputError(
                        f"{m.filename}: the zip holds the template's sheets as CSV files, one of: "
                        + ", ".join(f"{s}.csv" for s in SHEETS),
                        source=source,
                    )
                files.append((name[:-4], z.read(m)))
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        raise InputError("not a readable zip of CSV files", source=source) from None

    def fill(g: Triples, origin: Origin, problems: list[CellProblem]) -> None:
        for sheet, content in files:
            rows = _csv_rows(content, f"{source}:{sheet}.csv")
            if len(rows) > limits.rows or any(len(r) > limits.columns for r in rows):
                raise InputError(f"{sheet}.csv has more than {limits.rows:,} rows or {limits.columns} columns")
            _rows_to_graph(source, sheet, rows, g, origin, problems)

    return _finish(source, fill)


def _csv_rows(data: bytes, source: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"the CSV is not UTF-8: {e}", source=source) from None
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise InputError(f"malformed CSV: {e}", source=source) from None


def _finish(source: str, fill: Any) -> tuple[Triples, Origin]:
    g, origin, problems = Triples(), Origin(), []
    fill(g, origin, problems)
    if problems:
        raise SheetErrors(problems, source)
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
        raise InputError("not a readable XLSX workbook (the file is not a zip package)", source=source) from None
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
            raise InputError("macro-enabled workbooks are not accepted: save it as .xlsx without macros", source=source)
        if name.endswith((".zip", ".xlsx", ".xlsm", ".gz")):
            raise InputError(f"the workbook contains an archive ({m.filename}); it is not read", source=source)


def _sheet_rows(ws: Any, limits: SheetLimits, source: str) -> list[list[str]]:
    """A sheet's values; its declared size first, then the rows as read (a declared size can lie)."""
    declared_rows, declared_columns = ws.max_row or 0, ws.max_column or 0
    if declared_rows > limits.rows or declared_columns > limits.columns:
        raise InputError(
            f"sheet {ws.title!r} declares {declared_rows:,} rows × {declared_columns:,} columns; at most "
            f"{limits.rows:,} rows and {limits.columns} columns are read",
            source=source,
        )
    rows: list[list[str]] = []
    cells = 0
    for number, r in enumerate(ws.iter_rows(), start=1):
        if number > limits.rows or len(r) > limits.columns:
            raise InputError(
                f"sheet {ws.title!r} has more than {limits.rows:,} rows or {limits.columns} columns", source=source
            )
        cells += len(r)
        if cells > limits.cells:
            raise InputError(f"the workbook has more than {limits.cells:,} cells", source=source)
        values = []
        for c in r:
            if getattr(c, "data_type", None) == "f":
                raise InputError(
                    f"sheet {ws.title!r}, row {number}, column {getattr(c, 'column_letter', '?')}: formulas are "
                    "not accepted; paste the values instead",
                    source=source,
                )
            values.append("" if c.value is None else str(c.value))
        rows.append(values)
    return rows


def xlsx_to_graph(data: bytes, *, source: str = "upload.xlsx", limits: SheetLimits | None = None) -> Graph:
    return read_xlsx(data, source=source, limits=limits)[0]


def read_xlsx(data: bytes, *, source: str = "upload.xlsx", limits: SheetLimits | None = None) -> tuple[Graph, Origin]:
    """Every known sheet of the workbook; unknown sheets are an error (a typo would silently drop data), the
    template's own sheets (``about``, ``lists``) are skipped. Every cell error is collected (:class:`SheetErrors`)."""
    from openpyxl import load_workbook

    limits = limits or SheetLimits()
    _check_package(data, limits, source)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl reports a broken part as anything from KeyError to an XML parser's error
        raise InputError(
            "not a readable XLSX workbook (a part of it is not valid spreadsheet XML)", source=source
        ) from None

    def fill(g: Triples, origin: Origin, problems: list[CellProblem]) -> None:
        for ws in wb.worksheets:
            if ws.title in AUX_SHEETS:
                continue
            if ws.title not in SHEETS:
                raise InputError(f"unknown sheet {ws.title!r}; expected {', '.join(SHEETS)}", source=source)
            try:
                rows = _sheet_rows(ws, limits, source)
            except InputError:
                raise
            except Exception:
                raise InputError(f"sheet {ws.title!r} is not valid spreadsheet XML", source=source) from None
            _rows_to_graph(source, ws.title, rows, g, origin, problems)

    try:
        return _finish(source, fill)
    finally:
        wb.close()


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
