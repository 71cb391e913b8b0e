"""The /visitor namespace: each visitor's phone follows its own ticket, not the hall's stream.

A phone connects with its slip's ticket and token, joins a room for that ticket and one for its
service, and gets `ticket_status` (its own small snapshot). After that it receives the events
about its own ticket in full, a coalesced `queue_moved` summary of its service
(server/queue_moved.py), and `day_closed` / `hall_changed`. So a press costs one emit to the one
phone it concerns plus one per service whose queue moved, whatever the number of phones in the
hall; TVs, monitors and consoles keep the whole stream on /display and /counter (server/events.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app, request
from flask_socketio import emit, join_room

from server import payloads, protocol, queue_moved, schemas
from server.estimate import seconds_per_place
from server.events import MALFORMED, guard, refusing, unknown_event
from server.extensions import socketio
from server.protocol import NS_VISITOR, PanggilError

log = logging.getLogger(__name__)

# Events about one ticket that its phone receives in full.
TICKET_EVENTS = frozenset(
    {
        protocol.TICKET_ISSUED,
        protocol.TICKET_CALLED,
        protocol.TICKET_FINISHED,
        protocol.TICKET_SKIPPED,
        protocol.TICKET_TRANSFERRED,
        protocol.TICKET_CANCELLED,
        protocol.TICKET_EXPIRED,
    }
)
# Events every phone receives: rare, and each changes what every page says.
HALL_EVENTS = frozenset({protocol.DAY_CLOSED, protocol.HALL_CHANGED})


def ticket_room(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def number_room(ticket_id: str) -> str:
    """The room of a typed-in number's pages: they get its calls only, as the TV shows them."""
    return f"number:{ticket_id}"


def service_room(service: str) -> str:
    return f"service:{service}"


