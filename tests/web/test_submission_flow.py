"""An institution's submission without a browser, over real HTTP (a uvicorn subprocess): sign-in and its cookie,
the template (empty and pre-filled), the report with sheet/row/column and its downloads, the fix-it workbook, the
preview (``dry_run=true`` and the form), confirm and receipt — and every bad input with its status and the store
unchanged."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from openpyxl import load_workbook
from rdflib import Graph
from rdflib.namespace import RDF, SH

from pvpp_kg.namespaces import PVPP
from pvpp_kg.settings import Settings
from pvpp_kg.validation.report import READING_RULE
from tests.conftest import LiveServer, serving, tokens_file
from tests.validation.test_submissions import graph_of
from tests.web.test_hostile_suite import BOMB, _huge_dimension, _with_member, _workbook

pytestmark = pytest.mark.slow

VARAM, VK = "varam-token", "vk-token"
LIMIT = 400_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ID = "https://w3id.org/pvpp/id/"
TRAINING = "pakalpojumu-parvaldibas-apmaciba"  # varam's services in data/sample/varam.ttl
CENTRES = "vpvkac-klientu-apkalposana"
# a new service row of the services sheet, column by column: the service both flows add
NEW_SERVICE = [
    "varam",
    "jauns-pakalpojums",
    "shared",
    "Jauns pakalpojums",
    "A new service",
    "Jauns koplietošanas pakalpojums.",
    None,
    "pv-pakalpojumu-parvaldiba",
    "varam",
    "institutions",
]


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"varam": VARAM, "vk": VK})
    s = make_settings(institution_tokens_file=tokens, max_body_bytes=LIMIT, session_secret="test-secret")
    with serving(s) as srv:
        yield srv


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(server: LiveServer, token: str) -> tuple[dict[str, str], str]:
    """The session cookie and the session's CSRF token, as a browser gets them (cookies passed by hand: httpx
    keeps Secure cookies for https only)."""
    page = httpx.get(server.url + "/signin", timeout=30)
    pre = page.cookies["pvpp_signin"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = httpx.post(
        server.url + "/signin", data={"token": token, "csrf": csrf}, cookies={"pvpp_signin": pre}, timeout=30
    )
    assert r.status_code == 303 and r.headers["location"] == "/institution", r.text
    set_cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("pvpp_session="))
    assert {"HttpOnly", "Secure", "SameSite=strict"} <= {p.strip() for p in set_cookie.split(";")}
    cookies = {"pvpp_session": set_cookie.split(";", 1)[0].split("=", 1)[1].strip('"')}
    home = httpx.get(server.url + "/institution", cookies=cookies, timeout=30)
    assert home.status_code == 200
    return cookies, re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)


def versions(server: LiveServer, key: str) -> list[int]:
    return [v["version"] for v in httpx.get(f"{server.url}/submissions/{key}", timeout=30).json()["versions"]]


def state(server: LiveServer) -> tuple[set[str], list[int], set[str], list[int]]:
    return graph_of(server, "varam"), versions(server, "varam"), graph_of(server, "vk"), versions(server, "vk")


def xlsx_bytes(wb: object) -> bytes:
    out = io.BytesIO()
    wb.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def row_of(ws: object, service: str) -> int:
    return next(c.row for c in ws["B"] if c.value == service)  # type: ignore[index]


def upload(name: str, body: bytes, ctype: str = XLSX) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, body, ctype)}


def dry_run(server: LiveServer, body: bytes, accept: str = "application/json") -> httpx.Response:
    """VARAM's workbook ``POST /submissions?dry_run=true``: what it would change, nothing stored."""
    return httpx.post(
        server.url + "/submissions",
        params={"dry_run": "true"},
        files=upload("varam.xlsx", body),
        headers={**bearer(VARAM), "Accept": accept},
        timeout=90,
    )


