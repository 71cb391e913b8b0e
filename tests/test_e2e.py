"""End to end: a real server process on 127.0.0.1 driven by python-socketio clients."""

from __future__ import annotations

import contextlib
import queue
import threading
import time

import pytest
import socketio

from server.protocol import NS_COUNTER, NS_DISPLAY
from tests.conftest import as_applied

pytestmark = pytest.mark.slow


class Display:
    """A python-socketio display client that records every event it receives."""

    def __init__(self, url: str, name: str = "e2e") -> None:
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any, namespace=NS_DISPLAY)
        self.sio.connect(url, namespaces=[NS_DISPLAY], auth={"display": name}, wait_timeout=10)

    def _any(self, event, data=None):
        for applied in as_applied(event, data):  # an `events` frame: each of its events
            self.events.put(applied)

    def next(self, name: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event == name:
                return data
        raise AssertionError(f"no {name} within {timeout}s")


def disconnect_all(clients) -> None:
    """Close clients side by side: under the threading server each close takes ~3 s."""
    threads = [threading.Thread(target=c.disconnect) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


def counter_client(url: str, number: int, token: str) -> socketio.Client:
    sio = socketio.Client(reconnection=False)
    sio.connect(
        url, namespaces=[NS_COUNTER], auth={"counter": number, "token": token}, wait_timeout=10
    )
    return sio


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_display_and_two_counters(live_server_factory, async_mode):
    server = live_server_factory(async_mode).start()
    display = Display(server.url)
    snapshot = display.next("snapshot")
    one = counter_client(server.url, 1, server.tokens[1])
    two = counter_client(server.url, 2, server.tokens[2])
    try:
        for _ in range(3):
            server.issue("ktp")
        issued = [display.next("ticket_issued") for _ in range(3)]
        assert [e["ticket"]["number"] for e in issued] == ["A001", "A002", "A003"]

        ack1 = one.call("call_next", {"request_id": "one-1"}, namespace=NS_COUNTER, timeout=10)
        ack2 = two.call("call_next", {"request_id": "two-1"}, namespace=NS_COUNTER, timeout=10)
        assert ack1["ok"] and ack2["ok"]
        calls = [display.next("ticket_called") for _ in range(2)]
        assert [(c["call"]["ticket"]["number"], c["call"]["counter"]["number"]) for c in calls] == [
            ("A001", 1),
            ("A002", 2),
        ]
        recall = one.call("recall", {"request_id": "one-2"}, namespace=NS_COUNTER, timeout=10)
        event = display.next("ticket_called")
        assert event["call"]["kind"] == "recall"
        assert (
            event["call"]["call_id"]
            == recall["result"]["call"]["call_id"]
            != calls[0]["call"]["call_id"]
        )
        assert event["call"]["announcement"]["text"]

        # A wrong token is refused at connect time and the server keeps running.
        with pytest.raises(socketio.exceptions.ConnectionError):
            counter_client(server.url, 1, "wrong-token")
        assert server.get("/api/health").ok

        seqs = [snapshot["seq"]] + [e["seq"] for e in issued + calls + [event]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    finally:
        disconnect_all([display.sio, one, two])


def test_display_resyncs_after_server_restart(live_server):
    display = Display(live_server.url)
    first = display.next("snapshot")
    live_server.issue("ktp")
    display.next("ticket_issued")
    display.sio.disconnect()
    live_server.stop()
    live_server.start()
    display = Display(live_server.url)
    again = display.next("snapshot")
    assert again["seq"] == first["seq"] + 1  # the seq survived the restart
    ktp = next(s for s in again["services"] if s["code"] == "ktp")
    assert ktp["waiting"] == 1
    display.sio.disconnect()


def test_oversized_socket_payload_is_refused_and_server_lives(live_server):
    one = counter_client(live_server.url, 1, live_server.tokens[1])
    # The server drops a connection that sends more than max_payload_bytes; the emit may fail.
    with contextlib.suppress(Exception):
        one.emit("call_next", {"request_id": "big", "pad": "x" * 40000}, namespace=NS_COUNTER)
    time.sleep(0.5)
    assert live_server.get("/api/health").ok
    fresh = counter_client(live_server.url, 1, live_server.tokens[1])
    live_server.issue("ktp")
    ack = fresh.call("call_next", {"request_id": "small"}, namespace=NS_COUNTER, timeout=10)
    assert ack["ok"] is True
    fresh.disconnect()


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_many_counters_pressing_at_once_never_share_a_ticket(live_server_factory, async_mode):
    counters = [{"number": n, "name": f"Gerai {n}", "services": ["ktp"], "token": f"token-counter-{n}"}
                for n in range(1, 21)]  # fmt: skip
    server = live_server_factory(async_mode, counters=counters, users=[]).start()
    server.tokens = {n: f"token-counter-{n}" for n in range(1, 21)}
    tickets = 300
    for _ in range(tickets):
        server.issue("ktp")
    clients = [counter_client(server.url, n, server.tokens[n]) for n in range(1, 21)]
    got: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients))

    def press(n: int, sio: socketio.Client) -> None:
        start.wait()
        for i in range(tickets):
            ack = sio.call(
                "call_next", {"request_id": f"c{n}-{i}"}, namespace=NS_COUNTER, timeout=30
            )
            with lock:
                if ack["ok"]:
                    got.append(ack["result"]["ticket"]["number"])
                else:
                    errors.append(ack["error"])
            if not ack["ok"]:
                return

    threads = [threading.Thread(target=press, args=(n + 1, c)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    disconnect_all(clients)
    assert len(got) == tickets, "every ticket called once"
    assert len(set(got)) == tickets, "no ticket called twice"
    assert set(errors) == {"no-waiting-tickets"}
    snap = server.get("/api/snapshot").json()
    assert next(s for s in snap["services"] if s["code"] == "ktp")["waiting"] == 0
