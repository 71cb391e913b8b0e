"""The counter client against a real server process: keys, GPIO buttons, drops, refusals."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time

import pytest

from counter_client import config as cfg
from counter_client.app import App
from counter_client.client import CounterClient
from counter_client.inputs import GpioButtons
from counter_client.texts import Texts
from counter_client.view import TerminalView
from tests.conftest import HALL, ROOT

pytestmark = pytest.mark.slow


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def seq_of(server) -> int:
    return server.get("/api/health").json()["seq"]


def ticket_of(server, number: str) -> dict:
    day = server.get("/api/health").json()["day"]
    device = {"Authorization": f"Bearer {server.tokens[1]}"}  # ticket details are for staff devices
    return server.get(f"/api/tickets/{day}/{number}", headers=device).json()["ticket"]


def counter_of(server, number: int = 1) -> dict:
    r = server.get(
        f"/api/counters/{number}", headers={"Authorization": f"Bearer {server.tokens[number]}"}
    )
    return r.json()["me"]


@pytest.fixture
def make_client(live_server):
    made: list[CounterClient] = []

    def make(number: int = 1, token: str | None = None, server=live_server, **kw) -> CounterClient:
        options = {
            "ack_timeout": 1.0,
            "retry_window": 15.0,
            "reconnect_min": 0.1,
            "reconnect_max": 0.3,
            **kw,
        }
        client = CounterClient(server.url, number, token or server.tokens[number], **options)
        made.append(client)
        client.start()
        return client

    yield make
    for client in made:
        client.stop()


def keypad_program(server, counter: int) -> tuple[subprocess.Popen, list[str]]:
    """`python -m counter_client` for one counter, keys on its stdin; its output is collected."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "counter_client", "--server", server.url, "--counter", str(counter),
         "--token", server.tokens[counter]],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
    return proc, output


def test_keypad_press_in_the_real_program_calls_exactly_once(live_server):
    """`python -m counter_client` with keys on stdin: one Enter, one call recorded by the server."""
    live_server.issue("ktp")
    live_server.issue("ktp")
    before = seq_of(live_server)
    proc, output = keypad_program(live_server, 1)
    try:
        wait_for(lambda: "Tersambung" in "".join(output), what="the status view to say Tersambung")
        proc.stdin.write("\n")
        proc.stdin.flush()
        wait_for(lambda: "✓ Memanggil A001" in "".join(output), what="the call to be shown")
        assert ticket_of(live_server, "A001")["calls"] == 1
        assert ticket_of(live_server, "A002")["status"] == "waiting"
        assert seq_of(live_server) == before + 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert proc.returncode == 0


