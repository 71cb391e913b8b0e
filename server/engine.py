"""The queue rules of a hall as pure functions: state + command + now -> new state + changes.

No Flask, SQLite, sockets or clock in here. Every function either returns an Outcome or raises
PanggilError, and an error always leaves the given Hall untouched (it is immutable anyway: the
shells only swap in the new Hall after they have stored the changes).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from server import schedule
from server.protocol import BREAK_REASONS, PRIORITIES, PanggilError
from server.schedule import WEEKDAYS, format_hours, parse_hours, weekday_hours

__all__ = ["WEEKDAYS", "format_hours", "parse_hours", "weekday_hours"]  # re-exported: one home
OPEN_STATUSES = ("waiting", "called", "skipped")


def frozen_map(items: Mapping | None = None) -> Mapping:
    """An immutable mapping, so a Hall can be shared between threads without copies."""
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Agency:
    """An agency (instansi) serving in the hall."""

    code: str
    name: str
    # The weekdays (0 = Monday) the agency serves in the hall; None: every day the hall opens.
    weekdays: frozenset[int] | None = None


@dataclass(frozen=True)
class Service:
    """A queue (layanan) with its own ticket prefix, quota and hours."""

    code: str
    name: str
    agency: str
    prefix: str
    daily_quota: int | None = None
    # hours[weekday] is a tuple of (start minute, end minute) windows; weekday 0 is Monday.
    # An empty tuple for a day means closed that day; None means open all day every day.
    hours: tuple[tuple[tuple[int, int], ...], ...] | None = None
    target_wait: int | None = None  # minutes a visitor should wait at most; None: no target
    priority_allowed: bool = True
    active: bool = True
    # No new numbers this many minutes before the service's last closing of the day.
    cutoff: int = 0
    # The visitor's phone alerts when this many people or fewer are ahead (0: only when called).
    alert_ahead: int = 3


@dataclass(frozen=True)
class Officer:
    """A user signed in to a counter: who calls and finishes its tickets (per-officer reports).

    The shells check who it is (a web session, or a PIN on the keypad); the rules only record it.
    """

    id: int
    username: str
    full_name: str = ""


@dataclass(frozen=True)
class Counter:
    """A desk (gerai) and the services it calls, in its order of preference."""

    number: int
    name: str
    spoken_name: str
    services: tuple[str, ...]
    active: bool = True
    state: str = "open"  # open or break; an inactive counter is closed whatever its state
    break_reason: str | None = None  # one of BREAK_REASONS while on break
    break_until: str | None = None  # "HH:MM", the return time the officer gave, if any
    break_since: datetime | None = None
    officer: Officer | None = None  # who is signed in at the desk, if anyone

    @property
    def serving(self) -> bool:
        """Whether the counter calls tickets now: active and not on break."""
        return self.active and self.state == "open"


@dataclass(frozen=True)
class Ticket:
    """One number taken by one visitor on one day."""

    id: str
    day: str
    number: str
    prefix: str
    seq: int
    service: str
    origin_service: str
    priority: str | None
    status: str
    issued_at: datetime
    order: int
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: int | None = None
    calls: int = 0
    called_by: Officer | None = None  # the officer of the latest call (or recall)
    finished_by: Officer | None = None  # the officer who finished it (status done)
    # Who took it from a phone (a hash of the phone's device cookie; never in the protocol): one
    # open number per service per phone. None for kiosk and API numbers.
    holder: str | None = None


@dataclass(frozen=True)
class Change:
    """One fact that happened to a ticket or a counter; stored as an event row and broadcast.

    A ticket's change names its ticket; a counter's (paused, resumed) has none and names the
    counter, whose new state is in the Outcome's hall.
    """

    kind: str  # issued, called, recalled, finished, skipped, transferred, cancelled, expired,
    # paused, resumed, signed_in, signed_out
    ticket: Ticket | None
    at: datetime
    counter: int | None = None
    data: Mapping = field(default_factory=frozen_map)
    officer: Officer | None = None  # the officer signed in at the counter that made the change


@dataclass(frozen=True)
class Hall:
    """Everything the rules need about one service day.

    `tickets` holds today's open tickets only (waiting, called, skipped): finished ones live in
    storage, which keeps the state small on a day of thousands of tickets. `ended` keeps just the
    numbers of today's others (done, cancelled, expired), so that a command naming one is told
    the ticket cannot be called rather than that it does not exist.
    """

    day: str
    agencies: Mapping[str, Agency] = field(default_factory=frozen_map)
    services: Mapping[str, Service] = field(default_factory=frozen_map)
    counters: Mapping[int, Counter] = field(default_factory=frozen_map)
    tickets: Mapping[str, Ticket] = field(default_factory=frozen_map)
    last_seq: Mapping[str, int] = field(default_factory=frozen_map)  # per prefix, today
    issued: Mapping[str, int] = field(default_factory=frozen_map)  # per origin service, today
    served: Mapping[int, int] = field(default_factory=frozen_map)  # per counter, today
    ended: frozenset[str] = frozenset()  # numbers of today's done, cancelled, expired tickets
    require_officer: bool = False  # counters call and serve only with an officer signed in
    next_order: int = 1
    enforce_hours: bool = True
    schedule: schedule.HallSchedule = field(default_factory=schedule.HallSchedule)

    # Derived views: computed from tickets, never stored, so they cannot disagree.
    def current(self, counter: int) -> Ticket | None:
        """The ticket a counter is serving now, if any."""
        for ticket in self.tickets.values():
            if ticket.status == "called" and ticket.counter == counter:
                return ticket
        return None

    def open_counters(self, service: str) -> int:
        """How many counters serve this service now (active and not on break)."""
        return sum(1 for c in self.counters.values() if c.serving and service in c.services)

    def waiting_count(self, service: str) -> int:
        return sum(
            1 for t in self.tickets.values() if t.status == "waiting" and t.service == service
        )

    def ahead_of(self, ticket: Ticket) -> int:
        """How many waiting tickets of the same service will be called before this one."""
        if ticket.status != "waiting":
            return 0
        key = call_order(ticket)
        return sum(
            1
            for t in self.tickets.values()
            if t.status == "waiting" and t.service == ticket.service and call_order(t) < key
        )

    def upcoming(self, counter: int, limit: int) -> list[Ticket]:
        """The first `limit` waiting tickets of a counter's services, in the order it calls them."""
        found = self.counters.get(counter)
        if found is None:
            return []
        waiting = (
            t
            for t in self.tickets.values()
            if t.status == "waiting" and t.service in found.services
        )
        return heapq.nsmallest(limit, waiting, key=call_order)

    def find(self, number: str) -> Ticket | None:
        """Today's open ticket with this number (e.g. 'A012')."""
        return self.tickets.get(ticket_id(self.day, number))

    def open_ticket(self, number: str) -> Ticket:
        """Today's open ticket with this number; raises when it ended or was never issued."""
        ticket = self.find(number)
        if ticket is not None:
            return ticket
        raise PanggilError("ticket-not-callable" if number in self.ended else "unknown-ticket")


