"""The spreadsheet template: written by ``pvpp-kg template``, read back as RDF, errors point at sheet/row/column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from rdflib.compare import isomorphic

from pvpp_kg.errors import InputError
from pvpp_kg.settings import Settings
from pvpp_kg.validation.parse import Document, parse_document
from pvpp_kg.validation.spreadsheet import (
    SHEETS,
    Triples,
    csv_to_graph,
    write_csvs,
    write_template,
    write_workbook,
    xlsx_to_graph,
)
from pvpp_kg.validation.validator import validator_for

ROWS = {
    "institutions": [{"key": "lm", "service_portfolio_manager": "ipks", "resource_portfolio_manager": "irks"}],
    "posts": [
        {
            "institution": "lm",
            "id": "ipks",
            "label_lv": "Pakalpojumu kopuma vadītājs",
            "label_en": "Service portfolio manager",
            "role": "IPKS",
            "holder": "t-1",
        },
        {
            "institution": "lm",
            "id": "irks",
            "label_lv": "Resursu kopuma vadītājs",
            "label_en": "Resource portfolio manager",
            "role": "IRKS",
            "holder": "t-2",
        },
        {
            "institution": "lm",
            "id": "pv",
            "label_lv": "Pakalpojuma vadītājs",
            "label_en": "Service manager",
            "role": "PS",
            "holder": "t-3",
        },
        {
            "institution": "lm",
            "id": "rv",
            "label_lv": "Resursa vadītājs",
            "label_en": "Resource manager",
            "role": "RS",
            "holder": "t-4",
        },
    ],
    "services": [
        {
            "institution": "lm",
            "id": "pabalsts",
            "kind": "individual-benefit",
            "title_lv": "Pabalsta piešķiršana",
            "title_en": "Granting of a benefit",
            "description_lv": "Pabalsts iedzīvotājiem.",
            "manager": "pv",
            "providers": "lm",
            "recipients": "residents; entrepreneurs",
            "needs": "gimenes-atbalsts",
            "resources": "sistema",
            "complexity": "simple",
            "life_situations": "22503",
            "sources": "https://www.vsaa.gov.lv/lv/pakalpojumi",
            "note_lv": "Piemērs (izdomāts)",
            "note_en": "Example (invented)",
            "illustrative": "true",
        },
        {
            "institution": "lm",
            "id": "datu-apmaina",
            "kind": "individual-use",
            "title_lv": "Datu apmaiņa",
            "title_en": "Data exchange",
            "description_lv": "Datu apmaiņa ar Rīgu.",
            "manager": "pv",
            "recipients": "riga",
            "needs": "gimenes-atbalsts",
        },
    ],
    "resources": [
        {
            "institution": "lm",
            "id": "sistema",
            "type": "digital-technology",
            "label_lv": "Pabalstu sistēma",
            "label_en": "Benefit system",
            "manager": "rv",
            "users": "lm",
        },
    ],
    "participations": [{"participant": "lm", "role": "NVI", "description_lv": "LM – nozares vadošā iestāde"}],
    "slas": [
        {
            "institution": "lm",
            "id": "pabalsts-sla",
            "service": "pabalsts",
            "label_lv": "SLA: Pabalsta piešķiršana",
            "service_hours": "Darba dienās 8:30–17:00",
            "availability_target": "99.5",
            "reaction_time": "PT4H",
            "resolution_time": "P2D",
            "illustrative": "true",
        }
    ],
    "needs": [{"id": "gimenes-atbalsts", "label_lv": "Ģimenes atbalsts", "label_en": "Family support"}],
    "life_situations": [
        {
            "id": "22503",
            "title_lv": "Bērna piedzimšana",
            "title_en": "Birth of a child",
            "label_lv": "Bērna piedzimšana",
            "source": "https://latvija.gov.lv/LifeSituations/22503",
        }
    ],
}


def test_template_has_one_sheet_per_entity(tmp_path: Path) -> None:
    paths = write_template(tmp_path)
    wb = load_workbook(paths[0])
    assert wb.sheetnames == ["about", "institutions", "posts", "services", "resources", "participations", "slas",
                             "needs", "life_situations", "lists"]  # fmt: skip
    assert wb["lists"].sheet_state == "hidden"
    for sheet, columns in SHEETS.items():
        assert [c.value for c in wb[sheet][1]] == [c.name for c in columns]
        assert wb[sheet].freeze_panes == "A4"
    # the names in lv and en under the machine names, and the drop-downs from the reference vocabularies
    assert [c.value for c in wb["services"][2]][:4] == ["Īpašniece iestāde", "Pakalpojuma identifikators",
                                                        "Pakalpojuma veids", "Nosaukums latviski"]  # fmt: skip
    assert wb["services"]["C3"].value == "Service kind"
    lists = {wb["lists"].cell(1, c).value: [wb["lists"].cell(r, c).value for r in range(2, wb["lists"].max_row + 1)]
             for c in range(1, wb["lists"].max_column + 1)}  # fmt: skip
    assert [v for v in lists["service-kinds"] if v] == ["general-benefit", "individual-benefit", "individual-use",
                                                        "shared"]  # fmt: skip
    assert [v for v in lists["roles"] if v] == ["IPKS", "IRKS", "NVI", "PS", "PSa", "PSn", "PVI", "RL", "RS", "VVI"]
    [kind] = [dv for dv in wb["services"].data_validations.dataValidation if "C4" in str(dv.sqref)]
    assert kind.type == "list" and kind.formula1 == "'lists'!$B$2:$B$5"
    about = {(r[0].value, r[1].value): r for r in wb["about"].iter_rows(min_row=2)}
    assert about[("services", "kind")][8].value == "individual-benefit"  # the example
    assert about[("services", "kind")][4].value == "✓"
    # what each column holds, in Latvian first (the template's users are Latvian institutions), and in English
    assert about[("services", "manager")][5].value.startswith("pakalpojuma vadītāja amata identifikators")
    assert about[("services", "manager")][6].value.startswith("post id of the service manager")
    comment = wb["services"].cell(1, 8).comment.text
    assert comment.startswith("pakalpojuma vadītāja amata identifikators (Pakalpojuma vadītājs) (obligāts")
    assert "post id of the service manager" in comment
    for sheet, columns in SHEETS.items():
        header = next(csv.reader((tmp_path / f"{sheet}.csv").open(encoding="utf-8")))
        assert header == [c.name for c in columns]


def test_round_trip_xlsx_and_csv_give_the_same_graph(tmp_path: Path, settings: Settings) -> None:
    write_workbook(tmp_path / "filled.xlsx", ROWS)
    from_xlsx = xlsx_to_graph((tmp_path / "filled.xlsx").read_bytes())
    wb = load_workbook(tmp_path / "filled.xlsx")
    for sheet, rows in ROWS.items():  # the cells read back are the rows written
        header = [c.value for c in wb[sheet][1]]
        read = [{h: v for h, v in zip(header, (c.value for c in r), strict=True) if v} for r in wb[sheet].iter_rows(4)]
        assert read == [{k: v for k, v in row.items() if v} for row in rows]
    from_csv = type(from_xlsx)()
    for path in write_csvs(tmp_path, ROWS):
        from_csv += csv_to_graph(path.read_bytes(), sheet=path.stem, source=path.name)
    assert len(from_xlsx) > 40 and isomorphic(from_xlsx, from_csv)
    report = validator_for(settings).validate(Document.of_graph(from_xlsx))
    assert report.conforms, [r.to_json() for r in report.results]


def _csv(sheet: str, rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=[c.name for c in SHEETS[sheet]])
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("sheet", "change", "column", "row"),
    [
        ("services", {"kind": "publisks"}, "kind", 2),
        ("services", {"title_lv": ""}, "title_lv", 2),
        ("posts", {"role": "BOSS"}, "role", 3),
        ("resources", {"id": "Ne Derīgs"}, "id", 2),
    ],
)
def test_errors_name_sheet_row_column(sheet: str, change: dict[str, str], column: str, row: int) -> None:
    rows = [dict(r) for r in ROWS[sheet]]
    rows[row - 2].update(change)
    with pytest.raises(InputError) as e:
        csv_to_graph(_csv(sheet, rows), sheet=sheet, source=f"{sheet}.csv")
    col = [c.name for c in SHEETS[sheet]].index(column) + 1
    assert e.value.line == row and e.value.column == col
    assert f"sheet {sheet}, row {row}, column {column}" in e.value.message


def test_unknown_column_sheet_and_broken_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown column 'colour'"):
        csv_to_graph(b"institution,id,colour\nlm,x,red\n", sheet="services")
    with pytest.raises(InputError, match="name the sheet"):
        csv_to_graph(b"a,b\n", sheet=None)
    with pytest.raises(InputError, match="not a readable XLSX"):
        xlsx_to_graph(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="sheet services, row 1, column kind: the required column 'kind'"):
        parse_document(b"institution,id\nlm,x\n", media_type="text/csv", filename="services.csv")


def test_every_cell_error_in_one_pass_and_rows_point_at_cells() -> None:
    """Three mistakes in two sheets: one upload names all three, each with sheet, row and column, in lv and en."""
    from pvpp_kg.validation.spreadsheet import SheetErrors, read_csv

    services = [dict(r) for r in ROWS["services"]]
    services[0].update({"kind": "publisks", "title_lv": ""})
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("services", services), sheet="services", source="services.csv")
    found = [(p.sheet, p.row, p.column, p.column_number) for p in e.value.problems]
    cols = [c.name for c in SHEETS["services"]]
    # every bad cell of the row, though the row cannot be made without its kind (one pass, not one per fix)
    assert found == [
        ("services", 2, "kind", cols.index("kind") + 1),
        ("services", 2, "title_lv", cols.index("title_lv") + 1),
    ]
    first, second = ROWS["services"][:2]
    two = [{**first, "kind": "publisks"}, {**second, "manager": "Ne Derīgs"}]
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("services", two), sheet="services", source="services.csv")
    assert [(p.row, p.column) for p in e.value.problems] == [(2, "kind"), (3, "manager")]
    assert e.value.problems[0].messages["lv"].startswith("'publisks' nav neviena no atļautajām vērtībām")
    assert "and 1 more" in e.value.message
    graph, origin = read_csv(_csv("services", ROWS["services"]), sheet="services")
    service = next(iter(origin.rows))
    assert origin.rows[service] == ("services", 2)
    assert origin.cell(service, "http://purl.org/dc/terms/title") == (
        "services",
        2,
        "title_lv",
        cols.index("title_lv") + 1,
    )
    assert origin.cell(service, None) == ("services", 2, "id", 2)


def _with_shared_strings(data: bytes) -> bytes:
    """The workbook as Excel writes it: every text cell a shared string (one of them in two rich-text runs with a
    phonetic run, which is not part of the text), instead of openpyxl's inline strings."""
    import re
    import zipfile

    strings: list[str] = []

    def shared(m: re.Match[bytes]) -> bytes:
        strings.append(m.group(2).decode("utf-8"))
        return m.group(1).replace(b' t="inlineStr"', b' t="s"') + b"<v>" + str(len(strings) - 1).encode() + b"</v></c>"

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                body = re.sub(rb'(<c [^>]*t="inlineStr"[^>]*>)<is><t>([^<]*)</t></is></c>', shared, body)
            elif item.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            dst.writestr(item, body)
        items = []
        for text in strings:
            escaped = text.replace("&", "&amp;").replace("<", "&lt;")
            if text == "Pabalsta piešķiršana":  # rich text: two runs and a phonetic run
                items.append("<si><r><t>Pabalsta </t></r><r><rPr><b/></rPr><t>piešķiršana</t></r>"
                             "<rPh sb=\"0\" eb=\"1\"><t>x</t></rPh></si>")  # fmt: skip
            else:
                items.append(f'<si><t xml:space="preserve">{escaped}</t></si>')
        sst = (
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(items)}" uniqueCount="{len(items)}">{"".join(items)}</sst>'
        )
        dst.writestr("xl/sharedStrings.xml", sst.encode("utf-8"))
    return out.getvalue()


