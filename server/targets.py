"""Service-level targets: how long each service's visitors have waited, against its target wait.

Pure functions over the engine's Hall: no clock (`now` is passed in), no database, no Flask.
The admin monitor and the officer console show what these say; the snapshot carries each
service's `target_wait` and `oldest_waiting_since`, so a screen can redo the same sum against its
own clock between events (`wait_minutes` and `past_target` are the rule it follows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.engine import Hall, Service, Ticket


@dataclass(frozen=True)
class TicketWait:
    """One waiting ticket and how long its visitor has waited."""

    ticket: Ticket
    minutes: int
    past_target: bool


@dataclass(frozen=True)
class ServiceWait:
    """One service's queue against its target: `tickets` are its waiting tickets, oldest first."""

    service: str
    target_wait: int | None
    tickets: tuple[TicketWait, ...]

    @property
    def waiting(self) -> int:
        return len(self.tickets)

    @property
    def oldest(self) -> TicketWait | None:
        return self.tickets[0] if self.tickets else None

    @property
    def past_target_count(self) -> int:
        return sum(1 for t in self.tickets if t.past_target)

    @property
    def past_target(self) -> bool:
        """Whether anyone in this queue has waited longer than the target."""
        return self.past_target_count > 0


def waiting_since(ticket: Ticket) -> datetime:
    """When a waiting ticket's wait started: when it was issued, also after a transfer.

    The visitor has been in the hall since the number was taken, and the engine keeps a
    transferred ticket's place in time (its order), so the new service calls it as one that has
    waited since then. A visitor sent on after a long wait is therefore past the new service's
    target at once, which is what a hall head wants to see: that visitor has waited too long.
    """
    return ticket.issued_at


def wait_minutes(since: datetime, now: datetime) -> int:
    """Whole minutes waited (rounded down, never negative), as every screen shows them."""
    return max(0, int((now - since).total_seconds() // 60))


def is_past_target(minutes: int, target_wait: int | None) -> bool:
    """Past the target once the whole minutes waited exceed it: 30 min with a 30 min target is
    still within it, so that a screen never shows "30 min, target 30" as late."""
    return target_wait is not None and minutes > target_wait


def waiting_tickets(hall: Hall, service: str) -> list[Ticket]:
    """The service's waiting tickets, longest wait first.

    Skipped tickets are left out: their visitor missed the call and is not in the queue until an
    officer calls the number back.
    """
    return sorted(_waiting(hall, service), key=_longest_first)


def oldest_waiting(hall: Hall, service: str) -> Ticket | None:
    """The service's ticket that has waited longest, if anyone waits."""
    return min(_waiting(hall, service), key=_longest_first, default=None)


def _waiting(hall: Hall, service: str) -> list[Ticket]:
    return [t for t in hall.tickets.values() if t.status == "waiting" and t.service == service]


def _longest_first(ticket: Ticket) -> tuple[datetime, int]:
    return (waiting_since(ticket), ticket.order)


def service_wait(hall: Hall, service: Service, now: datetime) -> ServiceWait:
    """One service's waiting tickets with their waits, against its target."""
    waits = []
    for ticket in waiting_tickets(hall, service.code):
        minutes = wait_minutes(waiting_since(ticket), now)
        waits.append(TicketWait(ticket, minutes, is_past_target(minutes, service.target_wait)))
    return ServiceWait(service.code, service.target_wait, tuple(waits))


def service_waits(hall: Hall, now: datetime) -> dict[str, ServiceWait]:
    """Every service's waits, in the catalogue's order."""
    return {code: service_wait(hall, s, now) for code, s in hall.services.items()}
