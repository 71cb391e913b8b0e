"""Socket.IO handlers: displays (read-only) and counters (token, idempotent commands).

Handlers only translate: they check the shape of what arrives, call the Hub, and turn a
PanggilError into an acknowledgement {"ok": false, "error": code, "message": ...}.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, emit

from server import protocol
from server.extensions import socketio
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError

log = logging.getLogger(__name__)


def hub():
    return current_app.extensions["panggil"]


def broadcast(name: str, message: dict) -> None:
    """Send one event to every display and counter client (called by the Hub after a commit)."""
    socketio.emit(name, message, namespace=NS_DISPLAY)
    socketio.emit(name, message, namespace=NS_COUNTER)


def _guard(handler: Callable) -> Callable:
    """Turn any failure into an error acknowledgement; the server keeps running."""

    def wrapper(data=None):
        try:
            return handler(data)
        except PanggilError as exc:
            log.info("socket %s refused %s: %s", request.sid, handler.__name__, exc.code)
            return exc.to_dict()
        except Exception:
            log.exception("socket handler %s failed", handler.__name__)
            return PanggilError("internal-error").to_dict()

    wrapper.__name__ = handler.__name__
    return wrapper


def _send_snapshot(counter: int | None = None, display: str | None = None) -> dict:
    """Emit a snapshot to this client while holding the hub lock, so it is ordered with broadcasts."""
    h = hub()
    with h.lock:
        snap = h.snapshot(counter)
        if display is not None:
            snap["display"] = h.display_settings(display)
        emit(protocol.SNAPSHOT, snap)
    return {"ok": True, "seq": snap["seq"]}


# --- /display ---------------------------------------------------------------------------------


@socketio.on("connect", namespace=NS_DISPLAY)
def display_connect(auth=None):
    """A display, monitor or visitor page connects (read-only); it gets a snapshot at once."""
    name = auth.get("display") if isinstance(auth, dict) else None
    if not isinstance(name, str) or not name.strip():
        name = f"anon-{request.sid[:6]}"
    h = hub()
    h.displays[request.sid] = {"name": name[:60], "since": h.now().isoformat(timespec="seconds"),
                               "address": request.remote_addr}  # fmt: skip
    log.info("display %s connected from %s", name, request.remote_addr)
    _record_seen(name[:60], request.remote_addr)
    _send_snapshot(display=name[:60])


@socketio.on("disconnect", namespace=NS_DISPLAY)
def display_disconnect(*args):
    gone = hub().displays.pop(request.sid, None)
    if gone:
        _record_seen(gone["name"], gone["address"])


def _record_seen(name: str, address: str | None) -> None:
    """Remember when a display the admin set up was last connected (the admin's display list)."""
    h = hub()
    try:
        # A read first: visitor pages connect here too, and most names are not in the table.
        if h.read(lambda s: s.db.execute("SELECT 1 FROM displays WHERE name = ?", [name]).fetchone()):
            seen = h.now().isoformat(timespec="seconds")
            h.write(lambda s: s.db.execute("UPDATE displays SET last_seen = ?, address = ? WHERE name = ?",
                                           [seen, address, name]))  # fmt: skip
    except Exception:  # bookkeeping only: never refuse a display over it
        log.exception("cannot record when display %s was seen", name)


@socketio.on(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY)
@_guard
def display_get_snapshot(data=None):
    """A display that saw a seq gap asks for the whole state again."""
    me = hub().displays.get(request.sid)
    return _send_snapshot(display=me["name"] if me else None)


# --- /counter ---------------------------------------------------------------------------------


@socketio.on("connect", namespace=NS_COUNTER)
def counter_connect(auth=None):
    """A counter client or the officer console connects with its counter number and token."""
    if not isinstance(auth, dict):
        error = PanggilError("invalid-token")
    else:
        try:
            number = hub().check_token(auth.get("counter"), auth.get("token"))
        except PanggilError as exc:
            error = exc
        else:
            hub().counters_online[request.sid] = number
            log.info("counter %d connected from %s", number, request.remote_addr)
            _send_snapshot(number)
            return
    log.warning("counter connection refused from %s: %s", request.remote_addr, error.code)
    raise ConnectionRefusedError(error.code, error.to_dict())


@socketio.on("disconnect", namespace=NS_COUNTER)
def counter_disconnect(*args):
    hub().counters_online.pop(request.sid, None)


def _counter() -> int:
    number = hub().counters_online.get(request.sid)
    if number is None:
        raise PanggilError("invalid-token")
    return number


def disconnect_counter(number: int) -> None:
    """Drop the sockets of a counter, e.g. when its token was replaced (tokens are checked on connect)."""
    for sid, counter in list(hub().counters_online.items()):
        if counter == number:
            socketio.server.disconnect(sid, namespace=NS_COUNTER)


@socketio.on(protocol.GET_SNAPSHOT, namespace=NS_COUNTER)
@_guard
def counter_get_snapshot(data=None):
    """The console asks for its counter's whole state again."""
    return _send_snapshot(_counter())


def _command_handler(command: str) -> Callable:
    def handler(data=None):
        if not isinstance(data, dict):
            raise PanggilError("bad-request", "Data perintah harus berupa objek JSON.")
        return hub().command(_counter(), command, data, data.get("request_id"))

    handler.__name__ = command
    handler.__doc__ = f"A counter sends `{command}` with a request_id; the ack carries the result."
    return handler


for _command in protocol.COUNTER_COMMANDS:
    socketio.on_event(_command, _guard(_command_handler(_command)), namespace=NS_COUNTER)
