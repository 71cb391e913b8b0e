"""Bookings (reservasi) as pure rules: sessions, places left, the code, the check-in window, expiry.

A booking reserves a place in one session of one service on one day. At the hall it is checked in
(kiosk or counter) and becomes an ordinary ticket that joins the queue in check-in order, the rule
SiolaQ uses: a booked visitor is not served before walk-ins who arrived earlier, unless the service
gives bookings priority. A booking nobody checked in by its session's end plus the grace minutes
expires, and its place counts as free again.

No Flask, SQLite or clock in here: `now` is passed in; storage keeps the rows (server/storage.py),
the hub checks in under its lock (Hub.check_in_booking), the pages are server/pages/booking.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server import engine, schedule
from server.engine import Change, Hall, Outcome
from server.protocol import PanggilError

# Six characters without the look-alikes 0/O and 1/I: 32 letters and digits, about a billion codes.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
SESSION_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
# The ticket priority a checked-in booking gets where the service gives bookings priority.
BOOKING_PRIORITY = "booking"
STATUSES = ("booked", "checked_in", "expired", "cancelled")
TAKEN = ("booked", "checked_in")  # the statuses that hold a place of the session's quota


@dataclass(frozen=True)
class Session:
    """One bookable session of a day, e.g. 08:00-09:00 (minutes after midnight)."""

    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class Plan:
    """A service's bookings: its sessions, the quota of each, the grace and the priority."""

    service: str
    sessions: tuple[Session, ...]
    quota: int
    grace_minutes: int = 15
    priority: bool = False

    def session(self, label: str) -> Session:
        for session in self.sessions:
            if session.label == label:
                return session
        raise PanggilError("bad-request", "Sesi tidak dikenal untuk layanan ini.")


@dataclass(frozen=True)
class Booking:
    """One stored booking; times are aware datetimes."""

    code: str
    service: str
    day: str
    session: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime
    status: str = "booked"
    name: str = ""
    phone: str | None = None
    id_last4: str | None = None
    source: str = "web"  # web, csv, api
    external_id: str | None = None
    created_at: datetime | None = None
    checked_in_at: datetime | None = None
    ticket: str | None = None  # the ticket id once checked in
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None  # visitor, api, or the admin's user name
    cancel_reason: str | None = None
    notify: bool = False  # the visitor asked for notices to `phone` (server/notices.py)


def parse_session(text: str) -> Session:
    """ "08:00-09:00" -> Session; ValueError with the reason."""
    found = SESSION_RE.match(text.strip())
    if not found:
        raise ValueError(f"session {text!r}: expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start or end > 24 * 60:
        raise ValueError(f"session {text!r}: the end must come after the start")
    return Session(start, end)


def parse_sessions(texts: list[str]) -> tuple[Session, ...]:
    """A plan's sessions in order; overlapping or repeated sessions are refused."""
    sessions = sorted((parse_session(t) for t in texts), key=lambda s: s.start)
    for before, after in pairwise(sessions):
        if after.start < before.end:
            raise ValueError(f"sessions {before.label} and {after.label} overlap")
    return tuple(sessions)


# --- the code -------------------------------------------------------------------------------


def make_code(random_bytes: bytes) -> str:
    """A booking code from CODE_LENGTH random bytes (the shell passes secrets.token_bytes)."""
    if len(random_bytes) < CODE_LENGTH:
        raise ValueError("need more random bytes")
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in random_bytes[:CODE_LENGTH])


def normalise_code(text: object) -> str:
    """What a visitor typed or a camera read, as a code; raises unknown-booking when it is none.

    Spaces and dashes are dropped and letters upper-cased. A scanned QR may hold more than the
    code (a URL ending in it): the last code-shaped run wins.
    """
    if not isinstance(text, str):
        raise PanggilError("unknown-booking")
    cleaned = re.sub(r"[\s-]", "", text).upper()
    found = re.findall(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}(?![{CODE_ALPHABET}])", cleaned)
    if len(cleaned) > 200 or not found:
        raise PanggilError("unknown-booking")
    return found[-1]


def id_last4(text: str | None) -> str | None:
    """The last four digits of an ID (NIK) number: never more is kept."""
    if text is None or not text.strip():
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) != 4:
        raise PanggilError("bad-request", "Isi hanya 4 digit terakhir NIK.")
    return digits


# --- sessions on a day ------------------------------------------------------------------------


