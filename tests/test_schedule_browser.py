"""The schedule as a visitor meets it in Chromium: the kiosk and the phone page say why a service takes
no numbers now and when it opens, and change without a reload. The in-process app runs on the fake
clock, on a hall with a Friday prayer break and Christmas in its calendar.

Screenshots go to docs/screenshots/ with PANGGIL_SCREENSHOTS=docs (then look at them), else into
the test's temporary folder."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import WIB, wait_js
from test_schedule_pages import CHRISTMAS, FRIDAY_PRAYER, sched_app_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = {"width": 1080, "height": 1920}
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def shots(tmp_path) -> Path:
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    folder = ROOT / chosen / "screenshots" if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def served(sched_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, sched_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_service_past_its_cut_off_says_so_on_its_card(browser, clock, served, shots):
    clock.set(datetime(2026, 11, 26, 15, 40, tzinfo=WIB))  # KK stops at 15:30, KTP serves to 16:00
    page = browser.new_page(viewport=PORTRAIT)
    try:
        page.goto(served + "/kiosk/lobi")
        page.click("text=Dukcapil")
        kk = page.locator("[data-service=kk]")
        assert "Pengambilan nomor sudah ditutup" in kk.inner_text()  # the card's state
        assert (
            "Pengambilan nomor Layanan KK sudah ditutup untuk hari ini."
            " Buka lagi Jumat, 27 November, pukul 07.30." in kk.inner_text()
        )
        assert "Buka" in page.locator("[data-service=ktp] .k-state").inner_text()
        assert page.locator("[data-service=ktp] .k-why").count() == 0
        page.screenshot(path=str(shots / "kiosk-closed-cutoff.png"))
        kk.click()
        assert (
            page.locator("#error-message")
            .inner_text()
            .startswith("Pengambilan nomor Layanan KK sudah ditutup")
        )
    finally:
        page.close()


def test_the_hall_break_is_one_message_and_ends_without_a_reload(browser, clock, served, shots):
    clock.set(FRIDAY_PRAYER)
    page = browser.new_page(viewport=PORTRAIT)
    try:
        page.clock.install()  # the kiosk's 15-second refresh, run on demand
        page.goto(served + "/kiosk/lobi")
        assert page.locator("#hall-closed-text").inner_text() == (
            "Pelayanan sedang istirahat: Sholat Jumat. Buka lagi pukul 13.00."
        )
        assert page.locator("#step-agency").is_hidden() and page.locator("#priority").is_hidden()
        page.screenshot(path=str(shots / "kiosk-closed-break.png"))

        clock.set(datetime(2026, 11, 27, 13, 0, tzinfo=WIB))  # the break is over
        page.clock.run_for(16_000)
        wait_js(page, "() => document.getElementById('hall-closed').hidden")
        assert page.locator("#step-agency").is_visible()
        assert "2 dari 2 layanan buka" in page.locator("#agencies").inner_text()  # Dukcapil
    finally:
        page.close()


@pytest.mark.parametrize(
    "lang, text",
    [
        ("id", "Hari ini libur: Hari Raya Natal. Buka lagi Senin, 28 Desember, pukul 07.30."),
        ("en", "Today is a holiday: Hari Raya Natal. It opens again on Monday, 28 December"
               " at 7:30\u202fAM."),
    ],
)  # fmt: skip
def test_a_holiday_is_one_clear_message(browser, clock, served, shots, lang, text):
    clock.set(CHRISTMAS)
    page = browser.new_page(viewport=PORTRAIT)
    try:
        page.goto(served + f"/kiosk/lobi?lang={lang}")
        assert page.locator("#hall-closed-text").inner_text() == text
        assert page.locator("[data-service]").count() == 0  # no card per service
        page.screenshot(path=str(shots / f"kiosk-closed-holiday-{lang}.png"))
    finally:
        page.close()


def test_the_visitor_page_says_when_its_service_opens_again(browser, clock, served, shots):
    clock.set(datetime(2026, 11, 27, 11, 0, tzinfo=WIB))
    answer = browser.new_context().request.post(served + "/api/tickets", data={"service": "paspor"})
    url = answer.json()["visitor_url"]
    assert url.startswith(served + "/t/2026-11-27/C001/")
    clock.set(FRIDAY_PRAYER)
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(url)
        phone.wait_for_selector(".v-closed")
        assert phone.locator(".v-closed").inner_text() == (
            "Layanan Paspor sedang istirahat Sholat Jumat. Buka lagi pukul 13.00."
        )
        phone.screenshot(path=str(shots / "visitor-closed-break.png"))
    finally:
        phone.close()


def test_the_admin_edits_the_schedule(browser, served, sched_app, shots):
    from playwright.sync_api import expect

    hub = sched_app.extensions["panggil"]
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="id-ID")
    try:
        page.goto(served + "/login")
        page.fill("#username", "admin")
        page.fill("#password", "admin-secret")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.click("nav.adminnav >> text=Jadwal")
        expect(page.locator("h1")).to_have_text("Jadwal")
        expect(page.locator("#hall-breaks")).to_contain_text("Sholat Jumat")
        expect(page.locator("#calendar")).to_contain_text("Hari Raya Natal")

        # A break that ends before it starts: refused next to the field, nothing saved.
        page.fill("#break-form #f-label", "Istirahat siang")
        for day in ("mon", "tue", "wed", "thu"):
            page.check(f"#break-form input[name=days][value={day}]")
        page.uncheck("#break-form input[name=days][value=fri]")
        page.fill("#break-form #f-start", "13:00")
        page.fill("#break-form #f-end", "12:00")
        page.click("#break-form button.primary")
        expect(page.locator("#break-form #end-error")).to_have_text(
            "Istirahat harus berakhir setelah dimulai."
        )
        assert len(hub.hall.schedule.breaks) == 1
        page.fill("#break-form #f-start", "12:00")
        page.fill("#break-form #f-end", "13:00")
        page.click("#break-form button.primary")
        expect(page.locator(".flash.success")).to_contain_text("Istirahat siang")

        # Ramadan: special hours over a range of days.
        page.fill("#calendar-form #f-first", "2027-02-08")
        page.fill("#calendar-form #f-last", "2027-03-08")
        page.fill("#calendar-form #f-label", "Ramadan 1448 H")
        page.check("#calendar-form input[name=kind][value=hours]")
        page.fill("#calendar-form #f-hours", "08:00-14:00")
        page.click("#calendar-form button.primary")
        expect(page.locator("#calendar")).to_contain_text("Ramadan 1448 H")
        labels = [b.label for b in hub.hall.schedule.breaks]
        assert labels == ["Sholat Jumat", "Istirahat siang"]
        assert hub.hall.schedule.calendar[-1].hours == ((480, 840),)
        page.screenshot(path=str(shots / "admin-schedule.png"), full_page=True)
    finally:
        page.close()
