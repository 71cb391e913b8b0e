"""End to end: the real server process, the real display loop, real (disk) audio.

A next pressed at a counter over HTTP is shown on the display and spoken; a restarted server is
reconnected to; calls missed while away are shown but never spoken.
"""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"

import array
import time
from pathlib import Path

import pygame
import pytest

from display import render, samples
from display.app import DisplayApp
from display.audio import Announcer, AudioCache, PygamePlayer
from display.config import load_config

pytestmark = pytest.mark.slow


@pytest.fixture
def display(live_server, tmp_path, monkeypatch):
    """A DisplayApp connected to the live server, playing into a file through SDL's disk driver."""
    speaker = tmp_path / "speaker.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(speaker))
    config = load_config(
        overrides={
            "server_url": live_server.url,
            "name": "e2e-lobby",
            "audio_cache_dir": str(tmp_path / "audio-cache"),
            "chime": str(samples.square_wav(tmp_path / "chime.wav")),
            "resolution": "1280x720",
            "reconnect_delay_max": 2,
        }
    )
    played: list[tuple[str, str]] = []
    announcer = Announcer(
        PygamePlayer(volume=config.volume),
        AudioCache(config.server_url, Path(config.audio_cache_dir)).fetch,
        Path(config.chime),
        audio_wait=5,
        on_play=lambda what, call_id: played.append((what, call_id)),
    ).start()
    app = DisplayApp(config, announcer=announcer).start()
    app.played = played
    app.speaker = speaker
    assert app.run_until(lambda: app.state.seq is not None, 20), "no snapshot from the server"
    yield app
    app.stop()
    pygame.mixer.quit()
    pygame.display.quit()


def latest_number(app: DisplayApp) -> str | None:
    return app.state.latest.number if app.state.latest else None


def test_a_next_at_a_counter_is_shown_and_spoken(live_server, display):
    app = display
    assert app.state.connected and app.state.hall_name == "MPP Uji"
    ticket = live_server.issue("ktp")
    answer = live_server.command(1, "call_next", "e2e-next-1")
    assert answer.status_code == 200, answer.text
    call = answer.json()["result"]["call"]

    assert app.run_until(lambda: latest_number(app) == ticket["number"], 10)
    assert app.state.highlighted
    assert [c.current for c in app.state.counters if c.number == 1] == [ticket["number"]]
    # Drawn: the number is in the latest-call region, which is highlighted.
    app.redraw()
    latest = app.renderer.layout.regions["latest"]
    assert any(
        text == ticket["number"] and latest.contains(rect)
        for text, rect in app.renderer.placed["latest"]
    )
    assert tuple(app.screen.get_at((latest.left + 20, latest.centery)))[:3] == render.AMBER

    # Spoken: the chime, then the announcement the server made.
    # The test hall's voice makes a clip for every call (ready now, or pending then
    # announcement_ready): the display must play the chime and then that clip.
    assert call["announcement"]["status"] in ("ready", "pending"), call["announcement"]
    expect = [("chime", call["call_id"]), ("announcement", call["call_id"])]
    assert app.run_until(lambda: app.played == expect and app.announcer.idle(), 15), app.played
    time.sleep(0.2)
    samples = array.array("h")
    samples.frombytes(app.speaker.read_bytes()[:4_000_000])
    assert max(samples) >= 4000  # the chime's samples reached the speaker


def test_a_restarted_server_is_reconnected_and_calls_go_on(live_server, display):
    app = display
    live_server.kill()
    assert app.run_until(lambda: not app.state.connected, 15)
    live_server.start()
    assert app.run_until(lambda: app.state.connected, 20), "display did not reconnect"
    fresh = live_server.issue("ktp")
    assert live_server.command(1, "call_next", "e2e-after").status_code == 200
    assert app.run_until(lambda: latest_number(app) == fresh["number"], 10)
    assert app.state.highlighted
    assert app.run_until(lambda: any(what == "chime" for what, _ in app.played), 10)


def test_calls_made_while_the_display_was_away_are_shown_not_spoken(live_server, display):
    app = display
    first = live_server.issue("ktp")
    assert live_server.command(1, "call_next", "e2e-before").status_code == 200
    assert app.run_until(lambda: latest_number(app) == first["number"], 10)
    assert app.run_until(lambda: app.announcer.idle() and app.played, 15)
    app.stop()  # the Pi reboots, or its network drops for a while

    missed = live_server.issue("paspor")
    assert live_server.command(3, "call_next", "e2e-missed").status_code == 200

    played: list[tuple[str, str]] = []
    announcer = Announcer(
        PygamePlayer(), AudioCache(app.config.server_url, Path(app.config.audio_cache_dir)).fetch,
        Path(app.config.chime), on_play=lambda what, call_id: played.append((what, call_id)),
    ).start()  # fmt: skip
    again = DisplayApp(app.config, announcer=announcer).start()
    try:
        assert again.run_until(lambda: latest_number(again) == missed["number"], 15)
        assert not again.state.highlighted  # seen in the snapshot: not presented as new
        assert [c.current for c in again.state.counters if c.number == 3] == [missed["number"]]
        again.run_until(lambda: False, 1.0)
        assert played == []
    finally:
        again.stop()
