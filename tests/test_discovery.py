"""Finding the server on the LAN by mDNS/DNS-SD: the choice among servers (pure), the
announcement, and end to end with two zeroconf peers on loopback: a real server process
announcing, a display and a counter keypad with no server URL that find it and work."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import pygame
import pytest

from display import render
from display.app import DisplayApp
from display.config import load_config
from panggil_common import discovery
from panggil_common.discovery import Server, choose, find_server, server_from_record
from tests.conftest import ROOT

LOOPBACK = ["127.0.0.1"]


def test_a_server_record_becomes_a_url_preferring_ipv4():
    server = server_from_record(
        "MPP Uji._panggil._tcp.local.",
        ["fe80::1", "10.0.0.5"],
        5000,
        {b"version": b"0.1.0", b"hall": b"MPP Uji", b"path": b"/"},
    )
    assert server is not None
    assert server.url == "http://10.0.0.5:5000"
    assert (server.hall, server.version) == ("MPP Uji", "0.1.0")
    assert server_from_record("x", [], 5000, {}) is None
    assert server_from_record("x", ["10.0.0.5"], None, {}) is None


def test_several_servers_pick_the_configured_hall_else_the_first():
    a = Server("A._panggil._tcp.local.", "10.0.0.1", 5000, hall="MPP Bogor")
    b = Server("B._panggil._tcp.local.", "10.0.0.2", 5000, hall="MPP Depok")
    assert choose([b, a]) == (a, [b])  # by name: every device of a hall picks the same one
    assert choose([a, b], "mpp depok") == (b, [a])
    assert choose([a, b], "MPP Bekasi") == (None, [a, b])
    assert choose([]) == (None, [])


def test_the_instance_name_fits_a_dns_label():
    assert discovery.instance_name("MPP Kota Bogor") == "MPP Kota Bogor"
    assert discovery.instance_name("Mal Pelayanan Publik Kab. Bogor") == (
        "Mal Pelayanan Publik Kab Bogor"
    )
    assert len(discovery.instance_name("x" * 100).encode()) == 63
    assert discovery.instance_name("  ") == "Panggil"


def test_find_server_retries_with_backoff_and_says_so():
    server = Server("A._panggil._tcp.local.", "10.0.0.1", 5000, hall="MPP Uji")
    answers = [[], [], [server]]
    statuses: list[tuple[str, object]] = []
    stop = threading.Event()

    def browse_once(timeout, interfaces):
        return answers.pop(0)

    # The back-off is real but tiny: the maximum caps it.
    found = find_server(
        browse_once=browse_once,
        backoff_max=0.01,
        on_status=lambda kind, detail: statuses.append((kind, detail)),
        stop=stop,
    )
    assert found is server
    kinds = [kind for kind, _ in statuses]
    assert kinds == ["searching", "not-found", "searching", "not-found", "searching", "found"]


def test_find_server_ends_when_stopped():
    stop = threading.Event()
    stop.set()
    with pytest.raises(discovery.DiscoveryStopped):
        find_server(browse_once=lambda timeout, interfaces: [], stop=stop)


def test_the_server_announces_itself_and_a_peer_browses_it():
    """Two zeroconf peers on loopback: server/discovery.py announces, browse() finds it."""
    from server import discovery as announcing

    hall = f"MPP Uji {uuid.uuid4().hex[:8]}"
    announcement = announcing.announce(hall=hall, port=5999, host="127.0.0.1", interfaces=LOOPBACK)
    assert announcement is not None
    try:
        found = [s for s in discovery.browse(3.0, LOOPBACK) if s.hall == hall]
        assert [s.url for s in found] == ["http://127.0.0.1:5999"]
        assert found[0].version == announcing.version()
    finally:
        announcement.close()


def test_the_default_settings_announce_on_every_interface():
    """No `server.announce_interfaces` (every hall's default): zeroconf gets "all interfaces",
    not None, which it refused with a TypeError, so that a real hall was never announced."""
    from server import discovery as announcing

    announcement = announcing.announce(hall=f"MPP Uji {uuid.uuid4().hex[:8]}", port=5998,
                                       host="0.0.0.0", interfaces=[])  # fmt: skip
    assert announcement is not None
    announcement.close()


def test_announcing_can_be_turned_off_and_addresses_are_checked():
    from server.config import ConfigError, parse_config

    raw = {"server": {"announce": False, "announce_addresses": ["10.0.0.5"]}}
    config = parse_config(raw, demo=True)
    assert config.server.announce is False
    assert config.server.announce_addresses == ["10.0.0.5"]
    with pytest.raises(ConfigError, match="announce_interfaces"):
        parse_config({"server": {"announce_interfaces": ["eth0"]}}, demo=True)


# --- end to end: a real server process, found by a display and a counter with no URL --------


@pytest.fixture
def announced_server(live_server_factory):
    """A live server announcing itself on loopback, with a hall name no other test uses."""
    hall = f"MPP Temu {uuid.uuid4().hex[:8]}"
    server = live_server_factory(
        "eventlet",
        server={"announce": True, "announce_interfaces": LOOPBACK},
        hall={"name": hall, "timezone": "Asia/Jakarta", "running_text": ""},
    ).start()
    server.hall = hall
    return server


@pytest.mark.slow
def test_a_display_with_no_url_finds_the_server_and_shows_a_call(announced_server, tmp_path):
    server = announced_server
    config = load_config(
        overrides={
            "hall": server.hall,
            "discovery_interfaces": LOOPBACK,
            "name": "lobby-mdns",
            "audio": False,
            "resolution": "1280x720",
            "reconnect_delay_max": 2,
        }
    )
    assert config.server_url == ""
    app = DisplayApp(config)
    try:
        assert app.state.searching is False
        app.start()
        assert app.state.searching  # "Mencari server..." until an answer comes
        app.redraw()
        assert render_says(app, "Mencari server...")
        assert app.run_until(lambda: app.state.seq is not None, 30), "server not found"
        assert app.server_url == server.url
        assert app.state.server == server.url.removeprefix("http://")
        assert not app.state.searching
        ticket = server.issue("ktp")
        answer = server.command(1, "call_next", "mdns-next-1")
        assert answer.status_code == 200, answer.text
        assert app.run_until(
            lambda: app.state.latest is not None and app.state.latest.number == ticket["number"],
            15,
        )
        app.redraw(full=True)
        # The status corner names the server in use.
        assert render_says(app, app.state.server)
        pygame.image.save(app.screen, str(tmp_path / "display-mdns.png"))
    finally:
        app.stop()
        pygame.display.quit()


def render_says(app: DisplayApp, words: str) -> bool:
    return any(words in label for labels in app.renderer.placed.values() for label, _ in labels)


@pytest.mark.slow
def test_a_counter_keypad_with_no_url_finds_the_server_and_presses_next(announced_server):
    server = announced_server
    server.issue("ktp")
    proc = subprocess.Popen(
        [sys.executable, "-m", "counter_client", "--counter", "1", "--token", server.tokens[1],
         "--config", str(write_counter_config(server))],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lambda: "Mencari server..." in "".join(output), "the keypad to say it searches")
        shown = "Tersambung · " + server.url.removeprefix("http://")
        wait_for(lambda: shown in "".join(output), "the keypad to name the server it uses")
        proc.stdin.write("\n")  # Enter: next
        proc.stdin.flush()
        wait_for(lambda: "✓ Memanggil A001" in "".join(output), "the call to be shown")
        day = server.get("/api/health").json()["day"]
        device = {"Authorization": f"Bearer {server.tokens[1]}"}
        ticket = server.get(f"/api/tickets/{day}/A001", headers=device).json()["ticket"]
        assert (ticket["status"], ticket["counter"]) == ("called", 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert proc.returncode == 0


def write_counter_config(server):
    path = server.config_path.parent / "counter.yaml"
    path.write_text(
        f"counter:\n  hall: {server.hall}\n  discovery_interfaces: '127.0.0.1'\n",
        encoding="utf-8",
    )
    return path


def wait_for(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_renderer_says_searching_and_names_the_server(tmp_path):
    from display.state import initial_state, set_server

    pygame.font.init()
    renderer = render.Renderer((1280, 720))
    surface = pygame.Surface((1280, 720))
    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    state = set_server(initial_state(), "", searching=True).state
    renderer.draw(surface, state, now)
    assert any("Mencari server..." in label for label, _ in renderer.placed["footer"])
    pygame.image.save(surface, str(tmp_path / "display-searching.png"))
    state = set_server(state, "10.0.0.5:5000").state
    renderer.draw(surface, state, now)
    assert any("10.0.0.5:5000" in label for label, _ in renderer.placed["footer"])


@pytest.mark.slow
def test_a_server_that_moves_is_found_again(live_server_factory, monkeypatch):
    """The server found on the LAN comes back on another address: display and counter follow."""
    from counter_client.client import CounterClient
    from display import app as display_app

    monkeypatch.setattr(display_app, "REDISCOVER_AFTER_SECONDS", 1.0)
    hall = f"MPP Pindah {uuid.uuid4().hex[:8]}"
    sections = {
        "server": {"announce": True, "announce_interfaces": LOOPBACK},
        "hall": {"name": hall, "timezone": "Asia/Jakarta", "running_text": ""},
    }
    first = live_server_factory("eventlet", **sections).start()
    config = load_config(
        overrides={"hall": hall, "discovery_interfaces": LOOPBACK, "audio": False,
                   "resolution": "1280x720", "reconnect_delay_max": 1}
    )  # fmt: skip
    app = DisplayApp(config).start()
    counter = CounterClient(
        "", 1, first.tokens[1], hall=hall, discovery_interfaces=tuple(LOOPBACK),
        reconnect_min=0.1, reconnect_max=0.3, ack_timeout=1.0,
    )  # fmt: skip
    counter.start()
    try:
        assert app.run_until(lambda: app.state.seq is not None, 30)
        assert counter.wait_ready(30)
        assert app.server_url == counter.server_url == first.url
        first.stop()  # the server's machine got a new address: same hall, another port
        second = live_server_factory("eventlet", **sections).start()
        assert second.url != first.url
        assert app.run_until(lambda: app.server_url == second.url and app.state.connected, 60), (
            "the display did not follow the server"
        )
        wait_for(lambda: counter.server_url == second.url and counter.connection == "connected",
                 "the counter to follow the server", timeout=60)  # fmt: skip
        ticket = second.issue("ktp")
        assert counter.wait_ready(10)
        pressed = counter.press("call_next")
        assert pressed.ok, pressed
        assert app.run_until(
            lambda: app.state.latest is not None and app.state.latest.number == ticket["number"],
            15,
        )
    finally:
        counter.stop()
        app.stop()
        pygame.display.quit()
