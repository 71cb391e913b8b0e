"""When a hall and its services are open: weekly hours, hall breaks, the calendar, cut-offs.

Pure: no Flask, SQLite or clock; `now` is an aware datetime in the hall's time zone. A time of
day is a minute after local midnight; a window is `(start, end)`, end exclusive; a week is seven
window tuples, Monday first.

Three layers decide whether a service takes numbers at a moment:
1. the hall's day: a calendar entry (a holiday, cuti bersama: closed; Ramadan: special hours)
   or else the hall's weekly hours (none set: the hall imposes no hours);
2. the service's own weekly hours and its agency's weekdays, inside the hall's day;
3. minus the hall's breaks (Friday prayer, lunch) and, at the end of the day, the service's
   cut-off (no new numbers N minutes before its last closing).
The same layers, without the service's, give the hall's state that the TVs show (open, on a
break, closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, time, timedelta
from itertools import pairwise
import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 24 * 60
ALL_DAY = ((0, DAY),)
# How far ahead "opens again at" looks: a hall closed longer than this says only "closed".
LOOKAHEAD_DAYS = 62

Window = tuple[int, int]
Windows = tuple[Window, ...]
Week = tuple[Windows, ...]

# Why a service takes no numbers now (codes for the screens; their words live in the UI).
SERVICE_REASONS = (
    "holiday",  # the calendar closes the hall today (label: which holiday)
    "closed-day",  # the hall has no hours on this weekday
    "not-today",  # the service or its agency does not serve on this day
    "before-opening",
    "hall-break",  # a break of the whole hall (label: which, e.g. Sholat Jumat)
    "service-break",  # a gap in the service's own hours
    "cutoff",  # the last minutes before closing: numbers issued now could not be served
    "after-closing",
)
HALL_STATES = ("open", "break", "closed")


@dataclass(frozen=True)
class HallBreak:
    """A break of the whole hall on some weekdays, e.g. Friday prayer 11:30-13:00."""

    days: frozenset[int]
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class CalendarEntry:
    """Days that differ from the usual week: closed (hours None) or special hours (Ramadan).

    Special hours over several days apply on the days the hall usually opens; an entry of one
    day applies on that day whatever the usual week says."""

    first: date
    last: date
    label: str
    hours: Windows | None = None

    @property
    def closed(self) -> bool:
        return self.hours is None

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class HallSchedule:
    """The hall's weekly hours (None: it sets none), its breaks and its calendar."""

    hours: Week | None = None
    breaks: tuple[HallBreak, ...] = ()
    calendar: tuple[CalendarEntry, ...] = ()

    # Every service's status asks for the hall's same few days: a memo of the pure functions
    # below, keyed by (what, day). Not a field, so equality and hashing ignore it.
    @cached_property
    def _memo(self) -> dict[tuple[str, date], object]:
        return {}

    def entry(self, day: date) -> CalendarEntry | None:
        """The calendar entry for a day: the shortest range covering it wins (a holiday inside
        Ramadan closes the day), then the one listed last."""
        best = None
        for e in self.calendar:
            if e.covers(day) and (best is None or e.last - e.first <= best.last - best.first):
                best = e
        return best


@dataclass(frozen=True)
class Status:
    """Whether a service takes numbers at a moment, why not, and until when."""

    open: bool
    reason: str  # "open" or one of SERVICE_REASONS
    label: str | None = None  # the holiday's or break's name
    until: datetime | None = None  # open: when it stops; closed: when it opens again (or None)


@dataclass(frozen=True)
class HallStatus:
    """What the TVs show: the hall open, on a break, or closed, and until when."""

    state: str  # one of HALL_STATES
    reason: str  # "open", "hall-break", "holiday", "closed-day", "before-opening", "after-closing"
    label: str | None = None
    until: datetime | None = None


# --- parsing --------------------------------------------------------------------------------


class HoursError(ValueError):
    """Hours text that is not a list of windows; `kind` says why, for a form to word it."""

    KINDS = ("format", "time", "order", "overlap")

    def __init__(self, message: str, kind: str, part: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.part = part


_TIME_TEXT = re.compile(r"\d{1,2}[:.]\d{2}")


def parse_hours(text: str) -> Windows:
    """'07:30-12:00,13:00-16:00' -> ((450, 720), (780, 960)); '' means closed.

    Raises HoursError (a ValueError) naming the bad part: the config and the admin forms both
    parse hours here."""
    windows = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split("-")]
        if len(pieces) != 2 or not all(_TIME_TEXT.fullmatch(p) for p in pieces):
            raise HoursError(f"{part!r} is not a window like 07:30-12:00", "format", part)
        try:
            start, end = parse_time(pieces[0]), parse_time(pieces[1])
        except ValueError:
            raise HoursError(f"{part!r} is not a time of day", "time", part) from None
        if end <= start:
            raise HoursError(f"{part!r} ends before it starts", "order", part)
        windows.append((start, end))
    windows.sort()
    for (_, end), (start, _) in pairwise(windows):
        if start < end:
            raise HoursError(f"windows overlap in {text!r}", "overlap", text)
    return tuple(windows)


