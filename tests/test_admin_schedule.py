"""The admin's schedule (Jadwal): hall hours, breaks and calendar; agency weekdays and service cut-off.

Every refused form answers 400 with Indonesian errors next to its fields and changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest

from server import protocol, schedule
from server.pages.admin_forms import (
    FormError,
    validate_agency,
    validate_break,
    validate_calendar_entry,
    validate_hall_hours,
)
from server.protocol import NS_DISPLAY
from tests.test_admin_pages import audit_actions, post, received, text


@pytest.fixture
def display(socket_client):
    """A TV display on /display; its snapshot is already read."""
    sc = socket_client(NS_DISPLAY, {"display": "lobby-1"})
    sc.get_received(NS_DISPLAY)
    return sc


def state(hub) -> tuple:
    """What a refused form must leave alone."""
    return hub.seq, hub.hall, hub.read(lambda s: (s.list_calendar(), s.load_settings()))


def refused(validate, form: dict) -> dict:
    with pytest.raises(FormError) as err:
        validate(form)
    return {k: p.message for k, p in err.value.errors.items()}


# --- validation (pure) ------------------------------------------------------------------------------


def test_valid_forms_give_the_schedule_s_values():
    friday = validate_break(
        {"days": "fri", "start": "11.30", "end": "13:00", "label": "Sholat Jumat"}
    )
    assert friday == schedule.HallBreak(frozenset({4}), 690, 780, "Sholat Jumat")
    natal = validate_calendar_entry(
        {"first": "2026-12-25", "label": "Hari Raya Natal", "kind": "closed"}
    )
    assert natal == schedule.CalendarEntry(
        date(2026, 12, 25), date(2026, 12, 25), "Hari Raya Natal"
    )
    ramadan = validate_calendar_entry({"first": "2027-02-08", "last": "2027-03-08", "label": "Ramadan",
                                       "kind": "hours", "hours": "08:00-14:00"})  # fmt: skip
    assert ramadan.hours == ((480, 840),) and ramadan.last == date(2027, 3, 8)
    week = validate_hall_hours({"hours": "07:30-16:00", "hours_sat": "-", "hours_sun": "tutup"})
    assert week is not None and week[4] == ((450, 960),) and week[5] == week[6] == ()
    assert validate_hall_hours({"hours": ""}) is None
    agency = validate_agency(
        {"code": "bpjs", "name": "BPJS", "weekdays": ["mon", "wed"]}, agencies={}
    )
    assert agency.weekdays == frozenset({0, 2})
    every = validate_agency(
        {"code": "x", "name": "X", "weekdays": list(schedule.WEEKDAYS)}, agencies={}
    )
    assert every.weekdays is None  # all seven ticked: every day the hall opens


@pytest.mark.parametrize(
    "validate, form, field, message",
    [
        (validate_break, {"start": "11:30", "end": "13:00", "label": "Sholat"}, "days", "Choose at least one day."),
        (validate_break, {"days": ["jum"], "start": "11:30", "end": "13:00", "label": "x"}, "days", "Unknown day."),
        (validate_break, {"days": "fri", "start": "sebelas", "end": "13:00", "label": "x"}, "start", "Write a time like 11:30."),
        (validate_break, {"days": "fri", "start": "11:30", "end": "25:00", "label": "x"}, "end", "Write a time like 11:30."),
        (validate_break, {"days": "fri", "start": "13:00", "end": "11:30", "label": "x"}, "end", "The break must end after it starts."),
        (validate_break, {"days": "fri", "start": "11:30", "end": "13:00", "label": ""}, "label", "Required."),
        (validate_calendar_entry, {"label": "Natal", "kind": "closed"}, "first", "Required."),
        (validate_calendar_entry, {"first": "25-12-2026", "label": "Natal", "kind": "closed"}, "first", "Write a date like 2026-12-25."),
        (validate_calendar_entry, {"first": "2026-12-26", "last": "2026-12-24", "label": "Natal", "kind": "closed"}, "last", "The last day is before the first."),
        (validate_calendar_entry, {"first": "2026-01-01", "last": "2027-06-01", "label": "Lama", "kind": "closed"}, "last", "At most %(days)d days at once."),
        (validate_calendar_entry, {"first": "2027-02-08", "label": "Ramadan", "kind": "hours", "hours": ""}, "hours", "Required."),
        (validate_calendar_entry, {"first": "2027-02-08", "label": "Ramadan", "kind": "hours", "hours": "14:00-08:00"}, "hours", "%(part)s ends before it starts."),
        (validate_calendar_entry, {"first": "2027-02-08", "label": "Ramadan", "kind": "buka"}, "kind", "Choose one of the options."),
        (validate_hall_hours, {"hours": "07:30-16:00", "hours_fri": "pagi"}, "hours_fri", "Write hours like 07:30-12:00,13:00-16:00."),
        (validate_hall_hours, {"hours_fri": "07:30-11:00"}, "hours", "Fill in the usual hours first."),
    ],
)  # fmt: skip
def test_refused_values_are_named_by_field(validate, form, field, message):
    assert refused(validate, form)[field] == message


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_edits_breaks_and_calendar_live_with_audit(admin, hub, display, clock):
    page = admin.get("/admin/schedule")
    assert page.status_code == 200 and "Jadwal" in text(page)
    r = post(admin, "/admin/schedule/breaks",
             {"label": "Sholat Jumat", "days": "fri", "start": "11:30", "end": "13:00"})  # fmt: skip
    assert r.status_code == 302, text(r)
    assert hub.hall.schedule.breaks == (
        schedule.HallBreak(frozenset({4}), 690, 780, "Sholat Jumat"),
    )
    assert [c["what"] for c in received(display, protocol.HALL_CHANGED)] == ["schedule"]

    r = post(admin, "/admin/schedule/calendar",
             {"first": "2026-12-25", "label": "Hari Raya Natal", "kind": "closed"})  # fmt: skip
    assert r.status_code == 302, text(r)
    post(admin, "/admin/schedule/calendar", {"first": "2027-02-08", "last": "2027-03-08",
                                             "label": "Ramadan", "kind": "hours", "hours": "08:00-14:00"})  # fmt: skip
    assert [e.label for e in hub.hall.schedule.calendar] == ["Hari Raya Natal", "Ramadan"]
    page = text(admin.get("/admin/schedule"))
    assert "Hari Raya Natal" in page and "2027-02-08 &ndash; 2027-03-08" in page
    assert "08:00-14:00" in page and "Sholat Jumat" in page

    entry_id = hub.read(lambda s: s.list_calendar())[0][0]
    assert post(admin, f"/admin/schedule/calendar/{entry_id}/delete").status_code == 302
    assert (
        post(admin, "/admin/schedule/breaks/0/delete", {"label": "Sholat Jumat"}).status_code == 302
    )
    assert [e.label for e in hub.hall.schedule.calendar] == ["Ramadan"]
    assert hub.hall.schedule.breaks == ()
    assert [a[1] for a in audit_actions(hub)] == ["schedule.break_add", "calendar.add", "calendar.add",
                                                  "calendar.delete", "schedule.break_delete"]  # fmt: skip


def test_hall_hours_are_saved_and_close_services_outside_them(admin, hub, clock):
    r = post(
        admin, "/admin/schedule/hours", {"hours": "10:00-16:00", "hours_sat": "-", "hours_sun": "-"}
    )
    assert r.status_code == 302, text(r)
    assert hub.hall.schedule.hours[3] == ((600, 960),)
    status = {s["code"]: s["status"] for s in hub.services_detail()}["kk"]  # 09:00 Thursday
    assert (status["open"], status["reason"], status["until"]) == (
        False, "before-opening", "2026-11-26T10:00:00+07:00")  # fmt: skip
    form = text(admin.get("/admin/schedule"))
    assert re.search(r'name="hours" type="text" value="10:00-16:00"', form)
    post(admin, "/admin/schedule/hours", {"hours": ""})
    assert hub.hall.schedule.hours is None


@pytest.mark.parametrize(
    "path, form, field, message",
    [
        ("/admin/schedule/breaks", {"label": "Sholat", "start": "11:30", "end": "13:00"}, "days",
         "Pilih paling sedikit satu hari."),
        ("/admin/schedule/breaks", {"label": "Sholat", "days": "fri", "start": "13:00", "end": "11:30"}, "end",
         "Istirahat harus berakhir setelah dimulai."),
        ("/admin/schedule/calendar", {"first": "2026-12-26", "last": "2026-12-24", "label": "Natal",
                                      "kind": "closed"}, "last", "Hari terakhir lebih awal daripada hari pertama."),
        ("/admin/schedule/calendar", {"first": "2027-02-08", "label": "Ramadan", "kind": "hours",
                                      "hours": "14:00-08:00"}, "hours", "14:00-08:00 berakhir sebelum dimulai."),
        ("/admin/schedule/hours", {"hours": "07:30-16:00", "hours_fri": "pagi"}, "hours_fri",
         "Tulis jam seperti 07:30-12:00,13:00-16:00."),
    ],
)  # fmt: skip
def test_a_refused_form_says_why_in_indonesian_and_changes_nothing(
    admin, hub, path, form, field, message
):
    before = state(hub)
    r = post(admin, path, form)
    assert r.status_code == 400
    found = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', text(r))
    assert found and found.group(1) == message, text(r)
    assert state(hub) == before


def test_removing_a_break_another_admin_already_removed_changes_nothing(admin, hub):
    post(admin, "/admin/schedule/breaks", {"label": "Istirahat siang", "days": ["mon", "tue"],
                                           "start": "12:00", "end": "13:00"})  # fmt: skip
    before = state(hub)
    r = post(
        admin, "/admin/schedule/breaks/0/delete", {"label": "Sholat Jumat"}
    )  # not the one shown
    assert r.status_code == 400 and "Entri itu sudah tidak ada" in text(r)
    assert post(admin, "/admin/schedule/calendar/999/delete").status_code == 400
    assert state(hub) == before


def test_agency_weekdays_and_service_cutoff_from_their_forms(admin, hub, clock):
    r = post(admin, "/admin/agencies/imigrasi", {"name": "Imigrasi", "weekdays": ["mon", "wed"]})
    assert r.status_code == 302, text(r)
    assert hub.hall.agencies["imigrasi"].weekdays == frozenset({0, 2})
    paspor = {s["code"]: s["status"] for s in hub.services_detail()}["paspor"]
    assert paspor["reason"] == "not-today"  # Thursday
    page = text(admin.get("/admin/agencies/imigrasi"))
    assert re.search(r'value="mon" checked', page) and not re.search(r'value="thu" checked', page)

    form = {"name": "KTP", "agency": "dukcapil", "prefix": "A", "hours": "07:30-16:00",
            "cutoff_minutes": "30", "active": "on", "priority_allowed": "on"}  # fmt: skip
    assert post(admin, "/admin/services/ktp", form).status_code == 302
    assert hub.hall.services["ktp"].cutoff == 30
    clock.set(clock().replace(hour=15, minute=45))
    assert {s["code"]: s["status"] for s in hub.services_detail()}["ktp"]["reason"] == "cutoff"
    r = post(admin, "/admin/services/ktp", {**form, "cutoff_minutes": "-5"})
    assert r.status_code == 400 and hub.hall.services["ktp"].cutoff == 30
