"""The counter client's pure parts: settings, state folding, key parsing, the status view, menus."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from counter_client import config as cfg
from counter_client.app import App
from counter_client.client import CounterClient, PressResult
from counter_client.inputs import KeyboardReader, split_keys
from counter_client.state import CounterState, apply_event, from_snapshot
from counter_client.texts import TEXTS, Texts
from counter_client.view import Screen, TerminalView, render

ROOT = Path(__file__).resolve().parent.parent


def ticket(number: str, status: str = "waiting", service: str = "ktp", **extra) -> dict:
    return {"id": f"2026-11-26/{number}", "number": number, "service": service, "status": status,
            "called_at": None, "calls": 0, "counter": None, **extra}  # fmt: skip


def snapshot(seq: int = 10, current: dict | None = None, skipped: list | None = None) -> dict:
    me = {"number": 1, "name": "Gerai 1", "services": ["ktp", "kk"], "active": True, "current": current,
          "served_today": 3}  # fmt: skip
    return {
        "seq": seq,
        "day": "2026-11-26",
        "hall": {"name": "MPP Uji"},
        "services": [
            {"code": "ktp", "name": "KTP", "prefix": "A", "active": True, "waiting": 4},
            {"code": "kk", "name": "KK", "prefix": "B", "active": True, "waiting": 0},
            {"code": "paspor", "name": "Paspor", "prefix": "C", "active": False, "waiting": 2},
        ],
        "counters": [me],
        "me": me,
        "skipped": skipped or [],
    }


# --- settings ------------------------------------------------------------------------------------


def test_defaults_are_a_numeric_keypad():
    config = cfg.parse_config({"number": 5, "token": "demo-counter-5"})
    assert config.server == ""  # found on the LAN by mDNS
    assert config.keys["enter"] == config.keys["+"] == "next"
    assert config.keys["."] == config.keys["0"] == "recall"
    assert (config.keys["-"], config.keys["*"], config.keys["/"]) == ("skip", "finish", "transfer")
    assert config.language == "id" and config.debounce_ms == 300


@pytest.mark.parametrize(
    "raw, named",
    [
        ({"number": 1, "token": "t", "sever": "x"}, "counter.sever: unknown key"),
        ({"token": "t"}, "counter.number: required"),
        ({"number": 1}, "counter.token: required"),
        ({"number": 0, "token": "t"}, "counter.number: must be at least 1"),
        ({"number": 1, "token": "t", "server": "192.168.1.10"}, "counter.server"),
        ({"number": 1, "token": "t", "language": "jv"}, "counter.language"),
        ({"number": 1, "token": "t", "keys": {"enter": "nxt"}}, "counter.keys.enter: unknown action 'nxt'"),
        ({"number": 1, "token": "t", "keys": {"pgup": "next"}}, "counter.keys.pgup: unknown key name"),
        ({"number": 1, "token": "t", "gpio": {"next": "pin17"}}, "counter.gpio.next: bad pin"),
        ({"number": 1, "token": "t", "gpio": {"next": 17, "skip": 17}}, "counter.gpio.skip: pin 17 is already used"),
        ({"number": 1, "token": "t", "debounce_ms": "fast"}, "counter.debounce_ms: must be int"),
        ({"number": 1, "token": "t", "keyboard": "yes"}, "counter.keyboard: must be bool"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_key(raw, named):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.parse_config(raw)
    assert named in str(exc.value)


def test_keys_and_gpio_maps_are_read(tmp_path):
    path = tmp_path / "counter.yaml"
    path.write_text(
        "counter:\n  server: http://10.0.0.2:5000/\n  number: 3\n  token: abc-token\n  language: en\n"
        "  keys: {Enter: next, 'q': recall, backspace: 'transfer:kk'}\n"
        "  gpio: {next: 17, finish: GPIO27, 'transfer:paspor': 22}\n",
        encoding="utf-8",
    )
    config = cfg.load_config(path, number=None, debounce_ms=150)
    assert config.server == "http://10.0.0.2:5000"
    assert dict(config.keys) == {"enter": "next", "q": "recall", "backspace": "transfer:kk"}
    assert dict(config.gpio) == {"next": 17, "finish": "GPIO27", "transfer:paspor": 22}
    assert (config.number, config.language, config.debounce_ms) == (3, "en", 150)


def test_the_admin_pages_pairing_line_sets_the_link(tmp_path):
    from server.pages.admin_catalogue import pairing_text

    line = pairing_text("http://192.168.1.10:5000/", 5, "t0k-en_5")
    config = cfg.load_config(None, pairing=line)
    assert (config.server, config.number, config.token) == (
        "http://192.168.1.10:5000",
        5,
        "t0k-en_5",
    )
    path = tmp_path / "counter.yaml"
    path.write_text(
        f"counter:\n  number: 2\n  token: old-token\n  pairing: '{line}'\n  language: en\n"
    )
    assert cfg.load_config(path).number == 2  # a key given beside the line wins
    paired = cfg.load_config(
        path, pairing=line, token="from-the-flag"
    )  # --pair replaces the file's link
    assert (paired.number, paired.token, paired.language) == (5, "from-the-flag", "en")


@pytest.mark.parametrize(
    "line",
    ["counter?server=x", "panggil:counter?server=http://a:1&counter=5", "panggil:counter?=&"],
)
def test_bad_pairing_lines_are_refused(line):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.load_config(None, pairing=line)
    assert "counter.pairing" in str(exc.value)


def test_server_config_gives_a_demo_counter():
    """`make counter` points at the server's config.yaml, which has no counter section."""
    config = cfg.load_config(ROOT / "config.yaml", number=2)
    assert (config.number, config.token, config.server) == (
        2,
        "demo-counter-2",
        "http://127.0.0.1:5000",
    )


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "counter.md").read_text(encoding="utf-8")
    missing = [key for key in cfg.SETTINGS if f"`{key}`" not in doc]
    assert not missing, f"settings missing from docs/counter.md: {missing}"


