"""Visitor phones on /visitor: each follows its own ticket and its service's coalesced summary,
never the hall's whole stream (server/visitor_events.py, server/queue_moved.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from server import queue_moved
from server.ticket_links import ticket_token

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=WIB)
SECONDS = timedelta(seconds=2)


# --- the coalescing rule (pure) -----------------------------------------------------------------


def test_a_service_never_sent_goes_at_once():
    assert queue_moved.plan({"ktp"}, {}, T0, SECONDS) == queue_moved.Plan(("ktp",), None)


def test_a_service_sent_within_the_interval_waits_for_its_end():
    sent = {"ktp": T0, "kk": T0 - timedelta(seconds=1)}
    planned = queue_moved.plan({"ktp", "kk"}, sent, T0 + timedelta(seconds=1.5), SECONDS)
    assert planned.send == ("kk",)  # its 2 s are over
    assert planned.wake_at == T0 + SECONDS  # ktp's are over then: it is not dropped


def test_nothing_moved_nothing_to_send_or_wait_for():
    assert queue_moved.plan(set(), {"ktp": T0}, T0, SECONDS) == queue_moved.Plan((), None)


@pytest.mark.parametrize("moves", [1, 2, 7])
def test_a_burst_costs_two_summaries_and_the_last_one_is_the_last_state(moves):
    """Many moves within one interval: one summary at once, one at the interval's end."""
    sent: dict[str, datetime] = {}
    dirty: set[str] = set()
    out = []
    now = T0
    for i in range(moves):
        dirty.add("ktp")
        planned = queue_moved.plan(dirty, sent, now, SECONDS)
        for service in planned.send:
            out.append((service, i))
            sent[service] = now
            dirty.discard(service)
        now += timedelta(milliseconds=100)
    planned = queue_moved.plan(dirty, sent, T0 + SECONDS, SECONDS)
    for service in planned.send:
        out.append((service, moves - 1))
    assert out[0] == ("ktp", 0)
    assert out[-1] == ("ktp", moves - 1)  # the last state always arrives
    assert len(out) == min(moves, 2)


# --- phones over the namespace ------------------------------------------------------------------


def auth(app, ticket: dict, token: str | None = None) -> dict:
    return {"day": ticket["day"], "number": ticket["number"],
            "token": token or ticket_token(app.secret_key, ticket["id"])}  # fmt: skip


def received(phone) -> list[tuple[str, dict]]:
    return [(m["name"], m["args"][0]) for m in phone.get_received("/visitor")]


def names(messages) -> list[str]:
    return [name for name, _ in messages]


def calls(messages) -> list[str]:
    return [m["ticket"]["number"] for name, m in messages if name == "ticket_called"]


@pytest.fixture
def feed(app):
    return app.extensions["panggil_visitors"]


def test_phone_gets_its_own_status_on_connect(app, hub, socket_client):
    hub.issue("ktp")
    mine = hub.issue("ktp")["result"]["ticket"]
    phone = socket_client("/visitor", auth(app, mine))
    assert phone.is_connected("/visitor")
    [(name, status)] = received(phone)
    assert name == "ticket_status"
    assert status["ticket"]["number"] == mine["number"]
    assert status["ahead"] == 1
    assert status["seq"] == hub.seq
    assert status["service"]["code"] == "ktp"
    assert "services" not in status and "counters" not in status  # not the hall's snapshot


@pytest.mark.parametrize(
    "bad",
    [
        {"token": "x" * 16},  # someone else's guess
        {"number": "A999"},  # never issued
        {"day": "kemarin"},
        {"extra": 1},
    ],
)
def test_a_wrong_token_or_ticket_is_refused_at_connect(app, hub, socket_client, feed, bad):
    ticket = hub.issue("ktp")["result"]["ticket"]
    phone = socket_client("/visitor", {**auth(app, ticket), **bad})
    assert not phone.is_connected("/visitor")
    assert feed.phones == {} and not feed.followers


