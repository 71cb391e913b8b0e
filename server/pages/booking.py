"""Bookings (reservasi): the public booking page, its confirmation with the QR, the import API
and the check-in both the kiosk and the console use.

The rules are server/bookings.py; the rows are written by server/storage.py under the hub's lock,
and a check-in becomes a ticket through Hub.check_in_booking. Which services take bookings, and
their sessions, are stored (the admin's service form, seeded from config.yaml's
`services[].bookings`); the other settings are config.yaml's `bookings:`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import date, datetime

import segno
from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from server import bookings, notice_sender, notices, ratelimit, schemas
from server.api import error_response, request_body
from server.bookings import Booking, Plan
from server.config import Config
from server.hub import Hub
from server.pages.visitor import visitor_path
from server.protocol import PanggilError
from server.ratelimit import SlidingWindow
from server.storage import Storage

log = logging.getLogger(__name__)

bp = Blueprint("booking", __name__)


@bp.errorhandler(PanggilError)
def _refused(exc: PanggilError):
    log.info("%s %s refused: %s", request.method, request.path, exc.code)
    return error_response(exc)


def hub() -> Hub:
    return current_app.extensions["panggil"]


def config() -> Config:
    return current_app.config["PANGGIL_CONFIG"]


def plans() -> dict[str, Plan]:
    """The services that take bookings, as stored (the admin's service form; seeded from
    config.yaml): read once per request, so an edit counts from the next request on."""
    if "panggil_booking_plans" not in g:
        h = hub()
        g.panggil_booking_plans = h.read(lambda s: s.load_booking_plans())
    return g.panggil_booking_plans


def checks_in() -> bool:
    """Whether the kiosk offers check-in: a service takes bookings, or bookings made before its
    plan was switched off are still waiting for their visitors."""
    h = hub()
    today = h.today()
    return bool(plans()) or h.read(lambda s: s.bookings_waiting(today)) > 0


def plan_of(service: str) -> Plan:
    plan = plans().get(service)
    h = hub()
    if plan is None or service not in h.hall.services or not h.hall.services[service].active:
        raise PanggilError("no-bookings")
    return plan


def limiter() -> SlidingWindow:
    cached = current_app.extensions.get("panggil_booking_limit")
    if cached is None:
        cached = SlidingWindow(config().bookings.window_s)
        current_app.extensions["panggil_booking_limit"] = cached
    return cached


# --- the public page ----------------------------------------------------------------------------


@bp.get("/reservasi")
def index():
    """Choose a service, a day and a session; leave a name (and a phone number if you like)."""
    h = hub()
    today = h.now().date()
    services = [
        {"code": s.code, "name": s.name,
         "agency": h.hall.agencies[s.agency].name if s.agency in h.hall.agencies else ""}
        for s in h.hall.services.values()
        if s.code in plans() and s.active
    ]  # fmt: skip
    every_day = bookings.bookable_days(today, config().bookings.days_ahead)
    days = [{"day": d.isoformat(), "label": format_date(d, "EEEE, d MMMM")} for d in every_day]
    # The days each service opens during a session (its hours, agency weekdays, the calendar).
    open_days = {
        s["code"]: [d.isoformat() for d in every_day
                    if bookings.open_sessions(h.hall, plans()[s["code"]], d)]
        for s in services
    }  # fmt: skip
    return render_template(
        "booking/book.html",
        services=services,
        days=days,
        open_days=open_days,
        texts=page_texts(),
        sessions_url=url_for("booking.sessions"),
        book_url=url_for("booking.book"),
        notices_on=notice_sender.gateway(h).active,  # the consent box for SMS/WhatsApp notices
    )


def page_texts() -> dict[str, str]:
    """The strings booking.js shows, in the visitor's language."""
    return {
        "left": _("%(n)s places left", n="{n}"),
        "full": _("Full"),
        "past": _("Over"),
        "closed": _("Closed"),
        "none": _("This service takes no bookings on that day."),
        "network_error": _("The server cannot be reached. Please try again."),
        "choose_session": _("Choose a session."),
    }


@bp.get("/api/reservasi/sessions")
def sessions():
    """The sessions of a service on a day with their places left (the page asks on each choice)."""
    body = schemas.check(
        schemas.NewBooking,
        {"service": request.args.get("service", ""), "day": request.args.get("day", ""),
         "session": "00:00-00:00"},
    )  # fmt: skip
    plan = plan_of(body.service)
    day = _day(body.day)
    h = hub()
    taken = h.read(lambda s: s.booked_places(plan.service, day.isoformat()))
    rows = bookings.session_rows(h.hall, plan, day, taken, h.now(), h.tz)
    return jsonify(ok=True, service=plan.service, day=day.isoformat(), sessions=rows)


