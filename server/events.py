"""Socket.IO handlers: displays (read-only) and counters (token, idempotent commands).

Handlers only translate: they check what arrives against its schema (server/schemas.py), call
the Hub, and turn a PanggilError into an acknowledgement {"ok": false, "error": code, "message": ...}.
Every event gets an answer: a bad payload, extra arguments, an unknown event name or a malformed
packet is refused with an acknowledgement, never dropped, and a connection with bad auth is refused
at once with a connect_error.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, emit
from socketio import packet

from server import officers, payloads, protocol, ratelimit, schemas
from server.extensions import socketio
from server.pages.auth import SESSION_VERSION
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError
from server.logtext import shown

log = logging.getLogger(__name__)


def hub():
    return current_app.extensions["panggil"]


def broadcast(name: str, message: dict) -> None:
    """Send one event to every display and counter client (called by the Hub after a commit)."""
    socketio.emit(name, payloads.public(message), namespace=NS_DISPLAY)
    screens_first()
    socketio.emit(name, message, namespace=NS_COUNTER)


def broadcast_batch(messages: list[dict]) -> None:
    """The events of one change (each a message as `broadcast` sends it, in seq order): TVs get
    them in one `events` frame, counters one by one (docs/protocol.md, "Events")."""
    socketio.emit(protocol.EVENTS, {"events": [payloads.public(m) for m in messages]},
                  namespace=NS_DISPLAY)  # fmt: skip
    screens_first()
    for message in messages:
        socketio.emit(message["event"], message, namespace=NS_COUNTER)


def screens_first() -> None:
    """Let the writers of every TV's socket run before the consoles' frames are even encoded
    (0.4 ms at 20 counters). Called after a commit, never inside a transaction."""
    socketio.sleep(0)


def send_time(now: datetime) -> None:
    """The periodic `time` event to every display (sent by the app's ticker, no seq)."""
    socketio.emit(protocol.SERVER_TIME, payloads.time_message(now), namespace=NS_DISPLAY)


def guard(schema: type[schemas.Request]) -> Callable[[Callable], Callable]:
    """Check an event's one argument against `schema`; turn any failure into an error ack.

    The handler gets the checked payload. Whatever happens the client gets an answer and the
    server keeps running: extra arguments (which Flask-SocketIO would pass on and the handler's
    signature refuse with a TypeError) are a bad-request like a bad payload.
    """

    def decorate(handler: Callable) -> Callable:
        def wrapper(*args):
            try:
                if len(args) > 1:
                    raise PanggilError("bad-request", "Kirim paling banyak satu objek data.")
                data = args[0] if args else None
                return handler(schemas.check(schema, {} if data is None else data))
            except PanggilError as exc:
                log.info("socket %s refused %s: %s", request.sid, handler.__name__, exc.code)
                return exc.to_dict()
            except Exception:
                log.exception("socket handler %s failed", handler.__name__)
                return PanggilError("internal-error").to_dict()

        wrapper.__name__ = handler.__name__
        wrapper.__doc__ = handler.__doc__
        return wrapper

    return decorate


@contextlib.contextmanager
def refusing(namespace: str, registry: dict) -> Iterator[None]:
    """Refuse the connection at once on any failure, leaving no trace of it in `registry`.

    Only a ConnectionRefusedError gets the client its connect_error: any other exception escaping
    a connect handler left it waiting for an answer that never came.
    """
    try:
        yield
        return
    except PanggilError as exc:
        error = exc
    except Exception:
        log.exception("%s connection from %s failed", namespace, request.remote_addr)
        error = PanggilError("internal-error")
    registry.pop(request.sid, None)
    log.warning("%s connection refused from %s: %s", namespace, request.remote_addr, error.code)
    raise ConnectionRefusedError(error.code, error.to_dict())


def _send_snapshot(counter: int | None = None, display: str | None = None) -> dict:
    """Emit a snapshot to this client while holding the hub lock, so it is ordered with broadcasts."""
    h = hub()
    with h.lock:
        snap = h.snapshot(counter)
        if counter is None:
            snap = payloads.public(snap)
        if display is not None:
            snap["display"] = h.display_settings(display)
        emit(protocol.SNAPSHOT, snap)
    return {"ok": True, "seq": snap["seq"]}


# --- /display ---------------------------------------------------------------------------------


@socketio.on("connect", namespace=NS_DISPLAY)
def display_connect(auth=None):
    """A display, monitor or visitor page connects (read-only); it gets a snapshot at once."""
    h = hub()
    with refusing(NS_DISPLAY, h.displays):
        if auth == MALFORMED:
            raise PanggilError("malformed-packet")
        checked = schemas.check(schemas.DisplayAuth, {} if auth is None else auth)
        name = checked.display or f"anon-{request.sid[:6]}"
        h.displays[request.sid] = {"name": name, "since": h.now().isoformat(timespec="seconds"),
                                   "address": request.remote_addr, "version": checked.version}  # fmt: skip
        log.info("display %s connected from %s", shown(name), request.remote_addr)
        _record_seen(name, request.remote_addr, checked.version)
        _send_snapshot(display=name)


@socketio.on("disconnect", namespace=NS_DISPLAY)
def display_disconnect(*args):
    gone = hub().displays.pop(request.sid, None)
    if gone:
        _record_seen(gone["name"], gone["address"], gone.get("version"))


def _record_seen(name: str, address: str | None, version: str | None = None) -> None:
    """Remember when a display the admin set up was last connected (the admin's display list)."""
    h = hub()
    if h.replica:  # a fan-out worker writes nothing; the writer records its own displays
        return
    try:
        # A read first: visitor pages connect here too, and most names are not in the table.
        if h.read(lambda s: s.display_exists(name)):
            seen = h.now().isoformat(timespec="seconds")
            h.write(lambda s: s.mark_display_seen(name, seen, address, version))
    except Exception:  # bookkeeping only: never refuse a display over it
        log.exception("cannot record when display %s was seen", shown(name))


@socketio.on(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY)
@guard(schemas.GetSnapshot)
def display_get_snapshot(data: schemas.GetSnapshot):
    """A display that saw a seq gap asks for the whole state again."""
    me = hub().displays.get(request.sid)
    return _send_snapshot(display=me["name"] if me else None)


# --- /counter ---------------------------------------------------------------------------------


@socketio.on("connect", namespace=NS_COUNTER)
def counter_connect(auth=None):
    """A counter client or the officer console connects with its counter number and token."""
    h = hub()
    with refusing(NS_COUNTER, h.counters_online):
        if auth == MALFORMED:
            raise PanggilError("malformed-packet")
        if h.replica:  # a fan-out worker: counters belong to the writer (server/workers.py)
            raise PanggilError("writer-only")
        try:
            credentials = schemas.check(schemas.CounterAuth, auth)
        except PanggilError:
            raise PanggilError("invalid-token") from None
        number = h.check_token(credentials.counter, credentials.token)
        h.counters_online[request.sid] = number
        log.info("counter %d connected from %s", number, request.remote_addr)
        if credentials.version is not None:  # a counter client (the web console sends none)
            _record_counter_device(number, request.remote_addr, credentials.version)
        _send_snapshot(number)
        h.prepare_for_counter(number)  # the queue that formed while it was away: its voice


def _record_counter_device(number: int, address: str | None, version: str) -> None:
    """Remember which version a counter's client runs, when and where from (admin's counters)."""
    h = hub()
    try:
        seen = h.now().isoformat(timespec="seconds")
        h.write(lambda s: s.mark_counter_device_seen(number, seen, address, version))
    except Exception:  # bookkeeping only: never refuse a counter over it
        log.exception("cannot record the client of counter %d", number)


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
@guard(schemas.GetSnapshot)
def counter_get_snapshot(data: schemas.GetSnapshot):
    """The console asks for its counter's whole state again."""
    return _send_snapshot(_counter())


def _command_handler(command: str) -> Callable:
    def handler(data: schemas.CounterCommand):
        return hub().command(_counter(), command, data.model_dump(), data.request_id)

    handler.__name__ = command
    handler.__doc__ = f"A counter sends `{command}` with a request_id; the ack carries the result."
    return handler


for _command in protocol.COUNTER_COMMANDS:
    if _command == protocol.SIGN_IN:
        continue  # below: it must find out who is signing in first
    socketio.on_event(
        _command,
        guard(schemas.COMMANDS[_command])(_command_handler(_command)),
        namespace=NS_COUNTER,
    )


@socketio.on(protocol.SIGN_IN, namespace=NS_COUNTER)
@guard(schemas.SignIn)
def sign_in(data: schemas.SignIn):
    """An officer signs in: the keypad client with an officer number and PIN, the console with
    neither (its socket carries the web session of the logged-in user who opened it)."""
    number = _counter()
    if data.officer is None and data.pin is None:
        officer = officers.from_session(
            hub(), session.get("user_id"), number, session.get(SESSION_VERSION)
        )
    else:
        officer = officers.from_pin(
            hub(), ratelimit.limits()["pins"], number, data.officer, data.pin
        )
    return hub().command(number, protocol.SIGN_IN, {"officer": officer}, data.request_id)


# --- anything else ----------------------------------------------------------------------------

# The event a malformed packet becomes (see SafePacket); no client can name an event like this
# by accident, and if one does it gets the same answer.
MALFORMED = "\x00malformed"


def unknown_event(event: object, namespace: str) -> dict:
    if event == MALFORMED:  # SafePacket has logged it already
        return PanggilError("malformed-packet").to_dict()
    log.info("socket %s sent an unknown event %s on %s", request.sid, shown(event, 60), namespace)
    return PanggilError("unknown-command").to_dict()


@socketio.on("*", namespace=NS_DISPLAY)
def display_unknown_event(event, *args):
    """Any other event a display sends: refused with an acknowledgement, not silently dropped."""
    return unknown_event(event, NS_DISPLAY)


@socketio.on("*", namespace=NS_COUNTER)
def counter_unknown_event(event, *args):
    """Any other event a counter sends: refused with an acknowledgement, not silently dropped."""
    return unknown_event(event, NS_COUNTER)


_OUTGOING = object()


class SafePacket(packet.Packet):
    """Socket.IO packets as the server reads them: a malformed one never raises.

    python-socketio raises from inside its dispatcher on a packet that is not valid JSON, is empty,
    has an event that is not a name (`42[1]`), or names a reserved event (`42["connect"]` would
    run the connect handler again, `42["*"]` the catch-all without its event name); Engine.IO then
    logs a whole traceback and the client never hears back. Here such a packet writes one log
    line and becomes the event MALFORMED, which the catch-all handlers answer with
    `malformed-packet` when the client asked for an acknowledgement. A CONNECT whose auth is not
    JSON keeps its type with auth MALFORMED, so the connect handler refuses it at once (and logs
    that). Binary packets are refused too: the protocol is JSON only.
    """

    def __init__(self, *args, encoded_packet=_OUTGOING, **kwargs) -> None:
        if encoded_packet is _OUTGOING:  # a packet the server builds to send
            super().__init__(*args, **kwargs)
            return
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        # Engine.IO hands over what it could parse as JSON: "4null" arrives as None, "4{}" as {}.
        # The base class does not even decode such a falsy packet, and then fails on it later.
        if not encoded_packet:
            self._malformed(encoded_packet, "empty")

    def decode(self, encoded_packet):
        try:
            attachments = super().decode(encoded_packet)
        except Exception as exc:  # anything a client sends: it must not escape
            return self._malformed(encoded_packet, type(exc).__name__)
        if self.packet_type == packet.EVENT:
            name = self.data[0] if isinstance(self.data, list) and self.data else None
            if not isinstance(name, str) or name in RESERVED_EVENTS:
                return self._malformed(encoded_packet, "not an event name")
        elif self.packet_type not in (packet.CONNECT, packet.DISCONNECT, packet.ACK):
            return self._malformed(encoded_packet, "packet type")
        return attachments

    def _malformed(self, encoded_packet, reason: str) -> int:
        if self.packet_type == packet.CONNECT:
            self.data = MALFORMED  # the connect handler refuses it, and logs that once
            return 0
        size = (
            len(encoded_packet)
            if isinstance(encoded_packet, (str, bytes))
            else len(repr(encoded_packet))
        )
        log.warning("malformed Socket.IO packet refused (%s, %d bytes)", reason, size)
        if self.packet_type != packet.EVENT:
            self.id = None  # no acknowledgement asked for: nothing to answer
        if not isinstance(self.namespace, str):
            self.namespace = None
        self.packet_type = packet.EVENT
        self.data = [MALFORMED]
        return 0


class SafeJSON:
    """The JSON module Engine.IO and Socket.IO read packets with: too deep is bad JSON too.

    The standard module raises RecursionError on JSON nested past its limit, which Engine.IO does
    not catch when it reads a websocket message: the connection's handler died mid-stream and the
    client read garbage. As a ValueError it is bad JSON like any other, which both libraries handle.
    """

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(*args, **kwargs):
        try:
            return json.loads(*args, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


# Names python-socketio would route to a handler that is not an event handler: the connect and
# disconnect handlers, and "*", the catch-all itself (which then misses its event argument).
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "*"})
