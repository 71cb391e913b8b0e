""" "Almost your turn" on the visitor's phone, in Chromium against a real server: a banner when the
service's alert_ahead is reached, a sound and a vibration once (not again after a reload), and again
at the call. The vibration and the tones are observed where the page hands them to the browser
(navigator.vibrate, AudioContext.createOscillator): headless Chromium has no motor or speaker.
Screenshot: docs/screenshots/visitor-almost.png with PANGGIL_SCREENSHOTS=docs (look at it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import wait_js

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WATCH = """
window.__vibrations = [];
navigator.vibrate = function (pattern) { window.__vibrations.push(pattern); return true; };
window.__tones = 0;
const made = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return made.call(this); };
"""


def vibrations(page) -> list:
    return page.evaluate("window.__vibrations")


def tones(page) -> int:
    return page.evaluate("window.__tones")


def test_the_phone_alerts_once_when_the_turn_is_near_and_again_when_called(
    browser, live_server_factory, tmp_path
):
    server = live_server_factory(server={"visitor_summary_s": 1}).start()
    for _ in range(5):
        server.issue("ktp")
    mine = server.post("/api/tickets", {"service": "ktp"}).json()
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    shots = ROOT / chosen / "screenshots" if chosen else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(WATCH)
    try:
        phone.goto(mine["visitor_url"])
        phone.wait_for_selector(".v-live")
        assert phone.locator("#almost").is_hidden()  # 5 ahead, the service alerts at 3
        assert "Ketuk agar HP ini berbunyi" in phone.locator("#alerts-note").inner_text()
        phone.click("#alerts-on")
        wait_js(phone, "() => document.getElementById('alerts').classList.contains('v-alerts-on')")
        assert tones(phone) == 1 and vibrations(phone) == [150]  # the short check tone
        assert "Bunyi dan getar menyala" in phone.locator("#alerts-note").inner_text()

        assert server.command(1, "call_next", "a1").ok
        assert server.command(2, "call_next", "a2").ok  # 3 ahead now
        phone.wait_for_selector("#almost:not([hidden])")
        assert phone.locator("#almost").inner_text() == (
            "Sebentar lagi giliran Anda. Silakan menunggu di dekat gerai."
        )
        assert "3 orang menunggu sebelum Anda" in phone.locator("#state").inner_text()
        wait_js(phone, "() => window.__vibrations.length === 2")
        assert vibrations(phone)[1] == [250, 150, 250] and tones(phone) == 3
        assert phone.title().startswith("\u23f0 Sebentar lagi giliran Anda")
        phone.screenshot(path=str(shots / "visitor-almost.png"))

        assert server.command(1, "call_next", "a3").ok  # 2 ahead: the banner follows, no new alarm
        wait_js(phone, "() => document.getElementById('state').textContent.indexOf('2 orang') >= 0")
        assert phone.locator("#almost").is_visible()
        phone.reload()
        phone.wait_for_selector(".v-live")
        assert phone.locator("#almost").is_visible()
        assert vibrations(phone) == []  # a reload does not ring again (the init script restarted)

        for n in range(3):
            assert server.command(1 + n % 2, "call_next", f"b{n}").ok  # the last call is ours
        wait_js(
            phone, "() => document.getElementById('state').textContent.indexOf('Dipanggil') >= 0"
        )
        wait_js(phone, "() => window.__vibrations.length === 1")
        assert vibrations(phone) == [[400, 200, 400, 200, 400]]
        assert phone.locator("#almost").is_hidden()
    finally:
        phone.close()
