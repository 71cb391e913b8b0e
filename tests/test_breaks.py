"""Counter breaks through the shells: socket and HTTP commands, the broadcast, storage, estimates."""

from __future__ import annotations

import pytest

from server import protocol
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError
from tests.conftest import TOKENS
from tests.test_storage import open_hub
from tests.test_visitor import link, serve

AUTH = {"Authorization": f"Bearer {TOKENS[1]}"}


def events_named(sc, name, namespace):
    return [m["args"][0] for m in sc.get_received(namespace) if m["name"] == name]


def test_pause_and_resume_over_the_socket_reach_every_client(socket_client, hub, clock):
    display = socket_client(NS_DISPLAY)
    officer = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    display.get_received(NS_DISPLAY)
    officer.get_received(NS_COUNTER)
    pause = {"request_id": "b1", "reason": "sholat", "until": "13:00"}
    ack = officer.emit(protocol.PAUSE, pause, namespace=NS_COUNTER, callback=True)
    assert ack["ok"] is True
    me = ack["result"]["counter"]
    assert me["state"] == "break"
    assert me["break"] == {
        "reason": "sholat",
        "until": "13:00",
        "since": "2026-11-26T09:00:00+07:00",
    }
    for sc, ns in ((display, NS_DISPLAY), (officer, NS_COUNTER)):
        [event] = events_named(sc, protocol.COUNTER_CHANGED, ns)
        assert event["seq"] == ack["seq"] == hub.seq
        assert event["at"] == "2026-11-26T09:00:00+07:00"
        assert event["counter"] == me
    snap = hub.snapshot(counter=1)
    assert snap["me"]["state"] == "break"
    assert [c["state"] for c in snap["counters"]] == ["break", "open", "open"]

    # A retry is applied once: the same answer, no second event.
    again = officer.emit(protocol.PAUSE, pause, namespace=NS_COUNTER, callback=True)
    assert again["replayed"] is True and again["seq"] == ack["seq"]
    assert events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY) == []

    hub.issue("ktp")
    refused = officer.emit(
        protocol.CALL_NEXT, {"request_id": "b2"}, namespace=NS_COUNTER, callback=True
    )
    assert (refused["ok"], refused["error"]) == (False, "counter-on-break")

    clock.advance(minutes=25)
    back = officer.emit(protocol.RESUME, {"request_id": "b3"}, namespace=NS_COUNTER, callback=True)
    assert back["result"]["counter"]["state"] == "open"
    assert back["result"]["counter"]["break"] is None
    [event] = events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY)
    assert event["counter"]["state"] == "open" and event["seq"] == back["seq"]
    called = officer.emit(
        protocol.CALL_NEXT, {"request_id": "b4"}, namespace=NS_COUNTER, callback=True
    )
    assert called["result"]["ticket"]["number"] == "A001"


@pytest.mark.parametrize(
    "body",
    [
        {"request_id": "x"},  # no reason
        {"request_id": "x", "reason": "makan"},
        {"request_id": "x", "reason": "rapat", "until": "25:00"},
        {"request_id": "x", "reason": "rapat", "until": "13.00"},
        {"request_id": "x", "reason": "rapat", "until": 1300},
        {"request_id": "x", "reason": "rapat", "extra": 1},
    ],
)
def test_bad_pause_requests_are_refused_and_change_nothing(client, hub, body):
    seq = hub.seq
    r = client.post("/api/counters/1/pause", json=body, headers=AUTH)
    assert r.status_code == 400 and r.get_json()["error"] == "bad-request"
    assert hub.seq == seq and hub.hall.counters[1].state == "open"


def test_break_errors_over_http(client, hub):
    def post(command, request_id, **body):
        return client.post(f"/api/counters/1/{command}", json={"request_id": request_id, **body},
                           headers=AUTH)  # fmt: skip

    r = post("resume", "h0")
    assert (r.status_code, r.get_json()["error"]) == (409, "not-on-break")
    assert r.get_json()["message"] == protocol.ERRORS["not-on-break"][1]
    hub.issue("ktp")
    post("call_next", "h1")
    r = post("pause", "h2", reason="istirahat")
    assert (r.status_code, r.get_json()["error"]) == (409, "ticket-held")
    post("finish", "h3")
    r = post("pause", "h4", reason="istirahat")
    assert r.status_code == 200 and r.get_json()["result"]["counter"]["break"]["until"] is None
    r = post("pause", "h5", reason="rapat")
    assert (r.status_code, r.get_json()["error"]) == (409, "already-on-break")
    for command, args in (("recall", {}), ("call_ticket", {"number": "A001"}),
                          ("transfer", {"service": "kk"}), ("call_next", {})):  # fmt: skip
        r = post(command, "h-" + command, **args)
        assert (r.status_code, r.get_json()["error"]) == (409, "counter-on-break")
    r = post("resume", "h6")
    assert r.status_code == 200 and r.get_json()["result"]["counter"]["state"] == "open"


