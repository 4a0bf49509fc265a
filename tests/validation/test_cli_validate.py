"""``pvpp-kg validate`` and ``pvpp-kg template`` through click: exit 0 conforms, 1 violations, 2 unusable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pvpp_kg.cli import main
from pvpp_kg.settings import Settings

SHAPES = Path(__file__).parents[1] / "data" / "shapes"


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PVPP_DATA_DIR", str(settings.data_dir))
    from pvpp_kg.settings import get_settings

    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(main, list(args))
    get_settings.cache_clear()


def test_conforms_exit_0(run) -> None:  # type: ignore[no-untyped-def]
    r = run("validate", str(SHAPES / "base.ttl"), "--lang", "lv")
    assert r.exit_code == 0 and r.output.startswith("atbilst: 0 pārkāpumi, 0 brīdinājumi")


def test_the_counts_agree_with_their_nouns(run) -> None:  # type: ignore[no-untyped-def]
    """One result is "1 pārkāpums" / "1 violation", not "1 pārkāpumi" / "1 violations"."""
    f = str(SHAPES / "service-title-en-missing.ttl")  # one warning, no violation
    assert run("validate", "--lang", "lv", f).output.startswith("atbilst: 0 pārkāpumi, 1 brīdinājums\n")
    assert run("validate", f).output.startswith("conforms: 0 violations, 1 warning\n")
    g = str(SHAPES / "service-portfolio-manager-missing.ttl")
    assert run("validate", "--lang", "lv", g).output.startswith("neatbilst: 1 pārkāpums, 0 brīdinājumi\n")


def test_violations_exit_1_each_format(run) -> None:  # type: ignore[no-untyped-def]
    f = str(SHAPES / "service-owner-missing.ttl")
    text = run("validate", f, "--lang", "lv")
    assert text.exit_code == 1 and "pvpp:owner" in text.output and "turētāj" in text.output
    as_json = run("validate", f, "--format", "json")
    assert as_json.exit_code == 1 and json.loads(as_json.output)["violations"] >= 1
    turtle = run("validate", f, "--format", "turtle")
    assert turtle.exit_code == 1 and "sh:ValidationReport" in turtle.output
    html = run("validate", f, "--format", "html", "--lang", "en")
    assert html.exit_code == 1 and "<table" in html.output and "service/lm/pabalsts" in html.output


def test_unusable_input_exit_2_names_file_line_column(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix x: <http://x/> .\nx:a x:b "unterminated .\n')
    r = run("validate", str(bad))
    assert r.exit_code == 2 and f"{bad}:2:" in r.output
    lv = run("validate", "--lang", "lv", str(bad))  # in the language asked, as the report would be
    assert lv.exit_code == 2 and f"{bad}:2:9: sintakses kļūda, dokumentu nevar nolasīt" in lv.output
    assert run("validate", str(tmp_path / "missing.ttl")).exit_code == 2
    odd = tmp_path / "data.pdf"
    odd.write_bytes(b"%PDF")
    assert run("validate", str(odd)).exit_code == 2


def test_shapes_nested_too_deep_exit_2_names_the_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    deep = tmp_path / "deep.ttl"
    path = "[ sh:inversePath " * 5000 + "<urn:p>" + " ]" * 5000
    deep.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        f"<urn:s> a sh:NodeShape ; sh:targetNode <urn:a> ; sh:property [ sh:path {path} ; sh:minCount 1 ] .\n"
    )
    r = run("validate", "--shapes", str(deep), "--no-policy", str(SHAPES / "base.ttl"))
    assert r.exit_code == 2 and f"{deep}: the shapes nest too deeply to be read" in r.output


def test_template_then_validate_the_csvs(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("template", "--out", str(tmp_path))
    assert r.exit_code == 0 and (tmp_path / "pvpp-template.xlsx").exists() and (tmp_path / "services.csv").exists()
    (tmp_path / "services.csv").write_text(
        (tmp_path / "services.csv").read_text() + "lm,x,publisks,Nosaukums,,Apraksts,,pv,,,,,\n"
    )
    # a refused cell is a result at its cell, beside the rules on the rows that could be read (as /validate
    # reports it), in the language asked for: exit 1, not the unusable-input exit 2
    r = run("validate", "--lang", "lv", str(tmp_path / "services.csv"))
    assert r.exit_code == 1, r.output
    # the row is left unread (its kind is required): the result names the service it would have made
    assert "Pārkāpums   services!C2 pvppid:service/lm/x: 'publisks' nav neviena no atļautajām vērtībām" in r.output
    r = run("validate", "--format", "json", str(tmp_path / "services.csv"))
    sheet = [x for x in json.loads(r.output)["results"] if x["layer"] == "sheet"]
    assert r.exit_code == 1 and [(x["sheet"], x["row"], x["column"], x["constraint"]) for x in sheet] == [
        ("services", 2, "kind", "CellValue")
    ]


def test_a_workbooks_results_name_their_cells_on_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As over HTTP: a result on a row of the template names its sheet, row and column."""
    from pvpp_kg.validation.spreadsheet import write_workbook
    from tests.validation.test_spreadsheet import ROWS

    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    rows["posts"][2]["holder"] = ""  # the service manager's post: nobody holds it
    book = tmp_path / "lm.xlsx"
    write_workbook(book, rows)
    r = run("validate", "--format", "json", str(book))
    assert r.exit_code == 1, r.output
    found = [(x["sheet"], x["row"], x["column"]) for x in json.loads(r.output)["results"]]
    assert ("posts", 6, "holder") in found