def test_a_workbook_of_shared_strings_reads_as_the_same_data(tmp_path: Path, client: object) -> None:
    write_workbook(tmp_path / "filled.xlsx", ROWS)
    inline = (tmp_path / "filled.xlsx").read_bytes()
    shared = _with_shared_strings(inline)
    assert b"xl/sharedStrings.xml" in shared and b"inlineStr" not in shared
    assert isomorphic(xlsx_to_graph(inline), xlsx_to_graph(shared))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    answers = [
        client.post(  # type: ignore[attr-defined]
            "/validate", files={"file": ("x.xlsx", body, xlsx)}, headers={"Accept": "application/json"}
        ).json()
        for body in (inline, shared)
    ]
    assert answers[0]["triples"] == answers[1]["triples"] > 40
    assert [r["message"] for r in answers[0]["results"]] == [r["message"] for r in answers[1]["results"]]


def test_semicolon_csv_as_excel_saves_it_in_latvia(tmp_path: Path, client: object) -> None:
    """Excel with Latvian regional settings saves CSV separated by ``;`` (values with commas as they are): read
    as the same rows as the comma-separated file, through the function and through ``/validate``."""
    from_commas, from_semicolons = Triples(), Triples()
    for path in write_csvs(tmp_path, ROWS):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        out = io.StringIO()
        csv.writer(out, delimiter=";").writerows(rows)
        semicolons = out.getvalue().encode("utf-8-sig")  # and with the BOM Excel writes
        assert b";" in semicolons.splitlines()[0]
        from_commas += csv_to_graph(path.read_bytes(), sheet=path.stem, source=path.name)
        from_semicolons += csv_to_graph(semicolons, sheet=path.stem, source=path.name)
        if path.stem == "services":
            r = client.post(  # type: ignore[attr-defined]
                "/validate",
                files={"file": ("services.csv", semicolons, "text/csv")},
                headers={"Accept": "application/json"},
            )
            assert r.status_code == 200, r.text
            # read as written: no cell refused (the sheet alone names a need of the needs sheet it is not given)
            read = [x for x in r.json()["results"] if x["layer"] == "sheet" and x["constraint"] != "UnknownNeed"]
            assert not read, read[:3]
    assert len(from_commas) > 40 and isomorphic(from_commas, from_semicolons)


