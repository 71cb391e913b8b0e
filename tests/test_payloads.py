"""The protocol's objects are built from the state alone: no lock, no database, no clock."""

from __future__ import annotations

from collections import deque
from zoneinfo import ZoneInfo

from server import engine, payloads
from tests.conftest import FakeClock


def small_hall() -> engine.Hall:
    return engine.Hall(
        day="2026-11-26",
        agencies=engine.frozen_map({"dukcapil": engine.Agency("dukcapil", "Dukcapil")}),
        services=engine.frozen_map(
            {"ktp": engine.Service(code="ktp", name="KTP", agency="dukcapil", prefix="A")}
        ),
        counters=engine.frozen_map(
            {
                1: engine.Counter(
                    number=1, name="Gerai 1", spoken_name="gerai satu", services=("ktp",)
                )
            }
        ),
        enforce_hours=False,
    )


def test_issue_then_call_payloads_and_answers():
    now = FakeClock()()
    issued = engine.issue_ticket(small_hall(), "ktp", now, None)
    built = [payloads.event_payload(c, issued.hall) for c in issued.changes]
    assert built[-1]["ahead"] == 0 and built[-1]["waiting"] == {"ktp": 1}
    answer = payloads.command_response(issued, built, seq=7)
    assert answer == {"ok": True, "seq": 7, "result": {"ticket": built[-1]["ticket"], "ahead": 0}}

    called = engine.call_next(issued.hall, 1, now)
    built = [payloads.event_payload(c, called.hall) for c in called.changes]
    call = built[-1]["call"]
    assert call["call_id"] == "2026-11-26/A001#1" and call["kind"] == "call"
    assert call["counter"] == {"number": 1, "name": "Gerai 1", "spoken_name": "gerai satu"}
    assert built[-1]["counter"]["current"]["number"] == "A001"
    answer = payloads.command_response(called, built, seq=8)
    assert answer["result"]["finished"] is None and answer["result"]["call"] is call


def test_snapshot_for_a_counter_lists_its_skipped_tickets():
    now = FakeClock()()
    hall = engine.issue_ticket(small_hall(), "ktp", now, None).hall
    hall = engine.call_next(hall, 1, now).hall
    hall = engine.skip(hall, 1, now).hall
    info = payloads.hall_info({"hall.name": "MPP Uji"}, ZoneInfo("Asia/Jakarta"))
    assert info == {
        "name": "MPP Uji",
        "timezone": "Asia/Jakarta",
        "running_text": "",
        "logo_url": None,
    }
    snap = payloads.snapshot(
        hall, seq=3, now=now, info=info, recent=deque([{"n": 1}, {"n": 2}]), counter=1
    )
    assert snap["recent_calls"] == [{"n": 2}, {"n": 1}]  # newest first
    assert [t["number"] for t in snap["skipped"]] == ["A001"]
    assert snap["me"]["number"] == 1 and snap["services"][0]["waiting"] == 0
    assert "me" not in payloads.snapshot(hall, seq=3, now=now, info=info, recent=[])
    detail = payloads.services_detail(hall, now)
    assert detail[0]["issued_today"] == 1 and detail[0]["open_now"] is True


def test_the_snapshot_lists_active_counters_only():
    """A deactivated counter is no tile on a TV: the snapshot every screen draws leaves it out."""
    hall = small_hall()
    closed = engine.Counter(number=2, name="Gerai 2", spoken_name="gerai dua", services=("ktp",),
                            active=False)  # fmt: skip
    hall = engine.replace(hall, counters=engine.frozen_map({**hall.counters, 2: closed}))
    info = payloads.hall_info({}, ZoneInfo("Asia/Jakarta"))
    snap = payloads.snapshot(hall, seq=0, now=FakeClock()(), info=info, recent=[])
    assert [c["number"] for c in snap["counters"]] == [1]