def test_template_empty_prefilled_and_csv(server: LiveServer) -> None:
    empty = httpx.get(server.url + "/template.xlsx", timeout=30)
    assert empty.status_code == 200 and empty.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(empty.content))
    assert wb.sheetnames == ["about", "institutions", "posts", "services", "resources", "participations", "slas",
                             "needs", "life_situations", "lists"]  # fmt: skip
    assert wb["services"].max_row == 4  # names, lv, en, an example row: no data
    assert [c.value for c in wb["services"][4]][:3] == ["piemers", "pabalsts", "individual-benefit"]
    # left as it is, the empty template holds no data: refused, never an empty submission
    r = httpx.post(server.url + "/validate", files=upload("empty.xlsx", empty.content), timeout=60)
    assert r.status_code == 400 and "no filled rows" in r.json()["message"]
    # once the example is changed, it is data (and the report points at its cells)
    wb["services"]["B4"] = "mans-pakalpojums"
    r = httpx.post(
        server.url + "/validate", files=upload("one.xlsx", xlsx_bytes(wb)), headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    # read as data: its manager, the example's post "pv", is no post of the (empty) posts sheet — and the policy's
    # rules on what could be read are in the same report (its example institution "piemers" is no institution)
    found = [(x["sheet"], x["row"], x["column"], x["rule"]) for x in r.json()["results"]]
    assert found[0] == ("services", 4, "manager", "UnknownPost")
    assert any(f[:3] == ("services", 4, "institution") and f[3].endswith("#ServiceOwner") for f in found)
    assert r.json()["triples"] > 0
    filled = httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30)
    ws = load_workbook(io.BytesIO(filled.content))["services"]
    ids = sorted(c.value for c in ws["B"][3:])
    assert TRAINING in ids and CENTRES in ids and len(ids) == 3
    assert {c.value for c in ws["A"][3:]} == {"varam"}
    cookies, _ = sign_in(server, VK)
    zipped = httpx.get(server.url + "/template.zip", cookies=cookies, timeout=30)
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        assert sorted(z.namelist()) == sorted(
            f"{s}.csv"
            for s in (
                "institutions",
                "posts",
                "services",
                "resources",
                "participations",
                "slas",
                "needs",
                "life_situations",
            )
        )
        rows = list(csv.reader(io.StringIO(z.read("services.csv").decode("utf-8"))))
    assert rows[1][:2] == ["Īpašniece iestāde", "Pakalpojuma identifikators"] and rows[2][0] == "Owner institution"
    assert len(rows) == 3 + 3 and {r[0] for r in rows[3:]} == {"vk"}  # vk's three sample services
    # the zip itself is an upload: vk's data as it stands, no cell refused, no fix-it (it is no workbook)
    r = httpx.post(
        server.url + "/validate",
        files=upload("vk-csv.zip", zipped.content, "application/zip"),
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["triples"] > 0 and "fixit" not in r.json()["links"]
    assert not [x for x in r.json()["results"] if x["layer"] == "sheet"]
    # its CSV files sent as several file fields are read together, as the zip is (only the last one was read)
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        sheets = [("file", (name, z.read(name), "text/csv")) for name in z.namelist()]
    several = httpx.post(server.url + "/validate", files=sheets, headers={"Accept": "application/json"}, timeout=60)
    assert several.status_code == 200, several.text[:300]
    assert (several.json()["triples"], several.json()["results"]) == (r.json()["triples"], r.json()["results"])
    mixed = httpx.post(
        server.url + "/validate",
        files=[sheets[0], ("file", ("vk.ttl", b"<a:b> <a:c> <a:d> .", "text/turtle"))],
        headers={"Accept": "application/json", "Accept-Language": "lv"},
        timeout=60,
    )
    assert mixed.status_code == 400 and "one document per request" in mixed.json()["messages"]["en"]
    assert "vienu dokumentu" in mixed.json()["messages"]["lv"]
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        broken = io.BytesIO()
        with zipfile.ZipFile(broken, "w") as out:
            for name in z.namelist():
                text = z.read(name).decode("utf-8")
                if name == "services.csv":
                    text = text.replace(",shared,", ",koplietots,", 1)
                out.writestr(name, text.encode("utf-8"))
    r = httpx.post(
        server.url + "/validate",
        files=upload("vk-csv.zip", broken.getvalue(), "application/zip"),
        headers={"Accept": "application/json"},
        timeout=60,
    )
    [cell] = r.json()["results"]
    assert (cell["sheet"], cell["column"], cell["layer"]) == ("services", "kind", "sheet") and cell["row"] >= 4
    r = httpx.post(
        server.url + "/validate",
        files=upload("x.zip", _zip_of({"services.csv": b"a,b\n", "evil.xlsx": b"PK"}), "application/zip"),
        timeout=60,
    )
    assert r.status_code == 400 and "one of: institutions.csv" in r.json()["message"]
    r = httpx.post(server.url + "/validate", files=upload("bomb.zip", BOMB, "application/zip"), timeout=60)
    assert r.status_code == 400 and "expands to more than" in r.json()["message"]
    # a pre-filled CSV sheet reads back as it is (the name rows are skipped)
    r = httpx.post(
        server.url + "/validate",
        content=z_services(zipped.content),
        headers={"Content-Type": "text/csv", "Accept": "application/json"},
        params={"sheet": "services"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["triples"] > 0


def _zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return out.getvalue()


def z_services(zipped: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        return z.read("services.csv")


def test_the_whole_flow_over_the_api(server: LiveServer, tmp_path: Path) -> None:
    # the baseline: varam's stored data submitted once through its pre-filled template (it holds every fact of the
    # sample: tests/web/test_template_roundtrip.py), so the versions below start from a template submission
    prefilled = httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30).content
    r = httpx.post(
        server.url + "/submissions", files=upload("varam.xlsx", prefilled), headers=bearer(VARAM), timeout=90
    )
    assert r.status_code == 201, r.text[:500]
    start = versions(server, "varam")
    cookies, csrf = sign_in(server, VARAM)
    again = httpx.get(server.url + "/template.xlsx", cookies=cookies, timeout=30).content
    wb = load_workbook(io.BytesIO(again))
    ws = wb["services"]
    title_row, kind_row = row_of(ws, TRAINING), row_of(ws, CENTRES)
    ws.cell(title_row, 5).value = "Training of service-management staff"  # title_en
    ws.cell(kind_row, 3).value = "publisks"  # kind: not a code
    broken = xlsx_bytes(wb)
    r = httpx.post(
        server.url + "/validate",
        files=upload("varam.xlsx", broken),
        data={"lang": "lv"},
        headers={"Accept": "application/json"},
        cookies=cookies,
        timeout=90,
    )
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["conforms"] is False and body["violations"] == 1
    [result] = body["results"]
    assert (result["sheet"], result["row"], result["column"]) == ("services", kind_row, "kind")
    assert result["messages"]["lv"].startswith("'publisks' nav neviena no atļautajām vērtībām")
    assert body["rules"] == [
        {
            "layer": "sheet",
            "rule": "CellValue services.kind",
            "severity": "Violation",
            "message": result["message"],
            "count": 1,
        }
    ]
    links = body["links"]
    fixit = httpx.get(server.url + links["fixit"], cookies=cookies, timeout=60)
    assert fixit.status_code == 200 and fixit.headers["content-type"] == XLSX
    fixed = load_workbook(io.BytesIO(fixit.content))
    cell = fixed["services"].cell(kind_row, 3)
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "nav neviena no atļautajām vērtībām" in cell.comment.text and "is not one of" in cell.comment.text
    summary = [[c.value for c in r] for r in fixed["results"].iter_rows(min_row=2)]
    assert [(s[1], s[2], s[3]) for s in summary] == [("services", kind_row, "kind")]
    assert fixed["services"].cell(title_row, 5).fill.fgColor.rgb in ("00000000", None)
    # the report's downloads
    for fmt, ctype in (
        ("csv", "text/csv"),
        ("json", "application/json"),
        ("ttl", "text/turtle"),
        ("html", "text/html"),
    ):
        d = httpx.get(server.url + links[fmt], cookies=cookies, timeout=30)
        assert d.status_code == 200 and d.headers["content-type"].startswith(ctype), fmt
    lines = list(csv.reader(io.StringIO(httpx.get(server.url + links["csv"], cookies=cookies).text)))
    assert lines[1][:6] == ["Pārkāpums", "sheet", "CellValue", "services", str(kind_row), "kind"]
    # another institution cannot read them
    other, _ = sign_in(server, VK)
    assert httpx.get(server.url + links["csv"], cookies=other, timeout=30).status_code == 403

    # fixed, with a new service added: the preview lists exactly what changes
    ws.cell(kind_row, 3).value = "individual-benefit"
    ws.cell(kind_row, 5).value = "Customer service at the one-stop centres"
    ws.cell(kind_row, 8).value = "pv-pakalpojumu-parvaldiba"  # manager: the post that runs the training
    new = ws.max_row + 1
    for col, value in enumerate(NEW_SERVICE, start=1):
        ws.cell(new, col).value = value
    good = xlsx_bytes(wb)
    before = state(server)
    dry = dry_run(server, good)
    assert dry.status_code == 200, dry.text[:500]
    # what the stored version would carry: the new service states no need, a warning on its row's cell
    assert dry.json()["conforms"] is True and (dry.json()["violations"], dry.json()["warnings"]) == (0, 1)
    assert [(x["sheet"], x["row"], x["column"]) for x in dry.json()["results"]] == [("services", new, "needs")]
    # the rule of an unnamed property shape is its constraint and path, the same in every process (not "nba84…")
    assert [x["rule"] for x in dry.json()["results"]] == ["MinCountConstraintComponent pvpp:satisfiesNeed"]
    d = dry.json()["diff"]
    assert [c["node"] for c in d["added"] if c["kind"] == "service"] == [ID + "service/varam/jauns-pakalpojums"]
    assert sorted(c["node"] for c in d["changed"] if c["kind"] == "service") == [
        ID + "service/varam/" + TRAINING,
        ID + "service/varam/" + CENTRES,
    ]
    assert d["removed"] == [] and d["counts"]["service"] == {"added": 1, "removed": 0, "changed": 2, "unchanged": 1}
    training = next(c for c in d["changed"] if c["node"].endswith(TRAINING))
    assert training["fields"] == [
        {
            "field": "dct:title",
            "old": [
                "Pakalpojumu pārvaldības atbildīgo personu apmācība@lv",
                "Training of persons responsible for service management@en",
            ],  # fmt: skip
            "new": ["Pakalpojumu pārvaldības atbildīgo personu apmācība@lv", "Training of service-management staff@en"],
        }
    ]
    assert d["reassigned"] == [
        {
            "node": ID + "service/varam/" + CENTRES,
            "field": "pvpp:serviceManager",
            "old": ["pvppid:post/varam/pv-vpvkac"],
            "new": ["pvppid:post/varam/pv-pakalpojumu-parvaldiba"],
        }
    ]
    trig = dry_run(server, good, "application/trig")
    assert trig.status_code == 200 and trig.headers["content-type"].startswith("application/trig")
    quads = list(ox.parse(trig.content, format=ox.RdfFormat.TRIG))
    added = {(q.subject.value, q.object.value) for q in quads if q.graph_name.value.endswith("added")}
    assert (ID + "service/varam/" + TRAINING, "Training of service-management staff") in added
    assert state(server) == before  # a dry run stores nothing

    # the browser's form: preview, then confirm, then the receipt
    page = httpx.post(
        server.url + "/submissions/preview",
        files=upload("varam.xlsx", good),
        data={"csrf": csrf, "lang": "en"},
        cookies=cookies,
        headers={"Accept": "text/html"},
        timeout=90,
    )
    assert page.status_code == 200, page.text[:500]
    assert (
        page.text.count('<li class="changed"') >= 2
        and 'data-node="' + ID + 'service/varam/jauns-pakalpojums"' in page.text
    )
    assert 'id="reassigned"' in page.text and "pvppid:post/varam/pv-vpvkac" in page.text
    assert "<h1>Preview of changes: Ministry of Smart Administration and Regional Development <code>varam" in page.text
    assert '<tr data-kind="service"><td>services</td>' in page.text and 'id="confirm"' in page.text
    kept = re.search(r'name="upload" value="([^"]+)"', page.text).group(1)
    assert state(server) == before
    # another institution's session cannot confirm it
    _, other_csrf = sign_in(server, VK)
    r = httpx.post(server.url + "/submissions/confirm", data={"csrf": other_csrf, "upload": kept}, cookies=other,
                   timeout=60)  # fmt: skip
    assert r.status_code == 403 and state(server) == before
    r = httpx.post(server.url + "/submissions/confirm", data={"upload": kept}, cookies=cookies, timeout=60)
    assert r.status_code == 403 and state(server) == before  # no CSRF token
    r = httpx.post(
        server.url + "/submissions/confirm", data={"csrf": csrf, "upload": kept}, cookies=cookies, timeout=90
    )
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"] == f"/submissions/varam/{start[-1] + 1}/receipt"
    receipt = httpx.get(server.url + r.headers["location"], timeout=30)
    assert f'id="receipt-version">{start[-1] + 1}<' in receipt.text
    checksum = re.search(r'id="receipt-checksum">([0-9a-f]{64})<', receipt.text).group(1)
    history = httpx.get(f"{server.url}/submissions/varam", timeout=30).json()["versions"]
    assert history[-1]["checksum"] == checksum and versions(server, "varam") == [*start, start[-1] + 1]
    assert 'href="/compliance/varam?lang=lv"' in receipt.text
    assert f'href="/submissions/varam/{start[-1] + 1}"' in receipt.text
    assert httpx.get(server.url + "/compliance/varam", timeout=60).status_code == 200  # the linked page exists
    content = httpx.get(server.url + f"/submissions/varam/{start[-1] + 1}", timeout=30).text
    assert "A new service" in content and "Training of service-management staff" in content
    home = httpx.get(server.url + "/institution", cookies=cookies, timeout=30).text
    assert all(f'data-version="{v}"' in home for v in [*start, start[-1] + 1])
    # confirmed once: the same form sent again (a double click, the back button) stores nothing and leads to the
    # receipt of the version it was stored as, not to "no longer kept"
    r = httpx.post(
        server.url + "/submissions/confirm", data={"csrf": csrf, "upload": kept}, cookies=cookies, timeout=60
    )
    assert r.status_code == 303 and r.headers["location"] == f"/submissions/varam/{start[-1] + 1}/receipt"
    assert versions(server, "varam") == [*start, start[-1] + 1]
    # another institution's session learns nothing about it
    other_cookies, other_csrf = sign_in(server, VK)
    r = httpx.post(
        server.url + "/submissions/confirm",
        data={"csrf": other_csrf, "upload": kept},
        cookies=other_cookies,
        timeout=60,
    )
    assert r.status_code == 404


def _sheet_with(change: Callable[[object], None]) -> bytes:
    from pvpp_kg.validation.template import build_workbook

    wb = load_workbook(io.BytesIO(build_workbook(Path("data/reference").resolve())))
    change(wb)
    return xlsx_bytes(wb)


def _bad_layout(wb: object) -> None:
    """Four mistakes in one workbook: a wrong id, a missing required column, an unknown column, a wrong sheet."""
    wb["institutions"]["A4"] = "Ne derīgs"  # type: ignore[index]  # key: not an id (the example row becomes data)
    wb["posts"].delete_cols(5)  # type: ignore[index]  # role
    wb["services"].cell(1, 14).value = "colour"  # type: ignore[index]
    wb["participations"].title = "dalibas"  # type: ignore[index]


LAYOUT = [
    ("institutions", 4, "key", "CellValue"),
    ("posts", 1, "role", "MissingColumn"),
    ("services", 1, "colour", "UnknownColumn"),
    ("dalibas", 1, None, "UnknownSheet"),
]


def test_wrong_sheets_and_columns_are_a_report(server: LiveServer) -> None:
    """Wrong sheet names and missing or unknown columns are results of the report (layer sheet), each naming its
    sheet and column, found in one pass with the cell errors; in lv and en, on every report format; nothing stored."""
    body = _sheet_with(_bad_layout)
    cookies, csrf = sign_in(server, VARAM)
    before = state(server)
    r = httpx.post(
        server.url + "/validate",
        files=upload("layout.xlsx", body),
        data={"lang": "lv"},
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:300]
    report = r.json()
    assert report["conforms"] is False and report["violations"] == 4 and report["layers"] == {"sheet": {"Violation": 4}}
    found = [(x["sheet"], x["row"], x["column"], x["rule"]) for x in report["results"]]
    assert found == LAYOUT
    lv = [x["messages"]["lv"] for x in report["results"]]
    assert lv[1] == "trūkst obligātās kolonnas 'role' (pievienojiet to 1. rindā)"
    assert lv[2].startswith("nezināma kolonna 'colour'; lapas kolonnas ir: institution, id, kind")
    assert lv[3] == (
        "nezināma lapa 'dalibas'; veidnes lapas ir: institutions, posts, services, resources, participations, "
        "slas, needs, life_situations"
    )
    assert report["results"][3]["messages"]["en"].startswith("unknown sheet 'dalibas'")
    assert {x["rule"]: x["count"] for x in report["rules"]} == {
        "CellValue institutions.key": 1,
        "MissingColumn posts.role": 1,
        "UnknownColumn services.colour": 1,
        "UnknownSheet": 1,
    }
    # the downloads: CSV rows name sheet and column; the fix-it workbook marks the unknown column's header cell
    links = report["links"]
    rows = list(csv.reader(io.StringIO(httpx.get(server.url + links["csv"], timeout=30).text)))
    assert [(x[3], x[4], x[5], x[2]) for x in rows[1:]] == [(s, str(n), c or "", k) for s, n, c, k in LAYOUT]
    html = httpx.get(server.url + links["html"], timeout=30).text.replace("&#39;", "'")
    assert "nezināma lapa 'dalibas'" in html and "trūkst obligātās kolonnas 'role'" in html
    fixed = load_workbook(io.BytesIO(httpx.get(server.url + links["fixit"], timeout=60).content))
    assert "unknown column 'colour'" in fixed["services"]["N1"].comment.text
    summary = [(x[1], x[2], x[3]) for x in fixed["results"].iter_rows(min_row=2, values_only=True)]
    assert summary == [(s, n, c or None) for s, n, c, _ in LAYOUT]
    # the API's dry run and submission, and the browser's preview: the same four, 422, nothing stored
    for params in ({"dry_run": "true"}, {}):
        api = httpx.post(
            server.url + "/submissions",
            params=params,
            files=upload("layout.xlsx", body),
            headers=bearer(VARAM),
            timeout=60,
        )
        assert api.status_code == 422 and api.json()["error"] == "not_read"
        assert [(x["sheet"], x["row"], x["column"], x["rule"]) for x in api.json()["results"]] == LAYOUT
    page = httpx.post(
        server.url + "/submissions/preview",
        files=upload("layout.xlsx", body),
        data={"csrf": csrf, "lang": "en"},
        cookies=cookies,
        headers={"Accept": "text/html"},
        timeout=60,
    )
    text = page.text.replace("&#39;", "'")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "unknown sheet 'dalibas'" in text and "the required column 'role' is missing" in text
    assert "unknown column 'colour'" in text
    assert state(server) == before


def _formula(wb: object) -> None:
    wb["services"]["A4"] = "=1+1"  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "body", "status", "shown"),
    [
        ("formula", _sheet_with(_formula), 400, "formulas are not accepted"),
        ("too-large", b"PK" + b"\0" * (LIMIT + 10), 413, f"larger than {LIMIT} bytes"),
        ("zip-bomb", BOMB, 400, "expands to"),
        ("huge-dimension", _huge_dimension(), 400, "declares 3,000,000 rows"),
        ("macros", _with_member(_workbook(), "xl/vbaProject.bin", b"\0" * 64), 400, "macro-enabled"),
    ],
)
def test_bad_uploads_store_nothing(server: LiveServer, name: str, body: bytes, status: int, shown: str) -> None:
    cookies, csrf = sign_in(server, VARAM)
    before = state(server)
    api = httpx.post(
        server.url + "/submissions",
        params={"dry_run": "true"},
        files=upload(f"{name}.xlsx", body),
        headers=bearer(VARAM),
        timeout=60,
    )
    assert api.status_code == status and shown in api.json()["message"]
    page = httpx.post(
        server.url + "/submissions/preview",
        files=upload(f"{name}.xlsx", body),
        data={"csrf": csrf},
        cookies=cookies,
        headers={"Accept": "text/html,application/xhtml+xml"},
        timeout=60,
    )
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert shown in page.text.replace("&#39;", "'")
    assert state(server) == before


def test_sessions_and_csrf(server: LiveServer) -> None:
    cookies, csrf = sign_in(server, VARAM)
    before = state(server)
    good = httpx.get(server.url + "/template.xlsx", cookies=cookies, timeout=30).content
    cases = [
        ({"csrf": csrf}, {}, 403),  # no session
        ({}, cookies, 403),  # no CSRF token
        ({"csrf": "x" * 32}, cookies, 403),  # a wrong one
        ({"csrf": csrf}, {"pvpp_session": cookies["pvpp_session"][:-3] + "abc"}, 403),  # a forged cookie
    ]
    # an expired session: signed with the server's key, eight hours and a second ago
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 3600 - 1

    payload = URLSafeTimedSerializer("test-secret", salt="pvpp-kg session").loads(cookies["pvpp_session"])
    expired = URLSafeTimedSerializer("test-secret", salt="pvpp-kg session", signer=Past).dumps(payload)
    cases.append(({"csrf": csrf}, {"pvpp_session": expired}, 403))
    for data, jar, status in cases:
        r = httpx.post(
            server.url + "/submissions/preview", files=upload("x.xlsx", good), data=data, cookies=jar, timeout=60
        )
        assert r.status_code == status, (data, r.text)
    # the CSRF token is checked before the document is read: a CSRF-less garbage upload is 403, not 400
    r = httpx.post(server.url + "/submissions/preview", files=upload("x.xlsx", b"garbage"), cookies=cookies, timeout=60)
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    # a wrong token does not sign in; the sign-in form needs its own CSRF token
    page = httpx.get(server.url + "/signin", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = httpx.post(
        server.url + "/signin",
        data={"token": "nope", "csrf": token},
        cookies={"pvpp_signin": page.cookies["pvpp_signin"]},
        headers={"Accept": "text/html"},
    )
    assert (
        r.status_code == 403
        and "not an institution" in r.text
        and "pvpp_session" not in r.headers.get("set-cookie", "")
    )
    assert httpx.post(server.url + "/signin", data={"token": VARAM}, timeout=30).status_code == 403
    # institution A cannot preview or submit for B
    r = httpx.post(
        server.url + "/submissions",
        params={"dry_run": "true", "institution": "vk"},
        files=upload("x.xlsx", good),
        headers=bearer(VARAM),
        timeout=60,
    )
    assert r.status_code == 403
    vk_rows = httpx.get(server.url + "/template.xlsx", headers=bearer(VK), timeout=30).content
    r = httpx.post(
        server.url + "/submissions/preview", files=upload("vk.xlsx", vk_rows), data={"csrf": csrf}, cookies=cookies,
        timeout=60,
    )  # fmt: skip
    # in the browser: the report of the rows that are not VARAM's, at their cells (the API above: 403)
    assert r.status_code == 422 and 'data-cell="institutions!' in r.text and "vk" in r.text
    # sign-out ends the session
    r = httpx.post(server.url + "/signout", data={"csrf": csrf}, cookies=cookies, timeout=30)
    assert r.status_code == 303 and "Max-Age=0" in r.headers["set-cookie"]
    r = httpx.post(
        server.url + "/submissions/preview", files=upload("x.xlsx", good), data={"csrf": csrf}, cookies=cookies
    )
    assert r.status_code == 403  # the cookie as it was before the sign-out is refused too
    assert state(server) == before


def test_a_stale_preview_is_not_stored_over_a_newer_version(server: LiveServer) -> None:
    """Two previews of VK's data made against the same version: once one is confirmed, the other's changes were
    never shown against what is now stored, so confirming it is a 409 (in Latvian too) and stores nothing; the
    upload previewed again can be confirmed."""
    cookies, csrf = sign_in(server, VK)
    good = httpx.get(server.url + "/template.xlsx", cookies=cookies, timeout=30).content
    wb = load_workbook(io.BytesIO(good))
    ws = wb["services"]
    row = next(c.row for c in ws["D"] if c.row > 3 and c.value)
    title = ws.cell(row, 4).value
    ws.cell(row, 4, value=title + " (grozīts)")
    changed = xlsx_bytes(wb)
    ws.cell(row, 4, value=title + " (cits)")
    other = xlsx_bytes(wb)

    def preview(body: bytes) -> str:
        page = httpx.post(
            server.url + "/submissions/preview",
            files=upload("vk.xlsx", body),
            data={"csrf": csrf, "lang": "lv"},
            cookies=cookies,
            timeout=90,
        )
        assert page.status_code == 200, page.text[:500]
        return re.search(r'name="upload" value="([^"]+)"', page.text).group(1)

    first, second = preview(changed), preview(other)
    start = versions(server, "vk")
    r = httpx.post(server.url + "/submissions/confirm", data={"csrf": csrf, "upload": first}, cookies=cookies,
                   timeout=90)  # fmt: skip
    assert r.status_code == 303 and versions(server, "vk") == [*start, (start[-1] if start else 0) + 1]
    stored = graph_of(server, "vk")
    r = httpx.post(
        server.url + "/submissions/confirm",
        data={"csrf": csrf, "upload": second},
        cookies=cookies,
        headers={"Accept": "application/json", "Accept-Language": "lv"},
        timeout=90,
    )
    assert r.status_code == 409, r.text[:300]
    assert "changed after this preview" in r.json()["messages"]["en"]
    assert "mainījušies kopš šī priekšskatījuma" in r.json()["messages"]["lv"]
    assert versions(server, "vk") == [*start, (start[-1] if start else 0) + 1] and graph_of(server, "vk") == stored
    r = httpx.post(server.url + "/submissions/confirm", data={"csrf": csrf, "upload": preview(other)},
                   cookies=cookies, timeout=90)  # fmt: skip
    assert r.status_code == 303 and len(versions(server, "vk")) == len(start) + 2


def test_the_reports_language_follows_accept_language_and_a_shared_link(server: LiveServer) -> None:
    """No ``lang``: Accept-Language chooses between lv and en (an API client naming neither keeps English); a kept
    report's download takes ``?lang=`` (a colleague reading a shared link in the other language)."""
    body = (Path(__file__).parents[1] / "data" / "shapes" / "service-title-en-missing.ttl").read_bytes()

    def validate(accept_language: str) -> httpx.Response:
        return httpx.post(
            server.url + "/validate",
            files=upload("t.ttl", body, "text/turtle"),
            headers={"Accept": "application/json", "Accept-Language": accept_language},
            timeout=60,
        )

    lv, en = validate("lv-LV,lv;q=0.9,en;q=0.5"), validate("de")
    assert lv.status_code == en.status_code == 200, lv.text[:300]
    assert lv.json()["lang"] == "lv" and en.json()["lang"] == "en"
    first = lv.json()["results"][0]
    assert first["message"] == first["messages"]["lv"] != first["messages"]["en"]
    link = lv.json()["links"]["json"]
    shared = httpx.get(server.url + link, params={"lang": "en"}, timeout=30).json()
    assert shared["lang"] == "en" and shared["results"][0]["message"] == first["messages"]["en"]
    assert httpx.get(server.url + link, timeout=30).json()["lang"] == "lv"  # as made, without ?lang
    assert httpx.get(server.url + link, params={"lang": "de"}, timeout=30).status_code in (400, 422)


def test_a_holder_iri_that_looks_like_a_name_is_refused_in_turtle(server: LiveServer) -> None:
    """org:heldBy <person/janis.berzins> would publish the name in the IRI: a submission (here its dry run) is
    refused with the result at that statement, as the spreadsheet's holder cell is."""
    sample = (Path("data/sample/varam.ttl").resolve()).read_text(encoding="utf-8")
    assert "org:heldBy <person/p-0020>" in sample
    body = sample.replace("org:heldBy <person/p-0020>", "org:heldBy <person/janis.berzins>").encode()
    r = httpx.post(
        server.url + "/submissions",
        params={"dry_run": "true"},
        content=body,
        headers={**bearer(VARAM), "Content-Type": "text/turtle", "Accept": "application/json"},
        timeout=90,
    )
    assert r.status_code == 400, r.text[:300]
    hits = [x for x in r.json()["results"] if x["value"] == "https://w3id.org/pvpp/id/person/janis.berzins"]
    assert hits and "looks like a name" in hits[0]["messages"]["en"]
    assert "izskatās pēc vārda" in hits[0]["messages"]["lv"]


def test_an_upload_kept_only_for_its_report_cannot_be_confirmed(server: LiveServer) -> None:
    """``/validate`` keeps an upload for its report downloads, not for submission: confirming it is 400 with a
    message, nothing is stored, and the upload stays kept (its report still downloads)."""
    cookies, csrf = sign_in(server, VARAM)
    before = state(server)
    good = httpx.get(server.url + "/template.xlsx", cookies=cookies, timeout=30).content
    page = httpx.post(
        server.url + "/validate",
        files=upload("varam.xlsx", good),
        cookies=cookies,
        headers={"Accept": "application/json"},
        timeout=90,
    )
    assert page.status_code == 200, page.text[:300]
    link = page.json()["links"]["json"]
    kept = link.rsplit("/", 1)[1].removesuffix(".json")
    r = httpx.post(server.url + "/submissions/confirm", data={"csrf": csrf, "upload": kept}, cookies=cookies)
    assert r.status_code == 400 and "not previewed for submission" in r.json()["message"]
    assert state(server) == before
    again = httpx.get(server.url + link, cookies=cookies, timeout=30)
    assert again.status_code == 200 and again.json()["conforms"] is True


def test_a_stored_spreadsheets_results_point_at_their_cells(server: LiveServer) -> None:
    """``POST /submissions`` of a workbook answers 201 with its warnings located as ``/validate`` locates them:
    sheet, row and column (they were null)."""
    wb = load_workbook(io.BytesIO(httpx.get(server.url + "/template.xlsx", headers=bearer(VK), timeout=30).content))
    ws = wb["services"]
    row = 4  # the first service under the header rows
    needs = next(c.column for c in ws[1] if c.value == "needs")
    assert ws.cell(row, needs).value
    ws.cell(row, needs).value = None
    r = httpx.post(server.url + "/submissions", files=upload("vk.xlsx", xlsx_bytes(wb)), headers=bearer(VK), timeout=90)
    assert r.status_code == 201, r.text[:500]
    located = [(x["severity"], x["sheet"], x["row"], x["column"]) for x in r.json()["results"]]
    assert ("Warning", "services", row, "needs") in located and all(x[1] for x in located)


def test_a_missing_english_title_points_at_the_english_column(server: LiveServer) -> None:
    """ "No English title" is about ``title_en``: the report and the fix-it cell say that column, not ``title_lv``
    (the first column of ``dct:title``)."""
    wb = load_workbook(io.BytesIO(httpx.get(server.url + "/template.xlsx", headers=bearer(VK), timeout=30).content))
    ws = wb["services"]
    header = [c.value for c in ws[1]]
    row = 4
    assert ws.cell(row, header.index("title_en") + 1).value
    ws.cell(row, header.index("title_en") + 1).value = None
    r = httpx.post(
        server.url + "/validate",
        files=upload("vk.xlsx", xlsx_bytes(wb)),
        headers={"Accept": "application/json"},
        timeout=90,
    )
    assert r.status_code == 200, r.text[:500]
    english = [x for x in r.json()["results"] if "English title" in x["messages"]["en"]]
    assert [(x["sheet"], x["row"], x["column"]) for x in english] == [("services", row, "title_en")]


def test_validate_without_a_token_gives_the_submissions_verdict(server: LiveServer) -> None:
    """An anonymous pre-check of an institution's workbook reads the other institutions' data it refers to, as
    the submission does: VARAM's own template, which ``POST /submissions`` stores, conforms on ``/validate`` too
    (its life situations are described in VSAA's graph; without them they were "not of the required class")."""
    prefilled = httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30).content
    dry = dry_run(server, prefilled)
    anonymous = httpx.post(
        server.url + "/validate",
        files=upload("varam.xlsx", prefilled),
        headers={"Accept": "application/json"},
        timeout=90,
    )
    assert dry.status_code == anonymous.status_code == 200, anonymous.text[:300]
    assert dry.json()["conforms"] is True
    assert anonymous.json()["violations"] == 0, [x["message"] for x in anonymous.json()["results"]][:3]


def test_the_institutions_pages_speak_the_readers_language(server: LiveServer) -> None:
    """Sign-in, the institution's page, a receipt and an error page are in Latvian or English as the reader
    chose (``?lang=`` or Accept-Language), like every other page — not both at once — and name the institution."""
    en = {"Accept-Language": "en"}
    signin = httpx.get(server.url + "/signin", headers=en, timeout=30).text
    assert "<h1>Sign in as an institution</h1>" in signin and "Pieteikties" not in signin
    assert "<h1>Iestādes pieteikšanās</h1>" in httpx.get(server.url + "/signin", timeout=30).text
    cookies, _ = sign_in(server, VK)
    home = httpx.get(server.url + "/institution", params={"lang": "en"}, cookies=cookies, timeout=30).text
    assert "<h1>Institution: State Chancellery" in home and "Upload and check" in home
    assert "Augšupielādēt" not in home and '<option value="en" selected>' in home
    lv = httpx.get(server.url + "/institution", cookies=cookies, timeout=30).text
    assert "<h1>Iestāde: Valsts kanceleja" in lv and "Augšupielādēt un pārbaudīt" in lv and "Upload" not in lv
    stored = httpx.get(f"{server.url}/submissions/vk", timeout=30).json()["versions"]
    if not stored:  # a first version for the receipt
        wb = httpx.get(server.url + "/template.xlsx", headers=bearer(VK), timeout=30).content
        r = httpx.post(server.url + "/submissions", files=upload("vk.xlsx", wb), headers=bearer(VK), timeout=90)
        assert r.status_code == 201, r.text[:300]
        stored = httpx.get(f"{server.url}/submissions/vk", timeout=30).json()["versions"]
    number = stored[-1]["version"]
    receipt = httpx.get(f"{server.url}/submissions/vk/{number}/receipt", headers=en, timeout=30).text
    assert "<h1>Receipt</h1>" in receipt and "The submission is stored." in receipt and "Kvīts" not in receipt
    missing = httpx.get(server.url + "/submissions/vk/999/receipt", headers={**en, "Accept": "text/html"})
    assert missing.status_code == 404 and "<h1>Something is wrong (404)</h1>" in missing.text
    assert "Neizdevās" not in missing.text
    lv_missing = httpx.get(server.url + "/submissions/vk/999/receipt", headers={"Accept": "text/html"})
    assert "<h1>Neizdevās (404)</h1>" in lv_missing.text


def test_a_row_about_another_institution_is_a_report_in_the_browser(server: LiveServer) -> None:
    """A clerk whose workbook has a row about another institution's node (Riga's need) sees it at that row, in the
    report with the fix-it workbook (422), not a bare error page; the bearer-token API keeps its 403; nothing is
    stored."""
    before = state(server)
    wb = load_workbook(io.BytesIO(httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30).content))
    ws = wb["needs"]
    row = ws.max_row + 1
    ws.cell(row, 1).value, ws.cell(row, 2).value = "drosa-vide", "Droša vide"  # Riga's need, stated again
    body = xlsx_bytes(wb)
    api = httpx.post(server.url + "/submissions", files=upload("varam.xlsx", body), headers=bearer(VARAM), timeout=90)
    assert api.status_code == 403 and "'varam'" in api.json()["message"]
    cookies, csrf = sign_in(server, VARAM)
    page = httpx.post(
        server.url + "/submissions/preview",
        files=upload("varam.xlsx", body),
        data={"csrf": csrf, "lang": "lv"},
        cookies=cookies,
        timeout=90,
    )
    assert page.status_code == 422, page.text[:300]
    assert f'data-cell="needs!A{row}"' in page.text
    assert 'id="fixit"' in page.text and "Pārkāpums" in page.text
    # the Latvian message names the owner in Latvian ("pieder the reference data or another institution" before)
    assert "pieder atsauces datiem vai citai iestādei" in page.text and "another institution" not in page.text
    assert state(server) == before


