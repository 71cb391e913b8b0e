"""The service day: closing it at its boundary (the tick) or when the admin ends service early.

These run as part of the Hub's one writer: the caller holds `hub.lock`. The engine decides,
storage writes the expired tickets, the day rows and the `day_closed` event in one transaction,
and only after the commit is the new state swapped in and the events broadcast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from server import engine, payloads, protocol
from server.storage import Storage

if TYPE_CHECKING:
    from server.hub import Hub

log = logging.getLogger(__name__)


def roll_day(
    hub: Hub,
    now: datetime,
    day: str | None = None,
    also: Callable[[Storage], None] | None = None,
) -> None:
    """Close the hall's day when the clock passes the boundary (or when `day` is given).

    `also` writes more in the same transaction (the admin's audit row). The caller holds the lock.
    """
    if day is None:
        day = engine.service_day(now, hub.day_starts_at)
        # Only forwards: a clock set back (NTP, a wrong RTC on boot) must not reopen a past day.
        if day <= hub.hall.day:
            return
    elif day == hub.hall.day and day != hub.closing:
        return
    old = hub.hall.day
    outcome = engine.close_day(hub.hall, day, now)
    built = [payloads.event_payload(c, outcome.hall) for c in outcome.changes]
    expired = sum(1 for c in outcome.changes if c.kind == "expired")
    closed = {"day": old, "new_day": day, "expired": expired}
    storage = hub.storage
    with storage.transaction():
        seqs = storage.save_changes(outcome.changes, built, outcome.hall)
        storage.close_day(old, now)
        if day != old:
            storage.open_day(day, now)
        seqs.append(storage.add_event("day_closed", now, old, closed))
        if also is not None:
            also(storage)
        storage.erase_contacts()  # no visitor's phone number outlives its day (notices.py)
    hub.contacts = {}
    hub.storage.flush_erased()
    hub.hall = outcome.hall
    hub.recent.clear()
    log.info("day %s closed (%d open tickets expired); day %s open", old, expired, day)
    hub.publish(outcome.changes, built, seqs[:-1])
    hub.send(protocol.DAY_CLOSED, seqs[-1], now, closed)


def close_day(hub: Hub, also: Callable[[Storage], None] | None = None) -> dict:
    """The admin ends the day's service now: open tickets expire, history is kept.

    Numbering goes on if tickets are still taken on the same date; it restarts at the boundary.
    `also` writes more in the same transaction (the admin's audit row).
    """
    with hub.lock:
        hub.closing = hub.hall.day
        try:
            roll_day(hub, hub.now(), hub.hall.day, also)
        finally:
            hub.closing = None
        return {"day": hub.hall.day}


def tick(hub: Hub) -> None:
    """Called every few seconds by a background task: closes the day at its boundary, then
    tells the screens when the hall's status changed with the clock."""
    with hub.lock:
        now = hub.now()
        roll_day(hub, now)
        watch_status(hub, now)


def watch_status(hub: Hub, now: datetime) -> None:
    """Broadcast `hall_changed` {"what": "status"} when the hall opened, closed, or a hall
    break (Friday prayer) began or ended since the last tick; the screens resync on it.

    The first call (right after a start) only remembers the status: a client connecting gets it
    in its snapshot. The caller holds the lock.
    """
    status = payloads.hall_status(hub.hall, now)
    if hub.hall_status is None or status == hub.hall_status:
        hub.hall_status = status
        return
    data = {"what": "status", "status": status}
    storage = hub.storage
    with storage.transaction():
        seq = storage.add_event("hall_changed", now, hub.hall.day, data)
    hub.hall_status = status
    log.info("hall %s (%s) until %s", status["state"], status["reason"], status["until"])
    hub.send(protocol.HALL_CHANGED, seq, now, data)
