"""Shared fixtures: one store built from the real sources per session, an in-process client, a live server.

Tests that write get their own store (``make_settings``) so the shared one stays as loaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pvpp_kg.settings import Settings
from pvpp_kg.store.loader import ensure_loaded
from pvpp_kg.web.app import create_app
from pvpp_kg.web.auth import digest

ADMIN_TOKEN = "test-admin-token"
TESTS = Path(__file__).parent


def tokens_file(directory: Path, tokens: dict[str, str]) -> Path:
    """A per-institution tokens file as the server reads it (institution key -> the token's digest, never the
    token itself)."""
    path = directory / "tokens.json"
    path.write_text(json.dumps({key: digest(token) for key, token in tokens.items()}))
    return path


def generate_tiny(out: Path, *, seed: int = 1, violations: float = 0.05) -> Path:
    """A generated tiny dataset (N-Quads at ``out``, its violations beside it) through the real CLI."""
    command = ["generate", "--preset", "tiny", "--violations", str(violations), "--seed", str(seed), "--out", str(out)]
    subprocess.run(
        [sys.executable, "-m", "pvpp_kg", *command, "--quiet"],
        cwd=TESTS.parent,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path_factory.mktemp("store"),
            "admin_token": ADMIN_TOKEN,
            "query_workers": 2,
            # a background revalidation would change the data version under tests that watch it; the compliance
            # tests turn it on or run `pvpp-kg revalidate`
            "revalidate_on_start": False,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    s = make_settings()
    ensure_loaded(s)
    return s


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"PVPP_{name.upper()}"] = str(value)
    return env


class LiveServer:
    """uvicorn in a subprocess on a free loopback port; stopped by the fixture."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "pvpp_kg.web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=settings_env(settings),
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
        self.stop()
        raise RuntimeError("the server did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[LiveServer]:
    """The sample data loaded into ``settings``' store and a server on it, stopped after."""
    ensure_loaded(settings)
    server = LiveServer(settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    yield server
    server.stop()


class OxigraphServer:
    """The real Oxigraph server from PyPI, on a free loopback port, loaded with our public dataset."""

    def __init__(self, directory: Path, nquads: bytes) -> None:
        exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [exe, "serve", "--location", str(directory), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                httpx.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = httpx.post(self.url + "/store", content=nquads, headers={"Content-Type": "application/n-quads"}, timeout=60)
        assert r.status_code in (200, 204), r.text

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@contextlib.contextmanager
def listening() -> Iterator[tuple[int, list[object]]]:
    """A TCP listener on 127.0.0.1: the port, and the connections it accepted (SERVICE/LOAD must reach none)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(sock.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    sock.close()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    with listening() as found:
        yield found


# -- headless Chromium (Debian's chromium, driven by Playwright): shared by every browser test -------------------
ARTIFACTS = TESTS / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")  # not session: Playwright keeps an event loop in this thread while it runs
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
