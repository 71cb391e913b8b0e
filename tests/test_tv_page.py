"""The browser display (/tv): the page itself, and in Chromium: calls, sound order, resync, zones."""

from __future__ import annotations

import io
from datetime import datetime
import os
import itertools
import time
import wave

import pytest
from conftest import wait_js

from display.samples import CLOSED, PRAYER

from server.pages import tv


def test_tv_page_renders_in_indonesian_with_zone_options(client):
    page = client.get("/tv?counters=2,1,x&services=ktp,BAD,kk&name=lobby-tv").get_data(as_text=True)
    assert "Ketuk untuk mengaktifkan suara" in page
    assert "Terputus dari server, mencoba lagi..." in page
    assert '"counters": [1, 2]' in page and '"services": ["kk", "ktp"]' in page
    assert '"name": "lobby-tv"' in page
    assert "Senin,Selasa,Rabu,Kamis,Jumat,Sabtu,Minggu" in page
    assert "https://" not in page and "http://" not in page  # nothing from the internet


def test_tv_page_without_options_shows_everything(client):
    page = client.get("/tv?name=<script>").get_data(as_text=True)
    assert '"counters": null' in page and '"services": null' in page
    assert '"name": "tv-browser"' in page


def test_display_named_by_the_admin_brings_its_zone(client, hub):
    hub.write(
        lambda s: s.db.execute(
            "INSERT INTO displays (name, counters, services) VALUES (?, ?, ?)",
            ["lobi-2", "[3]", None],
        )
    )
    page = client.get("/tv?name=lobi-2").get_data(as_text=True)
    assert '"counters": [3]' in page and '"services": null' in page
    page = client.get("/tv?name=lobi-2&counters=1").get_data(as_text=True)
    assert '"counters": [1]' in page  # the address wins: a technician can try a zone out


def test_zone_option_parsing():
    assert tv._numbers(" 3, 1,1 ,a") == [1, 3]
    assert tv._numbers("") is None
    assert tv._codes("ktp,,Paspor,kk-2") == ["kk-2", "ktp"]


# --- in Chromium, against a real server ------------------------------------------------------


