"""The site in a real browser: Debian's headless Chromium driven by Playwright against the live server.

Screenshots go to ``tests/artifacts/`` (gitignored) so a failing run can be looked at. Needs ``chromium``
(``make browser``) and the YASGUI assets in ``web/static/yasgui/`` (``make setup``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

YASGUI = Path(__file__).parents[2] / "src" / "pvpp_kg" / "web" / "static" / "yasgui" / "yasgui.min.js"


def test_home_page(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "PVPP knowledge graph"
    assert page.locator('[data-stat="roles"]').inner_text() == "10"
    assert page.locator('[data-stat="tasks"]').inner_text() == "32"
    page.get_by_role("link", name="latviski").click()
    page.wait_for_url("**/?lang=lv")
    assert page.locator("h1").inner_text() == "PVPP zināšanu grafs"
    page.get_by_role("link", name="role IPKS").or_(page.get_by_role("link", name="loma IPKS")).click()
    page.wait_for_url("**/id/role/IPKS")


def test_resource_page(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/id/role/IPKS")
    assert page.locator("h1").inner_text() == "Institutional service portfolio owner"
    row = page.locator('#responsibilities tr[data-code="PU2-21"]')
    assert row.locator("td.code").inner_text() == "A"
    row.get_by_role("link").click()
    page.wait_for_url("**/id/task/PU2-21")
    assert page.locator('#responsibilities tr[data-code="PSa"] td.code').inner_text() == "L"
    page.get_by_role("link", name="latviski").click()
    page.wait_for_url("**/id/task/PU2-21?lang=lv")
    assert page.locator("html").get_attribute("lang") == "lv"
    ttl = page.request.get(live_server.url + "/id/task/PU2-21.ttl")
    assert ttl.ok and ttl.headers["content-type"].startswith("text/turtle")


def test_query_ui_runs_a_query(page: Any, live_server: Any) -> None:
    if not YASGUI.exists():
        pytest.fail("YASGUI assets missing: run `make setup` (npm install in ui/ and copy to web/static/yasgui/)")
    page.goto(live_server.url + "/sparql")
    page.wait_for_function("window.pvppYasgui !== undefined")
    query = (
        "SELECT ?code WHERE { <https://w3id.org/pvpp/id/role/IPKS> "
        "<http://www.w3.org/2004/02/skos/core#notation> ?code } ORDER BY ?code"
    )
    page.evaluate("q => { const t = window.pvppYasgui.getTab(); t.setQuery(q); t.query(); }", query)
    results = page.locator(".yasr")
    results.get_by_text("IPKS", exact=False).first.wait_for(timeout=20_000)
    assert "R4" in results.inner_text()


def test_query_ui_makes_no_request_off_this_server(page: Any, live_server: Any) -> None:
    """No CDN, no autocompletion service: every request the query page makes goes to this server."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    # a regression must show up here, never as traffic: anything not for this server is aborted unsent
    page.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page.goto(live_server.url + "/sparql")
    page.wait_for_function("window.pvppYasgui !== undefined")
    page.evaluate(
        "q => { window.pvppYasgui.getTab().setQuery(q); }",
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\nSELECT * WHERE {\n",
    )
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("?s a foaf:Pers")  # YASGUI's default class autocompleter would ask LOV here
    page.keyboard.press("Control+Space")
    page.wait_for_timeout(1000)
    page.keyboard.type(" ; foaf:na")  # and its property autocompleter here
    page.keyboard.press("Control+Space")
    page.wait_for_timeout(1000)
    off = [u for u in urls if not u.startswith((live_server.url, "data:", "blob:", "about:"))]
    assert urls and not off, off


def test_validation_upload_page(page: Any, live_server: Any) -> None:
    response = page.goto(live_server.url + "/validate")
    assert response is not None and response.status == 200, "the validation page /validate is not served"
    form = page.locator("form")
    assert form.count() >= 1
    assert page.locator('form input[type="file"]').count() >= 1
    assert page.locator('form [type="submit"], form button').count() >= 1


def _offline(page: Any, server: Any) -> list[str]:
    """Record every request the page makes, and abort (unsent) any that is not for this server."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.route(lambda url: not url.startswith(server.url), lambda route: route.abort())
    return urls


def _off_server(urls: list[str], server: Any) -> list[str]:
    return [u for u in urls if not u.startswith((server.url, "data:", "blob:", "about:"))]


def test_api_docs_render_offline(page: Any, live_server: Any) -> None:
    """/docs is Swagger UI from this server's own assets: it renders the operations with no request elsewhere."""
    urls = _offline(page, live_server)
    page.goto(live_server.url + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=20_000)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("pvpp-kg")
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/sparql" in summaries and "/api/queries/matrix-coverage" in summaries
    assert urls and not _off_server(urls, live_server), _off_server(urls, live_server)


def test_library_query_link_and_index_page_offline(page: Any, live_server: Any) -> None:
    """From the home page: a library query opens as a page (parameters, results table, downloads) and runs again
    with another parameter; an index page lists the roles; no request leaves this server."""
    urls = _offline(page, live_server)
    page.goto(live_server.url + "/?lang=en")
    page.get_by_role(
        "link", name="How much of the responsibility matrix an institution's appointed roles cover"
    ).click()
    page.wait_for_url("**/api/queries/matrix-coverage?lang=en")
    assert page.locator("h1").inner_text().startswith("How much of the responsibility matrix")
    assert page.locator("#p-institution").input_value() == "vsaa"
    assert page.locator("table.results tbody tr td").first.inner_text() == "id/institution/vsaa"
    assert page.locator(".downloads a").all_inner_texts() == ["JSON", "XML", "CSV", "TSV"]
    page.locator("#p-institution").fill("lad")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/api/queries/matrix-coverage?institution=lad*")
    assert page.locator("table.results tbody tr td").first.inner_text() == "id/institution/lad"
    page.get_by_role("link", name="Open in the SPARQL UI").click()  # the same query, in its own tab of the UI
    page.wait_for_url("**/sparql?lang=en#library=matrix-coverage")
    page.wait_for_function("window.pvppYasgui !== undefined")
    tab = page.evaluate(
        "(() => { const t = window.pvppYasgui.getTab(); return [t.getId(), t.getYasqe().getValue()]; })()"
    )
    assert tab[0] == "library-matrix-coverage" and "cellsCovered" in tab[1]
    page.goto(live_server.url + "/?lang=en")
    page.get_by_role("link", name="roles", exact=True).click()
    page.wait_for_url("**/id/role?lang=en")
    members = page.locator("ol.members li a")
    assert members.count() == 10
    assert members.first.inner_text() == "Institutional service portfolio owner"
    members.first.click()
    page.wait_for_url("**/id/role/IPKS")
    assert page.locator("h1").inner_text() == "Institutional service portfolio owner"
    assert urls and not _off_server(urls, live_server), _off_server(urls, live_server)
