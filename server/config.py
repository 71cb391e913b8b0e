"""Server settings from config.yaml: every key declared once with its default; unknown keys are errors."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panggil_common.rules import CODE_RE, PREFIX_RE, USERNAME_RE
from panggil_common.yaml_file import YamlFileError, read_mapping
from server import bookings, engine, schedule


class ConfigError(Exception):
    """config.yaml is unreadable or a key has a bad value; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Control characters (a NUL, an escape...) in a name a TV shows and a voice speaks: refused, as the
# admin forms refuse them (a TV's font cannot draw a NUL and a voice stops at it).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _no_control_characters(value: str | None) -> str | None:
    if value is not None and CONTROL_CHARACTERS.search(value):
        raise ValueError("control character (such as NUL) not allowed")
    return value


# A browser's Origin header: scheme, host and an optional port, nothing after it.
ORIGIN_RE = re.compile(
    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


class ServerSection(_Strict):
    host: str = Field("0.0.0.0", description="Address to listen on")
    port: int = Field(5000, ge=1, le=65535, description="TCP port")
    database: str = Field(
        "var/panggil.sqlite", description="SQLite file (relative to the config file)"
    )
    async_mode: Literal["eventlet", "threading"] = Field(
        "eventlet", description="Flask-SocketIO mode"
    )
    secret_key: str | None = Field(
        None,
        min_length=32,
        max_length=512,
        description="Signs session cookies; leave it out and one is generated into the data folder",
    )
    max_payload_bytes: int = Field(16384, ge=1024, le=1_048_576, description="Largest request body")
    visitor_summary_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="Visitor phones get their service's queue summary at most this often (seconds)",
    )
    max_connections: int = Field(
        5000,
        ge=100,
        le=100_000,
        description="Most connections served at once (eventlet mode): sockets and HTTP requests",
    )
    device_reserve: int = Field(
        200,
        ge=10,
        le=10_000,
        description="Of max_connections, kept for counters, TVs, consoles and staff pages: "
        "visitor phones are refused (and poll slowly) past max_connections minus this",
    )
    message_queue: str | None = Field(
        None,
        pattern=r"^(redis|rediss|unix)://",
        max_length=500,
        description="Redis URL of the message queue that joins several server processes "
        "(e.g. redis://127.0.0.1:6379/0); unset: one process, no Redis",
    )
    announce: bool = Field(
        True, description="Announce the server on the LAN by mDNS (_panggil._tcp) for the Pis"
    )
    announce_addresses: list[str] = Field(
        default_factory=list,
        description="Addresses put in the announcement; empty: server.host, else every interface's",
    )
    announce_interfaces: list[str] = Field(
        default_factory=list,
        description="Interface addresses to announce on (e.g. the staff LAN's); empty: all",
    )

    @field_validator("announce_addresses", "announce_interfaces")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise ValueError(f"not an IP address: {item!r}") from None
        return value

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Other sites whose pages may open the server's sockets, e.g. "
        "https://papan.mpp.example (the server's own address always may; clients without an "
        "Origin, like the displays and counter clients, always may)",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not ORIGIN_RE.fullmatch(origin):
                raise ValueError(f"not an origin like https://host or http://host:port: {origin!r}")
        return value


class LimitsSection(_Strict):
    """How often one client may take a ticket or fail a login (the hall's Wi-Fi is shared)."""

    tickets_per_address: int = Field(
        20, ge=1, le=100_000, description="Tickets one address may take per window"
    )
    tickets_window_s: int = Field(
        300, ge=10, le=86_400, description="The ticket window, in seconds"
    )
    trusted_addresses: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) without a ticket limit: the kiosks",
    )
    login_failures_per_address: int = Field(
        10, ge=1, le=1000, description="Failed logins from one address per window"
    )
    login_failures_per_account: int = Field(
        5, ge=1, le=1000, description="Failed logins for one account from one address"
    )
    login_failures_per_user: int = Field(
        50,
        ge=1,
        le=100_000,
        description="Failed logins for one account from all addresses; then only addresses it logged in from before",
    )
    login_window_s: int = Field(300, ge=10, le=86_400, description="The login window, in seconds")
    pin_failures_per_counter: int = Field(
        5, ge=1, le=1000, description="Wrong keypad PINs at one counter per window"
    )
    pin_failures_per_officer: int = Field(
        10, ge=1, le=1000, description="Wrong keypad PINs for one officer number, all counters"
    )
    pin_window_s: int = Field(300, ge=10, le=86_400, description="The PIN window, in seconds")

    @field_validator("trusted_addresses")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
        return value


