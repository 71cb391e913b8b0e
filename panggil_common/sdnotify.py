"""systemd's notify protocol, for the Pi parts' units (Type=notify, WatchdogSec=).

A datagram to $NOTIFY_SOCKET: `READY=1` once the program serves, `WATCHDOG=1` from its main loop
at least every half WatchdogSec, so that systemd restarts a display or counter client whose loop
hangs (not only one that exits). Without NOTIFY_SOCKET (a terminal, the tests) nothing is sent.
Standard library only: the `sdnotify` package would add a dependency for these few lines.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def send(message: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send one notification; False when there is no socket to send it to (or it failed)."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("systemd notification %r not sent: %s", message, exc)
        return False
    return True


class Watchdog:
    """READY=1 once, then WATCHDOG=1 at most every half of systemd's WATCHDOG_USEC."""

    def __init__(
        self,
        environ: Mapping[str, str] = os.environ,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.environ = environ
        self.clock = clock
        usec = environ.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        self._last = float("-inf")

    def ready(self) -> None:
        send("READY=1", self.environ)

    def alive(self) -> None:
        """Call from the main loop as often as it likes; sends only when due."""
        if self.interval is None:
            return
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            send("WATCHDOG=1", self.environ)
