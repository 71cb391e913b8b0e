"""The visitor's number for SMS/WhatsApp notices: the POST of the small form on the slip's page.

The form is shown (server/pages/visitor.py, contact_view) only when the hall turned notices on
(admin, "Pemberitahuan WA/SMS"). The POST carries the ticket's own token in its address, the same
key the status page uses, and is rate-limited per address and per ticket. A form post answers
with a redirect to the ticket's page (it works without JavaScript); a JSON post with
`{"ok": true, "contact": "6281******890" | null}`. The number is kept only while the ticket is
open (server/notice_sender.py).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

# server.api imports the visitor page, which imports this module: the API is read at call time.
from server import api, notice_sender, notices, ratelimit, schemas
from server.hub import Hub
from server.protocol import PanggilError
from server.ratelimit import SlidingWindow
from server.ticket_links import require_token

log = logging.getLogger(__name__)

bp = Blueprint("visitor_contact", __name__)

WINDOW_S = 600
PER_ADDRESS = 10  # posts per address within the window (a hall's Wi-Fi shares few addresses)
PER_TICKET = 5


def hub() -> Hub:
    return current_app.extensions["panggil"]


def limiter() -> SlidingWindow:
    cached = current_app.extensions.get("panggil_contact_limit")
    if cached is None:
        cached = current_app.extensions["panggil_contact_limit"] = SlidingWindow(WINDOW_S)
    return cached


@bp.post("/t/<day>/<number>/<token>/contact")
def set_contact(day: str, number: str, token: str):
    """Leave a number for this ticket's notices, or remove it (`remove`, or a JSON null)."""
    as_json = request.is_json
    page = url_for("visitor.ticket_page", day=day, number=number, token=token)
    try:
        schemas.check(schemas.TicketRef, {"day": day, "number": number})
        ticket_id = hub().ticket_status(day, number)["ticket"]["id"]
        require_token(current_app.secret_key, ticket_id, token)
    except PanggilError:  # a wrong token is answered like a number never issued
        return api.error_response(PanggilError("unknown-ticket"))
    try:
        _count(ticket_id)
        if as_json:
            phone = api.request_body(schemas.TicketContact).phone
        else:
            phone = None if request.form.get("remove") else request.form.get("phone", "")
        number_kept = notices.normalise_phone(phone) if phone is not None else None
        notice_sender.set_contact(hub(), ticket_id, number_kept)
    except PanggilError as exc:
        log.info("contact for %s refused: %s", ticket_id, exc.code)
        if as_json:
            return api.error_response(exc)
        return redirect(f"{page}?contact={exc.code}#contact", 303)
    if as_json:
        return jsonify(ok=True, contact=notices.mask(number_kept) or None)
    return redirect(f"{page}?contact={'saved' if number_kept else 'removed'}#contact", 303)


def _count(ticket_id: str) -> None:
    window = limiter()
    keys = {"ip:" + ratelimit.client_address(): PER_ADDRESS, "ticket:" + ticket_id: PER_TICKET}
    for key, most in keys.items():
        if window.count(key) >= most:
            raise PanggilError("rate-limited", retry_after=window.retry_after(key))
    for key in keys:
        window.add(key)