def silent_wav(seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return buffer.getvalue()


def open_tv(page, server, query: str = "", unlock: bool = True, fake_audio: bool = False):
    """The /tv page; with fake_audio every audio request is answered by a short silent WAV."""
    if fake_audio:
        page.route(
            "**/api/audio/**",
            lambda route: route.fulfill(status=200, content_type="audio/wav", body=silent_wav()),
        )
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(server.url + "/tv" + query)
    wait_js(page, "() => window.panggilTv && window.panggilTv.state.seq !== null")
    if unlock:
        assert page.locator("#unlock").is_visible()
        page.click("#unlock")
        assert page.locator("#unlock").is_hidden()


def played(page) -> list[dict]:
    return page.evaluate("window.panggilTv.played")


@pytest.mark.slow
@pytest.mark.browser
def test_calls_show_and_play_chime_then_announcement_one_at_a_time(page, live_server):
    for _ in range(2):
        live_server.issue("ktp")
    open_tv(page, live_server)
    assert page.locator("#status-text").inner_text() == "Terhubung"
    assert live_server.command(1, "call_next", "tv-1").ok
    assert live_server.command(2, "call_next", "tv-2").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A002'")
    assert page.locator("#latest-counter").inner_text() == "Gerai 2"
    assert page.locator("#latest").get_attribute("class").count("tv-highlight") == 1
    wait_js(
        page,
        "() => window.panggilTv.played.filter(p => p.kind === 'audio').length === 2",
        timeout=20000,
    )
    assert page.locator("#recent li").first.inner_text().split() == ["A001", "Gerai", "1"]
    assert page.locator("[data-counter='1'] .tv-cell-number").inner_text() == "A001"
    # The server's offline voice made the clips (now or after an announcement_ready event); the
    # browser played the server's chime, then each clip, one after the other.
    events = played(page)
    assert [p["kind"] for p in events] == ["chime-start", "chime", "audio-start", "audio"] * 2
    assert all(p["ok"] for p in events if not p["kind"].endswith("-start")), events
    assert {p["url"] for p in events if p["kind"] == "chime"} == {"/api/audio/chime.wav"}
    calls = live_server.get("/api/snapshot").json()["recent_calls"]
    clips = [p["url"] for p in events if p["kind"] == "audio"]
    assert clips == [c["announcement"]["audio_url"] for c in reversed(calls)]


@pytest.mark.slow
@pytest.mark.browser
def test_browser_voice_speaks_when_the_server_has_no_audio(page, live_server_factory):
    server = live_server_factory(voice={"enabled": False}).start()
    server.issue("ktp")
    open_tv(page, server)
    assert server.command(1, "call_next", "tv-1").ok
    wait_js(page, "() => window.panggilTv.played.filter(p => p.kind === 'speech').length === 1")
    kinds = [p["kind"] for p in played(page)]
    assert kinds == ["chime-start", "chime", "speech-start", "speech"]
    speech = next(p for p in played(page) if p["kind"] == "speech")
    assert "A001" in speech["text"] or "satu" in speech["text"]


@pytest.mark.slow
@pytest.mark.browser
def test_announcement_audio_is_used_and_a_pending_one_is_awaited(page, live_server):
    open_tv(page, live_server, fake_audio=True)
    call = {
        "call_id": "x#1",
        "announcement": {"text": "satu", "audio_url": "/api/audio/a.wav", "status": "ready"},
    }
    pending = {
        "call_id": "y#1",
        "announcement": {"text": "dua", "audio_url": None, "status": "pending"},
    }
    page.evaluate(
        "([a, b]) => { window.panggilTv.announce(a); window.panggilTv.announce(b); }",
        [call, pending],
    )
    wait_js(page, "() => window.panggilTv.played.filter(p => p.kind === 'chime').length === 2")
    time.sleep(0.3)  # the second call now waits for its audio
    page.evaluate(
        "window.panggilTv.announcementReady({call_id: 'y#1', audio_url: '/api/audio/b.wav', text: 'dua'})"
    )
    wait_js(page, "() => window.panggilTv.played.filter(p => p.kind === 'audio').length === 2")
    sequence = [(p["kind"], p.get("url")) for p in played(page) if not p["kind"].endswith("-start")]
    assert sequence == [("chime", "/api/audio/chime.wav"), ("audio", "/api/audio/a.wav"),
                        ("chime", "/api/audio/chime.wav"), ("audio", "/api/audio/b.wav")]  # fmt: skip
    # Never two at once: every clip starts after the previous one ended.
    events = played(page)
    for before, after in itertools.pairwise(events):
        assert before["kind"].endswith("-start") != after["kind"].endswith("-start")
    assert not any(p["kind"].startswith("speech") for p in events)


@pytest.mark.slow
@pytest.mark.browser
def test_seq_gap_asks_for_a_snapshot(page, live_server):
    open_tv(page, live_server, unlock=False)
    live_server.issue("ktp")
    wait_js(page, "() => window.panggilTv.state.seq === 1")
    page.evaluate("""() => {
        const t = window.panggilTv; t.asked = 0;
        const emit = t.socket.emit.bind(t.socket);
        t.socket.emit = (name, ...rest) => { if (name === 'get_snapshot') t.asked++; return emit(name, ...rest); };
        t.applyEvent('ticket_finished', {seq: t.state.seq + 5, event: 'ticket_finished'});
    }""")
    wait_js(page, "() => window.panggilTv.asked === 1")
    live_server.issue("ktp")
    wait_js(page, "() => window.panggilTv.state.seq === 2")  # the snapshot resynced it


@pytest.mark.slow
@pytest.mark.browser
def test_zone_shows_only_its_counters_and_calls(page, live_server):
    live_server.issue("ktp")
    live_server.issue("paspor")
    open_tv(page, live_server, "?counters=3", unlock=False)
    assert page.locator(".tv-cell").count() == 1
    live_server.command(1, "call_next", "z-1")
    live_server.command(3, "call_next", "z-3")
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'C001'")
    wait_js(page, "() => window.panggilTv.state.seq === 4")
    assert page.locator("#recent li").count() == 0  # A001 at counter 1 is not in this zone


@pytest.mark.slow
@pytest.mark.browser
def test_lost_server_is_shown(page, live_server_factory):
    server = live_server_factory().start()
    open_tv(page, server, unlock=False)
    page.evaluate("window.panggilTv.options.stale_after = 1")  # 60 s on a real screen
    server.kill()
    wait_js(
        page,
        "() => document.getElementById('running').textContent.indexOf('Terputus') === 0",
        timeout=10000,
    )
    assert page.locator("#running").inner_text() == "Terputus dari server, mencoba lagi..."
    assert "tv-down" in page.locator("#status").get_attribute("class")
    page.wait_for_selector(".tv-stale")  # after a while the numbers are greyed out, and it says so
    assert page.locator("#stale-title").inner_text().startswith("Data tidak terkini sejak ")


def _recent_numbers(page) -> list[str]:
    return page.locator("#recent .tv-r-number").all_inner_texts()


@pytest.mark.slow
@pytest.mark.browser
def test_recall_moves_the_number_to_the_top_without_a_second_row(page, live_server):
    for service in ("ktp", "ktp", "paspor"):
        live_server.issue(service)
    open_tv(page, live_server, unlock=False)
    assert live_server.command(1, "call_next", "r-1").ok  # A001
    assert live_server.command(2, "call_next", "r-2").ok  # A002
    assert live_server.command(3, "call_next", "r-3").ok  # C001
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'C001'")
    assert _recent_numbers(page) == ["A002", "A001"]
    assert live_server.command(1, "recall", "r-4").ok
    wait_js(page, "() => window.panggilTv.state.seq === 7")
    assert page.locator("#latest-number").inner_text() == "A001"
    assert page.locator("#latest-label").inner_text() == "PANGGILAN ULANG"
    assert _recent_numbers(page) == ["C001", "A002"]  # as on the Pi display (display/state.py)
    page.reload()  # the snapshot lists both calls of A001; the screen still shows one row
    wait_js(page, "() => window.panggilTv && window.panggilTv.state.seq === 7")
    assert page.locator("#latest-number").inner_text() == "A001"
    assert _recent_numbers(page) == ["C001", "A002"]


def _covered(page, selector: str) -> str | None:
    """What is on top at the centre of the element, when it is not the element itself."""
    return page.evaluate(
        """(selector) => {
            const node = document.querySelector(selector);
            const box = node.getBoundingClientRect();
            const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return node.contains(top) ? null : (top.id || top.className || top.tagName);
        }""",
        selector,
    )


@pytest.mark.slow
@pytest.mark.browser
def test_sound_prompt_never_covers_the_call(page, live_server):
    live_server.issue("ktp")
    # Headless Chromium keeps the desktop's autoplay rule: no sound before a tap or a key.
    open_tv(page, live_server, unlock=False)
    assert live_server.command(1, "call_next", "s-1").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A001'")
    prompt = page.locator("#unlock")
    assert prompt.is_visible() and prompt.inner_text() == "Ketuk untuk mengaktifkan suara"
    assert page.locator(".tv-goto").inner_text() == "Silakan ke"
    for selector in ("#latest-number", ".tv-goto", "#latest-counter", "#latest-service"):
        assert page.locator(selector).is_visible()
        assert _covered(page, selector) is None, selector
    # A corner badge, clear of the call and of the recent calls.
    badge = prompt.bounding_box()
    for panel in ("#latest", ".tv-recent"):
        box = page.locator(panel).bounding_box()
        assert badge["y"] >= box["y"] + box["height"] or badge["x"] >= box["x"] + box["width"], (
            panel
        )
    assert badge["width"] * badge["height"] < 0.05 * 1920 * 1080
    page.keyboard.press("Enter")  # a remote's OK key turns the sound on
    assert prompt.is_hidden()


def _launch(browser, policy: str):
    """Another Chromium with the given --autoplay-policy, as a kiosk browser would be started."""
    from conftest import CHROMIUM, CHROMIUM_ARGS

    return browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--autoplay-policy={policy}"]
    )


