"""Validation reports: one row per result with its messages in lv and en, and the report's renderings
(JSON, the standard SHACL report graph, text, HTML)."""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from pvpp_kg import shacl
from pvpp_kg.namespaces import ID, LANGS, PREFIXES, PVPP, SH
from pvpp_kg.shacl.terms import to_rdflib
from pvpp_kg.templating import TEMPLATES, plural
from pvpp_kg.validation.spreadsheet import did_you_mean

READING_RULE = Namespace(f"{ID}reading-rule/")  # the rules an upload is read by (ontology/report.ttl)


@dataclass(frozen=True)
class Result:
    focus: str
    path: str | None
    severity: str  # Violation | Warning | Info
    message: str
    messages: dict[str, str]
    value: str | None
    shape: str
    component: str
    layer: str
    sheet: str | None = None  # where a spreadsheet upload's cell is (None: RDF, or no cell made the node)
    row: int | None = None
    column: str | None = None
    column_number: int | None = None
    unnamed: bool = False  # the shape is a blank node: its label differs from one process to the next
    language: str | None = None  # the one language the result is about (its value's, or the one its rule asks for)
    engine: shacl.Result | None = field(default=None, compare=False, repr=False)  # the same, as the engine's

    @property
    def rule(self) -> str:
        """What counts as one rule: a named shape, or a constraint on a path of an unnamed one."""
        if self.layer in ("cpsv-ap", "sheet") or self.unnamed or not self.shape:
            return f"{self.component} {_short(self.path) if self.path else ''}".strip()
        return _short(self.shape)

    @property
    def cell(self) -> str | None:
        if self.sheet is None:
            return None
        return (
            f"{self.sheet}!{_letter(self.column_number)}{self.row}"
            if self.column_number
            else f"{self.sheet}!{self.row}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "focusNode": self.focus,
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
            "sourceShape": self.shape,
            "constraint": self.component,
            "layer": self.layer,
            "rule": self.rule,
            "messages": self.messages,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
        }


