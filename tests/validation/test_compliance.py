"""The compliance cockpit (issue 28) through its real interfaces: ``pvpp-kg revalidate``, /api/compliance,
/compliance (HTML, CSV, JSON, RDF), /compliance/{key}, /matrix, the library queries, a submission's
incremental re-measurement and a changed profile.

The data: the real sources and sample plus the generated tiny dataset (seed 1), whose generator lists the rules
it broke (``tiny.nq.violations.json``); the figures are checked against that list.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import Graph

from pvpp_kg import shacl
from pvpp_kg.settings import Settings
from pvpp_kg.store.dataload import load_data
from pvpp_kg.store.loader import ensure_loaded, open_stores
from pvpp_kg.templating import local_time
from tests.conftest import LiveServer, generate_tiny, settings_env, tokens_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
BASE = (ROOT / "tests" / "data" / "shapes" / "base.ttl").read_bytes()
LM = "lm-compliance-token"
# the generator's rules → the metric each one lowers
RULE_METRIC = {"service-owner": "service-owner", "service-manager": "service-manager", "sla-availability": "sla"}


def _revalidate(settings: Settings) -> str:
    done = subprocess.run(
        [str(Path(shutil.which("pvpp-kg") or ROOT / ".venv" / "bin" / "pvpp-kg")), "revalidate"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def setup(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Settings, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("compliance")
    tokens = tokens_file(tmp, {"lm": LM})
    settings = make_settings(institution_tokens_file=tokens)
    ensure_loaded(settings)
    nq = generate_tiny(tmp / "tiny.nq")
    load_data(settings, [nq])
    out = _revalidate(settings)
    assert "institutions measured" in out and "national score" in out
    promised = json.loads(Path(str(nq) + ".violations.json").read_text())
    server = LiveServer(settings)
    yield server, settings, promised
    server.stop()


def _api(server: LiveServer, path: str = "/api/compliance", **params: str) -> Any:
    r = httpx.get(server.url + path, params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _owner(iri: str) -> str:
    return iri.split("/id/", 1)[1].split("/")[1]


def test_the_generators_violations_are_the_failing_institutions(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, promised = setup
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in promised["violations"]:
        if v["rule"] in RULE_METRIC:
            expected[RULE_METRIC[v["rule"]]][_owner(v["focus"])] += 1
    rows = {r["key"]: r for r in _api(server)["institutions"]}
    assert len(rows) == promised["institutions"] == 78
    for metric, by_institution in expected.items():
        failing = {k: r["failing"][metric] for k, r in rows.items() if r["scores"].get(metric, 1.0) < 1.0}
        assert failing == dict(by_institution), metric
    # the concrete picture of seed 1: two services without an owner, at am and ventspils-novads
    assert expected["service-owner"] == {"am": 1, "ventspils-novads": 1}
    am = rows["am"]
    assert am["kind"] == "ministry" and am["sector"] == "am" and am["services"] == 5
    assert am["scores"]["service-owner"] == pytest.approx(0.8)  # 4 of its 5 services have an owner
    titles = {_owner(v["focus"]) for v in promised["violations"] if v["rule"] == "service-title-lv"}
    assert titles <= {k for k, r in rows.items() if r["scores"].get("identification", 1.0) < 1.0}


def test_a_rule_about_what_an_institution_does_not_have_does_not_apply(settings: Settings) -> None:
    """A ministry with posts but no services is not "met" on the service rules (it showed 1.00 on each): they do
    not apply — no score, and the overall score is the mean of the rules that do."""
    from pvpp_kg.validation.compliance import Figures, _applicable, profile_for
    from pvpp_kg.validation.validator import validator_for

    profile = profile_for(settings, validator_for(settings))
    applicable = _applicable(profile, {"http://www.w3.org/ns/org#Post": 3}, True)
    by_key = {m.key: applicable[m.iri] for m in profile.metrics}
    assert by_key["service-owner"] == by_key["needs"] == by_key["sla"] == 0
    assert by_key["portfolio-managers"] == 1  # about the institution itself: it applies once it has data
    figures = Figures("lm", applicable=applicable)
    scores = {m.key: figures.score(m) for m in profile.metrics}
    assert scores["service-owner"] is None and scores["sla"] is None and scores["portfolio-managers"] == 1.0
    assert _applicable(profile, {}, False) == {m.iri: 0 for m in profile.metrics}  # no data: nothing applies


def test_filters_sorting_and_downloads_agree(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    everyone = _api(server)["institutions"]
    failing = _api(server, rule="service-owner")["institutions"]
    assert [r["key"] for r in failing] == ["am", "ventspils-novads"]
    ministries = _api(server, kind="ministry")["institutions"]
    assert ministries and all(r["kind"] == "ministry" for r in ministries)
    assert len(ministries) == sum(1 for r in everyone if r["kind"] == "ministry")
    sector = _api(server, sector="am")["institutions"]
    assert {r["key"] for r in sector} >= {"am"} and all(r["sector"] == "am" for r in sector)
    adazi = _api(server, q="adazi")["institutions"]  # no diacritics: Ādaži
    assert {r["key"] for r in adazi} >= {"adazu-novads"}
    assert _api(server, q="  adazi  ")["institutions"] == adazi  # spaces typed around the text do not matter
    for order in ("asc", "desc"):  # institutions without data last, whichever the order
        ranked = [r["overall"] for r in _api(server, sort="score", order=order)["institutions"]]
        known = [s for s in ranked if s is not None]
        assert known and ranked == known + [None] * (len(ranked) - len(known))
        assert known == sorted(known, reverse=order == "desc")
    # Latvian alphabetical order: Ķ is a letter after K, Ā sorts with A
    names = [r["name"]["lv"] for r in _api(server, sort="name", lang="lv")["institutions"]]
    assert names.index("Ķekavas novads") > max(i for i, n in enumerate(names) if n.startswith("K"))
    assert names.index("Ādažu novads") < min(i for i, n in enumerate(names) if n.startswith("B"))
    # the column links of a filtered table keep its filters, and a second click turns the order
    page = httpx.get(server.url + "/compliance", params={"kind": "ministry", "sort": "name", "lang": "en"}).text
    assert 'href="?lang=en&amp;kind=ministry&amp;sort=name&amp;order=desc"' in page
    assert 'href="?lang=en&amp;kind=ministry&amp;sort=warnings&amp;order=desc"' in page

    download = httpx.get(server.url + "/compliance", params={"rule": "service-owner", "format": "csv"})
    assert download.headers["content-disposition"] == 'attachment; filename="pvpp-compliance.csv"'
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["key"] for r in table] == ["am", "ventspils-novads"]
    # a rule by its notation, as the table's columns name it, is the same filter as by its key
    by_notation = _api(server, rule="M1")["institutions"]
    assert [r["key"] for r in by_notation] == ["am", "ventspils-novads"]
    assert table[0]["service-owner"] == "0.800"
    html = httpx.get(server.url + "/compliance", params={"rule": "service-owner", "lang": "lv"}).text
    assert 'data-key="am"' in html and 'data-key="ventspils-novads"' in html and 'data-key="lm"' not in html
    assert "Politikas ievērošana" in html and "<svg" in html
    assert 'data-total="2">2 parādītas no ' in html  # and "1 parādīta": web.templating.plural


def test_the_charts_follow_the_filters_and_numbers_are_written_as_the_reader_writes_them(
    setup: tuple[LiveServer, Settings, Any],
) -> None:
    """A sector lead filtering the table sees the charts of the institutions chosen, not the nation's; a Latvian
    page writes a decimal comma ("0,80"), an English one a point; the sort choices are in the page's language."""
    server, _, _ = setup
    everyone = _api(server)["institutions"]
    whole = httpx.get(server.url + "/compliance", params={"lang": "en"}).text
    assert 'id="charted"' not in whole
    assert (
        'data-metric="service-owner" data-meeting="{}" data-applicable="78"'.format(
            sum(1 for r in everyone if r["scores"].get("service-owner") == 1.0)
        )
        in whole
    )
    html = httpx.get(server.url + "/compliance", params={"rule": "service-owner", "lang": "lv"}).text
    # the two institutions failing M1 (am and ventspils-novads): none of them meets it, both have a score
    assert '<g class="bar" data-metric="service-owner" data-meeting="0" data-applicable="2">' in html
    bins = [int(part.split('"', 1)[0]) for part in html.split('data-count="')[1:]]
    assert sum(bins) == 2
    assert 'id="charted">Diagrammas rāda atlasītās iestādes (2 no 78)' in html
    am = html.split('<tr data-key="am">', 1)[1].split("</tr>", 1)[0]
    assert 'data-metric="service-owner">0,80</td>' in am and "0.80" not in am
    assert '<option value="score">kopvērtējums</option>' in html
    en = httpx.get(server.url + "/compliance", params={"rule": "service-owner", "lang": "en"}).text
    assert 'data-metric="service-owner">0.80</td>' in en and '<option value="score">overall score</option>' in en
    page = httpx.get(server.url + "/compliance/am", params={"lang": "lv"}).text
    assert '<td class="num">0,80</td>' in page


