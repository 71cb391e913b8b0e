"""What a visitor's phone is told when its service's queue moves, and how often (pure).

A phone follows its own ticket and one small summary of its service's queue (docs/protocol.md,
"/visitor"). The summary is one emit per service, whatever the number of phones waiting in it:
each phone finds its own place in it. Presses come in bursts, so summaries are coalesced: a
service whose queue moved is sent at once if it was not sent within the interval, otherwise when
the interval is over, built from the state of that moment, so the last state always arrives.

The summary's `queue` is run-length coded (`compact`): a hall's waiting numbers are mostly
consecutive, so "A201..A999" stands for 799 of them and a summary to a thousand phones
stays small; it stays exact and in call order, and a phone counts its place without expanding it
(`ahead`, mirrored in server/static/queue_places.js).

No Flask, no socket, no clock: `now` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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

    `queue` (compacted) lets each phone count the people ahead of it without a request per phone;
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
        "queue": compact([t.number for t in waiting]),
        "seconds_per_place": seconds_per_place,
    }


# A ticket number (server/engine.py format_number): a prefix of letters, then digits. Only the
# digits are counted on; a range keeps the width, so "A0998..A1000" is never made and A999, A1000
# are two items (a width change is rare: once per thousand numbers of a prefix in a day).
NUMBER = re.compile(r"([A-Za-z]*)([0-9]+)")
RANGE = ".."  # never part of a number
SHORTEST_RUN = 3  # a pair stays two numbers: as a range it would save one byte and read worse


def _parts(number: str) -> tuple[str, int, int] | None:
    """(prefix, value, width) of a number, or None for anything else (kept as it is)."""
    match = NUMBER.fullmatch(number)
    if match is None:
        return None
    return match[1], int(match[2]), len(match[2])


def _bounds(item: str) -> tuple[str, int, int, int] | None:
    """(prefix, first, last, width) of a range item such as "A201..A999", or None for a number."""
    first, sep, last = item.partition(RANGE)
    if not sep:
        return None
    start, end = _parts(first), _parts(last)
    if start is None or end is None or start[0] != end[0] or start[2] != end[2]:
        return None
    if end[1] < start[1]:
        return None
    return start[0], start[1], end[1], start[2]


def compact(numbers: Sequence[str]) -> list[str]:
    """The numbers in the same order, each run of 3 or more consecutive ones as "first..last".

    Consecutive: the same prefix and width of digits, each one more than the one before.
    """
    items: list[str] = []
    run: list[str] = []  # the current run, in order
    last: tuple[str, int, int] | None = None
    for number in numbers:
        parts = _parts(number)
        follows = (
            parts is not None
            and last is not None
            and (parts[0], parts[2]) == (last[0], last[2])
            and parts[1] == last[1] + 1
        )
        if not follows:
            _close(run, items)
            run = []
        run.append(number)
        last = parts
    _close(run, items)
    return items


def _close(run: list[str], items: list[str]) -> None:
    """Append a finished run to the items: as one range when it is long enough."""
    if len(run) >= SHORTEST_RUN:
        items.append(f"{run[0]}{RANGE}{run[-1]}")
    else:
        items.extend(run)


def expand(items: Iterable[str]) -> list[str]:
    """The numbers a compacted queue stands for, in order (the inverse of `compact`)."""
    numbers: list[str] = []
    for item in items:
        bounds = _bounds(item)
        if bounds is None:
            numbers.append(item)
            continue
        prefix, first, last, width = bounds
        numbers.extend(f"{prefix}{value:0{width}d}" for value in range(first, last + 1))
    return numbers


def ahead(items: Iterable[str], number: str) -> int | None:
    """How many numbers come before `number` in a compacted queue, or None when it is not in it.

    Walks the items without expanding them: a range counts last - first + 1.
    """
    parts = _parts(number)
    count = 0
    for item in items:
        bounds = _bounds(item)
        if bounds is None:
            if item == number:
                return count
            count += 1
            continue
        prefix, first, last, width = bounds
        if (
            parts is not None
            and (parts[0], parts[2]) == (prefix, width)
            and first <= parts[1] <= last
        ):
            return count + parts[1] - first
        count += last - first + 1
    return None
