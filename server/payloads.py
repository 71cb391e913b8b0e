"""The protocol's objects built from the hall's state: event payloads, answers and snapshots.

Pure functions over the engine's frozen Hall (no lock, no database, no clock: `now` is passed
in). The Hub calls them under its lock and sends what they return.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from server import engine, protocol, schedule, targets
from server.engine import Change, Hall, Outcome, ticket_dict

EVENT_NAMES = {
    "issued": protocol.TICKET_ISSUED,
    "called": protocol.TICKET_CALLED,
    "recalled": protocol.TICKET_CALLED,
    "finished": protocol.TICKET_FINISHED,
    "skipped": protocol.TICKET_SKIPPED,
    "transferred": protocol.TICKET_TRANSFERRED,
    "cancelled": protocol.TICKET_CANCELLED,
    "expired": protocol.TICKET_EXPIRED,
    "paused": protocol.COUNTER_CHANGED,
    "resumed": protocol.COUNTER_CHANGED,
    "signed_in": protocol.COUNTER_CHANGED,
    "signed_out": protocol.COUNTER_CHANGED,
}


def public(message: dict) -> dict:
    """A message as the public `/display` namespace and API get it: an officer only by name.

    TVs and visitors' phones share the hall's Wi-Fi with anyone; a login name there would hand a
    password guesser the other half of a login; who served a ticket stays out too. Counters (authenticated) keep the username,
    which the console needs to tell whether the officer signed in is its own user.
    """
    return _public(message)


# Who served a ticket is for the counters and the reports, not for the waiting room.
_PRIVATE_KEYS = frozenset({"called_by", "finished_by"})


def _public(value):
    if isinstance(value, dict):
        return {
            k: {"full_name": v.get("full_name") or ""}
            if k == "officer" and isinstance(v, dict)
            else _public(v)
            for k, v in value.items()
            if k not in _PRIVATE_KEYS
        }
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def counter_info(hall: Hall, number: int) -> dict:
    """The protocol's counter object, as the given state has it."""
    counter = hall.counters[number]
    current = hall.current(number)
    return {
        "number": counter.number,
        "name": counter.name,
        "spoken_name": counter.spoken_name,
        "services": list(counter.services),
        "active": counter.active,
        "state": counter.state,
        "break": engine.break_dict(counter),
        "officer": engine.officer_dict(counter.officer),
        "current": ticket_dict(current) if current else None,
        "served_today": hall.served.get(number, 0),
    }


def service_info(hall: Hall, service: engine.Service, now: datetime | None = None) -> dict:
    """The protocol's service object with its waiting counts (and, given `now`, its status)."""
    waiting = [
        t for t in hall.tickets.values() if t.status == "waiting" and t.service == service.code
    ]
    info = {
        "code": service.code,
        "name": service.name,
        "agency": service.agency,
        "prefix": service.prefix,
        "active": service.active,
        "waiting": len(waiting),
        "priority_waiting": sum(1 for t in waiting if t.priority),
        "target_wait": service.target_wait,
        "oldest_waiting_since": oldest_waiting_since(hall, service.code),
    }
    if now is not None:
        info["status"] = service_status(hall, service, now)
    return info


def service_status(hall: Hall, service: engine.Service, now: datetime) -> dict:
    """Whether a service takes numbers now, why not and when it opens: {open, reason, label, until}.

    A deactivated service is closed (`service-closed`) with no opening time; a hall that does not
    enforce hours (`hall.enforce_hours: false`) takes numbers at any time, so it is open with no
    closing time.
    """
    if not service.active:
        return {"open": False, "reason": "service-closed", "label": None, "until": None}
    if not hall.enforce_hours:
        return {"open": True, "reason": "open", "label": None, "until": None}
    return schedule.status_dict(engine.service_status(hall, service, now))


def oldest_waiting_since(hall: Hall, service: str) -> str | None:
    """When the service's longest-waiting visitor started waiting (server/targets.py), or None."""
    oldest = targets.oldest_waiting(hall, service)
    return targets.waiting_since(oldest).isoformat(timespec="seconds") if oldest else None


def services_detail(hall: Hall, now: datetime) -> list[dict]:
    """Each service with its quota, hours, whether it takes tickets now and how many counters
    serve it now (kiosk and API)."""
    out = []
    for s in hall.services.values():
        info = service_info(hall, s, now)
        info.update(
            daily_quota=s.daily_quota,
            issued_today=hall.issued.get(s.code, 0),
            hours=None if s.hours is None else {
                d: engine.format_hours(w) for d, w in zip(engine.WEEKDAYS, s.hours)
            },
            open_now=info["status"]["open"],
            priority_allowed=s.priority_allowed,
            open_counters=hall.open_counters(s.code),  # serving now: not on a break
        )  # fmt: skip
        out.append(info)
    return out