@bp.post("/api/reservasi")
def book():
    """A visitor books a session: 201 with the code and the confirmation page's address."""
    body = request_body(schemas.NewBooking)
    key = "ip:" + ratelimit.client_address()
    window = limiter()
    if window.count(key) >= config().bookings.per_address:
        wait = window.retry_after(key)
        raise PanggilError(
            "rate-limited",
            "Terlalu banyak reservasi dari perangkat ini. Coba lagi nanti.",
            retry_after=wait,
        )
    booking, _created = make_booking(body, source="web")
    window.add(key)
    return jsonify(ok=True, booking=bookings.booking_dict(booking),
                   url=url_for("booking.confirmation", code=booking.code)), 201  # fmt: skip


@bp.get("/reservasi/<code>")
def confirmation(code: str):
    """The booking's code and QR, to show at the kiosk; the code is the only key to it."""
    try:
        code = bookings.normalise_code(code)
    except PanggilError:
        abort(404)
    h = hub()
    booking = h.read(lambda s: s.find_booking(code, h.tz))
    if booking is None:
        abort(404)
    service = h.hall.services.get(booking.service)
    opens, closes = bookings.check_in_window(booking, config().bookings.checkin_early_minutes)
    ticket_url = None
    if booking.ticket:  # checked in: the ticket's own live page (the code is its key here)
        day, number = booking.ticket.split("/", 1)
        ticket_url = visitor_path({"id": booking.ticket, "day": day, "number": number})
    return render_template(
        "booking/confirmation.html",
        booking=booking,
        service=service.name if service else booking.service,
        day_label=format_date(date.fromisoformat(booking.day), "EEEE, d MMMM y"),
        session=booking.session.replace(":", ".").replace("-", "\u2013"),
        opens=opens.strftime("%H.%M"),
        closes=closes.strftime("%H.%M"),
        qr=qr_image(booking.code),
        ticket=booking.ticket.split("/", 1)[1] if booking.ticket else None,
        ticket_url=ticket_url,
        cancel_url=url_for("booking.visitor_cancel", code=booking.code),
        cancelled_at=_when(booking.cancelled_at) if booking.cancelled_at else None,
        texts={
            "network_error": _("The server cannot be reached. Please try again."),
            "booking-not-cancellable": _(
                "This booking can no longer be cancelled: it was checked in or it has expired."
            ),
            "rate-limited": _("Too many tries from this device. Please try again later."),
        },
    )


def _when(at: datetime) -> str:
    """A time in the hall's zone (as stored), e.g. "26 November 2026, 09.05"."""
    return f"{format_date(at.date(), 'd MMMM y')}, {at.strftime('%H.%M')}"


def qr_image(text: str) -> str:
    """A QR code of the booking code as an SVG data: URL (the page inserts no markup)."""
    # make_qr: segno.make would choose a Micro QR for six characters, which cameras cannot read.
    return segno.make_qr(text, error="m").svg_data_uri(
        scale=8, border=2, dark="#111827", light="#ffffff"
    )


# --- import: the API of an external booking system ------------------------------------------------


@bp.post("/api/bookings")
def import_booking():
    """An external system (MPP Digital) books for its visitor: idempotent by `external_id`.

    201 with the new booking; 200 with the same booking when the external id was sent before.
    """
    _api_token_checked()
    body = request_body(schemas.ImportBooking)
    booking, created = make_booking(body, source="api", external_id=body.external_id)
    return jsonify(ok=True, booking=bookings.booking_dict(booking), created=created,
                   url=url_for("booking.confirmation", code=booking.code)), 201 if created else 200  # fmt: skip


def make_booking(
    body: schemas.NewBooking, source: str, external_id: str | None = None
) -> tuple[Booking, bool]:
    """Check the session's places and store a new booking in one transaction (under the lock).

    With an external id seen before, the booking made then, and False.
    """
    plan = plan_of(body.service)
    session = plan.session(body.session)
    day = _day(body.day)
    if body.notify and body.phone is not None:  # notices need a mobile: say so now, not at check-in
        notices.normalise_phone(body.phone)
    h = hub()
    settings = config().bookings

    def work(storage: Storage) -> tuple[Booking, bool]:
        if external_id is not None:
            found = storage.find_external_booking(external_id, h.tz)
            if found is not None:
                return found, False
        now = h.now()
        taken = storage.booked_places(plan.service, day.isoformat())
        bookings.admit(h.hall, plan, day, session, taken, now, h.tz, settings.days_ahead)
        code = bookings.make_code(secrets.token_bytes(bookings.CODE_LENGTH))
        while storage.find_booking(code, h.tz) is not None:
            code = bookings.make_code(secrets.token_bytes(bookings.CODE_LENGTH))
        booking = bookings.new_booking(
            plan, day, session, code, now, h.tz, name=body.name or "", phone=body.phone,
            id_last4=body.id_last4, source=source, external_id=external_id,
            notify=body.notify and body.phone is not None,
        )  # fmt: skip
        storage.add_booking(booking)
        return booking, True

    booking, created = h.write(work)
    if created:
        log.info("booking %s: %s %s %s (%s)", booking.code, booking.service, booking.day,
                 booking.session, source)  # fmt: skip
    return booking, created


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PanggilError("bad-date") from None


