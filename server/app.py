"""The application factory: create_app(config) wires storage, the hub, HTTP and sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, jsonify, render_template, request, send_from_directory
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from server import (
    api,
    credentials,
    events,
    i18n,
    protocol,
    ratelimit,
    security,
    visitor_events,
    webhooks,
)
from server.audio import audio_bp
from server.config import Config
from server.extensions import socketio
from server.passwords import check_password
from server.hub import Hub, utc_now
from server.storage import Storage
from server.voice import PREPARE_AFTER_S, Announcer, validate_voice_settings
from server import workers  # several processes on a message queue (server.message_queue)
from server import notice_sender  # outbound SMS/WhatsApp notices (server/notices.py)

log = logging.getLogger(__name__)

TICK_SECONDS = 5
ICON_MAX_AGE = 24 * 3600  # seconds a browser keeps the favicon (one day, like the chime)


def create_app(
    config: Config,
    *,
    clock: Callable[[], datetime] = utc_now,
    announcer: object | None = None,
    start_ticker: bool = True,
    demo: bool = False,
) -> Flask:
    """Build the server for one hall; `clock` and `announcer` are passed in by tests.

    Outside the demo (`demo=False`) a database that still opens with the demo's published
    credentials is refused (CredentialError), and a database without an admin gets a one-time
    set-up code in the log.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.server.secret_key or credentials.load_secret_key(config.data_dir),
        MAX_CONTENT_LENGTH=config.server.max_payload_bytes,
        JSON_SORT_KEYS=False,
        PANGGIL_CONFIG=config,
    )
    app.json.ensure_ascii = False
    storage = Storage(config.path(config.server.database))
    hub = Hub(
        storage,
        timezone_name=config.hall.timezone,
        day_starts_at=config.hall.day_start_minutes,
        enforce_hours=config.hall.enforce_hours,
        require_officer=config.hall.require_officer,
        clock=clock,
        broadcast=events.broadcast,
        announcer=announcer,
    )
    app.extensions["panggil_setup"] = _seed(hub, config, demo)
    ratelimit.init_app(app, config.limits)
    app.extensions["panggil"] = hub

    app.register_blueprint(api.bp)
    app.register_blueprint(audio_bp)
    api.register_error_handlers(app)
    _init_pages(app, hub)

    # server.message_queue: every emit goes through Redis to the fan-out workers (server/workers.py).
    manager = workers.queue_manager(config)
    socketio.init_app(
        app,
        client_manager=manager,
        async_mode=config.server.async_mode,
        max_http_buffer_size=config.server.max_payload_bytes,
        serializer=events.SafePacket,  # a malformed packet is refused with one log line
        json=events.SafeJSON,
        cors_allowed_origins=security.socket_origins(config.server.allowed_origins),
        logger=False,
        engineio_logger=False,
    )
    # Every committed event goes to the screens and counters, then to the phones it concerns.
    most_phones = max(0, config.server.max_connections - config.server.device_reserve)
    phones = visitor_events.init_app(app, config.server.visitor_summary_s, timers=start_ticker,
                                     most_phones=most_phones, everywhere=manager is not None)  # fmt: skip
    if manager is not None:
        manager.on_move = phones.moved
        app.extensions[workers.QUEUE_KEY] = manager
    hub.broadcast = phones.after(events.broadcast)
    hub.broadcast_batch = phones.after_batch(events.broadcast_batch)
    hub.pause = lambda: socketio.sleep(0)
    if announcer is None:  # after init_app: the voice starts background work at once
        hub.announcer = _make_announcer(app, config, hub)
    if start_ticker:
        socketio.start_background_task(_tick_forever, hub)
        socketio.start_background_task(webhooks.Dispatcher(hub).forever, socketio.sleep)
        socketio.start_background_task(notice_sender.Sender(hub).forever, socketio.sleep)
    return app


def _seed(hub: Hub, config: Config, demo: bool) -> credentials.SetupCode | None:
    """Load the catalogue; keep the demo's credentials out of a real hall; offer the first admin."""
    seeded = hub.seed(config)
    if demo and seeded:
        hub.write(lambda storage: storage.save_setting(credentials.DEMO_SETTING, True))
    hub.load()
    if demo:
        return None
    database = config.path(config.server.database)
    if hub.settings.get(credentials.DEMO_SETTING):
        found = ["it was created with --demo"]
    else:
        found = hub.read(lambda storage: credentials.demo_accounts_in(storage, check_password))
    if found:
        hub.storage.close()
        raise credentials.CredentialError(credentials.demo_database_message(database, found))
    if hub.read(credentials.has_admin):
        return None
    setup = credentials.SetupCode()
    log.warning(
        "No admin account yet. Open /setup on this server and enter the one-time code %s, "
        "or run: python -m server create-admin --config <config.yaml>",
        setup.code,
    )
    return setup