def test_a_real_phone_is_told_why_it_was_refused(live_server):
    """Over a real connection the refusal carries its code (connect_error), at once."""
    import socketio

    ticket = live_server.issue("ktp")
    codes = []
    for bad in ({"token": "x" * 16}, {"number": 5}, {"token": ""}):
        phone = socketio.Client(reconnection=False)
        errors: list = []
        phone.on("connect_error", errors.append, namespace="/visitor")
        wanted = {"day": ticket["day"], "number": ticket["number"], **bad}
        with pytest.raises(socketio.exceptions.ConnectionError):
            phone.connect(live_server.url, namespaces=["/visitor"], auth=wanted,
                          transports=["websocket"], wait_timeout=10)  # fmt: skip
        codes.append(errors[0]["data"]["error"] if errors else None)
    assert codes == ["unknown-ticket", "bad-request", "bad-request"]


def test_a_typed_in_number_hears_only_its_calls(app, hub, socket_client, feed):
    """No token: the page of a typed-in number learns what the TV shows, nothing more."""
    feed.interval = timedelta(0)
    ticket = hub.issue("ktp")["result"]["ticket"]
    hub.issue("ktp")
    phone = socket_client("/visitor", {"day": ticket["day"], "number": ticket["number"]})
    [(name, status)] = received(phone)
    assert name == "ticket_status"
    assert status["called"] is False and "ahead" not in status and "service" not in status
    hub.command(1, "call_next", {}, "c1")
    hub.command(1, "finish", {}, "c2")
    hub.command(1, "call_next", {}, "c3")  # the next number: not this page's business
    [(name, called)] = received(phone)
    assert (name, sorted(called)) == ("ticket_called", ["at", "call", "event", "seq"])
    assert called["call"]["ticket"]["number"] == ticket["number"]
    assert called["call"]["counter"]["name"] == "Gerai 1"


def test_a_ticket_of_an_ended_day_is_refused(app, hub, clock, socket_client):
    ticket = hub.issue("ktp")["result"]["ticket"]
    clock.advance(days=1)
    hub.tick()
    phone = socket_client("/visitor", auth(app, ticket))
    assert not phone.is_connected("/visitor")


def test_phones_get_only_their_own_calls_and_their_own_services_summary(
    app, hub, clock, socket_client
):
    first = hub.issue("ktp")["result"]["ticket"]
    second = hub.issue("ktp")["result"]["ticket"]
    other = hub.issue("paspor")["result"]["ticket"]
    phones = [socket_client("/visitor", auth(app, t)) for t in (first, second, other)]
    for phone in phones:
        phone.get_received("/visitor")  # the status
    clock.advance(seconds=10)  # the summaries sent as the tickets were taken are old now
    hub.command(1, "call_next", {}, "c1")  # first, at Gerai 1
    hub.command(2, "call_next", {}, "c2")  # second, at Gerai 2
    one, two, three = (received(p) for p in phones)

    assert calls(one) == [first["number"]]
    [call] = [m for name, m in one if name == "ticket_called"]
    assert call["call"]["counter"]["name"] == "Gerai 1"
    assert "username" not in str(call)  # the public payload, as on /display
    assert calls(two) == [second["number"]]
    assert calls(three) == []
    assert {m["service"] for name, m in one + two + three if name == "queue_moved"} <= {"ktp"}
    assert "queue_moved" not in names(three)  # paspor did not move
    # The phones of ktp saw ktp's queue move; the first summary went out at once.
    summaries = [m for name, m in one if name == "queue_moved"]
    assert summaries and summaries[0]["service"] == "ktp"
    assert second["number"] in queue_moved.expand(summaries[0]["queue"])

    hub.command(3, "call_next", {}, "c3")  # paspor moves: only its phone hears of it
    three = received(phones[2])
    assert calls(three) == [other["number"]]
    assert [m["service"] for name, m in three if name == "queue_moved"] == ["paspor"]
    assert received(phones[0]) == [] and received(phones[1]) == []


