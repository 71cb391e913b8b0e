"""The HTTP JSON API: the same operations as the sockets, for curl, kiosks and scripts."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from server import officers, payloads, protocol, ratelimit, schedule_text, schemas
from server.pages.visitor import visitor_path
from server.protocol import PanggilError
from server.ticket_links import require_token, ticket_token

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")


def hub():
    return current_app.extensions["panggil"]


def request_body(model: type[schemas.M]) -> schemas.M:
    """The request's JSON body checked against its schema (an empty body is `{}`).

    A non-empty body must say it is JSON: a browser form or a `text/plain` post from another site
    is refused before it is read as one.
    """
    raw = request.get_data(cache=True)  # at most MAX_CONTENT_LENGTH: werkzeug raises 413 first
    if not raw.strip():
        return schemas.check(model, {})
    if not request.is_json:
        raise PanggilError("unsupported-media-type")
    return schemas.check_json(model, raw)


def _bearer() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _counter_from_token(number: int) -> int:
    return hub().check_token(number, _bearer())


def error_response(exc: PanggilError):
    """A refusal as the protocol's JSON body; a rate limit also says when to come back."""
    if exc.code == "outside-hours" and "status" in exc.details:
        exc = explain_closed(exc)
    response = jsonify(exc.to_dict())
    response.status_code = exc.http_status
    if "retry_after" in exc.details:
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


def explain_closed(exc: PanggilError) -> PanggilError:
    """An `outside-hours` refusal whose message says why and when the service opens."""
    h = hub()
    service = h.hall.services.get(str(exc.details.get("service")))
    name = service.name if service else str(exc.details.get("service"))
    message = schedule_text.in_indonesian(name, exc.details["status"], h.now())
    return PanggilError(exc.code, message, **exc.details)


@bp.errorhandler(PanggilError)
def _panggil_error(exc: PanggilError):
    log.info("%s %s refused: %s", request.method, request.path, exc.code)
    return error_response(exc)


@bp.get("/health")
def health():
    from server.workers import queue_health  # {} in one process; the Redis queue's state

    h = hub()
    return jsonify(ok=True, seq=h.seq, day=h.hall.day, displays=len(h.displays), role="writer",
                   **queue_health(current_app))  # fmt: skip


@bp.get("/snapshot")
def snapshot():
    return jsonify(payloads.public(hub().snapshot()))


@bp.get("/services")
def services():
    return jsonify(ok=True, services=hub().services_detail())


@bp.post("/tickets")
def issue_ticket():
    body = request_body(schemas.IssueTicket)
    with ratelimit.ticket_slot():
        response = hub().issue(body.service, body.priority)
    result = response["result"]
    ticket = result["ticket"]
    # The tokened visitor page: whoever takes the number may share its live page, nobody else.
    return jsonify(ok=True, ticket=ticket, ahead=result["ahead"], seq=response["seq"],
                   token=ticket_token(current_app.secret_key, ticket["id"]),
                   visitor_url=request.url_root.rstrip("/") + visitor_path(ticket)), 201  # fmt: skip


def _ticket_ref(day: str, number: str) -> None:
    """A day and a number as tickets have them; anything else names no ticket."""
    try:
        schemas.check(schemas.TicketRef, {"day": day, "number": number})
    except PanggilError:
        raise PanggilError("unknown-ticket") from None


@bp.get("/tickets/<day>/<number>")
def ticket_status(day: str, number: str):
    """A ticket's whole state, for the holder of its visitor token (`?token=`) or a counter device.

    Anyone else gets the same 404 as for a number that was never issued: the waiting list of the
    hall cannot be walked number by number (the TV shows only who is called where).
    """
    _ticket_ref(day, number)
    h = hub()
    bearer = _bearer()
    if bearer is not None:
        h.counter_with_token(bearer)  # a wrong device token is invalid-token (401)
        return jsonify(ok=True, **h.ticket_status(day, number))
    status = h.ticket_status(day, number)
    require_token(current_app.secret_key, status["ticket"]["id"], request.args.get("token"))
    return jsonify(ok=True, **status)


@bp.post("/tickets/<day>/<number>/cancel")
def cancel_ticket(day: str, number: str):
    h = hub()
    h.counter_with_token(_bearer())  # any counter may withdraw a ticket
    request_body(schemas.CancelTicket)
    _ticket_ref(day, number)
    if day != h.hall.day:
        raise PanggilError("unknown-ticket")
    response = h.cancel(number)
    return jsonify(ok=True, ticket=response["result"]["ticket"], seq=response["seq"])


@bp.get("/counters/<int:number>")
def counter_state(number: int):
    counter = _counter_from_token(number)
    return jsonify(hub().snapshot(counter))


@bp.post("/counters/<int:number>/<command>")
def counter_command(number: int, command: str):
    if command not in protocol.COUNTER_COMMANDS:
        raise PanggilError("unknown-command")
    counter = _counter_from_token(number)
    body = request_body(schemas.COMMANDS[command])
    args = body.model_dump()
    if isinstance(body, schemas.SignIn):  # over HTTP only with an officer number and PIN
        pins = ratelimit.limits()["pins"]
        args = {"officer": officers.from_pin(hub(), pins, counter, body.officer, body.pin)}
    return jsonify(hub().command(counter, command, args, body.request_id))


# Flask's and werkzeug's own errors (no route, wrong method, body too big, ...) as protocol codes.
HTTP_ERRORS = {
    400: "bad-request",
    401: "invalid-token",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    416: "range-not-satisfiable",
    429: "rate-limited",
    500: "internal-error",
}


def http_error(exc: HTTPException):
    """A werkzeug HTTP error as the protocol's JSON error body, keeping its status and headers."""
    status = exc.code or 500
    code = HTTP_ERRORS.get(status, "bad-request" if status < 500 else "internal-error")
    response = jsonify(ok=False, error=code, message=protocol.ERRORS[code][1])
    response.status_code = status
    for name, value in exc.get_headers():
        if name.lower() != "content-type":  # e.g. Allow on a 405, Retry-After on a 429
            response.headers[name] = value
    return response


def register_error_handlers(app) -> None:
    """JSON errors for everything under /api, including Flask's own (404, 405, 413, 415)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not request.path.startswith("/api"):
            return exc
        return http_error(exc)

    @app.errorhandler(PanggilError)
    def _panggil_error(exc: PanggilError):
        return error_response(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(PanggilError("internal-error").to_dict()), 500
