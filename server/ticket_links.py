"""The visitor link of a ticket: an unguessable token, so only the slip's holder sees its details.

The token is an HMAC of the ticket id with the app's secret key, so nothing is stored: any server
with the same key recognises it, and one ticket's token tells nothing about another's. Changing
the secret key makes the links on slips already printed show only the bare number page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from panggil_protocol import PanggilError

TOKEN_LENGTH = 16  # url-safe base64 characters: 96 bits
# Separates these tokens from anything else the same key signs (session cookies, CSRF).
PURPOSE = b"panggil-visitor-ticket:"


def ticket_token(secret_key: str | bytes, ticket_id: str) -> str:
    """The token of one ticket ('2026-11-26/A001'), for its visitor URL."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    digest = hmac.new(key, PURPOSE + ticket_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def token_matches(secret_key: str | bytes, ticket_id: str, token: str) -> bool:
    """True when `token` is the ticket's own, compared in constant time."""
    return hmac.compare_digest(ticket_token(secret_key, ticket_id).encode(), token.encode())


def require_token(secret_key: str | bytes, ticket_id: str, token: object) -> None:
    """Raise unknown-ticket unless `token` is the ticket's own: a wrong or missing token is
    answered like a number never issued, so nobody learns that the number exists."""
    if not (
        isinstance(token, str)
        and 0 < len(token) <= 64
        and token_matches(secret_key, ticket_id, token)
    ):
        raise PanggilError("unknown-ticket")
