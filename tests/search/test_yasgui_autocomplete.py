"""YASGUI's autocompletion from this server's own prefixes, classes and properties, in headless Chromium, with
every request off the server aborted (none may be made)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _hints_after(page: Any, text: str) -> list[str]:  # noqa: F811
    page.keyboard.type(text)
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for(state="visible", timeout=10_000)
    return [h.inner_text() for h in hints.all()]


def test_class_property_and_prefix_completion_are_local(page: Any, live_server: Any) -> None:  # noqa: F811
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page.goto(live_server.url + "/sparql")
    page.wait_for_function("window.pvppYasgui !== undefined")
    page.evaluate(
        "q => { window.pvppYasgui.getTab().setQuery(q); }",
        "PREFIX pvpp: <https://w3id.org/pvpp/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT * WHERE {\n",
    )
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+End")
    classes = _hints_after(page, "?s a pvpp:Serv")
    assert "pvpp:Service" in classes and "pvpp:ServiceLevelAgreement" in classes
    assert all(c.startswith("pvpp:Serv") for c in classes)
    page.keyboard.press("Enter")
    properties = _hints_after(page, " ; pvpp:own")
    assert properties == ["pvpp:owner", "pvpp:ownsResource", "pvpp:ownsService"]
    page.keyboard.press("Enter")
    properties = _hints_after(page, " ?o ; skos:prefL")
    assert properties == ["skos:prefLabel"]
    page.keyboard.press("Enter")
    text = page.evaluate("() => window.pvppYasgui.getTab().getQuery()")
    assert "?s a pvpp:Service ; pvpp:owner ?o ; skos:prefLabel" in text
    # prefixes: this server's own, including the search function's namespace
    page.keyboard.press("Control+Home")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    page.keyboard.type("PREFIX pvppf")
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for(state="visible", timeout=10_000)
    assert [h.inner_text() for h in hints.all()] == ["pvppfn: <https://w3id.org/pvpp/function#>"]
    off = [u for u in urls if not u.startswith((live_server.url, "data:", "blob:", "about:"))]
    assert urls and not off, off
