"""Password hashing with Argon2 (slow on purpose), behind two small functions."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_dummy: tuple[PasswordHasher, str] | None = None


def dummy_hash() -> str:
    """A hash of nothing, made with the current settings: checked when no user matches a name."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("no such user"))
    return _dummy[1]


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