@dataclass(frozen=True)
class Outcome:
    """The new state and what happened on the way there."""

    hall: Hall
    changes: tuple[Change, ...]

    @property
    def last(self) -> Change:
        return self.changes[-1]


def call_order(ticket: Ticket) -> tuple[bool, int]:
    """Priority tickets first, then first come first served."""
    return (ticket.priority is None, ticket.order)


def ticket_id(day: str, number: str) -> str:
    return f"{day}/{number}"


def format_number(prefix: str, seq: int) -> str:
    """A012: three digits at least, more when a busy day passes 999."""
    return f"{prefix}{seq:03d}"


def service_day(now: datetime, day_starts_at: int = 0) -> str:
    """The service day a local time belongs to; days start `day_starts_at` minutes after midnight."""
    return (now - timedelta(minutes=day_starts_at)).date().isoformat()


def service_status(hall: Hall, service: Service, now: datetime) -> schedule.Status:
    """Whether a service takes numbers at `now` (hall calendar, hours, breaks, cut-off)."""
    agency = hall.agencies.get(service.agency)
    return schedule.service_status(
        hall.schedule,
        now,
        service.hours,
        None if agency is None else agency.weekdays,
        service.cutoff,
    )


NO_SCHEDULE = schedule.HallSchedule()


def hall_status(hall: Hall, now: datetime) -> schedule.HallStatus:
    """The hall open, on a break or closed at `now`; a hall that does not enforce hours
    (`hall.enforce_hours: false`) follows no schedule at all: always open, never a break."""
    return schedule.hall_status(hall.schedule if hall.enforce_hours else NO_SCHEDULE, now)


