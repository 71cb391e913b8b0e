"""Text a client chose, made safe to put in a log line.

Display names, usernames, addresses and event names come from anyone on the hall's Wi-Fi. Written
as they are, a newline (or CR, NEL, U+2028, an escape sequence, a bidi override) in one of them
starts what looks like a line of its own in the journal: a forged "admin logged in". Every log call
that includes such text passes it through `shown` first.
"""

from __future__ import annotations

LIMIT = 120


def shown(value: object, limit: int = LIMIT) -> str:
    """`value` as printable text: unprintable characters escaped (\\n, \\x00, \\u2028, ...), cut to
    `limit` characters with an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