def test_refused_cells_and_broken_rules_are_one_report(server: LiveServer) -> None:
    """Every problem in one pass, as the ITB validator reports them: a cell the reader refuses (a kind that is no
    code) and a rule the readable rows break (an availability target of 150 %) are in the same report, each at
    its cell, with the fix-it workbook; nothing is stored."""
    before = state(server)
    wb = load_workbook(io.BytesIO(httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30).content))
    services, slas = wb["services"], wb["slas"]
    kind_row = row_of(services, CENTRES)
    services.cell(kind_row, 3).value = "publisks"
    header = [c.value for c in slas[1]]
    sla_row = slas.max_row + 1
    for column, value in {
        "institution": "varam",
        "id": "apmacibas-sla",
        "service": TRAINING,
        "label_lv": "SLA: apmācība",
        "availability_target": "150",
    }.items():
        slas.cell(sla_row, header.index(column) + 1).value = value
    r = httpx.post(
        server.url + "/validate",
        files=upload("varam.xlsx", xlsx_bytes(wb)),
        data={"lang": "lv"},
        headers={"Accept": "application/json"},
        timeout=90,
    )
    assert r.status_code == 200, r.text[:300]
    results = r.json()["results"]
    found = {(x["sheet"], x["row"], x["column"], x["layer"]) for x in results}
    assert ("services", kind_row, "kind", "sheet") in found
    assert ("slas", sla_row, "availability_target", "pvpp") in found
    assert r.json()["links"]["fixit"] and state(server) == before
    # the standard SHACL report says the same: the refused cell is a result of its reading rule, the broken rule's
    # result names its cell
    r = httpx.post(
        server.url + "/validate",
        files=upload("varam.xlsx", xlsx_bytes(wb)),
        headers={"Accept": "text/turtle"},
        timeout=90,
    )
    g = Graph().parse(data=r.text, format="turtle")
    cells = {str(c) for c in g.objects(None, PVPP.cell)}
    assert f"services!C{kind_row}" in cells and any(re.fullmatch(rf"slas![A-Z]+{sla_row}", c) for c in cells)
    (refused,) = g.subjects(SH.sourceConstraintComponent, READING_RULE.CellValue)
    assert str(g.value(refused, SH.focusNode)) == f"services!C{kind_row}"
    assert len(set(g.subjects(RDF.type, SH.ValidationResult))) == len(results) and state(server) == before
    # the bearer-token API's submission and dry run answer the same whole report (they listed only the refused cell)
    for params in ({"dry_run": "true"}, {}):
        api = httpx.post(
            server.url + "/submissions",
            params=params,
            files=upload("varam.xlsx", xlsx_bytes(wb)),
            headers={**bearer(VARAM), "Accept": "application/json"},
            timeout=90,
        )
        assert api.status_code == 422 and api.json()["error"] == "not_read", api.text[:300]
        got = {(x["sheet"], x["row"], x["column"], x["layer"]) for x in api.json()["results"]}
        assert {("services", kind_row, "kind", "sheet"), ("slas", sla_row, "availability_target", "pvpp")} <= got
    assert state(server) == before


