"""The display's screen model: snapshot + events -> what the TV shows, as pure functions.

No pygame, no socketio, no clock: every function takes `now` and returns a new frozen
`ScreenState` inside an `Outcome`, which also says what to announce, whether to resync and which
problems were found in the input. Bad input never raises: it is ignored and reported, because the
display must never die on what the network sends (docs/protocol.md is the contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

# Standard library only, installed with the display: the names, and the sequencing rule.
import panggil_protocol as protocol
from panggil_protocol import stream

BROADCAST_EVENTS = frozenset(protocol.BROADCAST_EVENTS)
ANNOUNCEMENT_READY = protocol.ANNOUNCEMENT_READY
# Events that change a counter: their `counter` object replaces the one shown.
_COUNTER_EVENTS = frozenset(
    {
        protocol.TICKET_CALLED,
        protocol.TICKET_FINISHED,
        protocol.TICKET_SKIPPED,
        protocol.TICKET_TRANSFERRED,
        protocol.TICKET_EXPIRED,
        protocol.COUNTER_CHANGED,  # a break started or ended
    }
)
BREAK_REASONS = ("istirahat", "sholat", "rapat", "lainnya")
HALL_STATES = ("open", "break", "closed")
_CLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_RECENT = 20


@dataclass(frozen=True)
class Zone:
    """Which counters and services a display shows; empty sets mean everything."""

    counters: frozenset[int] = frozenset()
    services: frozenset[str] = frozenset()

    @property
    def limited(self) -> bool:
        return bool(self.counters or self.services)

    def has_counter(self, number: int, services: tuple[str, ...]) -> bool:
        if self.counters and number not in self.counters:
            return False
        return not self.services or bool(self.services.intersection(services))

    def has_call(self, call: CallView) -> bool:
        if self.counters and call.counter_number not in self.counters:
            return False
        return not self.services or call.service_code in self.services


@dataclass(frozen=True)
class CallView:
    """One call as the screen shows it and the speaker says it."""

    call_id: str
    number: str
    counter_number: int
    counter_name: str
    ticket_id: str = ""  # a recall is a new call of the same ticket
    kind: str = "call"
    at: str = ""
    service_code: str = ""
    service_name: str = ""
    priority: str | None = None
    text: str = ""
    audio_url: str | None = None
    audio_status: str = "none"


@dataclass(frozen=True)
class CounterView:
    """One counter tile: its name and the number it is serving now (None when idle).

    A counter on break shows why and when it is back instead of a number.
    """

    number: int
    name: str
    current: str | None = None
    services: tuple[str, ...] = ()
    active: bool = True
    on_break: bool = False
    break_reason: str = ""  # one of BREAK_REASONS while on break
    break_until: str | None = None  # "HH:MM" when the officer said when they are back


@dataclass(frozen=True)
class HallStatus:
    """The hall open, on a break of the whole hall (Friday prayer) or closed, and until when.

    On a break the screen shows the break and speaks no call; closed, it shows a banner and
    goes on calling (officers serve the backlog after the doors close)."""

    state: str = "open"  # one of HALL_STATES
    reason: str = "open"
    label: str | None = None  # the break's or holiday's name, e.g. "Sholat Jumat"
    until: datetime | None = None  # when this state ends (aware), if the server knows

    @property
    def on_break(self) -> bool:
        return self.state == "break"


@dataclass(frozen=True)
class ScreenState:
    """Everything the renderer needs, and nothing it must compute from the network."""

    zone: Zone = Zone()  # in effect: the display's own filter, else the admin's for its name
    own_zone: Zone = Zone()  # from the display's own settings
    highlight_seconds: float = 10.0
    stale_after: float = 60.0
    hall_name: str = ""
    running_text: str = ""
    logo_url: str | None = None
    timezone: str = "Asia/Jakarta"
    day: str = ""
    seq: int | None = None  # None until the first snapshot (with needs_resync: a stream.Position)
    counters: tuple[CounterView, ...] = ()
    recent: tuple[CallView, ...] = ()  # newest first, one per ticket, only calls in the zone
    highlight_until: datetime | None = None  # the newest call is highlighted until then
    connected: bool = False
    disconnected_since: datetime | None = None
    stale: bool = False
    needs_resync: bool = False
    hall_status: HallStatus = HallStatus()
    # The server's clock minus this device's, in seconds (a Pi has no RTC): the screen shows
    # the server's time. From the snapshot's `server_time` and the periodic `time` event.
    clock_offset: float = 0.0
    server: str = ""  # the server in use, as the screen names it ("10.0.0.5:5000")
    searching: bool = False  # looking for a server on the LAN (mDNS), none found yet

    @property
    def latest(self) -> CallView | None:
        return self.recent[0] if self.recent else None

    @property
    def highlighted(self) -> bool:
        return self.highlight_until is not None and self.latest is not None


@dataclass(frozen=True)
class Outcome:
    """A new state plus what the shell must do about it."""

    state: ScreenState
    announce: tuple[CallView, ...] = ()  # live calls to chime and speak, in order
    audio_ready: tuple[tuple[str, str | None], ...] = ()  # (call_id, audio_url or None) arrived
    resync: bool = False  # ask the server for a snapshot now
    duplicate: bool = False
    problems: tuple[str, ...] = ()


class _Bad(Exception):
    """A payload field is missing or has the wrong type."""


# --- reading payloads -------------------------------------------------------------------------


def _get(data: Any, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    if not isinstance(data, Mapping):
        raise _Bad(f"expected an object holding {key!r}")
    value = data.get(key)
    if value is None:
        if optional:
            return None
        raise _Bad(f"missing {key!r}")
    # bool is an int in Python; a seq or counter number of `true` is a wrong type.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise _Bad(f"{key!r} has the wrong type")
    if not isinstance(value, kind):
        raise _Bad(f"{key!r} has the wrong type")
    return value


def _read_call(data: Any) -> CallView:
    ticket = _get(data, "ticket", Mapping)
    counter = _get(data, "counter", Mapping)
    service = _get(data, "service", Mapping, optional=True) or {}
    announcement = _get(data, "announcement", Mapping, optional=True) or {}
    kind = _get(data, "kind", str, optional=True) or "call"
    audio_url = _get(announcement, "audio_url", str, optional=True) if announcement else None
    status = (_get(announcement, "status", str, optional=True) if announcement else None) or (
        "ready" if audio_url else "none"
    )
    number = _get(ticket, "number", str)
    return CallView(
        call_id=_get(data, "call_id", str),
        number=number,
        ticket_id=_get(ticket, "id", str, optional=True) or number,
        counter_number=_get(counter, "number", int),
        counter_name=_get(counter, "name", str, optional=True) or f"{_get(counter, 'number', int)}",
        kind=kind if kind in ("call", "recall") else "call",
        at=_get(data, "at", str, optional=True) or "",
        service_code=(_get(service, "code", str, optional=True) or "") if service else "",
        service_name=(_get(service, "name", str, optional=True) or "") if service else "",
        priority=_get(ticket, "priority", str, optional=True),
        text=(_get(announcement, "text", str, optional=True) or "") if announcement else "",
        audio_url=audio_url,
        audio_status=status if status in ("ready", "pending", "none") else "none",
    )


def _read_counter(data: Any) -> CounterView:
    current = _get(data, "current", Mapping, optional=True)
    services = _get(data, "services", list, optional=True) or []
    if not all(isinstance(code, str) for code in services):
        raise _Bad("'services' must be a list of codes")
    number: str | None = None
    # A counter holds its last ticket after finishing it; only a called ticket is "being served".
    if current is not None and current.get("status", "called") == "called":
        number = _get(current, "number", str)
    active = _get(data, "active", bool, optional=True)
    on_break, reason, until = _read_break(data)
    return CounterView(
        number=_get(data, "number", int),
        name=_get(data, "name", str, optional=True) or str(_get(data, "number", int)),
        current=number,
        services=tuple(services),
        active=True if active is None else active,
        on_break=on_break,
        break_reason=reason,
        break_until=until,
    )


def _read_break(data: Any) -> tuple[bool, str, str | None]:
    """(on break, reason, until) of a counter object; no `state` (an older server) means open."""
    if _get(data, "state", str, optional=True) != "break":
        return False, "", None
    # Odd details (a newer reason, a bad time) still show the break, just less precisely.
    info = data.get("break")
    reason = info.get("reason") if isinstance(info, Mapping) else None
    until = info.get("until") if isinstance(info, Mapping) else None
    return (
        True,
        reason if reason in BREAK_REASONS else "lainnya",
        until if isinstance(until, str) and _CLOCK_RE.match(until) else None,
    )


def _read_hall_status(data: Any, problems: list[str], where: str) -> HallStatus:
    """The hall's status object; absent (an older server) or unreadable means open."""
    if data is None:
        return HallStatus()
    try:
        state = _get(data, "state", str)
        if state not in HALL_STATES:
            raise _Bad(f"unknown state {state!r}")
        until_text = _get(data, "until", str, optional=True)
        until = None
        if until_text is not None:
            try:
                until = datetime.fromisoformat(until_text)
            except ValueError:
                raise _Bad("'until' is not an ISO datetime") from None
            if until.tzinfo is None:
                raise _Bad("'until' has no offset")
        return HallStatus(
            state=state,
            reason=_get(data, "reason", str, optional=True) or state,
            label=_get(data, "label", str, optional=True),
            until=until,
        )
    except _Bad as exc:
        problems.append(f"{where} hall_status ignored (the hall is taken as open): {exc}")
        return HallStatus()