@pytest.mark.slow
@pytest.mark.browser
def test_kiosk_browser_allowed_to_autoplay_shows_no_prompt_and_plays(browser, live_server):
    allowed = _launch(browser, "no-user-gesture-required")
    try:
        page = allowed.new_page()
        live_server.issue("ktp")
        open_tv(page, live_server, unlock=False)
        assert page.locator("#unlock").is_hidden()
        assert live_server.command(1, "call_next", "a-1").ok
        wait_js(page, "() => window.panggilTv.played.filter(p => p.kind === 'chime').length === 1")
        assert [p["ok"] for p in played(page) if p["kind"] == "chime"] == [True]
        assert page.locator("#unlock").is_hidden()
    finally:
        allowed.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_refused_play_brings_the_prompt_back(page, live_server):
    # An old TV browser with no way to ask (no AudioContext) tries to play; the refusal shows
    # the badge. Playwright's evaluate() counts as a user gesture, so until the refusal the test
    # only watches the network.
    page.add_init_script("window.AudioContext = window.webkitAudioContext = undefined;")
    live_server.issue("ktp")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/tv")
    deadline = time.monotonic() + 20
    while "display tv-browser connected" not in live_server.log_path.read_text():
        assert time.monotonic() < deadline, "the page never connected"
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)  # the snapshot, sent right after that line
    with page.expect_request("**/chime.wav"):
        assert live_server.command(1, "call_next", "u-1").ok
    page.wait_for_selector("#unlock:not([hidden])")
    assert page.locator("#latest-number").inner_text() == "A001"
    assert [p["ok"] for p in played(page) if p["kind"] == "chime"] == [False]
    assert not any(p["kind"].startswith(("audio", "speech")) for p in played(page))
    assert _covered(page, ".tv-goto") is None


