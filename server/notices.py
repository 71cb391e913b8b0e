"""Outbound "almost your turn" notices by SMS or WhatsApp: the rules (pure).

A visitor may leave a phone number for an open ticket (the slip's page, or a booking with the
visitor's consent). When a change moves the ticket's service so that it comes within the
service's `alert_ahead` people ahead, the hall's gateway is asked to send one "almost" message
(once per ticket); when the ticket is called, one "called" message (if the hall wants those).
The number lives only while the ticket is open (docs/notices.md).

This module decides: which numbers are Indonesian mobiles, what is shown of one, which tickets
are due a notice after a change, which contacts must be erased, and what the gateway is sent.
No Flask, no SQLite, no clock; the shell is server/notice_sender.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from server import announce, webhooks
from server.engine import OPEN_STATUSES, Hall, Ticket, call_order
from server.protocol import PanggilError

ALMOST = "almost"
CALLED = "called"
TEST = "test"

SETTING = "notices"  # the settings row holding the gateway (a dict, see Gateway)
FORMATS = ("json", "form")
FIELD_RE = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,40}$")
AUTHORIZATION_MAX = 500
USER_AGENT = "Panggil-Notice/1"
# Fewer tries than a webhook's: a notice an hour late is no use to someone in the queue.
MAX_ATTEMPTS = 6  # 15 s, 30 s, 1, 2, 4 min apart: about eight minutes in all

_SEPARATORS = re.compile(r"[\s().-]")
_MOBILE = re.compile(r"^628[0-9]{8,11}$")


def normalise_phone(text: object) -> str:
    """An Indonesian mobile number as 628...: from 08..., +628... or 628... (spaces, dashes, dots
    and brackets ignored). Anything else is refused with `bad-phone`."""
    if not isinstance(text, str) or len(text) > 30:
        raise PanggilError("bad-phone")
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not _MOBILE.fullmatch(digits):
        raise PanggilError("bad-phone")
    return digits


def mask(phone: str | None) -> str:
    """What a page or a log shows of a number: 6281*****789."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


# --- which tickets are due a notice --------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One message to queue for a ticket with a contact."""

    ticket: str  # the ticket's id
    kind: str  # ALMOST or CALLED
    service: str
    message: str

    def row(self) -> dict:
        return {"ticket": self.ticket, "kind": self.kind, "service": self.service,
                "message": self.message}  # fmt: skip


def detect(
    before: Hall, after: Hall, contacts: Mapping[str, bool], hall_name: str, *, called: bool = True
) -> list[Notice]:
    """The notices a change (hall `before` -> `after`) makes due, for the tickets in `contacts`.

    `contacts` maps each ticket with a number to whether its "almost" notice went out already:
    "almost" is sent once per ticket, when it comes within its service's `alert_ahead` people
    ahead from further back (a number left when already that close gets the call only). "called"
    is sent when the ticket goes to a counter (not on a recall), if `called`.
    """
    services = {t.service for tid in contacts if (t := after.tickets.get(tid)) is not None}
    ahead_before, ahead_after = places(before, services), places(after, services)
    found = []
    for ticket_id in sorted(contacts):
        now = after.tickets.get(ticket_id)
        if now is None:
            continue
        was = before.tickets.get(ticket_id)
        if now.status == "called":
            if called and (was is None or was.status != "called"):
                text = called_text(after, now, hall_name)
                found.append(Notice(ticket_id, CALLED, now.service, text))
            continue
        if contacts[ticket_id] or ticket_id not in ahead_after or ticket_id not in ahead_before:
            continue
        service = after.services.get(now.service)
        limit = service.alert_ahead if service else 0
        ahead = ahead_after[ticket_id]
        if limit > 0 and ahead <= limit < ahead_before[ticket_id]:
            text = almost_text(after, now, ahead, hall_name)
            found.append(Notice(ticket_id, ALMOST, now.service, text))
    return found


def places(hall: Hall, services: Iterable[str]) -> dict[str, int]:
    """People ahead of each waiting ticket of these services, from each service's call order:
    one sort per service rather than a count per ticket (a change is checked on every press)."""
    wanted = set(services)
    queues: dict[str, list[Ticket]] = {}
    for ticket in hall.tickets.values():
        if ticket.status == "waiting" and ticket.service in wanted:
            queues.setdefault(ticket.service, []).append(ticket)
    return {
        ticket.id: ahead
        for queue in queues.values()
        for ahead, ticket in enumerate(sorted(queue, key=call_order))
    }


def ended(after: Hall, tickets: Iterable[str]) -> list[str]:
    """Of these tickets with a contact, those no longer open: their numbers are to be erased.

    A skipped ticket is still open (it may be called again until the day ends)."""
    return sorted(
        t
        for t in tickets
        if (ticket := after.tickets.get(t)) is None or ticket.status not in OPEN_STATUSES
    )


