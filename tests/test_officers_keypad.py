"""An officer signs in on the real keypad program (`python -m counter_client`) with their officer
number and PIN, against a real server; the admin set the PIN on the user page."""

from __future__ import annotations

import re
import signal
import time

import pytest
import requests

from tests.test_counter_live import keypad_program, ticket_of, wait_for

pytestmark = pytest.mark.slow


def set_pin_as_admin(server, username: str, pin: str) -> int:
    """Log in as the admin and set a user's keypad PIN on their page; returns the officer number."""
    web = requests.Session()

    def csrf(path: str) -> str:
        html = web.get(server.url + path, timeout=10).text
        return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    r = web.post(server.url + "/login", data={"username": "admin", "password": "admin-secret",
                                              "csrf_token": csrf("/login")}, timeout=10)  # fmt: skip
    assert r.ok
    users = web.get(server.url + "/admin/users", timeout=10).text
    found = re.search(
        rf'<td class="officer-no">(\d+)</td>\s*<td><strong>{username}</strong>', users
    )
    number = int(found.group(1))
    r = web.post(
        f"{server.url}/admin/users/{number}/pin",
        data={"pin": pin, "pin2": pin, "csrf_token": csrf(f"/admin/users/{number}")},
        timeout=10,
    )
    assert r.ok and "PIN baru untuk" in r.text
    return number


def officer_at(server, number: int):
    """Who is signed in, as the counter itself sees it (the public snapshot has no login names)."""
    from tests.test_counter_console import counter_state

    return counter_state(server, number)["me"]["officer"]


def test_an_officer_signs_in_on_the_keypad_and_their_calls_are_recorded(live_server):
    officer = set_pin_as_admin(live_server, "petugas1", "2468")
    live_server.issue("ktp")
    proc, output = keypad_program(live_server, 1)

    def keys(text: str) -> None:
        proc.stdin.write(text)
        proc.stdin.flush()

    def shown(text: str, what: str) -> None:
        wait_for(lambda: text in "".join(output), what=what)

    try:
        shown("Tersambung", "the status view to say Tersambung")
        shown("Petugas: belum ada yang masuk", "the status view to say nobody is signed in")
        keys(f"1{officer}\n99")
        shown("ketik PIN lalu Enter (Esc batal): **_", "the PIN typed so far, masked")
        keys("99\n")
        shown("✗ Nomor petugas atau PIN salah", "the wrong PIN to be refused")
        assert officer_at(live_server, 1) is None
        keys(f"1{officer}\n2468\n")
        shown("✓ Masuk sebagai petugas1", "the sign-in")
        assert "2468" not in "".join(output)  # the PIN never shows
        assert officer_at(live_server, 1) == {"username": "petugas1", "full_name": ""}
        shown("Petugas: petugas1", "the officer line")

        keys("\n")  # call next: recorded as petugas1's
        shown("✓ Memanggil A001", "the call")
        assert ticket_of(live_server, "A001")["called_by"] == "petugas1"
        keys("3")  # sign out while holding A001: refused
        shown("✗ Masih ada nomor yang dilayani", "the sign-out to be refused")
        keys("*")
        shown("✓ A001 selesai dilayani", "the finish")
        assert ticket_of(live_server, "A001")["finished_by"] == "petugas1"
        time.sleep(0.5)  # past the client's debounce (300 ms): a second press, not a held key
        keys("3")
        shown("✓ Petugas keluar dari gerai", "the sign-out")
        assert officer_at(live_server, 1) is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert proc.returncode == 0
