"""The period report as files: CSV for any spreadsheet and XLSX (openpyxl) with a sheet per grouping.

Both carry the same rows as the Laporan page; times are in minutes, the target share in percent.
The words (headers, sheet names) come translated from the view, so the files speak the page's
language (Indonesian by default).

CSV: UTF-8 with a byte order mark (Excel then reads UTF-8), `;` between fields and a decimal
comma (12,5). Excel in Indonesian takes its list separator from the regional settings, where the
decimal separator is the comma and so the list separator is `;`: a `,` file opens there as one
column, and a decimal point would turn 12.5 into text or a date. LibreOffice and Google Sheets ask
or detect the separator. One table holds every grouping: its first column names the grouping
(a pivot table filters on it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import datetime

from server.reports import Figures, Report, officer_name

# The groupings in the order of the page, each with how a row is keyed and named.
GROUPINGS = ("agencies", "services", "counters", "officers", "hours", "days")
FIGURE_COLUMNS = (
    "issued", "served", "skipped", "cancelled", "expired",
    "wait_mean", "wait_median", "wait_p90", "service_mean", "service_median", "service_p90",
    "within_target", "with_target",
)  # fmt: skip
MINUTE_COLUMNS = {c for c in FIGURE_COLUMNS if c.startswith(("wait_", "service_"))}


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def figure_values(f: Figures) -> list[float | int | None]:
    """One row's figures: counts, times in minutes, the target share (0..1) and its base."""
    w, s = f.wait, f.service_time
    return [f.issued, f.served, f.skipped, f.cancelled, f.expired,
            minutes(w.mean), minutes(w.median), minutes(w.p90),
            minutes(s.mean), minutes(s.median), minutes(s.p90),
            f.target_share, f.with_target]  # fmt: skip


def group_rows(report: Report, grouping: str) -> list[tuple[str, str, Figures]]:
    """(code, name, figures) of every row of a grouping, in the page's order."""
    c = report.catalogue
    namers: dict[str, Callable[[object], str]] = {
        "agencies": lambda k: c.agencies.get(str(k), str(k)),
        "services": lambda k: c.services[str(k)].name if k in c.services else str(k),
        "counters": lambda k: c.counters.get(k, str(k)),  # type: ignore[call-overload]
        "officers": lambda k: officer_name(c, k),  # type: ignore[arg-type]
        "hours": lambda k: f"{k:02d}.00",
        "days": lambda k: str(k),
    }
    groups: Mapping = getattr(report, grouping)
    return [(str(key), namers[grouping](key), f) for key, f in groups.items()]


def _csv_number(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value * 100:.1f}" if percent else f"{value:.2f}"
    return text.replace(".", ",")


def to_csv(report: Report, texts: Mapping[str, str]) -> bytes:
    """Every grouping in one table (see the module's docstring for the separators)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([texts["grouping"], texts["code"], texts["name"],
                     *(texts[c] for c in FIGURE_COLUMNS)])  # fmt: skip
    rows = [(texts["total"], "", texts["total"], report.total)]
    rows += [
        (texts[g], code, name, f) for g in GROUPINGS for code, name, f in group_rows(report, g)
    ]
    for grouping, code, name, f in rows:
        values = figure_values(f)
        writer.writerow([grouping, code, name] + [
            _csv_number(v, percent=column == "within_target")
            for column, v in zip(FIGURE_COLUMNS, values)
        ])  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report, texts: Mapping[str, str], hall_name: str, made_at: datetime) -> bytes:
    """A workbook: the summary, a sheet per grouping, the day x hour heatmap; numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    summary = book.active
    summary.title = _sheet_name(texts["summary"])
    period = f"{report.period.first.isoformat()} - {report.period.last.isoformat()}"
    for label, value in [
        (texts["hall"], hall_name),
        (texts["period"], period),
        (texts["agency"], report.agency or texts["all"]),
        (texts["service"], report.service or texts["all"]),
        (texts["made_at"], made_at.strftime("%Y-%m-%d %H:%M")),
    ]:
        summary.append([label, value])
        summary.cell(summary.max_row, 1).font = bold
    summary.append([])
    _figure_table(summary, [(texts["total"], "", report.total)], texts, texts["total"])
    for grouping in GROUPINGS:
        sheet = book.create_sheet(_sheet_name(texts[grouping]))
        _figure_table(sheet, group_rows(report, grouping), texts, texts[grouping])
    heat = book.create_sheet(_sheet_name(texts["heatmap"]))
    hours = report.busy_hours
    heat.append([texts["day"], *(f"{h:02d}" for h in hours), texts["total"]])
    for cell in heat[1]:
        cell.font = bold
    for day, row in report.heatmap.items():
        heat.append([day, *(row[h] for h in hours), sum(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _figure_table(sheet, rows: list, texts: Mapping[str, str], key_label: str) -> None:
    from openpyxl.styles import Font

    sheet.append([texts["code"], key_label, *(texts[c] for c in FIGURE_COLUMNS)])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    for code, name, f in rows:
        sheet.append([code, name, *figure_values(f)])
        for column, cell in zip(FIGURE_COLUMNS, sheet[sheet.max_row][2:]):
            if column in MINUTE_COLUMNS:
                cell.number_format = "0.0"
            elif column == "within_target":
                cell.number_format = "0.0%"
    sheet.column_dimensions["B"].width = 28


def _sheet_name(text: str) -> str:
    """Excel's rule: at most 31 characters, none of []:*?/\\."""
    return "".join(ch for ch in text if ch not in "[]:*?/\\")[:31]