def test_summaries_are_coalesced_and_the_last_state_arrives(app, hub, clock, socket_client, feed):
    feed.interval = timedelta(seconds=5)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(4)]
    clock.advance(seconds=10)
    phone = socket_client("/visitor", auth(app, tickets[-1]))
    phone.get_received("/visitor")
    hub.command(1, "call_next", {}, "c1")  # ahead: 2 now, sent at once
    hub.command(2, "call_next", {}, "c2")  # ahead: 1, within the 5 s: held back
    hub.command(1, "call_next", {}, "c3")  # ahead: 0, held back too
    summaries = [m for name, m in received(phone) if name == "queue_moved"]
    assert [s["queue"] for s in summaries] == [["A002..A004"]]  # compacted: one run
    assert queue_moved.expand(summaries[0]["queue"]) == [t["number"] for t in tickets[1:]]
    assert feed.wake_at == clock() + timedelta(seconds=5)

    feed.flush()  # the timer, too early: still nothing
    assert [name for name, _ in received(phone)] == []
    clock.advance(seconds=5)
    feed.flush()  # the timer at the interval's end: the state of now, not of the presses
    [(name, last)] = received(phone)
    assert name == "queue_moved"
    assert last["queue"] == [tickets[-1]["number"]]
    assert last["waiting"] == 1
    assert last["seq"] == hub.seq


def test_a_transferred_phone_follows_its_new_queue(app, hub, socket_client, feed):
    ticket = hub.issue("ktp")["result"]["ticket"]
    first = hub.issue("paspor")["result"]["ticket"]
    feed.interval = timedelta(0)  # every move is sent: this test is about the rooms
    phone = socket_client("/visitor", auth(app, ticket))
    phone.get_received("/visitor")
    hub.command(1, "call_next", {}, "c1")
    hub.command(1, "transfer", {"service": "paspor"}, "c2")
    messages = received(phone)
    assert "ticket_transferred" in names(messages)
    paspor = [m for name, m in messages if name == "queue_moved" and m["service"] == "paspor"]
    assert paspor[-1]["queue"] == [ticket["number"], first["number"]]  # it keeps its place
    hub.issue("ktp")  # its old queue moves: no longer its business
    hub.issue("paspor")
    summaries = [m for name, m in received(phone) if name == "queue_moved"]
    assert [m["service"] for m in summaries] == ["paspor"]


def test_a_phone_that_reconnects_after_missing_its_call_gets_the_right_state(
    app, hub, socket_client
):
    ticket = hub.issue("kk")["result"]["ticket"]
    phone = socket_client("/visitor", auth(app, ticket))
    phone.get_received("/visitor")
    phone.disconnect("/visitor")
    hub.command(1, "call_next", {}, "c1")  # missed: the phone was away
    phone.connect("/visitor", auth=auth(app, ticket))
    [(name, status)] = received(phone)
    assert name == "ticket_status"
    assert status["ticket"]["status"] == "called"
    assert status["call"]["counter"]["name"] == "Gerai 1"
    assert status["seq"] == hub.seq


def test_get_status_answers_and_sends_the_status(app, hub, socket_client):
    ticket = hub.issue("ktp")["result"]["ticket"]
    phone = socket_client("/visitor", auth(app, ticket))
    phone.get_received("/visitor")
    assert phone.emit("get_status", namespace="/visitor", callback=True) == {
        "ok": True,
        "seq": hub.seq,
    }
    assert names(received(phone)) == ["ticket_status"]
    assert phone.emit("get_status", {"x": 1}, namespace="/visitor", callback=True)["error"] == (
        "bad-request"
    )
    assert phone.emit("shout", namespace="/visitor", callback=True)["error"] == "unknown-command"


def test_day_roll_and_hall_changes_reach_every_phone(app, hub, clock, socket_client):
    ktp = hub.issue("ktp")["result"]["ticket"]
    paspor = hub.issue("paspor")["result"]["ticket"]
    phones = [socket_client("/visitor", auth(app, t)) for t in (ktp, paspor)]
    for phone in phones:
        phone.get_received("/visitor")
    hub.change_hall("settings", lambda s: s.save_setting("hall.running_text", "Halo"))
    clock.advance(days=1)
    hub.tick()
    for phone, ticket in zip(phones, (ktp, paspor)):
        messages = received(phone)
        assert "hall_changed" in names(messages)
        assert "day_closed" in names(messages)
        expired = [m for name, m in messages if name == "ticket_expired"]
        assert [m["ticket"]["number"] for m in expired] == [ticket["number"]]


