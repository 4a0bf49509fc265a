"""The pre-filled template holds every fact the sample data states about an institution: for each of the twelve
sample institutions, its pre-filled workbook (and its CSV variant), uploaded unchanged, changes nothing — the
API's dry run and the browser's preview both show no change, node by node."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from pvpp_kg.settings import Settings
from tests.conftest import LiveServer, serving, tokens_file
from tests.web.test_submission_flow import XLSX, bearer, graph_of, sign_in, upload

pytestmark = pytest.mark.slow

# per institution: triples of its stored graph; its services, posts, resources (unchanged in the diff); the SLAs,
# needs and life situations it describes (data/sample/*.ttl)
SAMPLE = {
    "csp": (354, 3, 6, 2, 3, 2, 0),
    "iem-ic": (264, 2, 4, 1, 2, 1, 0),
    "lad": (333, 3, 4, 2, 3, 2, 0),
    "lm": (77, 0, 2, 1, 0, 0, 0),
    "madonas-novads": (368, 4, 6, 1, 4, 4, 0),
    "riga": (542, 6, 8, 2, 6, 6, 0),
    "ta": (349, 3, 5, 2, 3, 2, 0),
    "varam": (437, 3, 5, 1, 3, 3, 0),
    "vdaa": (662, 5, 7, 4, 5, 4, 0),
    "vk": (329, 3, 5, 1, 3, 3, 0),
    "vsaa": (1009, 12, 7, 2, 12, 7, 3),
    "vzd": (598, 5, 6, 3, 5, 3, 0),
}
TOKENS = {key: f"{key}-token" for key in SAMPLE}


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tokens = tokens_file(tmp_path_factory.mktemp("tok"), TOKENS)
    s = make_settings(institution_tokens_file=tokens, session_secret="roundtrip")
    with serving(s) as srv:
        yield srv


@pytest.mark.parametrize("key", sorted(SAMPLE))
def test_prefilled_template_uploaded_unchanged_changes_nothing(server: LiveServer, key: str) -> None:
    triples, services, posts, resources, slas, needs, situations = SAMPLE[key]
    stored = graph_of(server, key)
    assert len(stored) == triples
    described = {line.split(" ", 1)[0] for line in stored}
    for kind, n in (("sla", slas), ("need", needs), ("life-situation", situations)):
        assert sum(1 for node in described if node.startswith(f"<https://w3id.org/pvpp/id/{kind}/")) == n, kind
    for path, name, ctype in (
        ("/template.xlsx", f"{key}.xlsx", XLSX),
        ("/template.zip", f"{key}.zip", "application/zip"),
    ):
        body = httpx.get(server.url + path, headers=bearer(TOKENS[key]), timeout=30).content
        r = httpx.post(
            server.url + "/submissions",
            params={"dry_run": "true"},
            files=upload(name, body, ctype),
            headers=bearer(TOKENS[key]),
            timeout=120,
        )
        assert r.status_code == 200, (name, r.text[:500])
        diff = r.json()["diff"]
        assert (diff["added"], diff["removed"], diff["changed"], diff["reassigned"]) == ([], [], [], []), name
        assert diff["triples"] == {"removed": 0, "added": 0}, name
        unchanged = {kind: c["unchanged"] for kind, c in diff["counts"].items()}
        assert all(c["added"] == c["removed"] == c["changed"] == 0 for c in diff["counts"].values())
        assert unchanged.get("service", 0) == services and unchanged.get("post", 0) == posts, name
        assert unchanged.get("resource", 0) == resources, name
        assert unchanged.get("other", 0) >= slas + needs + situations, name  # SLAs, needs, life situations
    assert graph_of(server, key) == stored  # a dry run stores nothing


def test_the_browser_preview_of_an_unchanged_template_shows_no_change(server: LiveServer) -> None:
    cookies, csrf = sign_in(server, TOKENS["vsaa"])
    body = httpx.get(server.url + "/template.xlsx", cookies=cookies, timeout=30).content
    page = httpx.post(
        server.url + "/submissions/preview",
        files=upload("vsaa.xlsx", body),
        data={"csrf": csrf},
        cookies=cookies,
        timeout=120,
    )
    assert page.status_code == 200, page.text[:500]
    assert 'id="nothing"' in page.text
    # nothing to store: no confirmation offered, no empty headings; the institution by its name
    assert 'id="confirm"' not in page.text and 'id="services"' not in page.text and 'id="other"' not in page.text
    assert "<h1>Izmaiņu priekšskatījums: Valsts sociālās apdrošināšanas aģentūra <code>vsaa</code></h1>" in page.text
