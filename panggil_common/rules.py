"""The rules a value must follow wherever it is typed: config.yaml, an admin form, a Pi's settings.

Declared once here so the server, the display and the counter client cannot drift apart.
"""

from __future__ import annotations

import re

# A service, agency or kiosk code: stable, URL-safe, set once.
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# A service's ticket prefix: "A012", "PK7".
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")

# A login name.
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,40}$")

# A password: long enough to resist guessing on a shared Wi-Fi, and never one the demo publishes
# (the server refuses to start outside --demo while a user still opens with one).
MIN_PASSWORD = 10
MAX_PASSWORD = 200
DEMO_PASSWORDS = frozenset({"admin-panggil", "petugas-panggil"})


def password_problem(password: str) -> str | None:
    """Why a new password is refused ('length', 'demo', 'characters'), or None when it is fine."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return "length"
    if password in DEMO_PASSWORDS:
        return "demo"
    if "\x00" in password or any(0xD800 <= ord(c) <= 0xDFFF for c in password):
        return "characters"
    return None


# The name a display reports when it connects.
DISPLAY_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,60}$")

# Indonesia's three time zones by UTC offset in hours (shared/DOMAIN.md), and the IANA zones that
# use them. Any other zone is shown by its UTC offset.
ZONE_NAMES: dict[int, str] = {7: "WIB", 8: "WITA", 9: "WIT"}
ZONE_OFFSETS: dict[str, int] = {
    "Asia/Jakarta": 7,
    "Asia/Pontianak": 7,
    "Asia/Makassar": 8,
    "Asia/Jayapura": 9,
}


def zone_name(timezone: str) -> str | None:
    """WIB, WITA or WIT for an Indonesian IANA zone ("Asia/Makassar" -> "WITA"), else None."""
    offset = ZONE_OFFSETS.get(timezone)
    return None if offset is None else ZONE_NAMES[offset]
