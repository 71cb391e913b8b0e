"""Period reports: what a hall head sends the mayor each month, computed from the event history.

Pure: event rows and the catalogue come in, plain data goes out; no Flask, no SQLite, no clock.
The shells (the Laporan page, `GET /api/reports/summary`, the CSV and XLSX exports) read the rows
with `Storage.read_report` and render what `summarise` returns.

Each figure is counted where and when its event happened, as in the day report:
- issued: the `issued` event (its service is the one the visitor chose; no counter or officer);
- waiting time = the ticket's first `called` - its `issued`, counted for the service, counter and
  officer of that first call and in the hour it was made;
- served and service time = `finished` - the `called` that started the service (the last call
  before the finish: a recall does not restart it, a call back after a skip does), counted for
  the service, counter and officer that finished it;
- skipped: once per ticket and service (a second skip of the same number counts once);
- cancelled, expired: their events (for no counter or officer: a skipped ticket that expires
  at the day's end is not its counter's doing);
- calls: every call and recall, for the counter and officer that made it (an officer's workload).
Hours are the hall's local time; days are service days (the `day` every event carries).

Within target: a first call is within its service's target wait when the whole minutes waited do
not exceed the target (the monitor's rule, `server/targets.py`); services without a target are
left out of the share. The target is the service's current one (the history does not keep older
targets).

Percentiles: the median is the middle value (the mean of the two middle values for an even count,
as a spreadsheet's MEDIAN); the 90th percentile is the nearest rank: sort the times and take the
one at rank ceil(0.9 x n). It is always a time somebody actually waited, and a hall head can check
it by hand from a sorted list, which an interpolated percentile cannot offer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, timedelta
from typing import NamedTuple

from server.protocol import PanggilError
from server.targets import is_past_target

# The longest period one report covers: a year, leap day included.
MAX_DAYS = 366


# The kinds of event a report counts, as the small numbers Storage.read_report gives them (a
# number costs nothing to read; a month is ~270,000 rows). Recalls and transfers count nothing.
KINDS = ("issued", "called", "finished", "skipped", "cancelled", "expired", "recalled")
ISSUED, CALLED, FINISHED, SKIPPED, CANCELLED, EXPIRED, RECALLED = range(len(KINDS))


class EventRow(NamedTuple):
    """One stored ticket event, as `Storage.read_report` returns it (a plain tuple in this order).

    Rows come grouped by ticket, each ticket's in the order they happened (seq), so each ticket
    starts with its `issued` row (a ticket comes to be only by being issued, and all its events
    belong to its day). Only that row carries the day: the other rows of the ticket are its day's.
    """

    day: str | None  # the service day, YYYY-MM-DD, on the issued row; None on the others
    kind: int  # an index into KINDS
    at: int  # milliseconds since the epoch
    hour: int  # the hour on the hall's clock when it happened (as the event was stored)
    counter: int | None
    service: str | None
    officer: int | None


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    agency: str
    target_wait: int | None = None


@dataclass(frozen=True)
class Catalogue:
    """Names and targets for the report, in the admin's order (dicts keep it)."""

    agencies: Mapping[str, str]  # code -> name
    services: Mapping[str, ServiceInfo]
    counters: Mapping[int, str]  # number -> name
    officers: Mapping[int, tuple[str, str]]  # user id -> (username, full name)


def catalogue_from_rows(rows: Mapping[str, Iterable[Sequence]]) -> Catalogue:
    """The Catalogue from the rows `Storage.read_report` returns with the events."""
    return Catalogue(
        agencies={code: name for code, name in rows["agencies"]},
        services={code: ServiceInfo(code, name, agency, target)
                  for code, name, agency, target in rows["services"]},
        counters={number: name for number, name in rows["counters"]},
        officers={user_id: (username, full_name or "")
                  for user_id, username, full_name in rows["officers"]},
    )  # fmt: skip


@dataclass(frozen=True)
class Period:
    """An inclusive range of service days."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def parse_period(first: str | None, last: str | None) -> Period:
    """The `from` and `to` of a request as a Period; refuses what no report can cover."""
    try:
        start = date.fromisoformat(first or "")
        end = date.fromisoformat(last or "")
    except ValueError:
        raise PanggilError("bad-date") from None
    if len(first or "") != 10 or len(last or "") != 10:  # 20261201 parses too: ask for one form
        raise PanggilError("bad-date")
    if start > end:
        raise PanggilError("bad-date-range")
    if (end - start).days + 1 > MAX_DAYS:
        raise PanggilError("range-too-long")
    return Period(start, end)


PRESETS = ("today", "week", "month", "last_month")


def preset_period(name: str, today: date) -> Period:
    """The Laporan page's quick ranges: today, this week (from Monday), this month, last month."""
    if name == "today":
        return Period(today, today)
    if name == "week":
        return Period(today - timedelta(days=today.weekday()), today)
    if name == "month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    raise ValueError(name)