def test_the_hall_stream_on_display_is_unchanged(app, hub, socket_client):
    """TVs and monitors still get every event; a phone is not a display."""
    ticket = hub.issue("ktp")["result"]["ticket"]
    tv = socket_client("/display", {"display": "lobby"})
    tv.get_received("/display")
    phone = socket_client("/visitor", auth(app, ticket))
    hub.issue("paspor")
    hub.command(3, "call_next", {}, "c1")
    assert [m["name"] for m in tv.get_received("/display")][:2] == [
        "ticket_issued",
        "ticket_called",
    ]
    assert "ticket_called" not in names(received(phone))


def test_a_press_costs_no_emit_per_phone_of_another_service(app, hub, socket_client, feed):
    """The cost: a call reaches its own phone and one summary per moved service."""
    feed.interval = timedelta(0)
    paspor = [hub.issue("paspor")["result"]["ticket"] for _ in range(5)]
    for ticket in paspor:
        socket_client("/visitor", auth(app, ticket))
    hub.issue("ktp")
    before = feed.sent
    hub.command(1, "call_next", {}, "c1")  # ktp: no phone follows it
    assert feed.sent - before == 1  # the ktp summary, to an empty room; nothing per paspor phone
    before = feed.sent
    hub.command(3, "call_next", {}, "c2")
    assert feed.sent - before == 2  # the call to its one phone, one paspor summary


def test_a_counter_break_moves_the_estimate_of_its_services(app, hub, clock, socket_client, feed):
    feed.interval = timedelta(0)
    for i in range(3):  # history: counter 1 serves ktp, 4 minutes each; counter 2 serves it too
        hub.issue("ktp")
        hub.command(1, "call_next", {}, f"k{i}-call")
        clock.advance(minutes=4)
        hub.command(1, "finish", {}, f"k{i}-finish")
    ticket = hub.issue("ktp")["result"]["ticket"]
    app.extensions.pop("panggil_service_times", None)  # the 15 s cache
    hub.issue("ktp")
    phone = socket_client("/visitor", auth(app, ticket))
    phone.get_received("/visitor")
    clock.advance(seconds=10)
    hub.command(2, "pause", {"reason": "istirahat"}, "b1")  # one of its two counters
    summaries = [m for name, m in received(phone) if name == "queue_moved"]
    assert [m["service"] for m in summaries] == ["ktp"]
    assert summaries[0]["seconds_per_place"] == 240  # 4 minutes shared by one counter now


@pytest.mark.parametrize(
    ("ahead", "minutes", "counters"),
    [(4, [5, 5, 5], 1), (4, [5, 5, 5], 2), (0, [6, 6, 6], 1), (0, [0.5] * 3, 3), (2, [4, 5, 90], 1),
     (3, [5, 5], 1), (3, [5, 5, 5], 0), (17, [3, 7, 4, 9], 4)],
)  # fmt: skip
def test_the_phones_estimate_from_the_summary_is_the_servers(ahead, minutes, counters):
    """visitor.js: max(1, ceil((ahead + 0.5) * seconds_per_place / 60)), as server/estimate.py."""
    import math

    from server.estimate import estimate_wait_minutes, seconds_per_place

    times = [m * 60 for m in minutes]
    rate = seconds_per_place(times, counters)
    phone = None if rate is None else max(1, math.ceil((ahead + 0.5) * rate / 60))
    assert phone == estimate_wait_minutes(ahead, times, counters)


