"""SMS/WhatsApp notices in Chromium against a real server and a real gateway on loopback: the
admin connects the gateway and sends a test, a visitor leaves a number on the slip's page, and the
server's own background sender delivers the "almost" message as the queue moves.

With PANGGIL_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (admin-notices.png,
visitor-notices.png, visitor-notices-saved.png), else to the test's folder.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest
from conftest import wait_js
from test_admin_browser import log_in
from test_bookings_browser import shots_dir
from test_webhooks import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_admin_connects_a_gateway_and_a_visitor_gets_the_almost_message(page, browser,
                                                                        live_server_factory,
                                                                        tmp_path):  # fmt: skip
    from playwright.sync_api import expect

    shots = shots_dir(tmp_path)
    gateway = Receiver()
    server = live_server_factory("eventlet").start()
    try:
        log_in(page, server, "admin", "admin-secret")
        page.goto(server.url + "/admin/settings")
        page.click("#notices-link")
        expect(page.locator("h1")).to_have_text("Pemberitahuan WhatsApp/SMS")
        page.check("input[name=enabled]")
        page.fill("#f-url", gateway.url)
        page.fill("#f-authorization", "tok-0123456789")
        page.select_option("#f-format", "form")
        page.fill("#f-message_field", "message")
        page.click("#notices-form button[type=submit]")
        expect(page.locator("#new-secret")).to_contain_text("ntsec_")
        page.fill("#f-phone", "0812 3456 7890")
        page.click("#send-test")
        expect(page.locator(".flash.success")).to_contain_text("6281******890")
        assert wait_for(lambda: len(gateway.requests) == 1)
        test = parse_qs(gateway.requests[0]["body"].decode())
        assert test["target"] == ["6281234567890"] and "pesan uji" in test["message"][0]
        expect(page.locator("#notice-log")).to_contain_text("6281******890")
        assert "tok-0123456789" not in page.content()
        page.screenshot(path=str(shots / "admin-notices.png"), full_page=True)

        tickets = [server.issue("ktp") for _ in range(5)]
        visitor_url = server.post("/api/tickets", {"service": "ktp"}).json()["visitor_url"]
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
        try:
            visitor = phone.new_page()
            visitor.goto(visitor_url)
            expect(visitor.locator("#contact-form")).to_contain_text(
                "Kirim pemberitahuan lewat WhatsApp/SMS"
            )
            visitor.fill("#contact-phone", "0812 34")
            visitor.click("#contact-save")
            expect(visitor.locator("#contact-said")).to_contain_text(
                "bukan nomor seluler Indonesia"
            )
            visitor.locator("#contact").scroll_into_view_if_needed()
            visitor.screenshot(path=str(shots / "visitor-notices.png"), full_page=True)
            visitor.fill("#contact-phone", "+62 857-1234-5678")
            visitor.click("#contact-save")
            expect(visitor.locator("#contact-said")).to_contain_text("Tersimpan")
            expect(visitor.locator("#contact")).to_contain_text("6285******678")
            wait_js(visitor, "document.getElementById('link').textContent.length > 0")
            visitor.screenshot(path=str(shots / "visitor-notices-saved.png"), full_page=True)
        finally:
            phone.close()

        # The queue moves: the sixth ticket comes within 3 people ahead at the second call.
        for i in range(2):
            assert server.command(1, "call_next", f"nb-{i}").ok
        assert wait_for(lambda: len(gateway.requests) == 2)
        almost = parse_qs(gateway.requests[1]["body"].decode())
        assert almost["target"] == ["6285712345678"]
        assert "nomor A006, 3 orang lagi sebelum giliran Anda (KTP)" in almost["message"][0]
        assert gateway.requests[1]["headers"]["Authorization"] == "tok-0123456789"
        assert len(tickets) == 5
    finally:
        gateway.close()
