"""Typing numbers on a numeric keypad: an officer number and PIN for `sign_in`, a break's return
time for `pause` (docs/counter.md).

Pure: keys in, the typed values, what to show and the command to send out. Digits type,
Backspace or Delete takes one back, Enter (or `+`, the keypad's big key) moves on or sends; Esc or
any other key cancels. The PIN is never shown, only as `*`.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter_client.texts import Texts
from panggil_protocol import PAUSE, SIGN_IN

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

    def request(self) -> tuple[str, dict]:
        """The command the finished entry sends."""
        return SIGN_IN, {"officer": int(self.officer), "pin": self.pin}

    def prompt(self, texts: Texts) -> str:
        if self.stage == "officer":
            return texts("entry.officer", digits=self.officer)
        return texts("entry.pin", officer=self.officer, masked="*" * len(self.pin))


@dataclass
class ReturnTimeEntry:
    """A break's expected return time, typed as four digits (1300 for 13.00) before `pause`."""

    reason: str
    digits: str = ""

    def key(self, key: str) -> str:
        """Take one key: "typing", "done" (a valid time: send the pause) or "cancel"."""
        if len(key) == 1 and key.isdigit():
            if len(self.digits) < 4:
                self.digits += key
            return "typing"
        if key in ERASE_KEYS:
            self.digits = self.digits[:-1]
            return "typing"
        if key in SUBMIT_KEYS:
            return "done" if self.until is not None else "typing"
        return "cancel"

    @property
    def until(self) -> str | None:
        """ "HH:MM" once four digits make a time of day, else None."""
        if len(self.digits) != 4:
            return None
        hour, minute = int(self.digits[:2]), int(self.digits[2:])
        return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None

    def request(self) -> tuple[str, dict]:
        return PAUSE, {"reason": self.reason, "until": self.until}

    def prompt(self, texts: Texts) -> str:
        shown = (self.digits + "____")[:4]
        return texts("entry.until", time=f"{shown[:2]}.{shown[2:]}")
