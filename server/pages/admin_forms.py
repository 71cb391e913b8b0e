"""Validation of the admin forms: pure functions from submitted text to clean values.

No Flask, no database. Each `validate_*` takes the submitted fields (a plain mapping; multi-valued
fields as lists) and what it must be checked against (the catalogue, the users), and either returns
clean values or raises FormError with one Problem per field. Problems carry English message ids;
the page translates them, so the same check reads Indonesian or English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from panggil_common.rules import (
    CODE_RE,
    DISPLAY_NAME_RE,
    MAX_PASSWORD,
    MIN_PASSWORD,
    PREFIX_RE,
    USERNAME_RE,
    password_problem,
)
from server import announce, bookings, engine, schedule
from server.engine import Agency, Counter, Service
from server.voice import ENGINES

ROLES = ("admin", "officer")
CLOSED_WORDS = ("-", "tutup", "closed")

LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class Problem:
    """Why one field was refused: an English message id and its %-parameters."""

    message: str
    params: Mapping = field(default_factory=dict)


class FormError(Exception):
    """A form was refused; `errors` maps field names to problems. Nothing was saved."""

    def __init__(self, errors: Mapping[str, Problem]) -> None:
        self.errors = dict(errors)
        super().__init__(", ".join(f"{k}: {p.message}" for k, p in self.errors.items()))


REQUIRED = Problem("Required.")
# A NUL, an escape or another control character (a tab or a line break only in long texts, which
# keep them) never belongs in a name: a TV's font refuses to draw it and a voice stops at it.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_REFUSED = Problem("Control characters (such as NUL) are not allowed here.")


class _Checker:
    """Collects problems field by field so a form shows every error at once."""

    def __init__(self, form: Mapping) -> None:
        self.form = form
        self.errors: dict[str, Problem] = {}

    def text(self, name: str, *, required: bool = True, limit: int = 120) -> str:
        value = self.form.get(name) or ""
        value = (value[0] if value else "") if isinstance(value, list) else value
        value = " ".join(str(value).split()) if limit <= 200 else str(value).strip()
        if required and not value:
            self.fail(name, REQUIRED)
        elif CONTROL_CHARACTERS.search(value):
            self.fail(name, CONTROL_REFUSED)
        elif len(value) > limit:
            self.fail(name, Problem("At most %(limit)d characters.", {"limit": limit}))
        return value

    def number(self, name: str, low: int, high: int, *, required: bool = True) -> int | None:
        raw = self.text(name, required=required, limit=12)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            self.fail(
                name,
                Problem("A whole number from %(low)d to %(high)d.", {"low": low, "high": high}),
            )
            return None
        return value

    def flag(self, name: str) -> bool:
        return str(self.form.get(name) or "").lower() in ("1", "on", "true", "yes", "y")

    def choice(self, name: str, options: Iterable[str]) -> str:
        value = self.text(name, limit=40)
        if value and value not in options:
            self.fail(name, Problem("Choose one of the options."))
        return value

    def fail(self, name: str, problem: Problem) -> None:
        self.errors.setdefault(name, problem)

    def done(self) -> None:
        if self.errors:
            raise FormError(self.errors)


def values_of(form: Mapping, name: str) -> list[str]:
    value = form.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


# --- catalogue ---------------------------------------------------------------------------------


def validate_agency(
    form: Mapping, *, agencies: Mapping[str, Agency], editing: str | None = None
) -> Agency:
    """An agency: a stable code (set once) and a name."""
    c = _Checker(form)
    code = editing or _code(c, "code", taken=agencies)
    name = c.text("name")
    weekdays = _weekdays(c, form, "weekdays")
    c.done()
    # No day ticked, or all seven: the agency serves whenever the hall opens.
    every_day = not weekdays or len(weekdays) == len(engine.WEEKDAYS)
    return Agency(code=code, name=name, weekdays=None if every_day else weekdays)


def _weekdays(c: _Checker, form: Mapping, name: str) -> frozenset[int]:
    try:
        return schedule.parse_weekdays(values_of(form, name))
    except ValueError:
        c.fail(name, Problem("Unknown day."))
        return frozenset()


def validate_service(
    form: Mapping,
    *,
    agencies: Mapping[str, Agency],
    services: Mapping[str, Service],
    editing: str | None = None,
) -> Service:
    """A service: code (set once), agency, name, prefix unique in the hall, quota, hours, flags."""
    c = _Checker(form)
    code = editing or _code(c, "code", taken=services)
    agency = c.text("agency", limit=40)
    if agency and agency not in agencies:
        c.fail("agency", Problem("Unknown agency."))
    name = c.text("name")
    prefix = c.text("prefix", limit=2).upper()
    if prefix and not PREFIX_RE.match(prefix):
        c.fail("prefix", Problem("One or two capital letters (A-Z)."))
    elif prefix:
        owner = next((s for s in services.values() if s.prefix == prefix and s.code != code), None)
        if owner is not None:
            c.fail("prefix", Problem("Prefix %(prefix)s is already used by %(service)s.",
                                     {"prefix": prefix, "service": owner.name}))  # fmt: skip
    quota = c.number("daily_quota", 1, 100_000, required=False)
    hours = _hours(c, form)
    # Minutes; empty: no target. Ten hours is more than any hall's day.
    target_wait = c.number("target_wait", 1, 600, required=False)
    cutoff = c.number("cutoff_minutes", 0, 600, required=False) or 0
    alert = c.number("alert_ahead", 0, 50, required=False)
    c.done()
    return Service(code=code, name=name, agency=agency, prefix=prefix, daily_quota=quota, hours=hours,
                   priority_allowed=c.flag("priority_allowed"), active=c.flag("active"),
                   target_wait=target_wait, cutoff=cutoff,
                   alert_ahead=Service.alert_ahead if alert is None else alert)  # fmt: skip


def _code(c: _Checker, name: str, *, taken: Mapping) -> str:
    code = c.text(name, limit=40).lower()
    if code and not CODE_RE.match(code):
        c.fail(
            name,
            Problem(
                "Use lowercase letters, digits and dashes (at most 40), starting with a letter or digit."
            ),
        )
    elif code in taken:
        c.fail(name, Problem("This code is already used."))
    return code


def _hours(c: _Checker, form: Mapping) -> tuple | None:
    """Usual hours plus per-weekday overrides ('-' closes a day); None means always open."""
    usual = c.text("hours", required=False, limit=200)
    base = _windows(c, "hours", usual) if usual else None
    days = []
    for day in engine.WEEKDAYS:
        text = c.text(f"hours_{day}", required=False, limit=200)
        if not text:
            days.append(base)
        elif text.lower() in CLOSED_WORDS:
            days.append(())
        else:
            days.append(_windows(c, f"hours_{day}", text))
    overridden = any(c.text(f"hours_{d}", required=False, limit=200) for d in engine.WEEKDAYS)
    if base is None and overridden:
        if all(d == () for d in days):
            return days_closed()  # closed every day, yet kept (its history stays)
        if not usual:
            c.fail("hours", Problem("Fill in the usual hours first."))
        return None
    if base is None:
        return None
    return tuple(d if d is not None else () for d in days)


def days_closed() -> tuple:
    return tuple(() for _ in engine.WEEKDAYS)


HOURS_PROBLEMS = {
    "format": Problem("Write hours like 07:30-12:00,13:00-16:00."),
    "time": Problem("%(part)s is not a time of day."),
    "order": Problem("%(part)s ends before it starts."),
    "overlap": Problem("The time ranges overlap."),
}


def _windows(c: _Checker, name: str, text: str) -> tuple[tuple[int, int], ...] | None:
    """Hours text parsed by the schedule module (the one parser), its refusal as a Problem."""
    try:
        return schedule.parse_hours(text)
    except schedule.HoursError as exc:
        problem = HOURS_PROBLEMS[exc.kind]
        c.fail(name, Problem(problem.message, {"part": exc.part}))
        return None


def hours_fields(hours: tuple | None) -> dict[str, str]:
    """The form fields that show a service's hours: the most common day as usual, the rest as overrides."""
    if hours is None:
        return {"hours": "", **{f"hours_{d}": "" for d in engine.WEEKDAYS}}
    texts = [engine.format_hours(tuple(tuple(w) for w in day)) for day in hours]
    if not any(texts):
        return {"hours": "", **{f"hours_{d}": "-" for d in engine.WEEKDAYS}}
    open_days = [t for t in texts if t]
    usual = max(open_days, key=lambda t: (texts.count(t), -texts.index(t)))
    fields = {"hours": usual}
    for day, text in zip(engine.WEEKDAYS, texts):
        fields[f"hours_{day}"] = "" if text == usual else (text or "-")
    return fields


