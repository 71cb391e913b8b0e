"""SQLite storage through sqlite-utils: schema, migrations, loading a day, saving changes.

sqlite-utils 3.x write helpers (`table.insert`, `upsert`, ...) wrap themselves in `with conn:`,
which would commit our transaction half-way. So every write inside `transaction()` is plain SQL
through `db.execute`, and the helpers are used for reads and for opening the database only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import sqlite_utils

from server import bookings, engine, reports, schedule

log = logging.getLogger(__name__)

# Each migration runs once, in order, inside one transaction; PRAGMA user_version counts them.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE agencies (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        position INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE services (
        code TEXT PRIMARY KEY,
        agency TEXT NOT NULL REFERENCES agencies(code),
        name TEXT NOT NULL,
        prefix TEXT NOT NULL UNIQUE,
        daily_quota INTEGER,
        hours TEXT,               -- JSON: list of 7 weekday window lists, or null (always open)
        priority_allowed INTEGER NOT NULL DEFAULT 1,
        active INTEGER NOT NULL DEFAULT 1,
        position INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE counters (
        number INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        spoken_name TEXT NOT NULL,
        token TEXT NOT NULL UNIQUE,
        active INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE counter_services (
        counter INTEGER NOT NULL REFERENCES counters(number) ON DELETE CASCADE,
        service TEXT NOT NULL REFERENCES services(code),
        position INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (counter, service)
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL       -- JSON
    );
    CREATE TABLE days (
        day TEXT PRIMARY KEY,
        opened_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        day TEXT NOT NULL REFERENCES days(day),
        number TEXT NOT NULL,
        prefix TEXT NOT NULL,
        seq INTEGER NOT NULL,
        service TEXT NOT NULL REFERENCES services(code),
        origin_service TEXT NOT NULL REFERENCES services(code),
        priority TEXT,
        status TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        ord INTEGER NOT NULL,
        called_at TEXT,
        finished_at TEXT,
        counter INTEGER,
        calls INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, prefix, seq)
    );
    CREATE INDEX tickets_day_status ON tickets(day, status);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        ticket TEXT REFERENCES tickets(id),
        counter INTEGER,
        service TEXT,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_day_kind ON events(day, kind);
    CREATE INDEX events_ticket ON events(ticket);
    CREATE TABLE requests (
        counter INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        command TEXT NOT NULL,
        response TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (counter, request_id)
    );
    """,
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        full_name TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'officer')),
        counter INTEGER REFERENCES counters(number) ON DELETE SET NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user TEXT,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE displays (
        name TEXT PRIMARY KEY,
        counters TEXT,            -- JSON list of counter numbers it shows, or null for all
        services TEXT,            -- JSON list of service codes, or null for all
        last_seen TEXT,
        address TEXT
    );
    """,
    """
    ALTER TABLE counters ADD COLUMN state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'break'));
    ALTER TABLE counters ADD COLUMN break_reason TEXT;
    ALTER TABLE counters ADD COLUMN break_until TEXT;
    ALTER TABLE counters ADD COLUMN break_since TEXT;
    """,
    """
    ALTER TABLE services ADD COLUMN target_wait INTEGER;  -- minutes, or null: no target
    """,
    # The hall's schedule: its weekly hours and breaks are settings (hall.hours, hall.breaks);
    # agencies.weekdays is a JSON list of weekdays (0 = Monday), null for every day.
    """
    CREATE TABLE calendar (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        first TEXT NOT NULL,      -- ISO date
        last TEXT NOT NULL,       -- ISO date, >= first
        label TEXT NOT NULL,
        hours TEXT,               -- JSON window list for special hours, or null: closed
        CHECK (last >= first)
    );
    ALTER TABLE agencies ADD COLUMN weekdays TEXT;
    ALTER TABLE services ADD COLUMN cutoff INTEGER NOT NULL DEFAULT 0;
    """,
    # Officers: who is signed in at each counter, who called and finished each ticket, who made
    # each event (per-officer reports), and the keypad PIN of a user (an Argon2 hash, like passwords).
    """
    ALTER TABLE users ADD COLUMN pin_hash TEXT;
    ALTER TABLE counters ADD COLUMN officer INTEGER REFERENCES users(id);
    ALTER TABLE tickets ADD COLUMN called_by INTEGER REFERENCES users(id);
    ALTER TABLE tickets ADD COLUMN finished_by INTEGER REFERENCES users(id);
    ALTER TABLE events ADD COLUMN officer INTEGER REFERENCES users(id);
    CREATE INDEX events_day_officer ON events(day, officer);
    """,
    # The satisfaction survey (server/skm.py): one answer per ticket (UNIQUE), the nine answers
    # 1-4, the optional respondent profile and comment, and the ticket's service, agency, counter
    # and officer copied in for the reports. Nothing else about the respondent is kept.
    """
    CREATE TABLE survey_answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket TEXT NOT NULL UNIQUE REFERENCES tickets(id),
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        agency TEXT,
        counter INTEGER,
        officer INTEGER REFERENCES users(id),
        channel TEXT NOT NULL CHECK (channel IN ('tablet', 'phone')),
        u1 INTEGER NOT NULL CHECK (u1 BETWEEN 1 AND 4),
        u2 INTEGER NOT NULL CHECK (u2 BETWEEN 1 AND 4),
        u3 INTEGER NOT NULL CHECK (u3 BETWEEN 1 AND 4),
        u4 INTEGER NOT NULL CHECK (u4 BETWEEN 1 AND 4),
        u5 INTEGER NOT NULL CHECK (u5 BETWEEN 1 AND 4),
        u6 INTEGER NOT NULL CHECK (u6 BETWEEN 1 AND 4),
        u7 INTEGER NOT NULL CHECK (u7 BETWEEN 1 AND 4),
        u8 INTEGER NOT NULL CHECK (u8 BETWEEN 1 AND 4),
        u9 INTEGER NOT NULL CHECK (u9 BETWEEN 1 AND 4),
        age TEXT,
        sex TEXT,
        education TEXT,
        occupation TEXT,
        comment TEXT CHECK (comment IS NULL OR length(comment) <= 500),
        answered_at TEXT NOT NULL
    );
    CREATE INDEX survey_answers_day ON survey_answers(day);
    """,
    # Period reports: read-only tokens for the report API (their SHA-256 only; the token is shown
    # once when made), and an index that holds every column a report reads, in the order it reads
    # them, so that a month is read without touching the event payloads or sorting.
    """
    CREATE TABLE report_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        created_by TEXT,
        last_used TEXT
    );
    CREATE INDEX events_report ON events(day, ticket, seq, kind, at, counter, service, officer);
    """,
    # Webhooks (server/webhooks.py): the hall's other systems hear of events, signed with a secret
    # that is shown once and kept to sign with. Each hook reads the events table after its
    # `cursor` (the last seq it delivered or gave up on): no outbox to write inside a command.
    """
    CREATE TABLE webhooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        created_by TEXT,
        cursor INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT,
        last_error TEXT
    );
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        event TEXT NOT NULL,
        at TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status INTEGER,
        ok INTEGER NOT NULL,
        error TEXT,
        ms INTEGER
    );
    CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(webhook, id);
    """,
    # "Almost your turn": the visitor's phone alerts when this many people or fewer are ahead.
    """
    ALTER TABLE services ADD COLUMN alert_ahead INTEGER NOT NULL DEFAULT 3;
    """,
    # Numbers taken on a phone from the entrance QR: the phone (a hash of its device cookie).
    """
    ALTER TABLE tickets ADD COLUMN holder TEXT;
    """,
    # Device versions (admin's displays and counters pages): what a display or a counter client
    # reported when it last connected, so the admin sees the Pis still on an older release.
    """
    ALTER TABLE displays ADD COLUMN version TEXT;
    CREATE TABLE counter_devices (
        counter INTEGER PRIMARY KEY,
        version TEXT,
        last_seen TEXT NOT NULL,
        address TEXT
    );
    """,
    # Pairing codes (server/pairing.py): a device trades a short code from the admin's page for
    # its settings. Only the code's keyed hash is kept; a code is used once and expires.
    """
    CREATE TABLE pairing_codes (
        code_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        created_by TEXT,
        used_at TEXT,
        used_by TEXT
    );
    """,
    # Bookings (reservasi, server/bookings.py): times in UTC ISO so that they compare as text;
    # of an ID number only its last four digits, never the whole NIK.
    """
    CREATE TABLE bookings (
        code TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        session TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'booked',
        name TEXT NOT NULL DEFAULT '',
        phone TEXT,
        id_last4 TEXT,
        source TEXT NOT NULL,
        external_id TEXT UNIQUE,
        created_at TEXT NOT NULL,
        checked_in_at TEXT,
        ticket TEXT
    );
    CREATE INDEX bookings_by_day ON bookings(day, service, session);
    CREATE INDEX bookings_open ON bookings(status, expires_at);
    """,
    # Sessions that can be ended: a login stores the user's session_version in its cookie, and a
    # logout, a new password or a deactivation bumps it, so every copy of the cookie stops working.
    """
    ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
    """,
    # Cancelled bookings (server/bookings.py cancel): when, by whom (visitor, api, an admin's user
    # name) and the admin's reason.
    """
    ALTER TABLE bookings ADD COLUMN cancelled_at TEXT;
    ALTER TABLE bookings ADD COLUMN cancelled_by TEXT;
    ALTER TABLE bookings ADD COLUMN cancel_reason TEXT;
    """,
    # Booking plans edited in the admin (seeded once from config.yaml's services[].bookings):
    # sessions as a JSON list of "HH:MM-HH:MM"; a plan switched off keeps its row and values.
    """
    CREATE TABLE booking_plans (
        service TEXT PRIMARY KEY,
        active INTEGER NOT NULL DEFAULT 1,
        sessions TEXT NOT NULL,
        quota INTEGER NOT NULL,
        grace_minutes INTEGER NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0
    );
    """,
    # Outbound notices (server/notices.py): a visitor's phone number for one open ticket only,
    # erased when the ticket ends and at the day roll; the outbox holds no number (the sender
    # reads it from ticket_contacts, so an erased number is never sent to); the log keeps only a
    # masked number. A booking's phone becomes a contact only with the booking form's consent.
    """
    ALTER TABLE bookings ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE ticket_contacts (
        ticket TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        added_at TEXT NOT NULL,
        almost_at TEXT
    );
    CREATE TABLE notice_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket TEXT NOT NULL,
        kind TEXT NOT NULL,
        service TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT
    );
    CREATE TABLE notice_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket TEXT,
        kind TEXT NOT NULL,
        masked TEXT NOT NULL,
        at TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status INTEGER,
        ok INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT,
        ms INTEGER
    );
    """,
]

TICKET_COLUMNS = (
    "id", "day", "number", "prefix", "seq", "service", "origin_service", "priority", "status",
    "issued_at", "ord", "called_at", "finished_at", "counter", "calls", "called_by", "finished_by",
    "holder",
)  # fmt: skip


class SurveyAlreadyAnswered(Exception):
    """The ticket has a survey answer already (the UNIQUE constraint said so)."""


SURVEY_COLUMNS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")


class StorageError(Exception):
    """The database file cannot be opened or has a newer schema than this program."""


class _ProbeDone(Exception):
    """Rolls back the write of Storage.probe_write."""


def is_full(exc: BaseException) -> bool:
    """True if a write failed because the disk (or SQLite's max_page_count) is full."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_FULL,
    )