@dataclass(frozen=True)
class Times:
    """Durations in seconds: how many, mean, median and 90th percentile (nearest rank)."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None


def times(values: Sequence[float]) -> Times:
    if not values:
        return Times(0, None, None, None)
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return Times(n, math.fsum(ordered) / n, median, nearest_rank(ordered, 90))


def nearest_rank(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile of sorted values by nearest rank: the value at rank ceil(p/100 x n)."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figures:
    """What happened in one group (a service, a counter, an hour, ...)."""

    issued: int = 0
    served: int = 0
    skipped: int = 0
    cancelled: int = 0
    expired: int = 0
    calls: int = 0  # calls and recalls
    waits: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)
    within_target: int = 0
    with_target: int = 0  # first calls of services that have a target

    def add(self, other: Figures) -> None:
        self.issued += other.issued
        self.served += other.served
        self.skipped += other.skipped
        self.cancelled += other.cancelled
        self.expired += other.expired
        self.calls += other.calls
        self.waits += other.waits
        self.service_times += other.service_times
        self.within_target += other.within_target
        self.with_target += other.with_target

    # Worked out once, when asked, after the groups are complete (a month's group sorts ~90,000).
    @cached_property
    def wait(self) -> Times:
        return times(self.waits)

    @cached_property
    def service_time(self) -> Times:
        return times(self.service_times)

    @property
    def target_share(self) -> float | None:
        """The share (0..1) of first calls within the target, None when no target applied."""
        return self.within_target / self.with_target if self.with_target else None


@dataclass
class Report:
    """A period's figures, grouped every way the page and the exports show them."""

    period: Period
    agency: str | None
    service: str | None
    catalogue: Catalogue
    total: Figures
    agencies: dict[str, Figures]
    services: dict[str, Figures]
    counters: dict[int, Figures]
    officers: dict[int, Figures]
    hours: dict[int, Figures]
    days: dict[str, Figures]  # every day of the period, in order, empty ones too
    heatmap: dict[str, list[int]]  # day -> tickets issued in each hour 0..23

    @property
    def busy_hours(self) -> list[int]:
        """The heatmap's columns: every hour from the first to the last in which tickets were
        taken (the expiries at the day's end are no visitors' hours)."""
        taken = [h for h in range(24) if any(row[h] for row in self.heatmap.values())]
        return list(range(taken[0], taken[-1] + 1)) if taken else []


# The finest cell every event is counted in; the groups are sums of cells. Counting each event
# once per cell instead of once per group keeps a month of a big hall (~400,000 events) fast.
Cell = tuple[str, int, str | None, int | None, int | None]  # day, hour, service, counter, officer


