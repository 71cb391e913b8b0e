"""Admin view of the satisfaction survey (SKM): the IKM for a period, per hall, agency and service,
the respondents against the minimum sample, the free comments, a CSV, and the tablets' addresses.

The figures come from server/survey.py (the same as `GET /api/reports/skm`).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from server import survey
from server.pages.admin_catalogue import qr_svg
from server.pages.admin_common import bp, hub, render, report_tabs
from server.protocol import PanggilError


def _period() -> tuple[str, str, str | None]:
    """The chosen period (default: the current month up to today), or an error text."""
    today = date.fromisoformat(hub().hall.day or date.today().isoformat())
    first = request.args.get("from") or today.replace(day=1).isoformat()
    last = request.args.get("to") or today.isoformat()
    try:
        first, last = survey.period(first, last)
    except PanggilError:
        start = today.replace(day=1).isoformat()
        return (
            start,
            today.isoformat(),
            _("Choose a period of at most a year, the first day before the last."),
        )
    return first, last, None


def _filters() -> tuple[str | None, str | None]:
    return request.args.get("service") or None, request.args.get("agency") or None


@bp.get("/skm")
def skm():
    """The IKM of a period, with its groups, comments and the survey tablets' addresses."""
    first, last, problem = _period()
    service, agency = _filters()
    h = hub()
    figures = survey.report(h, first, last, service, agency)
    addresses = [
        (number, counter.name, request.host_url.rstrip("/") + url_for(
            "survey.tablet", number=number,
            token=survey.tablet_token(current_app.secret_key, number, h.tokens[number])))
        for number, counter in sorted(h.hall.counters.items())
        if counter.active and number in h.tokens
    ]  # fmt: skip
    # Each address also as a QR code, so that the tablet's camera opens it (nothing to type).
    tablets = [(number, name, address, qr_svg(address)) for number, name, address in addresses]
    previous = date.fromisoformat(first).replace(day=1) - timedelta(days=1)
    shortcuts = [
        (_("This month"), date.fromisoformat(last).replace(day=1).isoformat(), last),
        (_("Last month"), previous.replace(day=1).isoformat(), previous.isoformat()),
    ]
    return render("admin/skm.html", figures=figures, first=first, last=last, problem=problem,
                  service=service, agency=agency, services=h.hall.services, agencies=h.hall.agencies,
                  tablets=tablets, shortcuts=shortcuts, tabs=report_tabs(),
                  active_nav="admin.reports_page")  # fmt: skip


@bp.get("/skm.csv")
def skm_csv():
    """The period's figures as CSV: one row per group (hall, agencies, services) and element."""
    first, last, _problem = _period()
    service, agency = _filters()
    figures = survey.report(hub(), first, last, service, agency)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("from"), _("to"), _("group"), _("code"), _("name"), _("respondents"),
                     _("population"), _("minimum sample"), _("element"), _("NRR"), _("IKM"),
                     _("grade")])  # fmt: skip
    groups = [("hall", "", _("Whole hall"), figures)]
    groups += [("agency", g["agency"], g["name"], g) for g in figures["by_agency"]]
    groups += [("service", g["service"], g["name"], g) for g in figures["by_service"]]
    for kind, code, name, g in groups:
        base = [
            first,
            last,
            kind,
            code,
            name,
            g["respondents"],
            g["population"],
            g["minimum_sample"],
        ]
        writer.writerow([*base, "IKM", "", _number(g["ikm"]), g["grade"] or ""])
        for e in g["elements"]:
            writer.writerow([*base, e["code"], f"{e['nrr']:.4f}", _number(e["ikm"]), e["grade"]])
    return Response(
        "\ufeff" + out.getvalue(),  # BOM: spreadsheets then read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="skm-{first}-{last}.csv"'},
    )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
