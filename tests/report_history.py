"""A generated history for the report tests: days of tickets driven through the real Hub, and what
the test itself did to each ticket (the truth the reports are checked against, kept apart from the
event rows the report code reads)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.protocol import PanggilError
from tests.conftest import WIB


# Which officer signs in where (user ids of tests/conftest.py USERS: 2 = petugas1, 3 = petugas3),
# swapped every other day; counter 2 works without anyone signed in.
def officers_on(day_number: int) -> dict[int, int]:
    return {1: 2, 3: 3} if day_number % 2 == 0 else {1: 3, 3: 2}


@dataclass
class Truth:
    """One ticket as the test drove it."""

    id: str
    day: str
    service: str
    issued_at: datetime
    first_call: datetime | None = None
    first_counter: int | None = None
    first_officer: int | None = None
    start: datetime | None = None
    finished: datetime | None = None
    finish_counter: int | None = None
    finish_officer: int | None = None
    skipped: bool = False
    skip_counter: int | None = None
    skip_officer: int | None = None
    cancelled: bool = False
    expired: bool = False

    @property
    def wait(self) -> float | None:
        return (self.first_call - self.issued_at).total_seconds() if self.first_call else None

    @property
    def service_time(self) -> float | None:
        if self.finished and self.start:
            return (self.finished - self.start).total_seconds()
        return None


def app_with_history(tmp_path, first: date, days: int, seed: int = 7):
    """The app on the test hall (``history_config``) with ``days`` of history from ``first``
    driven through its hub; returns the app, the test's records and the clock."""
    from server.app import create_app
    from server.config import parse_config
    from tests.test_reports import history_config
    from tests.conftest import FakeClock

    clock = FakeClock(datetime(first.year, first.month, first.day, 7, 0, tzinfo=WIB))
    app = create_app(parse_config(history_config(tmp_path), base_dir=tmp_path), clock=clock,
                     start_ticker=False)  # fmt: skip
    app.config["TESTING"] = True
    truths = generate(app.extensions["panggil"], clock, first, days, seed=seed)
    return app, truths, clock


def generate(hub, clock, first: date, days: int, seed: int = 7) -> list[Truth]:
    """Drive `days` service days from `first` through the hub; returns every ticket's truth."""
    rng = random.Random(seed)
    truths: dict[str, Truth] = {}
    officers = hub.storage.officers()
    held: dict[int, str] = {}
    for n in range(days):
        day = first + timedelta(days=n)
        clock.set(datetime(day.year, day.month, day.day, 7, 55, tzinfo=WIB))
        hub.tick()
        at_counter = officers_on(n)
        for counter, user in at_counter.items():
            hub.command(counter, "sign_in", {"officer": officers[user]}, f"in-{day}-{counter}")
        clock.set(datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB))
        for step in range(90):  # 08:00 .. 15:30, a step every 5 minutes (+ jitter)
            clock.advance(seconds=240 + rng.randint(0, 120))
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                service = rng.choice(("ktp", "ktp", "kk", "paspor"))
                try:
                    ticket = hub.issue(service)["result"]["ticket"]
                except PanggilError:  # kk's quota of 3 a day
                    continue
                truths[ticket["id"]] = Truth(ticket["id"], ticket["day"], service, clock())
            if step % 17 == 5:  # now and then a visitor walks away before being called
                waiting = [t for t in hub.hall.tickets.values() if t.status == "waiting"]
                if waiting:
                    victim = rng.choice(waiting)
                    hub.cancel(victim.number)
                    truths[victim.id].cancelled = True
            for counter in (1, 2, 3):
                rid = f"{day}-{step}-{counter}"
                _work(hub, clock, rng, counter, at_counter.get(counter), held, truths, rid)
        for counter, ticket_id in list(held.items()):  # the day ends: finish what is held
            hub.command(counter, "finish", {}, f"end-{day}-{counter}")
            _finish(truths[ticket_id], clock(), counter, at_counter.get(counter))
            del held[counter]
        for counter in at_counter:
            hub.command(counter, "sign_out", {}, f"out-{day}-{counter}")
        for ticket in hub.hall.tickets.values():  # left waiting: they expire at the day's end
            truths[ticket.id].expired = True
        clock.set(datetime(day.year, day.month, day.day, 23, 59, tzinfo=WIB))
        hub.tick()
    clock.advance(minutes=2)
    hub.tick()  # the last day is closed too
    return list(truths.values())


def _work(hub, clock, rng, counter, officer, held, truths, rid) -> None:
    ticket_id = held.get(counter)
    if ticket_id is not None:
        roll = rng.random()
        if roll < 0.08:
            hub.command(counter, "skip", {}, rid)
            truth = truths[ticket_id]
            truth.skipped, truth.skip_counter, truth.skip_officer = True, counter, officer
            truth.start = None
            del held[counter]
        elif roll < 0.15:
            hub.command(counter, "recall", {}, rid)  # a recall does not restart the service
        elif roll < 0.6:
            hub.command(counter, "finish", {}, rid)
            _finish(truths[ticket_id], clock(), counter, officer)
            del held[counter]
        return
    try:
        result = hub.command(counter, "call_next", {}, rid)["result"]
    except PanggilError:  # nobody waits for this counter's services
        return
    truth = truths[result["ticket"]["id"]]
    if truth.first_call is None:
        truth.first_call, truth.first_counter, truth.first_officer = clock(), counter, officer
    truth.start = clock()
    held[counter] = truth.id


def _finish(truth: Truth, at: datetime, counter: int, officer: int | None) -> None:
    truth.finished, truth.finish_counter, truth.finish_officer = at, counter, officer


def nearest_rank(values: list[float], p: int) -> float:
    """The test's own percentile: rank ceil(p% of n) in the sorted list, counted from 1."""
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]
