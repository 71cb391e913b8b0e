"""Webhooks for real: an admin adds one in Chromium on a running server (eventlet), tickets are
taken and called through the HTTP API, and a receiver on loopback gets every chosen event once,
in order, signed with the secret the page showed once. Screenshot: docs/screenshots/admin-webhooks.png
with PANGGIL_SCREENSHOTS=docs (look at it), else in the test's folder."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from pathlib import Path

import pytest
from test_report_browser import sign_in
from test_webhooks import Receiver

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_receiver_gets_every_event_once_signed(live_server, browser, tmp_path):
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    shots = ROOT / chosen / "screenshots" if chosen else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    receiver = Receiver()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, live_server.url)
        page.goto(live_server.url + "/admin/webhooks")
        page.fill("#f-name", "Gateway WhatsApp")
        page.fill("#f-url", receiver.url)
        page.click("#webhook-form button[type=submit]")
        secret = page.locator("#new-secret code").inner_text().strip()
        assert secret.startswith("whsec_")

        first = live_server.issue("ktp")
        live_server.issue("ktp")
        assert live_server.command(1, "call_next", "live-1").status_code == 200
        assert live_server.command(1, "finish", "live-2").status_code == 200
        deadline = time.monotonic() + 20
        while len(receiver.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # one more round of the dispatcher: nothing may come twice
        assert receiver.events() == [("ticket.issued", first["number"]), ("ticket.issued", "A002"),
                                     ("ticket.called", "A001"), ("ticket.finished", "A001")]  # fmt: skip
        for r in receiver.requests:
            stamp, mac = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                                      r["headers"]["X-Panggil-Signature"]).groups()  # fmt: skip
            want = hmac.new(secret.encode(), stamp.encode() + b"." + r["body"], hashlib.sha256)
            assert hmac.compare_digest(mac, want.hexdigest())
            assert abs(int(stamp) - time.time()) < 120
            assert json.loads(r["body"])["hall"] == "MPP Uji"

        page.goto(live_server.url + "/admin/webhooks")
        assert page.locator("#delivery-log tbody tr.ok").count() == 4
        assert secret not in page.content()
        page.screenshot(path=str(shots / "admin-webhooks.png"), full_page=True)
    finally:
        page.close()
        receiver.close()