def test_both_languages_have_every_text():
    assert set(TEXTS["id"]) == set(TEXTS["en"])


# --- state ---------------------------------------------------------------------------------------


def test_snapshot_then_events_fold_in():
    state = from_snapshot(snapshot())
    assert state.ready and state.me["served_today"] == 3
    assert [s.code for s in state.my_services] == ["ktp", "kk"]
    called = ticket("A001", "called", counter=1, calls=1, called_at="2026-11-26T09:05:00+07:00")
    me = {**state.me, "current": called}
    state, resync = apply_event(state, {"event": "ticket_called", "seq": 11, "ticket": called, "counter": me,
                                        "waiting": {"ktp": 3}})  # fmt: skip
    assert not resync and state.seq == 11
    assert state.current["number"] == "A001" and state.services["ktp"].waiting == 3
    skipped = {**called, "status": "skipped"}
    state, _ = apply_event(state, {"event": "ticket_skipped", "seq": 12, "ticket": skipped,
                                   "counter": {**me, "current": None}, "waiting": {"ktp": 3}})  # fmt: skip
    assert [t["number"] for t in state.skipped] == ["A001"] and state.current is None
    back = {**called, "calls": 2}
    state, _ = apply_event(
        state, {"event": "ticket_called", "seq": 13, "ticket": back, "counter": me}
    )
    assert state.skipped == () and state.current["number"] == "A001"


def test_events_of_other_counters_leave_me_alone():
    state = from_snapshot(snapshot())
    other = {
        "number": 2,
        "name": "Gerai 2",
        "services": ["ktp"],
        "current": ticket("A001", "called"),
    }
    state, _ = apply_event(state, {"event": "ticket_called", "seq": 11, "ticket": ticket("A001", "called"),
                                   "counter": other, "waiting": {"ktp": 3}})  # fmt: skip
    assert state.current is None and state.services["ktp"].waiting == 3