def _read_items(data: Any, key: str, reader: Any, problems: list[str]) -> list[Any]:
    """Read a list of objects, skipping (and reporting) the bad ones."""
    items = _get(data, key, list, optional=True) or []
    result = []
    for index, item in enumerate(items):
        try:
            result.append(reader(item))
        except _Bad as exc:
            problems.append(f"snapshot {key}[{index}] ignored: {exc}")
    return result


# --- transitions ------------------------------------------------------------------------------


def initial_state(
    zone: Zone = Zone(),
    *,
    highlight_seconds: float = 10.0,
    stale_after: float = 60.0,
    timezone: str = "Asia/Jakarta",
    hall_name: str = "",
) -> ScreenState:
    """The screen before the first snapshot: not connected, nothing to show yet."""
    return ScreenState(
        zone=zone,
        own_zone=zone,
        highlight_seconds=highlight_seconds,
        stale_after=stale_after,
        timezone=timezone,
        hall_name=hall_name,
    )


def set_connected(state: ScreenState, connected: bool, now: datetime) -> Outcome:
    """The socket connected or dropped; a connect is followed by the server's snapshot."""
    if connected:
        new = replace(state, connected=True, disconnected_since=None)
    elif state.connected or state.disconnected_since is None:
        new = replace(state, connected=False, disconnected_since=now)
    else:
        new = state  # a failed reconnection attempt: the outage started earlier
    return Outcome(_refresh(new, now))