def still_wanted(kind: str, ticket: Ticket | None) -> bool:
    """Whether a queued notice is worth sending now: "almost" only while the ticket waits."""
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return False
    return ticket.status == "waiting" if kind == ALMOST else True


def almost_text(hall: Hall, ticket: Ticket, ahead: int, hall_name: str) -> str:
    service = hall.services.get(ticket.service)
    return announce.notice_almost(
        hall_name, ticket.number, ahead, service.name if service else ticket.service
    )


def called_text(hall: Hall, ticket: Ticket, hall_name: str) -> str:
    counter = hall.counters.get(ticket.counter) if ticket.counter is not None else None
    name = counter.name if counter else str(ticket.counter or "")
    return announce.notice_called(hall_name, ticket.number, name)


# --- the gateway ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    """The hall's SMS/WhatsApp gateway as the admin set it (settings row `notices`)."""

    enabled: bool = False
    url: str = ""
    authorization: str = ""  # the Authorization header's whole value, e.g. a gateway's token
    format: str = "json"  # json: signed JSON body; form: form-encoded with the two field names
    to_field: str = "target"
    message_field: str = "message"
    called: bool = True  # also tell the visitor when the number is called
    secret: str = field(default="", repr=False)  # signs the JSON body like a webhook's

    @classmethod
    def from_settings(cls, settings: Mapping) -> Gateway:
        stored = settings.get(SETTING)
        if not isinstance(stored, Mapping):
            return cls()
        known = {k: stored[k] for k in cls.__dataclass_fields__ if k in stored}
        return cls(**known)

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.url)

    def as_setting(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def check_gateway(form: Mapping[str, str], before: Gateway) -> tuple[Gateway, list[str]]:
    """The admin's form as a gateway, and the fields that cannot be saved as given.

    An empty authorization keeps the stored one (the page shows it masked); `clear_authorization`
    removes it.
    """
    wrong = []
    url = (form.get("url") or "").strip()
    parts = urlsplit(url)
    enabled = form.get("enabled") == "on"
    bad_url = len(url) > webhooks.URL_MAX or parts.scheme not in ("http", "https")
    if (url and (bad_url or not parts.hostname)) or (enabled and not url):
        wrong.append("url")
    authorization = (form.get("authorization") or "").strip()
    if form.get("clear_authorization") == "on":
        authorization = ""
    elif not authorization:
        authorization = before.authorization
    if len(authorization) > AUTHORIZATION_MAX or any(c in authorization for c in "\r\n"):
        wrong.append("authorization")
    body_format = form.get("format") or "json"
    if body_format not in FORMATS:
        wrong.append("format")
    to_field = (form.get("to_field") or "").strip() or "target"
    message_field = (form.get("message_field") or "").strip() or "message"
    if not FIELD_RE.fullmatch(to_field):
        wrong.append("to_field")
    if not FIELD_RE.fullmatch(message_field) or message_field == to_field:
        wrong.append("message_field")
    gateway = Gateway(enabled=enabled, url=url, authorization=authorization, format=body_format,
                      to_field=to_field, message_field=message_field,
                      called=form.get("called") == "on", secret=before.secret)  # fmt: skip
    return gateway, wrong


def mask_secret(value: str) -> str:
    """An authorization value as the page shows it: its first 4 and last 2 characters."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * 8 + value[-2:]


def request(gateway: Gateway, notice: Mapping, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one notice (`to`, `message`, `ticket`, `kind`, `service`)."""
    if gateway.format == "form":
        payload = urlencode({gateway.to_field: notice["to"],
                             gateway.message_field: notice["message"]}).encode()  # fmt: skip
        content_type = "application/x-www-form-urlencoded"
    else:
        message = {key: notice.get(key) for key in ("to", "message", "ticket", "kind", "service")}
        payload = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = "application/json; charset=utf-8"
    headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
    if gateway.secret:
        headers["X-Panggil-Signature"] = webhooks.signature(gateway.secret, timestamp, payload)
    if gateway.authorization:
        headers["Authorization"] = gateway.authorization
    return payload, headers


def after_attempt(attempts: int, ok: bool, now: datetime) -> tuple[str, datetime | None]:
    """The outcome of a notice's `attempts`-th try, and when to try again (None: off the outbox).

    The backoff is the webhooks' (15 s doubling); a notice gives up sooner (MAX_ATTEMPTS)."""
    if ok:
        return "sent", None
    if attempts >= MAX_ATTEMPTS:
        return "gave-up", None
    return "retry", now + webhooks.retry_delay(attempts)
