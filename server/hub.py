"""The one writer: load -> engine -> save -> broadcast, under one lock.

Every change to the queue goes through `Hub._apply`: the pure engine decides, storage writes the
changes in one transaction, and only after the commit is the new state swapped in and the events
broadcast, in seq order. A failure anywhere before the commit leaves state and database unchanged.
The day roll (server/day.py) and admin changes (server/catalogue.py) follow the same order under
the same lock; the protocol's objects are built by server/payloads.py.

Under eventlet nothing inside a transaction yields: no emit, no sleep, no network; broadcasting
and voice work happen after the commit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from server import announce, bookings, catalogue, day, engine, officers, payloads, protocol
from server import notice_sender
from server.engine import Change, Hall, Outcome
from server.protocol import PanggilError
from server import storage as storage_module
from server.storage import Storage

if TYPE_CHECKING:
    from server.config import Config

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Broadcast = Callable[[str, dict], None]
Step = Callable[[Hall, datetime], Outcome]

RECENT_CALLS = 20
# How many of a counter's next tickets the voice prepares at it (Hub.prepare_for_counter): more
# than the counters that usually share a service, so that its next call is among them.
PREPARE_AHEAD = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlainAnnouncer:
    """Text-only announcements: used when no voice engine is configured."""

    def announce(self, call: dict) -> dict:
        return {"text": announce.plain_text(call), "audio_url": None, "status": "none"}

    def prepare(self, texts: list[str]) -> None:
        pass

    def status(self) -> dict:
        return {"engine": "none"}


# The command name a cancel's request_id is stored under (it is an HTTP request, not a socket
# command): the same id reused for call_next is request-id-reused.
CANCEL = "cancel"


class Hub:
    """Owns the hall's live state; the only code that writes queue data."""

    replica = False  # a fan-out worker's read-only copy is a ReplicaHub (server/workers.py)

    def __init__(
        self,
        storage: Storage,
        *,
        timezone_name: str = "Asia/Jakarta",
        day_starts_at: int = 0,
        enforce_hours: bool = True,
        require_officer: bool = False,
        clock: Clock = utc_now,
        broadcast: Broadcast | None = None,
        announcer: Any = None,
    ) -> None:
        self.storage = storage
        self.tz = ZoneInfo(timezone_name)
        self.day_starts_at = day_starts_at
        self.enforce_hours = enforce_hours
        self.require_officer = require_officer
        self.clock = clock
        self.broadcast: Broadcast = broadcast or (lambda name, payload: None)
        # The events of one change at once (server/events.py: one `events` frame on /display);
        # None: each goes through `broadcast` on its own.
        self.broadcast_batch: Callable[[list[dict]], None] | None = None
        # Lets the event loop send what was just broadcast before the rest of a press's work
        # (server/app.py: socketio.sleep(0); nothing in tests and threading mode needs it).
        self.pause: Callable[[], None] = lambda: None
        # Duck-typed: PlainAnnouncer, or server.voice's announcer with texts_for_ticket and
        # update_settings as well.
        self.announcer: Any = announcer or PlainAnnouncer()
        # A green lock under eventlet (monkey-patched), a thread lock otherwise.
        self.lock = threading.RLock()
        self.displays: dict[str, dict] = {}
        self.counters_online: dict[
            str, int
        ] = {}  # socket id -> counter number (events.py keeps it)
        self.hall = Hall(day="")
        self.recent: deque[dict] = deque(maxlen=RECENT_CALLS)
        self.settings: dict = {}
        self.tokens: dict[int, str] = {}
        self.seq = 0
        self.closing: str | None = None  # the day the admin is closing early (server/day.py)
        # The hall's open/break/closed status the screens were last told (server/day.py).
        self.hall_status: dict | None = None
        # Open tickets with a phone number for notices -> whether "almost" was queued (notices.py).
        self.contacts: dict[str, bool] = {}
        self.erased_in_wal = False  # numbers erased since the -wal file was last emptied

    # --- start-up ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def today(self) -> str:
        return engine.service_day(self.now(), self.day_starts_at)

    def seed(self, config: Config) -> bool:
        """Load the config's catalogue and users into an empty database; then the database rules."""
        return catalogue.seed(self, config)

    def load(self) -> None:
        """Rebuild the live state from the database (after a start or a crash)."""
        with self.lock:
            now = self.now()
            today = self.storage.current_day() or engine.service_day(now, self.day_starts_at)
            with self.storage.transaction():
                self.storage.open_day(today, now)
                # A crash between a change and its erase: no number outlives its ticket.
                self.storage.erase_closed_contacts()
            self.load_state(today)
            log.info(
                "day %s loaded: %d open tickets, seq %d", today, len(self.hall.tickets), self.seq
            )
        self.tick()

    def load_state(self, today: str) -> None:
        """Read the day's live state from the database; writes nothing (a worker's replica too)."""
        with self.lock:
            agencies, services, counters = self.storage.load_catalogue()
            state = self.storage.load_day(today, self.tz)
            self.hall = Hall(
                day=today,
                agencies=engine.frozen_map(agencies),
                services=engine.frozen_map(services),
                counters=engine.frozen_map(counters),
                tickets=engine.frozen_map(state["tickets"]),
                last_seq=engine.frozen_map(state["last_seq"]),
                issued=engine.frozen_map(state["issued"]),
                served=engine.frozen_map(state["served"]),
                ended=frozenset(state["ended"]),
                next_order=state["next_order"],
                enforce_hours=self.enforce_hours,
                schedule=self.storage.load_schedule(),
                require_officer=self.require_officer,
            )
            self.settings = self.storage.load_settings()
            self.tokens = self.storage.counter_tokens()
            self.recent = deque(
                reversed(self.storage.recent_calls(today, RECENT_CALLS)), maxlen=RECENT_CALLS
            )
            self.seq = self.storage.last_seq()
            self.contacts = self.storage.contacts()

    # --- commands --------------------------------------------------------------------------------

    def issue(self, service: str, priority: str | None = None, holder: str | None = None) -> dict:
        """A visitor takes a number (kiosk, API, or a phone: `holder`)."""
        result = self._apply(
            lambda hall, now: engine.issue_ticket(hall, service, now, priority, holder)
        )
        self._prepare_voice(result["result"]["ticket"])
        return result

    def _prepare_voice(self, ticket: dict) -> None:
        """Synthesise the ticket's call at each staffed counter that can call it, ahead of next.

        Only counters with a client connected now: a service served by twenty desks, of which
        three are open, must not cost twenty syntheses a ticket.
        """
        hall = self.hall
        online = set(self.counters_online.values())
        counters = [
            c
            for c in hall.counters.values()
            if c.serving and c.number in online and ticket["service"] in c.services
        ]
        self._prepare(hall, [(ticket["number"], ticket["service"])], counters)

    def prepare_for_counter(self, number: int) -> None:
        """Synthesise the calls of the next tickets a counter may call, at that counter.

        For the tickets taken while it was offline (the queue that formed before the hall
        opened): called when its client connects and after each of its calls, so that a first
        call of the day is spoken at once too. Clips already made cost a cache look-up each.
        """
        hall = self.hall
        counter = hall.counters.get(number)
        if counter is None or not counter.serving:
            return
        upcoming = hall.upcoming(number, PREPARE_AHEAD)
        self._prepare(hall, [(t.number, t.service) for t in upcoming], [counter])

    def _prepare(
        self, hall: Hall, tickets: list[tuple[str, str]], counters: list[engine.Counter]
    ) -> None:
        """Hand the voice the call texts of `tickets` (number, service) at `counters`."""
        texts_for = getattr(self.announcer, "texts_for_ticket", None)
        if texts_for is None or not tickets or not counters:
            return
        spoken = [{"number": c.number, "name": c.name, "spoken_name": c.spoken_name}
                  for c in counters]  # fmt: skip
        try:
            texts = []
            for number, code in tickets:
                service = hall.services.get(code)
                info = (
                    {"code": service.code, "name": service.name, "agency": service.agency}
                    if service
                    else None
                )
                texts.extend(texts_for(number, spoken, info))
            self.announcer.prepare(texts)
        except Exception:  # preparing is an optimisation; the call will still be spoken
            log.exception("preparing the voice for %s failed", [number for number, _ in tickets])

    def cancel(
        self, number: str, counter: int | None = None, request_id: str | None = None
    ) -> dict:
        """Withdraw a ticket; a counter's cancel with a request_id is applied once per id."""

        def step(hall: Hall, now: datetime) -> engine.Outcome:
            return engine.cancel_ticket(hall, number, now, counter)

        if counter is None or request_id is None:
            return self._apply(step)
        return self._apply(step, request=(counter, request_id, CANCEL))

    def command(self, counter: int, command: str, args: Mapping, request_id: str) -> dict:
        """Apply a counter command once per request id; returns {"result", "seq"}."""
        if command not in protocol.COUNTER_COMMANDS:
            raise PanggilError("unknown-command")
        if not isinstance(request_id, str) or not protocol.REQUEST_ID_RE.fullmatch(request_id):
            raise PanggilError(
                "bad-request", "request_id wajib diisi (1-64 karakter A-Z, a-z, 0-9, . _ : -)."
            )
        step = _step(command, counter, args)
        response = self._apply(step, request=(counter, request_id, command))
        if (response.get("result") or {}).get("call"):
            self.prepare_for_counter(counter)  # after the answer's lock: its next calls
        return response

    def sign_out_user(self, user_id: int) -> dict:
        """Sign a deactivated user out of any counter (engine.sign_out_user)."""
        return self._apply(lambda hall, now: engine.sign_out_user(hall, user_id, now))

    def _apply(
        self,
        step: Step,
        request: tuple[int, str, str] | None = None,
        also: Callable[[Storage, Outcome, datetime], None] | None = None,
    ) -> dict:
        with self.lock:
            now = self.now()
            day.roll_day(self, now)
            if request is not None:
                replay = self._replay(*request)
                if replay is not None:
                    return replay
            before = self.hall
            outcome = step(self.hall, now)  # raises PanggilError: nothing changed
            built = [payloads.event_payload(c, outcome.hall) for c in outcome.changes]
            with self._storing([c.kind for c in outcome.changes]):
                seqs = self.storage.save_changes(outcome.changes, built, outcome.hall)
                if also is not None:  # more rows of the same change (a booking checked in)
                    also(self.storage, outcome, now)
                response = payloads.command_response(outcome, built, seqs[-1])
                if request is not None:
                    counter, request_id, command = request
                    self.storage.save_request(counter, request_id, command, response, now)
            self.hall = outcome.hall
            self.publish(outcome.changes, built, seqs)
            called = any("call" in payload for payload in built)
            if called:
                # The screens first: the writers of every TV and console run now, not after the
                # commits below (their fsync) and the answer. No transaction is open.
                self.pause()
            self._queue_notices(before, outcome.hall)
            if not called:
                return response
            # The announcement is made only now, after the commit (it sets the voice working),
            # so the answer and the event rows stored above lack it: store what was sent.
            response = payloads.command_response(outcome, built, seqs[-1])
            self._keep_announcements(built, seqs, request, response)
            return response

    @contextlib.contextmanager
    def _storing(self, what: object) -> Iterator[None]:
        """One transaction for a change; if it fails nothing is applied, and the caller gets
        `storage-full` (the disk is full) or `internal-error` instead of the exception."""
        try:
            with self.storage.transaction():
                yield
        except Exception as exc:
            if storage_module.is_full(exc):
                log.error("storing %s failed: the database's disk is full; nothing applied", what)
                raise PanggilError("storage-full") from None
            log.exception("storing %s failed; nothing applied", what)
            raise PanggilError("internal-error") from None

    def _queue_notices(self, before: Hall, after: Hall) -> None:
        """SMS/WhatsApp notices the change made due, and numbers to erase (after the commit)."""
        try:
            notice_sender.after_change(self, before, after)
        except Exception:  # a notice must never undo or fail a committed press
            log.exception("notices after a change failed")

    def _keep_announcements(
        self,
        built: list[dict],
        seqs: list[int],
        request: tuple[int, str, str] | None,
        response: dict,
    ) -> None:
        """Store the announced calls and the whole answer, so a retry gets the first answer again."""
        try:
            with self.storage.transaction():
                for payload, seq in zip(built, seqs):
                    if "call" in payload:
                        self.storage.save_event_data(seq, payload)
                if request is not None:
                    counter, request_id, _command = request
                    self.storage.save_request_response(counter, request_id, response)
        except Exception:  # the change is committed and sent: only a retry's answer is poorer
            log.exception("storing the announcement of %s failed", seqs)

    def _replay(self, counter: int, request_id: str, command: str) -> dict | None:
        found = self.storage.find_request(counter, request_id)
        if found is None:
            return None
        stored_command, response = found
        if stored_command != command:
            raise PanggilError("request-id-reused")
        log.info("counter %s request %s replayed", counter, request_id)
        return {**response, "replayed": True}

    def tick(self) -> None:
        """Called every few seconds by a background task: closes the day at its boundary and
        tells the screens when the hall opens, goes on a break or closes; expires bookings."""
        day.tick(self)
        self.expire_bookings()

    def close_day(self, also: Callable[[Storage], None] | None = None) -> dict:
        """The admin ends the day's service now (server/day.py); `also` adds the audit row."""
        return day.close_day(self, also)

    def announcement_ready(self, ready: Mapping) -> None:
        """A pending call's audio is ready: later snapshots carry its URL too."""
        with self.lock:
            for call in self.recent:
                if call["call_id"] == ready.get("call_id"):
                    call["announcement"] = {**call.get("announcement", {}), "audio_url": ready.get("audio_url"),
                                            "status": "ready" if ready.get("audio_url") else "none"}  # fmt: skip

    # --- bookings (server/bookings.py) ----------------------------------------------------------

    def check_in_booking(self, code: str, *, early_minutes: int, priority: bool) -> dict:
        """A booked visitor arrived: the booking becomes a ticket (one transaction), once.

        A booking checked in before answers with its ticket again ("replayed"), never a second
        number. Returns {"result": {"ticket", "ahead", "booking"}, "seq"}.
        """
        with self.lock:
            found = self.storage.find_booking(code, self.tz)
            if found is None:
                raise PanggilError("unknown-booking")
            if found.status == "checked_in" and found.ticket:
                return self._checked_in_answer(found)
            booking: bookings.Booking = found

            def step(hall: Hall, now: datetime) -> Outcome:
                return bookings.check_in(hall, booking, now, early_minutes=early_minutes,
                                         priority=priority)  # fmt: skip

            def mark(storage: Storage, outcome: Outcome, now: datetime) -> None:
                ticket = outcome.last.ticket
                assert ticket is not None
                storage.mark_booking(booking.code, "checked_in", now, ticket.id)
                # The booking form's consent: its phone gets the notices (server/notices.py).
                if booking.notify and notice_sender.add_booking_contact(
                    self, storage, ticket.id, booking.phone, now
                ):
                    contact.append(ticket.id)

            contact: list[str] = []
            response = self._apply(step, also=mark)
            for ticket_id in contact:  # known to the notices only once committed
                self.contacts.setdefault(ticket_id, False)
            stored = self.storage.find_booking(code, self.tz)
            assert stored is not None
            response["result"]["booking"] = bookings.booking_dict(stored)
        self._prepare_voice(response["result"]["ticket"])
        return response

    def _checked_in_answer(self, booking: bookings.Booking) -> dict:
        assert booking.ticket is not None
        ticket = self.hall.tickets.get(booking.ticket) or self.storage.find_ticket(
            booking.ticket, self.tz
        )
        if ticket is None:
            raise PanggilError("unknown-ticket")
        ahead = self.hall.ahead_of(ticket) if ticket.id in self.hall.tickets else 0
        return {
            "result": {"ticket": engine.ticket_dict(ticket), "ahead": ahead,
                       "booking": bookings.booking_dict(booking)},
            "seq": self.seq,
            "replayed": True,
        }  # fmt: skip

    def cancel_booking(
        self,
        code: str | None,
        *,
        external_id: str | None = None,
        by: str,
        reason: str | None = None,
        also: Callable[[Storage], None] | None = None,
    ) -> tuple[bookings.Booking, bool]:
        """Cancel a booking by its code or external id: its place returns at once (one
        transaction with the `booking_cancelled` event, broadcast after the commit).

        Returns the booking and whether this call cancelled it (False: it was cancelled before);
        `also` adds rows to the same transaction (the admin's audit row).
        """  # fmt: skip
        with self.lock:
            if external_id is not None:
                found = self.storage.find_external_booking(external_id, self.tz)
            else:
                found = self.storage.find_booking(code or "", self.tz)
            if found is None:
                raise PanggilError("unknown-booking")
            now = self.now()
            cancelled = bookings.cancel(found, now, by, reason)  # raises: nothing changed
            if cancelled is found:
                return found, False
            data = {"booking": bookings.booking_dict(cancelled)}
            with self._storing(f"the cancel of booking {found.code}"):
                self.storage.cancel_booking(cancelled)
                if also is not None:
                    also(self.storage)
                seq = self.storage.add_event("booking_cancelled", now, self.hall.day, data)
            self.send(protocol.BOOKING_CANCELLED, seq, now, data)
        log.info("booking %s cancelled by %s", cancelled.code, by)
        return cancelled, True

    def expire_bookings(self) -> list[str]:
        """Bookings nobody checked in by their session's end plus grace expire; their places return."""
        with self.lock:
            now = self.now()
            due = bookings.expired(self.storage.open_bookings_until(now, self.tz), now)
            if not due:
                return []
            with self.storage.transaction():
                for booking in due:
                    self.storage.mark_booking(booking.code, "expired")
        log.info("%d bookings expired: %s", len(due), ", ".join(b.code for b in due))
        return [b.code for b in due]

    # --- admin changes ----------------------------------------------------------------------------

    def change_hall(
        self, what: str, write: Callable[[Storage], None], detail: Mapping | None = None
    ) -> int:
        """Apply an admin change (settings or catalogue) in one transaction, then broadcast it."""
        return catalogue.change_hall(self, what, write, detail)

    def write(self, work: Callable[[Storage], Any]) -> Any:
        """Run a non-queue write (users, audit, displays) in one transaction under the lock."""
        try:
            with self.lock, self.storage.transaction():
                return work(self.storage)
        except Exception as exc:
            if storage_module.is_full(exc):
                log.error("a write failed: the database's disk is full; nothing applied")
                raise PanggilError("storage-full") from None
            raise

    def storage_problem(self) -> str | None:
        """The error code of the database's state for writes now (a rolled-back probe), or None."""
        try:
            self.read(lambda storage: storage.probe_write())
        except Exception as exc:
            if storage_module.is_full(exc):
                return "storage-full"
            log.exception("the database cannot be written")
            return "internal-error"
        return None

    def read(self, work: Callable[[Storage], Any]) -> Any:
        """Run a read on the shared connection under the lock."""
        with self.lock:
            return work(self.storage)

    # --- reads -----------------------------------------------------------------------------------

    def check_token(self, counter: object, token: object) -> int:
        """The counter number if the token is right; raises otherwise (same answer for both)."""
        return catalogue.check_token(self.tokens, self.hall, counter, token)

    def counter_with_token(self, token: object) -> int:
        """The counter whose token this is (compared in constant time); raises otherwise."""
        return catalogue.counter_with_token(self.tokens, token)

    def snapshot(self, counter: int | None = None) -> dict:
        with self.lock:
            return payloads.snapshot(self.hall, seq=self.seq, now=self.now(), info=self.hall_info(),
                                     recent=self.recent, counter=counter)  # fmt: skip

    def display_settings(self, name: str) -> dict:
        """What the admin set for a named display: the counters and services it shows (None: all)."""
        with self.lock:
            found = self.storage.find_display(name)
        if found is None:
            return {"name": name, "counters": None, "services": None}
        return {"name": name, "counters": found["counters"], "services": found["services"]}

    def hall_info(self) -> dict:
        return payloads.hall_info(self.settings, self.tz)

    def services_detail(self) -> list[dict]:
        with self.lock:
            return payloads.services_detail(self.hall, self.now())

    def counter_info(self, number: int) -> dict:
        return payloads.counter_info(self.hall, number)

    def ticket_status(self, day: str, number: str) -> dict:
        """A visitor's view of a ticket: its state, people ahead and the last call."""
        with self.lock:
            tid = engine.ticket_id(day, number.strip().upper())
            ticket = self.hall.tickets.get(tid) if day == self.hall.day else None
            if ticket is None:
                ticket = self.storage.find_ticket(tid, self.tz)
            if ticket is None:
                raise PanggilError("unknown-ticket")
            ahead = self.hall.ahead_of(ticket) if ticket.id in self.hall.tickets else 0
            return {
                "ticket": engine.ticket_dict(ticket),
                "ahead": ahead,
                "call": self.storage.last_call(tid),
            }

    # --- publishing (after the commit, under the lock) ------------------------------------------

    def publish(self, changes: Sequence[Change], built: list[dict], seqs: list[int]) -> None:
        """Announce each call, remember it for snapshots and broadcast every change in seq order."""
        for payload in built:
            if "call" in payload:
                call = payload["call"]
                try:
                    call["announcement"] = self.announcer.announce(dict(call))
                except Exception:  # the voice must never stop a call from going out
                    log.exception("announcement failed for %s", call["call_id"])
                    call["announcement"] = {"text": "", "audio_url": None, "status": "none"}
                # A copy: announcement_ready updates the snapshot's call, never an answer sent.
                self.recent.append(dict(call))
        names = [payloads.EVENT_NAMES[change.kind] for change in changes]
        if len(changes) > 1 and self.broadcast_batch is not None:
            # One change's events together (a call_next: the finish and the call): TVs get one frame.
            messages = [_message(name, seq, change.at, payload)
                        for name, change, payload, seq in zip(names, changes, built, seqs)]  # fmt: skip
            self.seq = seqs[-1]
            try:
                self.broadcast_batch(messages)
            except Exception:  # a broken client connection must not undo a committed change
                log.exception("broadcast of seq %d-%d failed", seqs[0], seqs[-1])
            return
        for name, change, payload, seq in zip(names, changes, built, seqs):
            self.send(name, seq, change.at, payload)

    def send(self, name: str, seq: int, at: datetime, payload: Mapping) -> None:
        """Broadcast one committed event and advance the hub's seq."""
        self.seq = seq
        try:
            self.broadcast(name, _message(name, seq, at, payload))
        except Exception:  # a broken client connection must not undo a committed change
            log.exception("broadcast of %s (seq %d) failed", name, seq)


