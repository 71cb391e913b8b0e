"""How long a visitor will probably wait: a pure estimate from recent service times.

No clock, no database: the caller passes the recent (called_at, finished_at) pairs of the service.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from statistics import median

# Service times outside these bounds are mistakes (a double press, a ticket left open over lunch).
SHORTEST_SECONDS = 10
LONGEST_SECONDS = 2 * 60 * 60
MIN_SAMPLES = 3


def service_seconds(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> list[float]:
    """Plausible service times in seconds from (called_at, finished_at) pairs."""
    times = []
    for called_at, finished_at in pairs:
        if called_at is None or finished_at is None:
            continue
        seconds = (finished_at - called_at).total_seconds()
        if SHORTEST_SECONDS <= seconds <= LONGEST_SECONDS:
            times.append(seconds)
    return times


def estimate_wait_minutes(ahead: int, service_times: list[float], counters: int) -> int | None:
    """Minutes until this visitor is called, or None when there is too little history to say.

    The median service time (robust against one very long case) times the people ahead, shared
    among the counters that serve the service; rounded up to whole minutes, at least 1 when
    anyone is ahead. Someone with nobody ahead waits for the next free counter: about half a
    service time on average.
    """
    if ahead < 0:
        raise ValueError("ahead must be 0 or more")
    if len(service_times) < MIN_SAMPLES:
        return None
    counters = max(1, counters)
    typical = median(service_times)
    seconds = (ahead + 0.5) * typical / counters
    return max(1, math.ceil(seconds / 60))


def seconds_per_place(service_times: list[float], counters: int) -> float | None:
    """How many seconds each person ahead adds to a wait (estimate_wait_minutes' rate), or None.

    The visitor's phone computes its own estimate from it and the people ahead of it (the
    `queue_moved` summary): minutes = max(1, ceil((ahead + 0.5) * seconds_per_place / 60)).
    """
    if len(service_times) < MIN_SAMPLES:
        return None
    return median(service_times) / max(1, counters)