@pytest.mark.parametrize(
    "event, resync, seq",
    [
        ({"event": "ticket_issued", "seq": 10, "waiting": {"ktp": 99}}, False, 10),  # duplicate
        ({"event": "ticket_issued", "seq": 9, "waiting": {"ktp": 99}}, False, 10),  # older
        (
            {"event": "ticket_issued", "seq": 13, "waiting": {"ktp": 99}},
            True,
            10,
        ),  # gap: keep state
        ({"event": "day_closed", "seq": 11, "day": "2026-11-26"}, True, 11),
        ({"event": "hall_changed", "seq": 11, "what": "catalogue"}, True, 11),
    ],
)
def test_duplicates_gaps_and_resync_events(event, resync, seq):
    before = from_snapshot(snapshot())
    after, must_resync = apply_event(before, event)
    assert must_resync is resync
    assert after.seq == seq
    assert after.services["ktp"].waiting == 4  # nothing applied from a duplicate or after a gap


def test_events_before_the_first_snapshot_are_ignored():
    state, resync = apply_event(CounterState(), {"event": "ticket_issued", "seq": 5})
    assert state == CounterState() and not resync


def test_transfer_targets_are_open_services_other_than_the_tickets():
    state = from_snapshot(snapshot(current=ticket("A001", "called", counter=1)))
    assert [s.code for s in state.transfer_targets()] == ["kk"]  # paspor is closed


# --- keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunk, keys",
    [
        ("\n", ["enter"]),
        ("\r\n", ["enter"]),
        ("+-*/.0", ["+", "-", "*", "/", ".", "0"]),
        ("\x7f\x08", ["backspace", "backspace"]),
        ("\x1bOM\x1bOk\x1bOp\x1bOy", ["enter", "+", "0", "9"]),  # keypad in application mode
        ("\x1b[3~", ["delete"]),
        ("\x1b[A", []),  # an arrow key: no action, no stray characters
        ("\x1b", ["esc"]),
        ("00", ["0", "0"]),  # a keypad's "00" key: the debounce makes it one press
    ],
)
def test_split_keys(chunk, keys):
    assert split_keys(chunk) == keys


def test_keyboard_reader_reads_a_pipe():
    read_fd, write_fd = os.pipe()
    got: list[str] = []
    reader = KeyboardReader(read_fd, got.append).start()
    os.write(write_fd, b"\n+\x7f")
    deadline = time.monotonic() + 2
    while len(got) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    reader.stop()
    os.close(write_fd)
    os.close(read_fd)
    assert got == ["enter", "+", "backspace"]


# --- debounce and refusal, without a server ----------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_debounce_and_refusal_while_disconnected():
    clock = FakeClock()
    client = CounterClient("http://127.0.0.1:9", 1, "t", debounce_ms=300, clock=clock)
    assert client.press("call_next").error == "disconnected"
    clock.now += 0.1
    assert client.press("call_next").error == "debounced"  # a bounce of the same key
    clock.now += 0.1
    assert client.press("call_next").error == "debounced"  # a held key keeps being ignored
    assert client.press("skip").error == "disconnected"  # another key is not a repeat
    clock.now += 0.35
    assert client.press("call_next").error == "disconnected"


# --- the status view -----------------------------------------------------------------------------


def test_view_in_indonesian_and_english():
    called = ticket("A012", "called", counter=1, calls=2, called_at="2026-11-26T09:12:00+07:00")
    state = from_snapshot(snapshot(current=called, skipped=[ticket("A003", "skipped")]))
    screen = Screen(
        state=state, connection="connected", message="Memanggil A012", keys=cfg.DEFAULT_KEYS
    )
    text = render(screen, Texts("id"))
    for expected in ("Gerai 1 · MPP Uji", "Tersambung", "Sedang dilayani:  A012", "dipanggil 09.12",
                     "panggilan ke-2", "KTP 4 orang · KK 0 orang", "Dilayani hari ini:  3", "A003",
                     "✓ Memanggil A012", "Enter/+ Panggil berikutnya"):  # fmt: skip
        assert expected in text, expected
    help_lines = text.split("Tombol:")[1].splitlines()
    assert all(len(line) <= 64 for line in text.splitlines()[2:])
    assert any("- Lewati" in line for line in help_lines)  # broken between keys, never inside one
    english = render(screen, Texts("en"))
    assert (
        "Now serving:  A012" in english
        and "called 09:12" in english
        and "Served today:  3" in english
    )


