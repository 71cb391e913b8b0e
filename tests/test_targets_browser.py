"""Waits past target in real Chromium: the admin monitor and the officer console, live.

The in-process app serves the pages, so that the test's FakeClock makes tickets old; the pages
take the server's time from the snapshot and count on with their own clock, as in a hall.
With PANGGIL_SCREENSHOTS=1 the screenshots go to docs/monitor-target.png and
docs/console-oldest.png; otherwise to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import hall_config

from server import engine

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def config(tmp_path):
    """The test hall with a 30-minute target on KTP (KK and Paspor have none)."""
    from server.config import parse_config

    raw = hall_config(tmp_path)
    raw["services"][0]["target_wait"] = 30
    raw["hall"] = {**raw["hall"], "enforce_hours": False}
    return parse_config(raw, base_dir=tmp_path)


@dataclass
class Served:
    url: str


@pytest.fixture
def server(app):
    """The in-process app (fake clock) over HTTP with Socket.IO, in a thread."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{httpd.server_port}")
    httpd.shutdown()


# `server` before `page` in a test's arguments: the page closes first, then the server stops.


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if os.environ.get("PANGGIL_SCREENSHOTS") == "1" else tmp_path


def log_in(page, server: Served, username: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_the_monitor_highlights_queues_and_tickets_past_target_live(
    hub, clock, server, page, shots
):
    from playwright.sync_api import expect

    hub.issue("ktp")  # A001 at 09:00
    clock.advance(minutes=25)
    hub.issue("ktp")  # A002 at 09:25
    hub.issue("kk")  # B001: no target in KK, however long it waits
    clock.advance(minutes=17)  # 09:42
    hub.command(2, "call_ticket", {"number": "B001"}, "busy-2")  # counter 2 at work
    log_in(page, server, "admin", "admin-secret")
    page.goto(server.url + "/admin/")
    ktp = page.locator("tr[data-service=ktp]")
    expect(ktp).to_have_class(re.compile(r"\blate\b"))
    expect(ktp.locator(".late-badge")).to_have_text("Lewat target")
    expect(ktp.locator("td.wait")).to_have_text("menunggu 42 mnt, target 30")
    expect(page.locator("tr[data-service=kk] td.wait")).to_have_text("–")
    expect(page.locator("tr[data-service=paspor]")).not_to_have_class(re.compile(r"\blate\b"))
    late = page.locator("#late tbody tr")
    expect(late).to_have_count(1)
    expect(late.first).to_have_attribute("data-ticket", "A001")
    expect(late.first).to_contain_text("menunggu 42 mnt, target 30")
    expect(page.locator("#late-count")).to_have_text("1")
    page.screenshot(path=str(shots / "monitor-target.png"))

    # An event: A001 is called; the queue is within its target again, without a reload.
    hub.command(1, "call_next", {}, "late-1")
    expect(ktp.locator("td.wait")).to_have_text("menunggu 17 mnt, target 30")
    expect(ktp).not_to_have_class(re.compile(r"\blate\b"))
    expect(ktp.locator(".late-badge")).to_have_count(0)
    expect(late).to_have_count(1)
    expect(late.first).to_have_text("Tidak ada yang menunggu melewati target.")
    expect(page.locator("#late-count")).to_have_text("0")

    # No event: a visitor crosses the target while the page only watches its clock. The page's
    # time is the snapshot's 09:42 plus the seconds since it loaded; the ticket is taken so that
    # it has waited 30 min 45 s when it appears, and 31 min a quarter of a minute later.
    loaded = time.monotonic()
    page.reload()
    expect(ktp.locator("td.wait")).to_have_text("menunggu 17 mnt, target 30")
    clock.set(
        clock() - timedelta(minutes=30, seconds=45) + timedelta(seconds=time.monotonic() - loaded)
    )
    hub.issue("ktp")  # A003, "older" than A002
    expect(ktp.locator("td.wait")).to_have_text("menunggu 30 mnt, target 30")
    expect(ktp).not_to_have_class(re.compile(r"\blate\b"))
    expect(ktp.locator("td.wait")).to_have_text("menunggu 31 mnt, target 30", timeout=40_000)
    expect(ktp).to_have_class(re.compile(r"\blate\b"))
    expect(late.first).to_have_attribute("data-ticket", "A003")

    # The admin drops the target (hall_changed, then a new snapshot): nothing is late any more.
    hub.change_hall("catalogue", lambda s: s.save_service(
        engine.replace(hub.hall.services["ktp"], target_wait=None)))  # fmt: skip
    expect(ktp.locator("td.wait")).to_have_text(re.compile(r"^menunggu \d+ mnt$"))
    expect(ktp).not_to_have_class(re.compile(r"\blate\b"))
    expect(page.locator("#late-card")).to_be_hidden()


def test_the_console_shows_the_longest_wait_and_when_it_is_past_target(
    hub, clock, server, page, shots
):
    from playwright.sync_api import expect

    hub.issue("ktp")  # A001 at 09:00
    clock.advance(minutes=20)
    hub.issue("ktp")  # A002 at 09:20
    clock.advance(minutes=10)
    hub.issue("kk")  # B001 at 09:30
    clock.advance(minutes=7)  # 09:37
    log_in(page, server, "petugas1", "petugas-secret")
    page.wait_for_selector("#connection.connected")
    oldest = page.locator("#oldest")
    expect(oldest).to_have_text("Terlama menunggu: 37 mnt · KTP lewat target 30 mnt")
    expect(oldest).to_have_class(re.compile(r"\blate\b"))
    expect(page.locator("#waiting li[data-service=ktp] .oldest-of")).to_have_text("37 mnt")
    expect(page.locator("#waiting li[data-service=ktp] .oldest-of")).to_have_class(
        re.compile(r"\blate\b")
    )
    expect(page.locator("#waiting li[data-service=kk] .oldest-of")).to_have_text("7 mnt")
    expect(page.locator("#waiting li[data-service=kk] .oldest-of")).not_to_have_class(
        re.compile(r"\blate\b")
    )
    page.screenshot(path=str(shots / "console-oldest.png"), full_page=True)

    def call_next(number: str) -> None:
        expect(page.locator("#btn-call_next")).to_be_enabled()  # the last press is answered
        page.keyboard.press("n")
        expect(page.locator("#current-number")).to_have_text(number)

    # The officer calls A001: the longest wait is A002's 17 minutes, within the target.
    call_next("A001")
    expect(oldest).to_have_text("Terlama menunggu: 17 mnt")
    expect(oldest).not_to_have_class(re.compile(r"\blate\b"))

    # Everyone called: nothing to show.
    call_next("A002")
    call_next("B001")
    expect(oldest).to_be_hidden()