@dataclass
class Report:
    conforms: bool
    results: list[Result]
    lang: str
    triples: int = 0
    shapes: dict[Node, tuple[Any, ...]] = field(default_factory=dict, repr=False)  # blank-node shapes' triples

    @property
    def engine_results(self) -> list[shacl.Result]:
        """The engine's results of the policy's rules, as the standard report holds them (no spreadsheet ones)."""
        return [r.engine for r in self.results if r.engine is not None]

    @cached_property
    def graph(self) -> Graph:
        """The SHACL validation report (sh:ValidationReport with every result, messages in lv and en). A result
        at a spreadsheet cell says where (pvpp:sheet, pvpp:row, pvpp:column, pvpp:cell); a cell or sheet that
        could not be read is a result of its reading rule (``READING_RULE``), its focus node the cell's name."""
        engine = shacl.Report([], shapes=self.shapes)
        g = engine.graph()
        root = next(g.subjects(RDF.type, SH.ValidationReport))
        g.set((root, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            if r.engine is not None:
                node = engine.add(g, r.engine)
            elif r.layer in ("sheet", "vocabulary"):
                node = _reading_result(g, r)
            else:
                continue  # a result read back without the engine's (none is made so today)
            g.add((root, SH.result, node))
            if r.sheet is not None:
                g.add((node, PVPP.sheet, Literal(r.sheet)))
                g.add((node, PVPP.cell, Literal(r.cell)))
                if r.row is not None:
                    g.add((node, PVPP.row, Literal(r.row, datatype=XSD.positiveInteger)))
                if r.column is not None:
                    g.add((node, PVPP.column, Literal(r.column)))
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        return g

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def rule_counts(self) -> list[tuple[str, str, str, str, int]]:
        """(layer, rule, severity, a message, how many results) per rule, most frequent first."""
        counts: dict[tuple[str, str, str], list[Any]] = {}
        for r in self.results:
            # a spreadsheet's checks per column: a wrong kind and a wrong role are two rows, not one "CellValue"
            rule = f"{r.rule} {r.sheet}.{r.column}" if r.layer == "sheet" and r.column else r.rule
            key = (r.layer, rule, r.severity)
            counts.setdefault(key, [r.message, 0])[1] += 1
        rows = [(layer, rule, sev, msg, n) for (layer, rule, sev), (msg, n) in counts.items()]
        return sorted(rows, key=lambda x: (_SEVERITY_ORDER.get(x[2], 9), -x[4], x[0], x[1]))

    def layer_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            out.setdefault(r.layer, {}).setdefault(r.severity, 0)
            out[r.layer][r.severity] += 1
        return out

    def located(self, origin: Any) -> Report:
        """The same report with each result pointed at its spreadsheet cell where a row made the node."""
        if origin is None:
            return self
        results = []
        for r in self.results:
            cell = origin.cell(r.focus, r.path, r.language)
            if cell is not None:
                sheet, row, column, number = cell
                r = dataclasses.replace(r, sheet=sheet, row=row, column=column, column_number=number)
            results.append(r)
        return dataclasses.replace(self, results=results)

    def in_language(self, lang: str) -> Report:
        """The same report read in ``lang``: each result's shown message in it."""
        results = [dataclasses.replace(r, message=r.messages.get(lang, r.message)) for r in self.results]
        return dataclasses.replace(self, results=results, lang=lang)

    def by_focus(self) -> dict[str, list[Result]]:
        out: dict[str, list[Result]] = {}
        for r in self.results:
            out.setdefault(r.focus, []).append(r)
        return out


def report_from(found: list[tuple[str, shacl.ShapesGraph, shacl.Report]], lang: str, triples: int) -> Report:
    """The engine's reports as one: results with messages in both languages, violations first."""
    results: list[Result] = []
    shapes: dict[Node, tuple[Any, ...]] = {}
    for layer, engine, report in found:
        for r in report.results:
            results.append(_result(r, engine.g, lang, layer))
            for node in (r.shape, r.constraint):  # a blank node is otherwise "[ ]": which property, which rule?
                if node is not None and node not in shapes:
                    shapes[node] = shacl.shape_description(engine.g, node)
    order = sorted(
        range(len(results)),
        key=lambda i: (
            _SEVERITY_ORDER.get(results[i].severity, 9),
            results[i].focus,
            results[i].path or "",
            results[i].message,
        ),
    )
    results = [results[i] for i in order]
    conforms = not any(r.severity == "Violation" for r in results)
    return Report(conforms, results, lang, triples, {s: t for s, t in shapes.items() if t})


_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
SEVERITY_LABELS = {
    "lv": {"Violation": "Pārkāpums", "Warning": "Brīdinājums", "Info": "Informācija"},
    "en": {"Violation": "Violation", "Warning": "Warning", "Info": "Info"},
}


def severity_label(severity: str, lang: str) -> str:
    return SEVERITY_LABELS.get(lang, SEVERITY_LABELS["en"]).get(severity, severity)


def _letter(number: int | None) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number) if number else ""


def with_rules(sheet: Report, rules: Report) -> Report:
    """A spreadsheet's refused cells and the policy's rules on the rows that could be read, as one report: the
    person filling it sees every problem in one pass, not the rules only after the cells are fixed. A rule's
    result at a refused cell, or about the node of a row left unread, follows from the refusal and is left out."""
    refused = {(r.sheet, r.row, r.column) for r in sheet.results if r.column is not None}
    unread = {r.focus for r in sheet.results if r.focus}  # nodes of rows left unread: what names them follows
    kept = [
        r
        for r in rules.results
        if (r.sheet is None or (r.sheet, r.row, r.column) not in refused)
        and r.focus not in unread
        and r.value not in unread
    ]
    return Report(False, sheet.results + kept, rules.lang, rules.triples, rules.shapes)


def vocabulary_results(triples: Any, terms: frozenset[str], lang: str) -> list[Result]:
    """A warning for each term of the PVPP namespace an upload uses that the ontology does not define (a
    mistyped ``pvpp:serviceManger`` would be stored as it is and read by no rule), with the nearest term."""
    ns = str(PVPP)
    used: dict[str, tuple[str, str]] = {}  # term → (a node that uses it, as property or class)
    for t in triples:
        p, o = t.predicate.value, t.object
        if p.startswith(ns) and p not in terms:
            used.setdefault(p, (t.subject.value, p))
        if p == str(RDF.type) and o.value.startswith(ns) and o.value not in terms:
            used.setdefault(o.value, (t.subject.value, p))
    names = sorted(t.removeprefix(ns) for t in terms)
    out = []
    for term, (focus, path) in sorted(used.items()):
        local = term.removeprefix(ns)
        hint_en, hint_lv = did_you_mean(local, names, "pvpp:{}")
        messages = {
            "en": f"pvpp:{local} is not a term of the PVPP ontology{hint_en}: no rule reads it",
            "lv": f"pvpp:{local} nav PVPP ontoloģijas termins{hint_lv}: neviens noteikums to nelasa",
        }
        out.append(
            Result(
                focus,
                path,
                "Warning",
                messages.get(lang, messages["en"]),
                messages,
                term,
                "",
                "UnknownTerm",
                "vocabulary",
            )
        )
    return out


def with_vocabulary(report: Report, unknown: list[Result]) -> Report:
    """The report with the warnings about terms the ontology does not define (they do not change conformance)."""
    return dataclasses.replace(report, results=report.results + unknown)


def _reading_result(g: Graph, r: Result) -> BNode:
    """What the reading of an upload found, as a sh:ValidationResult of the reading rule it broke: a cell or sheet
    that could not be read has no data node, so its focus node is the cell's name (a literal, as SHACL allows); an
    undefined term's is the node that uses it."""
    n, rule = BNode(), READING_RULE[r.component]
    g.add((n, RDF.type, SH.ValidationResult))
    g.add((n, SH.focusNode, URIRef(r.focus) if r.layer == "vocabulary" else Literal(r.cell or "")))
    if r.path is not None:
        g.add((n, SH.resultPath, URIRef(r.path)))
    g.add((n, SH.resultSeverity, SH[r.severity]))
    g.add((n, SH.sourceConstraintComponent, rule))
    g.add((rule, RDF.type, SH.ConstraintComponent))
    for lang, text in r.messages.items():
        g.add((n, SH.resultMessage, _message_literal(text, lang)))
    return n


def sheet_report(problems: list[Any], lang: str) -> Report:
    """What of a spreadsheet upload could not be read, as a report (layer ``sheet``), every one: unknown sheets,
    unknown and missing columns (rules UnknownSheet, UnknownColumn, MissingColumn), refused cells (CellValue),
    filled cells right of the last heading (BeyondHeader), an id a row of the same sheet already used
    (DuplicateId), manager cells naming no post of the posts sheet (UnknownPost) and institution keys neither the
    registry nor the store knows (UnknownInstitution)."""
    results = [
        Result(
            focus=p.node or "",  # the node of a row left unread, else none: a sheet's layout has no node
            path=None,
            severity="Violation",
            message=p.messages.get(lang, p.messages["en"]),
            messages=dict(p.messages),
            value=None,
            shape="",
            component=p.kind,
            layer="sheet",
            sheet=p.sheet,
            row=p.row,
            column=p.column,
            column_number=p.column_number,
        )
        for p in problems
    ]
    return Report(False, results, lang, 0)


# messages for the CPSV-AP shapes, which carry none: by constraint component, in both languages
_COMPONENT_MESSAGES = {
    "MinCountConstraintComponent": ("Trūkst obligātas vērtības: {path}.", "A required value is missing: {path}."),
    "MinLengthConstraintComponent": (
        "Vērtība {value} ir par īsu ({path}).",
        "The value {value} is too short ({path}).",
    ),
    "MaxLengthConstraintComponent": (
        "Vērtība {value} ir par garu ({path}).",
        "The value {value} is too long ({path}).",
    ),
    "PatternConstraintComponent": (
        "Vērtība {value} neatbilst prasītajam pierakstam ({path}).",
        "The value {value} does not match the required pattern ({path}).",
    ),
    "InConstraintComponent": (
        "Vērtība {value} nav starp atļautajām ({path}).",
        "The value {value} is not one of the allowed values ({path}).",
    ),
    "HasValueConstraintComponent": ("Trūkst prasītās vērtības ({path}).", "The required value is missing ({path})."),
    "LanguageInConstraintComponent": (
        "Vērtībai {value} ir neatļauta valoda ({path}).",
        "The value {value} has a language that is not allowed ({path}).",
    ),
    "UniqueLangConstraintComponent": (
        "Vairākas vērtības vienā valodā ({path}).",
        "More than one value in the same language ({path}).",
    ),
    "NodeConstraintComponent": (
        "Vērtība {value} neatbilst prasītajai formai ({path}).",
        "The value {value} does not have the required shape ({path}).",
    ),
    "ClosedConstraintComponent": (
        "Īpašība {path} šeit nav atļauta.",
        "The property {path} is not allowed here.",
    ),
    "MaxCountConstraintComponent": ("Pārāk daudz vērtību: {path}.", "Too many values: {path}."),
    "ClassConstraintComponent": (
        "Vērtība {value} nav prasītās klases ({path}).",
        "The value {value} is not of the required class ({path}).",
    ),
    "DatatypeConstraintComponent": (
        "Vērtībai {value} ir nepareizs datu tips ({path}).",
        "The value {value} has the wrong datatype ({path}).",
    ),
    "NodeKindConstraintComponent": (
        "Vērtībai {value} ir nepareizs mezgla veids ({path}).",
        "The value {value} has the wrong node kind ({path}).",
    ),
}


_OTHER_MESSAGES = {
    "cpsv-ap": ("Neatbilst CPSV-AP prasībai ({path}).", "Does not meet a CPSV-AP requirement ({path})."),
    "custom": ("Neatbilst formas prasībai ({path}).", "Does not meet a requirement of the shape ({path})."),
}


def _short(node: Any) -> str:
    text = str(node)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns):
            return f"{prefix}:{text[len(ns) :]}"
    return text


