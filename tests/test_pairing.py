"""Pairing a Pi with a 6-digit code: made on the admin's page, traded once at POST /api/pair for
the device's settings; wrong, used and expired codes refused, guesses limited, codes stored hashed,
everything audited. End to end: `panggil-counter --pair` and `panggil-display --pair` as real
processes against a real server found by mDNS on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
import yaml

from panggil_common.pairing import PairingError, parse_pair_argument, write_settings
from server import pairing
from tests.conftest import ROOT, TOKENS

SECRET = "test-secret-key-0123456789-abcdefghijkl"  # tests/conftest.py's HALL


def pair(client, code: str, kind: str = "counter"):
    return client.post("/api/pair", json={"code": code, "kind": kind})


def test_a_counter_code_gives_its_number_and_token_once(app, client, hub):
    code = pairing.create(hub, app.config["SECRET_KEY"], "counter", "2", "admin")
    assert re.fullmatch(r"\d{6}", code)
    answer = pair(client, code)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["settings"] == {"number": 2, "token": TOKENS[2]}
    assert body["kind"] == "counter" and body["hall"] == "MPP Uji"
    again = pair(client, code)
    assert again.status_code == 404 and again.get_json()["error"] == "unknown-pairing-code"


def test_a_display_code_gives_its_name(app, client, hub):
    hub.write(lambda s: s.add_display("lobi-2", [1], None))
    code = pairing.create(hub, app.config["SECRET_KEY"], "display", "lobi-2", "admin")
    assert pair(client, code, "counter").status_code == 404  # a display's code is not a counter's
    answer = pair(client, code, "display")
    assert answer.get_json()["settings"] == {"name": "lobi-2"}


def test_an_expired_code_is_refused(app, client, hub, clock):
    code = pairing.create(hub, app.config["SECRET_KEY"], "counter", "1", "admin")
    clock.advance(minutes=10, seconds=1)
    answer = pair(client, code)
    assert answer.status_code == 410
    assert answer.get_json()["error"] == "pairing-code-expired"
    assert "kedaluwarsa" in answer.get_json()["message"]


def test_codes_are_stored_hashed_and_audited(app, client, hub):
    code = pairing.create(hub, app.config["SECRET_KEY"], "counter", "1", "admin")
    rows = hub.read(lambda s: list(s.db.query("SELECT * FROM pairing_codes")))
    assert len(rows) == 1 and code not in str(rows)
    assert rows[0]["code_hash"] == pairing.code_hash(app.config["SECRET_KEY"], code)
    pair(client, code)
    audit = hub.read(lambda s: s.audit_page(None, 10))
    actions = [(a["action"], a["target"]) for a in audit]
    assert ("counter.pairing_code", "1") in actions and ("counter.paired", "1") in actions


def test_a_new_code_replaces_the_unused_one(app, client, hub):
    first = pairing.create(hub, app.config["SECRET_KEY"], "counter", "1", "admin")
    second = pairing.create(hub, app.config["SECRET_KEY"], "counter", "1", "admin")
    if first != second:
        assert pair(client, first).status_code == 404
    assert pair(client, second).status_code == 200


def test_guessing_is_rate_limited_per_address(app, client, hub):
    code = pairing.create(hub, app.config["SECRET_KEY"], "counter", "1", "admin")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(pairing.FAILURES_PER_ADDRESS):
        assert pair(client, wrong).status_code == 404
    limited = pair(client, code)  # even the right code: the address is locked out for now
    assert limited.status_code == 429 and limited.get_json()["error"] == "rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    other = client.post(
        "/api/pair",
        json={"code": code, "kind": "counter"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 200


@pytest.mark.parametrize(
    "body", [{"code": "12345", "kind": "counter"}, {"code": "123456", "kind": "tablet"}, {}]
)
def test_bad_pairing_requests_are_bad_requests(client, body):
    answer = client.post("/api/pair", json=body)
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad-request"


def test_the_pair_argument_takes_a_code_or_the_pairing_text():
    assert parse_pair_argument("123 456") == ("123456", "")
    assert parse_pair_argument("panggil:pair?server=http%3A%2F%2F10.0.0.5%3A5000&code=042042") == (
        "042042",
        "http://10.0.0.5:5000",
    )
    with pytest.raises(PairingError):
        parse_pair_argument("12345")
    with pytest.raises(PairingError):
        parse_pair_argument("panggil:counter?server=x&counter=1&token=t")


def test_settings_are_written_into_the_section_keeping_the_rest(tmp_path):
    path = tmp_path / "counter.yaml"
    path.write_text("counter:\n  language: en\nother: {a: 1}\n", encoding="utf-8")
    write_settings(path, "counter", {"number": 5, "token": "t-5"})
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document == {
        "counter": {"language": "en", "number": 5, "token": "t-5"},
        "other": {"a": 1},
    }
    assert path.stat().st_mode & 0o777 == 0o600  # it holds a token


# --- the admin's page -------------------------------------------------------------------------


def test_the_admin_makes_a_code_on_the_counter_page(admin, hub):
    from tests.test_admin_pages import post

    page = admin.get("/admin/counters/1").get_data(as_text=True)
    assert "Buat kode pemasangan" in page
    answer = post(admin, "/admin/counters/1/pair")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    shown = re.search(r'id="pairing-code">(\d{3}) (\d{3})<', html)
    assert shown, html
    assert "<svg" in html and "panggil-counter --config" in html
    assert "Berlaku 10 menit" in html
    code = "".join(shown.groups())
    assert pair(admin, code).get_json()["settings"]["number"] == 1


def test_an_officer_cannot_make_codes(client):
    from tests.test_admin_pages import log_in, post

    log_in(client, "petugas1", "petugas-secret")
    assert post(client, "/admin/counters/1/pair").status_code == 403


# --- end to end: real processes, the server found by mDNS on loopback ------------------------


@pytest.fixture
def announced_server(live_server_factory):
    hall = f"MPP Pasang {uuid.uuid4().hex[:8]}"
    server = live_server_factory(
        "eventlet",
        server={"announce": True, "announce_interfaces": ["127.0.0.1"]},
        hall={"name": hall, "timezone": "Asia/Jakarta", "running_text": ""},
    ).start()
    server.hall = hall
    return server


def admin_session(server) -> requests.Session:
    session = requests.Session()
    html = session.get(server.url + "/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    answer = session.post(
        server.url + "/login",
        data={"username": "admin", "password": "admin-secret", "csrf_token": token},
        timeout=30,
    )
    assert answer.ok, answer.text
    # The login starts a new session, with a token of its own.
    html = session.get(server.url + "/admin/counters", timeout=10).text
    session.csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return session


def make_code(server, path: str) -> str:
    session = admin_session(server)
    html = session.post(server.url + path, data={"csrf_token": session.csrf}, timeout=10).text
    shown = re.search(r'id="pairing-code">(\d{3}) (\d{3})<', html)
    assert shown, html[-2000:]
    return "".join(shown.groups())


def wait_for(condition, what: str, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_panggil_counter_pair_writes_its_settings_and_starts(announced_server, tmp_path):
    server = announced_server
    code = make_code(server, "/admin/counters/3/pair")
    config = tmp_path / "counter.yaml"
    # What the Pi's file holds before pairing: how to look for the server, nothing else.
    config.write_text("counter:\n  discovery_interfaces: '127.0.0.1'\n", encoding="utf-8")
    server.issue("paspor")
    proc = subprocess.Popen(
        [sys.executable, "-m", "counter_client", "--config", str(config), "--pair", code],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lambda: "paired: counter 3" in "".join(output), "the pairing", timeout=40)
        wait_for(lambda: "Tersambung" in "".join(output), "the keypad to connect")
        proc.stdin.write("\n")
        proc.stdin.flush()
        wait_for(lambda: "✓ Memanggil C001" in "".join(output), "the call")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    written = yaml.safe_load(config.read_text(encoding="utf-8"))["counter"]
    assert written["number"] == 3 and written["token"] == server.tokens[3]
    assert written["hall"] == server.hall and "server" not in written  # found by mDNS each time
    # The code is used up.
    again = requests.post(
        server.url + "/api/pair", json={"code": code, "kind": "counter"}, timeout=10
    )
    assert again.status_code == 404


@pytest.mark.slow
def test_panggil_display_pair_with_a_wrong_code_fails_and_a_right_one_names_it(
    announced_server, tmp_path
):
    server = announced_server
    session = admin_session(server)
    session.post(
        server.url + "/admin/displays/new",
        data={"name": "lobi-pasang", "csrf_token": session.csrf},
        timeout=10,
    )
    code = make_code(server, "/admin/displays/lobi-pasang/pair")
    config = tmp_path / "display.yaml"
    config.write_text("display:\n  resolution: 1280x720\n  audio: false\n", encoding="utf-8")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    wrong = "000000" if code != "000000" else "111111"
    failed = subprocess.run(
        [sys.executable, "-m", "display", "--config", str(config), "--server", server.url,
         "--pair", wrong],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert failed.returncode == 1 and "unknown-pairing-code" in failed.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "display", "--config", str(config), "--server", server.url,
         "--pair", code],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lambda: "paired: display 'lobi-pasang'" in "".join(output), "the pairing")

        # It started with its new name: the server lists it among the connected displays.
        def session_displays():
            return session.get(server.url + "/admin/displays.json", timeout=10).json()

        wait_for(
            lambda: any(
                d["name"] == "lobi-pasang" and d["online"] for d in session_displays()["displays"]
            ),
            "the display to connect by its paired name",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    written = yaml.safe_load(config.read_text(encoding="utf-8"))["display"]
    assert written["name"] == "lobi-pasang" and written["resolution"] == "1280x720"
    assert written["server_url"] == server.url  # typed with --server: kept


@pytest.mark.slow
@pytest.mark.browser
def test_the_pairing_page_in_chromium_shows_the_code_and_a_qr_that_reads_back(page, live_server):
    import io

    import zxingcpp
    from PIL import Image

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-secret")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(live_server.url + "/admin/counters/1")
    page.screenshot(path=str(live_server.config_path.parent / "admin-counter.png"), full_page=True)
    page.click("#make-pairing-code")
    page.wait_for_selector("#pairing-code")
    code = page.locator("#pairing-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", code)
    shot = live_server.config_path.parent / "admin-pairing.png"
    page.screenshot(path=str(shot), full_page=True)
    qr = Image.open(io.BytesIO(page.locator(".qr svg").screenshot()))
    texts = [found.text for found in zxingcpp.read_barcodes(qr)]
    assert texts == [f"panggil:pair?server=http%3A%2F%2F127.0.0.1%3A{live_server.port}&code={code}"]
    assert parse_pair_argument(texts[0]) == (code, live_server.url)
    # The display page has the same button.
    page.goto(live_server.url + "/admin/displays/new")
    page.fill("#f-name", "lobi-1")
    page.click("button[type=submit].primary")
    page.goto(live_server.url + "/admin/displays/lobi-1")
    page.screenshot(path=str(live_server.config_path.parent / "admin-display.png"), full_page=True)
    page.click("#make-pairing-code")
    page.wait_for_selector("#pairing-code")
    assert "panggil-display --config" in page.locator("#pairing-command").inner_text()
