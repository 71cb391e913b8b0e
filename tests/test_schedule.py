"""The hall's schedule as pure functions: hours, breaks, calendar, agency weekdays, cut-off."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from server import schedule
from server.schedule import CalendarEntry, HallBreak, HallSchedule

WIB = ZoneInfo("Asia/Jakarta")
MON_TO_FRI = frozenset(range(5))

# A hall open Monday to Friday 07:30-16:00 (Friday 07:30-16:30), closed at weekends, with lunch on
# Monday-Thursday and Friday prayer; Christmas closed; Ramadan (here: 1-10 March 2027) 08:00-14:00.
HALL = HallSchedule(
    hours=schedule.weekday_hours(
        "07:30-16:00", {"fri": "07:30-16:30", "sat": "", "sun": ""}
    ),
    breaks=(
        HallBreak(frozenset({0, 1, 2, 3}), 12 * 60, 13 * 60, "Istirahat"),
        HallBreak(frozenset({4}), 11 * 60 + 30, 13 * 60, "Sholat Jumat"),
    ),
    calendar=(
        CalendarEntry(date(2027, 3, 1), date(2027, 3, 10), "Ramadan", schedule.parse_hours("08:00-14:00")),
        CalendarEntry(date(2026, 12, 25), date(2026, 12, 25), "Hari Raya Natal"),
        CalendarEntry(date(2027, 3, 8), date(2027, 3, 8), "Cuti bersama"),
    ),
)  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M")


# 2026-12-07 is a Monday, 2026-12-11 a Friday, 2026-12-25 a Friday (Christmas).
@pytest.mark.parametrize(
    "now, state, reason, label, until",
    [
        ("2026-12-07 07:00", "closed", "before-opening", None, "2026-12-07 07:30"),
        ("2026-12-07 07:30", "open", "open", None, "2026-12-07 12:00"),
        ("2026-12-07 12:00", "break", "hall-break", "Istirahat", "2026-12-07 13:00"),
        ("2026-12-07 12:59", "break", "hall-break", "Istirahat", "2026-12-07 13:00"),
        ("2026-12-07 13:00", "open", "open", None, "2026-12-07 16:00"),
        ("2026-12-07 16:00", "closed", "after-closing", None, "2026-12-08 07:30"),
        ("2026-12-11 11:45", "break", "hall-break", "Sholat Jumat", "2026-12-11 13:00"),
        ("2026-12-11 16:15", "open", "open", None, "2026-12-11 16:30"),
        ("2026-12-11 17:00", "closed", "after-closing", None, "2026-12-14 07:30"),
        ("2026-12-12 10:00", "closed", "closed-day", None, "2026-12-14 07:30"),
        ("2026-12-24 17:00", "closed", "after-closing", None, "2026-12-28 07:30"),
        ("2026-12-25 09:00", "closed", "holiday", "Hari Raya Natal", "2026-12-28 07:30"),
        ("2027-03-01 07:45", "closed", "before-opening", None, "2027-03-01 08:00"),
        ("2027-03-01 12:30", "break", "hall-break", "Istirahat", "2027-03-01 13:00"),
        ("2027-03-01 13:30", "open", "open", None, "2027-03-01 14:00"),
        ("2027-03-05 14:00", "closed", "after-closing", None, "2027-03-09 08:00"),
        ("2027-03-08 09:00", "closed", "holiday", "Cuti bersama", "2027-03-09 08:00"),
    ],
)
def test_hall_status(now, state, reason, label, until):
    status = schedule.hall_status(HALL, at(now))
    assert (status.state, status.reason, status.label, iso(status.until)) == (
        state,
        reason,
        label,
        until,
    )


def test_a_hall_without_hours_is_always_open():
    status = schedule.hall_status(HallSchedule(), at("2026-12-12 03:00"))
    assert (status.state, status.until) == ("open", None)


def test_a_hall_without_hours_still_has_its_breaks():
    hall = HallSchedule(breaks=(HallBreak(frozenset({4}), 690, 780, "Sholat Jumat"),))
    assert schedule.hall_status(hall, at("2026-12-11 11:30")).state == "break"
    assert iso(schedule.hall_status(hall, at("2026-12-11 10:00")).until) == "2026-12-11 11:30"


KTP = schedule.weekday_hours("07:30-15:00")
PASPOR = schedule.weekday_hours("08:00-12:00,13:30-15:00")


@pytest.mark.parametrize(
    "now, hours, weekdays, cutoff, is_open, reason, label, until",
    [
        ("2026-12-07 07:29", KTP, None, 0, False, "before-opening", None, "2026-12-07 07:30"),
        ("2026-12-07 07:30", KTP, None, 0, True, "open", None, "2026-12-07 12:00"),
        ("2026-12-07 12:30", KTP, None, 0, False, "hall-break", "Istirahat", "2026-12-07 13:00"),
        ("2026-12-07 14:29", KTP, None, 30, True, "open", None, "2026-12-07 14:30"),
        ("2026-12-07 14:30", KTP, None, 30, False, "cutoff", None, "2026-12-08 07:30"),
        ("2026-12-07 15:00", KTP, None, 30, False, "after-closing", None, "2026-12-08 07:30"),
        # A service's own gap (13:00-13:30) is not the hall's break.
        ("2026-12-07 13:10", PASPOR, None, 0, False, "service-break", None, "2026-12-07 13:30"),
        (
            "2026-12-11 11:40",
            PASPOR,
            None,
            0,
            False,
            "hall-break",
            "Sholat Jumat",
            "2026-12-11 13:30",
        ),
        # The agency comes on Tuesdays and Thursdays only.
        (
            "2026-12-07 09:00",
            KTP,
            frozenset({1, 3}),
            0,
            False,
            "not-today",
            None,
            "2026-12-08 07:30",
        ),
        ("2026-12-08 09:00", KTP, frozenset({1, 3}), 0, True, "open", None, "2026-12-08 12:00"),
        ("2026-12-25 09:00", KTP, None, 0, False, "holiday", "Hari Raya Natal", "2026-12-28 07:30"),
        ("2026-12-12 09:00", None, None, 0, False, "closed-day", None, "2026-12-14 07:30"),
        # Ramadan hours bound the service's own; the cut-off counts from the Ramadan closing.
        ("2027-03-02 13:40", KTP, None, 30, False, "cutoff", None, "2027-03-03 08:00"),
        ("2027-03-02 13:20", KTP, None, 30, True, "open", None, "2027-03-02 13:30"),
    ],
)
def test_service_status(now, hours, weekdays, cutoff, is_open, reason, label, until):
    status = schedule.service_status(HALL, at(now), hours, weekdays, cutoff)
    assert (status.open, status.reason, status.label, iso(status.until)) == (
        is_open,
        reason,
        label,
        until,
    )


def test_a_holiday_inside_ramadan_wins():
    assert schedule.HALL_STATES  # the states the protocol documents
    assert HALL.entry(date(2027, 3, 8)).label == "Cuti bersama"
    assert HALL.entry(date(2027, 3, 9)).label == "Ramadan"
    assert HALL.entry(date(2027, 3, 11)) is None


def test_a_service_closed_every_day_never_says_when_it_opens():
    never = schedule.weekday_hours("")
    status = schedule.service_status(HALL, at("2026-12-07 09:00"), never)
    assert (status.open, status.reason, status.until) == (False, "not-today", None)


def test_a_window_to_midnight_runs_on_into_the_next_day():
    hall = HallSchedule(hours=schedule.weekday_hours("00:00-24:00", {"sun": ""}))
    status = schedule.hall_status(hall, at("2026-12-11 22:00"))  # Friday: Saturday runs on
    assert (status.state, iso(status.until)) == ("open", "2026-12-13 00:00")


@pytest.mark.parametrize(
    "a, b, both",
    [
        (((450, 960),), ((480, 720), (780, 900)), ((480, 720), (780, 900))),
        (((450, 720),), ((720, 900),), ()),
        ((), ((0, 1440),), ()),
    ],
)
def test_intersect(a, b, both):
    assert schedule.intersect(a, b) == both


def test_subtract():
    assert schedule.subtract(((450, 960),), [(720, 780)]) == ((450, 720), (780, 960))
    assert schedule.subtract(((450, 960),), [(400, 500), (900, 1000)]) == ((500, 900),)
    assert schedule.subtract(((450, 960),), [(0, 1440)]) == ()


def test_parse_weekdays():
    assert schedule.parse_weekdays(["mon", "Wednesday", "fri"]) == frozenset({0, 2, 4})
    with pytest.raises(ValueError, match="'libur'"):
        schedule.parse_weekdays(["libur"])


def test_status_dict():
    status = schedule.hall_status(HALL, at("2026-12-11 11:45"))
    assert schedule.status_dict(status) == {
        "state": "break",
        "reason": "hall-break",
        "label": "Sholat Jumat",
        "until": "2026-12-11T13:00:00+07:00",
    }


def test_a_one_day_entry_opens_a_usually_closed_day():
    hall = HallSchedule(
        hours=HALL.hours,
        calendar=(CalendarEntry(date(2026, 12, 12), date(2026, 12, 12), "Hari layanan Sabtu", schedule.parse_hours("08:00-12:00")),),
    )  # fmt: skip
    assert schedule.hall_status(hall, at("2026-12-12 09:00")).state == "open"
    assert schedule.hall_status(HALL, at("2026-12-12 09:00")).state == "closed"


def test_the_engine_issues_only_when_the_schedule_says_open():
    from dataclasses import replace

    from server import engine
    from server.engine import Agency, Hall, Service
    from server.protocol import PanggilError

    services = {
        "ktp": Service("ktp", "KTP", "dukcapil", "A", hours=KTP, cutoff=30),
        "paspor": Service("paspor", "Paspor", "imigrasi", "C"),
    }
    agencies = {
        "dukcapil": Agency("dukcapil", "Dukcapil"),
        "imigrasi": Agency("imigrasi", "Imigrasi", weekdays=frozenset({1, 3})),
    }
    hall = Hall(
        day="2026-12-11",
        agencies=engine.frozen_map(agencies),
        services=engine.frozen_map(services),
        schedule=HALL,
    )
    assert engine.issue_ticket(hall, "ktp", at("2026-12-11 09:00")).last.ticket.number == "A001"
    for service, moment in [
        ("ktp", "2026-12-11 11:45"),  # Friday prayer
        ("ktp", "2026-12-11 14:45"),  # the cut-off before 15:00
        ("paspor", "2026-12-11 09:00"),  # Immigration comes Tuesdays and Thursdays
    ]:
        with pytest.raises(PanggilError) as err:
            engine.issue_ticket(hall, service, at(moment))
        assert err.value.code == "outside-hours"
    # The admin switch that ignores hours ignores the whole schedule.
    relaxed = replace(hall, enforce_hours=False)
    assert engine.issue_ticket(relaxed, "ktp", at("2026-12-11 11:45")).last.ticket.number == "A001"


@pytest.mark.parametrize(
    "text, kind, part",
    [
        ("pagi", "format", "pagi"),
        ("07:30-12:00-13:00", "format", "07:30-12:00-13:00"),
        ("07:30-24:30", "time", "07:30-24:30"),
        ("07:60-12:00", "time", "07:60-12:00"),
        ("12:00-07:30", "order", "12:00-07:30"),
        ("07:00-12:00, 11:00-15:00", "overlap", "07:00-12:00, 11:00-15:00"),
    ],
)
def test_bad_hours_say_what_is_wrong_for_the_forms(text, kind, part):
    with pytest.raises(schedule.HoursError) as err:
        schedule.parse_hours(text)
    assert (err.value.kind, err.value.part) == (kind, part)
    assert isinstance(err.value, ValueError)  # config.yaml's validators catch ValueError


def test_the_day_memo_does_not_change_equality():
    plain = schedule.HallSchedule(hours=schedule.weekday_hours("07:30-16:00"))
    used = schedule.HallSchedule(hours=schedule.weekday_hours("07:30-16:00"))
    schedule.hall_windows(used, date(2026, 11, 27))
    assert used == plain and hash(used) == hash(plain)