@lru_cache(maxsize=4096)
def _shape_messages(shapes: Graph, shape: Node) -> dict[str, str]:
    """A shape's own sh:message (or its SPARQL constraint's), by language."""
    found: dict[str, str] = {}
    for node in (shape, *shapes.objects(shape, SH.sparql)):
        for m in shapes.objects(node, SH.message):
            if isinstance(m, Literal) and m.language in LANGS:
                found[m.language] = str(m)
    return found


@lru_cache(maxsize=4096)
def _language_of(shapes: Graph, shape: Node) -> str | None:
    """The one language a shape asks for (``sh:languageIn`` of one, on it or on its qualified value shape)."""
    for node in (shape, *shapes.objects(shape, SH.qualifiedValueShape)):
        for head in shapes.objects(node, SH.languageIn):
            langs = list(shapes.items(head))
            if len(langs) == 1:
                return str(langs[0])
    return None


@lru_cache(maxsize=4096)
def _shape_name(shapes: Graph, shape: Node, lang: str) -> str | None:
    """A property shape's sh:name in ``lang`` (CPSV-AP names each of its properties in English; the validator
    adds the Latvian names of ``shapes/cpsv-ap-names-lv.ttl``), for a message a person can read."""
    found = {n.language: str(n) for n in shapes.objects(shape, SH.name) if isinstance(n, Literal)}
    return found.get(lang) or (found.get("en") or found.get(None) if lang == "en" else None)


