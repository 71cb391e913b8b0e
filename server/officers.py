"""Who is signing in at a counter: a web session's user, or an officer number and keypad PIN.

The shells (events.py, api.py) ask here before they send `sign_in` to the Hub, which records
only an engine.Officer found here: a username or id sent by a client is never taken on its word.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from server import engine, protocol
from server.passwords import check_password, dummy_hash, hash_password
from server.protocol import PanggilError

log = logging.getLogger(__name__)

PIN_DIGITS = (4, 8)


def may_use_counter(user: Mapping, number: int) -> bool:
    """Admins use any counter; an officer bound to a counter uses only that one."""
    return user["role"] == "admin" or user.get("counter") in (None, number)


def officer_of(user: Mapping) -> engine.Officer:
    return engine.Officer(user["id"], user["username"], user["full_name"] or "")


def from_session(hub, user_id: object, number: int, version: object = None) -> engine.Officer:
    """The logged-in user of a console's session, if active and allowed at this counter.

    `version` is the session's copy of the user's session version: an ended session (a logout,
    a new password, a deactivation) is refused like no session at all.
    """
    user = hub.read(lambda s: s.find_user(user_id=user_id)) if isinstance(user_id, int) else None
    if user is None or not user["active"] or version != user["session_version"]:
        raise PanggilError("login-required")
    if not may_use_counter(user, number):
        raise PanggilError("forbidden")
    return officer_of(user)


def from_pin(hub, pins, number: int, officer_id: int | None, pin: str | None) -> engine.Officer:
    """The officer with this number (user id) and PIN, for the keypad of counter `number`.

    An unknown number, an inactive user, a user without a PIN and a wrong PIN are the same
    `bad-pin`, at the same Argon2 cost; each counts against the counter and the number
    (`pins`: ratelimit.PinLimiter), and too many are `rate-limited` before any PIN is checked.
    """
    if officer_id is None or pin is None:
        raise PanggilError("bad-request", "Kolom 'officer' dan 'pin' diisi bersama.")
    pins.check(number, officer_id)
    user = hub.read(lambda s: s.find_user(user_id=officer_id))
    stored = user["pin_hash"] if user else None
    right = check_password(stored or dummy_hash(), pin)
    if not (user and user["active"] and stored and right):
        pins.fail(number, officer_id)
        log.warning("wrong PIN for officer %d at counter %d", officer_id, number)
        raise PanggilError("bad-pin")
    if not may_use_counter(user, number):
        raise PanggilError("forbidden")
    pins.succeed(number, officer_id)
    return officer_of(user)


def sign_step(command: str, counter: int, args: Mapping):
    """The engine rule of sign_in (with the Officer the shell found: never a client's word) or
    sign_out, as the Hub runs it."""
    if command == protocol.SIGN_OUT:
        return lambda hall, now: engine.sign_out(hall, counter, now)
    officer = args.get("officer")
    if not isinstance(officer, engine.Officer):
        raise PanggilError("bad-request", "Petugas belum diperiksa.")
    return lambda hall, now: engine.sign_in(hall, counter, officer, now)


def check_pin(pin: str) -> str:
    """A PIN of 4-8 digits, or ValueError."""
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise ValueError("a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str) -> str:
    """A PIN is stored like a password: an Argon2 hash, slow on purpose (call outside the lock)."""
    return hash_password(check_pin(pin))
