"""Bookings in Chromium against a real server: book on the public page, check in at the kiosk
(the code typed on the screen's keys, and the QR read by the camera from a fake video stream),
be called in first-come order among walk-ins.

With PANGGIL_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (booking.png,
booking-confirmation.png, kiosk-booking-button.png, kiosk-checkin.png, kiosk-checkin-result.png,
admin-bookings.png),
else to the test's folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import segno
from conftest import CHROMIUM, CHROMIUM_ARGS, wait_js

ROOT = Path(__file__).resolve().parent.parent
# Two sessions covering the whole day: the live server runs on the real clock.
PLAN = {"sessions": ["00:00-12:00", "12:00-24:00"], "quota": 5, "grace_minutes": 15}


def shots_dir(tmp_path: Path) -> Path:
    folder = (
        ROOT / "docs" / "screenshots" if os.environ.get("PANGGIL_SCREENSHOTS") == "1" else tmp_path
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def booking_server(factory):
    services = [dict(s) for s in __import__("conftest").HALL["services"]]
    services[0]["bookings"] = PLAN
    return factory("threading", services=services).start()


def book_on_the_page(page, server, shots: Path | None = None) -> str:
    page.goto(server.url + "/reservasi")
    wait_js(page, "document.querySelectorAll('#sessions .b-session').length === 2")
    page.click("#sessions .b-session:not(.b-off)")
    page.fill("#name", "Budi Santoso")
    page.fill("#phone", "0812 3456 7890")
    page.fill("#id_last4", "4321")
    if shots:
        page.screenshot(path=str(shots / "booking.png"), full_page=True)
    page.click("#submit")
    page.wait_for_url("**/reservasi/*")
    wait_js(page, "!!document.getElementById('code')")
    if shots:
        page.screenshot(path=str(shots / "booking-confirmation.png"), full_page=True)
    return page.inner_text("#code").strip()


def call_order(server, count: int) -> list[str]:
    numbers = []
    for i in range(count):
        r = server.command(1, "call_next", f"bk-{i}")
        assert r.ok, r.text
        numbers.append(r.json()["result"]["ticket"]["number"])
    return numbers


def test_book_check_in_at_the_kiosk_with_the_typed_code_and_be_called_in_arrival_order(
    page, live_server_factory, tmp_path
):
    server = booking_server(live_server_factory)
    shots = shots_dir(tmp_path)
    code = book_on_the_page(page, server, shots)
    assert len(code) == 6
    assert page.inner_text("#confirmation").count(code) == 1
    assert page.get_attribute("#qr", "src").startswith("data:image/svg+xml")
    assert server.issue("ktp")["number"] == "A001"  # a walk-in who came before the booked visitor

    page.goto(server.url + "/kiosk/layar")
    page.screenshot(path=str(shots / "kiosk-booking-button.png"))
    page.click("#booking-toggle")
    wait_js(page, "!document.getElementById('checkin').hidden")
    for letter in code:
        page.click(f"#checkin-keys button:text-is('{letter}')")
    assert page.input_value("#checkin-code") == code
    page.screenshot(path=str(shots / "kiosk-checkin.png"))
    page.click("#checkin-submit")
    wait_js(page, "!document.getElementById('result').hidden")
    assert page.inner_text("#result-number") == "A002"
    assert page.text_content("#result-label") == "Sudah check-in: nomor antrean Anda"
    page.screenshot(path=str(shots / "kiosk-checkin-result.png"))

    # The same code again (a second tap, another kiosk): the same number, not a new one.
    page.click("#result-done")
    page.click("#booking-toggle")
    page.fill("#checkin-code", code.lower())
    page.press("#checkin-code", "Enter")
    wait_js(page, "!document.getElementById('result').hidden")
    assert page.inner_text("#result-number") == "A002"

    assert server.issue("ktp")["number"] == "A003"  # came after the check-in
    assert call_order(server, 3) == ["A001", "A002", "A003"]

    # The admin's Reservasi page: the session's counts and the booking with its ticket.
    from test_admin_browser import log_in

    book_on_the_page(page, server)  # a second booking, not checked in
    log_in(page, server, "admin", "admin-secret")
    page.goto(server.url + "/admin/reservasi")
    table = page.inner_text("#booking-list")
    assert code in table and "A002" in table and "Budi Santoso" in table and "4321" in table
    page.screenshot(path=str(shots / "admin-bookings.png"), full_page=True)


def test_an_unknown_code_is_answered_in_indonesian_at_the_kiosk(page, live_server_factory):
    server = booking_server(live_server_factory)
    page.goto(server.url + "/kiosk/layar")
    page.click("#booking-toggle")
    page.fill("#checkin-code", "ABCDEF")
    page.click("#checkin-submit")
    wait_js(page, "!document.getElementById('error').hidden")
    assert "Tidak ada reservasi dengan kode ini" in page.inner_text("#error-message")


def qr_y4m(text: str, path: Path, width: int = 640, height: int = 480) -> Path:
    """One grey frame with the QR code of `text` in its middle, as a Y4M file Chromium can play."""
    matrix = [list(row) for row in segno.make_qr(text, error="m").matrix_iter(scale=1, border=4)]
    scale = min(width, height) * 3 // 4 // len(matrix)
    size = len(matrix) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width // 2 * height // 2)
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def camera_page(browser, tmp_path):
    """A second Chromium whose camera films a Y4M file (written by the test before it opens the
    kiosk), launched by the session's Playwright."""
    video = tmp_path / "qr.y4m"
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
    )  # fmt: skip
    context = camera.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    yield context.new_page(), video
    context.close()
    camera.close()


def test_the_kiosk_camera_reads_the_booking_qr(camera_page, live_server_factory, page):
    server = booking_server(live_server_factory)
    code = book_on_the_page(page, server)
    kiosk, video = camera_page
    qr_y4m(code, video)
    kiosk.goto(server.url + "/kiosk/layar")
    kiosk.click("#booking-toggle")
    wait_js(kiosk, "!document.getElementById('result').hidden", timeout=30000)
    assert kiosk.inner_text("#result-number") == "A001"
    assert kiosk.input_value("#checkin-code") == code
