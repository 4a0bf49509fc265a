"""The SPARQL tests' servers: pvpp-kg embedded, and pvpp-kg in remote mode over a real Oxigraph server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pvpp_kg.settings import Settings
from tests.conftest import LiveServer, OxigraphServer


# -- servers ------------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def remote_endpoint(
    settings: Settings, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """pvpp-kg in remote mode over a real Oxigraph server that holds the same public dataset."""
    dump = httpx.get(live_server.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60).content
    oxi = OxigraphServer(tmp_path_factory.mktemp("oxigraph"), dump)
    remote_settings = settings.model_copy(
        update={
            "remote_query_url": oxi.url + "/query",
            "remote_update_url": oxi.url + "/update",
            "remote_store_url": oxi.url + "/store",
        }
    )
    server = LiveServer(remote_settings)
    try:
        yield server.url
    finally:
        server.stop()
        oxi.stop()


@pytest.fixture(scope="package", params=["embedded", "remote"])
def endpoint(request: pytest.FixtureRequest, live_server: LiveServer) -> str:
    """Every protocol test runs against both modes."""
    return live_server.url if request.param == "embedded" else request.getfixturevalue("remote_endpoint")