def session_times(day: date, session: Session, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The session's start and end as aware datetimes in the hall's zone."""
    midnight = datetime.combine(day, time(0), tz)
    return midnight + timedelta(minutes=session.start), midnight + timedelta(minutes=session.end)


def bookable_days(today: date, days_ahead: int) -> list[date]:
    """The days a visitor may choose: today and the next `days_ahead` days."""
    return [today + timedelta(days=i) for i in range(days_ahead + 1)]


def service_opens(hall: Hall, service_code: str, day: date, session: Session) -> bool:
    """Whether the service takes visitors during (part of) the session on that day."""
    service = hall.services.get(service_code)
    if service is None or not service.active:
        return False
    if not hall.enforce_hours:
        return True
    agency = hall.agencies.get(service.agency)
    windows = schedule.service_windows(
        hall.schedule, day, service.hours, None if agency is None else agency.weekdays
    )
    return any(start < session.end and session.start < end for start, end in windows)


def open_sessions(hall: Hall, plan: Plan, day: date) -> list[Session]:
    """The plan's sessions during which the service opens on that day."""
    return [s for s in plan.sessions if service_opens(hall, plan.service, day, s)]


def places_left(plan: Plan, taken: Mapping[str, int], session: Session) -> int:
    """The session's free places: its quota less the bookings that hold one (booked, checked in)."""
    return max(0, plan.quota - taken.get(session.label, 0))


def session_rows(
    hall: Hall, plan: Plan, day: date, taken: Mapping[str, int], now: datetime, tz: ZoneInfo
) -> list[dict]:
    """Each session of a day as the booking page lists it: places left and whether it can be booked."""
    rows = []
    for session in plan.sessions:
        _start, end = session_times(day, session, tz)
        left = places_left(plan, taken, session)
        if end <= now:
            state = "past"
        elif not service_opens(hall, plan.service, day, session):
            state = "closed"
        elif left == 0:
            state = "full"
        else:
            state = "open"
        rows.append({"session": session.label, "left": left, "quota": plan.quota, "state": state})
    return rows


def admit(
    hall: Hall,
    plan: Plan,
    day: date,
    session: Session,
    taken: Mapping[str, int],
    now: datetime,
    tz: ZoneInfo,
    days_ahead: int,
) -> None:
    """Raise the refusal when this session cannot take one more booking now."""
    today = now.astimezone(tz).date()
    if day < today or day > today + timedelta(days=days_ahead):
        raise PanggilError("booking-closed")
    _start, end = session_times(day, session, tz)
    if end <= now or not service_opens(hall, plan.service, day, session):
        raise PanggilError("booking-closed")
    if places_left(plan, taken, session) <= 0:
        raise PanggilError("session-full")


def new_booking(
    plan: Plan, day: date, session: Session, code: str, now: datetime, tz: ZoneInfo, **details
) -> Booking:
    """The booking to store: its session's times and when it expires unchecked."""
    start, end = session_times(day, session, tz)
    return Booking(code=code, service=plan.service, day=day.isoformat(), session=session.label,
                   starts_at=start, ends_at=end,
                   expires_at=end + timedelta(minutes=plan.grace_minutes), created_at=now,
                   **details)  # fmt: skip


# --- check-in and expiry ------------------------------------------------------------------------


def check_in_window(booking: Booking, early_minutes: int) -> tuple[datetime, datetime]:
    """From `early_minutes` before the session's start to its end plus the grace."""
    return booking.starts_at - timedelta(minutes=early_minutes), booking.expires_at


def check_in(
    hall: Hall, booking: Booking, now: datetime, *, early_minutes: int, priority: bool
) -> Outcome:
    """Turn a booking into a ticket that joins the queue now (first come at check-in).

    The place was reserved, so the service's daily quota and cut-off do not refuse it; the session
    window does. A booking already checked in is the caller's to answer (its ticket, no new one).
    """
    if booking.status == "checked_in":
        raise PanggilError("booking-checked-in")
    if booking.status == "cancelled":
        raise PanggilError("booking-cancelled")
    if booking.status != "booked":
        raise PanggilError("booking-expired")
    opens, closes = check_in_window(booking, early_minutes)
    if now < opens:
        raise PanggilError("booking-too-early", opens=opens.isoformat(timespec="minutes"))
    if now >= closes:
        raise PanggilError("booking-expired")
    if booking.day != hall.day:
        raise PanggilError("booking-expired")
    service = hall.services.get(booking.service)
    if service is None:
        raise PanggilError("unknown-service")
    if not service.active:
        raise PanggilError("service-closed")
    # Issued by the engine's own rule, without the walk-in limits the reservation already passed.
    relaxed = replace(service, daily_quota=None)
    outcome = engine.issue_ticket(
        replace(hall, enforce_hours=False, services=_with(hall.services, relaxed)),
        service.code,
        now,
    )
    ticket = outcome.last.ticket
    assert ticket is not None
    if priority:
        ticket = replace(ticket, priority=BOOKING_PRIORITY)
    new_hall = replace(
        outcome.hall,
        enforce_hours=hall.enforce_hours,
        services=hall.services,
        tickets=engine.frozen_map({**outcome.hall.tickets, ticket.id: ticket}),
    )
    data = engine.frozen_map({"booking": {"code": booking.code, "session": booking.session}})
    return Outcome(new_hall, (Change("issued", ticket, now, data=data),))


def expired(bookings: list[Booking], now: datetime) -> list[Booking]:
    """The bookings nobody checked in before their session's end plus the grace."""
    return [b for b in bookings if b.status == "booked" and b.expires_at <= now]


def cancel(booking: Booking, now: datetime, by: str, reason: str | None = None) -> Booking:
    """The booking cancelled now: its place returns to the session at once (TAKEN no longer holds it).

    Cancelling a cancelled booking changes nothing and returns it as it is (a retry is answered
    alike). A booking checked in, expired, or past its expiry not yet swept, cannot be cancelled.
    """
    if booking.status == "cancelled":
        return booking
    if booking.status != "booked" or booking.expires_at <= now:
        status = "expired" if booking.status == "booked" else booking.status
        raise PanggilError("booking-not-cancellable", status=status)
    return replace(booking, status="cancelled", cancelled_at=now, cancelled_by=by,
                   cancel_reason=reason or None)  # fmt: skip


def booking_dict(booking: Booking) -> dict:
    """The protocol's booking object (no name or phone: those stay in the admin's list)."""
    return {
        "code": booking.code,
        "service": booking.service,
        "day": booking.day,
        "session": booking.session,
        "status": booking.status,
        "starts_at": booking.starts_at.isoformat(timespec="minutes"),
        "expires_at": booking.expires_at.isoformat(timespec="minutes"),
        "ticket": booking.ticket,
        "cancelled_at": booking.cancelled_at.isoformat(timespec="seconds")
        if booking.cancelled_at
        else None,
    }


def _with(services: Mapping[str, engine.Service], service: engine.Service) -> Mapping:
    return engine.frozen_map({**services, service.code: service})


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