def test_a_manager_naming_no_post_is_that_cell_and_a_decimal_comma_is_a_number(tmp_path: Path) -> None:
    """A mistyped post id in a manager cell is reported at that cell ("post 'nosuchpost' is not in the posts
    sheet"), not as a made-up post without a holder; ``99,5`` is the number Latvian writes, read as 99.5."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    from pvpp_kg.validation.spreadsheet import SheetErrors, read_xlsx

    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    rows["slas"][0]["availability_target"] = "99,5"
    good = tmp_path / "good.xlsx"
    write_workbook(good, rows)
    triples, origin = read_xlsx(good.read_bytes())
    sla = URIRef("https://w3id.org/pvpp/id/sla/lm/pabalsts-sla")
    target = URIRef("https://w3id.org/pvpp/ontology#availabilityTarget")
    assert (sla, target, Literal("99.5", datatype=XSD.decimal)) in triples
    service = "https://w3id.org/pvpp/id/service/lm/datu-apmaina"
    row = origin.rows[service][1]
    rows["services"][1]["manager"] = "nosuchpost"
    rows["institutions"][0]["resource_portfolio_manager"] = "irk"
    bad = tmp_path / "bad.xlsx"
    write_workbook(bad, rows)
    with pytest.raises(SheetErrors) as e:
        read_xlsx(bad.read_bytes())
    found = [(p.sheet, p.row, p.column, p.kind) for p in e.value.problems]
    assert found == [
        (
            "institutions",
            origin.rows["https://w3id.org/pvpp/id/institution/lm"][1],
            "resource_portfolio_manager",
            "UnknownPost",
        ),
        ("services", row, "manager", "UnknownPost"),
    ]
    assert e.value.problems[1].messages["en"].startswith("post 'nosuchpost' is not in the posts sheet")
    assert e.value.problems[1].messages["lv"].startswith("amata 'nosuchpost' nav lapā posts")
    # a services sheet alone cannot tell: its managers may be posts the institution already has
    assert len(csv_to_graph(_csv("services", rows["services"]), sheet="services")) > 0


def test_a_filled_cell_right_of_the_last_heading_is_reported_not_dropped(client: object) -> None:
    """A value in a column without a heading would be lost without a word: it is that cell's problem (lv/en), and
    the row is read without it (dropped, its node would raise phantom results elsewhere); empty trailing cells
    (Excel's ";;" at the end of a row) are no problem."""
    from pvpp_kg.validation.spreadsheet import SheetErrors

    data = _csv("services", ROWS["services"]).decode().splitlines()
    columns = len(SHEETS["services"])
    data[1] += ",stray value"  # row 2: one cell more than the header has headings
    data[2] += ",,"  # row 3: two empty cells more, as spreadsheets save them
    body = ("\n".join(data) + "\n").encode()
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(body, sheet="services", source="services.csv")
    letter = get_column_letter(columns + 1)
    assert [(p.row, p.column_number, p.kind) for p in e.value.problems] == [(2, columns + 1, "BeyondHeader")]
    assert e.value.problems[0].messages["en"].startswith(f"cell {letter}2 is filled, but the sheet has headings for")
    assert e.value.problems[0].messages["lv"].startswith(f"šūna {letter}2 ir aizpildīta")
    read, origin = e.value.read
    first = next(n for n, (sheet, row) in origin.rows.items() if (sheet, row) == ("services", 2))
    assert first.endswith("/service/lm/" + ROWS["services"][0]["id"]) and any(str(t[0]) == first for t in read)
    r = client.post(  # type: ignore[attr-defined]
        "/validate", files={"file": ("services.csv", body, "text/csv")}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    sheet = [x for x in r.json()["results"] if x["layer"] == "sheet" and x["constraint"] != "UnknownNeed"]
    assert [(x["constraint"], x["row"]) for x in sheet] == [("BeyondHeader", 2)]  # (the needs sheet is not given)


def test_a_csv_that_is_not_utf8_names_its_line() -> None:
    """Excel's "CSV" (not "CSV UTF-8") saves Windows-1257: the error says which line and what to save instead."""
    lines = _csv("services", ROWS["services"]).splitlines()  # UTF-8, Latvian letters from row 2 on
    lines[2] = "Ģimenes pabalsts,".encode("cp1257") + lines[2]  # one line saved by another program
    body = b"\n".join(lines) + b"\n"
    with pytest.raises(InputError) as e:
        csv_to_graph(body, sheet="services", source="services.csv")
    assert (e.value.source, e.value.line) == ("services.csv", 3)
    assert "not UTF-8" in e.value.message and "CSV UTF-8" in e.value.message


def test_the_illustrative_flag_reads_ja_and_ne() -> None:
    """A Latvian clerk types jā/nē (any case, with or without the long vowel) where the template says true/false;
    anything else is that cell's error, in both languages."""
    from rdflib import Literal, URIRef

    from pvpp_kg.validation.spreadsheet import SheetErrors

    illustrative = URIRef("https://w3id.org/pvpp/ontology#illustrative")
    posts = [dict(r) for r in ROWS["posts"]]
    for typed, meant in (("Jā", True), ("ja", True), ("NĒ", False), ("ne", False), ("TRUE", True)):
        posts[0]["illustrative"] = typed
        g = csv_to_graph(_csv("posts", posts), sheet="posts", source="posts.csv")
        assert set(g.objects(None, illustrative)) == {Literal(meant)}, typed
    posts[0]["illustrative"] = "varbūt"
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("posts", posts), sheet="posts", source="posts.csv")
    assert e.value.problems[0].messages == {
        "en": "'varbūt' is not one of: true, false (or jā, nē)",
        "lv": "'varbūt' nav ne jā, ne nē (true, false)",
    }


def test_an_id_used_twice_in_a_sheet_is_reported_at_the_second_row() -> None:
    """Two service rows with one id would merge into one service with two titles per language: the second row
    is that cell's problem (lv/en), naming the first row; its facts are not merged in."""
    from pvpp_kg.validation.spreadsheet import SheetErrors

    services = [dict(r) for r in ROWS["services"]]
    services[1]["id"] = services[0]["id"]
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("services", services), sheet="services", source="services.csv")
    cols = [c.name for c in SHEETS["services"]]
    assert [(p.row, p.column, p.column_number, p.kind) for p in e.value.problems] == [
        (3, "id", cols.index("id") + 1, "DuplicateId")
    ]
    assert e.value.problems[0].messages["en"].startswith("this id is already used in row 2 of the sheet")
    assert e.value.problems[0].messages["lv"].startswith("šis id jau ir lapas 2. rindā")
    titles = {o for s, p, o in e.value.read[0] if str(p) == "http://purl.org/dc/terms/title"}
    assert len(titles) == 2  # the first row's lv and en titles only


