"""Outbound notices, the shell: the visitor's number kept and erased, the outbox filled after each
change, and the background task that posts to the hall's SMS/WhatsApp gateway.

The rules are server/notices.py. The hub calls `after_change` after a change's commit: it queues
notice rows for tickets with a number and erases the numbers of tickets that ended, in a
transaction of its own, so a failure here never undoes a press. `Sender` runs like the webhooks'
Dispatcher (its own background task of the writer, posting outside the hub's lock), so a gateway
that is down or slow never slows a counter: it only retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from server import announce, notices, webhooks
from server.engine import OPEN_STATUSES, Hall
from server.protocol import PanggilError

if TYPE_CHECKING:
    from server.hub import Hub
    from server.storage import Storage

log = logging.getLogger(__name__)

BATCH = 20  # notices tried per round
KEEP_DELIVERIES = 300  # log rows kept


def gateway(hub: Hub) -> notices.Gateway:
    return notices.Gateway.from_settings(hub.settings)


# --- contacts --------------------------------------------------------------------------------------


def set_contact(hub: Hub, ticket_id: str, phone: str | None) -> None:
    """Keep (or, with None, erase) the number of an open ticket; the visitor's own request."""
    with hub.lock:
        ticket = hub.hall.tickets.get(ticket_id)
        if phone is not None:
            if not gateway(hub).active:
                raise PanggilError("notices-off")
            if ticket is None or ticket.status not in OPEN_STATUSES:
                raise PanggilError("ticket-ended")
            hub.write(lambda s: s.set_contact(ticket_id, phone, hub.now()))
            hub.contacts.setdefault(ticket_id, False)
            log.info("notices: a number was left for %s", ticket_id)
        else:
            hub.write(lambda s: s.erase_contacts([ticket_id]))
            hub.contacts.pop(ticket_id, None)
            _flush(hub)
            log.info("notices: the number of %s was removed by its visitor", ticket_id)


def contact(hub: Hub, ticket_id: str) -> str | None:
    """The number kept for a ticket, if any (for the ticket's own page, which shows it masked)."""
    if ticket_id not in hub.contacts:
        return None
    return hub.read(lambda s: s.contact(ticket_id))


def add_booking_contact(hub: Hub, storage: Storage, ticket_id: str, phone: str | None,
                        now: datetime) -> bool:  # fmt: skip
    """At a booking's check-in (inside its transaction): its phone becomes the ticket's contact,
    when the booking form's consent was given (the caller checks) and the hall sends notices."""
    if not phone or not gateway(hub).active:
        return False
    try:
        number = notices.normalise_phone(phone)
    except PanggilError:
        return False
    storage.set_contact(ticket_id, number, now)
    return True


def after_change(hub: Hub, before: Hall, after: Hall) -> None:
    """After a change's commit, under the hub's lock: queue the notices it made due and erase the
    numbers of tickets that ended. Never raises: the change is committed and sent already."""
    contacts = hub.contacts
    if not contacts:
        return
    gone = notices.ended(after, contacts)
    gw = gateway(hub)
    due: list[notices.Notice] = []
    if gw.active:
        open_ones = {t: told for t, told in contacts.items() if t not in gone}
        due = notices.detect(before, after, open_ones, hub.hall_info()["name"], called=gw.called)
    if not gone and not due:
        return
    now = hub.now()
    try:
        with hub.storage.transaction():
            hub.storage.erase_contacts(gone)
            hub.storage.queue_notices([n.row() for n in due], now)
    except Exception:
        log.exception("queueing notices / erasing numbers failed; the change itself stands")
        return
    for ticket_id in gone:
        contacts.pop(ticket_id, None)
    if gone:  # the WAL is emptied by the sender's next round (within a second), not on a press
        hub.erased_in_wal = True
    for notice in due:
        if notice.kind == notices.ALMOST:
            contacts[notice.ticket] = True
    if gone:
        log.info("notices: erased the numbers of %d ended tickets", len(gone))
    if due:
        log.info("notices: queued %s", ", ".join(f"{n.kind} {n.ticket}" for n in due))


def _flush(hub: Hub) -> None:
    try:
        hub.storage.flush_erased()
    except Exception:  # the erase is committed; the WAL is emptied at the next checkpoint
        log.exception("emptying the WAL after an erase failed")


# --- sending ---------------------------------------------------------------------------------------