def parse_time(text: str) -> int:
    """'07:30' or '07.30' -> 450; '24:00' is the end of the day."""
    hour, minute = text.strip().replace(".", ":").split(":")
    h, m = int(hour), int(minute)
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > DAY:
        raise ValueError(text)
    return h * 60 + m


def format_hours(windows: Windows) -> str:
    return ",".join(f"{format_time(s)}-{format_time(e)}" for s, e in windows)


def format_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def weekday_hours(default: str, by_day: Mapping[str, str] | None = None) -> Week:
    """Opening hours per weekday from a default and per-day overrides ('fri': '07:30-11:30')."""
    by_day = dict(by_day or {})
    unknown = set(by_day) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown day {sorted(unknown)[0]!r}; use one of {', '.join(WEEKDAYS)}")
    base = parse_hours(default)
    return tuple(parse_hours(by_day[d]) if d in by_day else base for d in WEEKDAYS)


def parse_weekdays(names: Iterable[str]) -> frozenset[int]:
    """['mon', 'wed'] -> frozenset({0, 2}); an unknown name raises ValueError naming it."""
    days = set()
    for name in names:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"unknown day {name!r}; use one of {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(key))
    return frozenset(days)


# --- window arithmetic ----------------------------------------------------------------------


def intersect(a: Windows, b: Windows) -> Windows:
    """The minutes in both window lists (each sorted, not overlapping)."""
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s < e:
                out.append((s, e))
    return tuple(sorted(out))


def subtract(a: Windows, cuts: Iterable[Window]) -> Windows:
    """The minutes of `a` outside every cut."""
    out = list(a)
    for cs, ce in cuts:
        nxt = []
        for s, e in out:
            if ce <= s or e <= cs:
                nxt.append((s, e))
                continue
            if s < cs:
                nxt.append((s, cs))
            if ce < e:
                nxt.append((ce, e))
        out = nxt
    return tuple(sorted(out))


def _find(windows: Windows, minute: int) -> Window | None:
    return next((w for w in windows if w[0] <= minute < w[1]), None)


# --- the hall's day -------------------------------------------------------------------------


def hall_day(schedule: HallSchedule, day: date) -> tuple[Windows, CalendarEntry | None]:
    """The hall's open windows on a day before its breaks, and the calendar entry that set them."""
    key = ("day", day)
    if key not in schedule._memo:
        schedule._memo[key] = _hall_day(schedule, day)
    return schedule._memo[key]  # type: ignore[return-value]


def _hall_day(schedule: HallSchedule, day: date) -> tuple[Windows, CalendarEntry | None]:
    usual = ALL_DAY if schedule.hours is None else schedule.hours[day.weekday()]
    entry = schedule.entry(day)
    if entry is None:
        return usual, None
    if entry.hours is None:
        return (), entry
    # Special hours over a range (Ramadan) keep the usual closed days; a one-day entry opens
    # the hall even on a day it usually keeps closed (a Saturday service day).
    if usual or entry.first == entry.last:
        return entry.hours, entry
    return (), None


def hall_breaks(schedule: HallSchedule, day: date) -> tuple[HallBreak, ...]:
    """The hall's breaks that fall inside its open hours on a day."""
    windows, _ = hall_day(schedule, day)
    return tuple(
        b
        for b in schedule.breaks
        if day.weekday() in b.days and intersect(windows, ((b.start, b.end),))
    )


def hall_windows(schedule: HallSchedule, day: date) -> Windows:
    """The hall's open windows on a day, its breaks taken out."""
    key = ("windows", day)
    if key not in schedule._memo:
        windows, _ = hall_day(schedule, day)
        cuts = ((b.start, b.end) for b in hall_breaks(schedule, day))
        schedule._memo[key] = subtract(windows, cuts)
    return schedule._memo[key]  # type: ignore[return-value]


def service_windows(
    schedule: HallSchedule,
    day: date,
    hours: Week | None = None,
    weekdays: frozenset[int] | None = None,
    cutoff: int = 0,
) -> Windows:
    """When a service takes numbers on a day: hall and service hours, its agency's weekdays,
    without the hall's breaks and the last `cutoff` minutes before its final closing."""
    if weekdays is not None and day.weekday() not in weekdays:
        return ()
    windows = hall_windows(schedule, day)
    if hours is not None:
        windows = intersect(windows, hours[day.weekday()])
    if cutoff > 0 and windows:
        windows = subtract(windows, ((windows[-1][1] - cutoff, windows[-1][1]),))
    return windows


