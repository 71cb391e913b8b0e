"""What a visitor's phone is told when its service's queue moves, and how often (pure).

A phone follows its own ticket and one small summary of its service's queue (docs/protocol.md,
"/visitor"). The summary is one emit per service, whatever the number of phones waiting in it:
each phone finds its own place in it. Presses come in bursts, so summaries are coalesced: a
service whose queue moved is sent at once if it was not sent within the interval, otherwise when
the interval is over, built from the state of that moment, so the last state always arrives.

No Flask, no socket, no clock: `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.engine import Hall, call_order


@dataclass(frozen=True)
class Plan:
    """Which services to send now, and when to look again (None: nothing is left waiting)."""

    send: tuple[str, ...]
    wake_at: datetime | None


def plan(
    dirty: Iterable[str], last_sent: Mapping[str, datetime], now: datetime, interval: timedelta
) -> Plan:
    """The coalescing rule: each moved service at most once per `interval`, never dropped.

    `dirty` are the services whose queue moved since their last summary, `last_sent` when each
    service's last summary went out. A service is due when it was never sent or its interval has
    passed; the others wait until the earliest of their intervals ends.
    """
    send = []
    wake_at = None
    for service in sorted(set(dirty)):
        sent = last_sent.get(service)
        if sent is None or sent + interval <= now:
            send.append(service)
        else:
            due = sent + interval
            wake_at = due if wake_at is None else min(wake_at, due)
    return Plan(tuple(send), wake_at)


def summary(hall: Hall, service: str, seq: int, seconds_per_place: float | None) -> dict:
    """The `queue_moved` payload of one service: its waiting numbers in the order they are called.

    `queue` lets each phone count the people ahead of it (its index) without a request per phone;
    `seconds_per_place` is the estimate's typical service time shared among the open counters
    (server/estimate.py), or None when there is too little history.
    """
    waiting = sorted(
        (t for t in hall.tickets.values() if t.status == "waiting" and t.service == service),
        key=call_order,
    )
    return {
        "service": service,
        "seq": seq,
        "waiting": len(waiting),
        "queue": [t.number for t in waiting],
        "seconds_per_place": seconds_per_place,
    }