# --- counters on break (issue 13 item 1) ---------------------------------------------------


def test_tv_page_carries_the_break_words_in_indonesian(client):
    page = client.get("/tv").get_data(as_text=True)
    assert '"break": "Istirahat"' in page and '"break_back": "kembali {time}"' in page
    assert '"reason_sholat": "sholat"' in page and '"reason_rapat": "rapat"' in page


def _tile(page, number: int) -> dict:
    return page.evaluate(
        """(n) => {
            const cell = document.querySelector('.tv-cell[data-counter="' + n + '"]');
            const text = (sel) => { const x = cell.querySelector(sel); return x && x.textContent; };
            return {cls: cell.className, brk: text('.tv-cell-break'), number: text('.tv-cell-number'),
                    bg: getComputedStyle(cell).backgroundColor};
        }""",
        number,
    )


def _on_break(counter: dict, reason: str, until: str | None) -> dict:
    since = "2026-11-26T12:00:00+07:00"
    return {
        **counter,
        "state": "break",
        "break": {"reason": reason, "until": until, "since": since},
    }


def _counter_changed(page, counter: dict) -> None:
    """Feed `counter_changed` as the contract sends it, through the page's sequencing (protocol.js)."""
    page.evaluate(
        "(c) => window.panggilTv.applyEvent('counter_changed', {event: 'counter_changed',"
        " seq: window.panggilTv.state.seq + 1, at: '2026-11-26T12:00:00+07:00', counter: c})",
        counter,
    )