def apply_snapshot(state: ScreenState, snapshot: Any, now: datetime) -> Outcome:
    """Replace everything with the server's snapshot. Calls in it are never announced."""
    problems: list[str] = []
    try:
        seq = _get(snapshot, "seq", int)
        hall = _get(snapshot, "hall", Mapping, optional=True) or {}
        counters = _read_items(snapshot, "counters", _read_counter, problems)
        calls = _read_items(snapshot, "recent_calls", _read_call, problems)
        hall_name = _get(hall, "name", str, optional=True) if hall else None
        running_text = _get(hall, "running_text", str, optional=True) if hall else None
        timezone = _get(hall, "timezone", str, optional=True) if hall else None
        logo_url = _get(hall, "logo_url", str, optional=True) if hall else None
        day = _get(snapshot, "day", str, optional=True) or ""
        hall_status = _read_hall_status(snapshot.get("hall_status"), problems, "snapshot")
    except _Bad as exc:
        return Outcome(state, resync=False, problems=(f"snapshot ignored: {exc}",))
    zone = state.own_zone if state.own_zone.limited else _admin_zone(snapshot, problems)
    recent = _one_per_ticket(call for call in calls if zone.has_call(call))
    highlight_until = state.highlight_until
    # Keep a highlight only for the very call that was already highlighted (a quick reconnect);
    # a call first seen in a snapshot was missed and must not flash as if it were new.
    if not (recent and state.latest and recent[0].call_id == state.latest.call_id):
        highlight_until = None
    new = replace(
        state,
        zone=zone,
        seq=seq,
        day=day,
        hall_name=hall_name if hall_name is not None else state.hall_name,
        running_text=running_text or "",
        timezone=timezone or state.timezone,
        logo_url=logo_url,
        counters=tuple(
            sorted(
                (c for c in counters if zone.has_counter(c.number, c.services)),
                key=lambda c: c.number,
            )
        ),
        recent=recent,
        highlight_until=None if hall_status.on_break else highlight_until,
        connected=True,
        disconnected_since=None,
        needs_resync=False,
        hall_status=hall_status,
        clock_offset=_clock_offset(snapshot, now, state.clock_offset, problems),
    )
    return Outcome(_refresh(new, now), problems=tuple(problems))


