"""The counter's link to the server: one Socket.IO connection on /counter and exactly-once presses.

A press gets a fresh request id, is emitted with an acknowledgement and waited for. If the
connection drops (or the answer does not come in time) the SAME request id is sent again once the
link is back, so the server applies the press once. Any other press while disconnected or while a
press is in flight is refused at once: nothing is queued to fire later.

The connection is supervised here rather than by python-socketio's own reconnection, because that
one does not retry a namespace the server refused and cannot tell us which attempt an event
belongs to. Every attempt gets a fresh socketio.Client and a generation number; events from an
older generation are ignored.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import socketio
from socketio import exceptions as sio_errors

from counter_client.state import CounterState, apply_event, from_snapshot
import panggil_protocol as protocol
from panggil_common.version import version
from panggil_protocol import NS_COUNTER

log = logging.getLogger(__name__)

# Counter breaks (issue 13): `pause` {reason, until?} and `resume`, exactly-once like the others.
PAUSE = protocol.PAUSE
RESUME = protocol.RESUME
COMMANDS = frozenset(protocol.COUNTER_COMMANDS)

# Codes a refused connection can carry (docs/protocol.md, "/counter" auth).
REFUSAL_CODES = ("invalid-token", "unknown-counter", "bad-request")


@dataclass(frozen=True)
class PressResult:
    """How one press ended. `error` is a protocol code or one of the client's own:
    `debounced` (ignored repeat), `disconnected`, `busy` (another press in flight),
    `not-delivered` (the link stayed down for the whole retry window)."""

    command: str
    ok: bool
    error: str | None = None
    message: str | None = None
    result: Mapping[str, Any] | None = None
    replayed: bool = False
    attempts: int = 0
    request_id: str | None = None


# A server found by mDNS that fails this many connections in a row is looked for again.
REDISCOVER_AFTER_FAILURES = 5


class CounterClient:
    """Keeps /counter connected, folds events into a CounterState, and sends presses."""

    def __init__(
        self,
        server_url: str,
        number: int,
        token: str,
        *,
        ack_timeout: float = 4.0,
        retry_window: float = 20.0,
        debounce_ms: int = 300,
        reconnect_min: float = 0.25,
        reconnect_max: float = 5.0,
        on_change: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        hall: str = "",
        discovery_interfaces: tuple[str, ...] = (),
    ) -> None:
        self.server_url = server_url  # empty: found on the LAN by mDNS before connecting
        self.hall = hall
        self.discovery_interfaces = discovery_interfaces
        self.number = number
        self.token = token
        self.ack_timeout = ack_timeout
        self.retry_window = retry_window
        self.debounce_ms = debounce_ms
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.on_change = on_change or (lambda: None)
        self.clock = clock

        # Read by the view from other threads; replaced whole, never mutated.
        self.state = CounterState()
        self.connection = "connecting"  # connecting | connected | disconnected | refused
        self.refusal: str | None = None  # the error code of the last refused connection
        self.pending: str | None = None  # the command in flight
        self.retrying = False  # the command in flight lost its link and waits to be resent

        self._lock = threading.RLock()
        self._emit_lock = threading.Lock()  # python-socketio's emit is not thread safe
        self._connected = threading.Event()
        self._ready = threading.Event()  # connected and a snapshot received
        self._lost = threading.Event()
        self._stopping = threading.Event()
        self._sio: socketio.Client | None = None
        self._generation = 0
        self._snapshot_generation = -1
        self._waiters: set[threading.Event] = set()
        self._last_press: dict[str, float] = {}
        self._in_flight = False
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background, and reconnect for ever until stop()."""
        self._thread = threading.Thread(target=self._supervise, name="counter-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            sio = self._sio
            self._mark_lost(self._generation)
        if sio is not None:
            # python-engineio can wait a whole ping interval (~30 s) for its write loop when the
            # close races with it: the program must still end at once (systemd, Ctrl-C).
            closing = threading.Thread(target=_quietly_disconnect, args=(sio,), daemon=True)
            closing.start()
            closing.join(STOP_WAIT_SECONDS)
        if self._thread is not None:
            self._thread.join(STOP_WAIT_SECONDS)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until connected with a snapshot in hand (for tests and start-up)."""
        return self._ready.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- presses ---------------------------------------------------------------------------------

    def press(self, command: str, **args: Any) -> PressResult:
        """Send one officer press and wait for its outcome (blocks up to the retry window)."""
        if command not in COMMANDS:
            raise ValueError(f"not a counter command: {command!r}")
        key = command + repr(sorted(args.items()))
        now = self.clock()
        with self._lock:
            last = self._last_press.get(key)
            # Every repeat restarts the window, so a held key or a bouncing contact fires once.
            self._last_press[key] = now
            if last is not None and (now - last) * 1000 < self.debounce_ms:
                log.debug("press %s ignored: repeat within %d ms", command, self.debounce_ms)
                return PressResult(command, False, "debounced")
            if not self._connected.is_set():
                log.warning("press %s refused: not connected", command)
                return PressResult(command, False, "disconnected")
            if self._in_flight:
                log.warning("press %s refused: %s still in flight", command, self.pending)
                return PressResult(command, False, "busy")
            self._in_flight = True
            self.pending = command
            self.retrying = False
        self._notify()
        try:
            return self._deliver(command, {"request_id": uuid.uuid4().hex, **args})
        finally:
            with self._lock:
                self._in_flight = False
                self.pending = None
                self.retrying = False
            self._notify()

    def _deliver(self, command: str, data: dict) -> PressResult:
        """Emit until answered; after a drop, the same request id again once reconnected."""
        deadline = self.clock() + self.retry_window
        attempts = 0
        while True:
            attempts += 1
            reply, generation = self._emit_and_wait(command, data)
            if reply is not None:
                return self._outcome(command, data["request_id"], reply, attempts)
            # No answer: either the link dropped or the server went quiet on a link that looks
            # alive. Renew the link in the second case so that the retry has a path.
            log.warning(
                "press %s (%s) got no answer; will resend it once reconnected",
                command,
                data["request_id"],
            )
            self._drop(generation)
            with self._lock:
                self.retrying = True
            self._notify()
            remaining = deadline - self.clock()
            if remaining <= 0 or not self._wait_connected(remaining):
                log.error("press %s (%s) not delivered: link down for %.0f s", command, data["request_id"],
                          self.retry_window)  # fmt: skip
                return PressResult(
                    command,
                    False,
                    "not-delivered",
                    attempts=attempts,
                    request_id=data["request_id"],
                )

    def _wait_connected(self, timeout: float) -> bool:
        end = self.clock() + timeout
        while not self._stopping.is_set():
            if self._connected.wait(min(0.2, max(0.0, end - self.clock()))):
                return True
            if self.clock() >= end:
                return False
        return False

    def _emit_and_wait(self, command: str, data: dict) -> tuple[Any, int]:
        done = threading.Event()
        box: list[Any] = []

        def ack(*args: Any) -> None:
            box.append(args[0] if args else None)
            done.set()

        with self._lock:
            generation, sio = self._generation, self._sio
            if sio is None or not self._connected.is_set():
                return None, generation
            self._waiters.add(done)
        try:
            with self._emit_lock:
                sio.emit(command, data, namespace=NS_COUNTER, callback=ack)
            done.wait(self.ack_timeout)
        except sio_errors.SocketIOError as exc:
            log.warning("emit %s failed: %s", command, exc)
        finally:
            with self._lock:
                self._waiters.discard(done)
        if not box:
            return None, generation
        reply = box[0]
        return (
            reply if isinstance(reply, dict) else {"ok": False, "error": "internal-error"}
        ), generation

    @staticmethod
    def _outcome(command: str, request_id: str, reply: dict, attempts: int) -> PressResult:
        if reply.get("ok"):
            replayed = bool(reply.get("replayed"))
            log.info(
                "press %s (%s) applied%s", command, request_id, " (replayed)" if replayed else ""
            )
            return PressResult(command, True, result=reply.get("result") or {}, replayed=replayed,
                               attempts=attempts, request_id=request_id)  # fmt: skip
        code = str(reply.get("error") or "internal-error")
        log.info("press %s (%s) refused by the server: %s", command, request_id, code)
        return PressResult(command, False, code, message=reply.get("message"), attempts=attempts,
                           request_id=request_id)  # fmt: skip

    # --- the connection --------------------------------------------------------------------------

    def _find_server(self) -> bool:
        """No URL set: look for the server on the LAN (mDNS) until found; False when stopped."""
        from panggil_common import discovery

        def status(kind: str, detail: object) -> None:
            with self._lock:
                self.connection = "searching" if kind != discovery.FOUND else "connecting"
            self._notify()

        try:
            found = discovery.find_server(
                hall=self.hall,
                interfaces=self.discovery_interfaces,
                backoff_max=max(self.reconnect_max, 5.0),
                on_status=status,
                stop=self._stopping,
            )
        except discovery.DiscoveryStopped:
            return False
        self.server_url = found.url
        log.info("counter %d uses the server %s found on the LAN", self.number, found.describe())
        self._notify()
        return True

    def _supervise(self) -> None:
        discovered = not self.server_url
        if discovered and not self._find_server():
            return
        failures = 0
        delay = self.reconnect_min
        while not self._stopping.is_set():
            with self._lock:
                self._lost.clear()
                self._generation += 1
                generation = self._generation
                sio = self._sio = self._new_socket(generation)
            try:
                sio.connect(
                    self.server_url,
                    auth={"counter": self.number, "token": self.token, "version": version()},
                    namespaces=[NS_COUNTER],
                    transports=["websocket"],
                    wait_timeout=max(self.ack_timeout, 1.0),
                )
            except (sio_errors.ConnectionError, ValueError, OSError) as exc:
                with self._lock:
                    if generation == self._generation:
                        self.connection = "refused" if self.refusal else "disconnected"
                log.info("connection to %s failed (%s); retrying in %.1f s", self.server_url,
                         self.refusal or exc, delay)  # fmt: skip
                self._notify()
                failures += 1
                if discovered and failures >= REDISCOVER_AFTER_FAILURES and not self.refusal:
                    # The server found on the LAN is gone: it may have moved (a new address).
                    log.warning("server %s unreachable %d times; looking for it on the LAN again",
                                self.server_url, failures)  # fmt: skip
                    if not self._find_server():
                        return
                    failures, delay = 0, self.reconnect_min
                    continue
                # Jitter keeps sixty counters from reconnecting in lock-step after a server restart.
                self._stopping.wait(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.reconnect_max)
                continue
            failures = 0
            delay = self.reconnect_min
            self._lost.wait()
            _quietly_disconnect(sio)

    def _new_socket(self, generation: int) -> socketio.Client:
        sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)

        def current() -> bool:
            return generation == self._generation and not self._stopping.is_set()

        @sio.on("connect", namespace=NS_COUNTER)
        def on_connect() -> None:
            with self._lock:
                if not current():
                    return
                self.connection = "connected"
                self.refusal = None
                self._connected.set()
                if self._snapshot_generation == generation:
                    self._ready.set()
            log.info("counter %d connected to %s", self.number, self.server_url)
            self._notify()

        @sio.on("connect_error", namespace=NS_COUNTER)
        def on_connect_error(data: Any = None) -> None:
            code = _refusal_code(data)
            with self._lock:
                changed = current() and code != self.refusal
                if current():
                    self.refusal = code
            if code and changed:  # once per change: the retry every few seconds is not news
                log.error("server refused counter %d: %s", self.number, code)

        @sio.on("disconnect", namespace=NS_COUNTER)
        def on_disconnect(*_reason: Any) -> None:
            with self._lock:
                lost = self._mark_lost(generation)
            if lost:
                log.warning("counter %d disconnected from %s", self.number, self.server_url)
                self._notify()

        @sio.on(protocol.SNAPSHOT, namespace=NS_COUNTER)
        def on_snapshot(snapshot: Any) -> None:
            if not isinstance(snapshot, dict):
                return
            try:
                state = from_snapshot(snapshot)
            except (KeyError, TypeError, ValueError):
                log.exception("bad snapshot ignored")
                return
            with self._lock:
                if not current():
                    return
                self.state = state
                self._snapshot_generation = generation
                # The server sends the snapshot from its connect handler, so it can arrive just
                # before the namespace is confirmed: ready needs both.
                if self._connected.is_set():
                    self._ready.set()
            self._notify()

        def on_event(event: Any) -> None:
            if not isinstance(event, dict):
                return
            with self._lock:
                if not current():
                    return
                try:
                    self.state, resync = apply_event(self.state, event)
                except (KeyError, TypeError, ValueError, AttributeError):
                    # A malformed event must not kill the socket's reader: read everything again.
                    log.exception("bad %s event; resyncing", event.get("event"))
                    resync = True
            if resync:
                log.info("resync after %s (seq %s)", event.get("event"), event.get("seq"))
                self._emit_quietly(sio, protocol.GET_SNAPSHOT)
            self._notify()

        for name in protocol.BROADCAST_EVENTS:
            sio.on(name, on_event, namespace=NS_COUNTER)
        return sio

    def _mark_lost(self, generation: int) -> bool:
        """Record that connection `generation` is gone (call with the lock held)."""
        if generation != self._generation or self._lost.is_set():
            return False
        self._connected.clear()
        self._ready.clear()
        if self.connection == "connected":
            self.connection = "disconnected"
        for waiter in self._waiters:
            waiter.set()  # a press waiting for its answer stops waiting at once
        self._lost.set()
        return True

    def _drop(self, generation: int) -> None:
        """Give up on connection `generation` (it stopped answering); the supervisor renews it."""
        with self._lock:
            sio = self._sio if generation == self._generation else None
            lost = self._mark_lost(generation)
        if lost and sio is not None:
            # Disconnecting from a frozen server can block on the socket close: not on this thread.
            threading.Thread(target=_quietly_disconnect, args=(sio,), daemon=True).start()
            self._notify()

    def _emit_quietly(self, sio: socketio.Client, event: str) -> None:
        try:
            with self._emit_lock:
                sio.emit(event, {}, namespace=NS_COUNTER)
        except sio_errors.SocketIOError as exc:
            log.warning("emit %s failed: %s", event, exc)

    def _notify(self) -> None:
        try:
            self.on_change()
        except Exception:  # the view must not break the link
            log.exception("change callback failed")


def _refusal_code(data: Any) -> str | None:
    """The error code in a connect_error payload, if the server refused us (not a network error)."""
    if isinstance(data, dict):
        inner = data.get("data")
        code = inner.get("error") if isinstance(inner, dict) else data.get("message")
        return code if code in REFUSAL_CODES else None
    return None


STOP_WAIT_SECONDS = 3.0


def _quietly_disconnect(sio: socketio.Client) -> None:
    try:
        sio.disconnect()
    except Exception:  # the link is being thrown away; its errors do not matter
        log.debug("disconnect of an old link failed", exc_info=True)
