"""A phone far back in a long queue, in Chromium against a real server: it counts its place in the
compacted `queue_moved` summary (runs like "A001..A009", server/static/queue_places.js) without
asking the server, and its "almost your turn" alert fires at the service's alert_ahead."""

from __future__ import annotations

import pytest
from conftest import wait_js

from server import queue_moved

PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Records what the page's socket receives and asks (get_status) by wrapping io() as it is defined.
WATCH = """
window.__queues = []; window.__asked = []; window.__vibrations = [];
navigator.vibrate = function (pattern) { window.__vibrations.push(pattern); return true; };
let real;
Object.defineProperty(window, "io", {
  configurable: true,
  get() { return real; },
  set(made) {
    real = function () {
      const socket = made.apply(this, arguments);
      const emit = socket.emit.bind(socket);
      socket.emit = function (name) { window.__asked.push(name); return emit.apply(null, arguments); };
      socket.on("queue_moved", (summary) => window.__queues.push(summary.queue));
      return socket;
    };
    Object.assign(real, made);
  },
});
"""


def state_has(page, text: str) -> None:
    wait_js(page, "(t) => document.getElementById('state').textContent.indexOf(t) >= 0", text)


def test_a_phone_far_back_counts_its_place_in_runs_and_alerts_near_its_turn(
    browser, live_server_factory, tmp_path
):
    server = live_server_factory(server={"visitor_summary_s": 1}).start()
    tickets = [server.issue("ktp") for _ in range(89)]  # A001..A089
    mine = server.post("/api/tickets", {"service": "ktp"}).json()  # A090
    for _ in range(10):
        server.issue("ktp")  # A091..A100 behind
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(WATCH)
    try:
        phone.goto(mine["visitor_url"])
        phone.wait_for_selector(".v-live")
        state_has(phone, "89 orang menunggu sebelum Anda")

        server.issue("ktp", "elderly")  # A101 goes first: 90 ahead
        state_has(phone, "90 orang menunggu sebelum Anda")
        day, number = tickets[9]["day"], tickets[9]["number"]
        cancelled = server.post(
            f"/api/tickets/{day}/{number}/cancel", {"request_id": "x1"}, token=server.tokens[1]
        )
        assert cancelled.status_code == 200, cancelled.text  # A010 leaves: 89 ahead again
        wait_js(phone, "() => window.__queues.length >= 2")
        state_has(phone, "89 orang menunggu sebelum Anda")
        last = phone.evaluate("window.__queues[window.__queues.length - 1]")
        assert last == ["A101", "A001..A009", "A011..A100"]  # what the phone counted in
        assert queue_moved.ahead(last, mine["ticket"]["number"]) == 89
        assert "get_status" not in phone.evaluate("window.__asked")  # it found its place itself
        assert phone.locator("#almost").is_hidden()

        for n in range(85):
            assert server.command(1 + n % 2, "call_next", f"c{n}").ok  # 4 ahead
        state_has(phone, "4 orang menunggu sebelum Anda")
        assert phone.locator("#almost").is_hidden()  # the service alerts at 3
        assert server.command(1, "call_next", "last").ok
        phone.wait_for_selector("#almost:not([hidden])")
        state_has(phone, "3 orang menunggu sebelum Anda")
        wait_js(phone, "() => window.__vibrations.length === 1")
        assert phone.evaluate("window.__vibrations") == [[250, 150, 250]]
        assert "get_status" not in phone.evaluate("window.__asked")
        phone.screenshot(path=str(tmp_path / "visitor-far-back.png"))
    finally:
        phone.close()