def server_now(state: ScreenState, now: datetime) -> datetime:
    """The server's time when this device's clock says `now`."""
    return now + timedelta(seconds=state.clock_offset)


def _clock_offset(payload: Mapping, now: datetime, before: float, problems: list[str]) -> float:
    """Seconds from this device's clock to the server's, from `server_time`; the previous
    offset when there is none (an older server) or it cannot be read."""
    value = payload.get("server_time")
    if value is None:
        return before
    try:
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return (moment - now).total_seconds()
    except (TypeError, ValueError) as exc:
        problems.append(f"server_time {value!r} ignored: {exc}")
        return before


def set_server(state: ScreenState, server: str, *, searching: bool = False) -> Outcome:
    """Which server the display uses (or that it is still looking for one on the LAN)."""
    return Outcome(replace(state, server=server, searching=searching))


def _admin_zone(snapshot: Mapping, problems: list[str]) -> Zone:
    """The counters and services the admin set for this display's name (null or absent: all)."""
    try:
        settings = _get(snapshot, "display", Mapping, optional=True) or {}
        counters = _get(settings, "counters", list, optional=True) or []
        services = _get(settings, "services", list, optional=True) or []
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in counters):
            raise _Bad("'counters' must be a list of counter numbers")
        if not all(isinstance(code, str) for code in services):
            raise _Bad("'services' must be a list of service codes")
    except _Bad as exc:
        problems.append(f"snapshot display settings ignored: {exc}")
        return Zone()
    return Zone(frozenset(counters), frozenset(services))


def apply_event(state: ScreenState, name: Any, payload: Any, now: datetime) -> Outcome:
    """Apply one event from the server; unknown or malformed events are ignored and reported."""
    try:
        return _apply_event(state, name, payload, now)
    except Exception as exc:  # noqa: BLE001 - a display must outlive a bug in its own reducer
        step = stream.resync(_position(state), "internal-error")
        return Outcome(
            replace(state, needs_resync=step.position.pending),
            resync=step.ask,
            problems=(f"{name!r} ignored: internal error {type(exc).__name__}: {exc}",),
        )