@pytest.mark.slow
@pytest.mark.browser
def test_counter_on_break_shows_reason_and_return_time_live_and_from_a_snapshot(page, live_server):
    live_server.issue("ktp")
    open_tv(page, live_server, unlock=False)
    assert live_server.command(1, "call_next", "b-1").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A001'")
    assert _tile(page, 1)["number"] == "A001"
    counter = page.evaluate("window.panggilTv.state.counters.find(c => c.number === 2)")
    _counter_changed(page, _on_break(counter, "istirahat", "13:00"))
    wait_js(page, "() => document.querySelector('.tv-cell[data-counter=\"2\"].tv-break')")
    tile = _tile(page, 2)
    assert tile["brk"] == "Istirahat · kembali 13.00" and tile["number"] is None
    assert tile["bg"] == "rgb(40, 48, 60)"  # the calm grey of the Pi display
    assert _tile(page, 1)["number"] == "A001" and "tv-break" not in _tile(page, 1)["cls"]
    if os.environ.get("PANGGIL_SHOTS"):  # PANGGIL_SHOTS=docs makes docs/tv-break.png
        page.screenshot(path=os.path.join(os.environ["PANGGIL_SHOTS"], "tv-break.png"))
    # The break ends: the tile is a counter again.
    _counter_changed(page, {**counter, "state": "open", "break": None})
    wait_js(page, "() => !document.querySelector('.tv-cell.tv-break')")
    assert _tile(page, 2)["number"] == "—"
    # A snapshot (as on reconnect) with counter 3 on a prayer break and no return time.
    page.evaluate(
        """() => {
            const t = window.panggilTv;
            const snap = JSON.parse(JSON.stringify({seq: t.state.seq, hall: t.state.hall,
                counters: t.state.counters, recent_calls: t.state.recent,
                now: '2026-11-26T12:00:00+07:00'}));
            const c = snap.counters.find(x => x.number === 3);
            c.state = 'break'; c.break = {reason: 'sholat', until: null, since: snap.now};
            t.socket.listeners('snapshot').forEach(f => f(snap));
        }"""
    )
    wait_js(page, "() => document.querySelector('.tv-cell[data-counter=\"3\"].tv-break')")
    assert _tile(page, 3)["brk"] == "Istirahat (sholat)"
    assert page.locator(".tv-cell.tv-break").count() == 1


# --- the hall's break and closing (issue 13 item 2) -----------------------------------------------
# The first tests feed the page the contract's hall_status through its own socket listeners and
# sequencing (as above) at chosen times, with real calls from the live server; the last one lets
# the live server's own schedule (a hall break around the real time) drive the page.

# PRAYER and CLOSED (display.samples) are the hall_status values the Pi display's samples draw
# (docs/screenshots/display-*.png): the TV page is shown the same ones.


def test_tv_page_carries_the_hall_break_words_in_indonesian(client):
    page = client.get("/tv").get_data(as_text=True)
    assert ">ISTIRAHAT<" in page
    assert '"hall_reopens": "Layanan dibuka kembali {when}"' in page
    assert '"hall_closed": "Pendaftaran nomor ditutup"' in page
    assert '"hall_opens_again": "buka lagi {when}"' in page
    english = client.get("/tv?lang=en").get_data(as_text=True)
    assert ">BREAK<" in english and '"hall_opens_again": "opens again {when}"' in english


def _feed_snapshot(page, status: dict | None, now: str) -> None:
    """A snapshot as on a (re)connect: the page's own state with this hall_status and time."""
    page.evaluate(
        """([status, now]) => {
            const t = window.panggilTv;
            const snap = JSON.parse(JSON.stringify({seq: t.state.seq, hall: t.state.hall,
                counters: t.state.counters, recent_calls: t.state.recent, now: now}));
            if (status !== null) snap.hall_status = status;
            t.socket.listeners('snapshot').forEach(f => f(snap));
        }""",
        [status, now],
    )


def _visible(page, selector: str) -> bool:
    return page.evaluate(
        "(s) => { const n = document.querySelector(s); return !!n && n.offsetParent !== null; }",
        selector,
    )


def _chimes(page) -> int:
    return len([p for p in played(page) if p["kind"] == "chime-start"])


