"""The application factory: create_app(config) wires storage, the hub, HTTP and sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, jsonify

from server import api, events
from server.config import Config
from server.extensions import socketio
from server.service import Hub, utc_now
from server.storage import Storage

log = logging.getLogger(__name__)

TICK_SECONDS = 5


def create_app(
    config: Config,
    *,
    clock: Callable[[], datetime] = utc_now,
    announcer: object | None = None,
    start_ticker: bool = True,
) -> Flask:
    """Build the server for one hall; `clock` and `announcer` are passed in by tests."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.server.secret_key,
        MAX_CONTENT_LENGTH=config.server.max_payload_bytes,
        JSON_SORT_KEYS=False,
        PANGGIL_CONFIG=config,
        PANGGIL_AUDIO_DIR=str(config.path(config.server.audio_dir)),
    )
    app.json.ensure_ascii = False
    storage = Storage(config.path(config.server.database))
    hub = Hub(
        storage,
        timezone_name=config.hall.timezone,
        day_starts_at=config.hall.day_start_minutes,
        enforce_hours=config.hall.enforce_hours,
        clock=clock,
        broadcast=events.broadcast,
        announcer=announcer,
    )
    hub.seed(config)
    hub.load()
    app.extensions["panggil"] = hub

    app.register_blueprint(api.bp)
    api.register_error_handlers(app)

    @app.get("/")
    def index():
        return jsonify(ok=True, name="Panggil", hall=hub.hall_info()["name"], api="/api/snapshot")

    socketio.init_app(
        app,
        async_mode=config.server.async_mode,
        max_http_buffer_size=config.server.max_payload_bytes,
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
    )
    if start_ticker:
        socketio.start_background_task(_tick_forever, hub)
    return app


def _tick_forever(hub: Hub) -> None:
    """Close the day at its boundary even when nobody presses anything."""
    while True:
        socketio.sleep(TICK_SECONDS)
        try:
            hub.tick()
        except Exception:
            log.exception("day tick failed; will retry")