def _message(name: str, seq: int, at: datetime, payload: Mapping) -> dict:
    """An event as clients receive it (docs/protocol.md): its name, seq and time, then its data."""
    return {"event": name, "seq": seq, "at": at.isoformat(timespec="seconds"), **payload}


def _step(command: str, counter: int, args: Mapping) -> Step:
    """The engine rule a counter command runs, with its arguments checked."""
    if command == protocol.CALL_NEXT:
        return lambda hall, now: engine.call_next(hall, counter, now)
    if command == protocol.RECALL:
        return lambda hall, now: engine.recall(hall, counter, now)
    if command == protocol.SKIP:
        return lambda hall, now: engine.skip(hall, counter, now)
    if command == protocol.FINISH:
        return lambda hall, now: engine.finish(hall, counter, now)
    if command == protocol.TRANSFER:
        service = _text_arg(args, "service", 40)
        return lambda hall, now: engine.transfer(hall, counter, service, now)
    if command == protocol.PAUSE:
        reason = _text_arg(args, "reason", 20)
        until = args.get("until") if isinstance(args, Mapping) else None
        if until is not None and not isinstance(until, str):
            raise PanggilError("bad-request", "Kolom 'until' tidak valid.")
        return lambda hall, now: engine.pause(hall, counter, reason, until, now)
    if command == protocol.RESUME:
        return lambda hall, now: engine.resume(hall, counter, now)
    if command in (protocol.SIGN_IN, protocol.SIGN_OUT):
        return officers.sign_step(command, counter, args)
    number = _text_arg(args, "number", 8)
    return lambda hall, now: engine.call_ticket(hall, counter, number, now)


def _text_arg(args: Mapping, key: str, limit: int) -> str:
    value = args.get(key) if isinstance(args, Mapping) else None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise PanggilError(
            "bad-request", f"Kolom '{key}' wajib diisi (teks, paling banyak {limit} karakter)."
        )
    return value.strip()