def summarise(
    events: Iterable[Sequence],
    catalogue: Catalogue,
    period: Period,
    *,
    agency: str | None = None,
    service: str | None = None,
) -> Report:
    """The report of a period from its ticket events (EventRow order: grouped by ticket, each in
    seq order), optionally for one agency or one service (an event counts when its service
    belongs to it)."""
    if agency is not None and agency not in catalogue.agencies:
        raise PanggilError("unknown-agency")
    if service is not None and service not in catalogue.services:
        raise PanggilError("unknown-service")
    wanted = _wanted(catalogue, agency, service)
    cells: dict[Cell, Figures] = {}
    targets = {code: s.target_wait for code, s in catalogue.services.items()}
    day = ""
    issued_at: int | None = None
    called = False
    started: int | None = None
    skipped: tuple = ()
    for row_day, kind, at, hour, counter, svc, officer in events:
        # Follow every event of the ticket, filtered or not: a transfer moves it between services.
        wait = duration = None
        if kind == ISSUED:  # the next ticket: its own story from here
            day, issued_at, called, started, skipped = row_day, at, False, None, ()
        elif kind == CALLED:
            if not called:
                called = True
                if issued_at is not None:
                    wait = (at - issued_at) / 1000
            started = at
        elif kind == FINISHED:
            if started is not None:
                duration = (at - started) / 1000
                started = None
        elif kind == SKIPPED:
            started = None
            if svc in skipped:
                continue
            skipped += (svc,)
        elif kind in (CANCELLED, EXPIRED):
            counter = officer = None  # the visitor's or the day's doing, not a counter's
        elif kind != RECALLED:
            continue
        if wanted is not None and svc not in wanted:
            continue
        key = (day, hour, svc, counter, officer)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Figures()
        if kind == ISSUED:
            cell.issued += 1
        elif kind == RECALLED:
            cell.calls += 1
        elif kind == CALLED:
            cell.calls += 1
            if wait is not None:
                cell.waits.append(wait)
                target = targets.get(svc) if svc else None
                if target is not None:
                    cell.with_target += 1
                    if not is_past_target(int(wait // 60), target):
                        cell.within_target += 1
        elif kind == FINISHED:
            cell.served += 1
            if duration is not None:
                cell.service_times.append(duration)
        elif kind == SKIPPED:
            cell.skipped += 1
        elif kind == CANCELLED:
            cell.cancelled += 1
        else:
            cell.expired += 1
    return _group(cells, catalogue, period, agency, service)


def _wanted(catalogue: Catalogue, agency: str | None, service: str | None) -> set[str] | None:
    if service is not None:
        return {service}
    if agency is not None:
        return {code for code, s in catalogue.services.items() if s.agency == agency}
    return None


def _group(
    cells: Mapping[Cell, Figures],
    catalogue: Catalogue,
    period: Period,
    agency: str | None,
    service: str | None,
) -> Report:
    total = Figures()
    by_agency: dict[str, Figures] = {}
    by_service: dict[str, Figures] = {}
    by_counter: dict[int, Figures] = {}
    by_officer: dict[int, Figures] = {}
    by_hour: dict[int, Figures] = {}
    by_day: dict[str, Figures] = {d.isoformat(): Figures() for d in period.days}
    heatmap: dict[str, list[int]] = {d: [0] * 24 for d in by_day}
    for (day, hour, svc, counter, officer), cell in cells.items():
        # Each cell's times sorted first: the groups' sorts then merge sorted runs, much faster.
        cell.waits.sort()
        cell.service_times.sort()
        total.add(cell)
        info = catalogue.services.get(svc) if svc else None
        if info is not None:
            _into(by_agency, info.agency, cell)
        if svc is not None:
            _into(by_service, svc, cell)
        if counter is not None:
            _into(by_counter, counter, cell)
        if officer is not None:
            _into(by_officer, officer, cell)
        _into(by_hour, hour, cell)
        _into(by_day, day, cell)
        heatmap.setdefault(day, [0] * 24)[hour] += cell.issued
    return Report(
        period=period,
        agency=agency,
        service=service,
        catalogue=catalogue,
        total=total,
        agencies=_ordered(by_agency, list(catalogue.agencies)),
        services=_ordered(by_service, list(catalogue.services)),
        counters=dict(sorted(by_counter.items())),
        officers=dict(
            sorted(by_officer.items(), key=lambda kv: (officer_name(catalogue, kv[0]), kv[0]))
        ),
        hours=dict(sorted(by_hour.items())),
        days=dict(sorted(by_day.items())),
        heatmap=dict(sorted(heatmap.items())),
    )


def _into(groups: dict, key: object, cell: Figures) -> None:
    group = groups.get(key)
    if group is None:
        group = groups[key] = Figures()
    group.add(cell)


def _ordered(groups: Mapping, order: list) -> dict:
    """The groups in the catalogue's order, then any no longer in the catalogue."""
    known = {key: groups[key] for key in order if key in groups}
    return known | {key: value for key, value in groups.items() if key not in known}


def officer_name(catalogue: Catalogue, user_id: int) -> str:
    username, full_name = catalogue.officers.get(user_id, ("", ""))
    return full_name or username or f"#{user_id}"


# --- the API's JSON ---------------------------------------------------------------------------


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def times_json(t: Times) -> dict:
    return {"count": t.count, "mean": _seconds(t.mean), "median": _seconds(t.median),
            "p90": _seconds(t.p90)}  # fmt: skip


def figures_json(f: Figures) -> dict:
    share = f.target_share
    return {
        "issued": f.issued,
        "served": f.served,
        "skipped": f.skipped,
        "cancelled": f.cancelled,
        "expired": f.expired,
        "calls": f.calls,
        "wait": times_json(f.wait),
        "service_time": times_json(f.service_time),
        "within_target": {
            "count": f.within_target,
            "of": f.with_target,
            "share": None if share is None else round(share, 4),
        },
    }


def report_json(report: Report, timezone_name: str) -> dict:
    """The report as `GET /api/reports/summary` answers it (docs/protocol.md); times in seconds."""
    c = report.catalogue
    return {
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "agency": report.agency,
        "service": report.service,
        "timezone": timezone_name,
        "total": figures_json(report.total),
        "by_agency": [
            {"agency": code, "name": c.agencies.get(code, code), **figures_json(f)}
            for code, f in report.agencies.items()
        ],
        "by_service": [
            {
                "service": code,
                "name": _service(c, code).name,
                "agency": _service(c, code).agency,
                "target_wait": _service(c, code).target_wait,
                **figures_json(f),
            }
            for code, f in report.services.items()
        ],
        "by_counter": [
            {"counter": number, "name": c.counters.get(number, str(number)), **figures_json(f)}
            for number, f in report.counters.items()
        ],
        "by_officer": [
            {
                "officer": user_id,
                "username": c.officers.get(user_id, ("", ""))[0],
                "name": officer_name(c, user_id),
                **figures_json(f),
            }
            for user_id, f in report.officers.items()
        ],
        "by_hour": [{"hour": hour, **figures_json(f)} for hour, f in report.hours.items()],
        "by_day": [{"day": day, **figures_json(f)} for day, f in report.days.items()],
        "heatmap": {
            "hours": report.busy_hours,
            "days": [
                {"day": day, "issued": [row[h] for h in report.busy_hours]}
                for day, row in report.heatmap.items()
            ],
        },
    }


def _service(catalogue: Catalogue, code: str) -> ServiceInfo:
    return catalogue.services.get(code) or ServiceInfo(code, code, "")
