"""The officer console: access rules and texts in-process, then every button in real Chromium."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from tests.conftest import ROOT, wait_js
from tests.test_auth import login

# --- in-process: who may open which console ------------------------------------------------------


def test_console_needs_a_login(client):
    response = client.get("/console/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_officer_goes_straight_to_their_counter_and_only_there(client):
    login(client, "petugas1", "petugas-secret")
    response = client.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/1")
    page = client.get("/console/1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Panggil berikutnya" in html and "Sedang dilayani" in html and "Gerai 1" in html
    assert '"token": "token-counter-1"' in html.replace("\\u0022", '"')
    assert client.get("/console/3").status_code == 403


def test_admin_picks_a_counter(client):
    login(client, "admin", "admin-secret")
    html = client.get("/console/").get_data(as_text=True)
    assert "Pilih gerai Anda" in html
    assert all(f"/console/{n}" in html for n in (1, 2, 3))
    assert client.get("/console/3").status_code == 200
    assert client.get("/console/99").status_code == 404


def test_console_in_english(client):
    login(client, "petugas1", "petugas-secret")
    html = client.get("/console/1?lang=en").get_data(as_text=True)
    assert "Call next" in html and "Now serving" in html and "Nobody is waiting." in html


def test_every_console_text_has_an_indonesian_translation():
    sources = [("server/pages/console.py", "python")] + [
        (str(p.relative_to(ROOT)), "jinja2.ext:babel_extract")
        for p in (ROOT / "server/templates/console").glob("*.html")
    ]
    ids = {
        msg for path, method in sources for _, msg, _, _ in extract_from_file(method, ROOT / path)
    }
    with open(ROOT / "server/translations/console/id/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    core = ROOT / "server/translations/core/id/LC_MESSAGES/messages.po"
    with open(core, "rb") as f:
        translated |= {m.id for m in read_po(f) if m.id and m.string}
    assert ids - translated == set()


# --- real Chromium against a real server --------------------------------------------------------


def shots_dir(tmp_path):
    """docs/ when PANGGIL_SCREENSHOTS=1 (to refresh docs/console*.png), else the test's own folder."""
    return ROOT / "docs" if os.environ.get("PANGGIL_SCREENSHOTS") == "1" else tmp_path


def counter_state(server, number: int = 1) -> dict:
    r = server.get(
        f"/api/counters/{number}", headers={"Authorization": f"Bearer {server.tokens[number]}"}
    )
    return r.json()


def ticket_of(server, number: str) -> dict:
    day = server.get("/api/health").json()["day"]
    device = {"Authorization": f"Bearer {server.tokens[1]}"}  # ticket details are for staff devices
    return server.get(f"/api/tickets/{day}/{number}", headers=device).json()["ticket"]


def log_in_only(
    page, server, username: str = "petugas1", password: str = "petugas-secret", lang: str = ""
) -> None:
    page.goto(f"{server.url}/login{lang}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/\d+.*"))


def log_in(
    page, server, username: str = "petugas1", password: str = "petugas-secret", lang: str = ""
) -> None:
    log_in_only(page, server, username, password, lang)
    page.wait_for_selector("#connection.connected")
    # The console signs its user in by itself; its buttons wait for that answer.
    page.wait_for_selector("#officer.mine")
    wait_js(page, "() => !document.querySelector('#btn-sign_out').disabled")


def message(page) -> str:
    return page.locator("#message").inner_text().strip()


def expect_message(page, text: str, error: bool = False) -> None:
    wait_js(
        page,
        "([text, cls]) => { const m = document.getElementById('message');"
        " return m.textContent.trim() === text && m.classList.contains(cls); }",
        arg=[text, "error" if error else "ok"],
        timeout=5000,
    )


def command_buttons_disabled(page) -> list[bool]:
    return page.eval_on_selector_all("button[data-command]", "bs => bs.map(b => b.disabled)")


