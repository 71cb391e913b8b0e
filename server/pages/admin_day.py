"""Admin views for the running day: the live monitor, closing the day, the day report, the audit log."""

from __future__ import annotations

import logging
import sqlite3

from flask import Response, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from server import targets
from server.pages.admin_common import NOT_SAVED, actor, bp, hub, render
from server.pages.admin_report import (
    OfficerDay,
    day_report,
    duration,
    officer_report,
    to_csv,
    totals,
)
from server.engine import Officer

log = logging.getLogger(__name__)

AUDIT_PAGE = 100
# The monitor lists at most this many waiting tickets of one service: the longest waits, which are
# the ones past the target first.
LONGEST_WAITS = 50


@bp.get("/")
def index():
    """The live monitor: waiting per service, each counter's ticket, displays online."""
    texts = {
        "serving": _("Serving"), "free": _("Free"), "inactive": _("Inactive"), "closed": _("Closed"),
        "live": _("Live monitor connected"), "offline": _("Connection lost, reconnecting..."),
        "online": _("online"), "offline_display": _("offline"), "none": _("none"),
        "no_calls": _("No calls yet today."), "no_displays": _("No display configured."),
        "served_today": _("served today"), "since": _("since"),
        "on_break": _("On break"), "break_minutes": _("%(n)s min"), "back_at": _("back at"),
        "reasons": {"istirahat": _("rest"), "sholat": _("prayer"), "rapat": _("meeting"),
                    "lainnya": _("other")},
        "waited": _("waiting %(n)s min"), "target": _("target %(n)s"),
        "past_target": _("Past target"), "no_late": _("Nobody is waiting past a target."),
        "unnamed_officer": _("(officer without a name)"),
    }  # fmt: skip
    return render("admin/monitor.html", texts=texts)


@bp.get("/waiting.json")
def waiting_json():
    """The longest-waiting tickets of every service, for the monitor's list of waits past target.

    Events carry each queue's count and oldest wait but not the tickets behind them: the monitor
    fetches this after ticket events and works out the minutes against its clock in between.
    """
    h = hub()
    hall, now = h.hall, h.now()  # the Hall is immutable: no lock needed to read one
    services = []
    for wait in targets.service_waits(hall, now).values():
        services.append({
            "code": wait.service,
            "target_wait": wait.target_wait,
            "waiting": wait.waiting,
            "past_target": wait.past_target_count,
            "tickets": [
                {"number": t.ticket.number, "priority": t.ticket.priority,
                 "waiting_since": targets.waiting_since(t.ticket).isoformat(timespec="seconds"),
                 "minutes": t.minutes, "past_target": t.past_target}
                for t in wait.tickets[:LONGEST_WAITS]
            ],
        })  # fmt: skip
    return jsonify(ok=True, now=now.isoformat(timespec="seconds"), services=services)


@bp.route("/day", methods=["GET", "POST"])
def day():
    """Close the day early (history is kept) and read a day's report."""
    h = hub()
    if request.method == "POST":
        closed = h.hall.day
        expired = len(h.hall.tickets)
        user = actor()
        try:
            h.close_day(
                lambda s: s.add_audit(h.now(), user, "day.close", closed, {"open_tickets": expired})
            )
        except sqlite3.Error:
            log.exception("closing day %s failed; rolled back", closed)
            flash(_(NOT_SAVED.message), "error")
            return redirect(url_for("admin.day"))
        log.info("admin %s closed day %s (%d open tickets expired)", user, closed, expired)
        flash(
            _("Day %(day)s closed. Open tickets expired; history is kept.", day=closed), "success"
        )
        return redirect(url_for("admin.day", day=closed))
    days = h.read(lambda s: s.recent_days(60))
    chosen = request.args.get("day") or h.hall.day
    rows = _report(chosen)
    names = {code: s.name for code, s in h.hall.services.items()}
    open_tickets = len(h.hall.tickets)
    officers = _officers(chosen)
    return render("admin/day.html", days=days, chosen=chosen, rows=rows, total=totals(rows), names=names,
                  duration=duration, today=h.hall.day, open_tickets=open_tickets,
                  officers=officers)  # fmt: skip


def _officers(day: str) -> list[tuple[Officer | None, OfficerDay]]:
    """The day's per-officer rows with who each officer is (None: a user no longer known)."""
    events, known = hub().read(lambda s: (s.ticket_events(day), s.officers()))
    return [(known.get(row.officer), row) for row in officer_report(events)]


def _report(day: str) -> list:
    h = hub()
    events = h.read(lambda s: s.ticket_events(day))
    rows = day_report(events, order=list(h.hall.services))
    return [
        r for r in rows if r.issued or r.served or r.skipped or r.cancelled or r.expired
    ] or rows


@bp.get("/day/report.csv")
def report_csv():
    """The day report as a CSV file."""
    h = hub()
    chosen = request.args.get("day") or h.hall.day
    names = {code: s.name for code, s in h.hall.services.items()}
    headers = [_("day"), _("service code"), _("service"), _("issued"), _("served"), _("skipped"),
               _("cancelled"), _("expired"), _("average waiting (s)"), _("average service (s)")]  # fmt: skip
    body = to_csv(chosen, _report(chosen), names, headers)
    safe_day = "".join(ch for ch in chosen if ch.isdigit() or ch == "-")[:10]
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",  # BOM: spreadsheets then read UTF-8
        headers={"Content-Disposition": f'attachment; filename="laporan-{safe_day}.csv"'},
    )


@bp.get("/audit")
def audit():
    """Who changed what and when, newest first."""
    before = request.args.get("before", type=int)
    rows = hub().read(lambda s: s.audit_page(before, AUDIT_PAGE + 1))
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return render("admin/audit.html", rows=rows, next_before=rows[-1]["id"] if more else None)