def test_a_result_on_an_entailed_super_property_points_at_its_column(tmp_path: Path) -> None:
    """CPSV-AP checks cv:isGroupedBy, which the ontology entails from the life_situations column's
    pvpp:lifeSituation: an unknown life situation is reported at that column, not at the row's id. The columns'
    super-properties in data/template/columns.csv are exactly what the ontology entails."""
    from rdflib import RDFS, Graph, URIRef

    from pvpp_kg.namespaces import PREFIXES
    from pvpp_kg.validation.spreadsheet import column_table

    ontology = Graph()
    for f in (Path(__file__).parents[2] / "ontology").glob("*.ttl"):
        ontology.parse(f)
    for sheet, columns in column_table().items():
        for column, row in columns.items():
            if not row["property"] or row["property"].startswith("^"):  # an inverse: the other node states it
                continue
            first, *listed = row["property"].split()
            prefix, _, local = first.partition(":")
            iri = URIRef(PREFIXES[prefix] + local)
            entailed = {str(o) for o in ontology.transitive_objects(iri, RDFS.subPropertyOf) if o != iri}
            named = {PREFIXES[c.partition(":")[0]] + c.partition(":")[2] for c in listed}
            assert named == entailed, (sheet, column)
    services = [dict(r) for r in ROWS["services"]]
    services[0]["life_situations"] = "99999"
    path = tmp_path / "services.csv"
    path.write_bytes(_csv("services", services))
    settings = Settings(include_sample=False, data_dir=tmp_path / "store")
    document = parse_document(path.read_bytes(), filename="services.csv")
    report = validator_for(settings).validate(document).located(document.origin)
    grouped = [r for r in report.results if r.path == "http://data.europa.eu/m8g/isGroupedBy"]
    assert [(r.sheet, r.row, r.column) for r in grouped] == [("services", 2, "life_situations")]