@pytest.mark.slow
@pytest.mark.browser
def test_every_button_against_the_real_server(live_server, page, tmp_path):
    for service in ("ktp", "ktp", "kk"):
        live_server.issue(service)  # A001, A002, B001
    log_in(page, live_server)
    assert page.locator("#current-number").inner_text() == "Belum ada"
    assert page.locator("#waiting li[data-service=ktp] .count").inner_text() == "2"
    # Nothing held: the buttons that need a ticket are disabled, "next" is not.
    assert command_buttons_disabled(page) == [False, True, True, True, True, False]

    page.click("#btn-call_next")
    expect_message(page, "Memanggil A001.")
    assert page.locator("#current-number").inner_text() == "A001"
    assert counter_state(live_server)["me"]["current"]["number"] == "A001"
    wait_js(
        page,
        "() => document.querySelector('#waiting li[data-service=ktp] .count').textContent === '1'",
    )
    assert page.locator("#served-for-row").is_visible()

    # Recall with its shortcut while the server is frozen: every button waits, the pressed one says so.
    live_server.process.send_signal(signal.SIGSTOP)
    try:
        page.keyboard.press("u")
        page.wait_for_selector("#btn-recall.busy")
        assert command_buttons_disabled(page) == [True] * 6
        assert page.locator("#btn-recall").get_attribute("aria-busy") == "true"
        assert message(page) == "Mengirim…"
    finally:
        live_server.process.send_signal(signal.SIGCONT)
    expect_message(page, "Memanggil ulang A001.")
    assert ticket_of(live_server, "A001")["calls"] == 2
    assert "panggilan ke-2" in page.locator("#current-detail").inner_text()

    page.keyboard.press("l")  # skip
    expect_message(page, "A001 dilewati.")
    page.wait_for_selector("#skipped button[data-number=A001]")
    assert ticket_of(live_server, "A001")["status"] == "skipped"

    page.keyboard.press("+")  # next, from the numeric keypad
    expect_message(page, "Memanggil A002.")

    page.click("#btn-transfer")
    targets = page.locator("#transfer-targets button")
    assert targets.all_inner_texts() == ["1 KK", "3 Paspor"] or [
        t.split()[-1] for t in targets.all_inner_texts()
    ] == ["KK", "Paspor"]
    page.keyboard.press("1")
    expect_message(page, "A002 dialihkan ke KK.")
    transferred = ticket_of(live_server, "A002")
    assert (transferred["service"], transferred["status"]) == ("kk", "waiting")
    assert page.locator("#current-number").inner_text() == "Belum ada"

    page.click("#skipped button[data-number=A001]")  # call back the no-show
    expect_message(page, "Memanggil A001.")
    assert ticket_of(live_server, "A001")["status"] == "called"

    page.keyboard.press("s")  # finish
    expect_message(page, "A001 selesai dilayani.")
    wait_js(page, "() => document.getElementById('served-today').textContent === '1'")
    assert counter_state(live_server)["me"]["served_today"] == 1

    page.click("#btn-call_ticket")
    page.fill("#call-number", "b001")
    page.keyboard.press("Enter")
    expect_message(page, "Memanggil B001.")
    assert ticket_of(live_server, "B001")["counter"] == 1

    page.click("#btn-call_ticket")
    page.fill("#call-number", "C999")
    page.click("#call-submit")
    expect_message(page, "Nomor antrean tidak ditemukan hari ini.", error=True)

    page.keyboard.press("n")  # finishes B001, calls A002 (now in KK)
    expect_message(page, "Memanggil A002 (B001 selesai).")
    live_server.issue("ktp")
    live_server.issue("kk")
    page.click("#btn-skip")
    expect_message(page, "A002 dilewati.")
    page.click("#btn-call_next")
    expect_message(page, "Memanggil A003.")
    page.wait_for_selector("#skipped button[data-number=A002]")
    page.wait_for_timeout(1200)  # the served-for clock has ticked
    page.screenshot(path=str(shots_dir(tmp_path) / "console.png"), full_page=True)

    page.keyboard.press("n")
    expect_message(page, "Memanggil B002 (A003 selesai).")
    page.keyboard.press("n")
    expect_message(page, "Tidak ada antrean menunggu.", error=True)
    assert counter_state(live_server)["me"]["current"]["number"] == "B002"  # kept as it was


@pytest.mark.slow
@pytest.mark.browser
def test_console_in_english_and_offline(live_server, page, tmp_path):
    live_server.issue("ktp")
    live_server.issue("kk")
    log_in(page, live_server, lang="?lang=en")
    assert page.locator("#btn-call_next .command-label").inner_text() == "Call next"
    page.click("#btn-call_next")
    expect_message(page, "Calling A001.")
    live_server.command(1, "call_ticket", "api-1", number="B001")  # the hardware client, say
    wait_js(page, "() => document.getElementById('current-number').textContent === 'B001'")
    live_server.command(1, "skip", "api-2")
    page.wait_for_selector("#skipped button[data-number=B001]")
    page.click("#skipped button[data-number=B001]")
    expect_message(page, "Calling B001.")
    page.wait_for_timeout(1100)
    page.screenshot(path=str(shots_dir(tmp_path) / "console-en.png"), full_page=True)

    live_server.kill()
    page.wait_for_selector("#connection.disconnected")
    assert page.locator("#offline").is_visible()
    assert "buttons are not sent" in page.locator("#offline").inner_text()
    assert command_buttons_disabled(page) == [True] * 6
    page.keyboard.press("n")  # refused on screen, never queued
    expect_message(page, "Disconnected from the server — buttons are not sent.", error=True)
    page.screenshot(path=str(tmp_path / "console-offline.png"))
    live_server.start()
    page.wait_for_selector("#connection.connected", timeout=15000)
    time.sleep(0.3)
    assert counter_state(live_server)["me"]["current"]["number"] == "B001"
    assert ticket_of(live_server, "A001")["status"] == "done"


