"""The visitor's phone page in Chromium against a real server: it follows its own ticket on
/visitor and counts its place from the coalesced queue summaries, in both async modes.
Screenshots go to docs/ with PANGGIL_SCREENSHOTS=docs, else into the test's temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import wait_js

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    return ROOT / chosen if chosen else tmp_path


def state_has(page, text: str) -> None:
    wait_js(page, "(t) => document.getElementById('state').textContent.indexOf(t) >= 0", text)


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_phone_follows_its_place_and_its_own_call(
    browser, live_server_factory, tmp_path, async_mode
):
    server = live_server_factory(async_mode, server={"visitor_summary_s": 1}).start()
    for _ in range(3):
        server.issue("ktp")
    mine = server.post("/api/tickets", {"service": "ktp"}).json()
    other = server.post("/api/tickets", {"service": "paspor"}).json()
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    neighbour = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    asked = []
    phone.on("request", lambda r: asked.append(r.url) if "/status" in r.url else None)
    try:
        phone.goto(mine["visitor_url"])
        neighbour.goto(other["visitor_url"])
        phone.wait_for_selector(".v-live")
        neighbour.wait_for_selector(".v-live")
        state_has(phone, "3 orang menunggu sebelum Anda")

        # Two calls in a burst: the first summary goes at once, the second when its second is up.
        assert server.command(1, "call_next", "b1").ok
        assert server.command(2, "call_next", "b2").ok
        state_has(phone, "1 orang menunggu sebelum Anda")
        assert server.command(1, "call_next", "b3").ok
        state_has(phone, "Anda berikutnya")
        phone.screenshot(path=str(shots(tmp_path) / f"visitor-next-{async_mode}.png"))
        assert asked == []  # the place came with the summaries, not by re-reading the status

        assert server.command(2, "call_next", "b4").ok  # ours, at Gerai 2
        state_has(phone, "Dipanggil, silakan ke Gerai 2")
        assert phone.title().endswith(" \u2192 Gerai 2")
        phone.screenshot(path=str(shots(tmp_path) / f"visitor-called-{async_mode}.png"))
        # The paspor phone heard of no ktp call and still waits first in line.
        assert "Anda berikutnya" in neighbour.locator("#state").inner_text()
        assert "Gerai" not in neighbour.locator("#state").inner_text()
    finally:
        phone.close()
        neighbour.close()


def test_phone_in_english_and_a_typed_in_number(browser, live_server):
    mine = live_server.post("/api/tickets", {"service": "kk"}).json()
    ticket = mine["ticket"]
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    bare = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(mine["visitor_url"] + "?lang=en")
        bare.goto(f"{live_server.url}/t/{ticket['day']}/{ticket['number']}")
        phone.wait_for_selector(".v-live")
        bare.wait_for_selector(".v-live")
        state_has(phone, "You are next")
        assert live_server.command(1, "call_next", "e1").ok
        state_has(phone, "Called: please go to Gerai 1")
        state_has(bare, "Sudah dipanggil ke Gerai 1")
        assert live_server.command(1, "recall", "e2").ok
        state_has(phone, "Called again: please go to Gerai 1 now")
    finally:
        phone.close()
        bare.close()


def test_a_phone_past_the_limit_says_so_and_still_shows_its_ticket(
    browser, live_server_factory, tmp_path
):
    server = live_server_factory(server={"max_connections": 100, "device_reserve": 99}).start()
    first = server.post("/api/tickets", {"service": "ktp"}).json()
    second = server.post("/api/tickets", {"service": "ktp"}).json()
    phones = [browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True) for _ in range(2)]
    try:
        phones[0].goto(first["visitor_url"])
        phones[0].wait_for_selector(".v-live")
        phones[1].goto(second["visitor_url"])
        wait_js(
            phones[1], "() => document.getElementById('link').textContent.indexOf('penuh') >= 0"
        )
        assert "1 orang menunggu sebelum Anda" in phones[1].locator("#state").inner_text()
        phones[1].screenshot(path=str(shots(tmp_path) / "visitor-busy.png"))
        assert server.command(1, "call_next", "c1").ok  # the counter is never refused
        state_has(phones[0], "Dipanggil, silakan ke Gerai 1")
    finally:
        for phone in phones:
            phone.close()