def test_the_charts_and_choices_can_be_read_without_hovering(setup: tuple[LiveServer, Settings, Any]) -> None:
    """The distribution's counts and the trend's dates are on the chart, not only in tooltips; the sorted column
    says so to screen readers; the sector choices are in alphabetical order of their names in the page's language."""
    server, _, _ = setup
    everyone = _api(server)["institutions"]
    html = httpx.get(server.url + "/compliance", params={"lang": "lv", "sort": "score", "order": "desc"}).text
    # full scores have a bar of their own (bin 10, labelled 1,0), apart from 0.9 to below 1
    full = sum(1 for r in everyone if r["overall"] is not None and r["overall"] >= 1)
    high = sum(1 for r in everyone if r["overall"] is not None and 0.9 <= r["overall"] < 1)
    assert full and '<text class="count" ' in html
    assert f">{full}</text>" in html.split('data-bin="10"', 1)[1].split("</g>", 1)[0]
    assert f'data-bin="9" data-count="{high}"' in html and f'data-bin="10" data-count="{full}"' in html
    first = _api(server)["national_trend"][0]["time"]  # e.g. 2026-12-07T17:37:11Z: Riga's date, day first
    day = local_time(first, "lv", date_only=True)
    assert re.fullmatch(r"\d\d\.\d\d\.20\d\d", day) and f'font-size="9">{day}</text>' in html
    assert '<th scope="col" aria-sort="descending"><a href=' in html and html.count("aria-sort=") == 1
    sectors = html.split('<select name="sector">', 1)[1].split("</select>", 1)[0]
    names = [part.split(">", 1)[1].split("<", 1)[0] for part in sectors.split("<option value=")[2:]]
    assert names[:3] == ["Aizsardzības ministrija", "Ārlietu ministrija", "Ekonomikas ministrija"]
    assert names.index("Veselības ministrija") < names.index(
        "Viedās administrācijas un reģionālās attīstības ministrija"
    )
    # a rule that applies to no institution says so, not "0/0"
    unused = [m["key"] for m in _api(server)["metrics"] if not any(m["key"] in r["scores"] for r in everyone)]
    assert unused  # M5: no institution's data has what it checks
    for key in unused:
        bar = html.split(f'<g class="bar" data-metric="{key}"', 1)[1].split("</g>", 1)[0]
        assert "neattiecas</text>" in bar and "0/0" not in bar
    # one Latvian term per concept: M1 is the role PS, "pakalpojuma saimnieks" (MK 399: turētājs)
    m1 = next(m for m in _api(server)["metrics"] if m["notation"] == "M1")
    assert m1["label"]["lv"] == "Pakalpojuma saimnieks"


