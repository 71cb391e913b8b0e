"""Where presses come from: a keyboard or USB numeric keypad, and GPIO buttons.

The keyboard reader needs no evdev: it reads the terminal in cbreak mode (keys arrive one by one,
without echo, and Ctrl-C still works) or, when stdin is not a terminal, plain stdin. Both readers
call back from their own thread; the app turns that into a queue item.
"""

from __future__ import annotations

import logging
import os
import select
import termios
import threading
import time
import tty
from collections.abc import Callable, Mapping
from types import MappingProxyType

log = logging.getLogger(__name__)

# Single control characters. In cbreak mode the terminal turns Enter's "\r" into "\n".
CONTROL_KEYS: Mapping[str, str] = {
    "\r": "enter",
    "\n": "enter",
    "\x7f": "backspace",
    "\x08": "backspace",
    "\t": "tab",
    " ": "space",
}

# Escape sequences a numeric keypad sends in "application keypad" mode, and Delete.
ESCAPE_SEQUENCES: Mapping[str, str] = {
    "\x1bOM": "enter",
    "\x1bOk": "+",
    "\x1bOm": "-",
    "\x1bOj": "*",
    "\x1bOo": "/",
    "\x1bOn": ".",
    "\x1bOl": ",",
    **{f"\x1bO{chr(ord('p') + d)}": str(d) for d in range(10)},
    "\x1b[3~": "delete",
}


def split_keys(chunk: str) -> list[str]:
    """Key names in a chunk read from the terminal; unknown escape sequences are dropped."""
    keys: list[str] = []
    i = 0
    while i < len(chunk):
        ch = chunk[i]
        if ch == "\x1b":
            end = _escape_end(chunk, i)
            if end == i + 1:
                keys.append("esc")
            else:
                name = ESCAPE_SEQUENCES.get(chunk[i:end])
                if name:
                    keys.append(name)
                else:
                    log.debug("ignored escape sequence %r", chunk[i:end])
            i = end
            continue
        if ch == "\r" and chunk[i + 1 : i + 2] == "\n":
            i += 1  # "\r\n" from a pipe is one Enter
        if ch in CONTROL_KEYS:
            keys.append(CONTROL_KEYS[ch])
        elif ch.isprintable():
            keys.append(ch)
        i += 1
    return keys


def _escape_end(chunk: str, start: int) -> int:
    """Index just past the escape sequence starting at `start` (start + 1 for a lone Esc)."""
    if start + 1 >= len(chunk):
        return start + 1
    kind = chunk[start + 1]
    if kind == "O" and start + 2 < len(chunk):
        return start + 3
    if kind == "[":
        j = start + 2
        while j < len(chunk) and not ("@" <= chunk[j] <= "~"):
            j += 1
        return min(j + 1, len(chunk))
    return start + 1


class KeyboardReader:
    """Reads key names from a file descriptor (a terminal or a pipe) on its own thread."""

    def __init__(self, fd: int, on_key: Callable[[str], None]) -> None:
        self.fd = fd
        self.on_key = on_key
        self._wake_r, self._wake_w = os.pipe()
        self._saved: list | None = None
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    def start(self) -> KeyboardReader:
        if os.isatty(self.fd):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        self._thread.start()
        return self

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(2)
        self.restore()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def restore(self) -> None:
        """Put the terminal back as it was (also called on a crash, from the app)."""
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _run(self) -> None:
        decoder_buffer = b""
        while True:
            # Blocks without a timeout: an idle counter does not wake up.
            readable, _, _ = select.select([self.fd, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            data = os.read(self.fd, 64)
            if not data:
                log.info("keyboard input ended")
                return
            decoder_buffer += data
            try:
                text = decoder_buffer.decode("utf-8")
            except UnicodeDecodeError:
                if len(decoder_buffer) < 8:
                    continue  # half of a multi-byte character: wait for the rest
                text = decoder_buffer.decode("utf-8", errors="replace")
            decoder_buffer = b""
            for key in split_keys(text):
                self.on_key(key)


# The pins docs/counter.md suggests and docs/counter-wiring.svg draws (BCM numbers): each sits next
# to a ground pin, and none is one of the I2C, SPI or UART pins a HAT or a console cable might need.
# A config names its own pins (`gpio:`); these are only where the wiring diagram puts them.
SUGGESTED_GPIO: Mapping[str, int] = MappingProxyType({
    "next": 17, "recall": 27, "skip": 22, "finish": 23, "transfer": 24, "pause": 5, "resume": 6,
})  # fmt: skip


class PressFilter:
    """Turns one button's raw edges into presses, dropping the contact's bounce.

    A contact closes and opens several times within a few ms when pressed and when let go. A
    press counts only when the button has been quiet (no edge either way) for the bounce time
    before it, so the extra edges of a bouncing press and the bounce of a release are dropped,
    while a second press after the button was let go counts. A held button makes no edges, so it
    never repeats. The clock is passed in (tests drive it).
    """

    def __init__(self, bounce_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.bounce_s = bounce_s
        self.clock = clock
        self._last_edge: float | None = None

    def pressed(self) -> bool:
        """A closing edge: True when it is a new press."""
        now = self.clock()
        new = self._last_edge is None or now - self._last_edge >= self.bounce_s
        self._last_edge = now
        return new

    def released(self) -> None:
        """An opening edge: it only restarts the quiet time."""
        self._last_edge = self.clock()


class GpioButtons:
    """Physical buttons, each wired from a GPIO pin to ground (internal pull-up), one per action.

    The bounce is filtered here (PressFilter) rather than by the pin backend: gpiozero's backends
    differ (lgpio waits for a stable level, the mock pins ignore bounce_time), and this way a Pi,
    a PC with a GPIO board and the tests behave alike.
    """

    def __init__(
        self,
        pins: Mapping[str, int | str],
        on_action: Callable[[str], None],
        bounce_ms: int = 50,
        pin_factory: object | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from gpiozero import Button  # only here: a PC with a keypad does not need gpiozero

        self.buttons = []
        try:
            for action, pin in pins.items():
                # No hold_repeat and no when_held: a button held down sends its action once.
                button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
                presses = PressFilter(bounce_ms / 1000, clock)
                button.when_pressed = _caller(on_action, action, presses)
                button.when_released = presses.released
                self.buttons.append(button)
                log.info("GPIO %s -> %s", pin, action)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        for button in self.buttons:
            button.close()
        self.buttons = []


def _caller(
    on_action: Callable[[str], None], action: str, presses: PressFilter
) -> Callable[[], None]:
    # A function of no arguments: gpiozero would pass the device to one that takes an argument.
    def pressed() -> None:
        if presses.pressed():
            on_action(action)
        else:
            log.debug("GPIO %s: bounce ignored", action)

    return pressed
