"""The kiosk in Chromium: take a ticket, follow it on the phone page and the TV; printer failures,
quota and hours as a visitor meets them. Takes screenshots: into docs/ with
PANGGIL_SCREENSHOTS=docs (then look at them), else into the test's temporary folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import wait_js
from fake_printer import closed_port, printer_fixture  # noqa: F401 - the `printer` fixture
from test_kiosk_flow import hours_ignored_app_fixture  # noqa: F401 - `hours_ignored_app`
from test_tv_page import open_tv

from server.ticket_links import ticket_token

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = {"width": 1080, "height": 1920}
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: docs/ when asked for (they change with the clock), else tmp_path."""
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    return ROOT / chosen if chosen else tmp_path


def test_ticket_from_kiosk_reaches_visitor_page_and_tv(browser, live_server, shots):
    kiosk = browser.new_page(viewport=PORTRAIT)
    tv = browser.new_page()
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        # Some calls before ours, so that the TV has history (kk and paspor: nothing ahead in ktp).
        for i, (service, counter) in enumerate((("kk", 2), ("paspor", 3), ("kk", 2))):
            live_server.issue(service)
            assert live_server.command(counter, "call_next", f"before-{i}").ok
        open_tv(tv, live_server)
        kiosk.goto(live_server.url + "/kiosk")  # no kiosks configured: a screen-only kiosk
        assert kiosk.url.endswith("/kiosk/layar")
        kiosk.click("text=Dukcapil")
        kiosk.wait_for_selector("[data-service=ktp]")
        kiosk.screenshot(path=str(shots / "kiosk.png"))
        with kiosk.expect_response("**/api/kiosk/layar/tickets") as answer:
            kiosk.click("[data-service=ktp]")
        kiosk.wait_for_selector("#result:not([hidden])")
        number = kiosk.locator("#result-number").inner_text()
        assert number == "A001"
        assert kiosk.locator("#result-ahead").inner_text() == "Anda berikutnya"
        qr = kiosk.locator("#result-qr")
        assert qr.get_attribute("src").startswith("data:image/svg+xml")
        assert kiosk.evaluate("document.getElementById('result-qr').naturalWidth") > 100
        kiosk.screenshot(path=str(shots / "kiosk-ticket.png"))

        # The phone opens what the QR code holds: the ticket's tokened address.
        visitor_url = answer.value.json()["visitor_url"]
        day = live_server.get("/api/health").json()["day"]
        assert visitor_url.startswith(f"{live_server.url}/t/{day}/{number}/")
        phone.goto(visitor_url)
        phone.wait_for_selector(".v-live")
        assert "Menunggu" in phone.locator("#state").inner_text()

        assert live_server.command(1, "call_next", "e2e-1").ok
        wait_js(phone, "() => document.getElementById('state').textContent.indexOf('Gerai 1') >= 0")
        assert phone.locator("#state").inner_text().strip() == "Dipanggil, silakan ke Gerai 1"
        phone.screenshot(path=str(shots / "visitor.png"))

        wait_js(tv, f"() => document.getElementById('latest-number').textContent === '{number}'")
        assert tv.locator("#latest-counter").inner_text() == "Gerai 1"
        assert tv.locator("[data-counter='1'] .tv-cell-number").inner_text() == number
        assert tv.locator("#recent li").all_inner_texts()[0].split() == ["B002", "Gerai", "2"]
        tv.wait_for_timeout(600)  # the highlight fades in over 0.4 s
        tv.screenshot(path=str(shots / "tv.png"))

        kiosk.click("#result-done")
        assert kiosk.locator("#result").is_hidden()
    finally:
        for page in (kiosk, tv, phone):
            page.close()


@pytest.fixture
def kiosk_server(app, printer):
    """The in-process app (fake clock: Thursday 09:00) served over HTTP, with a printing kiosk."""
    from werkzeug.serving import make_server

    app.config["PANGGIL_KIOSKS"] = {"lobi": {"name": "Anjungan Lobi", "printer": printer.spec}}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_printer_failure_releases_the_number_and_the_next_ticket_prints(
    browser, app, hub, printer, kiosk_server, shots
):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(kiosk_server + "/kiosk/lobi")
        app.config["PANGGIL_KIOSKS"]["lobi"]["printer"] = {**printer.spec, "port": closed_port()}
        app.extensions.pop("panggil_kiosks")
        page.click("text=Dukcapil")
        page.click("[data-service=ktp]")
        page.wait_for_selector("#error:not([hidden])")
        assert (
            page.locator("#error-message").inner_text()
            == "Printer bermasalah, silakan hubungi petugas."
        )
        page.screenshot(path=str(shots / "kiosk-printer-error.png"))
        status = hub.storage.db.execute(
            "SELECT status FROM tickets WHERE number = 'A001'"
        ).fetchone()[0]
        assert status == "cancelled"
        assert hub.hall.waiting_count("ktp") == 0

        # The officer fixes the printer; the next visitor gets a printed number.
        app.config["PANGGIL_KIOSKS"]["lobi"]["printer"] = printer.spec
        app.extensions.pop("panggil_kiosks")
        page.click("#error-ok")
        page.click("[data-service=ktp]")
        page.wait_for_selector("#result:not([hidden])")
        assert page.locator("#result-number").inner_text() == "A002"
        assert (
            page.locator("#result-print").inner_text() == "Silakan ambil tiket Anda di bawah layar."
        )
        (job,) = printer.wait_for(1)
        token = ticket_token(app.secret_key, "2026-11-26/A002")
        assert b"A002" in job and f"/t/2026-11-26/A002/{token}".encode() in job
    finally:
        page.close()