def _is_read_only(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


class Storage:
    """One SQLite file. Callers serialise access (the service layer holds one lock)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing commits behind us.
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            # FULL: an acknowledged ticket survives a power cut, not only a crash of the process.
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.execute("PRAGMA busy_timeout = 5000")
            # Deleted rows are overwritten with zeros: an erased phone number (notices) is gone
            # from the file, not only unlinked.
            self.db.execute("PRAGMA secure_delete = ON")
            self._migrate()
            self.probe_write()  # a read-only file stops the start here, not at the first ticket
        except sqlite3.DatabaseError as exc:
            if _is_read_only(exc):
                raise StorageError(
                    f"the database {path} is read-only ({exc}): the server must be able to write "
                    "the file and its folder (for the -wal and -shm files beside it)"
                ) from None
            raise StorageError(f"cannot open database {path}: {exc}") from None
        self.path = path

    def close(self) -> None:
        self.db.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: BEGIN IMMEDIATE takes the write lock up front; any error rolls back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            # SQLite has rolled back already after some errors (a full disk): a second ROLLBACK
            # would raise and hide the error that matters.
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def probe_write(self) -> None:
        """Write a 64 KiB row and roll it back: raises as a real write would (full, read-only).

        /api/health asks this: a flag set by the last failed write would say "full" while the
        disk has room again, and "fine" after a small write fit into a page that had room.
        """
        with contextlib.suppress(_ProbeDone), self.transaction():
            self.db.execute(
                "INSERT INTO audit_log (at, action, detail) VALUES ('', 'probe', zeroblob(65536))"
            )
            raise _ProbeDone

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StorageError(
                f"the database has schema {version}, newer than this program ({len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
            log.info("database migrated to schema %d", number)

    # --- catalogue ---------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self.db["services"].count == 0 and self.db["counters"].count == 0

    def load_catalogue(self) -> tuple[dict, dict, dict]:
        agencies = {
            r["code"]: engine.Agency(
                r["code"],
                r["name"],
                None if r["weekdays"] is None else frozenset(json.loads(r["weekdays"])),
            )
            for r in self.db.query("SELECT * FROM agencies ORDER BY position, code")
        }
        services = {}
        for r in self.db.query("SELECT * FROM services ORDER BY position, code"):
            hours = json.loads(r["hours"]) if r["hours"] else None
            services[r["code"]] = engine.Service(
                code=r["code"],
                name=r["name"],
                agency=r["agency"],
                prefix=r["prefix"],
                daily_quota=r["daily_quota"],
                hours=None
                if hours is None
                else tuple(tuple(tuple(w) for w in day) for day in hours),
                priority_allowed=bool(r["priority_allowed"]),
                active=bool(r["active"]),
                target_wait=r["target_wait"],
                cutoff=r["cutoff"],
                alert_ahead=r["alert_ahead"],
            )
        links: dict[int, list[str]] = {}
        for r in self.db.query("SELECT * FROM counter_services ORDER BY counter, position"):
            links.setdefault(r["counter"], []).append(r["service"])
        officers = self.officers()
        counters = {
            r["number"]: engine.Counter(
                number=r["number"],
                name=r["name"],
                spoken_name=r["spoken_name"],
                services=tuple(links.get(r["number"], ())),
                active=bool(r["active"]),
                state=r["state"],
                break_reason=r["break_reason"],
                break_until=r["break_until"],
                break_since=datetime.fromisoformat(r["break_since"]) if r["break_since"] else None,
                officer=officers.get(r["officer"]),
            )
            for r in self.db.query("SELECT * FROM counters ORDER BY number")
        }
        return agencies, services, counters

    def save_agency(self, agency: engine.Agency, position: int = 0) -> None:
        weekdays = None if agency.weekdays is None else json.dumps(sorted(agency.weekdays))
        self.db.execute(
            "INSERT INTO agencies (code, name, position, weekdays) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET name = excluded.name, weekdays = excluded.weekdays",
            [agency.code, agency.name, position, weekdays],
        )

    def save_service(self, service: engine.Service, position: int = 0) -> None:
        hours = None if service.hours is None else json.dumps(service.hours)
        self.db.execute(
            "INSERT INTO services (code, agency, name, prefix, daily_quota, hours, priority_allowed,"
            " active, position, cutoff, target_wait, alert_ahead)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(code) DO UPDATE SET agency = excluded.agency, name = excluded.name,"
            " prefix = excluded.prefix, daily_quota = excluded.daily_quota, hours = excluded.hours,"
            " priority_allowed = excluded.priority_allowed, active = excluded.active,"
            " cutoff = excluded.cutoff, target_wait = excluded.target_wait,"
            " alert_ahead = excluded.alert_ahead",
            [service.code, service.agency, service.name, service.prefix, service.daily_quota, hours,
             int(service.priority_allowed), int(service.active), position, service.cutoff,
             service.target_wait, service.alert_ahead],
        )  # fmt: skip

    def save_counter(self, counter: engine.Counter, token: str | None = None) -> None:
        if token is None:
            self.db.execute(
                "UPDATE counters SET name = ?, spoken_name = ?, active = ? WHERE number = ?",
                [counter.name, counter.spoken_name, int(counter.active), counter.number],
            )
        else:
            self.db.execute(
                "INSERT INTO counters (number, name, spoken_name, token, active) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(number) DO UPDATE SET name = excluded.name,"
                " spoken_name = excluded.spoken_name, token = excluded.token, active = excluded.active",
                [counter.number, counter.name, counter.spoken_name, token, int(counter.active)],
            )
        self.db.execute("DELETE FROM counter_services WHERE counter = ?", [counter.number])
        for position, code in enumerate(counter.services):
            self.db.execute(
                "INSERT INTO counter_services (counter, service, position) VALUES (?, ?, ?)",
                [counter.number, code, position],
            )

    def save_counter_state(self, counter: engine.Counter) -> None:
        """Store whether a counter is open or on a break (the admin's edits never touch it)."""
        self.db.execute(
            "UPDATE counters SET state = ?, break_reason = ?, break_until = ?, break_since = ?"
            " WHERE number = ?",
            [counter.state, counter.break_reason, counter.break_until,
             _iso(counter.break_since), counter.number],
        )  # fmt: skip

    def save_counter_officer(self, counter: engine.Counter) -> None:
        """Store who is signed in at a counter (it survives a restart; the admin's edits keep it)."""
        officer = counter.officer.id if counter.officer else None
        self.db.execute(
            "UPDATE counters SET officer = ? WHERE number = ?", [officer, counter.number]
        )

    def officers(self) -> dict[int, engine.Officer]:
        """Every user as the rules record them (a few dozen rows: read whole)."""
        return {
            r["id"]: engine.Officer(r["id"], r["username"], r["full_name"])
            for r in self.db.query("SELECT id, username, full_name FROM users")
        }

    def agency_exists(self, code: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM agencies WHERE code = ?", [code]).fetchone() is not None
        )

    def delete_agency(self, code: str) -> None:
        self.db.execute("DELETE FROM agencies WHERE code = ?", [code])

    def service_exists(self, code: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM services WHERE code = ?", [code]).fetchone() is not None
        )

    def service_using_prefix(self, prefix: str, *, other_than: str) -> str | None:
        """The name of another service that numbers its tickets with this prefix, if any."""
        row = self.db.execute(
            "SELECT name FROM services WHERE prefix = ? AND code != ?", [prefix, other_than]
        ).fetchone()
        return row[0] if row else None

    def counter_exists(self, number: int) -> bool:
        return (
            self.db.execute("SELECT 1 FROM counters WHERE number = ?", [number]).fetchone()
            is not None
        )

    def counter_tokens(self) -> dict[int, str]:
        return {
            r["number"]: r["token"] for r in self.db.query("SELECT number, token FROM counters")
        }

    def load_settings(self) -> dict:
        return {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT * FROM settings")}

    def save_setting(self, key: str, value: object) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )

    def delete_settings(self, *keys: str) -> None:
        self.db.execute(
            f"DELETE FROM settings WHERE key IN ({', '.join('?' * len(keys))})", list(keys)
        )

    # --- the hall's schedule -----------------------------------------------------------------

    def has_schedule(self) -> bool:
        """Whether the hall's schedule was ever stored (seeded or edited): then the DB rules."""
        return (
            self.db.execute("SELECT 1 FROM settings WHERE key = 'hall.hours'").fetchone()
            is not None
        )

    def load_schedule(self) -> schedule.HallSchedule:
        """The hall's weekly hours, breaks and calendar (oldest entry first)."""
        settings = {
            r["key"]: json.loads(r["value"])
            for r in self.db.query(
                "SELECT * FROM settings WHERE key IN ('hall.hours', 'hall.breaks')"
            )
        }
        week = settings.get("hall.hours")
        breaks = tuple(
            schedule.HallBreak(frozenset(b["days"]), b["start"], b["end"], b["label"])
            for b in settings.get("hall.breaks") or ()
        )
        return schedule.HallSchedule(
            hours=None if week is None else _week(week),
            breaks=breaks,
            calendar=tuple(entry for _id, entry in self.list_calendar()),
        )

    def save_hall_hours(self, week: schedule.Week | None) -> None:
        self.save_setting("hall.hours", None if week is None else [list(d) for d in week])

    def save_hall_breaks(self, breaks: Iterable[schedule.HallBreak]) -> None:
        self.save_setting("hall.breaks", [
            {"days": sorted(b.days), "start": b.start, "end": b.end, "label": b.label}
            for b in breaks
        ])  # fmt: skip

    def list_calendar(self) -> list[tuple[int, schedule.CalendarEntry]]:
        """Every calendar entry with its id, by first day."""
        return [
            (r["id"], schedule.CalendarEntry(
                date.fromisoformat(r["first"]), date.fromisoformat(r["last"]), r["label"],
                None if r["hours"] is None else tuple(tuple(w) for w in json.loads(r["hours"]))))
            for r in self.db.query("SELECT * FROM calendar ORDER BY first, id")
        ]  # fmt: skip

    def add_calendar_entry(self, entry: schedule.CalendarEntry) -> int:
        hours = None if entry.hours is None else json.dumps(entry.hours)
        cursor = self.db.execute(
            "INSERT INTO calendar (first, last, label, hours) VALUES (?, ?, ?, ?)",
            [entry.first.isoformat(), entry.last.isoformat(), entry.label, hours],
        )
        return cursor.lastrowid

    def delete_calendar_entry(self, entry_id: int) -> bool:
        cursor = self.db.execute("DELETE FROM calendar WHERE id = ?", [entry_id])
        return cursor.rowcount > 0

    # --- displays ------------------------------------------------------------------------------

    def list_displays(self) -> list[dict]:
        """Every display the admin set up, by name; counters and services are lists or None (all)."""
        return [_display(r) for r in self.db.query("SELECT * FROM displays ORDER BY name")]

    def find_display(self, name: str) -> dict | None:
        row = next(self.db.query("SELECT * FROM displays WHERE name = ?", [name]), None)
        return _display(row) if row else None

    def display_exists(self, name: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM displays WHERE name = ?", [name]).fetchone() is not None
        )

    def add_display(
        self, name: str, counters: list[int] | None, services: list[str] | None
    ) -> None:
        self.db.execute(
            "INSERT INTO displays (name, counters, services) VALUES (?, ?, ?)",
            [name, _json_or_null(counters), _json_or_null(services)],
        )

    def update_display(
        self, name: str, counters: list[int] | None, services: list[str] | None
    ) -> None:
        self.db.execute(
            "UPDATE displays SET counters = ?, services = ? WHERE name = ?",
            [_json_or_null(counters), _json_or_null(services), name],
        )

    def delete_display(self, name: str) -> None:
        self.db.execute("DELETE FROM displays WHERE name = ?", [name])

    def mark_display_seen(
        self, name: str, at: str, address: str | None, version: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE displays SET last_seen = ?, address = ?, version = ? WHERE name = ?",
            [at, address, version, name],
        )

    # --- counter devices (the keypad clients' versions) ---------------------------------------

    def mark_counter_device_seen(
        self, counter: int, at: str, address: str | None, version: str | None
    ) -> None:
        """Remember the counter client that connected last: its version, time and address."""
        self.db.execute(
            "INSERT INTO counter_devices (counter, version, last_seen, address) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (counter) DO UPDATE SET version = excluded.version,"
            " last_seen = excluded.last_seen, address = excluded.address",
            [counter, version, at, address],
        )

    def list_counter_devices(self) -> dict[int, dict]:
        """The last counter client seen at each counter, by counter number."""
        return {r["counter"]: dict(r) for r in self.db.query("SELECT * FROM counter_devices")}

    # --- days and tickets ----------------------------------------------------------------------

    def current_day(self) -> str | None:
        row = self.db.execute(
            "SELECT day FROM days WHERE closed_at IS NULL ORDER BY day DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def open_day(self, day: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO days (day, opened_at) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET closed_at = NULL",
            [day, now.isoformat()],
        )

    def close_day(self, day: str, now: datetime) -> None:
        self.db.execute("UPDATE days SET closed_at = ? WHERE day = ?", [now.isoformat(), day])

    def load_day(self, day: str, tz) -> dict:
        """Today's open tickets, the numbers of its ended ones and its counts, to rebuild a Hall."""
        officers = self.officers()
        tickets = {
            r["id"]: _ticket(r, tz, officers)
            for r in self.db.query(
                "SELECT * FROM tickets WHERE day = ? AND status IN ('waiting', 'called', 'skipped')",
                [day],
            )
        }
        ended = {
            r["number"]
            for r in self.db.query(
                "SELECT number FROM tickets WHERE day = ? AND status IN ('done', 'cancelled', 'expired')",
                [day],
            )
        }
        last_seq = {
            r["prefix"]: r["n"]
            for r in self.db.query(
                "SELECT prefix, MAX(seq) AS n FROM tickets WHERE day = ? GROUP BY prefix", [day]
            )
        }
        issued = {
            r["origin_service"]: r["n"]
            for r in self.db.query(
                "SELECT origin_service, COUNT(*) AS n FROM tickets WHERE day = ? AND status != 'cancelled'"
                " GROUP BY origin_service",
                [day],
            )
        }
        served = {
            r["counter"]: r["n"]
            for r in self.db.query(
                "SELECT counter, COUNT(*) AS n FROM events WHERE day = ? AND kind = 'finished' GROUP BY counter",
                [day],
            )
        }
        row = self.db.execute(
            "SELECT COALESCE(MAX(ord), 0) FROM tickets WHERE day = ?", [day]
        ).fetchone()
        return {"tickets": tickets, "ended": ended, "last_seq": last_seq, "issued": issued,
                "served": served, "next_order": row[0] + 1}  # fmt: skip

    def find_ticket(self, ticket_id: str, tz) -> engine.Ticket | None:
        row = next(self.db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]), None)
        return _ticket(row, tz, self.officers()) if row else None

    def save_changes(
        self, changes: Iterable[engine.Change], payloads: Iterable[Mapping], hall: engine.Hall
    ) -> list[int]:
        """Write each change's ticket (or counter) row and its event row; returns the seqs.

        `hall` is the state after the changes: a counter's change is stored as it has it.
        """
        seqs = []
        for change, payload in zip(changes, payloads):
            t = change.ticket
            if t is None:
                assert change.counter is not None
                self.save_counter_state(hall.counters[change.counter])
                self.save_counter_officer(hall.counters[change.counter])
                seqs.append(self.add_event(change.kind, change.at, hall.day, payload,
                                           counter=change.counter, officer=_id(change.officer)))  # fmt: skip
                continue
            values = [t.id, t.day, t.number, t.prefix, t.seq, t.service, t.origin_service, t.priority,
                      t.status, _iso(t.issued_at), t.order, _iso(t.called_at), _iso(t.finished_at),
                      t.counter, t.calls, _id(t.called_by), _id(t.finished_by), t.holder]  # fmt: skip
            placeholders = ", ".join("?" * len(TICKET_COLUMNS))
            updates = ", ".join(f"{c} = excluded.{c}" for c in TICKET_COLUMNS[1:])
            self.db.execute(
                f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({placeholders})"
                f" ON CONFLICT(id) DO UPDATE SET {updates}",
                values,
            )
            seqs.append(
                self.add_event(
                    change.kind,
                    change.at,
                    t.day,
                    payload,
                    t.id,
                    change.counter,
                    t.service,
                    officer=_id(change.officer),
                )
            )
        return seqs

    def add_event(
        self,
        kind: str,
        at: datetime,
        day: str,
        data: Mapping,
        ticket: str | None = None,
        counter: int | None = None,
        service: str | None = None,
        officer: int | None = None,
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO events (at, day, kind, ticket, counter, service, data, officer)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                at.isoformat(),
                day,
                kind,
                ticket,
                counter,
                service,
                json.dumps(data, separators=(",", ":")),
                officer,
            ],
        )
        return cursor.lastrowid

    def save_event_data(self, seq: int, data: Mapping) -> None:
        """Replace an event row's payload (a call with the announcement made after its commit)."""
        self.db.execute(
            "UPDATE events SET data = ? WHERE seq = ?",
            [json.dumps(data, separators=(",", ":")), seq],
        )

    def recent_days(self, limit: int = 60) -> list[str]:
        """The latest days the hall was open, newest first."""
        return [
            r["day"]
            for r in self.db.query("SELECT day FROM days ORDER BY day DESC LIMIT ?", [limit])
        ]

    def ticket_events(self, day: str) -> list[dict]:
        """The day's ticket events (seq, at, kind, ticket, service, officer), for the day report."""
        return list(
            self.db.query(
                "SELECT seq, at, kind, ticket, service, officer FROM events"
                " WHERE day = ? AND ticket IS NOT NULL",
                [day],
            )
        )

    def finished_event_data(self, service: str, since: str, limit: int) -> list[str]:
        """The stored payloads (JSON text) of the service's latest finished tickets since a day."""
        rows = self.db.execute(
            "SELECT data FROM events WHERE day >= ? AND kind = 'finished' AND service = ?"
            " ORDER BY seq DESC LIMIT ?",
            [since, service, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def last_seq(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return row[0] if row else 0

    def recent_calls(self, day: str, limit: int = 20) -> list[dict]:
        rows = self.db.query(
            "SELECT data FROM events WHERE day = ? AND kind IN ('called', 'recalled') ORDER BY seq DESC LIMIT ?",
            [day, limit],
        )
        return [json.loads(r["data"])["call"] for r in rows]

    def last_call(self, ticket_id: str) -> dict | None:
        row = self.db.execute(
            "SELECT data FROM events WHERE ticket = ? AND kind IN ('called', 'recalled') ORDER BY seq DESC LIMIT 1",
            [ticket_id],
        ).fetchone()
        return json.loads(row[0])["call"] if row else None

    # --- period reports ---------------------------------------------------------------------------

    def read_report(self, first: str, last: str) -> tuple[list[tuple], dict]:
        """The ticket events of the service days first..last (by seq) and the catalogue's names
        and targets, read in one read transaction.

        A file database is read on a connection of its own, so the caller needs no lock and the
        hub's writer is never held up by a report (WAL: readers never block the writer). An
        in-memory database has only this connection: the caller holds the hub's lock then.
        Event tuples: reports.EventRow (day, kind, milliseconds, hour, counter, service, officer).
        """
        if str(self.path) == ":memory:":
            return _read_report(self.db.conn, first, last)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            return _read_report(conn, first, last)
        finally:
            conn.close()

    @property
    def reads_apart(self) -> bool:
        """Whether read_report uses a connection of its own (no lock needed around it)."""
        return str(self.path) != ":memory:"

    def add_report_token(self, name: str, token_hash: str, now: datetime, user: str | None) -> int:
        cursor = self.db.execute(
            "INSERT INTO report_tokens (name, token_hash, created_at, created_by) VALUES (?, ?, ?, ?)",
            [name, token_hash, now.isoformat(), user],
        )
        return cursor.lastrowid

    def list_report_tokens(self) -> list[dict]:
        """Every report token (without its hash), newest first."""
        return list(
            self.db.query(
                "SELECT id, name, created_at, created_by, last_used FROM report_tokens"
                " ORDER BY id DESC"
            )
        )

    def delete_report_token(self, token_id: int) -> str | None:
        """Revoke a report token; its name, or None when there was none."""
        row = self.db.execute("SELECT name FROM report_tokens WHERE id = ?", [token_id]).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM report_tokens WHERE id = ?", [token_id])
        return row[0]

    def find_report_token(self, token_hash: str) -> int | None:
        """The id of the report token with this hash, if it exists."""
        row = self.db.execute(
            "SELECT id FROM report_tokens WHERE token_hash = ?", [token_hash]
        ).fetchone()
        return row[0] if row else None

    def mark_report_token_used(self, token_id: int, now: datetime) -> None:
        self.db.execute(
            "UPDATE report_tokens SET last_used = ? WHERE id = ?", [now.isoformat(), token_id]
        )

    # --- webhooks (server/webhooks.py) -----------------------------------------------------------

    def add_webhook(self, name: str, url: str, secret: str, events: list[str], now: datetime,
                    user: str | None) -> int:  # fmt: skip
        """A new hook starts after the latest event: it hears what happens from now on."""
        cursor = self.db.execute(
            "INSERT INTO webhooks (name, url, secret, events, created_at, created_by, cursor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, url, secret, json.dumps(events), now.isoformat(), user, self.last_seq()],
        )
        return cursor.lastrowid

    def list_webhooks(self, active_only: bool = False) -> list[dict]:
        """Every hook, oldest first, its events as a list (and its secret: callers keep it in)."""
        where = " WHERE active" if active_only else ""
        rows = list(self.db.query("SELECT * FROM webhooks" + where + " ORDER BY id"))
        for row in rows:
            row["events"] = json.loads(row["events"])
            row["active"] = bool(row["active"])
        return rows

    def set_webhook_active(self, hook: int, active: bool) -> str | None:
        """Pause or resume a hook; resumed, it starts after the latest event (no flood of old
        ones). Its name, or None when there is no such hook."""
        row = self.db.execute("SELECT name FROM webhooks WHERE id = ?", [hook]).fetchone()
        if row is None:
            return None
        if active:
            self.db.execute(
                "UPDATE webhooks SET active = 1, cursor = ?, attempts = 0, next_at = NULL,"
                " last_error = NULL WHERE id = ?",
                [self.last_seq(), hook],
            )
        else:
            self.db.execute("UPDATE webhooks SET active = 0 WHERE id = ?", [hook])
        return row[0]

    def delete_webhook(self, hook: int) -> str | None:
        row = self.db.execute("SELECT name FROM webhooks WHERE id = ?", [hook]).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM webhooks WHERE id = ?", [hook])
        return row[0]

    def next_webhook_event(
        self, after: int, kinds: list[str], booked_only: bool = False
    ) -> dict | None:
        """The first stored event after seq `after` of one of these kinds (seq, at, kind, data);
        `booked_only`: of the issued tickets only those of a checked-in booking."""
        if not kinds:
            return None
        marks = ", ".join("?" for _ in kinds)
        booked = " AND (kind != 'issued' OR json_extract(data, '$.booking') IS NOT NULL)"
        rows = list(
            self.db.query(
                "SELECT seq, at, kind, data FROM events WHERE seq > ? AND kind IN ("
                + marks
                + ")"
                + (booked if booked_only else "")
                + " ORDER BY seq LIMIT 1",
                [after, *kinds],
            )
        )
        return rows[0] if rows else None

    def record_webhook_attempt(self, hook: int, delivery: Mapping, cursor: int, attempts: int,
                               next_at: str | None, keep: int) -> None:  # fmt: skip
        """Log one attempt, move the hook on (or set its retry), keep only its last `keep` rows."""
        self.db.execute(
            "INSERT INTO webhook_deliveries (webhook, seq, event, at, attempt, status, ok, error, ms)"
            " VALUES (:webhook, :seq, :event, :at, :attempt, :status, :ok, :error, :ms)",
            {**delivery, "webhook": hook},
        )
        self.db.execute(
            "UPDATE webhooks SET cursor = ?, attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
            [cursor, attempts, next_at, None if delivery["ok"] else delivery["error"], hook],
        )
        self.db.execute(
            "DELETE FROM webhook_deliveries WHERE webhook = ? AND id <= ("
            " SELECT id FROM webhook_deliveries WHERE webhook = ? ORDER BY id DESC"
            " LIMIT 1 OFFSET ?)",
            [hook, hook, keep],
        )

    def webhook_deliveries(self, limit: int) -> list[dict]:
        """The latest delivery attempts of every hook, newest first, with the hook's name."""
        return list(
            self.db.query(
                "SELECT d.*, w.name AS hook_name FROM webhook_deliveries d"
                " JOIN webhooks w ON w.id = d.webhook ORDER BY d.id DESC LIMIT ?",
                [limit],
            )
        )

    # --- users and audit -------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, role: str, now: datetime,
                 counter: int | None = None, full_name: str = "") -> int:  # fmt: skip
        cursor = self.db.execute(
            "INSERT INTO users (username, full_name, password_hash, role, counter, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [username, full_name, password_hash, role, counter, now.isoformat()],
        )
        return cursor.lastrowid

    def find_user(self, *, user_id: int | None = None, username: str | None = None) -> dict | None:
        if user_id is not None:
            rows = self.db.query("SELECT * FROM users WHERE id = ?", [user_id])
        else:
            rows = self.db.query("SELECT * FROM users WHERE username = ?", [username])
        return next(rows, None)

    def set_user_password(
        self, user_id: int, password_hash: str, *, role: str | None = None
    ) -> None:
        """A new password (and, when given, role) for a user, who is made active again."""
        self.db.execute(
            "UPDATE users SET password_hash = ?, role = COALESCE(?, role), active = 1,"
            " session_version = session_version + 1 WHERE id = ?",
            [password_hash, role, user_id],
        )

    def update_user(self, user_id: int, *, full_name: str, role: str, counter: int | None,
                    active: bool) -> None:  # fmt: skip
        # Deactivating ends the user's sessions (a later reactivation does not revive them).
        self.db.execute(
            "UPDATE users SET full_name = ?, role = ?, counter = ?,"
            " session_version = session_version + (active = 1 AND ? = 0), active = ? WHERE id = ?",
            [full_name, role, counter, int(active), int(active), user_id],
        )

    def replace_password(self, user_id: int, password_hash: str) -> None:
        """A new password for a user; unlike set_user_password, role and active stay as they are.

        Every session of the user ends (see end_sessions)."""
        self.db.execute(
            "UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
            [password_hash, user_id],
        )

    def end_sessions(self, user_id: int) -> None:
        """Every session cookie of this user, and every copy of one, stops working (a logout)."""
        self.db.execute(
            "UPDATE users SET session_version = session_version + 1 WHERE id = ?", [user_id]
        )

    def set_user_pin(self, user_id: int, pin_hash: str | None) -> None:
        """A user's keypad PIN (its Argon2 hash), or None to clear it."""
        self.db.execute("UPDATE users SET pin_hash = ? WHERE id = ?", [pin_hash, user_id])

    def list_users(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM users ORDER BY username"))

    # --- pairing codes (server/pairing.py) -------------------------------------------------------

    def add_pairing_code(self, code_hash: str, kind: str, target: str, now: datetime,
                         expires: datetime, user: str | None) -> None:  # fmt: skip
        # A newer code for the same device replaces any unused one.
        self.db.execute(
            "DELETE FROM pairing_codes WHERE kind = ? AND target = ? AND used_at IS NULL",
            [kind, target],
        )
        self.db.execute(
            "INSERT INTO pairing_codes (code_hash, kind, target, created_at, expires_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [code_hash, kind, target, now.isoformat(), expires.isoformat(), user],
        )

    def find_pairing_code(self, code_hash: str) -> dict | None:
        row = next(
            self.db.query("SELECT * FROM pairing_codes WHERE code_hash = ?", [code_hash]), None
        )
        return dict(row) if row else None

    def use_pairing_code(self, code_hash: str, now: datetime, address: str) -> bool:
        """Mark a code used; False when it was used already (a race lost)."""
        cursor = self.db.execute(
            "UPDATE pairing_codes SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL",
            [now.isoformat(), address, code_hash],
        )
        return cursor.rowcount == 1

    def add_audit(self, now: datetime, user: str | None, action: str, target: str | None = None,
                  detail: Mapping | None = None) -> None:  # fmt: skip
        self.db.execute(
            "INSERT INTO audit_log (at, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            [now.isoformat(), user, action, target, json.dumps(detail or {}, ensure_ascii=False)],
        )

    def audit_page(self, before: int | None, limit: int) -> list[dict]:
        """Audit rows newest first, older than id `before` when given; detail is decoded."""
        rows = list(self.db.query(
            "SELECT * FROM audit_log WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
            [before, before, limit]))  # fmt: skip
        for row in rows:
            row["detail"] = json.loads(row["detail"] or "{}")
        return rows

    # --- idempotent requests --------------------------------------------------------------------

    def find_request(self, counter: int, request_id: str) -> tuple[str, dict] | None:
        row = self.db.execute(
            "SELECT command, response FROM requests WHERE counter = ? AND request_id = ?",
            [counter, request_id],
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def save_request(
        self, counter: int, request_id: str, command: str, response: Mapping, now: datetime
    ) -> None:
        self.db.execute(
            "INSERT INTO requests (counter, request_id, command, response, at) VALUES (?, ?, ?, ?, ?)",
            [
                counter,
                request_id,
                command,
                json.dumps(response, separators=(",", ":")),
                now.isoformat(),
            ],
        )

    def save_request_response(self, counter: int, request_id: str, response: Mapping) -> None:
        """Replace a stored answer with the one sent (it gained the call's announcement)."""
        self.db.execute(
            "UPDATE requests SET response = ? WHERE counter = ? AND request_id = ?",
            [json.dumps(response, separators=(",", ":")), counter, request_id],
        )

    # --- the satisfaction survey (server/skm.py) ---------------------------------------------

    def survey_answered(self, ticket_id: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM survey_answers WHERE ticket = ?", [ticket_id]).fetchone()
            is not None
        )

    def last_finished_ticket(self, day: str, counter: int) -> str | None:
        """The id of the ticket the counter finished last on the day (its survey tablet's)."""
        row = self.db.execute(
            "SELECT ticket FROM events WHERE day = ? AND counter = ? AND kind = 'finished'"
            " ORDER BY seq DESC LIMIT 1",
            [day, counter],
        ).fetchone()
        return row[0] if row else None

    def add_survey_answer(self, answer: Mapping) -> int:
        """Store one answer (inside the caller's transaction); a second one for the same ticket
        raises SurveyAlreadyAnswered, whoever checked before."""
        columns = ["ticket", "day", "service", "agency", "counter", "officer", "channel",
                   *SURVEY_COLUMNS, "age", "sex", "education", "occupation", "comment",
                   "answered_at"]  # fmt: skip
        try:
            cursor = self.db.execute(
                f"INSERT INTO survey_answers ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                [answer.get(c) for c in columns],
            )
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise SurveyAlreadyAnswered(answer.get("ticket")) from None
            raise
        return cursor.lastrowid

    def survey_answers(self, first: str, last: str) -> list[dict]:
        """Every answer of the service days first..last (ISO dates), oldest first."""
        return list(
            self.db.query(
                "SELECT * FROM survey_answers WHERE day BETWEEN ? AND ? ORDER BY id", [first, last]
            )
        )

    def finished_per_service(self, first: str, last: str) -> dict[str, int]:
        """The tickets served (done) per service over the days first..last: the survey's population."""
        return {
            r["service"]: r["n"]
            for r in self.db.query(
                "SELECT service, COUNT(*) AS n FROM tickets WHERE status = 'done'"
                " AND day BETWEEN ? AND ? GROUP BY service",
                [first, last],
            )
        }

    # --- bookings (server/bookings.py) ---------------------------------------------------------

    def add_booking(self, booking: bookings.Booking) -> None:
        self.db.execute(
            "INSERT INTO bookings (code, service, day, session, starts_at, ends_at, expires_at,"
            " status, name, phone, id_last4, source, external_id, created_at, notify)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [booking.code, booking.service, booking.day, booking.session, _utc(booking.starts_at),
             _utc(booking.ends_at), _utc(booking.expires_at), booking.status, booking.name,
             booking.phone, booking.id_last4, booking.source, booking.external_id,
             _utc(booking.created_at), int(booking.notify)],
        )  # fmt: skip

    def find_booking(self, code: str, tz) -> bookings.Booking | None:
        row = next(self.db.query("SELECT * FROM bookings WHERE code = ?", [code]), None)
        return _booking(row, tz) if row else None

    def find_external_booking(self, external_id: str, tz) -> bookings.Booking | None:
        row = next(
            self.db.query("SELECT * FROM bookings WHERE external_id = ?", [external_id]), None
        )
        return _booking(row, tz) if row else None

    def booked_places(self, service: str, day: str) -> dict[str, int]:
        """Per session label, the bookings that hold a place (booked or checked in)."""
        return {
            r["session"]: r["n"]
            for r in self.db.query(
                "SELECT session, COUNT(*) AS n FROM bookings WHERE service = ? AND day = ?"
                " AND status IN ('booked', 'checked_in') GROUP BY session",
                [service, day],
            )
        }

    def day_bookings(self, day: str, tz) -> list[bookings.Booking]:
        """Every booking of a day, by service, session and time booked."""
        return [
            _booking(r, tz)
            for r in self.db.query(
                "SELECT * FROM bookings WHERE day = ? ORDER BY service, starts_at, created_at",
                [day],
            )
        ]

    def open_bookings_until(self, now: datetime, tz) -> list[bookings.Booking]:
        """Bookings still waiting for their visitor whose expiry has come."""
        return [
            _booking(r, tz)
            for r in self.db.query(
                "SELECT * FROM bookings WHERE status = 'booked' AND expires_at <= ?", [_utc(now)]
            )
        ]

    def mark_booking(
        self, code: str, status: str, at: datetime | None = None, ticket: str | None = None
    ) -> None:
        """A booking checked in (with its ticket and time) or expired."""
        self.db.execute(
            "UPDATE bookings SET status = ?, checked_in_at = COALESCE(?, checked_in_at),"
            " ticket = COALESCE(?, ticket) WHERE code = ?",
            [status, _utc(at) if status == "checked_in" else None, ticket, code],
        )

    def bookings_waiting(self, day: str) -> int:
        """Bookings of this day or later still to be checked in (their plan may be off by now)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM bookings WHERE status = 'booked' AND day >= ?", [day]
        ).fetchone()
        return row[0]

    def cancel_booking(self, booking: bookings.Booking) -> None:
        """Store a booking as bookings.cancel left it (only one still booked: a race changes nothing)."""
        self.db.execute(
            "UPDATE bookings SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?,"
            " cancel_reason = ? WHERE code = ? AND status = 'booked'",
            [_utc(booking.cancelled_at), booking.cancelled_by, booking.cancel_reason, booking.code],
        )

    # --- booking plans (admin's service form; seeded from config.yaml) --------------------------

    def booking_plan_rows(self) -> dict[str, dict]:
        """Every stored plan as the form shows it, switched off ones too (service -> values)."""
        return {
            r["service"]: {
                **r,
                "sessions": json.loads(r["sessions"]),
                "active": bool(r["active"]),
                "priority": bool(r["priority"]),
            }
            for r in self.db.query("SELECT * FROM booking_plans ORDER BY service")
        }

    def load_booking_plans(self) -> dict[str, bookings.Plan]:
        """The plans switched on, as the booking rules take them."""
        return {
            code: bookings.Plan(
                code,
                bookings.parse_sessions(row["sessions"]),
                row["quota"],
                row["grace_minutes"],
                row["priority"],
            )
            for code, row in self.booking_plan_rows().items()
            if row["active"]
        }

    def save_booking_plan(self, service: str, values: Mapping) -> None:
        """Store one service's plan: active, sessions (labels), quota, grace_minutes, priority."""
        self.db.execute(
            "INSERT INTO booking_plans (service, active, sessions, quota, grace_minutes, priority)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(service) DO UPDATE SET active = excluded.active,"
            " sessions = excluded.sessions, quota = excluded.quota,"
            " grace_minutes = excluded.grace_minutes, priority = excluded.priority",
            [service, int(values["active"]), json.dumps(list(values["sessions"])),
             values["quota"], values["grace_minutes"], int(values["priority"])],
        )  # fmt: skip

    # --- outbound notices (server/notices.py, server/notice_sender.py) ----------------------------

    def contacts(self) -> dict[str, bool]:
        """Each ticket with a phone number: whether its "almost" notice was queued already."""
        return {
            r["ticket"]: r["almost_at"] is not None
            for r in self.db.query("SELECT ticket, almost_at FROM ticket_contacts")
        }

    def contact(self, ticket: str) -> str | None:
        row = self.db.execute(
            "SELECT phone FROM ticket_contacts WHERE ticket = ?", [ticket]
        ).fetchone()
        return row[0] if row else None

    def set_contact(self, ticket: str, phone: str, now: datetime) -> None:
        """A number for a ticket; a new number is told "almost" again only on a new approach."""
        self.db.execute(
            "INSERT INTO ticket_contacts (ticket, phone, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT(ticket) DO UPDATE SET phone = excluded.phone",
            [ticket, phone, _utc(now)],
        )

    def erase_contacts(self, tickets: Iterable[str] | None = None) -> int:
        """Forget the numbers of these tickets (None: of every ticket) and their queued notices."""
        if tickets is None:
            self.db.execute("DELETE FROM notice_outbox")
            return self.db.execute("DELETE FROM ticket_contacts").rowcount
        ids = list(tickets)
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        self.db.execute(f"DELETE FROM notice_outbox WHERE ticket IN ({marks})", ids)
        return self.db.execute(
            f"DELETE FROM ticket_contacts WHERE ticket IN ({marks})", ids
        ).rowcount

    def erase_closed_contacts(self) -> int:
        """Forget the numbers of tickets no longer open (a crash between a change and its erase)."""
        closed = "SELECT id FROM tickets WHERE status NOT IN ('waiting', 'called', 'skipped')"
        self.db.execute(f"DELETE FROM notice_outbox WHERE ticket IN ({closed})")
        return self.db.execute(f"DELETE FROM ticket_contacts WHERE ticket IN ({closed})").rowcount

    def queue_notices(self, notices: Iterable[Mapping], now: datetime) -> None:
        """Outbox rows (ticket, kind, service, message); an "almost" marks its ticket told."""
        for notice in notices:
            self.db.execute(
                "INSERT INTO notice_outbox (ticket, kind, service, message, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [notice["ticket"], notice["kind"], notice["service"], notice["message"], _utc(now)],
            )
            if notice["kind"] == "almost":
                self.db.execute(
                    "UPDATE ticket_contacts SET almost_at = ? WHERE ticket = ?",
                    [_utc(now), notice["ticket"]],
                )

    def due_notices(self, now: datetime, limit: int) -> list[dict]:
        """Queued notices whose time has come, oldest first, with their ticket's number (or None
        when it was erased meanwhile)."""
        return list(
            self.db.query(
                "SELECT o.*, c.phone FROM notice_outbox o LEFT JOIN ticket_contacts c"
                " ON c.ticket = o.ticket WHERE o.next_at IS NULL OR o.next_at <= ?"
                " ORDER BY o.id LIMIT ?",
                [_utc(now), limit],
            )
        )

    def flush_erased(self) -> None:
        """After an erase has committed: copy the WAL into the file and empty it, so that the
        erased rows' old page versions do not linger in the -wal file (best effort: a reader
        holding an old snapshot keeps the frames it needs until it lets go)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def drop_notices(self) -> None:
        self.db.execute("DELETE FROM notice_outbox")

    def record_notice_attempt(self, notice: int | None, delivery: Mapping, attempts: int,
                              next_at: datetime | None, keep: int) -> None:  # fmt: skip
        """Log one attempt (masked number); retry the notice later, or take it off the outbox."""
        self.db.execute(
            "INSERT INTO notice_deliveries (ticket, kind, masked, at, attempt, status, ok, outcome,"
            " error, ms) VALUES (:ticket, :kind, :masked, :at, :attempt, :status, :ok, :outcome,"
            " :error, :ms)",
            dict(delivery),
        )
        if notice is not None:
            if next_at is None:
                self.db.execute("DELETE FROM notice_outbox WHERE id = ?", [notice])
            else:
                self.db.execute(
                    "UPDATE notice_outbox SET attempts = ?, next_at = ? WHERE id = ?",
                    [attempts, _utc(next_at), notice],
                )
        self.db.execute(
            "DELETE FROM notice_deliveries WHERE id <= ("
            " SELECT id FROM notice_deliveries ORDER BY id DESC LIMIT 1 OFFSET ?)",
            [keep],
        )

    def notice_deliveries(self, limit: int) -> list[dict]:
        return list(
            self.db.query("SELECT * FROM notice_deliveries ORDER BY id DESC LIMIT ?", [limit])
        )


def _kind_list() -> str:
    return ", ".join(f"'{kind}'" for kind in reports.KINDS)


def _read_report(conn: sqlite3.Connection, first: str, last: str) -> tuple[list[tuple], dict]:
    conn.execute("BEGIN")  # one snapshot: the events and the names agree
    try:
        # Milliseconds, the hour (as stored: the hall's clock) and the kind's number come from
        # SQLite, and the day only on each ticket's issued row: Python then makes few objects per
        # row. The covering index events_report serves the range grouped by ticket, in seq order.
        kinds = " ".join(f"WHEN '{kind}' THEN {n}" for n, kind in enumerate(reports.KINDS))
        events = conn.execute(
            "SELECT CASE kind WHEN 'issued' THEN day END, CASE kind " + kinds + " END,"
            " CAST(round((julianday(at) - 2440587.5) * 86400000) AS INTEGER),"
            " CAST(substr(at, 12, 2) AS INTEGER), counter, service, officer FROM events"
            " WHERE day BETWEEN ? AND ? AND ticket IS NOT NULL AND kind IN (" + _kind_list() + ")"
            " ORDER BY day, ticket, seq",
            [first, last],
        ).fetchall()
        catalogue = {
            "agencies": conn.execute(
                "SELECT code, name FROM agencies ORDER BY position, code"
            ).fetchall(),
            "services": conn.execute(
                "SELECT code, name, agency, target_wait FROM services ORDER BY position, code"
            ).fetchall(),
            "counters": conn.execute(
                "SELECT number, name FROM counters ORDER BY number"
            ).fetchall(),
            "officers": conn.execute("SELECT id, username, full_name FROM users").fetchall(),
        }
    finally:
        conn.execute("COMMIT")
    return events, catalogue


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own check of a database file opened on its own; [] when it is sound."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return [] if problems == ["ok"] else problems


def file_schema_version(conn: sqlite3.Connection) -> int:
    """The migrations a database file opened on its own has had (PRAGMA user_version)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def use_rollback_journal(conn: sqlite3.Connection) -> None:
    """Make a copied file self-contained: no -wal or -shm beside it (backups and restores)."""
    conn.execute("PRAGMA journal_mode = DELETE")


def wait_when_busy(conn: sqlite3.Connection, milliseconds: int = 5000) -> None:
    """Wait for the server's write lock instead of failing at once."""
    conn.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")


def table_names(conn: sqlite3.Connection) -> set[str]:
    """The tables in a database file opened on its own (server/backup.py checks a copy)."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def ticket_totals(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """How many tickets a database file holds and its last day (server/backup.py's summary)."""
    tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    last_day = conn.execute("SELECT max(day) FROM days").fetchone()[0]
    return tickets, last_day


def _week(days: list) -> schedule.Week:
    return tuple(tuple(tuple(w) for w in day) for day in days)


def _json_or_null(value: object) -> str | None:
    return None if value is None else json.dumps(value)


def _display(row: Mapping) -> dict:
    return {**row, "counters": json.loads(row["counters"]) if row["counters"] else None,
            "services": json.loads(row["services"]) if row["services"] else None}  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None, tz) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(tz) if value else None


def _id(officer: engine.Officer | None) -> int | None:
    return officer.id if officer else None


def _ticket(row: Mapping, tz, officers: Mapping[int, engine.Officer]) -> engine.Ticket:
    return engine.Ticket(
        id=row["id"],
        day=row["day"],
        number=row["number"],
        prefix=row["prefix"],
        seq=row["seq"],
        service=row["service"],
        origin_service=row["origin_service"],
        priority=row["priority"],
        status=row["status"],
        issued_at=datetime.fromisoformat(row["issued_at"]).astimezone(tz),  # NOT NULL
        order=row["ord"],
        called_at=_dt(row["called_at"], tz),
        finished_at=_dt(row["finished_at"], tz),
        counter=row["counter"],
        calls=row["calls"],
        called_by=officers.get(row["called_by"]),
        finished_by=officers.get(row["finished_by"]),
        holder=row["holder"],
    )


class ReadOnlyStorage(Storage):
    """The database opened read-only, for a fan-out worker's replica (server/workers.py).

    The writer has created and migrated the file; this connection never writes (SQLite refuses
    it: `mode=ro` and `query_only`), and `data_version` tells when another connection committed.
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        try:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA query_only = ON")
            self.db.execute("PRAGMA busy_timeout = 5000")
            version = self.schema_version
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open database {path} read-only: {exc}") from None
        if version != len(MIGRATIONS):
            raise StorageError(
                f"the database {path} has schema {version}, this program {len(MIGRATIONS)}: "
                "start (or upgrade) the writer first"
            )
        self.path = path

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the file."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same commit."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        raise StorageError("a read-only database has no write transactions")
        yield  # pragma: no cover


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _booking(row: Mapping, tz) -> bookings.Booking:
    return bookings.Booking(
        code=row["code"], service=row["service"], day=row["day"], session=row["session"],
        starts_at=_when(row["starts_at"], tz), ends_at=_when(row["ends_at"], tz),
        expires_at=_when(row["expires_at"], tz), status=row["status"], name=row["name"],
        phone=row["phone"], id_last4=row["id_last4"], source=row["source"],
        external_id=row["external_id"], created_at=_dt(row["created_at"], tz),
        checked_in_at=_dt(row["checked_in_at"], tz), ticket=row["ticket"],
        cancelled_at=_dt(row["cancelled_at"], tz), cancelled_by=row["cancelled_by"],
        cancel_reason=row["cancel_reason"],
        notify=bool(row["notify"]),
    )  # fmt: skip


def _when(value: str, tz) -> datetime:
    return datetime.fromisoformat(value).astimezone(tz)