class Feed:
    """Routes the hall's committed events to the phones that need them; one per app.

    `route` is called after events.broadcast for each committed event (the hub's broadcast is
    `after(events.broadcast)`), under the hub's lock; summaries go
    out from `flush`, at once or from a timer (a background task that sleeps: eventlet and
    threading alike) when the service's interval is not over yet.
    """

    def __init__(
        self,
        app: Flask,
        interval: timedelta,
        timers: bool = True,
        most_phones: int = 4800,
        everywhere: bool = False,
    ) -> None:
        self.app = app
        # With a message queue (server/workers.py) phones follow tickets on other processes too,
        # out of this one's sight: every ticket's events go to its room, and the queue manager
        # moves a transferred ticket's phones wherever they are.
        self.everywhere = everywhere
        self.interval = interval
        # Phones past this are refused: the rest of the server's connections stay for devices.
        self.most_phones = most_phones
        self.timers = timers  # tests flush by hand with their FakeClock
        # socket id -> {"ticket", "service", "day", "number", "token"} (token None: typed-in number)
        self.phones: dict[str, dict] = {}
        self.followers: dict[str, set[str]] = defaultdict(set)  # ticket id -> socket ids
        self.watchers: dict[str, set[str]] = defaultdict(set)  # the same, typed-in numbers
        self.dirty: set[str] = set()
        self.last_sent: dict[str, datetime] = {}
        # What each service's last summary told (its queue and rate): an unchanged one is not sent.
        self.last_seen: dict[str, tuple[tuple[str, ...], float | None]] = {}
        self.wake_at: datetime | None = None
        self.flushing = False  # a flush task is started and has not run yet
        self.sent = 0  # emits to phones, for the benchmark and the tests

    @property
    def hub(self):
        return self.app.extensions["panggil"]

    # --- phones coming and going ---------------------------------------------------------------

    def follow(self, sid: str, phone: dict) -> None:
        self.phones[sid] = phone
        self._rooms(phone)[phone["ticket"]].add(sid)

    def forget(self, sid: str) -> None:
        phone = self.phones.pop(sid, None)
        if phone is None:
            return
        rooms = self._rooms(phone)
        sids = rooms.get(phone["ticket"])
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del rooms[phone["ticket"]]

    def _rooms(self, phone: dict) -> dict[str, set[str]]:
        return self.watchers if phone["token"] is None else self.followers

    # --- after each commit ---------------------------------------------------------------------

    def after(self, broadcast: Callable[[str, dict], None]) -> Callable[[str, dict], None]:
        """The hub's broadcast: the whole stream to /display and /counter, then `route`."""

        def both(name: str, message: dict) -> None:
            broadcast(name, message)
            self.route(name, message)

        return both

    def after_batch(
        self, broadcast_batch: Callable[[list[dict]], None]
    ) -> Callable[[list[dict]], None]:
        """The hub's broadcast of one change's events together, then `route` for each."""

        def both(messages: list[dict]) -> None:
            broadcast_batch(messages)
            for message in messages:
                self.route(message["event"], message)

        return both

    def route(self, name: str, message: dict) -> None:
        """Send one committed event to the phones it concerns; mark the queues it moved."""
        if name in HALL_EVENTS:
            self._emit(name, payloads.public(message))
            return
        ticket = message.get("ticket")
        if name in TICKET_EVENTS and isinstance(ticket, dict):
            sids = self.followers.get(ticket["id"])
            if sids or self.everywhere:  # most tickets have no phone following them: no emit
                if name == protocol.TICKET_TRANSFERRED and sids and not self.everywhere:
                    self._move(sids, message["from_service"], message["to_service"])
                self._emit(name, payloads.public(message), ticket_room(ticket["id"]))
            if name == protocol.TICKET_CALLED and (
                self.everywhere or ticket["id"] in self.watchers
            ):
                called = {key: message[key] for key in ("event", "seq", "at", "call")}
                self._emit(name, payloads.public(called), number_room(ticket["id"]))
        moved = message.get("waiting")
        if name == protocol.COUNTER_CHANGED and isinstance(message.get("counter"), dict):
            # A counter going on a break (or back) changes the estimate of its services.
            moved = dict.fromkeys(message["counter"].get("services") or ())
        if isinstance(moved, dict) and moved:
            self.dirty.update(moved)
            if not self.timers:
                self.flush()
            elif not self.flushing:
                # After this press's events: its TVs and consoles are sent to first (the writers
                # they woke run before this task), and the hub's lock is released before it runs.
                self.flushing = True
                socketio.start_background_task(self._flush_soon)

    def _move(self, sids: set[str], old: str, new: str) -> None:
        """A transferred ticket's phones now follow the queue of its new service."""
        for sid in sids:
            socketio.server.leave_room(sid, service_room(old), namespace=NS_VISITOR)
            socketio.server.enter_room(sid, service_room(new), namespace=NS_VISITOR)
            self.phones[sid]["service"] = new

    def moved(self, sid: str, service: str) -> None:
        """The queue manager moved this process's phone `sid` to `service`'s room (workers.py)."""
        phone = self.phones.get(sid)
        if phone is not None:
            phone["service"] = service

    def flush(self) -> None:
        """Send the summaries that are due; set a timer for the rest (server/queue_moved.py)."""
        hub = self.hub
        with hub.lock:
            now = hub.now()
            planned = queue_moved.plan(self.dirty, self.last_sent, now, self.interval)
            if planned.send:
                with self.app.app_context():
                    for service in planned.send:
                        self.dirty.discard(service)
                        if service not in hub.hall.services:
                            continue
                        summary = self.summary(service)
                        # A finish or a break moved nothing the phones see: they have this already.
                        seen = (tuple(summary["queue"]), summary["seconds_per_place"])
                        if self.last_seen.get(service) == seen:
                            continue
                        self.last_seen[service] = seen
                        self.last_sent[service] = now
                        self._emit(protocol.QUEUE_MOVED, summary, service_room(service))
            if self.wake_at is not None and self.wake_at <= now:
                self.wake_at = None  # that timer has fired (or is about to: flushing is harmless)
            if planned.wake_at is not None and (
                self.wake_at is None or planned.wake_at < self.wake_at
            ):
                self.wake_at = planned.wake_at
                if self.timers:
                    delay = (planned.wake_at - now).total_seconds()
                    socketio.start_background_task(self._wake, delay)

    def _flush_soon(self) -> None:
        self.flushing = False
        self._flush_in_task()

    def _wake(self, delay: float) -> None:
        socketio.sleep(max(0.0, delay))
        self._flush_in_task()

    def _flush_in_task(self) -> None:
        try:
            self.flush()
        except Exception:  # a summary lost now is sent with the next move
            log.exception("queue summaries failed")

    def summary(self, service: str) -> dict:
        """The service's `queue_moved` payload now (called under the hub's lock, in app context)."""
        from server.pages.visitor import recent_service_times  # the page's cached history

        hub = self.hub
        rate = seconds_per_place(
            recent_service_times(hub, service), hub.hall.open_counters(service)
        )
        return queue_moved.summary(hub.hall, service, hub.seq, rate)

    def _emit(self, name: str, message: dict, room: str | None = None) -> None:
        socketio.emit(name, message, namespace=NS_VISITOR, to=room)
        self.sent += 1


