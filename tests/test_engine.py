"""The pure queue rules: tables of transitions, and illegal ones leave the state as it was."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

import pytest

from server import engine, schedule
from server.engine import Agency, Counter, Hall, Service
from server.protocol import PanggilError

WIB = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=WIB)  # a Thursday


def make_hall(**overrides) -> Hall:
    weekday = engine.weekday_hours("07:30-12:00,13:00-16:00", {"fri": "07:30-11:30", "sun": ""})
    services = {
        "ktp": Service("ktp", "KTP", "dukcapil", "A", hours=weekday),
        "kk": Service("kk", "KK", "dukcapil", "B", daily_quota=2),
        "paspor": Service("paspor", "Paspor", "imigrasi", "C", priority_allowed=False),
        "tutup": Service("tutup", "Tutup", "imigrasi", "D", active=False),
    }
    counters = {
        1: Counter(1, "Gerai 1", "gerai satu", ("ktp", "kk")),
        2: Counter(2, "Gerai 2", "gerai dua", ("ktp", "kk")),
        3: Counter(3, "Gerai 3", "gerai tiga", ("paspor",)),
        4: Counter(4, "Gerai 4", "gerai empat", ("tutup",)),
        5: Counter(5, "Gerai 5", "gerai lima", ("ktp",), active=False),
    }
    hall = Hall(
        day="2026-11-26",
        agencies=engine.frozen_map(
            {"dukcapil": Agency("dukcapil", "Dukcapil"), "imigrasi": Agency("imigrasi", "Imigrasi")}
        ),
        services=engine.frozen_map(services),
        counters=engine.frozen_map(counters),
    )
    return engine.replace(hall, **overrides) if overrides else hall


def contents(hall: Hall) -> dict:
    """Every field of a Hall with its mappings copied, to compare before and after."""
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in hall.__dict__.items()}


def assert_refused(hall: Hall, step, code: str) -> None:
    """`step(hall)` raises `code` and leaves every field of the hall as it was."""
    before = contents(hall)
    with pytest.raises(PanggilError) as err:
        step(hall)
    assert err.value.code == code
    assert contents(hall) == before


def issue(hall, service="ktp", priority=None, at=NOW):
    return engine.issue_ticket(hall, service, at, priority).hall


def numbers(outcome):
    return [(c.kind, c.ticket.number) for c in outcome.changes]


def test_numbers_per_prefix_per_day():
    hall = make_hall()
    for service in ("ktp", "ktp", "kk", "ktp"):
        hall = issue(hall, service)
    assert sorted(t.number for t in hall.tickets.values()) == ["A001", "A002", "A003", "B001"]
    assert hall.find("A003").id == "2026-11-26/A003"


def test_number_grows_past_999():
    hall = make_hall(last_seq=engine.frozen_map({"A": 999}))
    assert engine.issue_ticket(hall, "ktp", NOW).last.ticket.number == "A1000"


def test_call_next_is_first_come_first_served_across_services():
    hall = issue(issue(issue(make_hall(), "kk"), "ktp"), "kk")
    out = engine.call_next(hall, 1, NOW)
    assert numbers(out) == [("called", "B001")]
    assert out.hall.current(1).number == "B001"


def test_priority_tickets_go_first():
    hall = issue(issue(issue(make_hall()), "ktp", "elderly"), "kk", "pregnant")
    order = []
    for _ in range(3):
        out = engine.call_next(hall, 1, NOW)
        hall = out.hall
        order.append(out.last.ticket.number)
    assert order == ["A002", "B001", "A001"]


def test_next_finishes_the_held_ticket_first():
    hall = engine.call_next(issue(issue(make_hall())), 1, NOW).hall
    out = engine.call_next(hall, 1, NOW + timedelta(minutes=5))
    assert numbers(out) == [("finished", "A001"), ("called", "A002")]
    assert out.changes[0].ticket.status == "done"
    assert out.hall.served[1] == 1
    assert "2026-11-26/A001" not in out.hall.tickets


def test_two_counters_never_get_the_same_ticket():
    hall = issue(issue(make_hall()))
    first = engine.call_next(hall, 1, NOW)
    second = engine.call_next(first.hall, 2, NOW)
    assert first.last.ticket.number != second.last.ticket.number


@pytest.mark.parametrize(
    "step, code",
    [
        (lambda h: engine.call_next(h, 1, NOW), "no-waiting-tickets"),
        (lambda h: engine.call_next(h, 99, NOW), "unknown-counter"),
        (lambda h: engine.call_next(h, 5, NOW), "unknown-counter"),  # inactive counter
        (lambda h: engine.call_next(h, 4, NOW), "service-closed"),
        (lambda h: engine.recall(h, 1, NOW), "no-current-ticket"),
        (lambda h: engine.skip(h, 1, NOW), "no-current-ticket"),
        (lambda h: engine.finish(h, 1, NOW), "no-current-ticket"),
        (lambda h: engine.transfer(h, 1, "paspor", NOW), "no-current-ticket"),
        (lambda h: engine.call_ticket(h, 1, "A999", NOW), "unknown-ticket"),
        (lambda h: engine.issue_ticket(h, "nope", NOW), "unknown-service"),
        (lambda h: engine.issue_ticket(h, "tutup", NOW), "service-closed"),
        (lambda h: engine.issue_ticket(h, "ktp", NOW.replace(hour=12, minute=30)), "outside-hours"),
        (lambda h: engine.issue_ticket(h, "ktp", NOW.replace(hour=7, minute=29)), "outside-hours"),
        (lambda h: engine.issue_ticket(h, "ktp", NOW.replace(hour=16, minute=0)), "outside-hours"),
        (
            lambda h: engine.issue_ticket(h, "ktp", NOW.replace(day=27, hour=11, minute=45)),
            "outside-hours",
        ),  # Friday
        (lambda h: engine.issue_ticket(h, "ktp", NOW.replace(day=29)), "outside-hours"),  # Sunday
        (lambda h: engine.issue_ticket(h, "paspor", NOW, "elderly"), "priority-not-allowed"),
        (lambda h: engine.issue_ticket(h, "ktp", NOW, "vip"), "bad-request"),
        (lambda h: engine.cancel_ticket(h, "A404", NOW), "unknown-ticket"),
    ],
)
def test_illegal_transitions_raise_and_leave_state_untouched(step, code):
    hall = make_hall()
    assert_refused(hall, step, code)


def held_hall():
    """Counter 1 holds A001; A002 waits; C001 waits for paspor."""
    hall = issue(issue(issue(make_hall()), "paspor"))
    return engine.call_next(hall, 1, NOW).hall


@pytest.mark.parametrize(
    "step, code",
    [
        (lambda h: engine.call_ticket(h, 1, "A001", NOW), "ticket-not-callable"),  # already called
        (lambda h: engine.call_ticket(h, 1, "C001", NOW), "service-not-served"),
        (lambda h: engine.transfer(h, 1, "ktp", NOW), "same-service"),
        (lambda h: engine.transfer(h, 1, "nope", NOW), "unknown-service"),
        (lambda h: engine.transfer(h, 1, "tutup", NOW), "service-closed"),
        (lambda h: engine.cancel_ticket(h, "A001", NOW), "ticket-not-callable"),
    ],
)
def test_illegal_transitions_with_a_held_ticket(step, code):
    hall = held_hall()
    assert_refused(hall, step, code)


def ended_hall():
    """A001 done (served at counter 1), A002 cancelled, A003 expired by an early close; A004 waits."""
    hall = engine.call_next(issue(issue(make_hall())), 1, NOW).hall
    hall = engine.finish(hall, 1, NOW).hall
    hall = engine.cancel_ticket(hall, "A002", NOW).hall
    hall = engine.close_day(issue(hall), hall.day, NOW).hall
    return issue(hall)


@pytest.mark.parametrize("number", ["A001", "A002", "A003", "a003"])
@pytest.mark.parametrize(
    "step",
    [
        lambda h, number: engine.call_ticket(h, 1, number, NOW),
        lambda h, number: engine.cancel_ticket(h, number, NOW),
    ],
    ids=["call_ticket", "cancel"],
)
def test_a_ticket_that_ended_today_is_not_callable_rather_than_unknown(step, number):
    hall = ended_hall()
    before = contents(hall)
    with pytest.raises(PanggilError) as err:
        step(hall, number)
    assert err.value.code == "ticket-not-callable"
    assert contents(hall) == before
    with pytest.raises(PanggilError, match="unknown-ticket"):
        step(hall, "A005")  # never issued


def test_the_tickets_that_ended_are_today_s_only():
    hall = ended_hall()
    assert hall.ended == {"A001", "A002", "A003"}
    assert engine.close_day(hall, "2026-11-27", NOW).hall.ended == frozenset()


def test_failed_next_keeps_the_held_ticket():
    hall = engine.call_next(issue(make_hall()), 1, NOW).hall
    with pytest.raises(PanggilError, match="no-waiting-tickets"):
        engine.call_next(hall, 1, NOW)
    assert hall.current(1).number == "A001"


def test_quota():
    hall = issue(issue(make_hall(), "kk"), "kk")
    with pytest.raises(PanggilError, match="quota-reached"):
        engine.issue_ticket(hall, "kk", NOW)


def test_recall_is_a_new_call_of_the_same_ticket():
    hall = held_hall()
    out = engine.recall(hall, 1, NOW)
    assert numbers(out) == [("recalled", "A001")]
    assert out.last.ticket.calls == 2
    assert out.last.ticket.called_at == hall.current(1).called_at


def test_skip_then_call_back_by_number():
    hall = engine.skip(held_hall(), 1, NOW).hall
    assert hall.find("A001").status == "skipped"
    assert hall.current(1) is None
    out = engine.call_ticket(hall, 2, "a001", NOW)
    assert numbers(out) == [("called", "A001")]
    assert out.hall.current(2).calls == 2


def test_transfer_keeps_number_and_place():
    hall = issue(held_hall(), "kk")  # B001 issued after A001
    out = engine.transfer(hall, 1, "kk", NOW)
    moved = out.last.ticket
    assert (moved.number, moved.service, moved.origin_service, moved.status) == (
        "A001",
        "kk",
        "ktp",
        "waiting",
    )
    assert out.hall.current(1) is None
    # A001 was issued before B001, so it is called first in its new service.
    assert engine.call_next(out.hall, 2, NOW).last.ticket.number == "A001"


def test_cancel_a_waiting_ticket():
    out = engine.cancel_ticket(issue(make_hall()), "A001", NOW)
    assert out.last.ticket.status == "cancelled"
    assert out.hall.tickets == {}


def test_a_cancelled_ticket_gives_its_quota_place_back_but_not_its_number():
    hall = issue(issue(make_hall(), "kk"), "kk")  # quota 2 used up
    hall = engine.cancel_ticket(hall, "B002", NOW).hall
    again = engine.issue_ticket(hall, "kk", NOW)
    assert again.last.ticket.number == "B003"
    with pytest.raises(PanggilError, match="quota-reached"):
        engine.issue_ticket(again.hall, "kk", NOW)


def test_people_ahead():
    hall = issue(issue(issue(make_hall())), "ktp", "disability")
    assert hall.ahead_of(hall.find("A001")) == 1
    assert hall.ahead_of(hall.find("A003")) == 0
    assert hall.ahead_of(hall.find("A002")) == 2


def test_close_day_expires_open_tickets_and_restarts_numbers():
    hall = engine.skip(held_hall(), 1, NOW).hall
    out = engine.close_day(hall, "2026-11-27", NOW)
    assert sorted(numbers(out)) == [("expired", "A001"), ("expired", "A002"), ("expired", "C001")]
    assert out.hall.day == "2026-11-27" and out.hall.tickets == {}
    assert (
        engine.issue_ticket(out.hall, "ktp", NOW + timedelta(days=1)).last.ticket.id
        == "2026-11-27/A001"
    )


def test_closing_early_keeps_numbering():
    out = engine.close_day(held_hall(), "2026-11-26", NOW)
    assert engine.issue_ticket(out.hall, "ktp", NOW).last.ticket.number == "A003"


@pytest.mark.parametrize(
    "local, starts_at, day",
    [
        ("2026-11-26T00:00", 0, "2026-11-26"),
        ("2026-11-26T23:59", 0, "2026-11-26"),
        ("2026-11-27T02:59", 180, "2026-11-26"),
        ("2026-11-27T03:00", 180, "2026-11-27"),
    ],
)
def test_service_day(local, starts_at, day):
    assert engine.service_day(datetime.fromisoformat(local).replace(tzinfo=WIB), starts_at) == day


@pytest.mark.parametrize(
    "text, windows",
    [
        ("07:30-12:00,13:00-16:00", ((450, 720), (780, 960))),
        ("13.00-16.00, 07.30-12.00", ((450, 720), (780, 960))),
        ("", ()),
        ("00:00-24:00", ((0, 1440),)),
    ],
)
def test_parse_hours(text, windows):
    assert engine.parse_hours(text) == windows


@pytest.mark.parametrize(
    "text", ["07:30", "12:00-07:30", "07:30-12:00,11:00-13:00", "25:00-26:00", "a-b"]
)
def test_parse_hours_refuses_nonsense(text):
    with pytest.raises(ValueError):
        engine.parse_hours(text)


# --- counter breaks ------------------------------------------------------------------------


def break_hall():
    """Counter 2 is on a prayer break until 13:00; A001 waits; counter 1 holds nothing."""
    hall = issue(make_hall())
    return engine.pause(hall, 2, "sholat", "13:00", NOW).hall


def test_pause_puts_the_counter_on_break_and_resume_opens_it():
    out = engine.pause(issue(make_hall()), 2, "sholat", "13:00", NOW)
    counter = out.hall.counters[2]
    assert (counter.state, counter.break_reason, counter.break_until) == (
        "break",
        "sholat",
        "13:00",
    )
    assert counter.break_since == NOW
    assert [(c.kind, c.ticket, c.counter) for c in out.changes] == [("paused", None, 2)]
    assert engine.break_dict(counter) == {
        "reason": "sholat",
        "until": "13:00",
        "since": "2026-11-26T09:00:00+07:00",
    }
    later = NOW + timedelta(minutes=20)
    back = engine.resume(out.hall, 2, later)
    assert back.hall.counters[2] == make_hall().counters[2]
    assert [(c.kind, c.counter, c.at) for c in back.changes] == [("resumed", 2, later)]
    assert engine.break_dict(back.hall.counters[2]) is None


def test_a_break_without_a_return_time():
    counter = engine.pause(make_hall(), 1, "rapat", None, NOW).hall.counters[1]
    assert (counter.state, counter.break_reason, counter.break_until) == ("break", "rapat", None)


def test_a_counter_on_break_is_not_an_open_counter():
    hall = make_hall()
    assert hall.open_counters("ktp") == 2  # counter 5 serves ktp but is inactive
    assert break_hall().open_counters("ktp") == 1
    assert break_hall().open_counters("paspor") == 1


def test_the_other_counters_still_call_during_a_break():
    out = engine.call_next(break_hall(), 1, NOW)
    assert numbers(out) == [("called", "A001")]


@pytest.mark.parametrize(
    "step, code",
    [
        (lambda h: engine.call_next(h, 2, NOW), "counter-on-break"),
        (lambda h: engine.call_ticket(h, 2, "A001", NOW), "counter-on-break"),
        (lambda h: engine.recall(h, 2, NOW), "counter-on-break"),
        (lambda h: engine.transfer(h, 2, "paspor", NOW), "counter-on-break"),
        (lambda h: engine.pause(h, 2, "istirahat", None, NOW), "already-on-break"),
        (lambda h: engine.resume(h, 1, NOW), "not-on-break"),
        (lambda h: engine.resume(h, 5, NOW), "unknown-counter"),  # inactive counter
        (lambda h: engine.pause(h, 99, "rapat", None, NOW), "unknown-counter"),
        (lambda h: engine.pause(h, 1, "makan", None, NOW), "bad-request"),
        (lambda h: engine.pause(h, 1, "rapat", "25:00", NOW), "bad-request"),
        (lambda h: engine.pause(h, 1, "rapat", "1300", NOW), "bad-request"),
        (lambda h: engine.pause(h, 1, "rapat", "13.00", NOW), "bad-request"),
    ],
)
def test_illegal_break_transitions_raise_and_leave_state_untouched(step, code):
    hall = break_hall()
    assert_refused(hall, step, code)


def test_a_counter_holding_a_ticket_cannot_pause():
    hall = held_hall()
    assert_refused(hall, lambda h: engine.pause(h, 1, "istirahat", None, NOW), "ticket-held")
    finished = engine.finish(hall, 1, NOW).hall
    assert engine.pause(finished, 1, "istirahat", None, NOW).hall.counters[1].state == "break"


# --- the hall's break (issue 13 item 2): no calls while the whole hall pauses ------------------

LUNCH = schedule.HallSchedule(
    breaks=(schedule.HallBreak(frozenset({3}), 12 * 60, 13 * 60, "Istirahat siang"),)
)
IN_BREAK = NOW.replace(hour=12, minute=10)  # a Thursday, inside the break
AFTER_BREAK = NOW.replace(hour=13, minute=0)


def hall_break_hall():
    """Counter 1 holds A001 (called before the break), A002, B001 and C001 wait; a lunch break."""
    hall = issue(issue(issue(issue(make_hall(schedule=LUNCH)), "kk"), "paspor"))
    hall = engine.call_next(hall, 1, NOW.replace(hour=11, minute=50)).hall
    return engine.skip(engine.call_next(hall, 2, NOW).hall, 2, NOW).hall  # A002 skipped


@pytest.mark.parametrize(
    "step",
    [
        lambda h, now: engine.call_next(h, 1, now),
        lambda h, now: engine.call_next(h, 3, now),
        lambda h, now: engine.call_ticket(h, 2, "A002", now),
        lambda h, now: engine.recall(h, 1, now),
    ],
    ids=["call_next", "call_next-idle-counter", "call_ticket", "recall"],
)
def test_no_calls_during_the_hall_break_and_calls_resume_after(step):
    hall = hall_break_hall()
    assert_refused(hall, lambda h: step(h, IN_BREAK), "hall-on-break")
    assert_refused(hall, lambda h: step(h, IN_BREAK.replace(minute=59)), "hall-on-break")
    after = step(hall, AFTER_BREAK)
    assert after.last.kind in ("called", "recalled")
    before = step(hall, NOW.replace(hour=11, minute=59))  # the minute before the break
    assert before.last.kind in ("called", "recalled")


@pytest.mark.parametrize(
    "step, kind",
    [
        (lambda h: engine.finish(h, 1, IN_BREAK), "finished"),
        (lambda h: engine.skip(h, 1, IN_BREAK), "skipped"),
        (lambda h: engine.transfer(h, 1, "paspor", IN_BREAK), "transferred"),
        (lambda h: engine.pause(h, 2, "sholat", "13:00", IN_BREAK), "paused"),
        (lambda h: engine.cancel_ticket(h, "B001", IN_BREAK), "cancelled"),
    ],
)
def test_officers_close_what_they_hold_during_the_hall_break(step, kind):
    assert step(hall_break_hall()).last.kind == kind


def test_a_counter_break_can_end_during_the_hall_break():
    hall = engine.pause(hall_break_hall(), 2, "sholat", None, IN_BREAK).hall
    assert engine.resume(hall, 2, IN_BREAK).hall.counters[2].state == "open"


def test_a_hall_break_on_another_weekday_does_not_stop_calls():
    friday_only = schedule.HallSchedule(
        breaks=(schedule.HallBreak(frozenset({4}), 12 * 60, 13 * 60, "Sholat Jumat"),)
    )
    hall = issue(make_hall(schedule=friday_only))
    assert engine.call_next(hall, 1, IN_BREAK).last.kind == "called"