@pytest.mark.slow
@pytest.mark.browser
def test_console_refused_token_reads_clearly(live_server, page):
    """A page holding a stale token (changed by the admin since) says so and sends nothing."""
    live_server.issue("ktp")
    # Swap the token as the page reads it (a routed page would lose its local-network rights).
    page.add_init_script(
        "const parse = JSON.parse; JSON.parse = (text, r) => { const v = parse(text, r);"
        " if (v && v.token === 'token-counter-1') v.token = 'stale-token-1'; return v; };"
    )
    log_in_only(page, live_server)
    page.wait_for_selector("#connection.refused")
    assert (
        page.locator("#connection").inner_text() == "Server menolak gerai ini: Token gerai salah."
    )
    assert page.locator("#offline").is_visible()
    assert command_buttons_disabled(page) == [True] * 6
    page.keyboard.press("n")
    assert ticket_of(live_server, "A001")["status"] == "waiting"


@pytest.mark.slow
@pytest.mark.browser
def test_break_and_resume_in_the_console(live_server, page, tmp_path):
    live_server.issue("ktp")
    log_in(page, live_server)
    assert page.locator("#btn-pause").is_visible() and not page.locator("#btn-resume").is_visible()
    assert page.locator("#btn-pause").inner_text().split() == ["Istirahat", "I"]
    assert not page.locator("#break-banner").is_visible()

    page.keyboard.press("n")
    expect_message(page, "Memanggil A001.")
    page.click("#btn-pause")  # holding A001: the server says what to do first
    page.click("#pause-reasons button[data-reason=istirahat]")
    expect_message(page, "Selesaikan, lewati atau alihkan dahulu nomor yang sedang dilayani.", True)
    page.keyboard.press("s")
    expect_message(page, "A001 selesai dilayani.")

    page.keyboard.press("i")  # the break panel: a return time, then the reason's number
    page.wait_for_selector("#pause-panel:not([hidden])")
    assert page.locator("#pause-reasons button").all_inner_texts() == [
        "1 Istirahat", "2 Sholat", "3 Rapat", "4 Lainnya",
    ]  # fmt: skip
    page.fill("#pause-until", "13:00")
    page.locator("#pause-until").blur()
    page.keyboard.press("2")
    expect_message(page, "Istirahat dimulai. Tombol panggil nonaktif sampai layanan dilanjutkan.")
    assert page.locator("#break-text").inner_text() == "Istirahat (sholat) · kembali 13.00"
    assert page.locator("#break-since").inner_text().startswith("sejak ")
    me = counter_state(live_server)["me"]
    assert me["state"] == "break"
    assert (me["break"]["reason"], me["break"]["until"]) == ("sholat", "13:00")
    assert command_buttons_disabled(page) == [True] * 6
    assert page.locator("#btn-resume").is_visible() and not page.locator("#btn-pause").is_visible()
    assert page.locator("#btn-resume").inner_text().split() == ["Lanjutkan", "K"]
    live_server.issue("ktp")
    page.keyboard.press("n")  # disabled: nothing is sent
    page.wait_for_timeout(300)
    assert ticket_of(live_server, "A002")["status"] == "waiting"
    page.screenshot(path=str(shots_dir(tmp_path) / "console-break.png"), full_page=True)

    page.keyboard.press("k")  # resume
    expect_message(page, "Layanan dilanjutkan.")
    page.wait_for_selector("#break-banner", state="hidden")
    assert command_buttons_disabled(page) == [False, True, True, True, True, False]
    assert counter_state(live_server)["me"]["state"] == "open"

    # A break taken elsewhere (the hardware client) reaches the page live, without a return time.
    live_server.command(1, "pause", "api-pause", reason="rapat")
    wait_js(page, "() => document.getElementById('break-text').textContent === 'Istirahat (rapat)'")
    assert command_buttons_disabled(page) == [True] * 6
    live_server.command(1, "resume", "api-resume")
    page.wait_for_selector("#break-banner", state="hidden")
    page.keyboard.press("n")
    expect_message(page, "Memanggil A002.")
