"""Issue 18: a NUL (or another control character) in a name that is already stored does not put the
Pi display on its fallback screen, and the spoken announcement is not cut short at it."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import copy
import threading
from datetime import UTC, datetime

import pygame
import pytest

from display import client as net
from display import render, samples
from display.app import DisplayApp
from display.config import load_config

T0 = datetime(2026, 11, 26, 13, 43, 5, tzinfo=UTC)
POISONS = ["\x00", "\ud800", "\x1b[2J", "\x7f", "\udfff\x00"]


class KeepingAnnouncer:
    """Keeps every call it is asked to announce, whole."""

    def __init__(self):
        self.calls = []

    def announce(self, call):
        self.calls.append(call)

    def audio_ready(self, call_id, url):
        pass

    def stop(self):
        pass


@pytest.fixture
def app():
    config = load_config(overrides={"audio": False, "resolution": "1280x720"})
    app = DisplayApp(config, clock=lambda: T0, announcer=KeepingAnnouncer(), connect=False)
    app.client = None
    app.start()
    yield app
    app.stop()
    pygame.display.quit()


def poisoned_snapshot(poison: str) -> dict:
    snap = copy.deepcopy(samples.snapshot())
    snap["hall"]["name"] = f"Mal Pelayanan{poison} Publik Kota Contoh"
    snap["hall"]["running_text"] = f"Selamat datang{poison} di MPP"
    for service in snap["services"]:
        service["name"] = f"{service['name']}{poison}Baru"
    for agency in snap["agencies"]:
        agency["name"] = f"Dinas{poison}Dukcapil"
    for counter in snap["counters"]:
        counter["name"] = f"Gerai{poison}{counter['number']}"
    for call in snap["recent_calls"]:
        call["counter"]["name"] = f"Gerai{poison}{call['counter']['number']}"
    return snap


def poisoned_call(poison: str) -> dict:
    event = copy.deepcopy(samples.called_event(41, "A012", 1))
    event["call"]["counter"]["name"] = f"Gerai{poison}1"
    event["counter"]["name"] = f"Gerai{poison}1"
    event["call"]["announcement"]["text"] = f"Nomor antrean A012, silakan ke gerai{poison} satu."
    return event


def feed(app, *messages):
    thread = threading.Thread(target=lambda: [app.post(kind, data) for kind, data in messages])
    thread.start()
    thread.join()


@pytest.mark.parametrize("poison", POISONS)
def test_stored_control_characters_render_without_the_fallback(app, poison):
    fallbacks = []
    app.show_fallback = lambda exc: fallbacks.append(exc)
    feed(app, (net.CONNECTED, None), (net.SNAPSHOT, poisoned_snapshot(poison)),
         (net.EVENT, ("ticket_called", poisoned_call(poison))))  # fmt: skip
    assert app.run_until(lambda: app.state.seq == 41, 5)
    app.step(max_wait=0)
    assert fallbacks == [] and app.errors == 0
    assert tuple(app.screen.get_at((100, 300)))[:3] == render.AMBER  # the latest call, drawn
    shown = [text for placed in app.renderer.placed.values() for text, _ in placed]
    assert any("Kota Contoh" in text for text in shown), shown  # the whole name, past the NUL
    assert all(text.isprintable() for text in shown), shown
    # The call is announced, with its whole sentence (nothing dropped after the NUL).
    (call,) = app.announcer.calls
    assert call.number == "A012" and call.text.endswith("satu.")


@pytest.mark.parametrize("poison", POISONS)
def test_drawable_keeps_the_text_around_what_cannot_be_drawn(poison):
    from display.render import drawable

    pygame.font.init()
    value = drawable(f"Gerai{poison}1")
    assert value.startswith("Gerai") and value.endswith("1") and value.isprintable()
    pygame.font.Font(None, 30).render(value, True, (255, 255, 255))  # must not raise


def test_the_spoken_sentence_is_not_cut_at_a_nul():
    """espeak-ng reads a C string: a NUL would end the sentence there."""
    from server.announce import TextSettings, announcement_text

    call = {"kind": "call", "ticket": {"number": "A012"},
            "counter": {"number": 1, "name": "Gerai\x001", "spoken_name": "gerai\x00satu"},
            "service": {"name": "KTP\x1b"}}  # fmt: skip
    text = announcement_text(call, TextSettings())
    assert "\x00" not in text and "\x1b" not in text and "gerai satu" in text
