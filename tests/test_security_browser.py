"""Every page in Chromium under the real server's Content-Security-Policy: no violation anywhere,
and names typed into the admin (service, counter, running text) stay text on every screen.

Takes screenshots of the visitor pages (tokened and bare) and /tv with those names, into the
test's folder or PANGGIL_POLICY_SCREENSHOTS, to look at after a change of the pages (docs/ keeps
the ones of test_kiosk_browser, with ordinary names).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import HALL, wait_js
from test_tv_page import open_tv

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
XSS = "<img src=x onerror=window.__xss=1>"
XSS_COUNTER = "<img src=x onerror=window.__xss=2>"
PHONE = {"width": 360, "height": 740}

# Before any page script: collect what the policy blocked (init scripts are not subject to it).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def server(live_server_factory):
    """The test hall whose ktp service, counter 1 and running text carry markup."""
    services = [dict(s) for s in HALL["services"]]
    services[0]["name"] = XSS
    counters = [dict(c) for c in HALL["counters"]]
    counters[0]["name"] = XSS_COUNTER
    hall = {**HALL["hall"], "running_text": "Selamat datang " + XSS}
    return live_server_factory(services=services, counters=counters, hall=hall).start()


@pytest.fixture
def shots(tmp_path) -> Path:
    chosen = os.environ.get("PANGGIL_POLICY_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path


class Watched:
    """A page whose console errors and policy violations are collected across navigations."""

    def __init__(self, browser, **options) -> None:
        self.context = browser.new_context(locale="id-ID", **options)
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._console)
        self.violations: list[str] = []

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console.append(f"{self.page.url}: {text}")

    def goto(self, url: str) -> None:
        self.collect()
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def collect(self) -> None:
        """Read the violations of the page now open (before it goes away)."""
        try:
            found = self.page.evaluate("window.__violations || []")
        except Exception:  # no document yet
            return
        self.violations += [f"{self.page.url}: {v}" for v in found]
        self.page.evaluate("window.__violations = []")

    def problems(self) -> list[str]:
        self.collect()
        return self.violations + self.console

    def xss(self):
        return self.page.evaluate("window.__xss")

    def close(self) -> None:
        self.context.close()


def log_in(watched: Watched, server, username: str, password: str) -> None:
    watched.goto(server.url + "/login")
    watched.page.fill("#username", username)
    watched.page.fill("#password", password)
    watched.page.click("button[type=submit]")
    watched.page.wait_for_load_state("load")


def test_the_watch_sees_a_violation(browser, live_server):
    """The listener itself: an inline style set as markup is refused and reported."""
    watched = Watched(browser)
    try:
        watched.goto(live_server.url + "/")
        watched.page.evaluate(
            "document.body.appendChild(document.createElement('div')).setAttribute('style', 'color: red')"
        )
        wait_js(watched.page, "() => window.__violations.length > 0")
        assert any("style-src" in p for p in watched.problems())
    finally:
        watched.close()


def test_every_page_runs_under_the_policy_and_shows_names_as_text(browser, server, shots):
    for _ in range(3):
        server.issue("ktp")
    mine = server.post("/api/tickets", {"service": "ktp"}).json()
    bare_url = f"{server.url}/t/{mine['ticket']['day']}/{mine['ticket']['number']}"
    problems, pages = [], []
    try:
        # Visitor pages, before and after the call.
        phone = Watched(browser, viewport=PHONE, is_mobile=True, has_touch=True)
        pages.append(phone)
        phone.goto(mine["visitor_url"])
        phone.page.wait_for_selector(".v-live")
        assert phone.page.locator("#service-name").inner_text() == XSS
        assert "3 orang menunggu sebelum Anda" in phone.page.locator("#state").inner_text()
        phone.page.screenshot(path=str(shots / "visitor-waiting.png"))
        bare = Watched(browser, viewport=PHONE, is_mobile=True, has_touch=True)
        pages.append(bare)
        bare.goto(bare_url)
        bare.page.wait_for_selector(".v-live")
        assert bare.page.locator("#state").inner_text().strip() == "Belum dipanggil"
        assert XSS not in bare.page.content() and "orang" not in bare.page.content()

        # The TV, then the call of our ticket (the three before it go first).
        tv = Watched(browser)
        pages.append(tv)
        tv.collect()
        open_tv(tv.page, server)
        assert tv.page.locator("#running").inner_text() == "Selamat datang " + XSS
        for i in range(3):
            assert server.command(2, "call_next", f"before-{i}").ok
            assert server.command(2, "finish", f"done-{i}").ok
        assert server.command(1, "call_next", "ours").ok
        number = mine["ticket"]["number"]
        wait_js(
            tv.page, f"() => document.getElementById('latest-number').textContent === '{number}'"
        )
        assert tv.page.locator("#latest-service").inner_text() == XSS
        assert tv.page.locator("#latest-counter").inner_text() == XSS_COUNTER
        assert tv.page.locator("[data-counter='1'] .tv-cell-name").inner_text() == XSS_COUNTER
        wait_js(
            tv.page,  # the chime and the clip play from /api/audio under the policy
            "window.panggilTv.played.some(p => p.kind === 'chime' && p.ok)",
            timeout=20000,
        )
        tv.page.wait_for_timeout(600)
        tv.page.screenshot(path=str(shots / "tv-policy.png"))

        wait_js(
            phone.page, "() => document.getElementById('state').textContent.indexOf('<img') >= 0"
        )
        assert phone.page.locator("#state").inner_text().strip() == (
            f"Dipanggil, silakan ke {XSS_COUNTER}"
        )
        phone.page.screenshot(path=str(shots / "visitor-called.png"))
        wait_js(
            bare.page,
            "() => document.getElementById('state').textContent.indexOf('Sudah dipanggil') >= 0",
        )
        assert bare.page.locator("#state").inner_text().strip() == (
            f"Sudah dipanggil ke {XSS_COUNTER}"
        )
        bare.page.screenshot(path=str(shots / "visitor-bare.png"))

        # The kiosk: tiles, then a ticket with its QR code as an image.
        kiosk = Watched(browser, viewport={"width": 1080, "height": 1920})
        pages.append(kiosk)
        kiosk.goto(server.url + "/kiosk")
        kiosk.page.click("text=Dukcapil")
        tile = kiosk.page.locator("[data-service=ktp] .k-tile-name")
        assert tile.inner_text() == XSS
        kiosk.page.click("[data-service=ktp]")
        kiosk.page.wait_for_selector("#result:not([hidden])")
        assert kiosk.page.locator("#result-service").inner_text() == XSS
        qr = kiosk.page.locator("#result-qr")
        assert qr.get_attribute("src").startswith("data:image/svg+xml")
        assert kiosk.page.evaluate("document.getElementById('result-qr').naturalWidth") > 100

        # Start page, login, the officer's console.
        officer = Watched(browser)
        pages.append(officer)
        officer.goto(server.url + "/")
        log_in(officer, server, "petugas1", "petugas-secret")
        officer.page.wait_for_selector("#connection.connected")
        assert XSS in officer.page.locator("h1 small").inner_text()

        # Every admin page, and the live monitor with the names.
        admin = Watched(browser)
        pages.append(admin)
        log_in(admin, server, "admin", "admin-secret")
        admin.page.wait_for_selector("#conn.ok")
        row = admin.page.locator("tr[data-service=ktp]")
        assert XSS in row.inner_text()
        assert XSS_COUNTER in admin.page.locator("tr[data-counter='1']").inner_text()
        assert XSS_COUNTER in admin.page.locator("#calls").inner_text()
        links = admin.page.eval_on_selector_all(
            "nav.adminnav a", "links => links.map(a => a.getAttribute('href'))"
        )
        for path in [*links, "/admin/services/ktp", "/admin/counters/1", "/admin/users/1",
                     "/admin/agencies/dukcapil", "/admin/displays/new"]:  # fmt: skip
            admin.goto(server.url + path)
            assert admin.page.locator("main").count() == 1, path
        assert len(links) >= 8

        # A confirmation now comes from admin.js (no inline handler): cancelling keeps the day.
        admin.goto(server.url + "/admin/day")
        open_before = admin.page.locator("#open-tickets").inner_text()
        asked = []

        def dismiss(dialog) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        admin.page.once("dialog", dismiss)
        admin.page.click("form[data-confirm] button[type=submit]")
        admin.page.wait_for_timeout(300)
        assert asked == ["Tutup hari sekarang? Antrean yang masih terbuka akan kedaluwarsa."]
        assert admin.page.url.endswith("/admin/day")
        assert admin.page.locator("#open-tickets").inner_text() == open_before
        # The report's day picker submits itself on change.
        day = admin.page.locator("select[data-autosubmit] option").first.get_attribute("value")
        with admin.page.expect_navigation():
            admin.page.select_option("select[data-autosubmit]", day)
        assert re.search(r"[?&]day=", admin.page.url)

        for watched in pages:
            problems += watched.problems()
            assert watched.xss() is None, watched.page.url
            assert watched.page.locator("img[src=x]").count() == 0, watched.page.url
    finally:
        for watched in pages:
            watched.close()
    assert problems == []
