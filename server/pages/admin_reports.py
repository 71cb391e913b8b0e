"""Admin views for period reports (Laporan): the page, its printable view, CSV and XLSX, and the
read-only report tokens of the report API.

The figures come from server/reports.py (pure) through report_api.load_report, which reads on a
connection of its own and holds no lock while it sums; the charts are server-side SVG
(server/report_charts.py), the files server/report_export.py.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from server import report_api, report_charts, report_export, reports
from server.pages.admin_common import actor, bp, duration, hub, render, report_tabs, save_other
from server.pages.admin_forms import Problem
from server.protocol import PanggilError

log = logging.getLogger(__name__)

TOKEN_NAME_MAX = 60


def _choice() -> dict:
    """The range and filters asked for, with the Period they make (or the problem with them)."""
    h = hub()
    today = date.fromisoformat(h.hall.day) if h.hall.day else h.now().date()
    chosen = request.args.get("range", "month")
    args = {"range": chosen, "agency": request.args.get("agency") or None,
            "service": request.args.get("service") or None}  # fmt: skip
    if chosen in reports.PRESETS:
        period = reports.preset_period(chosen, today)
    else:
        args["range"] = "custom"
        period = reports.parse_period(request.args.get("from"), request.args.get("to"))
    args["from"], args["to"] = period.first.isoformat(), period.last.isoformat()
    return {"period": period, "args": args}


def _report() -> tuple[reports.Report | None, dict, str | None]:
    """The report the request asks for, its arguments, and the error code if it asks wrongly."""
    try:
        choice = _choice()
        args = choice["args"]
        report = report_api.load_report(choice["period"], args["agency"], args["service"])
    except PanggilError as exc:
        args = {k: request.args.get(k) for k in ("range", "from", "to", "agency", "service")}
        args["range"] = "custom"
        return None, args, exc.code
    return report, args, None


PROBLEMS = {
    "bad-date": Problem("Enter the dates as YYYY-MM-DD, e.g. 2026-12-01."),
    "bad-date-range": Problem("The first day is after the last day."),
    "range-too-long": Problem("A report covers at most 366 days."),
    "unknown-agency": Problem("There is no such agency."),
    "unknown-service": Problem("There is no such service."),
}


@bp.get("/reports")
def reports_page():
    """The Laporan page: a period's figures by agency, service, counter, officer, hour and day."""
    return _page()


def _page(new_token: dict | None = None):
    report, args, error = _report()
    h = hub()
    printing = request.args.get("print") == "1"
    context = {
        "report": report,
        "args": args,
        "problem": PROBLEMS.get(error or ""),
        "presets": _presets(),
        "agencies": list(h.hall.agencies.values()),
        "services": list(h.hall.services.values()),
        "tabs": report_tabs(),
        "active_nav": "admin.reports_page",
        "logo_url": h.settings.get("hall.logo_url"),
        "printing": printing,
        "tokens": [] if printing else h.read(lambda s: s.list_report_tokens()),
        "new_token": new_token,
    }
    if report is not None:
        context |= _view(report)
    return render("admin/reports.html", 400 if error else 200, **context)


def _presets() -> list[tuple[str, str]]:
    return [("today", _("Today")), ("week", _("This week")), ("month", _("This month")),
            ("last_month", _("Last month")), ("custom", _("Custom"))]  # fmt: skip


def _view(report: reports.Report) -> dict:
    """What the template shows beyond the report: rows with names, charts, heatmap shades."""
    days = list(report.days)
    labels = [d[8:10] + "/" + d[5:7] for d in days]
    figures = list(report.days.values())
    volume = report_charts.line_chart(_("Tickets per day"), labels, [
        report_charts.Series(_("Issued"), "s1", [f.issued for f in figures]),
        report_charts.Series(_("Served"), "s2", [f.served for f in figures]),
    ])  # fmt: skip
    waits = report_charts.line_chart(_("Waiting time per day (minutes)"), labels, [
        report_charts.Series(_("Mean"), "s1", [_minutes(f.wait.mean) for f in figures]),
        report_charts.Series(_("Median"), "s3", [_minutes(f.wait.median) for f in figures]),
        report_charts.Series(_("90th percentile"), "s2", [_minutes(f.wait.p90) for f in figures]),
    ], unit="")  # fmt: skip
    peak = max((n for row in report.heatmap.values() for n in row), default=0)
    return {
        "groups": [
            (g, _group_title(g), _key_label(g), report_export.group_rows(report, g))
            for g in ("agencies", "services", "counters", "officers", "hours")
        ],
        "charts": [
            (_("Tickets per day"), Markup(volume)),
            (_("Waiting time per day (minutes)"), Markup(waits)),
        ],
        "hours": report.busy_hours,
        "heat": lambda n: 0 if not n or not peak else 1 + min(8, int(8 * n / peak)),
        "mmss": duration,  # minutes:seconds, as the day report
    }


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _key_label(grouping: str) -> str:
    return {"agencies": _("Agency"), "services": _("Service"), "counters": _("Counter"),
            "officers": _("Officer"), "hours": _("Hour")}[grouping]  # fmt: skip