def test_personal_data_in_an_api_submission_is_a_report_at_its_cells(server: LiveServer) -> None:
    """A contact typed into two cells: the API's 400 carries the report with both cells (it gave one message
    naming the first node only); the browser's preview shows the same cells; nothing is stored."""
    before = state(server)
    wb = load_workbook(io.BytesIO(httpx.get(server.url + "/template.xlsx", headers=bearer(VARAM), timeout=30).content))
    services = wb["services"]
    column = [c.value for c in services[1]].index("description_lv") + 1
    rows = [row_of(services, TRAINING), row_of(services, CENTRES)]
    contacts = ("Konsultācijas: tālr. +371 29123456", "Rakstiet: anna.kalnina@varam.gov.lv")
    for row, contact in zip(rows, contacts, strict=True):
        services.cell(row, column).value = contact
    api = httpx.post(
        server.url + "/submissions",
        params={"dry_run": "true"},
        files=upload("varam.xlsx", xlsx_bytes(wb)),
        headers={**bearer(VARAM), "Accept": "application/json", "Accept-Language": "lv"},
        timeout=90,
    )
    assert api.status_code == 400, api.text[:300]
    assert api.json()["message"] == api.json()["messages"]["lv"]
    cells = {(x["sheet"], x["row"], x["column"]) for x in api.json()["results"]}
    assert {("services", r, "description_lv") for r in rows} <= cells
    assert state(server) == before
