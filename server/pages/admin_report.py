"""The day report: tickets issued, served and skipped per service, average waiting and service time.

Pure: it reads event rows (as stored by the hub) and computes; the view fetches and renders.
Waiting time = first call - issue; service time = finish - the call that started the service
(the last `called` event before the finish: a recall does not restart it, a call back after a skip does).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ServiceDay:
    """One row of the report."""

    service: str
    issued: int = 0
    served: int = 0
    skipped: int = 0
    cancelled: int = 0
    expired: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)

    @property
    def avg_wait(self) -> float | None:
        return sum(self.waits) / len(self.waits) if self.waits else None

    @property
    def avg_service(self) -> float | None:
        return sum(self.services) / len(self.services) if self.services else None


def day_report(events: Iterable[Mapping], order: Iterable[str] = ()) -> list[ServiceDay]:
    """Rows per service (catalogue order first, then any others) from one day's event rows."""
    rows: dict[str, ServiceDay] = {code: ServiceDay(code) for code in order}
    issued_at: dict[str, datetime] = {}
    first_call: set[str] = set()
    started: dict[str, datetime] = {}
    skipped: set[tuple[str, str]] = set()
    for event in sorted(events, key=lambda e: e["seq"]):
        kind, ticket, service = event["kind"], event["ticket"], event["service"]
        if ticket is None or service is None:
            continue  # day_closed, hall_changed
        row = rows.setdefault(service, ServiceDay(service))
        at = datetime.fromisoformat(event["at"])
        if kind == "issued":
            row.issued += 1
            issued_at[ticket] = at
        elif kind == "called":
            if ticket not in first_call and ticket in issued_at:
                row.waits.append((at - issued_at[ticket]).total_seconds())
            first_call.add(ticket)
            started[ticket] = at
        elif kind == "finished":
            row.served += 1
            if ticket in started:
                row.services.append((at - started.pop(ticket)).total_seconds())
        elif kind == "skipped":
            if (ticket, service) not in skipped:
                skipped.add((ticket, service))
                row.skipped += 1
            started.pop(ticket, None)
        elif kind == "cancelled":
            row.cancelled += 1
        elif kind == "expired":
            row.expired += 1
    return list(rows.values())


def totals(rows: list[ServiceDay]) -> ServiceDay:
    total = ServiceDay("")
    for row in rows:
        for name in ("issued", "served", "skipped", "cancelled", "expired"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.waits += row.waits
        total.services += row.services
    return total


def duration(seconds: float | None) -> str:
    """12:05 (minutes:seconds), 1:02:03 past an hour, '-' when nothing was measured."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def to_csv(day: str, rows: list[ServiceDay], names: Mapping[str, str], headers: list[str]) -> str:
    """The report as CSV (seconds as whole numbers, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([day, row.service, names.get(row.service, row.service), row.issued, row.served,
                         row.skipped, row.cancelled, row.expired, _secs(row.avg_wait),
                         _secs(row.avg_service)])  # fmt: skip
    return out.getvalue()


def _secs(value: float | None) -> str:
    return "" if value is None else str(round(value))


@dataclass
class OfficerDay:
    """One officer's row of the report: what the tickets of their counter did while signed in."""

    officer: int
    calls: int = 0  # calls and recalls
    served: int = 0
    skipped: int = 0
    services: list[float] = field(default_factory=list)

    @property
    def avg_service(self) -> float | None:
        return sum(self.services) / len(self.services) if self.services else None


def officer_report(events: Iterable[Mapping]) -> list[OfficerDay]:
    """Rows per officer (the event rows' `officer`, a user id), busiest first. A service is
    timed as in day_report and counted for the officer who finished it; events made with nobody
    signed in count for nobody."""
    rows: dict[int, OfficerDay] = {}
    started: dict[str, datetime] = {}
    for event in sorted(events, key=lambda e: e["seq"]):
        kind, ticket, officer = event["kind"], event["ticket"], event.get("officer")
        if ticket is None:
            continue
        at = datetime.fromisoformat(event["at"])
        if kind == "called":
            started[ticket] = at
        start = started.pop(ticket, None) if kind in ("finished", "skipped") else None
        if officer is None:
            continue
        row = rows.setdefault(officer, OfficerDay(officer))
        if kind in ("called", "recalled"):
            row.calls += 1
        elif kind == "finished":
            row.served += 1
            if start is not None:
                row.services.append((at - start).total_seconds())
        elif kind == "skipped":
            row.skipped += 1
    return sorted(rows.values(), key=lambda r: (-r.served, -r.calls, r.officer))