def test_the_shacl_report_of_a_spreadsheet_holds_its_cells(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Turtle report holds what the text report says: a refused cell is a result of its reading rule (its
    focus node the cell's name), and a rule's result on a readable row says which cell it is about."""
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import RDF, SH, XSD

    pvpp = "https://w3id.org/pvpp/ontology#"
    assert run("template", "--out", str(tmp_path)).exit_code == 0
    with (tmp_path / "posts.csv").open("a") as f:
        f.write("lm,p1,Vadītājs,Manager,PS,,\n")
    with (tmp_path / "services.csv").open("a") as f:
        f.write("lm,x,individual-benefit,Nosaukums,,Apraksts,,p1,,,,,,,,,,,\n")  # no English title: a warning
        f.write("lm,y,publisks,Nosaukums,,Apraksts,,p1,,,,,,,,,,,\n")  # not a kind: the cell is refused
    files = [str(tmp_path / f"{name}.csv") for name in ("posts", "services")]
    text = run("validate", *files)
    r = run("validate", "--format", "turtle", *files)
    assert r.exit_code == 1 == text.exit_code, r.output
    g = Graph().parse(data=r.output, format="turtle")
    results = list(g.subjects(RDF.type, SH.ValidationResult))
    assert len(results) == len(text.output.strip().splitlines()) - 1 == 4  # the text report's lines but its first

    def located(node: object) -> tuple[object, ...]:
        return tuple(g.value(node, URIRef(pvpp + p)) for p in ("sheet", "row", "column", "cell"))

    (refused,) = g.subjects(SH.sourceConstraintComponent, URIRef("https://w3id.org/pvpp/id/reading-rule/CellValue"))
    assert g.value(refused, SH.focusNode) == Literal("services!C3")
    assert located(refused) == (
        Literal("services"),
        Literal(3, datatype=XSD.positiveInteger),
        Literal("kind"),
        Literal("services!C3"),
    )
    assert {m.language for m in g.objects(refused, SH.resultMessage)} == {"lv", "en"}
    assert (URIRef("https://w3id.org/pvpp/id/reading-rule/CellValue"), RDF.type, SH.ConstraintComponent) in g
    service = URIRef("https://w3id.org/pvpp/id/service/lm/x")
    (no_english,) = (
        n
        for n in g.subjects(SH.focusNode, service)
        if g.value(n, SH.resultSeverity) == SH.Warning
        and g.value(n, SH.resultPath) == URIRef("http://purl.org/dc/terms/title")
    )
    assert located(no_english)[2:] == (Literal("title_en"), Literal("services!E2"))


def test_bad_settings_and_unusable_paths_exit_2_naming_them(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad PVPP_* value or a path that cannot be written is one line and exit 2, never a traceback."""
    from pvpp_kg.settings import get_settings

    monkeypatch.setenv("PVPP_PORT", "abc")
    get_settings.cache_clear()
    r = run("stats")
    assert r.exit_code == 2 and "PVPP_PORT" in r.output and "Traceback" not in r.output
    monkeypatch.delenv("PVPP_PORT")
    get_settings.cache_clear()
    afile = tmp_path / "a-file"
    afile.write_text("x")
    r = run("generate", "--out", str(afile / "x.nq"), "--quiet")
    assert r.exit_code == 2 and str(afile) in r.output and "Traceback" not in r.output
    r = run("serve", "--port", "99999")
    assert r.exit_code == 2 and "99999 is not in the range" in r.output


def test_a_generated_dataset_validates_and_a_bad_one_names_its_line(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    """``generate`` writes N-Quads, and ``validate`` reads them (the graphs as one): the injected violations are
    found; malformed N-Quads exit 2 naming the file and line."""
    out = tmp_path / "tiny.nq"
    assert run("generate", "--out", str(out), "--violations", "0.05", "--quiet").exit_code == 0
    r = run("validate", "--format", "json", str(out))
    assert r.exit_code == 1 and json.loads(r.output)["violations"] > 0
    bad = tmp_path / "bad.nq"
    bad.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> .\n")
    r = run("validate", str(bad))
    assert r.exit_code == 2 and str(bad) in r.output and "line 2" in r.output


def test_serve_refuses_an_unreadable_tokens_file_in_one_line(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pvpp_kg.settings import get_settings

    monkeypatch.setenv("PVPP_INSTITUTION_TOKENS_FILE", str(tmp_path / "missing.json"))
    get_settings.cache_clear()
    r = run("serve", "--port", "8099")
    assert r.exit_code == 2 and "cannot read institution tokens" in r.output and "Traceback" not in r.output


def test_store_gives_the_context_post_validate_has(run) -> None:  # type: ignore[no-untyped-def]
    """VARAM's sample file groups a service under two life situations that another institution's sample file
    describes: alone they are of no known class (exit 1, those two values); with --store the file is read with
    the stored data it links to, as POST /validate reads it, and conforms."""
    f = str(Path(__file__).parents[2] / "data" / "sample" / "varam.ttl")
    alone = run("validate", "--format", "json", f)
    assert alone.exit_code == 1, alone.output
    found = sorted((r["focusNode"], r["path"], r["value"]) for r in json.loads(alone.output)["results"])
    svc, path = (
        "https://w3id.org/pvpp/id/service/varam/vpvkac-klientu-apkalposana",
        "http://data.europa.eu/m8g/isGroupedBy",
    )
    assert found == [(svc, path, f"https://w3id.org/pvpp/id/life-situation/{n}") for n in ("22291", "22503")]
    stored = run("validate", "--store", f)
    assert stored.exit_code == 0 and stored.output.startswith("conforms"), stored.output
    both = run("validate", "--store", "--no-policy", "--shapes", str(SHAPES / "base.ttl"), f)
    assert both.exit_code == 2 and "--no-policy validates the files alone" in both.output


def test_the_templates_csv_files_are_read_together_as_one_workbook(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``validate dir/*.csv`` reads the sheets as a zip of them is read: results keep sheet, row and column, a
    manager is checked against the posts sheet of the other file, and a sheet left empty is no error."""
    import zipfile

    from pvpp_kg.validation.spreadsheet import write_csvs
    from tests.validation.test_spreadsheet import ROWS

    # participations.csv: the header only (the needs the services name are described in needs.csv)
    rows = {k: [dict(r) for r in v] for k, v in ROWS.items() if k != "participations"}
    rows["services"][1]["manager"] = "nosuchpost"
    rows["services"][1]["title_en"] = ""  # a warning on the row, at its cell
    paths = write_csvs(tmp_path, rows)
    r = run("validate", "--format", "json", *map(str, paths))
    assert r.exit_code == 1, r.output
    results = json.loads(r.output)["results"]
    unknown = [x for x in results if x["constraint"] == "UnknownPost"]
    assert [(x["sheet"], x["row"], x["column"]) for x in unknown] == [("services", 3, "manager")]
    service = "https://w3id.org/pvpp/id/service/lm/" + ROWS["services"][1]["id"]
    on_service = [x for x in results if x["focusNode"] == service]
    assert on_service and all(x["sheet"] == "services" and x["row"] == 3 for x in on_service), on_service
    # the rule on the manager cell the reader refused is its consequence, left out; the title's is there
    assert {x["column"] for x in on_service} == {"title_en"}, on_service
    with zipfile.ZipFile(tmp_path / "sheets.zip", "w") as z:
        for p in paths:
            z.write(p, p.name)
    zipped = run("validate", "--format", "json", str(tmp_path / "sheets.zip"))
    assert json.loads(zipped.output)["results"] == results
    rows["services"][1]["manager"] = ROWS["services"][1]["manager"]
    rows["services"][1]["title_en"] = ROWS["services"][1]["title_en"]
    assert run("validate", *map(str, write_csvs(tmp_path, rows))).exit_code == 0


def test_a_file_of_another_kind_is_named_by_its_extension(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file has an extension, not a media type: the error lists the extensions validate reads (exit 2)."""
    ods = tmp_path / "dati.ods"
    ods.write_bytes(b"PK\x03\x04 an OpenDocument spreadsheet")
    r = run("validate", str(ods))
    assert r.exit_code == 2
    assert f"{ods}: cannot read .ods files; validate reads .ttl, .nt," in r.output and ".nq, .trig" in r.output


def test_an_id_naming_nothing_described_is_a_violation(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A mistyped id of the institution's own resource or service names a node nobody describes: each is a
    violation on the node that names it (before, the resource passed silently, and an agreement for a mistyped
    service made an empty service node). A need is shared by every institution: a need id is not checked."""
    sample = Path(__file__).parents[2] / "data" / "sample" / "csp.ttl"
    text = sample.read_text(encoding="utf-8")
    sla = "    pvpp:serviceLevelAgreement <sla/csp/oficialas-statistikas-publicesana> ."
    assert text.count(sla) == 1 and text.count("<need/statistikas-dati> ;") == 2
    typo = text.replace("<need/statistikas-dati> ;", "<need/statistikas-datii> ;", 1).replace(
        "<resource/csp/statistikas-datubaze> ;", "<resource/csp/statistikas-datubaz> ;", 1
    )
    typo = typo.replace(sla, "    pvpp:owner <institution/csp> .\n<service/csp/typo> " + sla.strip())
    data = tmp_path / "csp.ttl"
    data.write_text(typo, encoding="utf-8")
    r = run("validate", "--format", "json", str(data))
    assert r.exit_code == 1, r.output
    found = sorted(
        (x["focusNode"].rsplit("/id/", 1)[1], x["path"], x["value"]) for x in json.loads(r.output)["results"]
    )
    assert found == [
        (
            "service/csp/oficialas-statistikas-publicesana",
            "https://w3id.org/pvpp/ontology#usesResource",
            "https://w3id.org/pvpp/id/resource/csp/statistikas-datubaz",
        ),
        (
            "sla/csp/oficialas-statistikas-publicesana",
            "^pvpp:serviceLevelAgreement",
            "https://w3id.org/pvpp/id/service/csp/typo",
        ),
    ]
    assert run("validate", str(sample)).exit_code == 0


def test_a_byte_order_mark_is_read_past_and_an_empty_sheet_file_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Turtle saved by Windows Notepad starts with a UTF-8 byte-order mark: it is read as the same document
    (it was "\\ufeff is not a valid subject"). A sheet's CSV without even its heading row is unusable input, as an
    empty single file is: read as an empty sheet, a submission would erase that sheet's data."""
    sample = Path(__file__).parents[2] / "data" / "sample" / "csp.ttl"
    marked = tmp_path / "csp.ttl"
    marked.write_bytes(b"\xef\xbb\xbf" + sample.read_bytes())
    r = run("validate", str(marked))
    assert r.exit_code == 0 and r.output.startswith("conforms: 0 violations"), r.output
    assert run("template", "--out", str(tmp_path)).exit_code == 0
    (tmp_path / "services.csv").write_bytes(b"")
    files = sorted(str(p) for p in tmp_path.glob("*.csv"))
    r = run("validate", *files)
    assert r.exit_code == 2 and f"{tmp_path / 'services.csv'}: the file is empty" in r.output, r.output


def test_decomposed_latvian_text_is_read_as_nfc(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Text pasted in Unicode's decomposed form (a + combining macron) is the same text: a document keeps every
    literal in NFC, so the rules compare it as the policy writes it — here a title that begins with another
    service's title (criterion 4) is found though one of the two was typed decomposed."""
    import unicodedata

    short, long = "Pārskatu iesniegšana", "Pārskatu iesniegšana elektroniski"
    assert unicodedata.normalize("NFD", long) != long
    data = tmp_path / "two.ttl"
    data.write_text(
        "@prefix pvpp: <https://w3id.org/pvpp/ontology#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        "@base <https://w3id.org/pvpp/id/> .\n"
        f'<service/csp/a> a pvpp:SharedService ; pvpp:owner <institution/csp> ; dct:title "{short}"@lv .\n'
        f"<service/csp/b> a pvpp:SharedService ; pvpp:owner <institution/csp> ; "
        f'dct:title "{unicodedata.normalize("NFD", long)}"@lv .\n',
        encoding="utf-8",
    )
    r = run("validate", "--format", "json", str(data))
    variant = [x for x in json.loads(r.output)["results"] if x["sourceShape"].endswith("#VariantOrStepShape")]
    assert [(x["focusNode"].rsplit("/", 1)[1], x["value"].rsplit("/", 1)[1]) for x in variant] == [("b", "a")]


def test_a_date_typed_into_a_duration_cell_is_quoted_as_a_date(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Excel stores 02.01.2025 as the day number 45659: the refusal quotes the date the cell shows (as ISO 8601),
    not the number the clerk never saw."""
    import datetime

    from openpyxl import load_workbook

    from pvpp_kg.validation.spreadsheet import write_workbook
    from tests.validation.test_spreadsheet import ROWS

    book = tmp_path / "lm.xlsx"
    write_workbook(book, {k: [dict(r) for r in v] for k, v in ROWS.items()})
    wb = load_workbook(book)
    ws = wb["slas"]
    column = [c.value for c in ws[1]].index("reaction_time") + 1
    cell = next(
        c for (c,) in ws.iter_rows(min_col=column, max_col=column) if c.value == ROWS["slas"][0]["reaction_time"]
    )
    cell.value, cell.number_format = datetime.datetime(2025, 1, 2), "dd.mm.yyyy"
    wb.save(book)
    r = run("validate", "--format", "json", str(book))
    refused = [x for x in json.loads(r.output)["results"] if x["constraint"] == "CellValue"]
    assert r.exit_code == 1 and [(x["sheet"], x["row"], x["column"]) for x in refused] == [
        ("slas", cell.row, "reaction_time")
    ]
    assert "'2025-01-02'" in refused[0]["message"] and "45659" not in refused[0]["message"], refused[0]["message"]


def test_a_refused_cell_is_reported_once_and_its_row_still_counts(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A post whose flag cell is refused is still the post its other cells describe: the report is that cell
    alone, not also "the resource has no manager" and "the post has no holder" for a row dropped whole; every
    refused cell of a row is reported, and a rule's result at a refused cell (its consequence) is left out."""
    from openpyxl import load_workbook

    from pvpp_kg.validation.spreadsheet import write_workbook
    from tests.validation.test_spreadsheet import ROWS

    book = tmp_path / "lm.xlsx"
    write_workbook(book, {k: [dict(r) for r in v] for k, v in ROWS.items()})
    wb = load_workbook(book)
    posts, services = wb["posts"], wb["services"]
    posts.cell(posts.max_row, [c.value for c in posts[1]].index("illustrative") + 1).value = "yes"
    header = [c.value for c in services[1]]
    services.cell(4, header.index("complexity") + 1).value = "medium"  # two refused cells in one row
    services.cell(4, header.index("function") + 1).value = "sport"
    wb.save(book)
    r = run("validate", "--format", "json", str(book))
    results = json.loads(r.output)["results"]
    violations = sorted(
        (x["sheet"], x["row"], x["column"], x["constraint"]) for x in results if x["severity"] == "Violation"
    )
    assert violations == [
        ("posts", posts.max_row, "illustrative", "CellValue"),
        ("services", 4, "complexity", "CellValue"),
        ("services", 4, "function", "CellValue"),
    ], results


def test_a_need_nobody_describes_is_reported_at_its_cell(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A need is shared by every institution, so no rule of the stored data checks a need id; a spreadsheet's
    mistyped one is reported at its cell with the nearest described need (the needs sheet's, here)."""
    from pvpp_kg.validation.spreadsheet import write_csvs
    from tests.validation.test_spreadsheet import ROWS

    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    need = rows["needs"][0]["id"]
    named = [i for i, r in enumerate(rows["services"]) if need in r.get("needs", "")]
    assert named, "the fixture's services name its need"
    rows["services"][named[0]]["needs"] = need + "x"
    r = run("validate", "--format", "json", *map(str, write_csvs(tmp_path, rows)))
    unknown = [x for x in json.loads(r.output)["results"] if x["constraint"] == "UnknownNeed"]
    assert r.exit_code == 1 and [(x["sheet"], x["row"], x["column"]) for x in unknown] == [
        ("services", named[0] + 2, "needs")
    ]
    assert f"did you mean {need!r}" in unknown[0]["message"]


def test_an_agreement_for_a_mistyped_service_points_at_its_service_cell(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The SLA's result is about the service it names: at that cell (slas!C2), where the fix is, not its id's."""
    from pvpp_kg.validation.spreadsheet import write_csvs
    from tests.validation.test_spreadsheet import ROWS

    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    rows["slas"][0]["service"] = "nosuch"
    r = run("validate", "--format", "json", *map(str, write_csvs(tmp_path, rows)))
    sla = [x for x in json.loads(r.output)["results"] if x["path"] == "^pvpp:serviceLevelAgreement"]
    assert r.exit_code == 1 and [(x["sheet"], x["row"], x["column"], x["value"]) for x in sla] == [
        ("slas", 2, "service", "https://w3id.org/pvpp/id/service/lm/nosuch")
    ]


def test_a_service_naming_an_agreement_nobody_describes_is_a_violation(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The other direction of the agreement: a service whose own institution's SLA id is mistyped (it conformed)."""
    sample = (Path(__file__).parents[2] / "data" / "sample" / "vk.ttl").read_text(encoding="utf-8")
    link = "pvpp:serviceLevelAgreement <sla/vk/sabiedribas-lidzdaliba> ."
    assert sample.count(link) == 1
    data = tmp_path / "vk.ttl"
    data.write_text(sample.replace(link, link.replace("lidzdaliba>", "lidzdalibaX>")), encoding="utf-8")
    r = run("validate", "--format", "json", str(data))
    found = [
        (x["focusNode"].rsplit("/id/", 1)[1], x["value"].rsplit("/id/", 1)[1]) for x in json.loads(r.output)["results"]
    ]
    assert r.exit_code == 1 and found == [("service/vk/sabiedribas-lidzdaliba", "sla/vk/sabiedribas-lidzdalibaX")]


def test_every_refused_cell_of_an_unreadable_row_in_one_pass(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A row that cannot be made (its kind is refused) still has its other cells checked: the kind, the complexity
    and the source are three results now, not one now and two after the kind is fixed."""
    from pvpp_kg.validation.spreadsheet import write_csvs
    from tests.validation.test_spreadsheet import ROWS

    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    rows["services"][1].update(kind="weird-kind", complexity="smartish", sources="not-a-url")
    r = run("validate", "--format", "json", *map(str, write_csvs(tmp_path, rows)))
    refused = [(x["row"], x["column"]) for x in json.loads(r.output)["results"] if x["constraint"] == "CellValue"]
    assert r.exit_code == 1 and sorted(refused) == [(3, "complexity"), (3, "kind"), (3, "sources")], r.output


def test_a_mistyped_pvpp_term_is_a_warning_naming_the_nearest(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pvpp:serviceManger would be stored as it is and read by no rule: a warning on the node that uses it, with
    the ontology's nearest term, in every report form; the terms the ontology defines raise nothing."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import SH

    sample = Path(__file__).parents[2] / "data" / "sample" / "csp.ttl"
    text = sample.read_text(encoding="utf-8")
    data = tmp_path / "csp.ttl"
    data.write_text(text.replace("pvpp:serviceManager <post/", "pvpp:serviceManger <post/", 1), encoding="utf-8")
    r = run("validate", "--format", "json", str(data))
    term = [x for x in json.loads(r.output)["results"] if x["constraint"] == "UnknownTerm"]
    assert [(x["severity"], x["path"]) for x in term] == [("Warning", "https://w3id.org/pvpp/ontology#serviceManger")]
    assert "did you mean pvpp:serviceManager?" in term[0]["message"]
    g = Graph().parse(data=run("validate", "--format", "turtle", str(data)).output, format="turtle")
    assert (None, SH.sourceConstraintComponent, URIRef("https://w3id.org/pvpp/id/reading-rule/UnknownTerm")) in g
    assert run("validate", str(sample)).output.startswith("conforms: 0 violations, 0 warnings")