def _result(r: shacl.Result, shapes: Graph, lang: str, layer: str) -> Result:
    """One result with messages in both languages; its engine's result carries the same messages."""
    component = str(r.component).rsplit("#", 1)[-1]
    given = {m.language or "": str(m) for m in r.messages}  # the engine's, templates filled in
    messages = {key: text for key, text in given.items() if key in LANGS}
    path = r.path.node if isinstance(r.path, shacl.Path) else r.path
    value = None if r.value is None else to_rdflib(r.value)
    for key, text in _shape_messages(shapes, r.shape).items():  # a SPARQL constraint may carry only some
        messages.setdefault(key, text)
    if "" in given:  # a message without a language is every language's
        messages.setdefault("lv", given[""])
        messages.setdefault("en", given[""])
    if not {"lv", "en"} <= messages.keys():
        lv, en = _COMPONENT_MESSAGES.get(component, _OTHER_MESSAGES.get(layer, _OTHER_MESSAGES["custom"]))
        shown = r.path.sparql if isinstance(r.path, shacl.Path) and not isinstance(path, URIRef) else path
        short = _short(shown) if shown is not None else "—"
        shown_value = _short(value) if value is not None else "—"

        def fill(lang: str) -> dict[str, str]:
            name = _shape_name(shapes, r.shape, lang)
            return {"path": f"{name} ({short})" if name and name != short else short, "value": shown_value}

        # never the engine's own English text ("Less than 1 values on …"): the component's message in both
        messages.setdefault("lv", lv.format(**fill("lv")))
        messages.setdefault("en", en.format(**fill("en")))
    # the standard report keeps every message the shape gives, as given, and adds lv/en only where it gives none
    added = () if "" in given else tuple(_message_literal(messages[k], k) for k in LANGS if k not in given)
    return Result(
        focus=str(to_rdflib(r.focus)),
        path=str(path) if isinstance(path, URIRef) else (None if path is None else _path_text(r.path)),
        severity=str(r.severity).rsplit("#", 1)[-1],
        message=messages.get(lang, ""),
        messages=messages,
        value=None if value is None else str(value),
        shape=str(r.shape),
        unnamed=isinstance(r.shape, BNode),
        language=value.language if isinstance(value, Literal) and value.language else _language_of(shapes, r.shape),
        component=component,
        layer=layer,
        engine=dataclasses.replace(r, messages=(*r.messages, *added)),
    )