def test_the_published_measurements_pass_their_shape_and_equal_the_page(
    setup: tuple[LiveServer, Settings, Any],
) -> None:
    server, settings, _ = setup
    ttl = httpx.get(server.url + "/compliance", params={"format": "ttl"}, timeout=60)
    assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
    data = Graph().parse(data=ttl.text, format="turtle")
    data.parse(settings.source_dir / "reference" / "compliance-metrics.ttl", format="turtle")
    shapes = shacl.ShapesGraph(Graph().parse(ROOT / "shapes" / "compliance-shapes.ttl", format="turtle"))
    import pyoxigraph as ox

    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    report = shacl.validate(store, shapes)
    assert report.results == [], report.results[:3]
    # the figures in the graph are the page's: am's service-owner measurement
    q = """SELECT ?v ?f ?n WHERE { <https://w3id.org/pvpp/id/measurement/am/service-owner>
             <http://www.w3.org/ns/dqv#value> ?v ; <https://w3id.org/pvpp/ontology#failingNodes> ?f ;
             <https://w3id.org/pvpp/ontology#applicableNodes> ?n }"""
    ((v, f, n),) = [tuple(row) for row in store.query(q)]
    assert (float(v.value), int(f.value), int(n.value)) == (pytest.approx(0.8), 1, 5)
    # and the same through /sparql, as researchers ask it
    r = httpx.get(
        server.url + "/api/queries/compliance-by-metric", params={"metric": "service-owner"}, timeout=60
    ).json()
    rows = [(b["institution"]["value"].rsplit("/", 1)[-1], b["failing"]["value"]) for b in r["results"]["bindings"]]
    assert rows == [("ventspils-novads", "1"), ("am", "1")]  # worst first: 2 of 3 services owned, then 4 of 5


