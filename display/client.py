"""The display's Socket.IO connection to the server's `/display` namespace.

The client runs in python-socketio's own threads and only hands what arrives to `post` (in the
app, a `pygame.event.post`); all state lives in the main loop. It connects forever with back-off:
a Raspberry Pi often boots before the server, and python-socketio's own reconnection only starts
after a first successful connection.
"""

from __future__ import annotations

import logging
import random
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import socketio

import panggil_protocol as protocol
from panggil_common.version import version

log = logging.getLogger(__name__)

NAMESPACE = protocol.NS_DISPLAY
GET_SNAPSHOT = protocol.GET_SNAPSHOT

# What `post(kind, data)` receives.
CONNECTED = "connected"  # data: None
DISCONNECTED = "disconnected"  # data: reason text
SNAPSHOT = protocol.SNAPSHOT  # data: the snapshot object
EVENT = "event"  # data: (event name, payload)


class DisplayClient:
    """Keeps one connection to the server and posts every message it receives."""

    def __init__(
        self,
        server_url: str,
        name: str,
        post: Callable[[str, Any], None],
        *,
        reconnect_delay_max: float = 15.0,
    ) -> None:
        self.server_url = server_url
        self.name = name
        self.post = post
        self.reconnect_delay_max = reconnect_delay_max
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.sio = socketio.Client(
            reconnection=True,
            reconnection_attempts=0,  # forever
            reconnection_delay=1,
            reconnection_delay_max=reconnect_delay_max,
            randomization_factor=0.5,
            logger=False,
            handle_sigint=False,
        )
        self.sio.on("connect", self._on_connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        # One handler takes every event: unknown names go to the screen model, which reports them.
        self.sio.on("*", self._on_event, namespace=NAMESPACE)

    @property
    def connected(self) -> bool:
        return self.sio.connected

    def start(self) -> DisplayClient:
        """Connect in the background (retrying until it works) and return at once."""
        self._thread = threading.Thread(
            target=self._connect_forever, name="display-connect", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        # Without this, a disconnect the server completes first looks like a dropped connection
        # to python-socketio, which then reconnects by itself.
        self.sio.reconnection = False
        try:
            # shutdown() also ends a reconnection in progress, which disconnect() leaves running.
            self.sio.shutdown()
        except Exception:
            log.debug("disconnect failed", exc_info=True)

    def request_snapshot(self) -> bool:
        """Ask for a fresh snapshot (after a seq gap); it arrives as a `snapshot` event."""
        if not self.sio.connected:
            return False
        try:
            self.sio.emit(GET_SNAPSHOT, namespace=NAMESPACE, callback=self._on_snapshot_ack)
        except Exception as exc:  # noqa: BLE001 - a dropped connection resyncs on reconnect
            log.warning("get_snapshot not sent: %s", exc)
            return False
        return True

    # --- socket threads: translate and post, nothing else -----------------------------------

    def _connect_forever(self) -> None:
        delay = 1.0
        while not self._stopped.is_set():
            try:
                self.sio.connect(
                    view_lane(self.server_url),
                    auth={"display": self.name, "version": version()},
                    namespaces=[NAMESPACE],
                    wait_timeout=5,
                )
                return  # from here python-socketio reconnects by itself
            except socketio.exceptions.ConnectionError as exc:
                log.info(
                    "server %s not reachable (%s); retrying in %.0f s", self.server_url, exc, delay
                )
                self.post(DISCONNECTED, str(exc))
            except Exception:
                log.exception("unexpected error connecting to %s", self.server_url)
            if self._stopped.wait(delay * random.uniform(0.75, 1.25)):
                return
            delay = min(delay * 2, self.reconnect_delay_max)

    def _on_connect(self) -> None:
        log.info("connected to %s as %r", self.server_url, self.name)
        self.post(CONNECTED, None)

    def _on_disconnect(self, reason: Any = None) -> None:
        log.warning("disconnected from %s (%s)", self.server_url, reason)
        self.post(DISCONNECTED, str(reason))

    def _on_connect_error(self, data: Any = None) -> None:
        log.warning("connection refused by %s: %s", self.server_url, data)

    def _on_event(self, event: str, *args: Any) -> None:
        data = args[0] if args else None
        if event == SNAPSHOT:
            self.post(SNAPSHOT, data)
        elif event == protocol.EVENTS:
            # One change's events in one frame: each as if it had come alone, in order.
            for one in protocol.unbatch(data):
                self.post(EVENT, (one["event"], one))
        else:
            self.post(EVENT, (event, data))

    def _on_snapshot_ack(self, *args: Any) -> None:
        data = args[0] if args else None
        # The snapshot itself follows as a `snapshot` event, ordered with the broadcasts; the
        # acknowledgement only says {"ok": true, "seq": n}. An older server answered with the
        # snapshot in the acknowledgement: take that too.
        if isinstance(data, dict) and "counters" in data:
            self.post(SNAPSHOT, data)
        elif not (isinstance(data, dict) and data.get("ok")):
            log.warning("get_snapshot refused: %s", data)


def view_lane(url: str) -> str:
    """The server URL with `lane=view`: a reverse proxy sends watching clients to the fan-out
    workers (docs/install.md "A big hall"); the server itself ignores it."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    if ("lane", "view") not in query:
        query.append(("lane", "view"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