def _path_text(path: Any) -> str:
    """A path of more than one predicate in SPARQL's property-path syntax, prefixed where the project has a
    prefix ("cv:hasParticipant/pvpp:validUntil"): what a reader of the report recognises."""
    if not isinstance(path, shacl.Path):
        return str(path)
    text = re.sub(r"<([^<>]*)>", lambda m: _short(m[1]) if _short(m[1]) != m[1] else m[0], path.sparql)
    depth = 0
    for i, ch in enumerate(text):  # the outer parentheses the compiled path carries, when they close at the end
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return text[1:-1] if text.startswith("(") and i == len(text) - 1 else text
    return text


@lru_cache(maxsize=4096)
def _message_literal(text: str, lang: str) -> Literal:
    """A message literal, made once per text: a report repeats a few messages thousands of times."""
    return Literal(text, lang=lang)


def report_json(report: Report) -> dict[str, Any]:
    return {
        "conforms": report.conforms,
        "lang": report.lang,
        "triples": report.triples,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "infos": report.count("Info"),
        "layers": report.layer_counts(),
        "rules": [
            {"layer": layer, "rule": rule, "severity": sev, "message": msg, "count": n}
            for layer, rule, sev, msg, n in report.rule_counts()
        ],
        "results": [r.to_json() for r in report.results],
    }


def report_rdf(report: Report, fmt: str = "turtle") -> str:
    """The SHACL validation report graph (``turtle`` or ``json-ld``)."""
    return report.graph.serialize(format=fmt)


CSV_COLUMNS = (
    "severity",
    "layer",
    "rule",
    "sheet",
    "row",
    "column",
    "focus",
    "path",
    "value",
    "message_lv",
    "message_en",
)


def report_csv(report: Report) -> str:
    """One line per result (severity in the report's language), for a spreadsheet or a ticket system."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in report.results:
        w.writerow(
            (
                severity_label(r.severity, report.lang),
                r.layer,
                r.rule,
                r.sheet or "",
                r.row or "",
                r.column or "",
                r.focus,
                r.path or "",
                r.value or "",
                r.messages.get("lv", ""),
                r.messages.get("en", ""),
            )
        )
    return out.getvalue()


def report_text(report: Report) -> str:
    head = {
        "lv": ("atbilst", "neatbilst", "pārkāpums|pārkāpumi", "brīdinājums|brīdinājumi"),
        "en": ("conforms", "does not conform", "violation|violations", "warning|warnings"),
    }[report.lang]
    errors, warnings = report.count("Violation"), report.count("Warning")
    lines = [
        f"{head[0] if report.conforms else head[1]}: {errors} {plural(errors, report.lang, head[2])}, "
        f"{warnings} {plural(warnings, report.lang, head[3])}"
    ]
    for r in report.results:
        about = " ".join(x for x in (r.cell, _short(r.focus) if r.focus else "", _short(r.path) if r.path else "") if x)
        lines.append(f"{severity_label(r.severity, report.lang):<11} {about}: {r.message}")
    return "\n".join(lines) + "\n"


@lru_cache
def _jinja() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.globals["url_for"] = lambda name, path="": f"/static/{path}"
    env.filters["short"] = _short
    env.globals["plural"] = plural
    return env


def _local(iri: str) -> str | None:
    """The site path of an IRI this site serves (``/id/…``), else None."""
    base = PREFIXES["pvppid"]
    return "/id/" + iri[len(base) :] if iri.startswith(base) else None


def report_html(report: Report, links: dict[str, str] | None = None) -> str:
    """The report page; ``links``: downloads of this report (format → URL) and the fix-it workbook (``fixit``)."""
    return (
        _jinja()
        .get_template("validation_report.html")
        .render(
            report=report,
            lang=report.lang,
            escape=html.escape,
            links=links or {},
            severity=lambda s: severity_label(s, report.lang),
            local=_local,
        )
    )