def _group_title(grouping: str) -> str:
    return {"agencies": _("By agency"), "services": _("By service"), "counters": _("By counter"),
            "officers": _("By officer"), "hours": _("By hour of day")}[grouping]  # fmt: skip


def export_texts() -> dict[str, str]:
    """The words of the exported files, in the page's language."""
    return {
        "grouping": _("grouping"), "code": _("code"), "name": _("name"), "total": _("Total"),
        "agencies": _("Agencies"), "services": _("Services"), "counters": _("Counters"),
        "officers": _("Officers"), "hours": _("Hours"), "days": _("Days"),
        "heatmap": _("Tickets by day and hour"), "summary": _("Summary"), "day": _("Day"),
        "hall": _("Hall"), "period": _("Period"), "agency": _("Agency"), "service": _("Service"),
        "all": _("all"), "made_at": _("Made at"),
        "issued": _("issued"), "served": _("served"), "skipped": _("skipped"),
        "cancelled": _("cancelled"), "expired": _("expired"),
        "wait_mean": _("waiting mean (min)"), "wait_median": _("waiting median (min)"),
        "wait_p90": _("waiting P90 (min)"), "service_mean": _("service mean (min)"),
        "service_median": _("service median (min)"), "service_p90": _("service P90 (min)"),
        "within_target": _("called within target (%)"),
        "with_target": _("calls with a target"),
    }  # fmt: skip


def _file_name(report: reports.Report, extension: str) -> str:
    first, last = report.period.first.isoformat(), report.period.last.isoformat()
    return f"laporan-{first}_{last}.{extension}"


def _download(body: bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@bp.get("/reports/laporan.csv")
def reports_csv():
    """The period report as CSV (UTF-8 with BOM, `;`, decimal comma: Excel in Indonesian)."""
    report, _args, error = _report()
    if report is None:
        return _bad_request(error)
    body = report_export.to_csv(report, export_texts())
    return _download(body, "text/csv", _file_name(report, "csv"))


@bp.get("/reports/laporan.xlsx")
def reports_xlsx():
    """The period report as an Excel workbook, a sheet per grouping."""
    report, _args, error = _report()
    if report is None:
        return _bad_request(error)
    h = hub()
    body = report_export.to_xlsx(report, export_texts(), h.hall_info()["name"], h.now())
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, mimetype, _file_name(report, "xlsx"))


def _bad_request(code: str | None):
    problem = PROBLEMS.get(code or "") or Problem("The request is not valid.")
    return Response(_(problem.message), status=400, mimetype="text/plain")


# --- report tokens ---------------------------------------------------------------------------------


@bp.post("/reports/tokens")
def add_report_token():
    """Make a read-only token for the report API; it is shown once, only its hash is kept."""
    name = " ".join((request.form.get("name") or "").split())[:TOKEN_NAME_MAX]
    if not name:
        flash(_("Give the token a name (who or what uses it)."), "error")
        return redirect(url_for("admin.reports_page", _anchor="tokens"))
    token, hashed = report_api.new_token()
    h = hub()
    save_other("report_token.add", name,
               lambda s: s.add_report_token(name, hashed, h.now(), actor()))  # fmt: skip
    # Shown on this answer only (never in a redirect or the flash cookie).
    return _page(new_token={"name": name, "token": token})


@bp.post("/reports/tokens/<int:number>/revoke")
def revoke_report_token(number: int):
    """Revoke a report token: the API refuses it from the next request on."""
    revoked = save_other("report_token.revoke", str(number),
                         lambda s: s.delete_report_token(number))  # fmt: skip
    if revoked is None:
        flash(_("That token no longer exists."), "error")
    else:
        flash(_("Token %(name)s revoked.", name=revoked), "success")
    return redirect(url_for("admin.reports_page", _anchor="tokens"))