def test_view_says_when_disconnected_or_refused():
    state = from_snapshot(snapshot())
    down = render(Screen(state=state, connection="disconnected"), Texts("id"))
    assert "TERPUTUS dari server" in down
    refused = render(
        Screen(state=state, connection="refused", refusal="invalid-token"), Texts("id")
    )
    assert "DITOLAK server: Token gerai salah" in refused


def test_view_redraws_only_on_change(tmp_path):
    with open(tmp_path / "out.txt", "w", encoding="utf-8") as stream:
        view = TerminalView(stream, Texts("id"))
        screen = Screen(state=from_snapshot(snapshot()), connection="connected")
        assert view.draw(screen) is True
        assert view.draw(screen) is False
        assert view.draw(Screen(state=screen.state, connection="disconnected")) is True


# --- the app's menus, with a stand-in client ----------------------------------------------------


class StubClient:
    def __init__(self, state: CounterState, connected: bool = True) -> None:
        self.state = state
        self.connected = connected
        self.connection = "connected" if connected else "disconnected"
        self.refusal = self.pending = None
        self.retrying = False
        self.presses: list[tuple[str, dict]] = []

    def press(self, command: str, **args) -> PressResult:
        self.presses.append((command, args))
        return PressResult(
            command, True, result={"ticket": {"number": "A001", "service": args.get("service")}}
        )


def make_app(tmp_path, state: CounterState, connected: bool = True) -> tuple[App, StubClient]:
    client = StubClient(state, connected)
    stream = open(tmp_path / "view.txt", "w", encoding="utf-8")  # noqa: SIM115 - closed with tmp_path
    return App(client, TerminalView(stream, Texts("id")), Texts("id"), cfg.DEFAULT_KEYS), client


def run_keys(app: App, *keys: str) -> None:
    for key in keys:
        app.handle_key(key)
        # a press runs on its own thread and posts its result back
        deadline = time.monotonic() + 2
        while app.presses_started > len(app.client.presses) and time.monotonic() < deadline:
            time.sleep(0.005)
    while not app.events.empty():
        kind, value = app.events.get()
        if kind == "result":
            app.handle_result(value)


def test_transfer_menu_lists_open_services_and_digit_sends(tmp_path):
    app, client = make_app(
        tmp_path, from_snapshot(snapshot(current=ticket("A001", "called", counter=1)))
    )
    run_keys(app, "/")
    assert app.menu is not None and [label for label, _, _ in app.menu[1]] == ["KK (kk)"]
    run_keys(app, "1")
    assert client.presses == [("transfer", {"service": "kk"})]
    assert app.menu is None and app.message == "A001 dialihkan ke KK"


def test_menu_cancels_on_any_other_key(tmp_path):
    app, client = make_app(tmp_path, from_snapshot(snapshot(skipped=[ticket("A003", "skipped")])))
    run_keys(app, "backspace", "enter")
    assert client.presses == [] and app.message == "Dibatalkan"
    run_keys(app, "backspace", "1")
    assert client.presses == [("call_ticket", {"number": "A003"})]


def test_menus_refuse_clearly_when_there_is_nothing_to_choose(tmp_path):
    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    run_keys(app, "/")
    assert app.message == "Belum ada nomor yang sedang dilayani" and app.message_is_error
    run_keys(app, "backspace")
    assert app.message == "Tidak ada nomor yang dilewati"
    offline, _ = make_app(tmp_path, from_snapshot(snapshot()), connected=False)
    run_keys(offline, "/")
    assert offline.message == "Terputus dari server — tombol tidak dikirim"
    assert client.presses == []


