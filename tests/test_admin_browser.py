"""The admin pages in Debian's headless Chromium against a real server process.

With PANGGIL_SCREENSHOTS=1 the screenshot test rewrites docs/admin-*.png (1280x800), which
docs/admin.md shows; otherwise it writes them to a temporary folder, so a test run leaves git clean.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parent.parent / "docs"


def log_in(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_admin_sets_up_a_service_and_a_counter_and_watches_them_live(page, live_server):
    from playwright.sync_api import expect

    log_in(page, live_server, "admin", "admin-secret")
    expect(page.locator("h1")).to_have_text("Pemantauan langsung")
    expect(page.locator("#conn")).to_have_class(re.compile(r"\bok\b"))

    # A service, first with a duplicate prefix: the error sits next to the field.
    page.goto(live_server.url + "/admin/services/new")
    page.fill("#f-code", "bpjs-kes")
    page.fill("#f-name", "BPJS Kesehatan")
    page.select_option("#f-agency", "dukcapil")
    page.fill("#f-prefix", "A")
    page.fill("#f-hours", "07:30-12:00,13:00-16:00")
    page.fill("#f-hours_fri", "07:30-11:30,13:30-16:00")
    page.click("button.primary")
    expect(page.locator("#prefix-error")).to_have_text("Awalan A sudah dipakai oleh layanan KTP.")
    page.fill("#f-prefix", "K")
    page.click("button.primary")
    expect(page.locator(".flash.success")).to_contain_text("BPJS Kesehatan")

    # A counter for it.
    page.goto(live_server.url + "/admin/counters/new")
    page.fill("#f-number", "7")
    page.fill("#f-name", "Gerai 7")
    page.fill("#f-spoken_name", "gerai tujuh")
    page.check("input[name=services][value=bpjs-kes]")
    page.click("button.primary")
    expect(page.locator(".pairing svg")).to_be_visible()
    token = page.locator("#token").inner_text().strip()
    assert len(token) >= 16

    # The monitor shows both, and follows a ticket live (no reload).
    page.goto(live_server.url + "/admin/")
    service_row = page.locator("tr[data-service=bpjs-kes]")
    counter_row = page.locator("tr[data-counter='7']")
    expect(service_row).to_contain_text("BPJS Kesehatan")
    expect(counter_row).to_contain_text("Gerai 7")
    expect(service_row.locator("td.num").first).to_have_text("0")
    ticket = live_server.issue("bpjs-kes")
    assert ticket["number"] == "K001"
    expect(service_row.locator("td.num").first).to_have_text("1")
    response = live_server.post("/api/counters/7/call_next", {"request_id": "b-1"}, token=token)
    assert response.status_code == 200, response.text
    expect(counter_row).to_contain_text("K001")
    expect(counter_row).to_contain_text("Melayani")
    expect(service_row.locator("td.num").first).to_have_text("0")
    expect(page.locator("#calls")).to_contain_text("K001")


def test_the_monitor_shows_counter_breaks_live(page, live_server):
    from playwright.sync_api import expect

    log_in(page, live_server, "admin", "admin-secret")
    page.goto(live_server.url + "/admin/")
    row = page.locator("tr[data-counter='2']")
    expect(row).to_contain_text("Kosong")
    live_server.command(2, "pause", "m-1", reason="sholat", until="13:00")
    expect(row.locator(".badge")).to_have_text("Istirahat")
    expect(row.locator(".break-detail")).to_have_text(" (sholat) · 0 menit · kembali 13.00")
    live_server.command(2, "resume", "m-2")
    expect(row.locator(".badge")).to_have_text("Kosong")
    expect(row.locator(".break-detail")).to_have_count(0)
    live_server.command(3, "pause", "m-3", reason="rapat")
    expect(page.locator("tr[data-counter='3'] .break-detail")).to_have_text(" (rapat) · 0 menit")


def test_officer_is_refused(page, live_server):
    log_in(page, live_server, "petugas1", "petugas-secret")
    for path in ("/admin/", "/admin/settings", "/admin/users"):
        response = page.goto(live_server.url + path)
        assert response.status == 403
        assert "Akses ditolak" in page.content()


def test_screenshots_of_every_admin_page(page, live_server, tmp_path):
    """Each admin page at 1280x800, with some data so the pages look like a working day."""
    from playwright.sync_api import expect

    folder = DOCS if os.environ.get("PANGGIL_SCREENSHOTS") else tmp_path

    live_server.issue("ktp")
    live_server.issue("ktp", "elderly")
    live_server.issue("kk")
    live_server.command(1, "call_next", "s-1")
    log_in(page, live_server, "admin", "admin-secret")
    page.goto(live_server.url + "/admin/displays/new")
    page.fill("#f-name", "lobi-utama")
    page.check("input[name=counters][value='1']")
    page.check("input[name=counters][value='2']")
    page.click("button.primary")

    shots = {
        "monitor": "/admin/",
        "services": "/admin/services",
        "service": "/admin/services/ktp",
        "agencies": "/admin/agencies",
        "counters": "/admin/counters",
        "counter": "/admin/counters/1",
        "displays": "/admin/displays",
        "display": "/admin/displays/lobi-utama",
        "users": "/admin/users",
        "user": "/admin/users/2",
        "settings": "/admin/settings",
        "day": "/admin/day",
        "audit": "/admin/audit",
    }
    for name, path in shots.items():
        page.goto(live_server.url + path)
        if name == "monitor":
            expect(page.locator("tr[data-counter='1']")).to_contain_text("A002")
            expect(page.locator("#displays-count")).not_to_be_empty()
        page.screenshot(path=str(folder / f"admin-{name}.png"))

    # A refused form, to show where errors appear.
    page.goto(live_server.url + "/admin/services/new")
    page.fill("#f-code", "ktp")
    page.fill("#f-prefix", "B")
    page.fill("#f-hours", "16:00-08:00")
    page.click("button.primary")
    expect(page.locator("#prefix-error")).to_be_visible()
    page.screenshot(path=str(folder / "admin-service-errors.png"))
    assert re.search(r"Kode ini sudah dipakai", page.content())