def _make_announcer(app: Flask, config: Config, hub: Hub) -> Announcer:
    """The voice: settings from the database (seeded from config.yaml), audio cached on disk."""
    settings = validate_voice_settings(hub.settings.get("voice") or config.voice)
    cache_dir = config.path(settings["cache_dir"])
    app.config["PANGGIL_AUDIO_DIR"] = str(cache_dir)

    def notify(ready: dict) -> None:
        hub.announcement_ready(ready)
        events.broadcast(protocol.ANNOUNCEMENT_READY, ready)

    def run_background(work: Callable[[], None]) -> None:
        socketio.start_background_task(work)

    return Announcer(settings, cache_dir, notify, run_background,
                     prepare_after_s=PREPARE_AFTER_S, sleep=socketio.sleep)  # fmt: skip


# The start page links to these pages when their blueprint is registered.
START_PAGES = [
    ("kiosk.index", _l("Ticket kiosk"), _l("Take a queue number")),
    ("tv.index", _l("Browser display"), _l("The waiting-room screen for a smart TV")),
    ("console.index", _l("Officer console"), _l("Call the next visitor")),
    ("admin.index", _l("Administration"), _l("Services, counters, users and settings")),
    ("auth.login", _l("Log in"), _l("Log in as admin or officer")),
]

csrf = CSRFProtect()


def _init_pages(app: Flask, hub: Hub) -> None:
    """Server-rendered pages: languages, CSRF on every session form, login, HTML errors."""
    from server import pairing, report_api
    from server.pages import admin, auth, booking, console, kiosk, phone_ticket, survey, tv, visitor

    i18n.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api.bp)  # the JSON API authenticates each request with a bearer token, not a cookie
    # Flask defines the key (None), so setdefault would keep None: set it. Lax keeps the login
    # redirect working and stops other sites from posting with the officer's cookie.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(auth.bp)
    admin.register(app)
    app.register_blueprint(kiosk.bp)
    csrf.exempt(
        kiosk.bp
    )  # GET pages plus one open POST that only issues a ticket, like /api/tickets
    app.register_blueprint(phone_ticket.bp)
    csrf.exempt(phone_ticket.bp)  # like the kiosk: one POST that only issues a ticket
    app.register_blueprint(visitor.bp)
    app.register_blueprint(tv.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(survey.bp)
    app.register_blueprint(survey.api)
    csrf.exempt(survey.api)  # answers carry a ticket's or a tablet's token; reports read only
    app.register_blueprint(report_api.bp)  # GET only: a session or a report token
    app.register_blueprint(pairing.bp)
    csrf.exempt(pairing.bp)  # a device with a one-use code, no cookie
    app.register_blueprint(booking.bp)
    csrf.exempt(booking.bp)  # JSON posts only (a form cannot send one); the import API has a token
    from server.pages import visitor_contact

    app.register_blueprint(visitor_contact.bp)
    csrf.exempt(visitor_contact.bp)  # the ticket's own token in the address is the credential

    @app.context_processor
    def _common():
        return {"hall_name": hub.hall_info()["name"], "user": auth.current_user()}

    @app.get("/")
    def index():
        pages = [p for p in START_PAGES if p[0] in app.view_functions]
        if request.accept_mimetypes.best == "application/json":
            return jsonify(
                ok=True, name="Panggil", hall=hub.hall_info()["name"], api="/api/snapshot"
            )
        return render_template("index.html", pages=pages)

    @app.get("/favicon.ico")
    def favicon():
        """The icon, where browsers ask for it unbidden (every page of base.html links it too)."""
        return send_from_directory(
            app.static_folder or "static",
            "favicon.ico",
            mimetype="image/vnd.microsoft.icon",
            max_age=ICON_MAX_AGE,
        )

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):
        message = _("The form has expired. Reload the page and try again.")
        if request.is_json or request.path.startswith("/api"):
            return jsonify(ok=False, error="csrf-failed", message=message), 400
        return render_template("error.html", code=400, message=message), 400

    previous = app.error_handler_spec[None][None].get(HTTPException)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api") and previous is not None:
            return previous(exc)
        if request.is_json:
            return api.http_error(exc)
        messages = {404: _("Page not found."), 403: _("Access denied.")}
        message = messages.get(exc.code, exc.description)
        return render_template("error.html", code=exc.code, message=message), exc.code


def _tick_forever(hub: Hub) -> None:
    """Close the day at its boundary even when nobody presses anything; tell the TVs the time."""
    ticks = 0
    while True:
        socketio.sleep(TICK_SECONDS)
        try:
            hub.tick()
        except Exception:
            log.exception("day tick failed; will retry")
        ticks += 1
        if ticks * TICK_SECONDS >= protocol.TIME_EVERY_SECONDS:
            ticks = 0
            events.send_time(hub.now())
