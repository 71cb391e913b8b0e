"""The console signs its officer in by itself, shows who is signed in, and signs out (Chromium
against a real server)."""

from __future__ import annotations

import pytest

from tests.conftest import USERS, wait_js
from tests.test_counter_console import (
    counter_state,
    expect_message,
    log_in,
    shots_dir,
    ticket_of,
)

NAMED = [{**u, "full_name": "Budi Santoso"} if u["username"] == "petugas1" else u for u in USERS]


def officer_text(page) -> str:
    return page.locator("#officer").inner_text().strip()


@pytest.mark.slow
@pytest.mark.browser
def test_the_console_signs_in_its_officer_and_signs_out(
    live_server_factory, page, browser, tmp_path
):
    server = live_server_factory(users=NAMED).start()
    server.issue("ktp")
    server.issue("ktp")
    log_in(page, server)  # waits for "#officer.mine"
    assert officer_text(page) == "Petugas: Budi Santoso"
    assert counter_state(server)["me"]["officer"] == {
        "username": "petugas1",
        "full_name": "Budi Santoso",
    }
    assert (
        page.locator("#btn-sign_out").is_visible() and not page.locator("#btn-sign_in").is_visible()
    )

    page.keyboard.press("n")
    expect_message(page, "Memanggil A001.")
    assert ticket_of(server, "A001")["called_by"] == "petugas1"
    page.screenshot(path=str(shots_dir(tmp_path) / "console-officer.png"), full_page=True)
    page.keyboard.press("n")
    expect_message(page, "Memanggil A002 (A001 selesai).")
    assert ticket_of(server, "A001")["finished_by"] == "petugas1"

    # An admin who opens this counter's console only looks: Budi stays signed in.
    other = browser.new_page()
    try:
        other.goto(f"{server.url}/login?next=/console/1")
        other.fill("#username", "admin")
        other.fill("#password", "admin-secret")
        other.click("button[type=submit]")
        other.wait_for_selector("#officer.other")
        assert officer_text(other) == "Petugas: Budi Santoso"
        assert other.locator("#btn-sign_in").is_visible()
        assert counter_state(server)["me"]["officer"]["username"] == "petugas1"
        # ... until they take the desk themselves; Budi's page follows live.
        wait_js(other, "() => !document.querySelector('#btn-sign_in').disabled")
        other.click("#btn-sign_in")
        expect_message(other, "Masuk sebagai Admin Uji.")
        page.wait_for_selector("#officer.other")
        assert officer_text(page) == "Petugas: Admin Uji"
    finally:
        other.close()
    # Budi takes it back, finishes and signs out; the page does not sign him in again by itself.
    page.click("#btn-sign_in")
    expect_message(page, "Masuk sebagai Budi Santoso.")
    page.keyboard.press("s")
    expect_message(page, "A002 selesai dilayani.")
    page.click("#btn-sign_out")
    expect_message(
        page, "Anda sudah keluar. Panggilan dari gerai ini tidak lagi dicatat atas nama Anda."
    )
    page.wait_for_selector("#officer.none")
    assert officer_text(page) == "Belum ada petugas"
    assert counter_state(server)["me"]["officer"] is None
    page.reload()  # a new page load is a new sign-in (the officer came back)
    page.wait_for_selector("#officer.mine")


@pytest.mark.slow
@pytest.mark.browser
def test_the_console_says_so_when_the_hall_requires_an_officer(live_server_factory, page):
    server = live_server_factory(hall={"require_officer": True}).start()
    server.issue("ktp")
    r = server.command(1, "call_next", "no-officer")
    assert (r.status_code, r.json()["error"]) == (409, "officer-required")
    log_in(page, server)
    page.keyboard.press("n")
    expect_message(page, "Memanggil A001.")
    page.click("#btn-sign_out")  # holding A001: refused, with what to do
    expect_message(page, "Selesaikan, lewati atau alihkan dahulu nomor yang sedang dilayani.", True)


@pytest.mark.slow
@pytest.mark.browser
def test_the_monitor_shows_each_counters_officer_live(live_server_factory, page, tmp_path):
    from playwright.sync_api import expect

    live_server = live_server_factory(users=NAMED).start()
    from tests.test_admin_browser import log_in as admin_log_in
    from tests.test_officers_keypad import set_pin_as_admin

    number = set_pin_as_admin(live_server, "petugas1", "2468")
    admin_log_in(page, live_server, "admin", "admin-secret")
    page.goto(live_server.url + "/admin/")
    officer = page.locator("tr[data-counter='1'] td.officer")
    expect(officer).to_have_text("–")
    r = live_server.command(1, "sign_in", "m-1", officer=number, pin="2468")
    assert r.status_code == 200, r.text
    expect(officer).to_have_text("Budi Santoso")  # by name: /display never carries the login
    live_server.issue("ktp")
    live_server.command(1, "call_next", "m-2")
    expect(page.locator("tr[data-counter='1']")).to_contain_text("A001")
    page.screenshot(path=str(shots_dir(tmp_path) / "admin-monitor-officer.png"))
    live_server.command(1, "finish", "m-3")
    live_server.command(1, "sign_out", "m-4")
    expect(officer).to_have_text("–")


@pytest.mark.slow
@pytest.mark.browser
def test_the_monitor_shows_who_serves_and_who_is_on_a_break(live_server_factory, page, tmp_path):
    """The hall head's view of a working morning: an officer serving at counter 1, counter 2 on a
    prayer break with its return time (docs/admin-monitor.png)."""
    from playwright.sync_api import expect

    from tests.test_admin_browser import log_in as admin_log_in
    from tests.test_officers_keypad import set_pin_as_admin

    server = live_server_factory(users=NAMED).start()
    number = set_pin_as_admin(server, "petugas1", "2468")
    assert server.command(1, "sign_in", "w-1", officer=number, pin="2468").ok
    for service in ("ktp", "ktp", "kk", "paspor"):
        server.issue(service)
    assert server.command(1, "call_next", "w-2").ok
    assert server.command(2, "pause", "w-3", reason="sholat", until="13:00").ok
    admin_log_in(page, server, "admin", "admin-secret")
    page.goto(server.url + "/admin/")
    row1, row2 = page.locator("tr[data-counter='1']"), page.locator("tr[data-counter='2']")
    expect(row1.locator("td.officer")).to_have_text("Budi Santoso")
    expect(row1).to_contain_text("A001")
    expect(row2).to_contain_text("Istirahat")
    expect(row2).to_contain_text("13.00")
    page.screenshot(path=str(shots_dir(tmp_path) / "admin-monitor.png"), full_page=True)
    assert server.command(2, "resume", "w-4").ok
    expect(row2).not_to_contain_text("Istirahat")
