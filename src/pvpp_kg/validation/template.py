"""The spreadsheet template as people get it from the site: one sheet per entity kind, the columns' names in lv and en
under the machine names, a frozen header, an example row (in the empty template; the reader skips it while it is
left unchanged), drop-down lists of the coded values taken from the reference vocabularies
(``data/reference/*.ttl``), a sheet explaining every column with an example value, and — for a signed-in
institution — its current stored data filled in (:func:`rows_from_triples`, the inverse of the reader in
``spreadsheet.py``). A CSV variant is the same sheets as a zip of CSV files.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from pvpp_kg.namespaces import CV, ID, PVPP
from pvpp_kg.validation.spreadsheet import (
    COMPLEXITY,
    FUNCTIONS,
    KINDS,
    RECIPIENT_GROUPS,
    RESOURCE_TYPES,
    SHEETS,
    Rows,
    column_table,
)

# the code lists a column may take, by the reference scheme they come from (columns.csv ``scheme``)
SCHEME_FILES = {
    "roles": "roles.ttl",
    "service-kinds": "service-kinds.ttl",
    "resource-types": "capabilities-resources.ttl",
    "non-service-functions": "non-service-functions.ttl",
    "recipient-groups": "recipient-groups.ttl",
}
_FILL = "FFF2CC"  # the label rows' background


@lru_cache(maxsize=8)
def code_lists(reference_dir: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Per scheme the concepts a cell may name (its leaves, or the codes the reader takes) as (code as written in
    the template, lv label, en label), in the order of codes: a role's code is its notation, a resource type's the
    template word for its class, any other concept's the last segment of its IRI."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    reader_codes = {
        "service-kinds": set(KINDS),
        "resource-types": set(RESOURCE_TYPES),
        "non-service-functions": set(FUNCTIONS),
        "recipient-groups": set(RECIPIENT_GROUPS),
    }
    class_words = {str(v): k for k, v in RESOURCE_TYPES.items()}
    for scheme, file in SCHEME_FILES.items():
        g = Graph().parse(reference_dir / file, format="turtle")
        scheme_iri = ID[f"scheme/{scheme}"]
        rows = []
        for concept in g.subjects(SKOS.inScheme, scheme_iri):
            if scheme not in reader_codes and (concept, SKOS.narrower, None) in g:
                continue  # only leaves are values, unless the reader says which are (a function may be broader)
            if scheme == "roles":
                notations = [str(n) for n in g.objects(concept, SKOS.notation) if not str(n)[1:].isdigit()]
                code = notations[0] if notations else str(concept).rsplit("/", 1)[-1]
            elif scheme == "resource-types":
                code = next(
                    (class_words[str(c)] for c in g.objects(concept, RDFS.seeAlso) if str(c) in class_words), ""
                )
            else:
                code = str(concept).rsplit("/", 1)[-1]
            if not code or (scheme in reader_codes and code not in reader_codes[scheme]):
                continue
            labels = {lab.language: str(lab) for lab in g.objects(concept, SKOS.prefLabel)}
            rows.append((code, labels.get("lv", code), labels.get("en", code)))
        out[scheme] = sorted(rows)
    return out


def build_workbook(reference_dir: Path, rows: Rows | None = None) -> bytes:
    """The template workbook (XLSX bytes), empty or with ``rows`` filled in from row 4."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    codes = code_lists(reference_dir)
    table = column_table()
    wb = Workbook()
    wb.remove(wb.active)
    lists = None
    list_ranges: dict[str, str] = {}
    for sheet, columns in SHEETS.items():
        ws = wb.create_sheet(sheet)
        fill = PatternFill("solid", fgColor=_FILL)
        for i, c in enumerate(columns, start=1):
            info = table[sheet][c.name]
            cell = ws.cell(row=1, column=i, value=c.name)
            cell.font = Font(bold=c.required)
            required = " (obligāts / required)" if c.required else ""
            cell.comment = Comment(f"{c.help_lv}{required}\n{c.help}", "pvpp-kg")
            for r, label in ((2, info["label_lv"]), (3, info["label_en"])):
                lab = ws.cell(row=r, column=i, value=label)
                lab.font, lab.fill = Font(italic=True), fill
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(14, len(c.name) + 2, len(info["label_lv"]) + 2)
            if scheme := info["scheme"]:
                if lists is None:
                    lists = wb.create_sheet("lists")
                if scheme not in list_ranges:
                    col = len(list_ranges) + 1
                    lists.cell(row=1, column=col, value=scheme).font = Font(bold=True)
                    for n, (code, _, _) in enumerate(codes[scheme], start=2):
                        lists.cell(row=n, column=col, value=code)
                    lcol = get_column_letter(col)
                    list_ranges[scheme] = f"{quote_sheetname('lists')}!${lcol}$2:${lcol}${len(codes[scheme]) + 1}"
                dv = DataValidation(type="list", formula1=list_ranges[scheme], allow_blank=not c.required)
                dv.errorTitle = info["label_en"]
                dv.showErrorMessage = True
                if ";-separated" in c.help:  # a list column: the codes are offered, other values allowed
                    dv.errorStyle = "information"
                    dv.error = f"Vairākas vērtības atdaliet ar ; / separate several values with ; ({scheme})"
                else:
                    dv.error = f"Izvēlieties vērtību no saraksta / choose a value from the list ({scheme})"
                ws.add_data_validation(dv)
                dv.add(f"{letter}4:{letter}5000")
        ws.freeze_panes = "A4"
        if rows is None:  # the empty template: an example row (read as no data while it is left as it is)
            grey = Font(italic=True, color="808080")
            for i, c in enumerate(columns, start=1):
                if example := table[sheet][c.name]["example"]:
                    ws.cell(row=4, column=i, value=example).font = grey
        for r, row in enumerate((rows or {}).get(sheet, []), start=4):
            for i, c in enumerate(columns, start=1):
                ws.cell(row=r, column=i, value=row.get(c.name) or None)
    _about_sheet(wb, codes)
    if lists is not None:
        lists.sheet_state = "hidden"
        wb.move_sheet("lists", offset=len(wb.sheetnames))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _about_sheet(wb: object, codes: dict[str, list[tuple[str, str, str]]]) -> None:
    """The sheet that explains every column: lv and en names, required or not, what it holds, an example."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("about", 0)  # type: ignore[attr-defined]
    head = (
        "sheet / lapa",
        "column / kolonna",
        "latviski",
        "in English",
        "required / obligāts",
        "paskaidrojums",
        "help",
        "codes / kodi",
    )
    ws.append([*head, "example / piemērs"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    table = column_table()
    for sheet, columns in SHEETS.items():
        for c in columns:
            info = table[sheet][c.name]
            allowed = ", ".join(code for code, _, _ in codes.get(info["scheme"], [])) if info["scheme"] else ""
            ws.append(
                [
                    sheet,
                    c.name,
                    info["label_lv"],
                    info["label_en"],
                    "✓" if c.required else "",
                    c.help_lv,
                    c.help,
                    allowed,
                    info["example"],
                ]  # fmt: skip
            )
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (14, 26, 30, 30, 10, 60, 60, 40, 30), strict=True):
        ws.column_dimensions[letter].width = width


def build_csv_zip(rows: Rows | None = None) -> bytes:
    """The CSV variant: one ``{sheet}.csv`` per entity (machine names, then the lv and en names), in a zip."""
    out = io.BytesIO()
    table = column_table()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for sheet, columns in SHEETS.items():
            text = io.StringIO()
            w = csv.writer(text, lineterminator="\n")
            w.writerow([c.name for c in columns])
            w.writerow([table[sheet][c.name]["label_lv"] for c in columns])
            w.writerow([table[sheet][c.name]["label_en"] for c in columns])
            if rows is None:
                w.writerow([table[sheet][c.name]["example"] for c in columns])
            for row in (rows or {}).get(sheet, []):
                w.writerow([row.get(c.name, "") for c in columns])
            z.writestr(f"{sheet}.csv", text.getvalue().encode("utf-8"))
    return out.getvalue()


# -- an institution's stored data as template rows ---------------------------------------------------------------


def _local(iri: str, prefix: str) -> str | None:
    base = str(ID) + prefix
    return iri[len(base) :] if iri.startswith(base) else None


def rows_from_triples(triples: Iterable[ox.Triple], key: str) -> Rows:
    """An institution's graph (as stored, materialised or not) as template rows: what the template can say about
    its own institution, posts, services, resources and submitted participations."""
    by: dict[str, dict[str, list[ox.Term]]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            by.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
    inst = str(ID[f"institution/{key}"])

    def values(props: dict[str, list[ox.Term]], p: URIRef) -> list[str]:
        return [o.value for o in props.get(str(p), [])]

    def text(props: dict[str, list[ox.Term]], p: URIRef, lang: str | None = None) -> str:
        for o in props.get(str(p), []):
            if isinstance(o, ox.Literal) and (lang is None or o.language == lang):
                return o.value
        return ""

    def locals_(props: dict[str, list[ox.Term]], p: URIRef, prefix: str) -> list[str]:
        return sorted(v for v in (_local(x, prefix) for x in values(props, p)) if v)

    own_post = f"post/{key}/"
    rows: Rows = {sheet: [] for sheet in SHEETS}
    props = by.get(inst, {})
    spm = locals_(props, PVPP.servicePortfolioManager, own_post)
    rpm = locals_(props, PVPP.resourcePortfolioManager, own_post)
    track = locals_(props, ORG_CLASSIFICATION, "track/")
    if spm or rpm or track:
        rows["institutions"].append(
            {
                "key": key,
                "service_portfolio_manager": ";".join(spm[:1]),
                "resource_portfolio_manager": ";".join(rpm[:1]),
                "track": ";".join(track[:1]),
            }
        )
    kinds = {str(v): k for k, v in KINDS.items()}
    types = {str(v): k for k, v in RESOURCE_TYPES.items()}
    complexities = {str(v): k for k, v in COMPLEXITY.items()}
    sla_of = {  # an agreement's service: the service names it
        sla: local
        for subject, props in by.items()
        if (local := _local(subject, f"service/{key}/"))
        for sla in values(props, PVPP.serviceLevelAgreement)
    }
    for subject in sorted(by):
        props = by[subject]
        rdf_types = values(props, RDF.type)
        if local := _local(subject, own_post):
            rows["posts"].append(
                {
                    "institution": key,
                    "id": local,
                    "label_lv": text(props, SKOS.prefLabel, "lv"),
                    "label_en": text(props, SKOS.prefLabel, "en"),
                    "role": ";".join(locals_(props, URIRef(str(ORG_ROLE)), "role/")[:1]),
                    "holder": ";".join(locals_(props, URIRef(str(ORG_HELD_BY)), "person/")[:1]),
                    "illustrative": text(props, PVPP.illustrative),
                }
            )
        elif (local := _local(subject, f"service/{key}/")) and any(t in kinds for t in rdf_types):
            recipients = [
                _local(r, "recipient-group/") or _local(r, "institution/") or "" for r in values(props, PVPP.recipient)
            ]
            resources = []
            for r in values(props, PVPP.usesResource):
                path = _local(r, "resource/") or ""
                resources.append(path[len(key) + 1 :] if path.startswith(f"{key}/") else path)
            rows["services"].append(
                {
                    "institution": key,
                    "id": local,
                    "kind": next(kinds[t] for t in rdf_types if t in kinds),
                    "title_lv": text(props, DCT_TITLE, "lv"),
                    "title_en": text(props, DCT_TITLE, "en"),
                    "description_lv": text(props, DCT_DESCRIPTION, "lv"),
                    "description_en": text(props, DCT_DESCRIPTION, "en"),
                    "manager": ";".join(locals_(props, PVPP.serviceManager, own_post)[:1]),
                    "providers": ";".join(locals_(props, PVPP.provider, "institution/")),
                    "recipients": ";".join(sorted(r for r in recipients if r)),
                    "needs": ";".join(locals_(props, PVPP.satisfiesNeed, "need/")),
                    "resources": ";".join(sorted(r for r in resources if r)),
                    "function": ";".join(locals_(props, CV.isClassifiedBy, "function/")[:1]),
                    "complexity": next((complexities[t] for t in rdf_types if t in complexities), ""),
                    "life_situations": ";".join(locals_(props, PVPP.lifeSituation, "life-situation/")),
                    "sources": ";".join(sorted(values(props, DCT_SOURCE))),
                    "note_lv": text(props, SKOS.editorialNote, "lv"),
                    "note_en": text(props, SKOS.editorialNote, "en"),
                    "illustrative": text(props, PVPP.illustrative),
                }
            )
        elif (local := _local(subject, f"resource/{key}/")) and any(t in types for t in rdf_types):
            rows["resources"].append(
                {
                    "institution": key,
                    "id": local,
                    "type": next(types[t] for t in rdf_types if t in types),
                    "label_lv": text(props, SKOS.prefLabel, "lv"),
                    "label_en": text(props, SKOS.prefLabel, "en"),
                    "description_lv": text(props, DCT_DESCRIPTION, "lv"),
                    "description_en": text(props, DCT_DESCRIPTION, "en"),
                    "manager": ";".join(locals_(props, PVPP.resourceManager, own_post)[:1]),
                    "users": ";".join(locals_(props, PVPP.resourceUser, "institution/")),
                    "illustrative": text(props, PVPP.illustrative),
                }
            )
        elif (local := _local(subject, f"sla/{key}/")) and str(PVPP.ServiceLevelAgreement) in rdf_types:
            rows["slas"].append(
                {
                    "institution": key,
                    "id": local,
                    "service": sla_of.get(subject, ""),
                    "label_lv": text(props, SKOS.prefLabel, "lv"),
                    "label_en": text(props, SKOS.prefLabel, "en"),
                    "service_hours": text(props, PVPP.serviceHours),
                    "availability_target": text(props, PVPP.availabilityTarget),
                    "reaction_time": text(props, PVPP.reactionTime),
                    "resolution_time": text(props, PVPP.resolutionTime),
                    "description_lv": text(props, DCT_DESCRIPTION, "lv"),
                    "description_en": text(props, DCT_DESCRIPTION, "en"),
                    "illustrative": text(props, PVPP.illustrative),
                }
            )
        elif (local := _local(subject, "need/")) and str(PVPP.Need) in rdf_types:
            rows["needs"].append(
                {
                    "id": local,
                    "label_lv": text(props, SKOS.prefLabel, "lv"),
                    "label_en": text(props, SKOS.prefLabel, "en"),
                    "illustrative": text(props, PVPP.illustrative),
                }
            )
        elif (local := _local(subject, "life-situation/")) and str(PVPP.LifeSituation) in rdf_types:
            rows["life_situations"].append(
                {
                    "id": local,
                    "title_lv": text(props, DCT_TITLE, "lv"),
                    "title_en": text(props, DCT_TITLE, "en"),
                    "label_lv": text(props, SKOS.prefLabel, "lv"),
                    "label_en": text(props, SKOS.prefLabel, "en"),
                    "source": ";".join(sorted(values(props, DCT_SOURCE))),
                }
            )
        elif _local(subject, "participation/submitted/") and str(PVPP.RoleParticipation) in rdf_types:
            context = values(props, PVPP.participationContext)
            rows["participations"].append(
                {
                    "participant": ";".join(locals_(props, CV.hasParticipant, "institution/")[:1]),
                    "role": ";".join(locals_(props, CV.role, "role/")[:1]),
                    "context": _local(context[0], "") or "" if context else "",
                    "description_lv": text(props, DCT_DESCRIPTION, "lv"),
                }
            )
    return rows


ORG_ROLE = URIRef("http://www.w3.org/ns/org#role")
ORG_HELD_BY = URIRef("http://www.w3.org/ns/org#heldBy")
DCT_TITLE = URIRef("http://purl.org/dc/terms/title")
DCT_DESCRIPTION = URIRef("http://purl.org/dc/terms/description")
DCT_SOURCE = URIRef("http://purl.org/dc/terms/source")
ORG_CLASSIFICATION = URIRef("http://www.w3.org/ns/org#classification")
