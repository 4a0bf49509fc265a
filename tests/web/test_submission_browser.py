"""An institution's whole submission in headless Chromium: sign in, download the pre-filled template, change two
cells (one breaking a rule), upload, download the fix-it spreadsheet and find the marked cell and its comment,
fix it, upload again, see the preview (exactly the expected added and changed services), confirm, and see the new
version and its receipt."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import ARTIFACTS, LiveServer, tokens_file
from tests.web.test_submission_flow import NEW_SERVICE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "varam-browser-token"
ID = "https://w3id.org/pvpp/id/service/varam/"
TRAINING, CENTRES, CONSULTING = (
    "pakalpojumu-parvaldibas-apmaciba",
    "vpvkac-klientu-apkalposana",
    "pakalpojumu-parvaldibas-konsultacijas",
)


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"varam": TOKEN})
    s = make_settings(institution_tokens_file=tokens)
    ensure_loaded(s)
    srv = LiveServer(s)
    # the institution once submitted its data through the template (the sample says more than a template can
    # hold, SmartService and the like, so a first template upload would show those as removed)
    prefilled = httpx.get(srv.url + "/template.xlsx", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    r = httpx.post(
        srv.url + "/submissions",
        files={"file": ("varam.xlsx", prefilled.content)},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
    )
    assert r.status_code == 201, r.text[:300]
    yield srv
    srv.stop()


def _row(ws: Any, service: str) -> int:
    return next(c.row for c in ws["B"] if c.value == service)


def _save(wb: Any, path: Path) -> Path:
    wb.save(path)
    return path


def test_the_whole_submission_in_a_browser(browser: Any, server: LiveServer, tmp_path: Path) -> None:
    # http://localhost is a secure context: the Secure session cookie is kept
    base = server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(locale="lv-LV", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/signin")
        page.fill("#token", TOKEN)
        page.click("#signin button[type=submit]")
        page.wait_for_url("**/institution")
        assert page.inner_text("#institution") == "varam"
        [cookie] = [c for c in context.cookies() if c["name"] == "pvpp_session"]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        start = [int(v) for v in page.locator("#versions tr[data-version]").evaluate_all(
            "rows => rows.map(r => r.dataset.version)")]  # fmt: skip

        # the pre-filled template
        with page.expect_download() as d:
            page.click("#template-prefilled")
        template = tmp_path / "varam.xlsx"
        d.value.save_as(template)
        wb = load_workbook(template)
        ws = wb["services"]
        assert sorted(c.value for c in ws["B"][3:]) == sorted([TRAINING, CENTRES, CONSULTING])
        title_row, manager_row = _row(ws, TRAINING), _row(ws, CENTRES)
        ws.cell(title_row, 5).value = "Training of service-management staff"  # title_en: a change
        good_manager = ws.cell(manager_row, 8).value
        ws.cell(manager_row, 8).value = "nav-tada-amata"  # manager: no such post — breaks a rule
        broken = _save(wb, tmp_path / "varam-broken.xlsx")

        # upload: the report, with the fix-it spreadsheet
        page.set_input_files("#file", str(broken))
        page.select_option("#lang", "lv")
        page.click("#upload button[type=submit]")
        page.wait_for_selector("#verdict")
        assert page.inner_text("#violations") != "0"
        row = page.locator(f'#results tr[data-cell="services!H{manager_row}"]')
        assert row.count() >= 1 and "Pārkāpums" in row.first.inner_text()
        with page.expect_download() as d:
            page.click("#fixit")
        fixit = tmp_path / "fixit.xlsx"
        d.value.save_as(fixit)
        marked = load_workbook(fixit)
        cell = marked["services"].cell(manager_row, 8)
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")
        # the cell's own mistake, not "a post must have one holder" about a post the typo made up
        assert "lv: amata 'nav-tada-amata' nav lapā posts" in cell.comment.text
        assert "en: post 'nav-tada-amata' is not in the posts sheet" in cell.comment.text
        assert "UnknownPost" in cell.comment.text  # the rule
        assert marked["services"].cell(title_row, 5).comment is None
        listed = [(r[1].value, r[2].value, r[3].value) for r in marked["results"].iter_rows(min_row=2)]
        assert ("services", manager_row, "manager") in listed

        # fixed in the fix-it file itself, and a service added; upload again
        fixed_ws = marked["services"]
        fixed_ws.cell(manager_row, 8).value = good_manager
        new = fixed_ws.max_row + 1
        for col, value in enumerate(NEW_SERVICE, start=1):
            fixed_ws.cell(new, col).value = value
        fixed = _save(marked, tmp_path / "varam-fixed.xlsx")
        page.goto(base + "/institution")
        page.set_input_files("#file", str(fixed))
        page.select_option("#lang", "en")
        page.click("#upload button[type=submit]")
        page.wait_for_selector("#confirm")
        added = page.locator("#services li.added").evaluate_all("xs => xs.map(x => x.dataset.node)")
        changed = page.locator("#services li.changed").evaluate_all("xs => xs.map(x => x.dataset.node)")
        removed = page.locator("#services li.removed").count()
        assert added == [ID + "jauns-pakalpojums"] and changed == [ID + TRAINING] and removed == 0
        fields = page.locator(f'#services li.changed[data-node="{ID + TRAINING}"] tr[data-field="dct:title"]')
        assert "Training of service-management staff@en" in fields.locator("td.new").inner_text()
        assert page.inner_text('#counts tr[data-kind="service"] td.added') == "1"
        assert page.inner_text("#current-version") == str(start[0])

        # confirm: the receipt, the version's content and the history
        page.click("#confirm button[type=submit]")
        page.wait_for_url(f"**/submissions/varam/{start[0] + 1}/receipt")
        assert page.inner_text("#receipt-version") == str(start[0] + 1)
        checksum = page.inner_text("#receipt-checksum")
        assert len(checksum) == 64
        assert page.get_attribute("#compliance", "href") == "/compliance/varam?lang=lv"
        history = httpx.get(f"{server.url}/submissions/varam", timeout=30).json()["versions"]
        assert history[-1]["version"] == start[0] + 1 and history[-1]["checksum"] == checksum
        content = page.request.get(base + page.get_attribute("#version-content", "href")).text()
        assert "A new service" in content and "Training of service-management staff" in content
        page.goto(base + "/institution")
        assert page.locator("#versions tr[data-version]").count() == len(start) + 1
    finally:
        page.screenshot(path=str(ARTIFACTS / "submission_flow.png"), full_page=True)
        context.close()
    assert not errors, errors


def test_an_unusable_upload_shows_a_page_not_json(browser: Any, server: LiveServer, tmp_path: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server.url + "/validate")
        bad = tmp_path / "not-a-workbook.xlsx"
        bad.write_bytes(b"PK\x03\x04 not really a zip")
        page.set_input_files("#file", str(bad))
        page.click("main form button[type=submit]")  # not the header's search box
        page.wait_for_selector("#error-message")
        assert "not a readable XLSX workbook" in page.inner_text("#error-message")
        assert page.locator("h1").inner_text().startswith("Something is wrong (400)")  # Chromium asks for English
        # the site's pages say where the template is
        page.goto(server.url + "/validate")
        with page.expect_download() as d:
            page.click("#template-link")
        wb = load_workbook(io.BytesIO(Path(d.value.path()).read_bytes()))
        assert "services" in wb.sheetnames
    finally:
        context.close()
