"""Pairing a Pi with a short code: the admin's counter or display page makes a 6-digit code,
`panggil-counter --pair CODE` / `panggil-display --pair CODE` trade it at `POST /api/pair` for the
device's settings (a counter's number and token, a display's name).

A code is used once and lives 10 minutes; only its keyed hash (HMAC with the session key) is
stored, so a copy of the database gives away no live code. Wrong codes are limited per address
(server/ratelimit.py's sliding window): six digits are a million guesses, not one. Making and
using a code are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import Blueprint, current_app, jsonify

from server import ratelimit, schemas
from server.hub import Hub
from server.protocol import PanggilError
from server.storage import Storage

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
FAILURES_PER_ADDRESS = 5
FAILURE_WINDOW_S = 600
KINDS = ("counter", "display")

bp = Blueprint("pairing", __name__)


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret: str | bytes, code: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def create(hub: Hub, secret: str | bytes, kind: str, target: str, user: str | None) -> str:
    """Make a code for a counter (target: its number) or a display (its name); audited."""
    if kind not in KINDS:
        raise ValueError(f"unknown pairing kind {kind!r}")
    code = new_code()
    now = hub.now()

    def work(storage: Storage) -> None:
        storage.add_pairing_code(code_hash(secret, code), kind, target, now, now + CODE_TTL, user)
        storage.add_audit(now, user, f"{kind}.pairing_code", target, {"expires_in_min": 10})

    hub.write(work)
    log.info("pairing code made for %s %s by %s", kind, target, user)
    return code


def redeem(hub: Hub, secret: str | bytes, code: str, kind: str, address: str) -> dict:
    """The settings a code stands for; the code is used up. Raises PanggilError otherwise."""
    now = hub.now()
    hashed = code_hash(secret, code)

    def work(storage: Storage) -> dict:
        row = storage.find_pairing_code(hashed)
        if row is None or row["used_at"] is not None or row["kind"] != kind:
            raise PanggilError("unknown-pairing-code")
        if datetime.fromisoformat(row["expires_at"]) <= now:
            raise PanggilError("pairing-code-expired")
        settings = _settings(hub, storage, kind, row["target"])
        if not storage.use_pairing_code(hashed, now, address):
            raise PanggilError("unknown-pairing-code")
        storage.add_audit(now, None, f"{kind}.paired", row["target"], {"address": address})
        return settings

    settings = hub.write(work)
    log.info("%s %s paired from %s", kind, settings.get("number", settings.get("name")), address)
    return settings


def _settings(hub: Hub, storage: Storage, kind: str, target: str) -> dict:
    if kind == "counter":
        number = int(target)
        counter = hub.hall.counters.get(number)
        token = hub.tokens.get(number)
        if counter is None or not counter.active or not token:
            raise PanggilError("unknown-counter")
        return {"number": number, "token": token}
    display = storage.find_display(target)
    if display is None:
        raise PanggilError("unknown-pairing-code")
    return {"name": target}


def limiter() -> ratelimit.SlidingWindow:
    app = current_app
    window = app.extensions.get("panggil_pairing_failures")
    if window is None:
        window = app.extensions["panggil_pairing_failures"] = ratelimit.SlidingWindow(
            FAILURE_WINDOW_S
        )
    return window


@bp.post("/api/pair")
def pair():
    """A device (counter keypad, TV display) trades a pairing code for its settings."""
    from server.api import request_body

    address = ratelimit.client_address()
    failures = limiter()
    if failures.count(address) >= FAILURES_PER_ADDRESS:
        retry = failures.retry_after(address)
        raise PanggilError("rate-limited", retry_after=retry)
    body = request_body(schemas.PairRequest)
    hub: Hub = current_app.extensions["panggil"]
    try:
        settings = redeem(hub, current_app.config["SECRET_KEY"], body.code, body.kind, address)
    except PanggilError as exc:
        if exc.code in ("unknown-pairing-code", "pairing-code-expired"):
            failures.add(address)
        raise
    return jsonify(ok=True, kind=body.kind, hall=hub.hall_info()["name"], settings=settings)