def test_keys_map_to_commands(tmp_path):
    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    run_keys(app, "enter", ".", "-", "*", "x")
    assert [c for c, _ in client.presses] == ["call_next", "recall", "skip", "finish"]


# --- counter breaks (issue 13 item 1) ----------------------------------------------------------


def on_break(
    state: CounterState, reason: str = "sholat", until: str | None = "13:00"
) -> CounterState:
    """The state after a `counter_changed` event put this counter on break."""
    me = {**state.me, "state": "break",
          "break": {"reason": reason, "until": until, "since": "2026-11-26T12:00:00+07:00"}}  # fmt: skip
    event = {"event": "counter_changed", "seq": state.seq + 1, "at": "x", "counter": me}
    new, resync = apply_event(state, event)
    assert not resync
    return new


def test_counter_changed_puts_me_on_break_and_back():
    state = from_snapshot(snapshot())
    assert state.break_info is None  # no `state` field: an older server, the counter is open
    paused = on_break(state)
    assert paused.seq == 11 and dict(paused.break_info)["reason"] == "sholat"
    event = {"event": "counter_changed", "seq": 12, "at": "x",
             "counter": {**paused.me, "state": "open", "break": None}}  # fmt: skip
    back, _ = apply_event(paused, event)
    assert back.break_info is None and back.seq == 12


def test_another_counters_break_is_not_mine():
    state = from_snapshot(snapshot())
    other = {"number": 2, "name": "Gerai 2", "state": "break", "break": {"reason": "rapat"}}
    new, _ = apply_event(state, {"event": "counter_changed", "seq": 11, "counter": other})
    assert new.break_info is None and new.seq == 11


def test_pause_and_resume_keys_send_the_commands(tmp_path):
    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    run_keys(app, "7")
    assert client.presses == [("pause", {"reason": "istirahat"})]
    assert app.message == "Istirahat dimulai (istirahat)" and not app.message_is_error
    run_keys(app, "9")
    assert client.presses[-1] == ("resume", {}) and app.message == "Kembali melayani"


@pytest.mark.parametrize(
    "keys, sent, prompt",
    [
        # 8, four digits, Enter: a break with its return time.
        (("8", "1", "3", "0", "0", "enter"), [("pause", {"reason": "istirahat", "until": "13:00"})], None),
        # The keypad's big + also sends; Backspace takes a digit back.
        (("8", "1", "4", "4", "backspace", "3", "0", "+"),
         [("pause", {"reason": "istirahat", "until": "14:30"})], None),
        # Enter before a whole time, or on a time that is none (25.00), keeps asking.
        (("8", "1", "3", "enter"), [], "Istirahat — kembali pukul? ketik 4 angka (1300) lalu Enter (Esc batal): 13.__"),
        (("8", "2", "5", "0", "0", "enter"), [], "Istirahat — kembali pukul? ketik 4 angka (1300) lalu Enter (Esc batal): 25.00"),
        # Esc cancels: nothing is sent.
        (("8", "1", "esc"), [], None),
    ],
)  # fmt: skip
def test_the_pause_until_key_asks_for_the_return_time(tmp_path, keys, sent, prompt):
    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    run_keys(app, *keys)
    assert client.presses == sent
    if prompt is None:
        assert app.entry is None
    else:
        assert app.entry.prompt(app.texts) == prompt
    if keys[-1] == "esc":
        assert app.message == "Dibatalkan"


def test_pause_reason_comes_from_the_config_or_the_action(tmp_path):
    config = cfg.parse_config({"number": 1, "token": "t", "pause_reason": "sholat",
                               "keys": {"p": "pause", "r": "pause:rapat", "l": "resume"}})  # fmt: skip
    client = StubClient(from_snapshot(snapshot()))
    stream = open(tmp_path / "v.txt", "w", encoding="utf-8")  # noqa: SIM115
    app = App(client, TerminalView(stream, Texts("id")), Texts("id"), config.keys,
              pause_reason=config.pause_reason)  # fmt: skip
    run_keys(app, "p", "r", "l")
    assert client.presses == [("pause", {"reason": "sholat"}), ("pause", {"reason": "rapat"}),
                              ("resume", {})]  # fmt: skip