class Sender:
    """Posts queued notices to the gateway; `run_once` is one round (tests call it by hand)."""

    def __init__(self, hub: Hub, send=webhooks.post) -> None:
        self.hub = hub
        self.send = send

    def run_once(self) -> int:
        """Try every due notice once (up to BATCH); how many were tried or dropped."""
        hub = self.hub
        if hub.erased_in_wal:  # numbers erased by presses: their old pages leave the -wal file
            with hub.lock:
                hub.erased_in_wal = False
                _flush(hub)
        with hub.lock:  # reads only; the posts happen outside the lock
            gw = gateway(hub)
            if not gw.active:
                return 0
            now = hub.clock()
            rows = hub.storage.due_notices(now, BATCH)
            work: list[dict] = []
            dropped: list[dict] = []
            for row in rows:
                ticket = hub.hall.tickets.get(row["ticket"])
                wanted = row["phone"] is not None and notices.still_wanted(row["kind"], ticket)
                (work if wanted else dropped).append(row)
        for row in dropped:  # the ticket was called, ended or its number removed meanwhile
            self._record(row, None, "dropped", None, now)
        for row in work:
            self._deliver(gw, row, now)
        return len(rows)

    def _deliver(self, gw: notices.Gateway, row: Mapping, now: datetime) -> None:
        notice = {"to": row["phone"], "message": row["message"], "ticket": row["ticket"],
                  "kind": row["kind"], "service": row["service"]}  # fmt: skip
        payload, headers = notices.request(gw, notice, int(now.timestamp()))
        headers["X-Panggil-Delivery"] = f"notice-{row['id']}"
        answer = self.send(gw.url, payload, headers)
        attempts = row["attempts"] + 1
        outcome, next_at = notices.after_attempt(attempts, answer.ok, now)
        if not answer.ok:
            log.warning("notice %s (%s of %s) failed, try %d: %s", row["id"], row["kind"],
                        row["ticket"], attempts, answer.error)  # fmt: skip
        self._record(row, answer, outcome, next_at, now)

    def _record(self, row: Mapping, answer: webhooks.Answer | None, outcome: str,
                next_at: datetime | None, now: datetime) -> None:  # fmt: skip
        attempts = row["attempts"] + (1 if answer else 0)
        delivery = _delivery(
            row["ticket"], row["kind"], row["phone"], now, attempts, answer, outcome
        )
        try:
            self.hub.write(lambda s: s.record_notice_attempt(row["id"], delivery, attempts, next_at,
                                                             KEEP_DELIVERIES))  # fmt: skip
        except Exception:  # the disk is full: the notice stays queued and is tried again
            log.exception("recording notice %s failed", row["id"])

    def forever(self, sleep, idle_s: float = 1.0) -> None:
        """The writer's background task (started beside the webhooks' Dispatcher)."""
        webhooks.run_forever(self.run_once, sleep, idle_s, "notice")


def send_test(hub: Hub, phone: str, send=webhooks.post) -> webhooks.Answer:
    """The admin's "send a test": one post of a test message to a number, logged, not retried."""
    gw = gateway(hub)
    now = hub.clock()
    notice = {"to": phone, "message": announce.notice_test(hub.hall_info()["name"]), "ticket": None,
              "kind": notices.TEST, "service": None}  # fmt: skip
    payload, headers = notices.request(gw, notice, int(now.timestamp()))
    headers["X-Panggil-Delivery"] = "test"
    answer = send(gw.url, payload, headers)
    outcome = "sent" if answer.ok else "failed"
    delivery = _delivery(None, notices.TEST, phone, now, 1, answer, outcome)
    hub.write(lambda s: s.record_notice_attempt(None, delivery, 1, None, KEEP_DELIVERIES))
    log.info("notices: test to %s: %s", notices.mask(phone), answer.status or answer.error)
    return answer


def _delivery(ticket: str | None, kind: str, phone: str | None, now: datetime, attempt: int,
              answer: webhooks.Answer | None, outcome: str) -> dict:  # fmt: skip
    return {"ticket": ticket, "kind": kind, "masked": notices.mask(phone),
            "at": now.isoformat(timespec="seconds"), "attempt": attempt,
            "status": answer.status if answer else None, "ok": bool(answer and answer.ok),
            "outcome": outcome, "error": answer.error if answer else None,
            "ms": answer.ms if answer else None}  # fmt: skip