def feed() -> Feed:
    return current_app.extensions["panggil_visitors"]


def init_app(
    app: Flask, interval_s: float, timers: bool, most_phones: int, everywhere: bool = False
) -> Feed:
    made = Feed(app, timedelta(seconds=interval_s), timers, most_phones, everywhere)
    app.extensions["panggil_visitors"] = made
    return made


def _view(day: str, number: str, token: str | None) -> dict:
    """What the ticket's page shows (the slip's), or a typed-in number's; unknown-ticket if wrong."""
    from server.pages.visitor import number_view, ticket_view

    return number_view(day, number) if token is None else ticket_view(day, number, token)


def _send_status(phone: dict) -> dict:
    """Emit the phone's `ticket_status` under the hub's lock, ordered with the events."""
    hub = current_app.extensions["panggil"]
    with hub.lock:
        view = _view(phone["day"], phone["number"], phone["token"])
        status = {"seq": hub.seq, **payloads.public(view)}
        emit(protocol.TICKET_STATUS, status)
    return {"ok": True, "seq": status["seq"]}


# --- /visitor ---------------------------------------------------------------------------------


@socketio.on("connect", namespace=NS_VISITOR)
def visitor_connect(auth=None):
    """A visitor's phone connects with its slip's ticket and token; it gets `ticket_status`.

    Without a token (a typed-in number's page) it follows only that number's calls."""
    hub = current_app.extensions["panggil"]
    phones = feed()
    with refusing(NS_VISITOR, phones.phones):
        if auth == MALFORMED:
            raise PanggilError("malformed-packet")
        creds = schemas.check(schemas.VisitorAuth, {} if auth is None else auth)
        if len(phones.phones) >= phones.most_phones:
            raise PanggilError("too-many-phones")  # the page polls its status slowly instead
        with hub.lock:
            ticket = _view(creds.day, creds.number, creds.token)["ticket"]  # or unknown-ticket
            if ticket["day"] != hub.hall.day:
                raise PanggilError("ticket-ended")  # its page shows how it ended; nothing to follow
            phone = {"ticket": ticket["id"], "service": ticket.get("service"), "day": creds.day,
                     "number": ticket["number"], "token": creds.token}  # fmt: skip
            if creds.token is None:
                join_room(number_room(ticket["id"]))
            else:
                join_room(ticket_room(ticket["id"]))
                join_room(service_room(ticket["service"]))
            _send_status(phone)
            phones.follow(request.sid, phone)


@socketio.on("disconnect", namespace=NS_VISITOR)
def visitor_disconnect(*args):
    with current_app.extensions["panggil"].lock:  # route() reads the rooms under the same lock
        feed().forget(request.sid)


@socketio.on(protocol.GET_STATUS, namespace=NS_VISITOR)
@guard(schemas.GetStatus)
def visitor_get_status(data: schemas.GetStatus):
    """A phone that thinks it missed something asks for its ticket's status again."""
    phone = feed().phones.get(request.sid)
    if phone is None:
        raise PanggilError("unknown-ticket")
    return _send_status(phone)


@socketio.on("*", namespace=NS_VISITOR)
def visitor_unknown_event(event, *args):
    """Any other event a phone sends: refused with an acknowledgement, not silently dropped."""
    return unknown_event(event, NS_VISITOR)
