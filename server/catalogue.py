"""The hall's catalogue: seeding it from the config, admin changes to it, counter device tokens.

The config seeds an empty database once; after that the database rules and the admin pages
change it through `change_hall`, which is part of the Hub's one writer: one transaction, then the
live state is reloaded and `hall_changed` broadcast.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from server import engine, protocol
from server.engine import Hall
from server.protocol import PanggilError
from server.storage import Storage

if TYPE_CHECKING:
    from server.config import Config
    from server.hub import Hub

log = logging.getLogger(__name__)


def seed(hub: Hub, config: Config) -> bool:
    """Load the config's catalogue and users into an empty database; then the database rules."""
    with hub.lock:
        seeded = _seed_catalogue(hub.storage, config)
        _seed_booking_plans(hub.storage, config)
        _seed_users(hub, config)
        return seeded


def _seed_catalogue(storage: Storage, config: Config) -> bool:
    if not storage.is_empty():
        _seed_schedule(storage, config)  # a database made before schedules existed
        return False
    with storage.transaction():
        for i, a in enumerate(config.agencies):
            storage.save_agency(a.to_agency(), i)
        for i, s in enumerate(config.services):
            storage.save_service(s.to_service(), i)
        for c in config.counters:
            counter = engine.Counter(
                number=c.number,
                name=c.name,
                spoken_name=c.spoken_name or c.name.lower(),
                services=tuple(c.services),
                active=c.active,
            )
            storage.save_counter(counter, token=c.token or secrets.token_urlsafe(16))
        hall = config.hall
        for key in ("name", "running_text"):
            storage.save_setting(f"hall.{key}", getattr(hall, key))
        if config.voice:
            storage.save_setting("voice", config.voice)
        _write_schedule(storage, config)
    log.info("catalogue loaded from config: %d services, %d counters",
             len(config.services), len(config.counters))  # fmt: skip
    return True


def _seed_schedule(storage: Storage, config: Config) -> None:
    """The config's hall hours, breaks and calendar into a database that never had a schedule."""
    if storage.has_schedule():
        return
    with storage.transaction():
        _write_schedule(storage, config)
    log.info("hall schedule loaded from config: %d calendar entries", len(config.calendar))


def _write_schedule(storage: Storage, config: Config) -> None:
    hall_schedule = config.hall_schedule()
    storage.save_hall_hours(hall_schedule.hours)  # also when None: marks the schedule as stored
    storage.save_hall_breaks(hall_schedule.breaks)
    for entry in hall_schedule.calendar:
        storage.add_calendar_entry(entry)


BOOKING_PLANS_SEEDED = "bookings.plans_seeded"  # a setting: config.yaml's plans were loaded once


def _seed_booking_plans(storage: Storage, config: Config) -> None:
    """config.yaml's services[].bookings into the database once (a new one, or one made before
    plans were stored); after that the admin's service form rules, as for the other fields."""
    from server.config import booking_plans

    if BOOKING_PLANS_SEEDED in storage.load_settings():
        return
    with storage.transaction():
        for code, plan in booking_plans(config).items():
            if storage.service_exists(code):
                storage.save_booking_plan(code, {
                    "active": True, "sessions": [x.label for x in plan.sessions],
                    "quota": plan.quota, "grace_minutes": plan.grace_minutes,
                    "priority": plan.priority})  # fmt: skip
        storage.save_setting(BOOKING_PLANS_SEEDED, True)


def _seed_users(hub: Hub, config: Config) -> None:
    storage = hub.storage
    if not config.users or storage.list_users():
        return
    from server.passwords import hash_password

    hashes = [hash_password(u.password) for u in config.users]  # slow: before the transaction
    with storage.transaction():
        for user, password_hash in zip(config.users, hashes):
            storage.add_user(user.username, password_hash, user.role, hub.now(),
                             counter=user.counter, full_name=user.full_name)  # fmt: skip
    log.info("users loaded from config: %d", len(config.users))


def change_hall(
    hub: Hub, what: str, write: Callable[[Storage], None], detail: Mapping | None = None
) -> int:
    """Apply an admin change (settings or catalogue) in one transaction, then broadcast it."""
    with hub.lock:
        now = hub.now()
        data = {"what": what, **(detail or {})}
        storage = hub.storage
        with storage.transaction():
            write(storage)
            seq = storage.add_event("hall_changed", now, hub.hall.day, data)
        agencies, services, counters = storage.load_catalogue()
        hub.hall = replace(
            engine.with_catalogue(hub.hall, agencies, services, counters),
            schedule=storage.load_schedule(),
        )
        voice_before = hub.settings.get("voice")
        hub.settings = storage.load_settings()
        hub.tokens = storage.counter_tokens()
        update_settings = getattr(hub.announcer, "update_settings", None)
        if hub.settings.get("voice") != voice_before and update_settings is not None:
            update_settings(hub.settings.get("voice") or {})
        hub.send(protocol.HALL_CHANGED, seq, now, data)
        return seq


def check_token(tokens: Mapping[int, str], hall: Hall, counter: object, token: object) -> int:
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
    expected = tokens.get(number)
    if expected is None:
        raise PanggilError("unknown-counter")
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise PanggilError("invalid-token")
    if not hall.counters[number].active:
        raise PanggilError("unknown-counter")
    return number


def counter_with_token(tokens: Mapping[int, str], token: object) -> int:
    """The counter whose token this is (compared in constant time); raises otherwise."""
    if isinstance(token, str) and token:
        for number, expected in tokens.items():
            if hmac.compare_digest(expected.encode(), token.encode()):
                return number
    raise PanggilError("invalid-token")