@pytest.mark.parametrize(
    "raw, named",
    [
        ({"pause_reason": "tidur"}, "counter.pause_reason: must be one of"),
        ({"keys": {"p": "pause:tidur"}}, "counter.keys.p: unknown action 'pause:tidur'"),
        ({"gpio": {"pause:x": 5}}, "counter.gpio: unknown action 'pause:x'"),
    ],
)
def test_bad_break_settings_name_the_key(raw, named):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.parse_config({"number": 1, "token": "t", **raw})
    assert named in str(exc.value)


def test_pause_and_resume_are_refused_while_disconnected():
    client = CounterClient("http://127.0.0.1:9", 1, "t", clock=FakeClock())
    assert client.press("pause", reason="istirahat").error == "disconnected"
    assert client.press("resume").error == "disconnected"
    with pytest.raises(ValueError):
        client.press("pause-everything")


def test_pause_key_while_disconnected_says_so(tmp_path):
    app, _ = make_app(tmp_path, from_snapshot(snapshot()))
    app.client = CounterClient("http://127.0.0.1:9", 1, "t", clock=FakeClock())
    app.client.state = from_snapshot(snapshot())
    app.handle_key("7")
    _, result = app.events.get(timeout=5)
    app.handle_result(result)
    assert app.message == "Terputus dari server — tombol tidak dikirim" and app.message_is_error


@pytest.mark.parametrize(
    "code, shown",
    [
        ("counter-on-break", "Gerai sedang istirahat — tekan Lanjut melayani dulu"),
        ("ticket-held", "Masih ada nomor yang dilayani — selesaikan, lewati atau alihkan dulu"),
        ("not-on-break", "Gerai tidak sedang istirahat"),
        ("already-on-break", "Gerai sudah istirahat"),
    ],
)
def test_break_errors_are_shown_in_indonesian(tmp_path, code, shown):
    app, _ = make_app(tmp_path, from_snapshot(snapshot()))
    app.handle_result(PressResult("call_next", False, code, "server text"))
    assert app.message == shown and app.message_is_error
    assert Texts("en").error(code) != Texts("en")("error.unknown", message="server text")


@pytest.mark.parametrize(
    "language, reason, until, line",
    [
        ("id", "sholat", "13:00", "ISTIRAHAT: sholat · kembali 13.00 · sejak 12.00"),
        ("id", "istirahat", None, "ISTIRAHAT: istirahat · sejak 12.00"),
        ("en", "rapat", "14:30", "ON BREAK: meeting · back at 14:30 · since 12:00"),
    ],
)
def test_status_view_shows_the_break(language, reason, until, line):
    state = on_break(from_snapshot(snapshot()), reason, until)
    text = render(
        Screen(state=state, connection="connected", keys=cfg.DEFAULT_KEYS), Texts(language)
    )
    assert line in text.splitlines()
    assert "ISTIRAHAT" not in render(Screen(state=from_snapshot(snapshot())), Texts("id"))
    if language == "id":
        assert "7 Istirahat" in text and "9 Lanjut melayani" in text


def test_gpio_pause_button_sends_pause_once(tmp_path):
    """A break button on GPIO 5 (gpiozero's mock pins) through the app."""
    from gpiozero.pins.mock import MockFactory

    from counter_client.inputs import GpioButtons

    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    factory = MockFactory()
    buttons = GpioButtons({"pause:sholat": 5}, app.post_action, bounce_ms=1, pin_factory=factory)
    try:
        pin = factory.pin(5)
        pin.drive_low()
        kind, action = app.events.get(timeout=5)
        assert (kind, action) == ("action", "pause:sholat")
        app.handle_action(action)
        deadline = time.monotonic() + 2
        while not client.presses and time.monotonic() < deadline:
            time.sleep(0.005)
        assert client.presses == [("pause", {"reason": "sholat"})]
    finally:
        buttons.close()
