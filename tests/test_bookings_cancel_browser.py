"""Cancelling a booking and editing booking sessions, in Chromium against a real server.

With PANGGIL_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (booking-cancel-confirm.png,
booking-cancelled.png, kiosk-checkin-cancelled.png, admin-service-bookings-error.png,
admin-service-bookings.png, admin-bookings-cancel.png,
admin-bookings-cancelled.png), else to the test's folder.
"""

from __future__ import annotations

from conftest import wait_js
from test_bookings_browser import book_on_the_page, booking_server, shots_dir


def test_the_visitor_cancels_on_the_confirmation_page_and_the_kiosk_refuses_the_code(
    page, live_server_factory, tmp_path
):
    server = booking_server(live_server_factory)
    shots = shots_dir(tmp_path)
    code = book_on_the_page(page, server)
    assert page.inner_text("#cancel-start") == "Batalkan reservasi"
    assert page.is_hidden("#cancel-confirm")

    # The confirmation step: "No" leaves everything as it was.
    page.click("#cancel-start")
    wait_js(page, "!document.getElementById('cancel-confirm').hidden")
    page.screenshot(path=str(shots / "booking-cancel-confirm.png"), full_page=True)
    page.click("#cancel-no")
    wait_js(page, "document.getElementById('cancel-confirm').hidden")
    assert server.get(f"/reservasi/{code}").status_code == 200
    assert "Batalkan reservasi" in server.get(f"/reservasi/{code}?lang=id").text

    page.click("#cancel-start")
    with page.expect_navigation():  # the page reloads with the cancelled booking
        page.click("#cancel-yes")
    page.wait_for_selector("#cancelled")
    text = page.inner_text("#cancelled")
    assert "Reservasi ini dibatalkan" in text and "Kodenya tidak berlaku lagi" in text
    assert page.query_selector("#cancel-start") is None
    page.screenshot(path=str(shots / "booking-cancelled.png"), full_page=True)

    page.goto(server.url + "/kiosk/layar")
    page.click("#booking-toggle")
    page.fill("#checkin-code", code)
    page.click("#checkin-submit")
    wait_js(page, "!document.getElementById('error').hidden")
    assert "Reservasi ini sudah dibatalkan" in page.inner_text("#error-message")
    page.screenshot(path=str(shots / "kiosk-checkin-cancelled.png"))


def test_the_admin_edits_the_sessions_and_cancels_a_booking(page, live_server_factory, tmp_path):
    from test_admin_browser import log_in

    server = booking_server(live_server_factory)
    shots = shots_dir(tmp_path)
    code = book_on_the_page(page, server)
    log_in(page, server, "admin", "admin-secret")

    page.goto(server.url + "/admin/services/ktp")
    assert page.is_checked("input[name=booking_active]")
    assert page.input_value("#f-booking_sessions") == "00:00-12:00, 12:00-24:00"
    page.fill("#f-booking_sessions", "00:00-12:00, 11:00-13:00")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    page.wait_for_selector("#booking_sessions-error")
    assert (
        page.inner_text("#booking_sessions-error")
        == "Sesi 00:00-12:00 dan 11:00-13:00 bertumpang tindih."
    )
    page.locator("#bookings-part").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "admin-service-bookings-error.png"), full_page=True)
    sessions = server.get("/api/reservasi/sessions?service=ktp&day=" + today(server)).json()
    assert [s["session"] for s in sessions["sessions"]] == ["00:00-12:00", "12:00-24:00"]

    page.fill("#f-booking_sessions", "00:00-08:00, 08:00-16:00, 16:00-24:00")
    page.fill("#f-booking_quota", "9")
    page.press("#f-booking_quota", "Enter")  # Enter in a field sends the form
    page.wait_for_url("**/admin/services")
    sessions = server.get("/api/reservasi/sessions?service=ktp&day=" + today(server)).json()
    assert [(s["session"], s["quota"]) for s in sessions["sessions"]] == [
        ("00:00-08:00", 9), ("08:00-16:00", 9), ("16:00-24:00", 9),
    ]  # fmt: skip
    page.goto(server.url + "/admin/services/ktp")  # the form shows the stored plan
    assert page.input_value("#f-booking_sessions") == "00:00-08:00, 08:00-16:00, 16:00-24:00"
    assert page.input_value("#f-booking_quota") == "9"
    page.locator("#bookings-part").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "admin-service-bookings.png"), full_page=True)

    # The booking made before keeps its old session, listed as no longer offered; cancel it.
    page.goto(server.url + "/admin/reservasi")
    assert "tidak ditawarkan lagi" in page.inner_text("#sessions")
    page.click(f"#cancel-{code} summary")
    page.fill(f"#cancel-{code} input[name=reason]", "Pemohon menelepon, jadwal bentrok")
    page.screenshot(path=str(shots / "admin-bookings-cancel.png"), full_page=True)
    with page.expect_navigation():
        page.click(f"#cancel-{code} button[type=submit]")
    page.wait_for_selector(".flash.success")
    row = page.inner_text(f"#booking-list tr:has(code:text-is('{code}'))")
    assert "dibatalkan" in row and "Pemohon menelepon, jadwal bentrok" in row
    page.screenshot(path=str(shots / "admin-bookings-cancelled.png"), full_page=True)
    assert server.get(f"/reservasi/{code}").status_code == 200
    assert "Reservasi ini dibatalkan" in server.get(f"/reservasi/{code}?lang=id").text


def today(server) -> str:
    return server.get("/api/health").json()["day"]
