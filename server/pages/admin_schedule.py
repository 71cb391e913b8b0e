"""Admin views for the hall's schedule (Jadwal): its usual hours, its breaks and the calendar.

Each form is validated by admin_forms, then saved with its audit row in one transaction through
save_hall, which reloads the hall's schedule and broadcasts `hall_changed`: kiosks and phones show
the new hours at once. Breaks are read and rewritten inside that transaction, so two admins adding
a break at once both keep theirs.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from server import engine, schedule
from server.pages.admin_common import NOT_SAVED, attempt, bp, form_data, hub, render, save_hall
from server.pages.admin_forms import (
    FormError,
    Problem,
    hours_fields,
    validate_break,
    validate_calendar_entry,
    validate_hall_hours,
)
from server.storage import Storage

FORM_ERRORS = ("hours_errors", "break_errors", "calendar_errors", "page_errors")
NO_SUCH_ENTRY = Problem("That entry no longer exists; nothing was changed.")


def break_record(b: schedule.HallBreak) -> dict:
    """A break as plain values for the page and the audit log."""
    return {"days": [engine.WEEKDAYS[d] for d in sorted(b.days)], "from": schedule.format_time(b.start),
            "to": schedule.format_time(b.end), "label": b.label}  # fmt: skip


def entry_record(entry: schedule.CalendarEntry) -> dict:
    return {"first": entry.first.isoformat(), "last": entry.last.isoformat(), "label": entry.label,
            "hours": "closed" if entry.hours is None else schedule.format_hours(entry.hours)}  # fmt: skip


def _page(status: int = 200, **context):
    """The schedule page; a refused form brings its values and errors, the others start empty."""
    h = hub()
    hall_schedule = h.hall.schedule
    today = h.now().date()
    entries = h.read(lambda s: s.list_calendar())
    upcoming = [(i, e) for i, e in entries if e.last >= today]
    context.setdefault("hours_values", hours_fields(hall_schedule.hours))
    context.setdefault("break_values", {"days": ["fri"]})
    context.setdefault("calendar_values", {"kind": "closed"})
    refused = next((context[k] for k in FORM_ERRORS if context.get(k)), None)
    if refused and status == 200:
        status = 500 if refused.get("_form") is NOT_SAVED else 400
    return render(
        "admin/schedule.html",
        status,
        breaks=[break_record(b) for b in hall_schedule.breaks],
        upcoming=[(i, e, entry_record(e)) for i, e in upcoming],
        past=len(entries) - len(upcoming),
        weekdays=engine.WEEKDAYS,
        **context,
    )


def _answer(errors: dict, form: str, values: dict, done: str):
    """Back to the page with a flash when saved; else the page with the refused form's errors."""
    if errors:
        return _page(**{f"{form}_values": values, f"{form}_errors": errors})
    flash(done, "success")
    return redirect(url_for("admin.schedule_page"))


@bp.get("/schedule")
def schedule_page():
    """The hall's hours, breaks and calendar of closed days and special hours."""
    return _page()


@bp.post("/schedule/hours")
def schedule_hours():
    """Set the hall's usual week (empty: the hall sets no hours, each service's own count)."""
    values = form_data()
    before = hours_fields(hub().hall.schedule.hours)

    def save() -> None:
        week = validate_hall_hours(values)
        after = hours_fields(week)
        changed = {k: [before[k], v] for k, v in after.items() if before.get(k) != v}
        save_hall("schedule", "schedule.hours", "hall", lambda s: s.save_hall_hours(week), changed)

    return _answer(attempt(save), "hours", values,
                   _("The hall's hours are saved. Kiosks show them now."))  # fmt: skip


@bp.post("/schedule/breaks")
def add_break():
    """Add a break of the whole hall (Friday prayer, lunch)."""
    values = form_data()

    def save() -> None:
        new = validate_break(values)

        def write(storage: Storage) -> None:
            storage.save_hall_breaks((*storage.load_schedule().breaks, new))

        save_hall("schedule", "schedule.break_add", new.label, write, break_record(new))

    return _answer(attempt(save), "break", values,
                   _("Break %(label)s added.", label=values.get("label", "")))  # fmt: skip


@bp.post("/schedule/breaks/<int:number>/delete")
def delete_break(number: int):
    """Remove one break, named by its place in the list the admin saw (and its label)."""
    index = number
    values = form_data()
    label = str(values.get("label", ""))

    def save() -> None:
        def write(storage: Storage) -> None:
            breaks = list(storage.load_schedule().breaks)
            if not 0 <= index < len(breaks) or breaks[index].label != label:
                raise FormError({"_form": NO_SUCH_ENTRY})  # another admin changed the list
            del breaks[index]
            storage.save_hall_breaks(breaks)

        save_hall("schedule", "schedule.break_delete", label, write)

    return _answer(attempt(save), "page", {}, _("Break %(label)s removed.", label=label))


@bp.post("/schedule/calendar")
def add_calendar_entry():
    """Add a closed day (a holiday, cuti bersama) or days with special hours (Ramadan)."""
    values = form_data()

    def save() -> None:
        entry = validate_calendar_entry(values)
        save_hall("schedule", "calendar.add", entry.label,
                  lambda s: s.add_calendar_entry(entry), entry_record(entry))  # fmt: skip

    return _answer(attempt(save), "calendar", values,
                   _("%(label)s added to the calendar.", label=values.get("label", "")))  # fmt: skip


@bp.post("/schedule/calendar/<int:number>/delete")
def delete_calendar_entry(number: int):
    """Remove a calendar entry (by its id): the hall keeps its usual hours on those days again."""
    entry_id = number
    found = dict(hub().read(lambda s: s.list_calendar())).get(entry_id)

    def save() -> None:
        def write(storage: Storage) -> None:
            if not storage.delete_calendar_entry(entry_id):
                raise FormError({"_form": NO_SUCH_ENTRY})

        detail = entry_record(found) if found else {}
        save_hall("schedule", "calendar.delete", str(entry_id), write, detail)

    return _answer(attempt(save), "page", {},
                   _("%(label)s removed from the calendar.", label=found.label if found else ""))  # fmt: skip
