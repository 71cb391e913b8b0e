"""Typing an officer number and PIN on a numeric keypad, for `sign_in` (docs/counter.md).

Pure: keys in, the typed values and what to show out. The sign-in key starts it; digits type,
Backspace or Delete takes one back, Enter (or `+`, the keypad's big key) moves from the number to
the PIN and then sends; Esc or any other key cancels. The PIN is never shown, only as `*`.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter_client.texts import Texts

OFFICER_DIGITS = 9  # a user id
PIN_DIGITS = (4, 8)
SUBMIT_KEYS = ("enter", "+")
ERASE_KEYS = ("backspace", "delete")


@dataclass
class SignInEntry:
    """The officer number, then the PIN, as typed so far."""

    officer: str = ""
    pin: str = ""
    stage: str = "officer"  # then "pin"

    def key(self, key: str) -> str:
        """Take one key: "typing" (keep going), "done" (send the sign-in) or "cancel"."""
        field = "officer" if self.stage == "officer" else "pin"
        value = getattr(self, field)
        limit = OFFICER_DIGITS if field == "officer" else PIN_DIGITS[1]
        if len(key) == 1 and key.isdigit():
            if len(value) < limit:
                setattr(self, field, value + key)
            return "typing"
        if key in ERASE_KEYS:
            setattr(self, field, value[:-1])
            return "typing"
        if key in SUBMIT_KEYS:
            if field == "officer":
                if self.officer.strip("0"):
                    self.stage = "pin"
                return "typing"
            return "done" if len(self.pin) >= PIN_DIGITS[0] else "typing"
        return "cancel"

    def prompt(self, texts: Texts) -> str:
        if self.stage == "officer":
            return texts("entry.officer", digits=self.officer)
        return texts("entry.pin", officer=self.officer, masked="*" * len(self.pin))