def _apply_event(state: ScreenState, name: Any, payload: Any, now: datetime) -> Outcome:
    if name == ANNOUNCEMENT_READY:
        return _apply_announcement_ready(state, payload)
    if not isinstance(payload, Mapping):
        return Outcome(state, problems=(f"{name!r} ignored: payload is not an object",))
    if name == protocol.SERVER_TIME:
        found: list[str] = []
        offset = _clock_offset(payload, now, state.clock_offset, found)
        return Outcome(replace(state, clock_offset=offset), problems=tuple(found))
    step = stream.receive(_position(state), name, payload)
    seq = payload.get("seq")
    if step.reason == "no-seq":
        return Outcome(state, problems=(f"{name!r} ignored: missing or bad 'seq'",))
    if step.reason == "no-snapshot":
        # Events before the first snapshot cannot be placed; the snapshot covers them.
        return Outcome(state, problems=(f"{name!r} seq {seq} ignored: no snapshot yet",))
    if step.decision == stream.IGNORE:
        return Outcome(state, duplicate=True)

    problems: list[str] = []
    if step.reason == "gap":
        # The event is still shown and spoken: it carries its counter and call in full.
        problems.append(f"seq jumped from {state.seq} to {seq}: resync")
    position, new = step.position, state
    announce: tuple[CallView, ...] = ()

    if name not in BROADCAST_EVENTS:
        # A newer server may send events this display does not know; the seq still counts.
        problems.append(f"unknown event {name!r} ignored")
    elif name in _COUNTER_EVENTS:
        try:
            counter_data = _get(payload, "counter", Mapping, optional=True)
            counter = _read_counter(counter_data) if counter_data is not None else None
            call = _read_call(payload.get("call")) if name == protocol.TICKET_CALLED else None
        except _Bad as exc:
            # The event is lost to us, so the screen may be wrong: fetch the truth.
            problems.append(f"{name!r} seq {seq} ignored: {exc}")
            position = stream.resync(position, "unreadable").position
        else:
            if counter is not None:
                new = _with_counter(new, counter)
            if call is not None and new.zone.has_call(call) and new.hall_status.on_break:
                # A call made during the hall's break (a clock off by a minute): listed, silent.
                new = replace(new, recent=_one_per_ticket((call, *new.recent)))
            elif call is not None and new.zone.has_call(call):
                new = replace(
                    new,
                    recent=_one_per_ticket((call, *new.recent)),
                    highlight_until=now + timedelta(seconds=new.highlight_seconds),
                )
                announce = (call,)
    elif name == protocol.HALL_CHANGED and payload.get("what") == "status":
        # Shown at once (no call slips out with a chime before the snapshot asked for comes).
        status = _read_hall_status(payload.get("status"), problems, "hall_changed")
        new = replace(new, hall_status=status)
        if status.on_break:
            new = replace(new, highlight_until=None)
    # ticket_issued and ticket_cancelled change waiting counts only, which this screen omits;
    # day_closed and hall_changed took their seq and asked for the snapshot that redraws all.
    new = replace(new, seq=position.seq, needs_resync=position.pending)
    return Outcome(
        _refresh(new, now),
        announce=announce,
        resync=position.pending and not state.needs_resync,  # asked by this message
        problems=tuple(problems),
    )


def _one_per_ticket(calls: Iterable[CallView]) -> tuple[CallView, ...]:
    """Newest first, each ticket once: a recall moves its number to the top, not into a second row."""
    seen: set[str] = set()
    kept: list[CallView] = []
    for call in calls:
        key = call.ticket_id or call.number
        if key not in seen:
            seen.add(key)
            kept.append(call)
    return tuple(kept[:MAX_RECENT])


def _position(state: ScreenState) -> stream.Position:
    """Where the screen stands in the broadcast stream."""
    return stream.Position(state.seq, state.needs_resync)


def _with_counter(state: ScreenState, counter: CounterView) -> ScreenState:
    if not state.zone.has_counter(counter.number, counter.services):
        return state
    others = [c for c in state.counters if c.number != counter.number]
    return replace(state, counters=tuple(sorted([*others, counter], key=lambda c: c.number)))


def _apply_announcement_ready(state: ScreenState, payload: Any) -> Outcome:
    try:
        call_id = _get(payload, "call_id", str)
        # null when no voice engine could speak: the chime and the text will have to do.
        audio_url = _get(payload, "audio_url", str, optional=True)
        text = _get(payload, "text", str, optional=True)
    except _Bad as exc:
        return Outcome(state, problems=(f"'announcement_ready' ignored: {exc}",))

    def ready(call: CallView) -> CallView:
        if call.call_id != call_id:
            return call
        status = "ready" if audio_url else "none"
        return replace(call, audio_url=audio_url, audio_status=status, text=text or call.text)

    new = replace(state, recent=tuple(ready(call) for call in state.recent))
    # Passed on even for a call no longer listed: the speaker may still be waiting for it.
    return Outcome(new, audio_ready=((call_id, audio_url),))


def tick(state: ScreenState, now: datetime) -> Outcome:
    """The clock moved: end an expired highlight, mark old data as stale."""
    return Outcome(_refresh(state, now))


def _refresh(state: ScreenState, now: datetime) -> ScreenState:
    highlight_until = state.highlight_until
    if highlight_until is not None and now >= highlight_until:
        highlight_until = None
    stale = (
        not state.connected
        and state.disconnected_since is not None
        and state.seq is not None
        and (now - state.disconnected_since).total_seconds() >= state.stale_after
    )
    if highlight_until == state.highlight_until and stale == state.stale:
        return state
    return replace(state, highlight_until=highlight_until, stale=stale)