@pytest.mark.slow
@pytest.mark.browser
def test_hall_break_shows_the_break_screen_silences_calls_and_calls_resume_after(page, live_server):
    for _ in range(3):
        live_server.issue("ktp")
    open_tv(page, live_server, fake_audio=True)
    assert live_server.command(1, "call_next", "h-1").ok
    wait_js(
        page, "() => window.panggilTv.played.filter(p => p.kind === 'chime-start').length === 1"
    )
    _feed_snapshot(page, PRAYER, "2026-11-27T12:05:00+07:00")
    wait_js(page, "() => !document.getElementById('hallbreak').hidden")
    assert page.locator("#hb-word").inner_text() == "ISTIRAHAT"
    assert page.locator("#hb-label").inner_text() == "Sholat Jumat"
    assert page.locator("#hb-until").inner_text() == "Layanan dibuka kembali pukul 13.00"
    assert not _visible(page, "#latest") and not _visible(page, "#counters")
    for line in ("#hb-word", "#hb-label", "#hb-until"):  # nothing cut off
        assert page.evaluate(
            f"(n => n.scrollWidth <= n.clientWidth + 1)(document.querySelector('{line}'))"
        )
    assert _visible(page, "#recent") and page.locator("#time").inner_text().startswith("12.0")
    assert page.locator("#hall").inner_text() == "MPP Uji"
    assert page.locator("#running").inner_text() == "Selamat datang"
    assert page.evaluate(
        "getComputedStyle(document.getElementById('hallbreak')).backgroundColor"
    ) == (
        "rgb(14, 66, 80)"  # the Pi display's teal
    )
    # A call that still arrives is listed, without a sound.
    assert live_server.command(2, "call_next", "h-2").ok
    wait_js(page, "() => document.querySelector('#recent li .tv-r-number').textContent === 'A002'")
    page.wait_for_timeout(500)
    assert _chimes(page) == 1
    if os.environ.get("PANGGIL_SHOTS"):  # PANGGIL_SHOTS=docs/screenshots: tv-hall-break.png
        page.screenshot(path=os.path.join(os.environ["PANGGIL_SHOTS"], "tv-hall-break.png"))
    # The server says the break is over: the page resyncs (the live server's hall is open).
    page.evaluate(
        "(s) => window.panggilTv.applyEvent('hall_changed', {event: 'hall_changed', what: 'status',"
        " seq: window.panggilTv.state.seq + 1, at: '2026-11-27T13:00:02+07:00', status: s})",
        {"state": "open", "reason": "open", "label": None, "until": "2026-11-27T16:00:00+07:00"},
    )
    wait_js(page, "() => document.getElementById('hallbreak').hidden")
    assert _visible(page, "#latest") and _visible(page, "#counters")
    assert live_server.command(1, "call_next", "h-3").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A003'")
    wait_js(
        page, "() => window.panggilTv.played.filter(p => p.kind === 'chime-start').length === 2"
    )


@pytest.mark.slow
@pytest.mark.browser
def test_a_closed_hall_shows_a_banner_and_still_calls_aloud(page, live_server):
    live_server.issue("ktp")
    open_tv(page, live_server, fake_audio=True)
    _feed_snapshot(page, CLOSED, "2026-11-27T16:20:00+07:00")
    wait_js(page, "() => document.getElementById('footer').classList.contains('tv-closed')")
    assert page.locator("#running").inner_text() == (
        "Pendaftaran nomor ditutup · buka lagi Senin 07.30"
    )
    assert page.evaluate("getComputedStyle(document.getElementById('footer')).backgroundColor") == (
        "rgb(255, 193, 7)"
    )
    assert page.locator("#hallbreak").is_hidden() and _visible(page, "#counters")
    assert live_server.command(1, "call_next", "c-1").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A001'")
    wait_js(
        page, "() => window.panggilTv.played.filter(p => p.kind === 'chime-start').length === 1"
    )
    if os.environ.get("PANGGIL_SHOTS"):  # PANGGIL_SHOTS=docs/screenshots: tv-closed.png
        page.wait_for_timeout(600)  # the highlight's colour fades in
        page.screenshot(path=os.path.join(os.environ["PANGGIL_SHOTS"], "tv-closed.png"))
    # A snapshot without hall_status (an older server) is an open hall: the running text is back.
    _feed_snapshot(page, None, "2026-11-27T16:21:00+07:00")
    wait_js(page, "() => !document.getElementById('footer').classList.contains('tv-closed')")
    assert page.locator("#running").inner_text() == "Selamat datang"