def validate_counter(
    form: Mapping,
    *,
    services: Mapping[str, Service],
    counters: Mapping[int, Counter],
    editing: int | None = None,
) -> Counter:
    """A counter: number (set once), names, the services it calls in order, active."""
    c = _Checker(form)
    number = editing
    if editing is None:
        number = c.number("number", 1, 999)
        if number is not None and number in counters:
            c.fail("number", Problem("Counter %(number)d already exists.", {"number": number}))
    name = c.text("name", limit=60)
    spoken = c.text("spoken_name", required=False, limit=60) or name.lower()
    chosen = values_of(form, "services")
    unknown = [code for code in chosen if code not in services]
    if unknown:
        c.fail("services", Problem("Unknown service."))
    elif not chosen:
        c.fail("services", Problem("Choose at least one service."))
    order = list(services)

    def rank(code: str) -> tuple[int, int]:
        # An officer sets the order with small numbers; unnumbered ones follow in catalogue order.
        raw = str(form.get(f"order_{code}") or "").strip()
        return (int(raw) if raw.isdigit() else 1000, order.index(code) if code in order else 0)

    chosen = sorted(dict.fromkeys(chosen), key=rank)
    c.done()
    return Counter(number=number, name=name, spoken_name=spoken, services=tuple(chosen),
                   active=c.flag("active"))  # fmt: skip


