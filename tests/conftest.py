"""Shared fixtures: a test hall config, a settable clock, the app, socket clients and a live server."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent

# A small hall: two agencies, three services, three counters.
HALL = {
    # Not announced on the LAN by mDNS: tests/test_discovery.py turns it on, on loopback only.
    "server": {"secret_key": "test-secret-key-0123456789-abcdefghijkl", "async_mode": "threading",
               "announce": False},
    "hall": {"name": "MPP Uji", "timezone": "Asia/Jakarta", "running_text": "Selamat datang"},
    # Tests and their servers issue many tickets from 127.0.0.1, as a hall's kiosk would;
    # tests/test_ratelimit.py takes the trust away to test the limit itself.
    "limits": {"trusted_addresses": ["127.0.0.0/8", "::1"]},
    # The offline voice: tests never reach for the internet (gTTS is stubbed where it is tested).
    "voice": {"engine": "espeak"},
    "agencies": [{"code": "dukcapil", "name": "Dukcapil"}, {"code": "imigrasi", "name": "Imigrasi"}],
    "services": [
        {"code": "ktp", "agency": "dukcapil", "name": "KTP", "prefix": "A", "hours": "07:30-16:00"},
        {"code": "kk", "agency": "dukcapil", "name": "KK", "prefix": "B", "daily_quota": 3},
        {"code": "paspor", "agency": "imigrasi", "name": "Paspor", "prefix": "C", "priority_allowed": False},
    ],
    "counters": [
        {"number": 1, "name": "Gerai 1", "spoken_name": "gerai satu", "services": ["ktp", "kk"], "token": "token-counter-1"},
        {"number": 2, "name": "Gerai 2", "spoken_name": "gerai dua", "services": ["ktp", "kk"], "token": "token-counter-2"},
        {"number": 3, "name": "Gerai 3", "spoken_name": "gerai tiga", "services": ["paspor"], "token": "token-counter-3"},
    ],
}  # fmt: skip

TOKENS = {c["number"]: c["token"] for c in HALL["counters"]}
WIB = timezone(timedelta(hours=7))


class FakeClock:
    """A clock the test moves by hand; starts on Thursday 26 November 2026, 09:00 WIB."""

    def __init__(self, start: datetime | None = None) -> None:
        self.value = start or datetime(2026, 11, 26, 9, 0, tzinfo=WIB)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)

    def set(self, value: datetime) -> None:
        self.value = value


def hall_config(tmp_path: Path, **sections: dict) -> dict:
    """The test hall as a raw config dict, with the database in tmp_path and sections merged in."""
    raw = copy.deepcopy(HALL)
    raw["server"]["database"] = str(tmp_path / "panggil.sqlite")
    raw["voice"] = {**raw.get("voice", {}), "cache_dir": str(tmp_path / "audio")}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path):
    from server.config import parse_config

    return parse_config(hall_config(tmp_path), base_dir=tmp_path)


@pytest.fixture
def app(config, clock):
    from server.app import create_app

    app = create_app(config, clock=clock, start_ticker=False)
    app.config["TESTING"] = True
    yield app
    app.extensions["panggil"].storage.close()


@pytest.fixture
def hub(app):
    return app.extensions["panggil"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(client):
    """The test client logged in as the hall's admin (HALL's users)."""
    from tests.test_admin_pages import log_in

    log_in(client, "admin", "admin-secret")
    return client


@pytest.fixture
def socket_client(app, client):
    """Factory: a Flask-SocketIO test client on a namespace, with optional auth."""
    from server.extensions import socketio

    made = []

    def make(namespace: str, auth: dict | None = None):
        sc = socketio.test_client(app, namespace=namespace, auth=auth, flask_test_client=client)
        sc.get_frames = sc.get_received  # what came, frame by frame (an `events` frame whole)
        sc.get_received = lambda ns=None: unbatched(sc.get_frames(ns))
        made.append(sc)
        return sc

    yield make
    for sc in made:
        if sc.is_connected(sc.namespace if hasattr(sc, "namespace") else None):
            sc.disconnect()


def as_applied(event: str, data: object) -> list[tuple[str, object]]:
    """One received message as a client applies it: an `events` frame (one change's events on
    /display) is its events, each as if it had come alone (panggil_protocol.unbatch)."""
    from panggil_protocol import EVENTS, unbatch

    return [(m["event"], m) for m in unbatch(data)] if event == EVENTS else [(event, data)]


def unbatched(received: list[dict]) -> list[dict]:
    """A test client's received messages (dicts of name and args) as a client applies them."""
    return [{**m, "name": name, "args": [data]} if name != m["name"] else m
            for m in received for name, data in as_applied(m["name"], m["args"][0] if m["args"] else None)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen | None) -> None:
    """End a process a test started: SIGTERM, then SIGKILL if it is still there after 10 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_healthy(url: str, deadline: float, exited=lambda: False) -> bool:
    """Poll `url + /api/health` until it answers 200 (True), the deadline passes or `exited()`
    says the process is gone (False)."""
    while time.monotonic() < deadline and not exited():
        try:
            if requests.get(url + "/api/health", timeout=1).ok:
                return True
        except requests.ConnectionError:
            time.sleep(0.1)
    return False


class LiveServer:
    """A real `python -m server` process on 127.0.0.1 with the test hall."""

    def __init__(self, tmp_path: Path, async_mode: str = "eventlet", **sections: dict) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        raw = hall_config(tmp_path, **sections)
        raw["server"].update(host="127.0.0.1", port=self.port, async_mode=async_mode)
        raw["hall"] = {**raw["hall"], "enforce_hours": False}
        self.config_path = tmp_path / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        self.database = Path(raw["server"]["database"])
        self.log_path = tmp_path / f"server-{self.port}.log"
        self.tokens = dict(TOKENS)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> LiveServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--config",
                str(self.config_path),
                "--log-level",
                "INFO",
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()  # never leave an orphan server behind
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a power cut of the process."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)
        if getattr(self, "_log", None):
            self._log.close()

    def post(
        self, path: str, body: dict | None = None, token: str | None = None, **kw
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.url + path, json=body or {}, headers=headers, timeout=10, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kw)

    def issue(self, service: str = "ktp", priority: str | None = None) -> dict:
        r = self.post("/api/tickets", {"service": service, "priority": priority})
        assert r.status_code == 201, r.text
        return r.json()["ticket"]

    def command(self, counter: int, command: str, request_id: str, **args) -> requests.Response:
        return self.post(f"/api/counters/{counter}/{command}", {"request_id": request_id, **args},
                         token=self.tokens[counter])  # fmt: skip


@pytest.fixture
def live_server(tmp_path):
    """A running server process (eventlet, the default mode) with the test hall."""
    server = LiveServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def live_server_factory(tmp_path):
    """Factory for servers in a chosen async mode or with extra config; all stopped at the end."""
    servers = []

    def make(async_mode: str = "eventlet", **sections) -> LiveServer:
        server = LiveServer(tmp_path / f"s{len(servers)}", async_mode, **sections)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


# Users of the test hall (seeded into the empty database; passwords hashed with Argon2).
USERS = [
    {"username": "admin", "password": "admin-secret", "role": "admin", "full_name": "Admin Uji"},
    {"username": "petugas1", "password": "petugas-secret", "role": "officer", "counter": 1},
    {"username": "petugas3", "password": "petugas-secret", "role": "officer", "counter": 3},
]
HALL["users"] = USERS


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: run `make setup` (scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2():
    """Real Argon2 with a small cost in-process, so that each test app seeds its users quickly.

    Servers started as processes (live_server) keep the production cost.
    """
    from argon2 import PasswordHasher

    from server import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


def wait_js(page, expression: str, arg=None, timeout: float = 30000):
    """Like page.wait_for_function, under a Content-Security-Policy without 'unsafe-eval'.

    Playwright's wait_for_function evaluates its predicate with eval() inside the page, which
    the pages' policy refuses; page.evaluate goes through the DevTools protocol instead.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} ms: {expression}")
        time.sleep(0.05)
