"""Links that show something (issue 26, point 3), over HTTP against a running server: library queries as pages with
their parameters, results and downloads; the dataset description as a page; index pages /id/{kind} with paging;
participations as "role X of Y"; page chrome in the reader's language."""

from __future__ import annotations

import csv
import html
import io
import re

import httpx
import pytest

from tests.conftest import LiveServer

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HASH = re.compile(r"\b[0-9a-f]{32}\b")


def _text(page: str) -> str:
    """What a reader sees: the page without tags, attributes and the hidden query text."""
    page = re.sub(r"<(script|style|details)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _table(page: str, table_class: str) -> list[list[str]]:
    body = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert body, f"no table.{table_class}"
    rows = re.findall(r"<tr\b[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
        for r in rows
    ]


def test_a_library_query_is_a_page_with_its_parameters_results_and_downloads(live_server: LiveServer) -> None:
    url = live_server.url + "/api/queries/matrix-coverage"
    page = httpx.get(url, params={"lang": "en"}, headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>How much of the responsibility matrix an institution&#39;s appointed roles cover</h1>" in page.text
    assert re.search(r'<input id="p-institution" name="institution" value="vsaa"', page.text)
    table = _table(page.text, "results")
    downloads = dict(re.findall(r'<a href="\?([^"]+)" type="[^"]+" download>(\w+)</a>', page.text))
    assert sorted(downloads.values()) == ["CSV", "JSON", "TSV", "XML"]
    csv_href = next(h for h, name in downloads.items() if name == "CSV")
    got = httpx.get(url + "?" + html.unescape(csv_href))
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    # the table shows what the CSV download holds (IRIs under the site shortened to their path)
    assert table[0] == rows[0] and len(table) == len(rows) == 2
    assert table[1][0] == "id/institution/vsaa" and rows[1][0] == "https://w3id.org/pvpp/id/institution/vsaa"
    assert table[1][1:] == rows[1][1:]
    assert '<a href="/id/institution/vsaa">' in page.text
    # programs still get results: */* is JSON, Accept picks the others
    assert httpx.get(url).headers["content-type"].startswith("application/sparql-results+json")
    assert httpx.get(url, headers={"Accept": "text/csv"}).text == got.text


def test_a_library_page_follows_the_query_language_and_shows_bad_parameters(live_server: LiveServer) -> None:
    url = live_server.url + "/api/queries/role-tasks"
    en = httpx.get(url, params={"role": "IPKS", "lang": "en"}, headers=BROWSER)
    assert '<html lang="en">' in en.text and "Results" in en.text
    table = _table(en.text, "results")
    assert table[0] == ["role", "level", "notation", "responsibility", "task", "taskLabel", "lang"]
    assert table[1][2:] == [
        "PU1-1",
        "L",
        "id/task/PU1-1",
        "Planning and updating of the service management policy (at national scale)",
        "en",
    ]
    assert re.search(r'name="lang" value="en"', en.text)
    lv = httpx.get(url, params={"role": "IPKS", "lang": "lv"}, headers=BROWSER)
    assert '<html lang="lv">' in lv.text and "Rezultāti" in lv.text
    assert "Pakalpojumu pārvaldības politikas plānošana un aktualizēšana (valsts mērogā)" in lv.text
    bad = httpx.get(url, params={"role": "nobody here", "lang": "en"}, headers=BROWSER)
    assert bad.status_code == 400 and "parameter &#39;role&#39;" in bad.text and "<form" in bad.text


@pytest.mark.parametrize("path", ["/.well-known/void", "/dataset"])
def test_the_dataset_description_has_a_page(live_server: LiveServer, path: str) -> None:
    page = httpx.get(live_server.url + path, params={"lang": "en"}, headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Dataset description</h1>" in page.text
    triples = int(re.search(r'data-stat="triples">(\d+)<', page.text).group(1))
    assert triples == httpx.get(live_server.url + "/health").json()["triples"]
    assert f'href="{path}?format=turtle"' in page.text and 'href="/dumps?lang=en"' in page.text
    turtle = httpx.get(live_server.url + path)  # curl, SPARQL clients: */* still gets RDF
    assert turtle.headers["content-type"].startswith("text/turtle") and "void:triples" in turtle.text


@pytest.mark.parametrize(
    ("kind", "first", "label"),
    [
        ("role", "IPKS", "Institutional service portfolio owner"),
        ("task", "PU1-1", None),
        ("institution", None, "Rural Support Service"),
        ("service", None, None),
        ("post", None, None),
    ],
)
def test_index_pages_list_their_members(
    live_server: LiveServer, kind: str, first: str | None, label: str | None
) -> None:
    page = httpx.get(live_server.url + f"/id/{kind}", params={"lang": "en"}, headers=BROWSER)
    assert page.status_code == 200, page.text[:300]
    total = int(re.search(r'data-total="(\d+)"', page.text).group(1))
    members = re.findall(rf'<li><a href="/id/{kind}/([^"]+)" title="[^"]+">([^<]+)</a>', page.text)
    assert total > 0 and len(members) == min(total, 100)
    prefix = f"https://w3id.org/pvpp/id/{kind}/"
    count = f'SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x a ?t FILTER(STRSTARTS(STR(?x), "{prefix}")) }}'
    counts = httpx.get(live_server.url + "/sparql", params={"query": count}).json()
    assert total == int(counts["results"]["bindings"][0]["n"]["value"])
    if first:
        assert members[0][0] == first
    if label:
        assert label in [html.unescape(m[1]) for m in members]
    if kind == "task":  # natural order: PU1-2 before PU1-10 where both exist
        codes = [m[0] for m in members]
        assert codes == sorted(codes, key=lambda c: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", c)])


def test_index_pages_page(live_server: LiveServer) -> None:
    url = live_server.url + "/id/participation"
    first = httpx.get(url, params={"lang": "en"}, headers=BROWSER).text
    total = int(re.search(r'data-total="(\d+)"', first).group(1))
    assert total > 200
    pages = -(-total // 100)
    assert f"Page 1 of {pages}" in first and 'rel="next" href="?page=2&amp;lang=en"' in first
    second = httpx.get(url, params={"lang": "en", "page": 2}, headers=BROWSER).text
    assert '<ol class="members" start="101">' in second and 'rel="prev"' in second
    ids = lambda p: re.findall(r'<li><a href="/id/participation/([^"]+)"', p)  # noqa: E731
    assert len(ids(second)) == 100 and not set(ids(first)) & set(ids(second))
    labels = re.findall(r'<li><a href="/id/participation/[^"]+" title="[^"]+">([^<]+)</a>', first)
    assert len(labels) == 100 and all(label.startswith("role ") for label in labels), labels[:3]
    assert httpx.get(url, params={"page": 0}, headers=BROWSER).status_code == 400
    past = httpx.get(url, params={"page": pages + 1}, headers=BROWSER)
    assert past.status_code == 400 and f"past the last page of /id/participation ({pages})" in past.text
    assert httpx.get(url, params={"page": pages}, headers=BROWSER).status_code == 200
    home = httpx.get(live_server.url + "/id", params={"lang": "en"}, headers=BROWSER, follow_redirects=True)
    assert (
        home.status_code == 200
        and str(home.url).endswith("/?lang=en")
        and '<a href="/id/service?lang=en">' in home.text
    )
    missing = httpx.get(live_server.url + "/id/no-such-kind", headers=BROWSER)
    assert missing.status_code == 404 and "https://w3id.org/pvpp/id/no-such-kind" in missing.text


def test_participations_read_as_role_of_participant(live_server: LiveServer) -> None:
    service = "/id/service/lad/gados-jauno-lauksaimnieku-atbalsts"
    page = httpx.get(live_server.url + service, headers={**BROWSER, "Accept-Language": "en"}).text
    rows = _table(page, "participations")
    assert rows[0] == ["Role", "Participant", "Context"]
    cells = [[re.sub(r"\s+", " ", c) for c in r] for r in rows[1:]]
    assert ["Service owner PS", "Rural Support Service", "Complementary income support for young farmers"] in cells
    visible = _text(page)
    assert "role Service owner of Rural Support Service" in visible
    assert not HASH.search(visible), HASH.search(visible)
    part = re.search(r'data-participation="([0-9a-f]{32})" title="role Service owner', page).group(1)
    own = httpx.get(live_server.url + f"/id/participation/{part}", headers={**BROWSER, "Accept-Language": "lv"}).text
    h1 = html.unescape(re.search(r"<h1>(.*?)</h1>", own).group(1))
    assert h1.startswith("loma Pakalpojuma saimnieks — Lauku atbalsta dienests")
    institution = httpx.get(live_server.url + "/id/institution/lad", headers={**BROWSER, "Accept-Language": "en"}).text
    assert not HASH.search(_text(institution))


@pytest.mark.parametrize(
    "path", ["/", "/sparql", "/validate", "/dumps", "/id/role/IPKS", "/id/role", "/api/queries/matrix-coverage"]
)
def test_page_chrome_follows_the_reader(live_server: LiveServer, path: str) -> None:
    lv = httpx.get(live_server.url + path, headers={**BROWSER, "Accept-Language": "lv,en;q=0.5"}).text
    assert '<html lang="lv">' in lv
    assert '<nav aria-label="Galvenā navigācija"><a href="/sparql?lang=lv">SPARQL vaicājumi</a>' in lv
    assert ">Datu pārbaude</a>" in lv and "Dati: CC BY 4.0" in lv
    en = httpx.get(live_server.url + path, params={"lang": "en"}, headers={**BROWSER, "Accept-Language": "lv"}).text
    assert '<html lang="en">' in en
    assert '<nav aria-label="main"><a href="/sparql?lang=en">SPARQL queries</a>' in en and ">Validate</a>" in en


def test_dumps_are_named_in_latvian_as_copies_not_a_data_bus(live_server: LiveServer) -> None:
    """ "Kopne" is a (data) bus: the dumps are "pilnās datu kopijas", on their page, the home page and the menu."""
    for path in ("/dumps", "/"):
        page = httpx.get(live_server.url + path, params={"lang": "lv"}, headers=BROWSER).text
        assert "Pilnās datu kopijas" in page and "kopne" not in page.lower(), path


def test_counts_take_the_right_noun_form() -> None:
    from pvpp_kg.templating import plural

    forms = "pārkāpums|pārkāpumi"
    assert [plural(n, "lv", forms) for n in (0, 1, 2, 11, 21, 101, 111)] == [
        "pārkāpumi", "pārkāpums", "pārkāpumi", "pārkāpumi", "pārkāpums", "pārkāpums", "pārkāpumi",
    ]  # fmt: skip
    assert [plural(n, "en", "violation|violations") for n in (0, 1, 2, 21)] == [
        "violations", "violation", "violations", "violations",
    ]  # fmt: skip