def hall_info(settings: Mapping, tz: ZoneInfo) -> dict:
    """The hall's name, time zone, running text and logo, as screens show them."""
    return {
        "name": settings.get("hall.name", "Mal Pelayanan Publik"),
        "timezone": str(tz),
        "running_text": settings.get("hall.running_text", ""),
        "logo_url": settings.get("hall.logo_url"),
    }


def snapshot(
    hall: Hall,
    *,
    seq: int,
    now: datetime,
    info: dict,
    recent: deque[dict] | Sequence[dict],
    counter: int | None = None,
) -> dict:
    """The whole state a client needs after (re)connecting; with `me` and `skipped` for a counter."""
    snap = {
        "seq": seq,
        "day": hall.day,
        "now": now.isoformat(timespec="seconds"),
        "server_time": server_time(now),
        "hall": info,
        "agencies": [{"code": a.code, "name": a.name} for a in hall.agencies.values()],
        "services": [service_info(hall, s, now) for s in hall.services.values()],
        # A deactivated counter is closed for the day's screens: no tile on a TV, no row to follow.
        "counters": [counter_info(hall, n) for n, c in hall.counters.items() if c.active],
        "recent_calls": list(reversed(recent)),
        "hall_status": hall_status(hall, now),
    }
    if counter is not None:
        snap["me"] = counter_info(hall, counter)
        served = hall.counters[counter].services
        snap["skipped"] = [
            ticket_dict(t)
            for t in sorted(hall.tickets.values(), key=lambda t: t.order)
            if t.status == "skipped" and t.service in served
        ]
    return snap


def call_payload(change: Change, hall: Hall) -> dict:
    """The call a display shows and announces, for a `called` or `recalled` change."""
    t = change.ticket
    if t is None:
        raise KeyError("a call without a ticket")
    service = hall.services[t.service]
    if change.counter is None:  # the engine's calls always name their counter
        raise KeyError("a call without a counter")
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


def event_payload(change: Change, hall: Hall) -> dict:
    """What the event row stores and (with seq and event) what clients receive."""
    t = change.ticket
    if t is None:  # a counter's change (paused, resumed): counter_changed carries the counter
        assert change.counter is not None
        changed: dict = {"counter": counter_info(hall, change.counter)}
        if change.kind in ("signed_in", "signed_out"):
            changed["officer_change"] = officer_change(change)
        return changed
    services = {t.service}
    if "from_service" in change.data:
        services.add(change.data["from_service"])
    payload: dict = {
        "ticket": ticket_dict(t),
        "waiting": {
            code: hall.waiting_count(code) for code in sorted(services) if code in hall.services
        },
        # With the counts, so that screens keep the oldest wait of each queue without a resync.
        "oldest_waiting_since": {
            code: oldest_waiting_since(hall, code)
            for code in sorted(services)
            if code in hall.services
        },
    }
    if change.counter is not None and change.counter in hall.counters:
        payload["counter"] = counter_info(hall, change.counter)
    if change.kind in ("called", "recalled"):
        payload["call"] = call_payload(change, hall)
    elif change.kind == "issued":
        payload["ahead"] = hall.ahead_of(t)
        if "booking" in change.data:  # a booking checked in (server/bookings.py)
            payload["booking"] = dict(change.data["booking"])
    elif change.kind == "transferred":
        payload.update(
            from_service=change.data["from_service"], to_service=change.data["to_service"]
        )
    return payload


def officer_change(change: Change) -> dict:
    """What a sign-in or sign-out did: who, and whom it replaced or why they left."""
    detail = {"kind": change.kind, "officer": engine.officer_dict(change.officer)}
    if change.kind == "signed_in":
        detail["replaced"] = change.data.get("replaced")
    else:
        detail["reason"] = change.data.get("reason")
    return detail


def command_response(outcome: Outcome, payloads: list[dict], seq: int) -> dict:
    """The answer to the client that asked: the last change's ticket, call and extras."""
    last = outcome.last
    if last.ticket is None:
        return {"ok": True, "result": {"counter": payloads[-1]["counter"]}, "seq": seq}
    result: dict = {"ticket": payloads[-1]["ticket"]}
    if last.kind in ("called", "recalled"):
        result["call"] = payloads[-1]["call"]
    if last.kind == "called":
        finished = [p["ticket"] for c, p in zip(outcome.changes, payloads) if c.kind == "finished"]
        result["finished"] = finished[0] if finished else None
    if last.kind == "issued":
        result["ahead"] = payloads[-1]["ahead"]
    return {"ok": True, "result": result, "seq": seq}


def hall_status(hall: Hall, now: datetime) -> dict:
    """The hall open, on a break or closed at `now`, as the screens show it (docs/protocol.md)."""
    return schedule.status_dict(engine.hall_status(hall, now))


def server_time(now: datetime) -> str:
    """The server's clock for screens without one of their own (ISO with offset, milliseconds)."""
    return now.isoformat(timespec="milliseconds")


def time_message(now: datetime) -> dict:
    """The periodic `time` event: the server's clock, so a TV keeps it without an RTC."""
    return {"event": "time", "server_time": server_time(now)}
