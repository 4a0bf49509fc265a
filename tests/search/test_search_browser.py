"""The header's search box in headless Chromium: type without diacritics, choose a suggestion with the keyboard,
land on the resource's page; and the results page's facet links."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_type_ahead_in_the_header_follows_a_suggestion(page: Any, live_server: Any) -> None:  # noqa: F811
    page.goto(live_server.url + "/id/role/IPKS")
    box = page.locator("#site-search-q")
    box.click()
    box.press_sequentially("gimenes valsts pab", delay=30)
    options = page.locator("#site-search-list [role=option]")
    # the suggestions of a shorter prefix may show first: wait for those of the whole text typed
    expect(options.first).to_contain_text("Granting and payment of state family benefit", timeout=10_000)
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == "site-search-option-0"
    box.press("Enter")
    page.wait_for_url("**/id/service/vsaa/gimenes-valsts-pabalsts")
    assert "family benefit" in page.locator("h1").inner_text()


def test_escape_closes_and_enter_without_a_choice_opens_the_results_page(page: Any, live_server: Any) -> None:  # noqa: F811
    page.goto(live_server.url + "/?lang=lv")
    box = page.locator("#site-search-q")
    box.press_sequentially("celu uzturesana", delay=30)
    page.locator("#site-search-list [role=option]").first.wait_for(state="visible", timeout=10_000)
    box.press("Escape")
    assert page.locator("#site-search-list").is_hidden()
    box.press("Enter")
    page.wait_for_url(lambda url: "/search?" in url and "q=celu+uzturesana" in url)
    assert page.locator("#search-total").inner_text().startswith("3 rezultāti")
    page.locator('[data-facet="kind"] a[data-value="service"]').click()
    page.wait_for_url(lambda url: "kind=service" in url)
    assert page.locator("#search-total").inner_text().startswith("1 rezultāts")
    page.get_by_role("link", name="Pašvaldības ceļu un ielu ziemas uzturēšana").click()
    page.wait_for_url("**/id/service/madonas-novads/**")
