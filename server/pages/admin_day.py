"""Admin views for the running day: the live monitor, closing the day, the day report, the audit log."""

from __future__ import annotations

import logging
import sqlite3

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from server import reports, targets
from server.pages.admin_common import NOT_SAVED, actor, bp, duration, hub, render
from server.protocol import PanggilError
from server.report_api import load_report

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
    try:
        report = load_report(reports.parse_period(chosen, chosen))
    except PanggilError:  # a hand-typed day that is no date: show today's
        chosen = h.hall.day
        report = load_report(reports.parse_period(chosen, chosen))
    return render("admin/day.html", days=days, chosen=chosen, report=report, rows=_service_rows(report),
                  officers=_officer_rows(report), duration=duration, today=h.hall.day,
                  open_tickets=len(h.hall.tickets))  # fmt: skip


def _service_rows(report: reports.Report) -> list[tuple[str, reports.Figures]]:
    """(name, figures) per service with something that day; every service on a day with nothing."""
    names = {code: s.name for code, s in report.catalogue.services.items()}
    rows = report.services or {code: reports.Figures() for code in names}
    return [(names.get(code, code), figures) for code, figures in rows.items()]


def _officer_rows(report: reports.Report) -> list[tuple[str, str, reports.Figures]]:
    """(name, username, figures) per officer, the busiest first (the period report sorts by name)."""
    known = report.catalogue.officers
    rows = sorted(report.officers.items(), key=lambda kv: (-kv[1].served, -kv[1].calls, kv[0]))
    return [(reports.officer_name(report.catalogue, user_id), known.get(user_id, ("", ""))[0], f)
            for user_id, f in rows]  # fmt: skip


@bp.get("/day/report.csv")
def report_csv():
    """The day's report as a file: the period report's CSV for that one day (one export, one format)."""
    day = request.args.get("day") or hub().hall.day
    return redirect(url_for("admin.reports_csv", range="custom", **{"from": day, "to": day}))


@bp.get("/audit")
def audit():
    """Who changed what and when, newest first."""
    before = request.args.get("before", type=int)
    rows = hub().read(lambda s: s.audit_page(before, AUDIT_PAGE + 1))
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return render("admin/audit.html", rows=rows, next_before=rows[-1]["id"] if more else None)