# --- status at a moment ---------------------------------------------------------------------


def service_status(
    schedule: HallSchedule,
    now: datetime,
    hours: Week | None = None,
    weekdays: frozenset[int] | None = None,
    cutoff: int = 0,
) -> Status:
    """Whether a service takes numbers at `now`, and if not why and when it opens again."""
    today = now.date()
    minute = now.hour * 60 + now.minute
    windows = service_windows(schedule, today, hours, weekdays, cutoff)

    def later(day: date) -> Windows:
        return service_windows(schedule, day, hours, weekdays, cutoff)

    current = _find(windows, minute)
    if current is not None:
        return Status(True, "open", until=_closing(now, windows, current, later))
    opens = _next_start(now, windows, later)
    reason, label = _why_closed(schedule, today, minute, windows, hours, weekdays, cutoff)
    return Status(False, reason, label, opens)


def _why_closed(
    schedule: HallSchedule,
    day: date,
    minute: int,
    windows: Windows,
    hours: Week | None,
    weekdays: frozenset[int] | None,
    cutoff: int,
) -> tuple[str, str | None]:
    base, entry = hall_day(schedule, day)
    if entry is not None and entry.closed:
        return "holiday", entry.label
    if not base:
        return "closed-day", None
    if not windows:
        return "not-today", None
    for b in hall_breaks(schedule, day):
        if b.start <= minute < b.end:
            return "hall-break", b.label
    uncut = service_windows(schedule, day, hours, weekdays)
    if minute < windows[0][0]:
        return "before-opening", None
    if cutoff > 0 and uncut and minute < uncut[-1][1] and minute >= windows[-1][1]:
        return "cutoff", None
    if minute >= windows[-1][1]:
        return "after-closing", None
    return "service-break", None


def hall_status(schedule: HallSchedule, now: datetime) -> HallStatus:
    """The hall's state at `now` for the TVs: open, on a break (with its label), or closed."""
    today = now.date()
    minute = now.hour * 60 + now.minute
    windows = hall_windows(schedule, today)

    def later(day: date) -> Windows:
        return hall_windows(schedule, day)

    current = _find(windows, minute)
    if current is not None:
        return HallStatus("open", "open", until=_closing(now, windows, current, later))
    opens = _next_start(now, windows, later)
    base, entry = hall_day(schedule, today)
    if entry is not None and entry.closed:
        return HallStatus("closed", "holiday", entry.label, opens)
    for b in hall_breaks(schedule, today):
        if b.start <= minute < b.end:
            return HallStatus("break", "hall-break", b.label, opens)
    if not base:
        return HallStatus("closed", "closed-day", None, opens)
    if minute < windows[0][0]:
        return HallStatus("closed", "before-opening", None, opens)
    return HallStatus("closed", "after-closing", None, opens)


def _at(now: datetime, day: date, minute: int) -> datetime:
    """The local datetime of a minute of a day, in `now`'s time zone ('24:00' is the next day)."""
    start = datetime.combine(day, time(0), tzinfo=now.tzinfo)
    return start + timedelta(minutes=minute)


def _closing(now: datetime, windows: Windows, current: Window, later) -> datetime | None:
    """When an open window ends; a window running to midnight goes on into the next day's
    window from 00:00 (None when it never closes within the look-ahead)."""
    day, end = now.date(), current[1]
    for _ in range(LOOKAHEAD_DAYS):
        if end < DAY:
            return _at(now, day, end)
        day += timedelta(days=1)
        following = later(day)
        if not following or following[0][0] != 0:
            return _at(now, day, 0)
        end = following[0][1]
    return None


def _next_start(now: datetime, windows: Windows, later) -> datetime | None:
    """The next moment a window opens after `now` (today's later windows, then following days)."""
    minute = now.hour * 60 + now.minute
    day = now.date()
    for start, _ in windows:
        if start > minute:
            return _at(now, day, start)
    for _ in range(LOOKAHEAD_DAYS):
        day += timedelta(days=1)
        following = later(day)
        if following:
            return _at(now, day, following[0][0])
    return None


# --- plain data for payloads ----------------------------------------------------------------


def status_dict(status: Status | HallStatus) -> dict:
    """A status as the protocol carries it (times ISO with offset, to the minute)."""
    out = {
        "reason": status.reason,
        "label": status.label,
        "until": None if status.until is None else status.until.isoformat(timespec="seconds"),
    }
    if isinstance(status, HallStatus):
        return {"state": status.state, **out}
    return {"open": status.open, **out}