def test_a_percentage_cell_reads_as_the_number_shown(tmp_path: Path) -> None:
    """Excel stores 98,5 % as 0.985 with a percent format: the availability target is the 98.5 the clerk typed,
    not 0.985 %; a plain 99.5 stays 99.5."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    from pvpp_kg.validation.spreadsheet import read_xlsx, write_workbook

    book = tmp_path / "lm.xlsx"
    write_workbook(book, {k: [dict(r) for r in v] for k, v in ROWS.items()})
    wb = load_workbook(book)
    ws = wb["slas"]
    header = [c.value for c in ws[1]]
    column = header.index("availability_target") + 1
    typed = str(ROWS["slas"][0]["availability_target"])
    cell = next(c for (c,) in ws.iter_rows(min_col=column, max_col=column) if str(c.value) == typed)
    cell.value, cell.number_format = 0.985, "0.0%"
    wb.save(book)
    triples, _ = read_xlsx(book.read_bytes())
    target = URIRef("https://w3id.org/pvpp/ontology#availabilityTarget")
    targets = {o for _, p, o in triples if p == target}
    assert Literal("98.5", datatype=XSD.decimal) in targets and Literal("0.985", datatype=XSD.decimal) not in targets


def test_an_institution_key_the_registry_lacks_is_reported_at_its_cell(client: object) -> None:
    """A mistyped key ("lmm" for "lm") is that cell's problem with the nearest registry key, in lv and en, over
    HTTP as on the command line, instead of showing only as class results on hashed participation nodes."""
    services = [dict(r) for r in ROWS["services"]]
    services[0]["institution"] = "lmm"
    body = _csv("services", services)
    r = client.post(  # type: ignore[attr-defined]
        "/validate", files={"file": ("services.csv", body, "text/csv")}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    unknown = [x for x in r.json()["results"] if x["constraint"] == "UnknownInstitution"]
    assert [(x["sheet"], x["row"], x["column"]) for x in unknown] == [("services", 2, "institution")]
    assert unknown[0]["messages"] == {
        "en": "institution 'lmm' is not in the registry of institutions (did you mean 'lm'?)",
        "lv": "iestādes 'lmm' nav iestāžu reģistrā (varbūt 'lm'?)",
    }
    assert not r.json()["conforms"]
    fine = client.post(  # type: ignore[attr-defined]
        "/validate",
        files={"file": ("services.csv", _csv("services", ROWS["services"]), "text/csv")},
        headers={"Accept": "application/json"},
    )
    assert not [x for x in fine.json()["results"] if x["constraint"] == "UnknownInstitution"]


def test_a_time_cell_reads_as_the_iso_duration_it_shows(tmp_path: Path) -> None:
    """Excel stores 4:00 as 0.1667 of a day: a reaction time typed as a time is the ISO 8601 duration the column
    asks for (PT4H; 48:00 in an [h]:mm cell PT48H; 1:30 PT1H30M), not the float."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    from pvpp_kg.validation.spreadsheet import read_xlsx, write_workbook

    book = tmp_path / "lm.xlsx"
    write_workbook(book, {k: [dict(r) for r in v] for k, v in ROWS.items()})
    wb = load_workbook(book)
    ws = wb["slas"]
    header = [c.value for c in ws[1]]
    for name, typed, fmt in (("reaction_time", 4 / 24, "h:mm"), ("resolution_time", 2.0, "[h]:mm")):
        column = header.index(name) + 1
        cell = next(c for (c,) in ws.iter_rows(min_col=column, max_col=column) if c.value == ROWS["slas"][0][name])
        cell.value, cell.number_format = typed, fmt
    wb.save(book)
    triples, _ = read_xlsx(book.read_bytes())
    times = {str(p).rsplit("#", 1)[1]: o for _, p, o in triples if str(p).endswith(("reactionTime", "resolutionTime"))}
    assert times == {
        "reactionTime": Literal("PT4H", datatype=XSD.duration),
        "resolutionTime": Literal("PT48H", datatype=XSD.duration),
    }
    from pvpp_kg.validation.spreadsheet import _shown

    assert (_shown(1.5 / 24, "time"), _shown(0.985, "percent"), _shown(0.0, "time")) == ("PT1H30M", "98.5", "PT0S")


