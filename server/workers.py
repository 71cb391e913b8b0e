"""Several server processes on a Redis message queue: one writer and its fan-out workers.

With `server.message_queue` set, every Socket.IO emit of the writer (`python -m server`) goes
through Redis to every process, and `python -m server --worker` starts a fan-out worker on the
same config and database: it serves only the `/display` and `/visitor` namespaces (and
`GET /api/health`), so the hall's TVs, monitors and phones spread over several processes while
every queue change still goes through the writer's one lock (server/hub.py).

A worker never writes. Its hall is a read-only replica (`ReplicaHub`): loaded from the SQLite
file, reloaded when `PRAGMA data_version` says another connection committed, checked before a
snapshot or a phone's status is answered. The writer broadcasts only after its commit, so a
snapshot a worker builds is never older than an event its client has already received.

Phones are followed per process: the writer cannot see the rooms of another process, so in this
mode it emits every ticket's events to the ticket's room and every summary to the service's room
whoever follows them (server/visitor_events.py), and `QueueManager` moves a transferred ticket's
phones to the new service's room on whichever process holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import socketio as python_socketio
from flask import Blueprint, Flask, current_app, jsonify

from server import credentials, events, i18n, protocol, visitor_events
from server.config import Config
from server.extensions import socketio
from server.hub import Hub, utc_now
from server.protocol import NS_VISITOR, PanggilError
from server.storage import ReadOnlyStorage

log = logging.getLogger(__name__)

CHANNEL = "panggil"  # the Redis pub/sub channel every process of a hall shares
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_keepalive": True}
QUEUE_KEY = "panggil_queue"  # app.extensions: the QueueManager, when there is one


class QueueManager(python_socketio.RedisManager):
    """Flask-SocketIO's Redis manager, plus moving a transferred ticket's phones in every process.

    `on_move(sid, service)` (the Feed's) is told of each phone moved here. When Redis is down a
    publish fails after logging it (python-socketio's): the press is committed and answered anyway.
    """

    def __init__(self, url: str, on_move: Callable[[str, str], None] | None = None) -> None:
        super().__init__(url, channel=CHANNEL, redis_options=dict(REDIS_OPTIONS))
        self.on_move = on_move

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None,
             to=None, **kwargs):  # fmt: skip
        """An emit to one client of this process (a snapshot, a status) stays local: publishing it
        would only make every other process decode it and find no such client."""
        room = to or room
        ns = namespace or "/"
        if (
            isinstance(room, str)
            and callback is None
            and (self.is_connected(room, ns) or self.is_pre_connected(room, ns))
        ):
            kwargs["ignore_queue"] = True
        return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                            callback=callback, **kwargs)  # fmt: skip

    def ping(self) -> bool:
        """Whether Redis answers now (for /api/health)."""
        try:
            client = self.redis
            if client is None:
                import redis

                client = redis.Redis.from_url(self.redis_url, **REDIS_OPTIONS)
            client.ping()
            return True
        except Exception:
            return False

    def _handle_emit(self, message):
        if (
            message.get("event") == protocol.TICKET_TRANSFERRED
            and message.get("namespace") == NS_VISITOR
            and str(message.get("room") or "").startswith("ticket:")
        ):
            try:
                self._move_phones(message)
            except Exception:  # the event itself must still reach the phones
                log.exception("moving the phones of %s failed", message.get("room"))
        super()._handle_emit(message)

    def _move_phones(self, message: dict) -> None:
        """The phones of the ticket's room, here, leave the old service's room for the new one."""
        data = message.get("data")
        payload = data[0] if isinstance(data, list) and data else data
        old, new = payload.get("from_service"), payload.get("to_service")
        if not isinstance(old, str) or not isinstance(new, str):
            return
        for sid, _eio_sid in list(self.get_participants(NS_VISITOR, message["room"])):
            # The basic (local) moves: every process does its own; publishing them is not needed.
            self.basic_leave_room(sid, NS_VISITOR, visitor_events.service_room(old))
            self.basic_enter_room(sid, NS_VISITOR, visitor_events.service_room(new))
            if self.on_move is not None:
                self.on_move(sid, new)


def queue_manager(config: Config) -> QueueManager | None:
    """The message queue's client manager, or None for one process (no Redis)."""
    url = config.server.message_queue
    return QueueManager(url) if url else None


class ReplicaHub(Hub):
    """A worker's read-only copy of the hall: the writer's state, reloaded when the file changes.

    Every command and write is refused with `writer-only`; nothing ticks, rolls the day, speaks
    or backs up here.
    """

    replica = True

    def __init__(self, storage: ReadOnlyStorage, **kwargs: Any) -> None:
        super().__init__(storage, **kwargs)
        self.storage: ReadOnlyStorage = storage
        self.version: int | None = None
        self.reloads = 0

    def refresh(self) -> bool:
        """Reload the state if another connection committed since the last load; True if it did."""
        with self.lock:
            with self.storage.reading():
                day = self.storage.current_day()  # the first read fixes what this load sees
                version = self.storage.data_version()
                if version == self.version:
                    return False
                self.load_state(day or self.today())
            self.version = version
            self.reloads += 1
            return True

    def load(self) -> None:
        self.refresh()

    def tick(self) -> None:
        pass  # the writer rolls the day and tells the screens

    def snapshot(self, counter: int | None = None) -> dict:
        with self.lock:
            self.refresh()
            return super().snapshot(counter)

    def ticket_status(self, day: str, number: str) -> dict:
        with self.lock:
            self.refresh()
            return super().ticket_status(day, number)

    def _apply(self, step, request=None) -> dict:
        raise PanggilError("writer-only")

    def write(self, work: Callable[[Any], Any]) -> Any:
        raise PanggilError("writer-only")

    def change_hall(self, what, write, detail=None) -> int:
        raise PanggilError("writer-only")

    def close_day(self, also=None) -> dict:
        raise PanggilError("writer-only")


health_bp = Blueprint("worker", __name__, url_prefix="/api")


@health_bp.get("/health")
def worker_health():
    """The worker's health: its role, its replica's seq, its connections, the message queue."""
    hub: ReplicaHub = current_app.extensions["panggil"]
    manager: QueueManager = current_app.extensions[QUEUE_KEY]
    with hub.lock:
        hub.refresh()
        seq, day = hub.seq, hub.hall.day
    up = manager.ping()
    return jsonify(ok=up, role="worker", seq=seq, day=day, displays=len(hub.displays),
                   phones=len(visitor_events.feed().phones),
                   message_queue="up" if up else "down"), 200 if up else 503  # fmt: skip


def queue_health(app: Flask) -> dict:
    """The writer's /api/health fields about the message queue (none in one-process mode)."""
    manager: QueueManager | None = app.extensions.get(QUEUE_KEY)
    if manager is None:
        return {}
    return {"message_queue": "up" if manager.ping() else "down"}


def create_worker_app(config: Config, *, clock: Callable[[], datetime] = utc_now) -> Flask:
    """A fan-out worker: /display and /visitor from a read-only replica, events from Redis."""
    manager = queue_manager(config)
    if manager is None:
        raise WorkerError(
            "config error: server.message_queue: a worker (--worker) needs the Redis message "
            "queue the writer uses, e.g. redis://127.0.0.1:6379/0"
        )
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.server.secret_key or credentials.load_secret_key(config.data_dir),
        MAX_CONTENT_LENGTH=config.server.max_payload_bytes,
        PANGGIL_CONFIG=config,
    )
    app.json.ensure_ascii = False
    hub = ReplicaHub(
        ReadOnlyStorage(config.path(config.server.database)),
        timezone_name=config.hall.timezone,
        day_starts_at=config.hall.day_start_minutes,
        enforce_hours=config.hall.enforce_hours,
        require_officer=config.hall.require_officer,
        clock=clock,
    )
    hub.refresh()
    app.extensions["panggil"] = hub
    app.extensions[QUEUE_KEY] = manager
    i18n.init_app(app)
    app.register_blueprint(health_bp)
    socketio.init_app(
        app,
        async_mode=config.server.async_mode,
        max_http_buffer_size=config.server.max_payload_bytes,
        serializer=events.SafePacket,
        json=events.SafeJSON,
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
        client_manager=manager,
    )
    most_phones = max(0, config.server.max_connections - config.server.device_reserve)
    phones = visitor_events.init_app(
        app, config.server.visitor_summary_s, timers=False, most_phones=most_phones
    )
    manager.on_move = phones.moved
    log.info("worker ready: day %s, seq %d", hub.hall.day, hub.seq)
    return app


class WorkerError(Exception):
    """A worker cannot start (the config lacks the message queue); the message names the key."""
