"""The Socket.IO protocol through Flask-SocketIO's test client (threading mode, fake clock)."""

from __future__ import annotations

import pytest

from server import protocol
from server.protocol import NS_COUNTER, NS_DISPLAY
from tests.conftest import TOKENS


def events_named(sc, name, namespace):
    return [m["args"][0] for m in sc.get_received(namespace) if m["name"] == name]


def counter(socket_client, number=1):
    return socket_client(NS_COUNTER, {"counter": number, "token": TOKENS[number]})


def test_display_gets_snapshot_on_connect(socket_client, hub):
    hub.issue("ktp")
    display = socket_client(NS_DISPLAY, {"display": "lobby"})
    received = display.get_received(NS_DISPLAY)
    assert [m["name"] for m in received] == [protocol.SNAPSHOT]
    snap = received[0]["args"][0]
    assert snap["seq"] == hub.seq == 1
    assert snap["hall"]["name"] == "MPP Uji"
    ktp = next(s for s in snap["services"] if s["code"] == "ktp")
    assert ktp["waiting"] == 1
    assert [c["number"] for c in snap["counters"]] == [1, 2, 3]
    assert next(iter(hub.displays.values()))["name"] == "lobby"


def test_call_next_reaches_display_with_whole_call(socket_client, hub):
    display = socket_client(NS_DISPLAY)
    officer = counter(socket_client)
    hub.issue("ktp")
    display.get_received(NS_DISPLAY)
    ack = officer.emit(
        protocol.CALL_NEXT, {"request_id": "press-1"}, namespace=NS_COUNTER, callback=True
    )
    assert ack["ok"] is True
    call = ack["result"]["call"]
    assert call["ticket"]["number"] == "A001"
    assert call["counter"] == {"number": 1, "name": "Gerai 1", "spoken_name": "gerai satu"}
    assert call["kind"] == "call" and call["call_id"] == "2026-11-26/A001#1"
    called = events_named(display, protocol.TICKET_CALLED, NS_DISPLAY)
    assert len(called) == 1
    assert called[0]["seq"] == ack["seq"] == 2
    assert called[0]["call"]["call_id"] == call["call_id"]
    assert called[0]["call"]["announcement"]["text"]
    assert called[0]["counter"]["current"]["number"] == "A001"
    assert called[0]["waiting"] == {"ktp": 0}


def test_retried_press_is_applied_once(socket_client, hub):
    officer = counter(socket_client)
    hub.issue("ktp")
    hub.issue("ktp")
    first = officer.emit(
        protocol.CALL_NEXT, {"request_id": "same"}, namespace=NS_COUNTER, callback=True
    )
    again = officer.emit(
        protocol.CALL_NEXT, {"request_id": "same"}, namespace=NS_COUNTER, callback=True
    )
    assert again["replayed"] is True
    assert again["result"]["ticket"]["number"] == first["result"]["ticket"]["number"] == "A001"
    assert hub.hall.find("A002").status == "waiting"
    reused = officer.emit(
        protocol.SKIP, {"request_id": "same"}, namespace=NS_COUNTER, callback=True
    )
    assert reused["error"] == "request-id-reused"


@pytest.mark.parametrize("command", [protocol.CALL_NEXT, protocol.RECALL])
def test_a_retried_call_gets_the_first_answer_again_in_full(socket_client, hub, command):
    """The replay carries the call's announcement too, exactly as the first answer had it."""
    officer = counter(socket_client)
    hub.issue("ktp")
    if command == protocol.RECALL:
        hub.command(1, protocol.CALL_NEXT, {}, "before")
    first = officer.emit(command, {"request_id": "twice"}, namespace=NS_COUNTER, callback=True)
    again = officer.emit(command, {"request_id": "twice"}, namespace=NS_COUNTER, callback=True)
    assert first["ok"] is True and first["result"]["call"]["announcement"]["text"]
    assert again.pop("replayed") is True
    assert again == first


@pytest.mark.parametrize(
    "auth, code",
    [
        (None, "invalid-token"),
        ({"counter": 1}, "invalid-token"),
        ({"counter": 1, "token": "wrong-token"}, "invalid-token"),
        ({"counter": 99, "token": "token-counter-1"}, "unknown-counter"),
        ({"counter": "satu", "token": "token-counter-1"}, "unknown-counter"),
        ({"counter": 2, "token": "token-counter-1"}, "invalid-token"),
    ],
)
def test_counter_connection_refused(socket_client, auth, code):
    from socketio.exceptions import ConnectionError as SocketConnectionError

    try:
        sc = socket_client(NS_COUNTER, auth)
    except SocketConnectionError as exc:
        assert code in str(exc)
    else:
        assert not sc.is_connected(NS_COUNTER)