# --- commands -------------------------------------------------------------------------------


def issue_ticket(
    hall: Hall,
    service_code: str,
    now: datetime,
    priority: str | None = None,
    holder: str | None = None,
) -> Outcome:
    """A visitor takes a number for a service (from a phone: `holder` names the phone, which
    may hold one waiting or called number per service)."""
    service = hall.services.get(service_code)
    if service is None:
        raise PanggilError("unknown-service")
    if holder is not None:
        held = next((t for t in hall.tickets.values() if t.holder == holder
                     and t.service == service.code and t.status in ("waiting", "called")), None)  # fmt: skip
        if held is not None:
            raise PanggilError("already-holding", number=held.number, ticket=held.id)
    if not service.active:
        raise PanggilError("service-closed")
    if hall.enforce_hours:
        status = service_status(hall, service, now)
        if not status.open:
            # The refusal says why and when it opens; the shells word it (server/schedule_text).
            raise PanggilError("outside-hours", service=service.code,
                               status=schedule.status_dict(status))  # fmt: skip
    if priority is not None:
        if priority not in PRIORITIES:
            raise PanggilError("bad-request", "Jenis prioritas tidak dikenal.")
        if not service.priority_allowed:
            raise PanggilError("priority-not-allowed")
    issued = hall.issued.get(service.code, 0)
    if service.daily_quota is not None and issued >= service.daily_quota:
        raise PanggilError("quota-reached")
    seq = hall.last_seq.get(service.prefix, 0) + 1
    number = format_number(service.prefix, seq)
    ticket = Ticket(
        id=ticket_id(hall.day, number),
        day=hall.day,
        number=number,
        prefix=service.prefix,
        seq=seq,
        service=service.code,
        origin_service=service.code,
        priority=priority,
        status="waiting",
        issued_at=now,
        order=hall.next_order,
        holder=holder,
    )
    new_hall = replace(
        hall,
        tickets=_put(hall.tickets, ticket),
        last_seq=_bump(hall.last_seq, service.prefix, seq),
        issued=_bump(hall.issued, service.code, issued + 1),
        next_order=hall.next_order + 1,
    )
    return Outcome(new_hall, (Change("issued", ticket, now),))


