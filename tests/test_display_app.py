"""The main loop without a network: posted messages, idle sleep, resync requests, fallback screen."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"

import threading
from datetime import UTC, datetime, timedelta

import pygame
import pytest

from display import client as net
from display import render, samples
from display.app import DisplayApp
from display.config import load_config

T0 = datetime(2026, 11, 26, 13, 43, 5, tzinfo=UTC)


class FakeAnnouncer:
    def __init__(self):
        self.calls, self.ready = [], []

    def announce(self, call):
        self.calls.append(call.number)

    def audio_ready(self, call_id, url):
        self.ready.append((call_id, url))

    def stop(self):
        pass


class FakeClient:
    def __init__(self):
        self.requests = 0

    def request_snapshot(self):
        self.requests += 1
        return True

    def start(self):
        return self

    def stop(self):
        pass


@pytest.fixture
def app():
    now = [T0]
    config = load_config(overrides={"audio": False, "resolution": "1280x720"})
    app = DisplayApp(config, clock=lambda: now[0], announcer=FakeAnnouncer(), connect=False)
    app.client = FakeClient()
    app.now = now
    app.start()
    yield app
    app.stop()
    pygame.display.quit()


def feed(app, *messages):
    """Post from another thread, as the socket client does."""
    thread = threading.Thread(target=lambda: [app.post(kind, data) for kind, data in messages])
    thread.start()
    thread.join()


def test_posted_messages_reach_the_state_and_the_speaker(app):
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot()),
         (net.EVENT, ("ticket_called", samples.called_event(41, "A012", 1))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 41, 5)
    assert app.announcer.calls == ["A012"]  # the snapshot's calls are not spoken
    assert tuple(app.screen.get_at((100, 300)))[:3] == render.AMBER


def test_an_idle_display_does_not_redraw(app):
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot()))
    assert app.run_until(lambda: app.state.seq == 40, 5)
    app.run_until(lambda: False, 0.3)
    before = app.redraws
    app.run_until(lambda: False, 2.5)  # two or three clock ticks within the same minute
    assert app.redraws == before
    app.now[0] = T0 + timedelta(minutes=1)
    app.run_until(lambda: app.redraws > before, 2.5)
    assert app.redraws == before + 1  # the new minute: one (partial) redraw


def test_a_seq_gap_asks_for_a_snapshot(app):
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot()),
         (net.EVENT, ("ticket_called", samples.called_event(45, "A012", 1))))  # fmt: skip
    assert app.run_until(lambda: app.client.requests == 1, 5)
    feed(app, (net.SNAPSHOT, samples.snapshot(seq=45)))
    assert app.run_until(lambda: not app.state.needs_resync, 5)


def test_bad_messages_are_survived(app):
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot()),
         (net.EVENT, ("ticket_called", {"seq": "x"})), (net.EVENT, ("what", None)),
         (net.SNAPSHOT, "garbage"), (net.EVENT, ("ticket_called", samples.called_event(41, "B008", 2))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 41, 5)
    assert app.errors == 0 and app.state.latest.number == "B008"


def test_a_drawing_error_shows_the_fallback_screen_then_recovers(app, monkeypatch):
    original = app.renderer.draw
    failures = [1]

    def broken(*args):
        if failures:
            failures.pop()
            raise RuntimeError("boom")
        return original(*args)

    monkeypatch.setattr(app.renderer, "draw", broken)
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot()))
    assert app.run_until(lambda: app.errors == 1, 5)
    assert tuple(app.screen.get_at((10, 10)))[:3] == render.HEADER  # the fallback, not black
    feed(app, (net.EVENT, ("ticket_called", samples.called_event(41, "A012", 1))))
    assert app.run_until(lambda: app.errors == 0 and app.state.seq == 41, 5)
    assert tuple(app.screen.get_at((100, 300)))[:3] == render.AMBER


def test_the_hall_break_silences_calls_and_its_end_brings_the_sound_back(app):
    """Issue 13: during the hall's break the TV neither chimes nor speaks; calls resume after."""
    opened = dict(samples.OPEN, until="2026-11-27T16:00:00+07:00")
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot(hall_status=samples.PRAYER)),
         (net.EVENT, ("ticket_called", samples.called_event(41, "A012", 1))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 41, 5)
    assert app.announcer.calls == [] and app.state.recent[0].number == "A012"
    assert tuple(app.screen.get_at((40, 130)))[:3] == render.HALL_BREAK_PANEL
    feed(app, (net.EVENT, ("hall_changed", samples.hall_status_event(42, opened))),
         (net.EVENT, ("ticket_called", samples.called_event(43, "A013", 2))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 43, 5)
    assert app.announcer.calls == ["A013"]
    assert tuple(app.screen.get_at((100, 300)))[:3] == render.AMBER
    feed(app, (net.EVENT, ("hall_changed", samples.hall_status_event(44, samples.PRAYER))),
         (net.EVENT, ("ticket_called", samples.called_event(45, "A014", 1))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 45, 5)
    assert app.announcer.calls == ["A013"]


def test_a_closed_hall_still_speaks_the_calls(app):
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, samples.snapshot(hall_status=samples.CLOSED)),
         (net.EVENT, ("ticket_called", samples.called_event(41, "A012", 1))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 41, 5)
    assert app.announcer.calls == ["A012"]