def _break_around_now(live_server_factory):
    """A live server whose hall is on a break now (real time): a break of today's weekday from an
    hour ago to an hour ahead, with hours enforced (LiveServer turns them off by default)."""
    import yaml

    from server.schedule import WEEKDAYS, format_time
    from tests.conftest import WIB

    now = datetime.now(WIB)
    minute = now.hour * 60 + now.minute
    prayer = {"days": [WEEKDAYS[now.weekday()]], "from": format_time(max(0, minute - 60)),
              "to": format_time(min(24 * 60, minute + 60)), "label": "Sholat Jumat"}  # fmt: skip
    server = live_server_factory(hall={"breaks": [prayer]})
    raw = yaml.safe_load(server.config_path.read_text(encoding="utf-8"))
    raw["hall"]["enforce_hours"] = True
    for service in raw["services"]:
        service.pop("hours", None)
        service.pop("hours_by_day", None)
    server.config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return server.start()


@pytest.mark.slow
@pytest.mark.browser
def test_the_server_s_own_hall_break_drives_the_tv_and_refuses_calls(page, live_server_factory):
    server = _break_around_now(live_server_factory)
    status = server.get("/api/snapshot").json()["hall_status"]
    assert (status["state"], status["label"]) == ("break", "Sholat Jumat")
    open_tv(page, server, fake_audio=True)
    wait_js(page, "() => !document.getElementById('hallbreak').hidden")
    assert page.locator("#hb-label").inner_text() == "Sholat Jumat"
    assert page.locator("#hb-until").inner_text().startswith("Layanan dibuka kembali")
    refused = server.command(1, "call_next", "lb-1")
    assert (refused.status_code, refused.json()["error"]) == (409, "hall-on-break")
    page.wait_for_timeout(300)
    assert _chimes(page) == 0


@pytest.mark.slow
@pytest.mark.browser
def test_the_console_says_the_hall_is_on_a_break_before_anyone_presses(page, live_server_factory):
    from tests.test_counter_console import expect_message, log_in

    server = _break_around_now(live_server_factory)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, server)
    banner = page.locator("#hall-banner")
    wait_js(page, "() => !document.getElementById('hall-banner').hidden")
    text = banner.inner_text()
    assert text.startswith(
        "Seluruh mal sedang istirahat: Sholat Jumat. Pemanggilan dilanjutkan pukul"
    )
    assert ":" not in text.rsplit("pukul", 1)[1]  # 13.00, the Indonesian way
    if os.environ.get("PANGGIL_SCREENSHOTS") == "1":
        page.screenshot(path="docs/console-hall-break.png")
    page.click("#btn-call_next")
    expect_message(
        page, "Mal sedang istirahat: pemanggilan dilanjutkan setelah istirahat.", error=True
    )


@pytest.mark.slow
@pytest.mark.browser
def test_a_call_that_finishes_the_last_ticket_arrives_in_one_frame_and_shows(page, live_server):
    """Counter 1 calls A001, then A002: the finish and the call come as one `events` frame; the
    page applies both in order, shows A002 at Gerai 1 and asks no snapshot (no gap)."""
    for _ in range(2):
        live_server.issue("ktp")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    open_tv(page, live_server, fake_audio=True)
    assert live_server.command(1, "call_next", "f-1").ok
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A001'")
    seq = page.evaluate("window.panggilTv.state.seq")
    assert live_server.command(1, "call_next", "f-2").ok  # finishes A001, calls A002
    wait_js(page, "() => document.getElementById('latest-number').textContent === 'A002'")
    assert page.evaluate("window.panggilTv.state.seq") == seq + 2  # both events applied
    assert page.locator("[data-counter='1'] .tv-cell-number").inner_text() == "A002"
    batches = [f for f in frames if '"events"' in f and "ticket_called" in f]
    assert len(batches) == 1 and "ticket_finished" in batches[0]
    assert not any('"snapshot"' in f for f in frames[frames.index(batches[0]) :])
    page.screenshot(path=str(live_server.config_path.parent / "tv-events-frame.png"))
