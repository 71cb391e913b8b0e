"""Credentials a hall must never share with the demo: the session key, demo values, the first admin.

- The session key is generated on first start into the data folder (mode 0600) unless the config
  sets one; a key published with the demo is refused outside --demo.
- The demo's passwords and counter tokens are public (they are in the repository): outside --demo
  a config or a database that holds them is refused, naming the key or the account.
- A production database without an admin gets a one-time set-up code, printed to the log, that
  opens /setup once; `python -m server create-admin` does the same from a shell.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from panggil_common.rules import (
    DEMO_PASSWORDS,
    MAX_PASSWORD,
    MIN_PASSWORD,
    USERNAME_RE,
    password_problem,
)

__all__ = ["DEMO_PASSWORDS", "MIN_PASSWORD"]  # re-exported for the pages and tests

log = logging.getLogger(__name__)

SECRET_FILE = "secret_key"

# Values that were published with the demo hall (config.yaml, README, docs, git history).
DEMO_SECRET_KEYS = frozenset({"change-me-demo-secret-key-0123456789"})
DEMO_USERNAMES = frozenset({"admin", "petugas1", "petugas2"})
DEMO_TOKEN = re.compile(r"^demo-counter-\d+$")
DEMO_SETTING = "demo"  # set in a database seeded by --demo

SETUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a log by a person


class CredentialError(Exception):
    """A demo credential met outside --demo, or a key file that cannot be used; says what to do."""


def demo_values_in_config(raw: dict) -> list[str]:
    """The dotted keys of a raw config dict that hold a published demo value."""
    found = []
    server = raw.get("server")
    if isinstance(server, dict) and server.get("secret_key") in DEMO_SECRET_KEYS:
        found.append("server.secret_key")
    for i, user in enumerate(_dicts(raw.get("users"))):
        if user.get("password") in DEMO_PASSWORDS:
            found.append(f"users.{i}.password")
    for i, counter in enumerate(_dicts(raw.get("counters"))):
        token = counter.get("token")
        if isinstance(token, str) and DEMO_TOKEN.match(token):
            found.append(f"counters.{i}.token")
    return found


def _dicts(value: object) -> Iterable[dict]:
    return [v if isinstance(v, dict) else {} for v in value] if isinstance(value, list) else []


def demo_config_message(keys: list[str]) -> str:
    return (
        f"config error: {', '.join(keys)}: published demo value(s), refused outside --demo. "
        "Remove server.secret_key (a key is generated into the data folder), remove the demo "
        "users (create the first admin with `python -m server create-admin` or the one-time "
        "code in the log) and the counter tokens (generated ones are shown on the admin page), "
        "or start the demo with --demo."
    )


def load_secret_key(folder: Path) -> str:
    """The session key kept in folder/secret_key, created (0600) on the first start."""
    path = folder / SECRET_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise CredentialError(f"cannot create the session key {path}: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        log.info("generated a new session key in %s", path)
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("session key %s was readable by others (mode %o); now 0600", path, mode)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"cannot read the session key {path}: {exc}") from None
    if len(key) < 32:
        raise CredentialError(
            f"the session key in {path} is too short: delete the file to get a new one"
        )
    return key


def demo_accounts_in(storage, check_password) -> list[str]:
    """Accounts and counters in a database that still open with a published demo credential."""
    found = [f"counter {number} (token {token})" for number, token in storage.counter_tokens().items()
             if DEMO_TOKEN.match(token)]  # fmt: skip
    for user in storage.list_users():
        demo_name = user["username"].lower() in DEMO_USERNAMES and user["active"]
        if demo_name and any(check_password(user["password_hash"], p) for p in DEMO_PASSWORDS):
            found.append(f"user {user['username']} (demo password)")
    return found


def demo_database_message(database: Path, found: list[str]) -> str:
    return (
        f"{database} was made by the demo (`make run`) and opens with its published credentials: "
        f"{'; '.join(found)}. Start the hall on its own database (server.database), or keep "
        "using this one with --demo."
    )


@dataclass
class SetupCode:
    """The one-time code that lets the first admin be created from the browser."""

    code: str = field(default_factory=lambda: new_setup_code())
    used: bool = False

    def matches(self, given: object) -> bool:
        if self.used or not isinstance(given, str):
            return False
        given = re.sub(r"[\s-]", "", given).upper()
        return hmac.compare_digest(given.encode(), self.code.replace("-", "").encode())


def new_setup_code() -> str:
    raw = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def has_admin(storage) -> bool:
    return any(u["role"] == "admin" and u["active"] for u in storage.list_users())


def check_new_admin(username: str, password: str) -> str | None:
    """What is wrong with a first admin's name or password (English), or None."""
    if not USERNAME_RE.match(username):
        return "username: 3-40 letters, digits, dot, dash or underscore"
    problem = password_problem(password)
    if problem == "length":
        return f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    if problem == "demo":
        return "password: this is the demo's published password"
    if problem == "characters":
        return "password: contains characters that cannot be stored"
    return None


def add_first_admin(
    storage, username: str, password_hash: str, now, full_name: str = ""
) -> int | None:
    """Create the first admin inside the caller's transaction; None if an admin exists already."""
    if has_admin(storage):
        return None
    if storage.find_user(username=username):
        raise CredentialError(f"a user named {username!r} exists already")
    user_id = storage.add_user(username, password_hash, "admin", now, full_name=full_name)
    storage.add_audit(now, username, "first-admin", username)
    return user_id


def create_admin(database: Path, username: str, password: str, now, *, full_name: str = "",
                 reset: bool = False) -> str:  # fmt: skip
    """`python -m server create-admin`: add an admin, or with reset give an existing user a new
    password and the admin role (a forgotten password). Safe while the server runs: one SQLite
    transaction, and the server reads users per request. Returns what was done."""
    from server.passwords import hash_password
    from server.storage import Storage

    if problem := check_new_admin(username, password):
        raise CredentialError(problem)
    password_hash = hash_password(password)
    storage = Storage(database)
    try:
        with storage.transaction():
            user = storage.find_user(username=username)
            if user is None:
                storage.add_user(username, password_hash, "admin", now, full_name=full_name)
                storage.add_audit(
                    now, None, "user.create", username, {"role": "admin", "by": "create-admin"}
                )
                return f"admin {username} created"
            if not reset:
                raise CredentialError(
                    f"user {username!r} exists already: add --reset to give it a new password"
                )
            storage.set_user_password(user["id"], password_hash, role="admin")
            storage.add_audit(
                now, None, "user.password", username, {"role": "admin", "by": "create-admin"}
            )
            return f"new password set for {username}, who is an active admin now"
    finally:
        storage.close()
