"""A number from the visitor's own phone: the entrance QR opens the kiosk's flow at /ambil.

The same rules as the kiosk (hours, quotas, the priority self-declaration with the kiosk's
words: the engine's issue_ticket), and after the number the phone goes straight to its ticket's
live page. A phone is known by a random device cookie set here (only its SHA-256 is stored, as
the ticket's `holder`): the engine lets a phone hold one waiting or called number per service
(`already-holding`), and tickets per phone are rate-limited as well as per address. The admin turns
it on and prints the entrance poster (server/pages/admin_phone.py); off, /ambil says to use the
kiosk.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, current_app, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _

from server import ratelimit, schemas
from server.api import request_body
from server.pages import kiosk
from server.pages.visitor import visitor_path
from server.protocol import PanggilError
from server.ratelimit import TicketLimiter

bp = Blueprint("phone", __name__)

DEVICE_COOKIE = "panggil_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
ENABLED = "phone_tickets.enabled"
PUBLIC_URL = "phone_tickets.public_url"
# Numbers one phone may take per window (besides one open number per service).
PER_DEVICE = 4
DEVICE_WINDOW_S = 3600


def hub():
    return current_app.extensions["panggil"]


def enabled() -> bool:
    return bool(hub().settings.get(ENABLED))


def device_hash(raw: str | None) -> str | None:
    """The stored form of a device cookie; None for a missing or malformed one."""
    if not raw or len(raw) != 43 or not raw.replace("-", "a").replace("_", "a").isalnum():
        return None
    return hashlib.sha256(raw.encode()).hexdigest()


def _device_limiter() -> TicketLimiter:
    limits = ratelimit.limits()
    if "phone_devices" not in limits:
        limits["phone_devices"] = TicketLimiter(PER_DEVICE, DEVICE_WINDOW_S)
    return limits["phone_devices"]


@bp.get("/ambil")
def page():
    """The kiosk's flow, sized for a phone; or, while the hall does not offer it, why not."""
    if not enabled():
        return render_template("phone/off.html"), 200
    response = make_response(
        render_template(
            "kiosk/kiosk.html",
            kiosk=kiosk.KioskSpec("hp", _("Visitor's phone"), kiosk.PrinterSpec()),
            texts=page_texts(),
            catalogue=kiosk.catalogue(),
            api_url=url_for("phone.take_ticket"),
            services_url=url_for("phone.services"),
            phone=True,
        )
    )
    if device_hash(request.cookies.get(DEVICE_COOKIE)) is None:
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(32), max_age=DEVICE_MAX_AGE,
                            httponly=True, samesite="Lax", secure=request.is_secure)  # fmt: skip
    return response


def page_texts() -> dict[str, str]:
    return {
        **kiosk.page_texts(),
        "already-holding": _("You already hold a number for this service."),
        "show_mine": _("Show my number %(number)s", number="{number}"),
        "device-required": _("Open this page again from the QR code at the entrance."),
        "phone-tickets-off": _("Numbers are not given to phones now. Please use the kiosk."),
    }


@bp.get("/api/phone/services")
def services():
    if not enabled():
        raise PanggilError("phone-tickets-off")
    return jsonify(ok=True, **kiosk.catalogue())


@bp.post("/api/phone/tickets")
def take_ticket():
    """Issue a number for this phone; its page's address comes back (the phone goes there)."""
    if not enabled():
        raise PanggilError("phone-tickets-off")
    holder = device_hash(request.cookies.get(DEVICE_COOKIE))
    if holder is None:
        raise PanggilError("device-required")
    body = request_body(schemas.KioskTicket)
    h = hub()
    devices = _device_limiter()
    devices.take(holder)
    try:
        with ratelimit.ticket_slot():
            response = h.issue(body.service, body.priority, holder=holder)
    except PanggilError as exc:
        devices.give_back(holder)
        if exc.code == "already-holding":
            held = {"id": exc.details["ticket"], "day": h.hall.day, "number": exc.details["number"]}
            exc.details.pop("ticket")
            exc.details["visitor_url"] = visitor_path(held)
        kiosk.add_closed_text(h, exc, body.service)
        raise
    ticket = response["result"]["ticket"]
    return jsonify(ok=True, ticket=ticket, ahead=response["result"]["ahead"],
                   seq=response["seq"], visitor_url=visitor_path(ticket)), 201  # fmt: skip