def validate_display(
    form: Mapping,
    *,
    counters: Mapping[int, Counter],
    services: Mapping[str, Service],
    displays: Iterable[str],
    editing: str | None = None,
) -> dict:
    """A display: its name (what the screen sends when it connects) and what it shows."""
    c = _Checker(form)
    name = editing
    if editing is None:
        name = c.text("name", limit=60)
        if name and not DISPLAY_NAME_RE.match(name):
            c.fail(
                "name", Problem("Use letters, digits, dots, dashes or underscores (at most 60).")
            )
        elif name in set(displays):
            c.fail("name", Problem("This name is already used."))
    shown_counters = []
    for raw in values_of(form, "counters"):
        if not raw.isdigit() or int(raw) not in counters:
            c.fail("counters", Problem("Unknown counter."))
        else:
            shown_counters.append(int(raw))
    shown_services = values_of(form, "services")
    if any(code not in services for code in shown_services):
        c.fail("services", Problem("Unknown service."))
    c.done()
    # An empty choice means "everything", stored as null as docs describe for the displays table.
    return {"name": name, "counters": sorted(set(shown_counters)) or None,
            "services": [s for s in services if s in shown_services] or None}  # fmt: skip


# --- the hall's schedule ----------------------------------------------------------------------------

MAX_CALENDAR_DAYS = 366


def validate_hall_hours(form: Mapping) -> schedule.Week | None:
    """The hall's usual week: usual hours and per-day overrides, as a service's; empty: none."""
    c = _Checker(form)
    hours = _hours(c, form)
    c.done()
    return hours


def validate_break(form: Mapping) -> schedule.HallBreak:
    """A break of the whole hall: the days, from, to and its name (Sholat Jumat)."""
    c = _Checker(form)
    days = _weekdays(c, form, "days")
    if not days and "days" not in c.errors:
        c.fail("days", Problem("Choose at least one day."))
    start = _time(c, "start")
    end = _time(c, "end")
    if start is not None and end is not None and end <= start:
        c.fail("end", Problem("The break must end after it starts."))
    label = c.text("label", limit=60)
    c.done()
    assert start is not None and end is not None  # done() raised otherwise
    return schedule.HallBreak(days=days, start=start, end=end, label=label)


def _time(c: _Checker, name: str) -> int | None:
    text = c.text(name, limit=20)
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{1,2}[:.]\d{2}", text):
            raise ValueError(text)
        return schedule.parse_time(text)
    except ValueError:
        c.fail(name, Problem("Write a time like 11:30."))
        return None


def validate_calendar_entry(form: Mapping) -> schedule.CalendarEntry:
    """A closed day or a range of days with special hours: first, last (optional), label, hours."""
    c = _Checker(form)
    first = _date(c, "first", required=True)
    last = _date(c, "last", required=False) or first
    if first and last and last < first:
        c.fail("last", Problem("The last day is before the first."))
    elif first and last and (last - first).days >= MAX_CALENDAR_DAYS:
        c.fail("last", Problem("At most %(days)d days at once.", {"days": MAX_CALENDAR_DAYS}))
    label = c.text("label", limit=80)
    kind = c.choice("kind", ("closed", "hours"))
    hours = None
    if kind == "hours":
        text = c.text("hours", limit=200)
        hours = _windows(c, "hours", text) if text else None
        if text and hours == ():
            c.fail("hours", REQUIRED)
    c.done()
    assert first is not None and last is not None
    return schedule.CalendarEntry(first=first, last=last, label=label, hours=hours)


