"""One version for every part: `--version` on each command, devices report theirs when they
connect, and the admin's displays and counters pages warn about devices older than the server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from panggil_common import version as versions
from server.protocol import NS_COUNTER, NS_DISPLAY
from server.storage import Storage
from tests.conftest import ROOT, TOKENS
from tests.test_admin_pages import log_in

OLD = "0.0.9"


@pytest.mark.parametrize(
    "device, server, older",
    [
        ("0.0.9", "0.1.0", True),
        ("0.1.0", "0.1.0", False),
        ("0.1", "0.1.0", False),  # 0.1 is 0.1.0
        ("0.2.0", "0.1.0", False),
        ("0.9.0", "0.10.0", True),  # numbers, not text
        ("0.1.0rc1", "0.1.1", True),
        ("v0.1.0", "0.1.0", False),
        (None, "0.1.0", False),  # an old client or a web page: unknown, no warning
        ("dev", "0.1.0", False),
        ("0.0.1", "0+unknown", False),  # a server that does not know its own: no warning
        ("0.1.0", "garbage", False),
    ],
)
def test_which_device_versions_are_older(device, server, older):
    assert versions.is_older(device, server) is older


def test_the_version_is_pyprojects(tmp_path):
    assert versions.version() == versions.version_in(ROOT / "pyproject.toml") != versions.UNKNOWN
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2.3.4"\n')
    assert versions.version_in(tmp_path / "pyproject.toml") == "2.3.4"
    assert versions.version_in(tmp_path / "missing.toml") == versions.UNKNOWN


@pytest.mark.parametrize(
    "module, name", [("server", "panggil-server"), ("display", "panggil-display"),
                     ("counter_client", "panggil-counter")],
)  # fmt: skip
def test_every_command_says_its_version(module, name, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{name} {versions.version_in(ROOT / 'pyproject.toml')}"


def test_the_clients_send_their_version_when_they_connect(monkeypatch):
    from counter_client.client import CounterClient
    from display.client import DisplayClient

    seen = []

    def connect(self, url, auth=None, **kwargs):
        seen.append(auth)
        raise SystemExit  # one attempt is enough

    import socketio

    monkeypatch.setattr(socketio.Client, "connect", connect)
    for client in (DisplayClient("http://127.0.0.1:9", "lobby-1", lambda *a: None),
                   CounterClient("http://127.0.0.1:9", 3, "tok")):  # fmt: skip
        method = getattr(client, "_connect_forever", None) or client._supervise
        with pytest.raises(SystemExit):
            method()
    assert [a.get("version") for a in seen] == [versions.version()] * 2
    assert seen[0]["display"] == "lobby-1" and seen[1]["counter"] == 3


def test_old_clients_without_a_version_still_connect_and_bad_versions_are_refused(socket_client):
    assert socket_client(NS_DISPLAY, {"display": "lobby-1"}).is_connected(NS_DISPLAY)
    assert socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]}).is_connected(NS_COUNTER)
    for bad in ("0.1 0", "x" * 41, 7, ""):
        assert not socket_client(NS_DISPLAY, {"display": "d", "version": bad}).is_connected(
            NS_DISPLAY
        )
    assert socket_client(NS_DISPLAY, {"display": "d", "version": None}).is_connected(NS_DISPLAY)


def connect_devices(hub, socket_client):
    """lobby-1 (configured, old), a second screen on this release, counter 1's old client."""
    hub.write(lambda s: s.add_display("lobby-1", None, None))
    hub.write(lambda s: s.add_display("lantai-2", [2], None))
    old = socket_client(NS_DISPLAY, {"display": "lobby-1", "version": OLD})
    new = socket_client(NS_DISPLAY, {"display": "lantai-2", "version": versions.version()})
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1], "version": OLD})
    return old, new, keypad


def test_the_server_records_each_devices_version_address_and_time(hub, socket_client, clock):
    old, _new, _keypad = connect_devices(hub, socket_client)
    screens = {d["name"]: d for d in hub.read(Storage.list_displays)}
    assert screens["lobby-1"]["version"] == OLD and screens["lobby-1"]["last_seen"]
    assert screens["lantai-2"]["version"] == versions.version()
    device = hub.read(Storage.list_counter_devices)[1]
    assert device["version"] == OLD
    assert device["last_seen"] == hub.now().isoformat(timespec="seconds")
    # The officer's web console on the same counter sends no version: the keypad's record stays.
    socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert hub.read(Storage.list_counter_devices)[1]["version"] == OLD
    # A display that disconnects keeps its version with its last-seen time.
    old.disconnect(NS_DISPLAY)
    assert {d["name"]: d for d in hub.read(Storage.list_displays)}["lobby-1"]["version"] == OLD


def test_the_admin_pages_warn_about_older_devices(hub, socket_client, client):
    log_in(client, "admin", "admin-secret")
    page = client.get("/admin/displays").get_data(as_text=True)
    assert 'id="older-devices"' not in page
    connect_devices(hub, socket_client)
    page = client.get("/admin/displays").get_data(as_text=True)
    assert "Layar dengan versi lebih lama dari server" in page and ": 1." in page
    assert OLD in page and versions.version() in page and "lebih lama</span>" in page
    listing = client.get("/admin/displays.json").get_json()
    assert {d["name"]: d["older"] for d in listing["displays"]} == {
        "lantai-2": False,
        "lobby-1": True,
    }
    page = client.get("/admin/counters").get_data(as_text=True)
    assert "Klien loket dengan versi lebih lama dari server" in page and OLD in page


@pytest.mark.slow
@pytest.mark.browser
def test_the_admin_sees_device_versions_in_chromium(app, hub, socket_client, browser, tmp_path):
    """docs/screenshots/admin-devices-version.png with PANGGIL_SCREENSHOTS=docs, else tmp_path."""
    from playwright.sync_api import expect
    from werkzeug.serving import make_server

    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    shots = ROOT / chosen / "screenshots" if chosen else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    connect_devices(hub, socket_client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="id-ID")
    try:
        page.goto(url + "/login")
        page.fill("#username", "admin")
        page.fill("#password", "admin-secret")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(url + "/admin/displays")
        expect(page.locator("#older-devices")).to_contain_text("versi lebih lama dari server")
        row = page.locator("tr", has_text="lobby-1").first
        expect(row).to_contain_text(OLD)
        expect(row.locator(".badge.warn")).to_have_text("lebih lama")
        expect(page.locator("tr", has_text="lantai-2").first.locator(".badge.warn")).to_have_count(
            0
        )
        page.screenshot(path=str(shots / "admin-devices-version.png"), full_page=True)
        page.goto(url + "/admin/counters")
        expect(page.locator("#older-devices")).to_contain_text("Klien loket")
        expect(page.locator("tbody tr").first).to_contain_text(OLD)
        page.screenshot(path=str(shots / "admin-counters-version.png"), full_page=True)
    finally:
        page.close()
        server.shutdown()