def test_the_summary_carries_the_rate_once_there_is_history(app, hub, clock, socket_client, feed):
    feed.interval = timedelta(0)
    for i in range(3):  # counter 3 alone serves paspor: 4 minutes each
        hub.issue("paspor")
        hub.command(3, "call_next", {}, f"p{i}-call")
        clock.advance(minutes=4)
        hub.command(3, "finish", {}, f"p{i}-finish")
    mine = hub.issue("paspor")["result"]["ticket"]
    hub.issue("paspor")
    phone = socket_client("/visitor", auth(app, mine))
    phone.get_received("/visitor")
    app.extensions.pop("panggil_service_times", None)  # the 15 s cache
    hub.issue("paspor")
    [summary] = [m for name, m in received(phone) if name == "queue_moved"]
    assert summary["seconds_per_place"] == 240
    assert queue_moved.ahead(summary["queue"], mine["number"]) == 0


def test_past_the_phone_limit_phones_are_refused_and_devices_are_not(app, hub, socket_client, feed):
    feed.most_phones = 1  # server.max_connections minus server.device_reserve
    first, second = (hub.issue("ktp")["result"]["ticket"] for _ in range(2))
    assert socket_client("/visitor", auth(app, first)).is_connected("/visitor")
    assert not socket_client("/visitor", auth(app, second)).is_connected("/visitor")
    assert len(feed.phones) == 1
    counter = socket_client("/counter", {"counter": 1, "token": "token-counter-1"})
    tv = socket_client("/display", {"display": "lobby"})
    assert counter.is_connected("/counter") and tv.is_connected("/display")


def test_the_limits_come_from_the_config(tmp_path, clock):
    from conftest import hall_config

    from server.app import create_app
    from server.config import parse_config

    raw = hall_config(tmp_path, server={"max_connections": 300, "device_reserve": 120})
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    try:
        assert app.extensions["panggil_visitors"].most_phones == 180
    finally:
        app.extensions["panggil"].storage.close()


def test_a_summary_that_tells_nothing_new_is_not_sent(app, hub, clock, socket_client, feed):
    """A finish or a second break changes no queue a phone sees: no summary to every phone."""
    feed.interval = timedelta(0)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(3)]
    phone = socket_client("/visitor", auth(app, tickets[-1]))
    phone.get_received("/visitor")
    hub.command(1, "call_next", {}, "c1")
    assert names(received(phone)) == ["queue_moved"]
    clock.advance(seconds=30)
    hub.command(1, "finish", {}, "f1")  # the one served leaves: the waiting queue is the same
    assert received(phone) == []
    hub.command(1, "call_next", {}, "c2")  # the queue moves again: sent
    [(name, summary)] = received(phone)
    assert name == "queue_moved" and summary["queue"] == [tickets[-1]["number"]]


def test_the_screens_hear_a_press_before_the_phones_summaries(app, hub, socket_client, feed,
                                                              monkeypatch):  # fmt: skip
    """The summaries go out from a task of their own, after every event of the press reached
    the TVs and consoles: a press that finishes one ticket and calls the next is not held
    behind a summary to every phone of the service between its two events."""
    from server.extensions import socketio

    feed.interval = timedelta(0)
    feed.timers = True
    order: list[tuple[str, str]] = []
    emit = socketio.emit

    def spy(name, *args, **kwargs):
        if name == "events":  # one change's events in one frame to the TVs
            order.extend((m["event"], kwargs.get("namespace")) for m in args[0]["events"])
        else:
            order.append((name, kwargs.get("namespace")))
        return emit(name, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", spy)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(3)]
    socket_client("/visitor", auth(app, tickets[-1]))

    def press(request_id: str) -> None:
        sent = feed.sent
        hub.command(1, "call_next", {}, request_id)
        deadline = time.monotonic() + 10
        while (feed.sent == sent or feed.flushing) and time.monotonic() < deadline:
            time.sleep(0.01)  # until this press's summary task has run

    press("c1")
    del order[:]
    press("c2")  # finishes tickets[0], calls tickets[1]
    events = [name for name, namespace in order if namespace in ("/display", "/visitor")]
    assert events.count("queue_moved") == 1
    assert events.index("queue_moved") > events.index("ticket_called")
    assert events.index("ticket_finished") < events.index("ticket_called")