def test_the_templates_lists_offer_every_code_the_reader_takes() -> None:
    """Excel refuses a value its list does not offer: the function column's list has all seven functions (the
    two broader ones, administrative and no-external-need, were left out as non-leaves)."""
    from pvpp_kg.validation.spreadsheet import FUNCTIONS, KINDS
    from pvpp_kg.validation.template import build_workbook

    wb = load_workbook(io.BytesIO(build_workbook(Path("data/reference").resolve())))
    lists = wb["lists"]
    columns = {col[0].value: {c.value for c in col[1:] if c.value} for col in lists.iter_cols()}
    assert columns["non-service-functions"] == set(FUNCTIONS)
    assert columns["service-kinds"] == set(KINDS)  # not the broader "public"
    function_column = next(c.column_letter for c in wb["services"][1] if c.value == "function")
    ranges = [dv.formula1 for dv in wb["services"].data_validations.dataValidation
              if any(str(r).startswith(function_column + "4") for r in dv.sqref.ranges)]  # fmt: skip
    assert ranges and ranges[0].endswith(f"${len(FUNCTIONS) + 1}")


def test_two_values_in_a_one_value_cell_say_so() -> None:
    """Two managers in the manager cell are "one value, not a list", not "not a valid id"; an id with a Latvian
    letter is told which letters an id takes (it said "lowercase letters", which ā is)."""
    from pvpp_kg.validation.spreadsheet import SheetErrors

    first, second = ROWS["services"][:2]
    rows = [{**first, "manager": "pv-a;pv-b"}, {**second, "id": "būvatļauja"}]
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("services", rows), sheet="services", source="services.csv")
    by_column = {p.column: p.messages for p in e.value.problems}
    assert "takes one value, not a list" in by_column["manager"]["en"]
    assert "viena vērtība, nevis saraksts" in by_column["manager"]["lv"]
    assert "a–z without diacritics" in by_column["id"]["en"] and "bez garumzīmēm" in by_column["id"]["lv"]


def test_a_holder_id_that_looks_like_a_name_is_refused() -> None:
    """The holder column takes a pseudonym (p-0042); "janis.berzins" fits the id rule but would be published as a
    person's IRI: refused at its cell, in lv and en."""
    from pvpp_kg.validation.spreadsheet import SheetErrors

    posts = [dict(r) for r in ROWS["posts"]]
    posts[0]["holder"] = "janis.berzins"
    with pytest.raises(SheetErrors) as e:
        csv_to_graph(_csv("posts", posts), sheet="posts", source="posts.csv")
    [problem] = e.value.problems
    assert (problem.sheet, problem.row, problem.column) == ("posts", 2, "holder")
    assert "looks like a name" in problem.messages["en"] and "izskatās pēc vārda" in problem.messages["lv"]
    posts[0]["holder"] = "p-0042"
    assert len(csv_to_graph(_csv("posts", posts), sheet="posts", source="posts.csv")) > 0
