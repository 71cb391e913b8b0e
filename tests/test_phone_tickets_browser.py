"""A number from the visitor's phone, as a hall runs it, in Chromium against a real server: the
admin turns it on and prints the entrance poster; the poster's QR code, read from a screenshot by a
real decoder as a phone camera would, opens /ambil; the phone takes a number and lands on its live
page; a second try for the same service offers the number it already holds.
Screenshots: docs/screenshots/phone-*.png with PANGGIL_SCREENSHOTS=docs (look at them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_report_browser import sign_in

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_entrance_qr_to_a_number_on_the_phone(browser, live_server, tmp_path):
    import zxingcpp
    from PIL import Image

    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    shots = ROOT / chosen / "screenshots" if chosen else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    admin = browser.new_page(viewport={"width": 1000, "height": 1400})
    phone_context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID"
    )
    phone = phone_context.new_page()
    try:
        sign_in(admin, live_server.url)
        admin.goto(live_server.url + "/admin/phone-tickets")
        admin.check("#f-enabled")
        admin.fill("#f-public_url", live_server.url)
        admin.click("#phone-form button[type=submit]")
        admin.wait_for_selector(".flash.success")
        admin.goto(live_server.url + "/admin/phone-tickets/poster")
        poster = shots / "phone-poster.png"
        admin.screenshot(path=str(poster), full_page=True)
        [found] = zxingcpp.read_barcodes(Image.open(poster))
        assert found.text == live_server.url + "/ambil"

        phone.goto(found.text)
        phone.click("text=Dukcapil")
        phone.wait_for_selector("[data-service=ktp]")
        phone.screenshot(path=str(shots / "phone-ambil.png"))
        phone.click("[data-service=ktp]")
        phone.wait_for_url(re.compile(r"/t/\d{4}-\d{2}-\d{2}/A001/"))
        phone.wait_for_selector(".v-live")
        assert phone.locator(".v-number").inner_text() == "A001"
        mine = phone.url

        phone.goto(found.text)  # again, for the same service
        phone.click("text=Dukcapil")
        phone.click("[data-service=ktp]")
        phone.wait_for_selector("#error:not([hidden])")
        assert (
            "Anda sudah memegang nomor untuk layanan ini."
            in phone.locator("#error-message").inner_text()
        )
        link = phone.locator("#error-link")
        assert link.inner_text() == "Lihat nomor saya A001"
        phone.screenshot(path=str(shots / "phone-holding.png"))
        link.click()
        phone.wait_for_url(mine)
        assert live_server.issue("ktp")["number"] == "A002"  # the kiosk's numbers go on as before
    finally:
        admin.close()
        phone_context.close()