def test_gpio_button_press_calls_exactly_once(live_server, make_client):
    """A button on GPIO 17 (gpiozero's mock pins), through the app, to the real server."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    live_server.issue("ktp")
    live_server.issue("ktp")
    client = make_client()
    assert client.wait_ready(20)
    texts = Texts("id")
    app = App(client, TerminalView(io.StringIO(), texts), texts, cfg.DEFAULT_KEYS)
    client.on_change = app.post_change
    buttons = GpioButtons(
        {"next": 17, "skip": 22}, app.post_action, bounce_ms=5, pin_factory=factory
    )
    loop = threading.Thread(target=app.run, daemon=True)
    loop.start()
    before = seq_of(live_server)
    try:
        pin = factory.pin(17)
        pin.drive_low()  # pressed: the button pulls the pin to ground
        pin.drive_high()
        wait_for(lambda: app.message == "Memanggil A001", what="the call to be shown")
        wait_for(
            lambda: client.state.current and client.state.current["number"] == "A001", what="state"
        )
        assert seq_of(live_server) == before + 1
        assert ticket_of(live_server, "A001")["calls"] == 1
        assert ticket_of(live_server, "A002")["status"] == "waiting"
        assert "Sedang dilayani:  A001" in app.view.last
    finally:
        app.stop()
        loop.join(5)
        buttons.close()
        Device.pin_factory = None


@pytest.mark.parametrize(
    "applied_before_drop", [False, True], ids=["lost-on-the-way", "answer-lost"]
)
def test_network_drop_during_a_press_applies_it_once(live_server, make_client, applied_before_drop):
    """The server dies (SIGKILL) while a press is in flight and comes back on the same port."""
    live_server.issue("ktp")
    live_server.issue("ktp")
    client = make_client()
    assert client.wait_ready(20)
    before = seq_of(live_server)

    if applied_before_drop:
        # The server applies the press, then dies before the client sees the answer.
        real = client._emit_and_wait

        def emit_then_die(command, data):
            client._emit_and_wait = real  # only the first attempt
            reply, generation = real(command, data)
            assert reply["ok"]
            live_server.kill()
            restart.start()
            return None, generation

        restart = threading.Thread(target=lambda: (time.sleep(0.3), live_server.start()))
        client._emit_and_wait = emit_then_die
        result = client.press("call_next")
        restart.join(30)  # the server is fully up (and its start-up check done) before we go on
    else:
        # The server is frozen, so the press sits unread in its socket; then it is killed.
        live_server.process.send_signal(signal.SIGSTOP)
        outcome: list = []
        pressing = threading.Thread(target=lambda: outcome.append(client.press("call_next")))
        pressing.start()
        time.sleep(0.3)
        live_server.kill()
        live_server.start()
        pressing.join(20)
        result = outcome[0]

    assert result.ok, result
    assert result.attempts == 2
    assert result.replayed is applied_before_drop
    assert result.result["ticket"]["number"] == "A001"
    wait_for(lambda: client.wait_ready(0.1), what="reconnection")
    assert seq_of(live_server) == before + 1  # exactly one change
    assert ticket_of(live_server, "A001")["calls"] == 1
    assert ticket_of(live_server, "A002")["status"] == "waiting"


def test_debounce_sends_one_press(live_server, make_client):
    live_server.issue("ktp")
    live_server.issue("ktp")
    client = make_client(debounce_ms=300)
    assert client.wait_ready(20)
    before = seq_of(live_server)
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(client.press("call_next"))) for _ in range(3)
    ]
    for t in threads:
        t.start()
        time.sleep(0.02)
    for t in threads:
        t.join(10)
    assert sorted(r.error or "ok" for r in results) == ["debounced", "debounced", "ok"]
    assert seq_of(live_server) == before + 1
    assert ticket_of(live_server, "A002")["status"] == "waiting"


def test_presses_are_refused_while_disconnected_and_not_sent_later(live_server, make_client):
    live_server.issue("ktp")
    client = make_client()
    assert client.wait_ready(20)
    before = seq_of(live_server)
    live_server.kill()
    wait_for(lambda: not client.connected, what="the client to notice the drop")
    texts = Texts("id")
    app = App(client, TerminalView(io.StringIO(), texts), texts, cfg.DEFAULT_KEYS)
    app.handle_result(client.press("call_next"))
    assert app.message == "Terputus dari server — tombol tidak dikirim" and app.message_is_error
    live_server.start()
    assert client.wait_ready(20)
    time.sleep(0.3)  # a queued press would have gone out by now
    assert seq_of(live_server) == before
    assert ticket_of(live_server, "A001")["status"] == "waiting"


@pytest.mark.parametrize(
    "number, token, code, shown",
    [
        (1, "wrong-token-123", "invalid-token", "Token gerai salah"),
        (2, HALL["counters"][0]["token"], "invalid-token", "Token gerai salah"),
        (99, "token-counter-1", "unknown-counter", "Gerai tidak dikenal atau tidak aktif"),
    ],
)
def test_wrong_token_or_unknown_counter_is_refused_clearly(
    live_server, make_client, number, token, code, shown
):
    live_server.issue("ktp")
    before = seq_of(live_server)
    client = make_client(number=number, token=token)
    wait_for(lambda: client.connection == "refused", what="the refusal")
    assert client.refusal == code
    assert client.press("call_next").error == "disconnected"
    texts = Texts("id")
    app = App(client, TerminalView(io.StringIO(), texts), texts, cfg.DEFAULT_KEYS)
    app.redraw()
    assert f"DITOLAK server: {shown}" in app.view.last
    assert seq_of(live_server) == before
    assert ticket_of(live_server, "A001")["status"] == "waiting"


def test_transfer_to_unknown_or_closed_service_changes_nothing(live_server_factory):
    services = [dict(s) for s in HALL["services"]]
    services[2]["active"] = False  # paspor is closed
    server = live_server_factory(services=services).start()
    server.issue("ktp")
    client = CounterClient(server.url, 1, server.tokens[1], ack_timeout=1.0, reconnect_max=0.3)
    client.start()
    try:
        assert client.wait_ready(20)
        assert client.press("call_next").ok
        before = seq_of(server)
        texts = Texts("id")
        app = App(client, TerminalView(io.StringIO(), texts), texts, cfg.DEFAULT_KEYS)
        for service, code, shown in [("nope", "unknown-service", "Layanan tidak dikenal"),
                                     ("paspor", "service-closed", "Layanan sedang tutup")]:  # fmt: skip
            result = client.press("transfer", service=service)
            assert (result.ok, result.error) == (False, code)
            app.handle_result(result)
            assert app.message == shown and app.message_is_error
        assert seq_of(server) == before
        held = counter_of(server)["current"]
        assert (held["number"], held["status"], held["service"]) == ("A001", "called", "ktp")
        assert [s.code for s in client.state.transfer_targets()] == [
            "kk"
        ]  # the menu offers only open ones
    finally:
        client.stop()
