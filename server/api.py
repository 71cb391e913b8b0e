"""The HTTP JSON API: the same operations as the sockets, for curl, kiosks and scripts."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from server import protocol, ratelimit
from server.protocol import PanggilError

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")


def hub():
    return current_app.extensions["panggil"]


def _body() -> dict:
    """The JSON object of the request, or a bad-request error."""
    data = request.get_json(silent=True, force=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise PanggilError("bad-request", "Isi permintaan harus berupa objek JSON.")
    return data


def _bearer() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _counter_from_token(number: int) -> int:
    return hub().check_token(number, _bearer())


@bp.errorhandler(PanggilError)
def _panggil_error(exc: PanggilError):
    log.info("%s %s refused: %s", request.method, request.path, exc.code)
    return jsonify(exc.to_dict()), exc.http_status


@bp.get("/health")
def health():
    h = hub()
    return jsonify(ok=True, seq=h.seq, day=h.hall.day, displays=len(h.displays))


@bp.get("/snapshot")
def snapshot():
    return jsonify(hub().snapshot())


@bp.get("/services")
def services():
    return jsonify(ok=True, services=hub().services_detail())


@bp.post("/tickets")
def issue_ticket():
    data = _body()
    service = data.get("service")
    priority = data.get("priority")
    if not isinstance(service, str) or not service:
        raise PanggilError("bad-request", "Kolom 'service' wajib diisi.")
    if priority is not None and not isinstance(priority, str):
        raise PanggilError("bad-request", "Kolom 'priority' harus teks atau null.")
    with ratelimit.ticket_slot():
        response = hub().issue(service, priority or None)
    result = response["result"]
    ticket = result["ticket"]
    # The tokened visitor page: whoever takes the number may share its live page, nobody else.
    from server.pages.visitor import visitor_path
    from server.ticket_links import ticket_token

    return jsonify(ok=True, ticket=ticket, ahead=result["ahead"], seq=response["seq"],
                   token=ticket_token(current_app.secret_key, ticket["id"]),
                   visitor_url=request.url_root.rstrip("/") + visitor_path(ticket)), 201  # fmt: skip


@bp.get("/tickets/<day>/<number>")
def ticket_status(day: str, number: str):
    return jsonify(ok=True, **hub().ticket_status(day, number))


@bp.post("/tickets/<day>/<number>/cancel")
def cancel_ticket(day: str, number: str):
    h = hub()
    h.counter_with_token(_bearer())  # any counter may withdraw a ticket
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
    data = _body()
    return jsonify(hub().command(counter, command, data, data.get("request_id")))


def register_error_handlers(app) -> None:
    """JSON errors for everything under /api, including Flask's own (404, 405, 413)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not request.path.startswith("/api"):
            return exc
        code = {413: "payload-too-large", 404: "unknown-command", 405: "bad-request"}.get(exc.code, "bad-request")
        message = protocol.ERRORS[code][1]
        return jsonify(ok=False, error=code, message=message), exc.code

    @app.errorhandler(PanggilError)
    def _panggil_error(exc: PanggilError):
        return jsonify(exc.to_dict()), exc.http_status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(PanggilError("internal-error").to_dict()), 500
