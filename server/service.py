"""The one writer: load -> engine -> save -> broadcast, under one lock.

Every change to the hall goes through `Hub._apply`: the pure engine decides, storage writes the
changes in one transaction, and only after the commit is the new state swapped in and the events
broadcast, in seq order. A failure anywhere before the commit leaves state and database unchanged.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server import engine, protocol
from server.engine import Change, Hall, Outcome, ticket_dict
from server.protocol import PanggilError
from server.storage import Storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Broadcast = Callable[[str, dict], None]

RECENT_CALLS = 20

EVENT_NAMES = {
    "issued": protocol.TICKET_ISSUED,
    "called": protocol.TICKET_CALLED,
    "recalled": protocol.TICKET_CALLED,
    "finished": protocol.TICKET_FINISHED,
    "skipped": protocol.TICKET_SKIPPED,
    "transferred": protocol.TICKET_TRANSFERRED,
    "cancelled": protocol.TICKET_CANCELLED,
    "expired": protocol.TICKET_EXPIRED,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlainAnnouncer:
    """Text-only announcements: used when no voice engine is configured."""

    def announce(self, call: dict) -> dict:
        counter = call["counter"]["spoken_name"] or call["counter"]["name"]
        opening = "Panggilan ulang, nomor antrean" if call["kind"] == "recall" else "Nomor antrean"
        return {"text": f"{opening} {call['ticket']['number']}, silakan ke {counter}.",
                "audio_url": None, "status": "none"}  # fmt: skip

    def prepare(self, texts: list[str]) -> None:
        pass

    def status(self) -> dict:
        return {"engine": "none"}


class Hub:
    """Owns the hall's live state; the only code that writes queue data."""

    def __init__(
        self,
        storage: Storage,
        *,
        timezone_name: str = "Asia/Jakarta",
        day_starts_at: int = 0,
        enforce_hours: bool = True,
        clock: Clock = utc_now,
        broadcast: Broadcast | None = None,
        announcer: object | None = None,
    ) -> None:
        self.storage = storage
        self.tz = ZoneInfo(timezone_name)
        self.day_starts_at = day_starts_at
        self.enforce_hours = enforce_hours
        self.clock = clock
        self.broadcast: Broadcast = broadcast or (lambda name, payload: None)
        self.announcer = announcer or PlainAnnouncer()
        # A green lock under eventlet (monkey-patched), a thread lock otherwise.
        self.lock = threading.RLock()
        self.displays: dict[str, dict] = {}
        self.counters_online: dict[str, int] = {}  # socket id -> counter number (events.py keeps it)
        self.hall = Hall(day="")
        self.recent: deque[dict] = deque(maxlen=RECENT_CALLS)
        self.settings: dict = {}
        self.tokens: dict[int, str] = {}
        self.seq = 0
        self._closing: str | None = None

    # --- start-up ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def today(self) -> str:
        return engine.service_day(self.now(), self.day_starts_at)

    def seed(self, config) -> bool:
        """Load the config's catalogue and users into an empty database; then the database rules."""
        with self.lock:
            seeded = self._seed_catalogue(config)
            self._seed_users(config)
            return seeded

    def _seed_catalogue(self, config) -> bool:
        if not self.storage.is_empty():
            return False
        with self.storage.transaction():
            for i, a in enumerate(config.agencies):
                self.storage.save_agency(engine.Agency(a.code, a.name), i)
            for i, s in enumerate(config.services):
                self.storage.save_service(s.to_service(), i)
            for c in config.counters:
                counter = engine.Counter(
                    number=c.number,
                    name=c.name,
                    spoken_name=c.spoken_name or c.name.lower(),
                    services=tuple(c.services),
                    active=c.active,
                )
                self.storage.save_counter(counter, token=c.token or secrets.token_urlsafe(16))
            hall = config.hall
            for key in ("name", "running_text"):
                self.storage.save_setting(f"hall.{key}", getattr(hall, key))
            if config.voice:
                self.storage.save_setting("voice", config.voice)
        log.info("catalogue loaded from config: %d services, %d counters",
                 len(config.services), len(config.counters))  # fmt: skip
        return True

    def _seed_users(self, config) -> None:
        if not config.users or self.storage.list_users():
            return
        from server.passwords import hash_password

        hashes = [hash_password(u.password) for u in config.users]  # slow: before the transaction
        with self.storage.transaction():
            for user, password_hash in zip(config.users, hashes):
                self.storage.add_user(user.username, password_hash, user.role, self.now(),
                                      counter=user.counter, full_name=user.full_name)  # fmt: skip
        log.info("users loaded from config: %d", len(config.users))

    def load(self) -> None:
        """Rebuild the live state from the database (after a start or a crash)."""
        with self.lock:
            now = self.now()
            day = self.storage.current_day() or engine.service_day(now, self.day_starts_at)
            with self.storage.transaction():
                self.storage.open_day(day, now)
            agencies, services, counters = self.storage.load_catalogue()
            state = self.storage.load_day(day, self.tz)
            self.hall = Hall(
                day=day,
                agencies=engine.frozen_map(agencies),
                services=engine.frozen_map(services),
                counters=engine.frozen_map(counters),
                tickets=engine.frozen_map(state["tickets"]),
                last_seq=engine.frozen_map(state["last_seq"]),
                issued=engine.frozen_map(state["issued"]),
                served=engine.frozen_map(state["served"]),
                next_order=state["next_order"],
                enforce_hours=self.enforce_hours,
            )
            self.settings = self.storage.load_settings()
            self.tokens = self.storage.counter_tokens()
            self.recent = deque(
                reversed(self.storage.recent_calls(day, RECENT_CALLS)), maxlen=RECENT_CALLS
            )
            self.seq = self.storage.last_seq()
            log.info(
                "day %s loaded: %d open tickets, seq %d", day, len(self.hall.tickets), self.seq
            )
        self.tick()

    # --- commands --------------------------------------------------------------------------------

    def issue(self, service: str, priority: str | None = None) -> dict:
        """A visitor takes a number (kiosk or API)."""
        result = self._apply(lambda hall, now: engine.issue_ticket(hall, service, now, priority))
        self._prepare_voice(result["result"]["ticket"])
        return result

    def _prepare_voice(self, ticket: dict) -> None:
        """Synthesise the ticket's call at each staffed counter that can call it, ahead of next.

        Only counters with a client connected now: a service served by twenty desks, of which
        three are open, must not cost twenty syntheses a ticket.
        """
        texts_for = getattr(self.announcer, "texts_for_ticket", None)
        if texts_for is None:
            return
        hall = self.hall
        service = hall.services.get(ticket["service"])
        online = set(self.counters_online.values())
        counters = [
            {"number": c.number, "name": c.name, "spoken_name": c.spoken_name}
            for c in hall.counters.values()
            if c.active and c.number in online and ticket["service"] in c.services
        ]
        if not counters:
            return
        try:
            info = {"code": service.code, "name": service.name, "agency": service.agency} if service else None
            self.announcer.prepare(texts_for(ticket["number"], counters, info))
        except Exception:  # preparing is an optimisation; the call will still be spoken
            log.exception("preparing the voice for %s failed", ticket["number"])

    def cancel(self, number: str) -> dict:
        return self._apply(lambda hall, now: engine.cancel_ticket(hall, number, now))

    def command(self, counter: int, command: str, args: Mapping, request_id: str) -> dict:
        """Apply a counter command once per request id; returns {"result", "seq"}."""
        if command not in protocol.COUNTER_COMMANDS:
            raise PanggilError("unknown-command")
        if not isinstance(request_id, str) or not protocol.REQUEST_ID_RE.fullmatch(request_id):
            raise PanggilError(
                "bad-request", "request_id wajib diisi (1-64 karakter A-Z, a-z, 0-9, . _ : -)."
            )
        step = self._step(command, counter, args)
        return self._apply(step, request=(counter, request_id, command))

    def _step(
        self, command: str, counter: int, args: Mapping
    ) -> Callable[[Hall, datetime], Outcome]:
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
        number = _text_arg(args, "number", 8)
        return lambda hall, now: engine.call_ticket(hall, counter, number, now)

    def _apply(
        self,
        step: Callable[[Hall, datetime], Outcome],
        request: tuple[int, str, str] | None = None,
    ) -> dict:
        with self.lock:
            now = self.now()
            self._roll_day(now)
            if request is not None:
                replay = self._replay(*request)
                if replay is not None:
                    return replay
            outcome = step(self.hall, now)  # raises PanggilError: nothing changed
            payloads = [self._payload(c, outcome.hall) for c in outcome.changes]
            try:
                with self.storage.transaction():
                    seqs = self.storage.save_changes(outcome.changes, payloads)
                    response = self._response(outcome, payloads, seqs[-1])
                    if request is not None:
                        counter, request_id, command = request
                        self.storage.save_request(counter, request_id, command, response, now)
            except Exception:
                log.exception(
                    "storing %s failed; nothing applied", [c.kind for c in outcome.changes]
                )
                raise PanggilError("internal-error") from None
            self.hall = outcome.hall
            self._publish(outcome.changes, payloads, seqs)
            return response

    def _replay(self, counter: int, request_id: str, command: str) -> dict | None:
        found = self.storage.find_request(counter, request_id)
        if found is None:
            return None
        stored_command, response = found
        if stored_command != command:
            raise PanggilError("request-id-reused")
        log.info("counter %s request %s replayed", counter, request_id)
        return {**response, "replayed": True}

    def _roll_day(
        self, now: datetime, day: str | None = None, also: Callable[[Storage], None] | None = None
    ) -> None:
        """Close the hall's day when the clock passes the boundary (or when `day` is given).

        `also` writes more in the same transaction (the admin's audit row).
        """
        if day is None:
            day = engine.service_day(now, self.day_starts_at)
            # Only forwards: a clock set back (NTP, a wrong RTC on boot) must not reopen a past day.
            if day <= self.hall.day:
                return
        elif day == self.hall.day and day != self._closing:
            return
        old = self.hall.day
        outcome = engine.close_day(self.hall, day, now)
        payloads = [self._payload(c, outcome.hall) for c in outcome.changes]
        closed = {"day": old, "new_day": day, "expired": len(outcome.changes)}
        with self.storage.transaction():
            seqs = self.storage.save_changes(outcome.changes, payloads)
            self.storage.close_day(old, now)
            if day != old:
                self.storage.open_day(day, now)
            seqs.append(self.storage.add_event("day_closed", now, old, closed))
            if also is not None:
                also(self.storage)
        self.hall = outcome.hall
        self.recent.clear()
        log.info(
            "day %s closed (%d open tickets expired); day %s open", old, len(outcome.changes), day
        )
        self._publish(outcome.changes, payloads, seqs[:-1])
        self._send(protocol.DAY_CLOSED, seqs[-1], now, closed)

    def tick(self) -> None:
        """Called every few seconds by a background task: closes the day at its boundary."""
        with self.lock:
            self._roll_day(self.now())

    def close_day(self, also: Callable[[Storage], None] | None = None) -> dict:
        """The admin ends the day's service now: open tickets expire, history is kept.

        Numbering goes on if tickets are still taken on the same date; it restarts at the boundary.
        `also` writes more in the same transaction (the admin's audit row).
        """
        with self.lock:
            self._closing = self.hall.day
            try:
                self._roll_day(self.now(), self.hall.day, also)
            finally:
                self._closing = None
            return {"day": self.hall.day}

    def announcement_ready(self, ready: Mapping) -> None:
        """A pending call's audio is ready: later snapshots carry its URL too."""
        with self.lock:
            for call in self.recent:
                if call["call_id"] == ready.get("call_id"):
                    call["announcement"] = {**call.get("announcement", {}), "audio_url": ready.get("audio_url"),
                                            "status": "ready" if ready.get("audio_url") else "none"}  # fmt: skip

    # --- admin changes ----------------------------------------------------------------------------

    def change_hall(
        self, what: str, write: Callable[[Storage], None], detail: Mapping | None = None
    ) -> int:
        """Apply an admin change (settings or catalogue) in one transaction, then broadcast it."""
        with self.lock:
            now = self.now()
            data = {"what": what, **(detail or {})}
            with self.storage.transaction():
                write(self.storage)
                seq = self.storage.add_event("hall_changed", now, self.hall.day, data)
            agencies, services, counters = self.storage.load_catalogue()
            self.hall = engine.with_catalogue(self.hall, agencies, services, counters)
            voice_before = self.settings.get("voice")
            self.settings = self.storage.load_settings()
            self.tokens = self.storage.counter_tokens()
            if self.settings.get("voice") != voice_before and hasattr(self.announcer, "update_settings"):
                self.announcer.update_settings(self.settings.get("voice") or {})
            self._send(protocol.HALL_CHANGED, seq, now, data)
            return seq

    def write(self, work: Callable[[Storage], object]) -> object:
        """Run a non-queue write (users, audit, displays) in one transaction under the lock."""
        with self.lock, self.storage.transaction():
            return work(self.storage)

    def read(self, work: Callable[[Storage], object]) -> object:
        """Run a read on the shared connection under the lock."""
        with self.lock:
            return work(self.storage)

    # --- reads -----------------------------------------------------------------------------------

    def check_token(self, counter: object, token: object) -> int:
        """The counter number if the token is right; raises otherwise (same answer for both)."""
        if (
            isinstance(counter, bool)
            or not isinstance(counter, (int, str))
            or not isinstance(token, str)
        ):
            raise PanggilError("invalid-token")
        try:
            number = int(counter)
        except ValueError:
            raise PanggilError("unknown-counter") from None
        expected = self.tokens.get(number)
        if expected is None:
            raise PanggilError("unknown-counter")
        if not hmac.compare_digest(expected.encode(), token.encode()):
            raise PanggilError("invalid-token")
        if not self.hall.counters[number].active:
            raise PanggilError("unknown-counter")
        return number

    def counter_with_token(self, token: object) -> int:
        """The counter whose token this is (compared in constant time); raises otherwise."""
        if isinstance(token, str) and token:
            for number, expected in self.tokens.items():
                if hmac.compare_digest(expected.encode(), token.encode()):
                    return number
        raise PanggilError("invalid-token")

    def snapshot(self, counter: int | None = None) -> dict:
        with self.lock:
            hall = self.hall
            snap = {
                "seq": self.seq,
                "day": hall.day,
                "now": self.now().isoformat(timespec="seconds"),
                "hall": self.hall_info(),
                "agencies": [{"code": a.code, "name": a.name} for a in hall.agencies.values()],
                "services": [self._service_info(s) for s in hall.services.values()],
                "counters": [self.counter_info(n) for n in hall.counters],
                "recent_calls": list(reversed(self.recent)),
            }
            if counter is not None:
                snap["me"] = self.counter_info(counter)
                served = hall.counters[counter].services
                snap["skipped"] = [
                    ticket_dict(t)
                    for t in sorted(hall.tickets.values(), key=lambda t: t.order)
                    if t.status == "skipped" and t.service in served
                ]
            return snap

    def display_settings(self, name: str) -> dict:
        """What the admin set for a named display: the counters and services it shows (None: all)."""
        with self.lock:
            found = self.storage.find_display(name)
        if found is None:
            return {"name": name, "counters": None, "services": None}
        return {"name": name, "counters": found["counters"], "services": found["services"]}

    def hall_info(self) -> dict:
        return {
            "name": self.settings.get("hall.name", "Mal Pelayanan Publik"),
            "timezone": str(self.tz),
            "running_text": self.settings.get("hall.running_text", ""),
            "logo_url": self.settings.get("hall.logo_url"),
        }

    def _service_info(self, service: engine.Service) -> dict:
        waiting = [
            t
            for t in self.hall.tickets.values()
            if t.status == "waiting" and t.service == service.code
        ]
        return {
            "code": service.code,
            "name": service.name,
            "agency": service.agency,
            "prefix": service.prefix,
            "active": service.active,
            "waiting": len(waiting),
            "priority_waiting": sum(1 for t in waiting if t.priority),
        }

    def services_detail(self) -> list[dict]:
        with self.lock:
            now = self.now()
            out = []
            for s in self.hall.services.values():
                info = self._service_info(s)
                info.update(
                    daily_quota=s.daily_quota,
                    issued_today=self.hall.issued.get(s.code, 0),
                    hours=None if s.hours is None else {
                        d: engine.format_hours(w) for d, w in zip(engine.WEEKDAYS, s.hours)
                    },
                    open_now=s.active and (not self.hall.enforce_hours or s.open_at(now)),
                    priority_allowed=s.priority_allowed,
                )  # fmt: skip
                out.append(info)
            return out

    def counter_info(self, number: int) -> dict:
        return _counter_after(self.hall, number)

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
                "ticket": ticket_dict(ticket),
                "ahead": ahead,
                "call": self.storage.last_call(tid),
            }

    # --- building payloads ------------------------------------------------------------------------

    def _call(self, change: Change, hall: Hall) -> dict:
        t = change.ticket
        service = hall.services[t.service]
        counter = hall.counters[change.counter]
        return {
            "call_id": f"{t.id}#{t.calls}",
            "kind": "recall" if change.kind == "recalled" else "call",
            "at": change.at.isoformat(timespec="seconds"),
            "ticket": {
                "id": t.id,
                "number": t.number,
                "prefix": t.prefix,
                "seq": t.seq,
                "priority": t.priority,
            },
            "service": {"code": service.code, "name": service.name, "agency": service.agency},
            "counter": {
                "number": counter.number,
                "name": counter.name,
                "spoken_name": counter.spoken_name,
            },
        }

    def _payload(self, change: Change, hall: Hall) -> dict:
        """What the event row stores and (with seq and event) what clients receive."""
        t = change.ticket
        services = {t.service}
        if "from_service" in change.data:
            services.add(change.data["from_service"])
        payload: dict = {
            "ticket": ticket_dict(t),
            "waiting": {
                code: hall.waiting_count(code) for code in sorted(services) if code in hall.services
            },
        }
        if change.counter is not None and change.counter in hall.counters:
            payload["counter"] = _counter_after(hall, change.counter)
        if change.kind in ("called", "recalled"):
            payload["call"] = self._call(change, hall)
        elif change.kind == "issued":
            payload["ahead"] = hall.ahead_of(t)
        elif change.kind == "transferred":
            payload.update(
                from_service=change.data["from_service"], to_service=change.data["to_service"]
            )
        return payload

    def _response(self, outcome: Outcome, payloads: list[dict], seq: int) -> dict:
        last = outcome.last
        result: dict = {"ticket": payloads[-1]["ticket"]}
        if last.kind in ("called", "recalled"):
            result["call"] = payloads[-1]["call"]
        if last.kind == "called":
            finished = [
                p["ticket"] for c, p in zip(outcome.changes, payloads) if c.kind == "finished"
            ]
            result["finished"] = finished[0] if finished else None
        if last.kind == "issued":
            result["ahead"] = payloads[-1]["ahead"]
        return {"ok": True, "result": result, "seq": seq}

    def _publish(
        self, changes: tuple[Change, ...] | list[Change], payloads: list[dict], seqs: list[int]
    ) -> None:
        for change, payload, seq in zip(changes, payloads, seqs):
            if "call" in payload:
                call = payload["call"]
                try:
                    call["announcement"] = self.announcer.announce(dict(call))
                except Exception:  # the voice must never stop a call from going out
                    log.exception("announcement failed for %s", call["call_id"])
                    call["announcement"] = {"text": "", "audio_url": None, "status": "none"}
                self.recent.append(call)
            self._send(EVENT_NAMES[change.kind], seq, change.at, payload)

    def _send(self, name: str, seq: int, at: datetime, payload: Mapping) -> None:
        self.seq = seq
        message = {"event": name, "seq": seq, "at": at.isoformat(timespec="seconds"), **payload}
        try:
            self.broadcast(name, message)
        except Exception:  # a broken client connection must not undo a committed change
            log.exception("broadcast of %s (seq %d) failed", name, seq)


def _counter_after(hall: Hall, number: int) -> dict:
    """The protocol's counter object, as the given state has it."""
    counter = hall.counters[number]
    current = hall.current(number)
    return {
        "number": counter.number,
        "name": counter.name,
        "spoken_name": counter.spoken_name,
        "services": list(counter.services),
        "active": counter.active,
        "current": ticket_dict(current) if current else None,
        "served_today": hall.served.get(number, 0),
    }


def _text_arg(args: Mapping, key: str, limit: int) -> str:
    value = args.get(key) if isinstance(args, Mapping) else None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise PanggilError(
            "bad-request", f"Kolom '{key}' wajib diisi (teks, paling banyak {limit} karakter)."
        )
    return value.strip()
