"""Webhooks: the hall's other systems hear of tickets as they happen, signed, retried, logged.

An admin registers a URL and the events it wants (the admin page "Webhook", under Settings); the
secret is made here, shown once, and kept to sign with. Each hook reads the events table after
its cursor, one event at a time in seq order, so its receiver gets them in the hall's order and a
command never waits for a receiver: nothing is written for a hook inside a command's transaction.

Delivery: POST of a JSON body with `X-Panggil-Event`, `X-Panggil-Delivery` (the event's seq: the
same on every retry, so a receiver drops duplicates) and `X-Panggil-Signature: t=<unix
seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`. A 2xx answer delivers it; anything
else (an error status, a refused connection, a timeout) is tried again after 15 s, 30 s, 1 min ...
(doubling, at most an hour apart) and given up after MAX_ATTEMPTS tries; every attempt is logged.
While a hook retries, its later events wait behind it (order is kept). Without the internet a hook
to an outside address simply fails and retries: nothing else in the hall notices.

The rules (which events, the body, the signature, the backoff) are pure functions; `Dispatcher` is
the shell that reads, posts and records, from a background task of the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from server import payloads

if TYPE_CHECKING:
    from server.hub import Hub

log = logging.getLogger(__name__)

# Webhook event name -> the stored event kinds it covers (a recall is a call: `call.kind` says).
EVENTS: dict[str, tuple[str, ...]] = {
    "ticket.issued": ("issued",),
    "ticket.called": ("called", "recalled"),
    "ticket.finished": ("finished",),
    "ticket.skipped": ("skipped",),
    "ticket.transferred": ("transferred",),
    "ticket.cancelled": ("cancelled",),
    "ticket.expired": ("expired",),
    # A booking checked in (server/bookings.py) is stored as the `issued` of its ticket, with the
    # booking in its data: a hook that takes this event gets such an issue under this name.
    "booking.checked_in": ("issued",),
    # A booking cancelled (visitor, admin or API) is its own stored event, `booking_cancelled`.
    "booking.cancelled": ("booking_cancelled",),
}
BOOKING_CHECKED_IN = "booking.checked_in"
EVENT_OF_KIND = {
    kind: name for name, kinds in EVENTS.items() if name != BOOKING_CHECKED_IN for kind in kinds
}

MAX_ATTEMPTS = 12  # 15 s doubling to an hour: about four and a half hours of tries
FIRST_RETRY_S = 15
LONGEST_RETRY_S = 3600
TIMEOUT_S = 5.0
KEEP_DELIVERIES = 500  # log rows kept per hook
URL_MAX = 500
NAME_MAX = 80
USER_AGENT = "Panggil-Webhook/1"


@dataclass(frozen=True)
class Hook:
    id: int
    url: str
    secret: str
    events: tuple[str, ...]
    cursor: int
    attempts: int
    next_at: str | None

    @classmethod
    def from_row(cls, row: Mapping) -> Hook:
        return cls(row["id"], row["url"], row["secret"], tuple(row["events"]), row["cursor"],
                   row["attempts"], row["next_at"])  # fmt: skip

    @property
    def kinds(self) -> list[str]:
        return sorted({kind for name in self.events for kind in EVENTS.get(name, ())})

    @property
    def booked_only(self) -> bool:
        """It takes checked-in bookings but not every issued ticket."""
        return BOOKING_CHECKED_IN in self.events and "ticket.issued" not in self.events


def event_name(event: Mapping, events: tuple[str, ...] | None = None) -> str:
    """The webhook name of a stored event for a hook taking `events`: a booked ticket's issue is
    `booking.checked_in` to a hook that takes that, `ticket.issued` to the others."""
    kind = event["kind"]
    wanted = events is None or BOOKING_CHECKED_IN in events
    if kind == "issued" and wanted and "booking" in json.loads(event["data"]):
        return BOOKING_CHECKED_IN
    return EVENT_OF_KIND[kind]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_hook(name: str, url: str, events: list[str]) -> tuple[str, str, list[str], list[str]]:
    """The form's name, URL and events cleaned, and the fields that cannot be saved as given."""
    name = " ".join(name.split())[:NAME_MAX]
    url = url.strip()
    wrong = []
    if not name:
        wrong.append("name")
    parts = urlsplit(url)
    if len(url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        wrong.append("url")
    chosen = [e for e in EVENTS if e in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        wrong.append("events")
    return name, url, chosen, wrong


def body(event: Mapping, hall: str, name: str | None = None) -> bytes:
    """The JSON a receiver gets for one stored event (the public payload: no officer logins)."""
    data = payloads.public(json.loads(event["data"]))
    message = {"event": name or EVENT_OF_KIND[event["kind"]], "delivery": event["seq"], "at": event["at"],
               "hall": hall, "data": data}  # fmt: skip
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, payload: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`: a receiver recomputes it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try (1, 2, ...)."""
    return timedelta(seconds=min(FIRST_RETRY_S * 2 ** (attempts - 1), LONGEST_RETRY_S))


@dataclass(frozen=True)
class Next:
    """Where a hook stands after one attempt."""

    cursor: int
    attempts: int
    next_at: datetime | None
    gave_up: bool = False


def after_attempt(hook: Hook, seq: int, ok: bool, now: datetime) -> Next:
    """Delivered: move past the event. Failed: retry later, or give up after MAX_ATTEMPTS."""
    if ok:
        return Next(seq, 0, None)
    attempts = hook.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return Next(seq, 0, None, gave_up=True)
    return Next(hook.cursor, attempts, now + retry_delay(attempts))


def is_due(hook: Hook, now: datetime) -> bool:
    return hook.next_at is None or datetime.fromisoformat(hook.next_at) <= now


# --- the shell ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None
    ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, payload: bytes, headers: Mapping[str, str]) -> Answer:
    """One POST; never raises: a refused connection or a timeout is an answer without a status."""
    request = urllib.request.Request(url, data=payload, method="POST", headers=dict(headers))
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (http(s) only)
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # refused, unreachable, timed out, bad certificate...
        error = f"{type(exc).__name__}: {exc}"[:300]
    return Answer(status, error, round((time.monotonic() - started) * 1000))


class Dispatcher:
    """Delivers each active hook's next event; `run_once` is one round (tests call it by hand)."""

    def __init__(self, hub: Hub, send=post) -> None:
        self.hub = hub
        self.send = send

    def run_once(self) -> int:
        """Try every due hook once; how many attempts were made (0: nothing to do now)."""
        hub = self.hub
        now = hub.clock()
        work = []
        with hub.lock:  # reads only; the posts happen outside the lock
            for row in hub.storage.list_webhooks(active_only=True):
                hook = Hook.from_row(row)
                if not is_due(hook, now):
                    continue
                event = hub.storage.next_webhook_event(hook.cursor, hook.kinds,
                                                       booked_only=hook.booked_only)  # fmt: skip
                if event is not None:
                    work.append((hook, event))
        for hook, event in work:
            self._deliver(hook, event, now)
        return len(work)

    def _deliver(self, hook: Hook, event: Mapping, now: datetime) -> None:
        name = event_name(event, hook.events)
        payload = body(event, self.hub.hall_info()["name"], name)
        stamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Panggil-Event": name,
            "X-Panggil-Delivery": str(event["seq"]),
            "X-Panggil-Signature": signature(hook.secret, stamp, payload),
        }
        answer = self.send(hook.url, payload, headers)
        step = after_attempt(hook, event["seq"], answer.ok, now)
        if not answer.ok:
            log.warning("webhook %s: %s of seq %s failed (try %d): %s", hook.id,
                        name, event["seq"], hook.attempts + 1,
                        answer.error)  # fmt: skip
        if step.gave_up:
            log.error("webhook %s gave up on seq %s after %d tries", hook.id, event["seq"],
                      MAX_ATTEMPTS)  # fmt: skip
        delivery = {"seq": event["seq"], "event": name,
                    "at": now.isoformat(timespec="seconds"), "attempt": hook.attempts + 1,
                    "status": answer.status, "ok": answer.ok, "ms": answer.ms,
                    "error": answer.error}  # fmt: skip
        next_at = step.next_at.isoformat() if step.next_at else None
        try:
            self.hub.write(lambda s: s.record_webhook_attempt(hook.id, delivery, step.cursor,
                                                             step.attempts, next_at,
                                                             KEEP_DELIVERIES))  # fmt: skip
        except Exception:  # the hook was deleted meanwhile, or the disk is full: try next round
            log.exception("recording webhook %s's attempt failed", hook.id)

    def forever(self, sleep, idle_s: float = 1.0) -> None:
        """The server's background task: a round, then a pause when there was nothing to send."""
        run_forever(self.run_once, sleep, idle_s, "webhook")


def run_forever(run_once, sleep, idle_s: float, what: str) -> None:
    """A sender's background task (webhooks, notices): rounds, pausing when one sent nothing."""
    while True:
        try:
            busy = run_once()
        except Exception:
            log.exception("%s round failed; will retry", what)
            busy = 0
        sleep(0 if busy else idle_s)