# --- check-in (the kiosk, the console) -------------------------------------------------------------


# Codes that name no booking, per address: guessing codes from the hall's Wi-Fi stops here.
WRONG_CODES = 20
WRONG_CODES_WINDOW_S = 300


def check_in(code_text: object) -> dict:
    """A typed or scanned code becomes a ticket (or its ticket again); the hub's answer."""
    wrong = current_app.extensions.get("panggil_booking_guesses")
    if wrong is None:
        wrong = current_app.extensions["panggil_booking_guesses"] = SlidingWindow(
            WRONG_CODES_WINDOW_S
        )
    key = "ip:" + ratelimit.client_address()
    if wrong.count(key) >= WRONG_CODES:
        raise PanggilError("rate-limited", retry_after=wrong.retry_after(key))
    h = hub()
    try:
        code = bookings.normalise_code(code_text)
        booking = h.read(lambda s: s.find_booking(code, h.tz))
        if booking is None:
            raise PanggilError("unknown-booking")
    except PanggilError:
        wrong.add(key)
        raise
    plan = plans().get(booking.service)
    return h.check_in_booking(
        code,
        early_minutes=config().bookings.checkin_early_minutes,
        priority=plan is not None and plan.priority,
    )


@bp.post("/api/bookings/checkin")
def counter_check_in():
    """The officer console checks a booking in at the desk (bearer: the counter's device token)."""
    header = request.headers.get("Authorization", "")
    hub().counter_with_token(
        header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    )
    body = request_body(schemas.CheckIn)
    response = check_in(body.code)
    result = response["result"]
    replayed = bool(response.get("replayed"))
    return jsonify(ok=True, ticket=result["ticket"], ahead=result["ahead"], booking=result["booking"],
                   replayed=replayed, seq=response["seq"]), 200 if replayed else 201  # fmt: skip


# --- cancelling (the visitor's page, the external system; the admin's list in admin_bookings) ----

# Cancels per address: the code is the only key, so trying codes from one address stops here.
CANCELS = 10
CANCELS_WINDOW_S = 600


@bp.post("/api/reservasi/<code>/cancel")
def visitor_cancel(code: str):
    """The visitor cancels from the confirmation page: JSON `{"code": <the same code>}`.

    A JSON body is what makes it CSRF-safe: a form on another site can post neither
    `application/json` nor an empty body here. Rate-limited per address, tried codes included.
    """
    window = current_app.extensions.get("panggil_booking_cancels")
    if window is None:
        window = current_app.extensions["panggil_booking_cancels"] = SlidingWindow(CANCELS_WINDOW_S)
    key = "ip:" + ratelimit.client_address()
    if window.count(key) >= CANCELS:
        raise PanggilError("rate-limited", retry_after=window.retry_after(key))
    window.add(key)
    if not request.get_data(cache=True).strip():
        raise PanggilError("unsupported-media-type")
    body = request_body(schemas.CancelBooking)
    wanted = bookings.normalise_code(code)
    if bookings.normalise_code(body.code) != wanted:
        raise PanggilError("unknown-booking")
    booking, changed = hub().cancel_booking(wanted, by="visitor")
    return jsonify(ok=True, booking=bookings.booking_dict(booking), cancelled=changed)


def _api_token_checked() -> None:
    """Refuse a request without `bookings.api_token` as its bearer token (none set: all refused)."""
    token = config().bookings.api_token
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise PanggilError("invalid-booking-token")


@bp.delete("/api/bookings/<code>")
def api_cancel(code: str):
    """The external system cancels by code: 200 with the booking; again: 200, `cancelled: false`."""
    _api_token_checked()
    booking, changed = hub().cancel_booking(bookings.normalise_code(code), by="api")
    return jsonify(ok=True, booking=bookings.booking_dict(booking), cancelled=changed)


@bp.delete("/api/bookings/external/<path:external_id>")
def api_cancel_external(external_id: str):
    """The external system cancels by its own id (the `external_id` it booked with)."""
    _api_token_checked()
    if len(external_id) > 64:
        raise PanggilError("unknown-booking")
    booking, changed = hub().cancel_booking(None, external_id=external_id, by="api")
    return jsonify(ok=True, booking=bookings.booking_dict(booking), cancelled=changed)
