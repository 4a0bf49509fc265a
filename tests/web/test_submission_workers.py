"""The browser submission across server processes: two uvicorn processes on one data directory, as the workers of
one server are (``PVPP_WORKERS``), with no ``session_secret`` set. A session made by one is read by the other, an
upload previewed on one is downloaded and confirmed on the other (once), a sign-out on one ends the session on
both, a new process after a restart still reads both, and an upload older than ``pending_ttl_s`` is gone."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from openpyxl import load_workbook

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from tests.conftest import LiveServer, tokens_file
from tests.web.test_submission_flow import TRAINING, VARAM, row_of, sign_in, upload, versions, xlsx_bytes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), {"varam": VARAM})
    s = make_settings(institution_tokens_file=tokens)
    assert s.session_secret is None
    ensure_loaded(s)
    return s


@pytest.fixture(scope="module")
def pair(shared: Settings) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = LiveServer(shared)
    try:
        b = LiveServer(shared)
    except Exception:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def test_sessions_and_uploads_are_shared_by_the_processes(
    pair: tuple[LiveServer, LiveServer], shared: Settings
) -> None:
    a, b = pair
    cookies, csrf = sign_in(a, VARAM)
    home = httpx.get(b.url + "/institution", cookies=cookies, timeout=30)
    assert home.status_code == 200 and f'name="csrf" value="{csrf}"' in home.text  # B reads A's cookie
    assert (shared.data_dir / "sessions" / "secret").stat().st_mode & 0o777 == 0o600

    # a preview on A: its report downloads and its confirmation on B
    wb = load_workbook(io.BytesIO(httpx.get(a.url + "/template.xlsx", cookies=cookies, timeout=30).content))
    ws = wb["services"]
    ws.cell(row_of(ws, TRAINING), 5).value = "Training of service-management staff, across workers"
    preview = httpx.post(
        a.url + "/submissions/preview",
        files=upload("varam.xlsx", xlsx_bytes(wb)),
        data={"csrf": csrf},
        cookies=cookies,
        timeout=120,
    )
    assert preview.status_code == 200, preview.text[:500]
    kept = re.search(r'name="upload" value="([^"]+)"', preview.text).group(1)
    assert (shared.data_dir / "pending" / f"{kept}.kept").exists()
    report = httpx.get(f"{b.url}/validate/reports/{kept}.json", cookies=cookies, timeout=30)
    assert report.status_code == 200 and report.json()["conforms"] is True
    fixit = httpx.get(f"{b.url}/validate/reports/{kept}/fixit.xlsx", cookies=cookies, timeout=60)
    assert fixit.status_code == 200 and "results" in load_workbook(io.BytesIO(fixit.content)).sheetnames
    assert httpx.get(f"{b.url}/validate/reports/{kept}.json", timeout=30).status_code == 403  # not signed in
    start = versions(b, "varam")
    confirm = httpx.post(b.url + "/submissions/confirm", data={"csrf": csrf, "upload": kept}, cookies=cookies)
    assert confirm.status_code == 303 and confirm.headers["location"] == f"/submissions/varam/{len(start) + 1}/receipt"
    assert versions(a, "varam") == [*start, len(start) + 1]
    # taken by B's confirmation: A does not store it a second time, and knows which version it became
    again = httpx.post(a.url + "/submissions/confirm", data={"csrf": csrf, "upload": kept}, cookies=cookies)
    assert again.status_code == 303 and again.headers["location"] == confirm.headers["location"]
    assert versions(a, "varam") == [*start, len(start) + 1]
    assert not (shared.data_dir / "pending" / f"{kept}.kept").exists()

    # an upload older than pending_ttl_s (3600 s) is gone for both
    page = httpx.post(
        a.url + "/validate", files=upload("varam.xlsx", xlsx_bytes(wb)), headers={"Accept": "application/json"}
    )
    old = page.json()["links"]["json"]
    assert httpx.get(b.url + old, timeout=30).status_code == 200
    path = shared.data_dir / "pending" / f"{old.rsplit('/', 1)[1].removesuffix('.json')}.kept"
    hour_ago = time.time() - shared.pending_ttl_s - 5
    os.utime(path, (hour_ago, hour_ago))
    gone = httpx.get(b.url + old, timeout=30)
    assert gone.status_code == 404 and "no longer kept" in gone.json()["message"]

    # a restart (a new process) still reads the cookie; a sign-out on B ends the session on A and on the new one
    c = LiveServer(shared)
    try:
        assert httpx.get(c.url + "/institution", cookies=cookies, timeout=30).status_code == 200
        out = httpx.post(b.url + "/signout", data={"csrf": csrf}, cookies=cookies, timeout=30)
        assert out.status_code == 303
        for server in (a, c):
            r = httpx.get(server.url + "/institution", cookies=cookies, timeout=30, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/signin"
    finally:
        c.stop()
