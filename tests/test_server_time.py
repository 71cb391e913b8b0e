"""The server's clock on the screens: a Pi has no RTC, so the display and /tv show the time the
server gives (the snapshot's `server_time`, the periodic `time` event), not their own."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from datetime import UTC, datetime, timedelta

import pygame
import pytest
from conftest import wait_js

from display import samples
from display.render import Renderer
from display.state import apply_event, apply_snapshot, initial_state, server_now, set_connected
from server import events

# The server's time: Thursday 26 November 2026, 20.43 WIB.
SERVER = datetime(2026, 11, 26, 13, 43, 5, tzinfo=UTC)
DEVICE = SERVER - timedelta(hours=1)  # the Pi booted without its clock: an hour behind


def snapshot_at(moment: datetime) -> dict:
    return {**samples.snapshot(), "server_time": moment.isoformat(timespec="milliseconds")}


def test_the_snapshot_carries_the_server_time_with_its_offset(client, clock):
    snap = client.get("/api/snapshot").get_json()
    moment = datetime.fromisoformat(snap["server_time"])
    assert moment == clock()
    assert moment.utcoffset() == timedelta(hours=7)  # the hall's zone, WIB


def test_displays_get_a_time_event(socket_client, clock):
    display = socket_client("/display", {"display": "lobby"})
    display.get_received("/display")  # the snapshot
    clock.advance(minutes=1)
    events.send_time(clock())
    received = display.get_received("/display")
    assert [m["name"] for m in received] == ["time"]
    sent = received[0]["args"][0]
    assert sent["event"] == "time"
    assert datetime.fromisoformat(sent["server_time"]) == clock()


def test_the_display_state_follows_the_server_clock_not_its_own():
    state = set_connected(initial_state(), True, DEVICE).state
    assert server_now(state, DEVICE) == DEVICE  # nothing known yet: its own clock
    state = apply_snapshot(state, snapshot_at(SERVER), DEVICE).state
    assert state.clock_offset == 3600
    assert server_now(state, DEVICE + timedelta(minutes=5)) == SERVER + timedelta(minutes=5)
    # The `time` event corrects a drift (and has no seq: it changes nothing else).
    later = {
        "event": "time",
        "server_time": (SERVER + timedelta(minutes=10, seconds=2)).isoformat(),
    }
    outcome = apply_event(state, "time", later, DEVICE + timedelta(minutes=10))
    assert outcome.state.clock_offset == 3602 and outcome.state.seq == state.seq
    assert not outcome.problems and not outcome.resync
    # A bad time is reported and the offset kept.
    bad = apply_event(state, "time", {"event": "time", "server_time": "soon"}, DEVICE)
    assert bad.state.clock_offset == 3600 and bad.problems


def test_a_display_an_hour_behind_draws_the_server_time(tmp_path):
    pygame.font.init()
    state = set_connected(initial_state(), True, DEVICE).state
    state = apply_snapshot(state, snapshot_at(SERVER), DEVICE).state
    renderer = Renderer((1280, 720))
    surface = pygame.Surface((1280, 720))
    renderer.draw(surface, state, DEVICE)
    shown = [text for text, _ in renderer.placed["clock"]]
    assert "20.43 WIB" in shown and "19.43 WIB" not in shown
    pygame.image.save(surface, str(tmp_path / "display-server-time.png"))
    # Without the server's time the same device would show its own, an hour off.
    own = apply_snapshot(
        set_connected(initial_state(), True, DEVICE).state, samples.snapshot(), DEVICE
    )
    renderer.draw(surface, own.state, DEVICE)
    assert "19.43 WIB" in [text for text, _ in renderer.placed["clock"]]


@pytest.mark.slow
@pytest.mark.browser
def test_the_tv_page_shows_the_server_time_when_its_own_clock_is_off(page, live_server):
    """/tv in Chromium with the page's clock an hour behind the server's."""
    page.add_init_script(
        "(() => { const real = Date.now; const shift = -3600 * 1000;"
        " Date.now = () => real.call(Date) + shift;"
        " const Real = Date; window.Date = class extends Real {"
        "  constructor(...a) { if (a.length) super(...a); else super(real.call(Real) + shift); }"
        "  static now() { return real.call(Real) + shift; } }; })();"
    )
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/tv")
    wait_js(page, "() => window.panggilTv && window.panggilTv.state.seq !== null")
    server_time = datetime.fromisoformat(live_server.get("/api/snapshot").json()["server_time"])
    page_own = page.evaluate("() => Date.now()")
    assert abs(page_own / 1000 - (server_time.timestamp() - 3600)) < 120  # the page is behind
    shown = page.locator("#time").inner_text()
    expected = {
        (server_time + timedelta(minutes=d)).strftime("%H.%M") for d in (-1, 0, 1)
    }  # the minute may turn between the two reads
    assert shown.split()[0] in expected, (shown, server_time)
    page.screenshot(path=str(live_server.config_path.parent / "tv-server-time.png"))
    # The periodic `time` event moves the clock too: here a server three hours further on.
    later = (server_time + timedelta(hours=3)).isoformat(timespec="milliseconds")
    page.evaluate(
        "(iso) => window.panggilTv.socket.listeners('time')"
        ".forEach(f => f({event: 'time', server_time: iso}))",
        later,
    )
    expected = {(server_time + timedelta(hours=3, minutes=d)).strftime("%H.%M") for d in (0, 1)}
    assert page.locator("#time").inner_text().split()[0] in expected