def test_institution_page_and_api(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    d = _api(server, "/api/compliance/am")
    owner = [f for f in d["findings"] if "service-owner" in f["rules"]]
    assert [f["focus"] for f in owner] == ["https://w3id.org/pvpp/id/service/am/s-2"]
    assert owner[0]["severity"] == "Violation" and "pakalpojuma saimniekam" in owner[0]["message"]["lv"]
    assert len(d["trend"]) == 1 and d["trend"][0]["score"] == pytest.approx(d["institution"]["overall"])
    html = httpx.get(server.url + "/compliance/am", params={"lang": "en"}).text
    assert 'href="/id/service/am/s-2"' in html and 'data-metric="service-owner" class="fail"' in html

    # the open results name their rules as the rule table does, in the page's language (not the metric's key)
    def rules_of_s2(page: str) -> list[str]:
        return [row.split("</tr>", 1)[0].split("<td>")[2] for row in page.split('href="/id/service/am/s-2"')[1:]]

    assert '<span title="service-owner">M1 Service owner</span></td>' in rules_of_s2(html)
    lv = httpx.get(server.url + "/compliance/am", params={"lang": "lv"}).text
    assert '<span title="service-owner">M1 Pakalpojuma saimnieks</span></td>' in rules_of_s2(lv)
    rows = list(csv.DictReader(io.StringIO(httpx.get(server.url + "/compliance/am?format=csv").text)))
    assert any(r["focus"].endswith("/service/am/s-2") and r["rules"] == "service-owner" for r in rows)


def test_matrix_grid(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    html = httpx.get(server.url + "/matrix", params={"lang": "en"}).text
    assert html.count("<tr data-task=") == 32 and html.count('<td data-role="') == 320
    # PU2-21: A for IPKS and PS (the matrix CSV), links to the task and the role pages
    row = html.split('<tr data-task="PU2-21"', 1)[1].split("</tr>", 1)[0]
    cells = dict(
        (part.split('"', 1)[0], part.split(">", 1)[1].split("<", 1)[0]) for part in row.split('<td data-role="')[1:]
    )
    expected = {
        r["role_code"]: r["value"]
        for r in csv.DictReader((ROOT / "data" / "reference" / "responsibility-matrix.csv").open(encoding="utf-8"))
        if r["task"] == "PU2-21"
    }
    assert {k: v for k, v in cells.items() if v} == expected
    assert 'href="/id/task/PU2-21"' in row and 'href="/id/role/IPKS"' in html and 'id="legend"' in html
    # the reading's provenance is told in words and a mark, not only by colour (greyscale, screen readers)
    lv = httpx.get(server.url + "/matrix", params={"lang": "lv"}).text
    shifted = lv.split('class="cell seed-shift" title="', 1)[1].split("</td>", 1)[0]
    assert shifted.startswith("slaidā pārbīdīts") and '<sup class="mark">*</sup>' in shifted
    assert 'title="seed' not in lv and "(slaidā pārbīdīts" in shifted
    vsaa = httpx.get(server.url + "/matrix", params={"institution": "vsaa"}).text
    assert 'id="filled"' in vsaa and "<strong>IPKS</strong>" in vsaa
    assert httpx.get(server.url + "/matrix", params={"institution": "nope"}).status_code == 404


def test_matrix_page_cache_keeps_no_request_detail(setup: tuple[LiveServer, Settings, Any]) -> None:
    """The grid's page is cached per data version and language: another reader must never get the assets' host
    or the query string of whoever asked first (an outsider's Host header once became every reader's script)."""
    server, _, _ = setup
    for url in ("/matrix?lang=lv", "/matrix?lang=lv&zz=1", "/compliance?lang=lv"):
        page = httpx.get(server.url + url, headers={"Host": "attacker.example"}).text
        assert "attacker.example" not in page and 'src="/static/search.js"' in page  # the assets are root-relative
    httpx.get(server.url + "/matrix?lang=lv&zz=1")
    again = httpx.get(server.url + "/matrix", params={"lang": "lv"}).text
    assert 'src="/static/search.js"' in again and 'href="/static/site.css"' in again
    assert "zz=1" not in again and "attacker" not in again
    # a request with more in its query is answered, not cached
    assert "zz=1" in httpx.get(server.url + "/matrix?lang=lv&zz=1").text


@pytest.mark.parametrize("path", ["/compliance", "/compliance/vsaa", "/matrix"])
def test_cockpit_pages_vary_by_format_and_language(setup: tuple[LiveServer, Settings, Any], path: str) -> None:
    server, _, _ = setup
    for _ in range(2):  # the second /matrix comes from the page cache
        r = httpx.get(server.url + path, headers={"Accept-Language": "en"})
        vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
        assert r.status_code == 200 and {"accept", "accept-language"} <= vary, r.headers["vary"]


def test_bad_input_is_4xx_and_changes_nothing(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    before = httpx.get(server.url + "/health").json()["version"]
    for path, params, status, needle in [
        ("/compliance/nope", {}, 404, "no institution 'nope'"),
        ("/api/compliance/nope", {}, 404, "no institution 'nope'"),
        ("/compliance", {"kind": "bank"}, 400, "unknown institution type"),
        ("/compliance", {"rule": "happiness"}, 400, "one of M1 (service-owner), M2 (service-manager)"),
        ("/compliance", {"sector": "riga"}, 400, "unknown sector"),
        ("/compliance", {"municipality": "am"}, 400, "unknown municipality"),
        ("/api/compliance", {"sort": "colour"}, 400, "unknown sort"),
        ("/api/compliance", {"order": "up"}, 400, "order must be asc or desc"),
        ("/compliance", {"format": "pdf"}, 400, "unknown format"),
        ("/compliance", {"q": "x" * 300}, 400, "longer than 200"),
        ("/compliance", {"page": "2"}, 400, "past the last page, 1"),
        ("/compliance", {"page": "0"}, 400, "page"),
    ]:
        r = httpx.get(server.url + path, params=params)
        assert r.status_code == status and needle in r.text, (path, params, r.text)
    # in Latvian for a Latvian reader: the JSON's messages and the page
    r = httpx.get(server.url + "/api/compliance", params={"order": "up"}, headers={"Accept-Language": "lv"})
    assert r.json()["messages"]["lv"] == "secība ir asc vai desc, nevis 'up'"
    page = httpx.get(server.url + "/compliance/nope", params={"lang": "lv"}, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "nav iestādes &#39;nope&#39;" in page.text
    assert httpx.get(server.url + "/health").json()["version"] == before


def test_a_submission_is_measured_right_after_it_is_stored(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    national_before = len(_api(server)["national_trend"])
    r = httpx.post(
        server.url + "/submissions",
        content=BASE,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"},
        timeout=120,
    )
    assert r.status_code == 201, r.text
    d = _api(server, "/api/compliance/lm")
    assert d["institution"]["version"] == r.json()["stored"]["version"]
    assert d["institution"]["services"] == 4 and d["institution"]["violations"] == 0
    assert d["versions"][0]["version"] == str(r.json()["stored"]["version"])
    assert len(_api(server)["national_trend"]) == national_before + 1
    # the page links the version's receipt (a page), and its content beside it
    version = r.json()["stored"]["version"]
    page = httpx.get(server.url + "/compliance/lm", params={"lang": "lv"}).text
    assert f'href="/submissions/lm/{version}/receipt?lang=lv"' in page and f'href="/submissions/lm/{version}"' in page
    assert httpx.get(server.url + f"/submissions/lm/{version}/receipt", params={"lang": "lv"}).status_code == 200
    none = httpx.get(server.url + "/compliance/am", params={"lang": "en"}).text  # am never submitted
    assert "has not submitted data yet" in none
    assert 'aria-label="Diagrammas"' in httpx.get(server.url + "/compliance", params={"lang": "lv"}).text


def test_a_changed_shape_changes_the_results_after_revalidate(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The profile is the shapes and the reference data: requiring two needs per service makes a new profile
    version, and `pvpp-kg revalidate` finds the sample's single-need services."""
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    settings = make_settings(shapes_dir=shapes)
    ensure_loaded(settings)
    _revalidate(settings)
    store = open_stores(settings)[0]
    from pvpp_kg.validation.compliance import profile_iri, stored_profile

    first = stored_profile(store.reader())
    assert first == profile_iri(settings)
    made_by = _runs_of_graphs(store.reader())
    assert len(made_by) == 66 and len(set(made_by.values())) == 1
    again = _revalidate(settings)  # the same profile and data: every graph is kept as it was, the history grows
    assert "12 of 66 institutions measured" in again and "0 compliance graph(s) rewritten" in again
    assert _runs_of_graphs(store.reader()) == made_by
    assert _history_runs(store.reader()) == 2
    # the history has a point for the nation and none for the unchanged institutions (their last score stands)
    assert _scored_in_last_run(store.reader()) == {"national"}
    server = LiveServer(settings)
    try:
        rows_before = {r["key"]: r for r in _api(server)["institutions"]}
        before = {k: r["scores"].get("needs") for k, r in rows_before.items()}
        assert before["vsaa"] == 1.0
    finally:
        server.stop()
    with store.writer() as w:  # a graph of an institution the data no longer has
        w.update(
            "INSERT DATA { GRAPH <https://w3id.org/pvpp/graph/compliance/gone> { "
            "<https://w3id.org/pvpp/id/compliance-report/gone> a <http://www.w3.org/ns/shacl#ValidationReport> } }"
        )
    text = (shapes / "pvpp-shapes.ttl").read_text(encoding="utf-8")
    changed = text.replace(
        "sh:path pvpp:satisfiesNeed ; sh:minCount 1 ;", "sh:path pvpp:satisfiesNeed ; sh:minCount 2 ;"
    )
    assert changed != text
    (shapes / "pvpp-shapes.ttl").write_text(changed, encoding="utf-8")
    out = _revalidate(settings)
    assert stored_profile(store.reader()) == profile_iri(settings) != first
    server = LiveServer(settings)
    try:
        rows_after = {r["key"]: r for r in _api(server)["institutions"]}
        after = {k: r["scores"].get("needs") for k, r in rows_after.items()}
    finally:
        server.stop()
    assert after["vsaa"] is not None and after["vsaa"] < 1.0
    # only the institutions whose figures changed got new graphs; the one no longer there lost its graph
    now_made_by = _runs_of_graphs(store.reader())
    assert set(now_made_by) == set(made_by)
    graphs = {g.value for g in store.reader().named_graphs()}
    assert "https://w3id.org/pvpp/graph/compliance/gone" not in graphs
    assert "https://w3id.org/pvpp/graph/compliance/vsaa" in graphs
    rewritten = {k for k in made_by if now_made_by[k] != made_by[k]}
    changed = {k for k in rows_before if _figures(rows_before[k]) != _figures(rows_after[k])}
    assert "vsaa" in rewritten and rewritten == changed and len(rewritten) < 66
    assert f"{len(rewritten) + 1} compliance graph(s) rewritten" in out  # and the one dropped
    scored = {k for k in rewritten if rows_after[k]["overall"] is not None}
    assert scored and _scored_in_last_run(store.reader()) == {*scored, "national"}
    assert sum(1 for v in after.values() if v is not None and v < 1) > sum(
        1 for v in before.values() if v is not None and v < 1
    )


def _runs_of_graphs(store: Any) -> dict[str, str]:
    """Institution key → the run that made its stored compliance graph (each graph has one digest)."""
    rows = store.query(
        """SELECT ?g ?run ?digest WHERE { GRAPH ?g { ?r a <http://www.w3.org/ns/shacl#ValidationReport> ;
             <http://www.w3.org/ns/prov#wasGeneratedBy> ?run ; <https://w3id.org/pvpp/ontology#contentDigest> ?digest }
           FILTER (STRSTARTS(STR(?g), "https://w3id.org/pvpp/graph/compliance/")) }""",
        use_default_graph_as_union=True,
    )
    out = {}
    for g, run, digest in rows:
        assert len(digest.value) == 64
        out[g.value.rsplit("/", 1)[-1]] = run.value
    return out


def _history_runs(store: Any) -> int:
    query = (
        "SELECT (COUNT(?run) AS ?n) WHERE { GRAPH <https://w3id.org/pvpp/graph/compliance-history> "
        "{ ?run a <http://www.w3.org/ns/prov#Activity> } }"
    )
    return int(next(iter(store.query(query)))[0].value)


def _scored_in_last_run(store: Any) -> set[str]:
    """The institution keys (and ``national``) the newest run of the history has an overall score for."""
    rows = list(
        store.query(
            """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dqv: <http://www.w3.org/ns/dqv#>
            SELECT ?on WHERE { GRAPH <https://w3id.org/pvpp/graph/compliance-history> {
              { SELECT ?run WHERE { ?run a prov:Activity ; prov:endedAtTime ?t } ORDER BY DESC(?t) DESC(STR(?run))
                LIMIT 1 }
              ?m prov:wasGeneratedBy ?run ; dqv:computedOn ?on } }"""
        )
    )
    return {"national" if r[0].value.endswith("/dataset") else r[0].value.rsplit("/", 1)[-1] for r in rows}


def _figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["scores"], row["failing"], row["overall"], row["violations"], row["warnings"])


def test_the_pages_in_a_browser(setup: tuple[LiveServer, Settings, Any], page: Any) -> None:
    """Headless Chromium: the charts render from the same figures, the filter form narrows the table, the
    institution and matrix pages open from it."""
    server, _, _ = setup
    everyone = _api(server)["institutions"]
    page.goto(server.url + "/compliance?lang=en")
    bars = page.locator("#chart-rules g.bar")
    assert bars.count() == 11
    owner = page.locator('#chart-rules g.bar[data-metric="service-owner"]')
    meeting = sum(1 for r in everyone if r["scores"].get("service-owner") == 1.0)
    assert owner.get_attribute("data-meeting") == str(meeting) and owner.get_attribute("data-applicable") == "78"
    bins = [int(b.get_attribute("data-count")) for b in page.locator("#chart-scores g.bin").all()]
    assert sum(bins) == sum(1 for r in everyone if r["overall"] is not None)
    assert page.locator("#chart-trend circle.point").count() >= 1
    page.select_option('select[name="rule"]', "service-owner")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**rule=service-owner**")
    assert page.locator("#table tbody tr").count() == 2
    page.locator('#table tr[data-key="am"] a').click()
    page.wait_for_url("**/compliance/am?lang=en")
    assert page.locator("h1").inner_text() == "Ministry of Defence"  # am: Aizsardzības ministrija
    assert page.locator('#rules tr[data-metric="service-owner"]').get_attribute("class") == "fail"
    page.locator("a", has_text="The institution's roles in the responsibility matrix").click()
    page.wait_for_url("**/matrix?institution=am**")
    assert page.locator("#matrix tbody tr").count() == 32


def test_the_table_is_read_once_per_data_version(setup: tuple[LiveServer, Settings, Any]) -> None:
    """The figures are cached per data version: the same object answers until a write changes the version."""
    import asyncio

    from pvpp_kg.store.backend import EmbeddedBackend
    from pvpp_kg.store.querypool import QueryPool
    from pvpp_kg.validation import cockpit

    _, settings, _ = setup
    store = open_stores(settings)[0]

    async def reads() -> tuple[object, object, object, str]:
        backend = EmbeddedBackend(store, QueryPool(1, None), max_result_bytes=10**8)
        try:
            first = await cockpit.overview(backend, settings)
            second = await cockpit.overview(backend, settings)
            with store.writer() as w:  # a write that adds no compliance run: the same table, a newer version
                w.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:y"), ox.Literal("z"), ox.NamedNode("urn:g")))
            third = await cockpit.overview(backend, settings)
            return first, second, third, backend.version()
        finally:
            backend.close()

    from concurrent.futures import ThreadPoolExecutor

    import pyoxigraph as ox

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: the browser tests keep an event loop in this one
        first, second, third, version = pool.submit(asyncio.run, reads()).result()
    assert first is second is third
    assert third.version == version  # type: ignore[attr-defined]


def test_the_table_json_is_compressed_once_and_reads_the_same(setup: tuple[LiveServer, Settings, Any]) -> None:
    server, _, _ = setup
    plain = httpx.get(server.url + "/api/compliance", headers={"Accept-Encoding": "identity"})
    packed = httpx.get(server.url + "/api/compliance", headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("content-encoding") is None and packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json() and len(packed.json()["institutions"]) == 78


def test_after_a_submission_the_table_reads_that_institution_again_and_equals_a_full_read(
    setup: tuple[LiveServer, Settings, Any],
) -> None:
    """After a submission the held table is patched, not read whole: the submitting institution's measurements,
    version and names and the national trend are read again. The patched figures (through the warm server, and
    in this process, whose queries are recorded) equal a fresh server's full read of the same store."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from pvpp_kg import rq
    from pvpp_kg.store.backend import EmbeddedBackend
    from pvpp_kg.store.querypool import QueryPool
    from pvpp_kg.validation import cockpit

    server, settings, _ = setup
    store = open_stores(settings)[0]
    asked: list[tuple[str, tuple[Any, ...]]] = []

    async def read() -> Any:
        backend = EmbeddedBackend(store, QueryPool(1, None), max_result_bytes=10**8)
        plain = backend.query

        async def recorded(query: str, **kw: Any) -> Any:
            asked.append((query, kw.get("substitutions", ())))
            return await plain(query, **kw)

        backend.query = recorded  # type: ignore[method-assign]
        try:
            return await cockpit.overview(backend, settings)
        finally:
            backend.close()

    def in_process() -> Any:
        with ThreadPoolExecutor(1) as pool:  # a thread of its own: the browser tests keep an event loop here
            return pool.submit(asyncio.run, read()).result()

    def submit(document: bytes) -> httpx.Response:
        r = httpx.post(
            server.url + "/submissions",
            content=document,
            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {LM}"},
            timeout=120,
        )
        assert r.status_code == 201, r.text
        return r

    submit(BASE)
    in_process()  # this process now holds the table as it stands
    before = {r["key"]: r for r in _api(server)["institutions"]}  # and so does the server
    lm = before["lm"]
    # lm as in base.ttl, with one service's English title left out (a warning: the data is accepted)
    document = BASE.replace(b', "Shared classifiers"@en', b"")
    assert b"Shared classifiers" not in document
    r = submit(document)
    patched = _api(server)
    asked.clear()
    held = in_process()
    whole = {rq.load(n) for n in ("compliance-institutions", "compliance-measurements", "compliance-versions")}
    assert asked and not [q for q, subs in asked if q in whole and not subs]  # nothing of the whole table again
    assert any(subs == (("graph", "iri", "https://w3id.org/pvpp/graph/compliance/lm", None),) for _, subs in asked)
    fresh = LiveServer(settings)
    try:
        full = _api(fresh)
    finally:
        fresh.stop()
    assert patched == full
    assert json.loads(held.to_json(held.rows)) == full
    after = {r["key"]: r for r in full["institutions"]}
    assert (lm["services"], lm["warnings"], lm["violations"]) == (4, 0, 0)
    assert (after["lm"]["services"], after["lm"]["warnings"], after["lm"]["violations"]) == (4, 1, 0)
    assert after["lm"]["version"] == r.json()["stored"]["version"] == lm["version"] + 1
    # identification: 11 of lm's nodes named (4 services, 4 posts, the resource, the SLA, lm), one now without
    # its English title
    assert lm["scores"]["identification"] == 1.0 and after["lm"]["scores"]["identification"] == 0.909091
    assert after["lm"]["failing"]["identification"] == 1 and after["lm"]["overall"] < lm["overall"]
    assert {k: v for k, v in after.items() if k != "lm"} == {k: v for k, v in before.items() if k != "lm"}
    # a revalidation measured everyone: the whole table is read again, and the server shows the new run
    _revalidate(settings)
    asked.clear()
    in_process()
    assert [q for q, subs in asked if q in whole and not subs], "the whole table is read after a revalidation"
    again = _api(server)
    assert len(again["national_trend"]) == len(full["national_trend"]) + 1
    assert again["institutions"] == full["institutions"]  # the same profile and data: the same figures


def test_a_graphs_text_parses_back_to_its_messages_and_its_digest_ignores_the_run() -> None:
    """The compliance graphs are written as N-Triples text: quotes, backslashes, line breaks and Latvian letters in a
    message come back as they were, and the same figures made by another run have the same digest."""
    import dataclasses

    import pyoxigraph as ox

    from pvpp_kg.validation.compliance import Figures, Profile, institution_graph_text
    from pvpp_kg.validation.report import Result

    message = 'Nosaukums "Ģimenes pabalsts"\\ nav\nderīgs\r'
    result = Result(
        "https://w3id.org/pvpp/id/service/x/s-1",
        "http://purl.org/dc/terms/title",
        "Violation",
        message,
        {"lv": message, "en": 'a "quoted" title'},
        None,
        "https://w3id.org/pvpp/shapes#ServiceShape",
        "MinCountConstraintComponent",
        "pvpp",
    )
    profile = Profile("https://w3id.org/pvpp/id/profile/test", [], {}, {})
    figures = Figures("x", results=[(result, [])])
    one = institution_graph_text(profile, figures, "2026-12-07T10:00:00Z", "https://w3id.org/pvpp/id/compliance-run/a")
    two = institution_graph_text(profile, figures, "2026-12-07T11:00:00Z", "https://w3id.org/pvpp/id/compliance-run/b")
    assert one.digest == two.digest and one.triples != two.triples
    triples = list(ox.parse(one.ntriples(), format=ox.RdfFormat.N_TRIPLES))
    messages = {t.object.language: t.object.value for t in triples if t.predicate.value.endswith("#resultMessage")}
    assert messages == {"lv": message, "en": 'a "quoted" title'}
    digests = [t.object.value for t in triples if t.predicate.value.endswith("#contentDigest")]
    assert digests == [one.digest]
    quads = list(ox.parse(one.nquads().encode(), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {"https://w3id.org/pvpp/graph/compliance/x"}
    changed = Figures("x", results=[(dataclasses.replace(result, severity="Warning"), [])])
    assert institution_graph_text(profile, changed, "2026-12-07T10:00:00Z", "urn:run").digest != one.digest


def test_revalidate_starts_again_when_a_write_lands_meanwhile(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission published while `pvpp-kg revalidate` measures: the figures (and the digests they were compared
    with) describe an older version, so the run starts again on the new one; a store that keeps moving gets no
    figures at all after three runs."""
    from pvpp_kg.validation import compliance

    settings = make_settings()
    store, _ = ensure_loaded(settings)
    real = compliance.full_run
    measured: list[str] = []

    def meanwhile(moves: int) -> Callable[..., compliance.FullRun]:
        def run(*args: Any) -> compliance.FullRun:
            out = real(*args)
            measured.append(args[3])
            if len(measured) <= moves:
                with store.writer() as w:
                    w.update(f"INSERT DATA {{ GRAPH <urn:x-test:moved> {{ <urn:a> <urn:b> {len(measured)} }} }}")
            return out

        return run

    monkeypatch.setattr(compliance, "full_run", meanwhile(1))
    summary = compliance.revalidate(settings, store)
    assert len(measured) == 2 and int(measured[1]) == int(measured[0]) + 1
    assert summary.replaced == 66 and len(_runs_of_graphs(store.reader())) == 66

    measured.clear()
    before = store.version()
    monkeypatch.setattr(compliance, "full_run", meanwhile(3))
    with pytest.raises(compliance.Moved):
        compliance.revalidate(settings, store)
    assert len(measured) == 3 and store.version() == before + 3  # the three writes of the test, no figures


def test_sorting_puts_institutions_without_data_last_and_names_in_latvian_order() -> None:
    from pvpp_kg.validation.cockpit import Filters, Row

    rows = [
        Row("a", {"lv": "Ķekavas novads"}, "municipality", None, "a", overall=0.5),
        Row("b", {"lv": "Klimata un enerģētikas ministrija"}, "ministry", "b", None, overall=None),
        Row("c", {"lv": "Ādažu novads"}, "municipality", None, "c", overall=0.9),
        Row("d", {"lv": "Aizkraukles novads"}, "municipality", None, "d", overall=None, submitted="2026-12-01"),
        Row("e", {"lv": "Cēsu novads"}, "municipality", None, "e", overall=0.7),
    ]
    for order, expected in (("asc", ["a", "e", "c", "b", "d"]), ("desc", ["c", "e", "a", "b", "d"])):
        assert [r.key for r in Filters(sort="score", order=order).apply(rows, "lv")] == expected
    assert [r.key for r in Filters(sort="submitted", order="desc").apply(rows, "lv")][0] == "d"
    assert [r.key for r in Filters(sort="submitted", order="asc").apply(rows, "lv")][0] == "d"
    # Ā with A (before Ai…: the long vowel is no letter of its own in sorting), Ķ after K, C before Ķ
    assert [r.key for r in Filters(sort="name").apply(rows, "lv")] == ["c", "d", "e", "b", "a"]