def test_quota_and_hours_are_explained_when_tapped(browser, hub, clock, kiosk_server, shots):
    for _ in range(3):
        hub.issue("kk")  # kk's daily quota is 3
    page = browser.new_page(viewport=PORTRAIT)
    try:
        page.goto(kiosk_server + "/kiosk/lobi")
        page.click("text=Dukcapil")
        kk = page.locator("[data-service=kk]")
        assert "Kuota hari ini habis" in kk.inner_text()
        kk.click()
        assert page.locator("#error-message").inner_text() == (
            "Kuota antrean layanan ini untuk hari ini sudah habis. Silakan datang kembali besok."
        )
        page.click("#error-ok")

        clock.advance(hours=8)  # 17:00: KTP (07:30-16:00) no longer gives numbers
        page.reload()
        page.click("text=Dukcapil")
        ktp = page.locator("[data-service=ktp]")
        assert "Sudah tutup" in ktp.inner_text()
        assert "Jam layanan hari ini: 07.30\u201316.00" in ktp.inner_text()
        closed = (
            "Layanan KTP sudah tutup untuk hari ini. Buka lagi Jumat, 27 November, pukul 07.30."
        )
        assert closed in ktp.inner_text()
        page.screenshot(path=str(shots / "kiosk-closed.png"))
        ktp.click()
        assert page.locator("#error-message").inner_text() == closed
        assert hub.hall.issued.get("ktp", 0) == 0  # nothing was reserved
    finally:
        page.close()


def test_hours_not_enforced_never_say_closed_on_an_open_tile(
    browser, clock, hours_ignored_app, shots
):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, hours_ignored_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    page = browser.new_page(viewport=PORTRAIT)
    try:
        # Thursday, when KTP has no hours, then 17:00, after KK's (none) and KTP's usual ones.
        for _ in range(2):
            page.goto(f"http://127.0.0.1:{server.server_port}/kiosk/lobi")
            page.click("text=Dukcapil")
            for code in ("ktp", "kk"):
                tile = page.locator(f"[data-service={code}]").inner_text()
                assert "Buka" in tile
                assert "tidak buka" not in tile and "Jam layanan" not in tile, tile
            clock.advance(hours=8)
        page.screenshot(path=str(shots / "kiosk-hours-ignored.png"))
    finally:
        page.close()
        server.shutdown()


def test_priority_ticket_and_english(browser, hub, kiosk_server, printer):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(kiosk_server + "/kiosk/lobi?lang=en")
        assert (
            page.locator("#priority-toggle")
            .inner_text()
            .strip()
            .endswith("Priority: disability, elderly, pregnant")
        )
        page.click("text=Dukcapil")
        page.click("[data-service=ktp]")
        page.wait_for_selector("#result:not([hidden])")
        assert page.locator("#result-label").inner_text() == "YOUR QUEUE NUMBER"
        page.click("#result-done")  # the visitor is done: the kiosk goes back to Indonesian
        wait_js(page, "() => document.documentElement.lang === 'id'")
        assert "Pilih instansi" in page.locator("#step-agency").inner_text()
        page.click("#priority-toggle")
        page.click("[data-priority=pregnant]")
        page.click("text=Imigrasi")
        paspor = page.locator("[data-service=paspor]")
        assert "Tanpa antrean prioritas" in paspor.inner_text()
        paspor.click()
        assert "tidak memiliki antrean prioritas" in page.locator("#error-message").inner_text()
        page.click("#error-ok")
        page.click("#back")
        page.click("text=Dukcapil")
        page.click("[data-service=ktp]")
        page.wait_for_selector("#result:not([hidden])")
        assert page.locator("#result-priority").inner_text() == "Prioritas: Ibu hamil"
        assert hub.hall.find("A002").priority == "pregnant"
        page.click("#result-done")
        assert page.locator("#priority-choices").is_hidden()  # the next visitor starts regular
        jobs = printer.wait_for(2)
        assert b"PRIORITAS: Ibu hamil" in jobs[1]
    finally:
        page.close()
