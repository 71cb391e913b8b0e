"""The hall's break through the server: the snapshot's hall_status, the status broadcast by the
ticker when the clock crosses a break or the opening hours, and no calls during the break.

Until the schedule's config keys land, these tests set the schedule on the live Hall.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from server import protocol
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError
from server.schedule import HallBreak, HallSchedule, weekday_hours
from tests.conftest import TOKENS, WIB

FRIDAY = datetime(2026, 11, 27, 11, 0, tzinfo=WIB)
PRAYER = HallBreak(frozenset({4}), 11 * 60 + 30, 13 * 60, "Sholat Jumat")
SCHEDULE = HallSchedule(
    hours=weekday_hours("07:30-16:00", {"sat": "", "sun": ""}), breaks=(PRAYER,)
)
AUTH = {"Authorization": f"Bearer {TOKENS[1]}"}


@pytest.fixture
def friday(hub, clock):
    """The test hall on Friday 11:00 with its Friday prayer break; the ticker has seen it."""
    clock.set(FRIDAY)
    hub.hall = dataclasses.replace(hub.hall, schedule=SCHEDULE)
    hub.tick()  # the day rolls to Friday; the status is remembered (or broadcast if it changed)
    return hub


def status_events(sc) -> list[dict]:
    return [
        m["args"][0]
        for m in sc.get_received(NS_DISPLAY)
        if m["name"] == protocol.HALL_CHANGED and m["args"][0]["what"] == "status"
    ]


def test_the_snapshot_says_the_hall_is_open_when_it_sets_no_hours(hub):
    assert hub.snapshot()["hall_status"] == {
        "state": "open",
        "reason": "open",
        "label": None,
        "until": None,
    }


@pytest.mark.parametrize(
    "at, status",
    [
        ("2026-11-27T11:00", ("open", "open", None, "2026-11-27T11:30:00+07:00")),
        ("2026-11-27T11:30", ("break", "hall-break", "Sholat Jumat", "2026-11-27T13:00:00+07:00")),
        ("2026-11-27T13:00", ("open", "open", None, "2026-11-27T16:00:00+07:00")),
        ("2026-11-27T16:00", ("closed", "after-closing", None, "2026-11-30T07:30:00+07:00")),
        ("2026-11-28T10:00", ("closed", "closed-day", None, "2026-11-30T07:30:00+07:00")),
    ],
)
def test_the_snapshot_carries_the_hall_status(friday, clock, at, status):
    clock.set(datetime.fromisoformat(at).replace(tzinfo=WIB))
    got = friday.snapshot()["hall_status"]
    assert (got["state"], got["reason"], got["label"], got["until"]) == status
    assert friday.snapshot(counter=1)["hall_status"] == got


def test_the_ticker_broadcasts_each_change_of_the_hall_status_once(friday, clock, socket_client):
    display = socket_client(NS_DISPLAY)
    officer = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    display.get_received(NS_DISPLAY)
    officer.get_received(NS_COUNTER)
    seq = friday.seq
    clock.set(FRIDAY.replace(minute=29, second=55))
    friday.tick()
    assert status_events(display) == []  # still open: nothing to say

    clock.set(FRIDAY.replace(minute=30, second=3))
    friday.tick()
    [started] = status_events(display)
    assert started["seq"] == seq + 1 == friday.seq == friday.storage.last_seq()
    assert started["at"] == "2026-11-27T11:30:03+07:00"
    assert started["status"] == {
        "state": "break",
        "reason": "hall-break",
        "label": "Sholat Jumat",
        "until": "2026-11-27T13:00:00+07:00",
    }
    officer_events = [m["args"][0] for m in officer.get_received(NS_COUNTER)]
    assert [e["event"] for e in officer_events] == ["hall_changed"]
    assert friday.snapshot()["hall_status"] == started["status"]

    for minutes in (1, 30, 88):  # ticks inside the break change nothing
        clock.set(FRIDAY.replace(minute=30) + timedelta(minutes=minutes))
        friday.tick()
    assert status_events(display) == [] and friday.seq == seq + 1

    clock.set(FRIDAY.replace(hour=13, second=4))
    friday.tick()
    [ended] = status_events(display)
    assert ended["seq"] == seq + 2
    assert ended["status"]["state"] == "open"
    assert ended["status"]["until"] == "2026-11-27T16:00:00+07:00"

    clock.set(FRIDAY.replace(hour=16, second=1))
    friday.tick()
    [closed] = status_events(display)
    assert closed["status"]["state"] == "closed"
    assert closed["status"]["reason"] == "after-closing"


def test_a_start_during_the_break_remembers_the_status_without_an_event(hub, clock):
    clock.set(FRIDAY.replace(hour=12))
    hub.hall = dataclasses.replace(hub.hall, schedule=SCHEDULE)
    hub.hall_status = None  # as right after load
    seq = hub.seq
    hub.tick()
    assert hub.hall_status is not None and hub.hall_status["state"] == "break"
    assert hub.seq == seq + 1  # the day rolled to Friday (day_closed), no status event
    hub.tick()
    assert hub.seq == seq + 1


def test_no_calls_during_the_hall_break_over_the_socket_and_http(
    friday, clock, socket_client, client
):
    friday.issue("ktp")
    friday.issue("ktp")
    friday.command(1, "call_next", {}, "before")  # A001 at counter 1
    clock.set(FRIDAY.replace(hour=12))
    friday.tick()
    officer = socket_client(NS_COUNTER, {"counter": 2, "token": TOKENS[2]})
    refused = officer.emit(
        protocol.CALL_NEXT, {"request_id": "k1"}, namespace=NS_COUNTER, callback=True
    )
    assert (refused["ok"], refused["error"]) == (False, "hall-on-break")
    assert "istirahat" in refused["message"]
    seq = friday.seq
    r = client.post("/api/counters/1/recall", json={"request_id": "k2"}, headers=AUTH)
    assert (r.status_code, r.get_json()["error"]) == (409, "hall-on-break")
    with pytest.raises(PanggilError, match="hall-on-break"):
        friday.command(1, "call_ticket", {"number": "A002"}, "k3")
    assert friday.seq == seq and friday.hall.find("A002").status == "waiting"
    # The officer closes what they hold.
    assert friday.command(1, "finish", {}, "k4")["result"]["ticket"]["status"] == "done"

    clock.set(FRIDAY.replace(hour=13))
    friday.tick()
    called = officer.emit(
        protocol.CALL_NEXT, {"request_id": "k5"}, namespace=NS_COUNTER, callback=True
    )
    assert called["ok"] is True and called["result"]["ticket"]["number"] == "A002"


def test_a_hall_that_does_not_enforce_hours_follows_no_schedule(hub, clock):
    """`hall.enforce_hours: false` (the demo) gives numbers at any time; so it has no hall break
    either: calls go on and the TVs never show the break screen."""
    from server import engine

    prayer = HallSchedule(breaks=(HallBreak(frozenset({4}), 690, 780, "Sholat Jumat"),))
    hall = dataclasses.replace(hub.hall, schedule=prayer, enforce_hours=True)
    friday_noon = datetime(2026, 11, 27, 12, 0, tzinfo=WIB)
    assert engine.hall_status(hall, friday_noon).state == "break"
    relaxed = dataclasses.replace(hall, enforce_hours=False)
    assert engine.hall_status(relaxed, friday_noon).state == "open"
    issued = engine.issue_ticket(relaxed, "ktp", friday_noon).hall
    assert engine.call_next(issued, 1, friday_noon).last.kind == "called"