def test_a_restart_keeps_a_counter_on_break(config, clock):
    hub = open_hub(config, clock)
    hub.command(2, "pause", {"reason": "rapat", "until": "10:30"}, "r1")
    seq = hub.seq
    hub.storage.close()

    again = open_hub(config, clock)
    counter = again.hall.counters[2]
    assert (counter.state, counter.break_reason, counter.break_until) == ("break", "rapat", "10:30")
    assert counter.break_since == clock()
    assert again.seq == seq
    assert again.snapshot()["counters"][1]["break"]["since"] == "2026-11-26T09:00:00+07:00"
    with pytest.raises(PanggilError, match="counter-on-break"):
        again.command(2, "call_next", {}, "r2")
    assert again.command(2, "pause", {"reason": "rapat", "until": "10:30"}, "r1")["replayed"]
    again.command(2, "resume", {}, "r3")
    again.storage.close()
    assert open_hub(config, clock).hall.counters[2].state == "open"


def test_an_admin_edit_of_the_counter_keeps_its_break(hub):
    hub.command(1, "pause", {"reason": "lainnya"}, "r1")
    hub.change_hall("catalogue", lambda s: s.save_counter(hub.hall.counters[2]))
    assert hub.hall.counters[1].state == "break"


def test_the_wait_estimate_counts_only_open_counters(client, hub, clock):
    for i in range(3):  # 4-minute services of ktp, which counters 1 and 2 serve
        hub.issue("ktp")
        serve(hub, clock, 1, 4, f"k{i}")
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(4)]
    client.application.extensions.pop("panggil_service_times", None)
    url = link(client, tickets[-1]) + "/status"
    assert client.get(url).get_json()["estimate_minutes"] == 7  # 3.5 x 4 min over 2 counters
    hub.command(2, "pause", {"reason": "sholat"}, "p1")
    assert client.get(url).get_json()["estimate_minutes"] == 14  # counter 1 alone
    assert hub.hall.open_counters("ktp") == 1
    detail = {s["code"]: s for s in client.get("/api/services").get_json()["services"]}
    assert (detail["ktp"]["open_counters"], detail["kk"]["open_counters"]) == (1, 1)
    assert detail["paspor"]["open_counters"] == 1
    hub.command(2, "resume", {}, "p2")
    assert client.get("/api/services").get_json()["services"][0]["open_counters"] == 2


def test_a_new_day_starts_with_every_counter_open(config, clock, socket_client, hub):
    """A break nobody ended last night is over at the day boundary, on every screen and on disk."""
    display = socket_client(NS_DISPLAY)
    hub.command(2, "pause", {"reason": "istirahat"}, "night-1")
    hub.issue("ktp")
    display.get_received(NS_DISPLAY)
    clock.advance(days=1)
    hub.tick()
    assert hub.hall.counters[2].state == "open"
    received = display.get_received(NS_DISPLAY)
    [changed] = [m["args"][0] for m in received if m["name"] == protocol.COUNTER_CHANGED]
    assert changed["counter"]["number"] == 2 and changed["counter"]["state"] == "open"
    [closed] = [m["args"][0] for m in received if m["name"] == protocol.DAY_CLOSED]
    assert closed["expired"] == 1  # the one open ticket, not the counter
    stored = hub.read(lambda s: s.load_catalogue()[2][2])
    assert stored.state == "open" and stored.break_reason is None


def test_closing_the_day_early_keeps_a_break(hub):
    """The admin's early close keeps the same day: a counter on break stays on break."""
    hub.command(2, "pause", {"reason": "rapat"}, "early-1")
    hub.close_day()
    assert hub.hall.counters[2].state == "break"