def _date(c: _Checker, name: str, *, required: bool) -> date | None:
    text = c.text(name, required=required, limit=10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        c.fail(name, Problem("Write a date like 2026-12-25."))
        return None


# --- users ---------------------------------------------------------------------------------------


def validate_user(
    form: Mapping,
    *,
    users: Iterable[Mapping],
    counters: Mapping[int, Counter],
    editing: Mapping | None = None,
    me: Mapping | None = None,
) -> dict:
    """A user: username (set once), full name, role, counter, active; a password when new.

    An admin cannot lock the hall out: at least one active admin must remain, and nobody
    deactivates or demotes themselves.
    """
    c = _Checker(form)
    users = list(users)
    out: dict = {}
    if editing is None:
        username = c.text("username", limit=40)
        if username and not USERNAME_RE.match(username):
            c.fail("username", Problem("3 to 40 letters, digits, dots, dashes or underscores."))
        elif username and any(u["username"].lower() == username.lower() for u in users):
            c.fail("username", Problem("This username is already taken."))
        out["username"] = username
        out["password"] = _password(c, form)
    out["full_name"] = c.text("full_name", required=False)
    out["role"] = c.choice("role", ROLES)
    counter = c.number("counter", 1, 999, required=False)
    if counter is not None and counter not in counters:
        c.fail("counter", Problem("Unknown counter."))
    out["counter"] = counter
    out["active"] = True if editing is None else c.flag("active")
    if editing is not None:
        if me is not None and editing["id"] == me["id"]:
            if not out["active"]:
                c.fail("active", Problem("You cannot deactivate yourself."))
            if out["role"] and out["role"] != "admin":
                c.fail("role", Problem("You cannot remove your own admin role."))
        still_admin = out["role"] == "admin" and out["active"]
        others = [
            u for u in users if u["id"] != editing["id"] and u["role"] == "admin" and u["active"]
        ]
        if editing["role"] == "admin" and not still_admin and not others and "role" not in c.errors:
            c.fail("role", Problem("At least one active admin must remain."))
    c.done()
    return out


def validate_password(form: Mapping) -> str:
    """A new password, typed twice."""
    c = _Checker(form)
    password = _password(c, form)
    c.done()
    return password


# Why a password is refused (panggil_common.rules.password_problem), in the admin's words.
PASSWORD_PROBLEMS = {
    "length": Problem(
        "From %(low)d to %(high)d characters.", {"low": MIN_PASSWORD, "high": MAX_PASSWORD}
    ),
    "demo": Problem("This is the demo's published password: choose another."),
    "characters": Problem("The password contains characters that cannot be stored."),
}


def _password(c: _Checker, form: Mapping) -> str:
    password = str(form.get("password") or "")
    if not password:
        c.fail("password", REQUIRED)
    elif (problem := password_problem(password)) is not None:
        c.fail("password", PASSWORD_PROBLEMS[problem])
    elif password != str(form.get("password2") or ""):
        c.fail("password2", Problem("The two passwords differ."))
    return password


# --- settings ------------------------------------------------------------------------------------


def validate_settings(form: Mapping, voice: Mapping | None = None) -> dict:
    """Hall name, running text and voice; returns {setting key: value}.

    The `voice` dict keeps the keys this form does not edit (the voice module has more).
    """
    c = _Checker(form)
    name = c.text("name")
    running_text = c.text("running_text", required=False, limit=1000)
    new_voice = dict(voice or {})
    for key in ("template", "recall_template"):
        text = c.text(key, limit=300)
        if text:
            problem = template_problem(text)
            if problem:
                c.fail(key, problem)
        new_voice[key] = text
    new_voice["number_mode"] = c.choice("number_mode", announce.NUMBER_MODES)
    new_voice["engine"] = c.choice("engine", ENGINES)
    new_voice["repeat"] = c.number("repeat", 1, 3)
    c.done()
    return {"hall.name": name, "hall.running_text": running_text, "voice": new_voice}


def template_problem(template: str) -> Problem | None:
    """Why an announcement template is unusable, or None (announce.check_template judges)."""
    try:
        announce.check_template(template, require_ticket=True)
    except announce.TemplateError as exc:
        if exc.code == "malformed":
            return Problem("Unbalanced braces; fields are written like {ticket}.")
        if exc.code == "unknown-field":
            allowed = " ".join("{" + f + "}" for f in announce.TEMPLATE_FIELDS)
            return Problem(
                "Unknown field {%(field)s}; use %(allowed)s.",
                {"field": exc.field, "allowed": allowed},
            )
        if exc.code == "format-spec":
            return Problem(
                "Write {%(field)s} as it is, without : or ! after the name.", {"field": exc.field}
            )
        return Problem("The sentence must say the number: put {ticket} in it.")
    return None


def validate_logo(filename: str, data: bytes) -> str:
    """The logo's kind ('png', 'jpeg', 'svg') from its bytes; raises FormError on anything else."""
    if not data:
        raise FormError({"logo": Problem("Choose a PNG, JPEG or SVG file.")})
    if len(data) > LOGO_MAX_BYTES:
        raise FormError(
            {"logo": Problem("The file is larger than %(kb)d KB.", {"kb": LOGO_MAX_BYTES // 1024})}
        )
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:2048].lstrip().lower()
    if filename.lower().endswith(".svg") and b"<svg" in head:
        lowered = data.lower()
        # Served as an image it cannot run scripts, but opened directly it could: refuse them.
        if (
            b"<script" in lowered
            or b"javascript:" in lowered
            or re.search(rb"\son[a-z]+\s*=", lowered)
        ):
            raise FormError(
                {"logo": Problem("The SVG file contains scripts; choose another file.")}
            )
        return "svg"
    raise FormError({"logo": Problem("Choose a PNG, JPEG or SVG file.")})


def changes(before: Mapping, after: Mapping) -> dict:
    """{field: [old, new]} for the audit log."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


# --- bookings (the service form's part "Bookings"; rules in server/bookings.py) -------------------

BOOKING_FIELDS = ("booking_active", "booking_sessions", "booking_quota", "booking_grace",
                  "booking_priority")  # fmt: skip
MAX_SESSIONS = 48


def validate_booking_plan(form: Mapping) -> dict | None:
    """The service's booking plan: on/off, sessions ("08:00-09:00, 09:00-10:00"), the quota of
    each session, grace minutes and priority; None when bookings are off and no session is given.

    A plan switched off keeps its values (they are checked the same way), so switching it on
    again brings them back.
    """
    c = _Checker(form)
    active = c.flag("booking_active")
    text = c.text("booking_sessions", required=False, limit=1000)
    if not active and not text:
        return None
    sessions = _sessions(c, text) if text else ()
    if active and not text:
        c.fail("booking_sessions", REQUIRED)
    quota = c.number("booking_quota", 1, 10_000, required=active)
    grace = c.number("booking_grace", 0, 240, required=False)
    c.done()
    return {"active": active, "sessions": [s.label for s in sessions], "quota": quota or 1,
            "grace_minutes": 15 if grace is None else grace,
            "priority": c.flag("booking_priority")}  # fmt: skip


def _sessions(c: _Checker, text: str) -> tuple:
    """Sessions text (commas, semicolons or new lines between them), each refusal as a Problem."""
    parts = [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]
    parsed = []
    for part in parts:
        if not bookings.SESSION_RE.match(part):
            c.fail("booking_sessions",
                   Problem("%(part)s is not a session: write it like 08:00-09:00.", {"part": part}))  # fmt: skip
            return ()
        try:
            parsed.append(bookings.parse_session(part))
        except ValueError:
            c.fail("booking_sessions", Problem("%(part)s ends before it starts.", {"part": part}))
            return ()
    if len(parsed) > MAX_SESSIONS:
        c.fail("booking_sessions", Problem("At most %(limit)d sessions.", {"limit": MAX_SESSIONS}))
        return ()
    ordered = sorted(parsed, key=lambda s: s.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            c.fail("booking_sessions",
                   Problem("Sessions %(first)s and %(second)s overlap.",
                           {"first": before.label, "second": after.label}))  # fmt: skip
            return ()
    return tuple(ordered)


def booking_fields(row: Mapping | None) -> dict:
    """A stored plan as the form's fields (none stored: bookings off, empty fields)."""
    if row is None:
        return {"booking_active": False, "booking_sessions": "", "booking_quota": None,
                "booking_grace": 15, "booking_priority": False}  # fmt: skip
    return {"booking_active": row["active"], "booking_sessions": ", ".join(row["sessions"]),
            "booking_quota": row["quota"], "booking_grace": row["grace_minutes"],
            "booking_priority": row["priority"]}  # fmt: skip