def call_next(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """The counter calls the next ticket of its services, finishing the one it holds first."""
    counter = _calling_counter(hall, counter_no)
    _not_on_hall_break(hall, now)
    open_services = [c for c in counter.services if _service_open(hall, c)]
    if not open_services:
        raise PanggilError("service-closed")
    candidates = [
        t for t in hall.tickets.values() if t.status == "waiting" and t.service in open_services
    ]
    if not candidates:
        raise PanggilError("no-waiting-tickets")
    return _call(hall, counter, min(candidates, key=call_order), now)


def call_ticket(hall: Hall, counter_no: int, number: str, now: datetime) -> Outcome:
    """The counter calls a given waiting or skipped ticket (a no-show who came back)."""
    counter = _calling_counter(hall, counter_no)
    _not_on_hall_break(hall, now)
    ticket = hall.open_ticket(number.strip().upper())
    if ticket.status not in ("waiting", "skipped"):
        raise PanggilError("ticket-not-callable")
    if ticket.service not in counter.services:
        raise PanggilError("service-not-served")
    return _call(hall, counter, ticket, now)


def recall(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """Call the held ticket again: a new call of the same ticket."""
    counter = _calling_counter(hall, counter_no)
    _not_on_hall_break(hall, now)
    held = _held(hall, counter)
    ticket = replace(held, calls=held.calls + 1, called_by=counter.officer)
    change = Change(
        "recalled",
        ticket,
        now,
        counter.number,
        frozen_map({"call_no": ticket.calls}),
        counter.officer,
    )
    return Outcome(replace(hall, tickets=_put(hall.tickets, ticket)), (change,))


def skip(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """The called visitor did not come: the ticket can be called back by number today."""
    counter = _serving_counter(hall, counter_no)
    ticket = replace(_held(hall, counter), status="skipped")
    change = Change("skipped", ticket, now, counter.number, officer=counter.officer)
    return Outcome(replace(hall, tickets=_put(hall.tickets, ticket)), (change,))


def finish(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """The visitor has been served."""
    counter = _serving_counter(hall, counter_no)
    change = _finish(_held(hall, counter), counter, now)
    return Outcome(_apply_finish(hall, change), (change,))


def transfer(hall: Hall, counter_no: int, service_code: str, now: datetime) -> Outcome:
    """Send the held ticket to another service; it keeps its number and its place in time."""
    counter = _calling_counter(hall, counter_no)
    held = _held(hall, counter)
    target = hall.services.get(service_code)
    if target is None:
        raise PanggilError("unknown-service")
    if not target.active:
        raise PanggilError("service-closed")
    if target.code == held.service:
        raise PanggilError("same-service")
    ticket = replace(held, status="waiting", service=target.code, counter=None)
    change = Change(
        "transferred",
        ticket,
        now,
        counter.number,
        frozen_map({"from_service": held.service, "to_service": target.code}),
        counter.officer,
    )
    return Outcome(replace(hall, tickets=_put(hall.tickets, ticket)), (change,))


def pause(hall: Hall, counter_no: int, reason: str, until: str | None, now: datetime) -> Outcome:
    """The officer takes a break: the counter calls nothing until it resumes.

    A counter holding a called ticket must finish, skip or transfer it first, so that no visitor
    stands at a desk nobody is behind.
    """
    counter = _counter(hall, counter_no)
    if counter.state == "break":
        raise PanggilError("already-on-break")
    if hall.current(counter.number) is not None:
        raise PanggilError("ticket-held")
    if reason not in BREAK_REASONS:
        raise PanggilError("bad-request", "Alasan istirahat tidak dikenal.")
    if until is not None:
        _clock_time(until)
    paused = replace(
        counter, state="break", break_reason=reason, break_until=until, break_since=now
    )
    return Outcome(_put_counter(hall, paused), (Change("paused", None, now, counter.number),))


def resume(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """The officer is back from a break: the counter calls again."""
    counter = _counter(hall, counter_no)
    if counter.state != "break":
        raise PanggilError("not-on-break")
    resumed = replace(counter, state="open", break_reason=None, break_until=None, break_since=None)
    return Outcome(_put_counter(hall, resumed), (Change("resumed", None, now, counter.number),))


def sign_in(hall: Hall, counter_no: int, officer: Officer, now: datetime) -> Outcome:
    """An officer takes the desk: the counter's calls and finishes are recorded as theirs.

    Whoever was signed in there is replaced (an officer who left without signing out must not
    block the next shift; the change names them as `replaced`). An officer is at one desk at a
    time: signed in at another counter, they are signed out there first, unless that counter
    still holds a called ticket (`officer-busy`: finish, skip or transfer it there first).
    """
    counter = _counter(hall, counter_no)
    if counter.officer is not None and counter.officer.id == officer.id:
        raise PanggilError("already-signed-in")
    changes: tuple[Change, ...] = ()
    for other in sorted(hall.counters.values(), key=lambda c: c.number):
        if other.officer is not None and other.officer.id == officer.id:
            if hall.current(other.number) is not None:
                raise PanggilError("officer-busy", counter=other.number)
            moved = _sign_out(hall, other, now, "moved")
            hall, changes = moved.hall, changes + moved.changes
    replaced = counter.officer
    data = {"replaced": replaced.username if replaced else None}
    signed_in = replace(counter, officer=officer)
    change = Change("signed_in", None, now, counter.number, frozen_map(data), officer)
    return Outcome(_put_counter(hall, signed_in), (*changes, change))


def sign_out(hall: Hall, counter_no: int, now: datetime) -> Outcome:
    """The officer leaves the desk. A counter holding a called ticket must finish, skip or
    transfer it first, so that the ticket's service is recorded against the officer who did it."""
    counter = _counter(hall, counter_no)
    if counter.officer is None:
        raise PanggilError("not-signed-in")
    if hall.current(counter.number) is not None:
        raise PanggilError("ticket-held")
    return _sign_out(hall, counter, now, "signed-out")


def sign_out_user(hall: Hall, user_id: int, now: datetime) -> Outcome:
    """The admin deactivated a user: they are signed out wherever they are, even with a ticket
    held (it stays called, and whoever signs in there next finishes it)."""
    changes: tuple[Change, ...] = ()
    for counter in sorted(hall.counters.values(), key=lambda c: c.number):
        if counter.officer is not None and counter.officer.id == user_id:
            outcome = _sign_out(hall, counter, now, "deactivated")
            hall, changes = outcome.hall, changes + outcome.changes
    if not changes:
        raise PanggilError("not-signed-in")
    return Outcome(hall, changes)


def _sign_out(hall: Hall, counter: Counter, now: datetime, reason: str) -> Outcome:
    """Sign out whoever is at the counter; `reason` is signed-out, moved, day-closed or
    deactivated."""
    change = Change("signed_out", None, now, counter.number, frozen_map({"reason": reason}),
                    counter.officer)  # fmt: skip
    return Outcome(_put_counter(hall, replace(counter, officer=None)), (change,))


def cancel_ticket(hall: Hall, number: str, now: datetime, counter: int | None = None) -> Outcome:
    """Withdraw a waiting or skipped ticket (the visitor left).

    A counter (`counter`) may withdraw only tickets of the services it serves, as it may call
    only those; the server itself (a kiosk whose printer failed) passes no counter.
    """
    ticket = hall.open_ticket(number.strip().upper())
    if ticket.status not in ("waiting", "skipped"):
        raise PanggilError("ticket-not-callable")
    if counter is not None and ticket.service not in _counter(hall, counter).services:
        raise PanggilError("service-not-served")
    cancelled = replace(ticket, status="cancelled", finished_at=now)
    # The place goes back to the daily quota (a failed print, a visitor who left); the number does not.
    issued = _bump(
        hall.issued, ticket.origin_service, max(0, hall.issued.get(ticket.origin_service, 0) - 1)
    )
    new_hall = replace(
        hall,
        tickets=_drop(hall.tickets, ticket.id),
        issued=issued,
        ended=hall.ended | {ticket.number},
    )
    return Outcome(new_hall, (Change("cancelled", cancelled, now),))


def close_day(hall: Hall, new_day: str, now: datetime) -> Outcome:
    """End a service day: open tickets expire (and stay in history).

    Numbering restarts only when `new_day` is another day; closing early keeps today's counts.
    """
    changes = tuple(
        Change("expired", replace(t, status="expired", finished_at=now), now, t.counter)
        for t in sorted(hall.tickets.values(), key=lambda t: t.order)
    )
    if new_day == hall.day:
        ended = hall.ended | {t.number for t in hall.tickets.values()}
        return Outcome(replace(hall, tickets=frozen_map(), ended=ended), changes)
    # A new day starts with every counter open: a break nobody ended last night is over.
    for counter in sorted(hall.counters.values(), key=lambda c: c.number):
        if counter.state == "break":
            outcome = resume(hall, counter.number, now)
            hall, changes = outcome.hall, changes + outcome.changes
    # ... and with nobody signed in: yesterday's officer must not be credited with today's calls.
    for counter in sorted(hall.counters.values(), key=lambda c: c.number):
        if counter.officer is not None:
            outcome = _sign_out(hall, counter, now, "day-closed")
            hall, changes = outcome.hall, changes + outcome.changes
    new_hall = replace(
        hall,
        day=new_day,
        tickets=frozen_map(),
        last_seq=frozen_map(),
        issued=frozen_map(),
        served=frozen_map(),
        ended=frozenset(),
        next_order=1,
    )
    return Outcome(new_hall, changes)


def with_catalogue(
    hall: Hall,
    agencies: Mapping[str, Agency],
    services: Mapping[str, Service],
    counters: Mapping[int, Counter],
) -> Hall:
    """The same day with an edited catalogue (admin changes); tickets are kept."""
    return replace(
        hall,
        agencies=frozen_map(agencies),
        services=frozen_map(services),
        counters=frozen_map(counters),
    )


# --- helpers --------------------------------------------------------------------------------


def _counter(hall: Hall, number: int) -> Counter:
    counter = hall.counters.get(number)
    if counter is None or not counter.active:
        raise PanggilError("unknown-counter")
    return counter


def _calling_counter(hall: Hall, number: int) -> Counter:
    """A counter about to call or move a ticket: it must not be on a break."""
    counter = _serving_counter(hall, number)
    if counter.state == "break":
        raise PanggilError("counter-on-break")
    return counter


def _not_on_hall_break(hall: Hall, now: datetime) -> None:
    """Calls wait for the end of a break of the whole hall (Friday prayer): the TVs announce
    nothing then. Finishing, skipping, transferring and counter breaks stay allowed, so that
    officers can close what they hold."""
    if hall_status(hall, now).state == "break":
        raise PanggilError("hall-on-break")


def _put_counter(hall: Hall, counter: Counter) -> Hall:
    counters = dict(hall.counters)
    counters[counter.number] = counter
    return replace(hall, counters=MappingProxyType(counters))


def _serving_counter(hall: Hall, number: int) -> Counter:
    """A counter about to call, skip, finish or move a ticket: in a hall that requires it,
    an officer must be signed in, so every ticket's service is recorded against someone."""
    counter = _counter(hall, number)
    if hall.require_officer and counter.officer is None:
        raise PanggilError("officer-required")
    return counter


def _clock_time(text: str) -> int:
    """Minutes after midnight of a strict "HH:MM" (00:00-23:59), or bad-request."""
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        raise PanggilError("bad-request", "Jam kembali harus berbentuk JJ:MM, misalnya 13:00.")
    hour, minute = int(text[:2]), int(text[3:])
    if hour > 23 or minute > 59:
        raise PanggilError("bad-request", "Jam kembali harus berbentuk JJ:MM, misalnya 13:00.")
    return hour * 60 + minute


def _service_open(hall: Hall, code: str) -> bool:
    service = hall.services.get(code)
    return service is not None and service.active


def _held(hall: Hall, counter: Counter) -> Ticket:
    held = hall.current(counter.number)
    if held is None:
        raise PanggilError("no-current-ticket")
    return held


def _finish(ticket: Ticket, counter: Counter, now: datetime) -> Change:
    done = replace(ticket, status="done", finished_at=now, finished_by=counter.officer)
    return Change("finished", done, now, counter.number, officer=counter.officer)


def _apply_finish(hall: Hall, change: Change) -> Hall:
    counter = change.counter
    assert counter is not None and change.ticket is not None
    return replace(
        hall,
        tickets=_drop(hall.tickets, change.ticket.id),
        served=_bump(hall.served, counter, hall.served.get(counter, 0) + 1),
        ended=hall.ended | {change.ticket.number},
    )


def _call(hall: Hall, counter: Counter, ticket: Ticket, now: datetime) -> Outcome:
    changes: list[Change] = []
    held = hall.current(counter.number)
    if held is not None and held.id != ticket.id:
        finished = _finish(held, counter, now)
        hall = _apply_finish(hall, finished)
        changes.append(finished)
    called = replace(
        ticket,
        status="called",
        counter=counter.number,
        called_at=ticket.called_at or now,
        calls=ticket.calls + 1,
        called_by=counter.officer,
    )
    changes.append(
        Change(
            "called",
            called,
            now,
            counter.number,
            frozen_map({"call_no": called.calls}),
            counter.officer,
        )
    )
    return Outcome(replace(hall, tickets=_put(hall.tickets, called)), tuple(changes))


def _put(tickets: Mapping[str, Ticket], ticket: Ticket) -> Mapping[str, Ticket]:
    items = dict(tickets)
    items[ticket.id] = ticket
    return MappingProxyType(items)


def _drop(tickets: Mapping[str, Ticket], key: str) -> Mapping[str, Ticket]:
    items = dict(tickets)
    items.pop(key, None)
    return MappingProxyType(items)


def _bump(values: Mapping, key: object, value: int) -> Mapping:
    items = dict(values)
    items[key] = value
    return MappingProxyType(items)


def officer_dict(officer: Officer | None) -> dict | None:
    """The protocol's officer object (who is signed in at a counter), or None."""
    if officer is None:
        return None
    return {"username": officer.username, "full_name": officer.full_name}


def break_dict(counter: Counter) -> dict | None:
    """The protocol's break object of a counter, or None while it is open."""
    if counter.state != "break":
        return None
    return {
        "reason": counter.break_reason,
        "until": counter.break_until,
        "since": _iso(counter.break_since),
    }


def ticket_dict(ticket: Ticket) -> dict:
    """The protocol's ticket object."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "prefix": ticket.prefix,
        "seq": ticket.seq,
        "day": ticket.day,
        "service": ticket.service,
        "origin_service": ticket.origin_service,
        "priority": ticket.priority,
        "status": ticket.status,
        "issued_at": _iso(ticket.issued_at),
        "called_at": _iso(ticket.called_at),
        "finished_at": _iso(ticket.finished_at),
        "counter": ticket.counter,
        "calls": ticket.calls,
        "called_by": ticket.called_by.username if ticket.called_by else None,
        "finished_by": ticket.finished_by.username if ticket.finished_by else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
