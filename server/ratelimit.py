"""Rate limits for what anyone on the hall's Wi-Fi can do: take tickets and try passwords.

In memory, as the server is one process per database (server/lock.py). Sliding windows keyed by
address, account or both; the number of keys is bounded so that a flood of made-up names cannot
grow the server's memory. Flask-Limiter was weighed: its fixed per-route limits cannot express
"an account is locked only for addresses it never logged in from", and one small class serves
both limits here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator

from flask import current_app, request

from server.protocol import PanggilError

MAX_KEYS = 20_000


class SlidingWindow:
    """Counts hits per key within the last `window` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:  # fmt: skip
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        times = self._hits.get(key)
        if times is None:
            return deque()
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._hits[key]
        return times

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._recent(key))

    def add(self, key: str) -> None:
        with self._lock:
            times = self._recent(key)
            if key not in self._hits:
                self._hits[key] = times
                while len(self._hits) > self.max_keys:  # the oldest key goes first
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            times.append(self.clock())

    def retry_after(self, key: str) -> int:
        """Seconds until the oldest hit of this key leaves the window."""
        with self._lock:
            times = self._recent(key)
            if not times:
                return 0
            return max(1, math.ceil(times[0] + self.window - self.clock()))

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def undo(self, key: str) -> None:
        """Take back the newest hit of this key."""
        with self._lock:
            times = self._hits.get(key)
            if times:
                times.pop()


class LoginLimiter:
    """Failed logins per address, per account from one address, and per account overall.

    The overall limit stops a guesser who changes address, yet it cannot lock the real user out:
    it applies only to addresses that have not logged in to that account since the server started.
    """

    def __init__(self, per_address: int = 10, per_account: int = 5, per_user: int = 50,
                 window: float = 300, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limits = (per_address, per_account, per_user)
        self.failures = SlidingWindow(window, clock)
        self._trusted: OrderedDict[str, set[str]] = OrderedDict()

    @staticmethod
    def _keys(address: str, username: str) -> tuple[str, str, str]:
        user = username.strip().lower()
        return f"ip:{address}", f"acct:{user}@{address}", f"user:{user}"

    def blocked(self, address: str, username: str) -> int:
        """Seconds to wait before this address may try this account again (0: it may now)."""
        by_address, by_account, by_user = self._keys(address, username)
        per_address, per_account, per_user = self.limits
        waits = [self.failures.retry_after(k) for k, limit in
                 ((by_address, per_address), (by_account, per_account)) if self.failures.count(k) >= limit]  # fmt: skip
        trusted = address in self._trusted.get(by_user, ())
        if not trusted and self.failures.count(by_user) >= per_user:
            waits.append(self.failures.retry_after(by_user))
        return max(waits, default=0)

    def fail(self, address: str, username: str) -> None:
        for key in self._keys(address, username):
            self.failures.add(key)

    def succeed(self, address: str, username: str) -> None:
        _, by_account, by_user = self._keys(address, username)
        self.failures.clear(by_account)
        self._trusted.setdefault(by_user, set()).add(address)
        self._trusted.move_to_end(by_user)
        while len(self._trusted) > 1000:
            self._trusted.popitem(last=False)


class TicketLimiter:
    """Tickets per client address; the hall's kiosks can be trusted by address or network."""

    def __init__(self, limit: int, window: float, trusted: Iterable[str] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit = limit
        self.issued = SlidingWindow(window, clock)
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def take(self, address: str) -> None:
        """Count one ticket for this address, or raise rate-limited (nothing counted then)."""
        if self._is_trusted(address):
            return
        key = f"ip:{address}"
        if self.issued.count(key) >= self.limit:
            wait = self.issued.retry_after(key)
            minutes = max(1, math.ceil(wait / 60))
            raise PanggilError(
                "rate-limited",
                f"Terlalu banyak nomor antrean diambil dari perangkat ini. Coba lagi dalam {minutes} menit"
                " atau ambil nomor di anjungan.",
                retry_after=wait,
            )
        self.issued.add(key)

    def give_back(self, address: str) -> None:
        """A ticket that was refused after all (closed service, quota) does not count."""
        if not self._is_trusted(address):
            self.issued.undo(f"ip:{address}")


class PinLimiter:
    """Wrong keypad PINs per counter and per officer number: a 4-digit PIN must not be guessable
    by pressing through it at a desk. A refusal is `rate-limited`, checked before the PIN is."""

    def __init__(self, per_counter: int = 5, per_officer: int = 10, window: float = 300,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limits = (per_counter, per_officer)
        self.failures = SlidingWindow(window, clock)

    @staticmethod
    def _keys(counter: int, officer: int) -> tuple[str, str]:
        return f"counter:{counter}", f"officer:{officer}"

    def check(self, counter: int, officer: int) -> None:
        """Raise rate-limited when this counter or this officer number had too many wrong PINs."""
        waits = [self.failures.retry_after(key) for key, limit in zip(self._keys(counter, officer), self.limits)
                 if self.failures.count(key) >= limit]  # fmt: skip
        if waits:
            wait = max(waits)
            minutes = max(1, math.ceil(wait / 60))
            raise PanggilError(
                "rate-limited",
                f"Terlalu banyak PIN salah. Coba lagi dalam {minutes} menit, atau masuk lewat konsol.",
                retry_after=wait,
            )

    def fail(self, counter: int, officer: int) -> None:
        for key in self._keys(counter, officer):
            self.failures.add(key)

    def succeed(self, counter: int, officer: int) -> None:
        for key in self._keys(counter, officer):
            self.failures.clear(key)


def init_app(app, config) -> None:
    """The app's limiters, from the config's `limits` section."""
    app.extensions["panggil_limits"] = {
        "login": LoginLimiter(config.login_failures_per_address, config.login_failures_per_account,
                              config.login_failures_per_user, config.login_window_s),
        "tickets": TicketLimiter(config.tickets_per_address, config.tickets_window_s,
                                 config.trusted_addresses),
        "pins": PinLimiter(config.pin_failures_per_counter, config.pin_failures_per_officer,
                           config.pin_window_s),
    }  # fmt: skip


def limits() -> dict:
    return current_app.extensions["panggil_limits"]


def client_address() -> str:
    return request.remote_addr or "unknown"


@contextlib.contextmanager
def ticket_slot() -> Iterator[None]:
    """Count a ticket for this request's address, or raise rate-limited (HTTP 429).

    A ticket refused inside the block (closed service, quota, ...) gives its slot back.
    """
    tickets, address = limits()["tickets"], client_address()
    tickets.take(address)
    try:
        yield
    except PanggilError:
        tickets.give_back(address)
        raise
