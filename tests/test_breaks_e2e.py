"""Counter breaks across the parts, against a real server: the keypad program pauses, the TV shows it."""

from __future__ import annotations

import signal

import pytest
from conftest import wait_js

from tests.test_counter_live import keypad_program, wait_for
from tests.test_tv_page import open_tv

pytestmark = pytest.mark.slow


def counter_state(server, number: int) -> dict:
    return next(c for c in server.get("/api/snapshot").json()["counters"] if c["number"] == number)


def test_the_keypad_program_pauses_and_resumes_and_every_screen_follows(page, live_server):
    """Key 7 (pause) in `python -m counter_client`: the server holds the break, /tv shows it live,
    a call is refused while on break, key 9 (resume) ends it."""
    live_server.issue("ktp")
    open_tv(page, live_server, unlock=False)
    proc, output = keypad_program(live_server, 2)
    try:
        wait_for(lambda: "Tersambung" in "".join(output), what="the status view to say Tersambung")
        proc.stdin.write("7\n")
        proc.stdin.flush()
        wait_for(
            lambda: counter_state(live_server, 2)["state"] == "break",
            what="the break on the server",
        )
        assert counter_state(live_server, 2)["break"]["reason"] == "istirahat"
        wait_for(
            lambda: "ISTIRAHAT" in "".join(output),
            what="the keypad's status view to show the break",
        )
        wait_js(page, "() => document.querySelector('.tv-cell[data-counter=\"2\"].tv-break')")
        refused = live_server.command(2, "call_next", "while-on-break")
        assert refused.status_code == 409 and refused.json()["error"] == "counter-on-break"
        proc.stdin.write("9\n")
        proc.stdin.flush()
        wait_for(lambda: counter_state(live_server, 2)["state"] == "open", what="the break to end")
        wait_js(page, "() => !document.querySelector('.tv-cell.tv-break')")
        assert live_server.command(2, "call_next", "after-break").ok
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