class BreakEntry(_Strict):
    """A break of the whole hall: no numbers are issued, e.g. Friday prayer."""

    days: list[str] = Field(..., min_length=1, description="Weekdays: [fri] or [mon, tue, ...]")
    start: str = Field(..., alias="from", description="Start, e.g. 11:30")
    end: str = Field(..., alias="to", description="End, e.g. 13:00")
    label: str = Field(..., min_length=1, max_length=60, description="e.g. Sholat Jumat")

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        schedule.parse_weekdays(value)  # ValueError naming the unknown day
        return value

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            schedule.parse_time(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time like 11:30") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> BreakEntry:
        if schedule.parse_time(self.end) <= schedule.parse_time(self.start):
            raise ValueError(f"the break ends ({self.end}) before it starts ({self.start})")
        return self

    def to_break(self) -> schedule.HallBreak:
        return schedule.HallBreak(
            days=schedule.parse_weekdays(self.days),
            start=schedule.parse_time(self.start),
            end=schedule.parse_time(self.end),
            label=self.label,
        )


class CalendarItem(_Strict):
    """A day or a range of days the hall is closed (a holiday) or keeps special hours (Ramadan)."""

    date: dt.date | None = Field(None, description="One day (or use from/to)")
    first: dt.date | None = Field(None, alias="from", description="The range's first day")
    last: dt.date | None = Field(None, alias="to", description="The range's last day")
    label: str = Field(..., min_length=1, max_length=80)
    hours: str = Field(
        "closed", description="'closed' or special hours for those days, e.g. 08:00-14:00"
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if value.strip().lower() != "closed":
            windows = schedule.parse_hours(value)  # ValueError with the reason
            if not windows:
                raise ValueError("write closed, or hours like 08:00-14:00")
        return value

    @model_validator(mode="after")
    def _days(self) -> CalendarItem:
        if self.date is not None and (self.first is not None or self.last is not None):
            raise ValueError("give either date or from/to, not both")
        if self.date is None and (self.first is None or self.last is None):
            raise ValueError("give date, or both from and to")
        if self.first is not None and self.last is not None and self.last < self.first:
            raise ValueError(f"to ({self.last}) is before from ({self.first})")
        return self

    def to_entry(self) -> schedule.CalendarEntry:
        first = self.date or self.first
        last = self.date or self.last
        assert first is not None and last is not None  # checked above
        closed = self.hours.strip().lower() == "closed"
        hours = None if closed else schedule.parse_hours(self.hours)
        return schedule.CalendarEntry(first, last, self.label, hours)


class HallSection(_Strict):
    name: str = Field("Mal Pelayanan Publik", min_length=1, max_length=120)
    timezone: str = Field(
        "Asia/Jakarta", description="IANA zone: Asia/Jakarta, Asia/Makassar, Asia/Jayapura"
    )
    day_starts_at: str = Field("00:00", description="Local time at which ticket numbers restart")
    running_text: str = Field("", max_length=1000)

    _names = field_validator("name", "running_text")(_no_control_characters)
    enforce_hours: bool = Field(
        True, description="Refuse tickets outside a service's opening hours"
    )
    hours: str | None = Field(
        None, description="The hall's usual hours, e.g. 07:30-16:00; none: the hall sets none"
    )
    hours_by_day: dict[str, str] | None = Field(
        None, description="Per-day overrides of the hall's hours: {fri: ..., sat: ''}"
    )
    breaks: list[BreakEntry] = Field(
        default_factory=list, description="Breaks of the whole hall, e.g. Friday prayer"
    )
    require_officer: bool = Field(
        False,
        description="Counters call, skip, finish and transfer only with an officer signed in",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("day_starts_at")
    @classmethod
    def _day_start(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3])[:.][0-5]\d", value):
            raise ValueError("must be a time like 00:00 or 03:30")
        return value

    @model_validator(mode="after")
    def _hall_hours(self) -> HallSection:
        if self.hours is None and self.hours_by_day:
            raise ValueError("hall.hours_by_day needs hall.hours")
        if self.hours is not None:
            schedule.weekday_hours(self.hours, self.hours_by_day)  # ValueError with the reason
        return self

    @property
    def week(self) -> schedule.Week | None:
        return None if self.hours is None else schedule.weekday_hours(self.hours, self.hours_by_day)

    @property
    def day_start_minutes(self) -> int:
        return int(self.day_starts_at[:2]) * 60 + int(self.day_starts_at[3:])


class AgencyEntry(_Strict):
    code: str = Field(..., pattern=CODE_RE.pattern)
    name: str = Field(..., min_length=1, max_length=120)

    _names = field_validator("name")(_no_control_characters)
    weekdays: list[str] | None = Field(
        None, description="The days it serves in the hall, e.g. [mon, wed]; none: every day"
    )

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            schedule.parse_weekdays(value)  # ValueError naming the unknown day
        return value

    def to_agency(self) -> engine.Agency:
        days = None if self.weekdays is None else schedule.parse_weekdays(self.weekdays)
        return engine.Agency(self.code, self.name, days)


class BookingPlanEntry(_Strict):
    """A service's bookings (server/bookings.py): sessions, the quota of each, grace, priority."""

    sessions: list[str] = Field(
        ..., min_length=1, max_length=48, description='e.g. ["08:00-09:00", "09:00-10:00"]'
    )
    quota: int = Field(..., ge=1, le=10_000, description="Bookings per session")
    grace_minutes: int = Field(
        15,
        ge=0,
        le=240,
        description="A booking not checked in by the session's end plus this expires",
    )
    priority: bool = Field(
        False,
        description="A checked-in booking is called before walk-ins (otherwise in check-in order)",
    )

    @field_validator("sessions")
    @classmethod
    def _sessions(cls, value: list[str]) -> list[str]:
        bookings.parse_sessions(value)  # ValueError naming the bad or overlapping session
        return value

    def to_plan(self, service: str) -> bookings.Plan:
        return bookings.Plan(service, bookings.parse_sessions(self.sessions), self.quota,
                             self.grace_minutes, self.priority)  # fmt: skip


class BookingsSection(_Strict):
    days_ahead: int = Field(7, ge=0, le=90, description="Bookable days: today and this many after")
    checkin_early_minutes: int = Field(
        30, ge=0, le=240, description="Check-in opens this many minutes before a session starts"
    )
    api_token: str | None = Field(
        None, min_length=24, max_length=200,
        description="Bearer token of POST /api/bookings (an external booking system); none: no API",
    )  # fmt: skip
    per_address: int = Field(
        10, ge=1, le=10_000, description="Bookings one address may make per window"
    )
    window_s: int = Field(
        3600, ge=10, le=86_400, description="The booking limit's window (seconds)"
    )


class ServiceEntry(_Strict):
    code: str = Field(..., pattern=CODE_RE.pattern)
    agency: str
    name: str = Field(..., min_length=1, max_length=120)

    _names = field_validator("name")(_no_control_characters)
    prefix: str = Field(..., pattern=PREFIX_RE.pattern, description="One or two capital letters")
    daily_quota: int | None = Field(None, ge=1, le=100_000)
    hours: str | None = Field(
        None, description="e.g. 07:30-12:00,13:00-16:00; none means always open"
    )
    hours_by_day: dict[str, str] | None = Field(
        None, description="per-day overrides: {fri: ..., sat: ''}"
    )
    priority_allowed: bool = True
    active: bool = True
    target_wait: int | None = Field(
        None, ge=1, le=600, description="Target wait in minutes (service level); none: no target"
    )
    cutoff_minutes: int = Field(
        0, ge=0, le=600, description="Stop issuing numbers this many minutes before closing"
    )
    alert_ahead: int = Field(
        3, ge=0, le=50,
        description="The visitor's phone alerts when this many people or fewer are ahead (0: only when called)",
    )  # fmt: skip
    bookings: BookingPlanEntry | None = Field(
        None, description="Booking sessions of the service (docs/kiosk.md); none: no bookings"
    )

    @model_validator(mode="after")
    def _hours(self) -> ServiceEntry:
        if self.hours is None and self.hours_by_day:
            raise ValueError("hours_by_day needs hours")
        if self.hours is not None:
            engine.weekday_hours(self.hours, self.hours_by_day)  # raises ValueError with the reason
        return self

    def to_service(self) -> engine.Service:
        hours = None if self.hours is None else engine.weekday_hours(self.hours, self.hours_by_day)
        return engine.Service(
            code=self.code,
            name=self.name,
            agency=self.agency,
            prefix=self.prefix,
            daily_quota=self.daily_quota,
            hours=hours,
            priority_allowed=self.priority_allowed,
            active=self.active,
            target_wait=self.target_wait,
            cutoff=self.cutoff_minutes,
            alert_ahead=self.alert_ahead,
        )


class CounterEntry(_Strict):
    number: int = Field(..., ge=1, le=999)
    name: str = Field(..., min_length=1, max_length=60)
    spoken_name: str | None = Field(None, max_length=60, description="How the voice says it")

    _names = field_validator("name", "spoken_name")(_no_control_characters)
    services: list[str] = Field(..., min_length=1)
    token: str | None = Field(
        None, min_length=8, max_length=128, description="Counter device token"
    )
    active: bool = True


class UserEntry(_Strict):
    username: str = Field(..., pattern=USERNAME_RE.pattern)
    password: str = Field(..., min_length=8, max_length=200, description="Hashed when loaded")
    role: Literal["admin", "officer"]
    full_name: str = Field("", max_length=120)
    counter: int | None = Field(None, ge=1, le=999, description="Counter an officer is bound to")


class Config(_Strict):
    server: ServerSection
    hall: HallSection = HallSection()
    limits: LimitsSection = LimitsSection()
    voice: dict = Field(
        default_factory=dict, description="Announcement settings, see docs/voice.md"
    )
    calendar: list[CalendarItem] = Field(
        default_factory=list, description="Holidays, cuti bersama and special hours (Ramadan)"
    )
    agencies: list[AgencyEntry] = Field(default_factory=list)
    services: list[ServiceEntry] = Field(default_factory=list)
    counters: list[CounterEntry] = Field(default_factory=list)
    bookings: BookingsSection = BookingsSection()
    users: list[UserEntry] = Field(
        default_factory=list, description="Loaded into an empty database"
    )
    # Read by the TV display and the counter client when they share this file (docs/display.md,
    # docs/counter.md); each validates its own section, the server only passes them by.
    kiosks: dict | None = Field(None, description="Kiosk id -> printer settings (docs/kiosk.md)")
    display: dict = Field(default_factory=dict, description="Settings of `python -m display`")
    counter: dict = Field(
        default_factory=dict, description="Settings of `python -m counter_client`"
    )
    base_dir: Path = Field(Path("."), exclude=True)

    @model_validator(mode="after")
    def _catalogue(self) -> Config:
        _unique("agencies", [a.code for a in self.agencies], "code")
        _unique("services", [s.code for s in self.services], "code")
        _unique("services", [s.prefix for s in self.services], "prefix")
        _unique("counters", [c.number for c in self.counters], "number")
        _unique("users", [u.username.lower() for u in self.users], "username")
        agencies = {a.code for a in self.agencies}
        services = {s.code for s in self.services}
        for i, service in enumerate(self.services):
            if service.agency not in agencies:
                raise ValueError(f"services.{i}.agency: unknown agency {service.agency!r}")
        for i, counter in enumerate(self.counters):
            for code in counter.services:
                if code not in services:
                    raise ValueError(f"counters.{i}.services: unknown service {code!r}")
        numbers = {c.number for c in self.counters}
        for i, user in enumerate(self.users):
            if user.counter is not None and user.counter not in numbers:
                raise ValueError(f"users.{i}.counter: unknown counter {user.counter}")
        return self

    def hall_schedule(self) -> schedule.HallSchedule:
        """The hall's weekly hours, breaks and calendar as config.yaml gives them."""
        return schedule.HallSchedule(
            hours=self.hall.week,
            breaks=tuple(b.to_break() for b in self.hall.breaks),
            calendar=tuple(c.to_entry() for c in self.calendar),
        )

    def path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def data_dir(self) -> Path:
        """The folder of the database: it also holds the generated session key and the lock."""
        return self.path(self.server.database).parent


def _unique(section: str, values: list, key: str) -> None:
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{section}.{i}.{key}: duplicate {value!r}")
        seen.add(value)


def load_config(path: str | Path, *, demo: bool = False, **overrides: object) -> Config:
    """Read and validate a config file; raise ConfigError naming the bad key."""
    path = Path(path)
    try:
        raw = read_mapping(path)
    except YamlFileError as exc:
        raise ConfigError(str(exc)) from None
    return parse_config(raw, base_dir=path.resolve().parent, demo=demo, **overrides)


def parse_config(
    raw: dict, base_dir: Path = Path("."), *, demo: bool = False, **overrides: object
) -> Config:
    """Validate a config dict (already parsed); overrides are 'section.key' values from the CLI.

    Outside the demo, a value published with the demo (secret key, passwords, counter tokens)
    is refused: anyone on the hall's Wi-Fi can read them in the repository.
    """
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    if not demo:
        from server.credentials import demo_config_message, demo_values_in_config

        if found := demo_values_in_config(raw):
            raise ConfigError(demo_config_message(found))
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split(".")
        raw.setdefault(section, {})[key] = value
    try:
        config = Config.model_validate({**raw, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if config.voice:
        _check_voice(config.voice)
    if config.kiosks is not None:
        from server.printing import parse_kiosks

        try:
            parse_kiosks(config.kiosks)
        except ValueError as exc:
            raise ConfigError(f"config error: {exc}") from None
    return config


def _check_voice(voice: dict) -> None:
    try:
        from server.voice import validate_voice_settings
    except ImportError:  # the voice module is optional until it lands
        return
    try:
        validate_voice_settings(voice)
    except ValueError as exc:
        raise ConfigError(f"config error: {exc}") from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{where}: {message}" if err["loc"] else message)
    return "config error: " + "; ".join(lines)


def booking_plans(config: Config) -> dict[str, bookings.Plan]:
    """config.yaml's booking plans: seeded once into the database, which rules after that."""
    return {s.code: s.bookings.to_plan(s.code) for s in config.services if s.bookings is not None}