@pytest.mark.parametrize(
    "command, data, code",
    [
        (protocol.CALL_NEXT, None, "bad-request"),
        (protocol.CALL_NEXT, "next", "bad-request"),
        (protocol.CALL_NEXT, {}, "bad-request"),
        (protocol.CALL_NEXT, {"request_id": ""}, "bad-request"),
        (protocol.CALL_NEXT, {"request_id": 5}, "bad-request"),
        (protocol.CALL_NEXT, {"request_id": "x" * 65}, "bad-request"),
        (protocol.CALL_NEXT, {"request_id": "ok-1"}, "no-waiting-tickets"),
        (protocol.RECALL, {"request_id": "ok-2"}, "no-current-ticket"),
        (protocol.TRANSFER, {"request_id": "ok-3"}, "bad-request"),
        (protocol.TRANSFER, {"request_id": "ok-4", "service": 7}, "bad-request"),
        (protocol.CALL_TICKET, {"request_id": "ok-5", "number": "Z999"}, "unknown-ticket"),
    ],
)
def test_bad_commands_are_refused_and_change_nothing(socket_client, hub, command, data, code):
    officer = counter(socket_client)
    before = (hub.seq, hub.hall)
    ack = officer.emit(command, data, namespace=NS_COUNTER, callback=True)
    assert ack == {"ok": False, "error": code, "message": ack["message"]}
    assert ack["message"]
    assert (hub.seq, hub.hall) == before


def test_calling_a_ticket_that_was_served_cancelled_or_expired_is_not_callable(socket_client, hub):
    """Such a ticket exists: the answer says it cannot be called, not that it is unknown."""
    officer = counter(socket_client)
    for _ in range(3):
        hub.issue("ktp")
    hub.command(1, protocol.CALL_NEXT, {}, "r1")
    hub.command(1, protocol.FINISH, {}, "r2")  # A001 done
    hub.cancel("A002")
    hub.close_day()  # A003 expired, the date goes on
    before = (hub.seq, hub.hall)
    for n, number in enumerate(["A001", "A002", "a003", "A004"]):
        ack = officer.emit(
            protocol.CALL_TICKET,
            {"request_id": f"by-number-{n}", "number": number},
            namespace=NS_COUNTER,
            callback=True,
        )
        code = "unknown-ticket" if number == "A004" else "ticket-not-callable"
        assert (ack["ok"], ack["error"]) == (False, code), number
    assert (hub.seq, hub.hall) == before


def test_display_cannot_send_commands(socket_client, hub):
    display = socket_client(NS_DISPLAY)
    hub.issue("ktp")
    display.emit(protocol.CALL_NEXT, {"request_id": "sneaky"}, namespace=NS_DISPLAY)
    assert hub.hall.find("A001").status == "waiting"


def test_get_snapshot_is_sent_as_event_in_order(socket_client, hub):
    display = socket_client(NS_DISPLAY)
    display.get_received(NS_DISPLAY)
    hub.issue("ktp")
    ack = display.emit(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY, callback=True)
    received = display.get_received(NS_DISPLAY)
    assert [m["name"] for m in received] == [protocol.TICKET_ISSUED, protocol.SNAPSHOT]
    assert ack == {"ok": True, "seq": received[1]["args"][0]["seq"]}


def test_seq_is_contiguous_across_every_broadcast(socket_client, hub, clock):
    display = socket_client(NS_DISPLAY)
    officer = counter(socket_client)
    display.get_received(NS_DISPLAY)
    for _ in range(3):
        hub.issue("ktp")
    for i, command in enumerate([protocol.CALL_NEXT, protocol.RECALL, protocol.SKIP, protocol.CALL_NEXT,
                                 protocol.CALL_NEXT]):  # fmt: skip
        officer.emit(command, {"request_id": f"r{i}"}, namespace=NS_COUNTER, callback=True)
    clock.advance(days=1)
    hub.tick()
    seqs = [
        m["args"][0]["seq"]
        for m in display.get_received(NS_DISPLAY)
        if m["name"] != "announcement_ready"
    ]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert seqs[-1] == hub.seq


def test_counter_snapshot_has_me_and_skipped(socket_client, hub):
    hub.issue("ktp")
    officer = counter(socket_client)
    officer.emit(protocol.CALL_NEXT, {"request_id": "a"}, namespace=NS_COUNTER, callback=True)
    officer.emit(protocol.SKIP, {"request_id": "b"}, namespace=NS_COUNTER, callback=True)
    officer.get_received(NS_COUNTER)
    officer.emit(protocol.GET_SNAPSHOT, namespace=NS_COUNTER, callback=True)
    snap = events_named(officer, protocol.SNAPSHOT, NS_COUNTER)[0]
    assert snap["me"]["number"] == 1
    assert [t["number"] for t in snap["skipped"]] == ["A001"]


def test_named_display_gets_its_zone_from_the_admin(socket_client, hub):
    hub.write(
        lambda s: s.db.execute(
            "INSERT INTO displays (name, counters, services) VALUES ('lantai-2', '[3]', '[\"paspor\"]')"
        )
    )
    zoned = socket_client(NS_DISPLAY, {"display": "lantai-2"})
    snap = events_named(zoned, protocol.SNAPSHOT, NS_DISPLAY)[0]
    assert snap["display"] == {"name": "lantai-2", "counters": [3], "services": ["paspor"]}
    other = socket_client(NS_DISPLAY, {"display": "lobby"})
    assert events_named(other, protocol.SNAPSHOT, NS_DISPLAY)[0]["display"]["counters"] is None


def test_voice_is_prepared_only_for_staffed_counters(socket_client, hub, monkeypatch):
    prepared = []
    monkeypatch.setattr(hub.announcer, "prepare", prepared.extend)
    hub.issue("ktp")
    assert prepared == []  # nobody at a counter yet
    counter(socket_client, 2)  # the ticket taken before: prepared at the counter that came
    assert prepared == ["Nomor antrean A satu, silakan ke gerai dua."]
    hub.issue("ktp")
    assert prepared[1:] == ["Nomor antrean A dua, silakan ke gerai dua."]


def test_a_counter_gets_its_next_tickets_prepared_as_it_comes_and_calls(
    socket_client, hub, monkeypatch
):
    """The queue that formed before the counters opened: each counter's next PREPARE_AHEAD
    tickets (its services only, priority first) when it connects, and again after each call."""
    from server.hub import PREPARE_AHEAD

    prepared = []
    monkeypatch.setattr(hub.announcer, "prepare", prepared.extend)
    for _ in range(PREPARE_AHEAD + 2):
        hub.issue("ktp")
    hub.issue("paspor")  # not a service of counter 1
    hub.issue("ktp", "elderly")  # a priority ticket is called first
    officer = counter(socket_client, 1)
    numbers = [text.split(",")[0].removeprefix("Nomor antrean ") for text in prepared]
    assert len(prepared) == PREPARE_AHEAD and all("gerai satu" in t for t in prepared)
    assert numbers[:3] == ["A sebelas", "A satu", "A dua"], numbers
    prepared.clear()
    ack = officer.emit("call_next", {"request_id": "p-1"}, namespace=NS_COUNTER, callback=True)
    assert ack["ok"] and ack["result"]["ticket"]["number"] == "A011"
    calls = [t for t in prepared if t.startswith("Nomor antrean")]  # not the call's recall
    assert len(calls) == PREPARE_AHEAD and calls[0].startswith("Nomor antrean A satu,"), prepared
    assert not any("A sebelas," in t for t in calls)  # called: no longer waiting


def test_snapshot_carries_audio_that_became_ready_later(socket_client, hub):
    from server.hub import PlainAnnouncer

    class Pending(PlainAnnouncer):
        """A voice still making the clip: no background job that could finish first and race
        the ready message this test sends (the real voice is tested in test_voice/test_tts)."""

        def announce(self, call: dict) -> dict:
            return {"text": "t", "audio_url": None, "status": "pending"}

    hub.announcer = Pending()
    hub.issue("ktp")
    call = hub.command(1, "call_next", {}, "a")["result"]["call"]
    assert hub.snapshot()["recent_calls"][0]["announcement"]["status"] == "pending"
    hub.announcement_ready(
        {"call_id": call["call_id"], "audio_url": "/api/audio/x.wav", "text": "t"}
    )
    latest = hub.snapshot()["recent_calls"][0]["announcement"]
    assert latest["audio_url"] == "/api/audio/x.wav" and latest["status"] == "ready"


def test_one_change_reaches_the_tvs_in_one_frame_and_the_counters_event_by_event(
    socket_client, hub
):
    """A call_next that finishes the ticket being served makes two events: each TV gets them in
    one `events` frame, in seq order (half the frames of a hall's TVs); consoles get two."""
    display = socket_client(NS_DISPLAY)
    officer = counter(socket_client)
    for _ in range(2):
        hub.issue("ktp")
    officer.emit(protocol.CALL_NEXT, {"request_id": "p1"}, namespace=NS_COUNTER, callback=True)
    display.get_frames(NS_DISPLAY)
    officer.get_received(NS_COUNTER)
    ack = officer.emit(
        protocol.CALL_NEXT, {"request_id": "p2"}, namespace=NS_COUNTER, callback=True
    )
    frames = [m for m in display.get_frames(NS_DISPLAY) if m["name"] != "announcement_ready"]
    assert [m["name"] for m in frames] == [protocol.EVENTS]
    batch = frames[0]["args"][0]["events"]
    assert [(m["event"], m["seq"]) for m in batch] == [
        (protocol.TICKET_FINISHED, ack["seq"] - 1),
        (protocol.TICKET_CALLED, ack["seq"]),
    ]
    assert batch[0]["ticket"]["number"] == "A001" and batch[1]["ticket"]["number"] == "A002"
    at_counter = [
        m["name"] for m in officer.get_received(NS_COUNTER) if m["name"] != "announcement_ready"
    ]
    assert at_counter == [protocol.TICKET_FINISHED, protocol.TICKET_CALLED]
    hub.issue("ktp")  # one change, one event: sent as itself
    frames = [m["name"] for m in display.get_frames(NS_DISPLAY)]
    assert [name for name in frames if name != "announcement_ready"] == [protocol.TICKET_ISSUED]
