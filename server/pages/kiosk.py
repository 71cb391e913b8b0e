"""The ticket kiosk (anjungan): a touch page, and the one request it may make: take a number.

`POST /api/kiosk/<kiosk id>/tickets` reserves the number (hub.issue), prints the slip on the
kiosk's printer, and cancels the number when printing fails, so no ghost ticket waits in a queue
that nobody holds a slip for (unless the slip may have printed: then the screen shows the number). Kiosks come from the `kiosks:` settings (printing.parse_kiosks); a hall
without that section gets screen-only kiosks under any id.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from server import engine, printing, ratelimit, schedule, schedule_text, schemas
from server.api import request_body
from server.pages import booking
from server.pages.visitor import visitor_path
from server.printing import KioskSpec, PrinterError, PrinterSpec, Slip
from server.protocol import PanggilError
from server.ticket_links import ticket_token
from server.tts import run_blocking

log = logging.getLogger(__name__)

bp = Blueprint("kiosk", __name__)


def hub():
    return current_app.extensions["panggil"]


def kiosks() -> dict[str, KioskSpec]:
    """The configured kiosks, validated once per app (ValueError names a bad key)."""
    cached = current_app.extensions.get("panggil_kiosks")
    if cached is None:
        raw = current_app.config.get("PANGGIL_KIOSKS")
        if raw is None:
            raw = getattr(current_app.config["PANGGIL_CONFIG"], "kiosks", None)
            if hasattr(raw, "model_dump"):
                raw = raw.model_dump()
        cached = printing.parse_kiosks(raw)
        current_app.extensions["panggil_kiosks"] = cached
    return cached


def find_kiosk(kiosk_id: str) -> KioskSpec:
    configured = kiosks()
    if kiosk_id in configured:
        return configured[kiosk_id]
    if configured or not printing.KIOSK_ID_RE.match(kiosk_id):
        raise PanggilError("unknown-kiosk")
    return KioskSpec(kiosk_id, kiosk_id, PrinterSpec())


# --- pages ------------------------------------------------------------------------------------


@bp.get("/kiosk")
def index():
    """The kiosk start: the only kiosk, a list to choose from, or a screen-only kiosk."""
    configured = kiosks()
    if len(configured) == 1:
        return redirect(url_for("kiosk.screen", kiosk_id=next(iter(configured))))
    if not configured:
        return redirect(url_for("kiosk.screen", kiosk_id="layar"))
    return render_template("kiosk/choose.html", kiosks=list(configured.values()))


@bp.get("/kiosk/<kiosk_id>")
def screen(kiosk_id: str):
    """The full-screen touch page of one kiosk."""
    try:
        kiosk = find_kiosk(kiosk_id)
    except PanggilError:
        abort(404)
    return render_template(
        "kiosk/kiosk.html",
        kiosk=kiosk,
        texts=page_texts(),
        catalogue=catalogue(),
        api_url=url_for("kiosk.take_ticket", kiosk_id=kiosk.id),
        checkin_url=url_for("kiosk.check_in", kiosk_id=kiosk.id),
        bookings_open=booking.checks_in(),
        services_url=url_for("kiosk.services", kiosk_id=kiosk.id),
    )


def page_texts() -> dict[str, str]:
    """Every string the kiosk script shows, in the visitor's language."""
    return {
        "waiting": _("%(n)s waiting", n="{n}"),
        "open": _("Open"),
        "service-closed": _("Closed"),
        "outside-hours": _("Outside service hours"),
        "quota-reached": _("Today's quota is used up"),
        "priority-not-allowed": _("No priority queue"),
        "hours": _("Hours today: %(hours)s", hours="{hours}"),
        "no_hours_today": _("Not open today"),
        "closed_message": _(
            "This service is closed at the moment. Please ask at the information desk."
        ),
        "outside_message": _(
            "Tickets for this service are only given during its hours: %(hours)s.", hours="{hours}"
        ),
        "quota_message": _(
            "Today's tickets for this service are all taken. Please come back tomorrow."
        ),
        "priority_message": _("This service has no priority queue. Please take a regular number."),
        "ahead": _("%(n)s people ahead of you", n="{n}"),
        "none_ahead": _("You are next"),
        "printing": _("Please take your printed ticket."),
        "not_printed": _("Please note your number or scan the code with your phone."),
        "network_error": _("The kiosk cannot reach the server. Please ask an officer."),
        "disability": _("Disability"),
        "elderly": _("Elderly"),
        "pregnant": _("Pregnant"),
        "printer_error": _("The printer has a problem. Please ask an officer."),
        "services_open": _("%(n)s of %(total)s services open", n="{n}", total="{total}"),
        "priority_tag": _("Priority"),
        # Why a service takes no numbers now (the schedule's reasons), on its card.
        "reason_holiday": _("Holiday"),
        "reason_closed-day": _("Closed today"),
        "reason_not-today": _("Not open today"),
        "reason_before-opening": _("Not open yet"),
        "reason_hall-break": _("On a break"),
        "reason_service-break": _("On a break"),
        "reason_cutoff": _("No more numbers today"),
        "reason_after-closing": _("Closed for today"),
        # Bookings: the check-in ("I have a booking") and its refusals.
        "booking": _("Booking"),
        "checked_in": _("Checked in: your queue number"),
        "unknown-booking": _("No booking has this code. Please check it and try again."),
        "booking-too-early": _(
            "Check-in for this booking is not open yet. Please come back closer to your session."
        ),
        "booking-expired": _(
            "This booking has expired or is not for today. Please take a regular number."
        ),
        "booking-cancelled": _("This booking was cancelled. Please take a regular number."),
        "camera_off": _("No camera here: type the code below."),
        "camera_on": _("Hold the QR code of your booking in front of the camera."),
    }


def catalogue() -> dict:
    """Agencies and services with what a visitor needs to choose: open or why not."""
    h = hub()
    detail = h.services_detail()
    now = h.now()
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    services = [service_state(s, weekday, enforce_hours=h.hall.enforce_hours) for s in detail]
    for service in services:
        status = service["status"]
        service["closed_text"] = (
            schedule_text.service_text(service["name"], status, now)
            if service["state"] == "outside-hours"
            else None
        )
    agencies = [
        {"code": a.code, "name": a.name}
        for a in h.hall.agencies.values()
        if any(s["agency"] == a.code for s in services)
    ]
    return {"agencies": agencies, "services": services, "now": now.isoformat(timespec="seconds"),
            "hall_closed": hall_closed_text(h.hall, now)}  # fmt: skip


def hall_closed_text(hall, now) -> str | None:
    """One message for the whole hall when it is closed or on a break (a holiday: not one card
    per service saying the same thing); None when it is open or sets no hours."""
    status = engine.hall_status(hall, now)
    if status.state == "open":
        return None
    return schedule_text.hall_text(schedule.status_dict(status), now)


def service_state(detail: dict, weekday: str, *, enforce_hours: bool = True) -> dict:
    """One service as the kiosk shows it; `state` is open or the error code a tap would get.

    `hours_today` is None (no hours line on the tile) when the service has no hours, and also when
    the hall does not enforce them (`hall.enforce_hours: false`, the demo): tickets are then given
    at any time, and "Hours today" or "Not open today" beside "Open" would contradict the tap.
    """
    if not detail["active"]:
        state = "service-closed"
    elif not detail["open_now"]:
        state = "outside-hours"
    elif detail["daily_quota"] is not None and detail["issued_today"] >= detail["daily_quota"]:
        state = "quota-reached"
    else:
        state = "open"
    hours = detail["hours"]
    today = None if hours is None or not enforce_hours else hours.get(weekday, "")
    return {
        "code": detail["code"],
        "name": detail["name"],
        "agency": detail["agency"],
        "prefix": detail["prefix"],
        "waiting": detail["waiting"],
        "priority_allowed": detail["priority_allowed"],
        "state": state,
        "hours_today": None if today is None else today.replace(":", "."),
        "status": detail["status"],
    }


# --- the kiosk's requests ---------------------------------------------------------------------


@bp.get("/api/kiosk/<kiosk_id>/services")
def services(kiosk_id: str):
    """The kiosk refreshes its tiles (open, closed, quota) every few seconds."""
    find_kiosk(kiosk_id)
    return jsonify(ok=True, **catalogue())


@bp.post("/api/kiosk/<kiosk_id>/tickets")
def take_ticket(kiosk_id: str):
    """Reserve a number, print it, and release it again if the printer fails."""
    kiosk = find_kiosk(kiosk_id)
    body = request_body(schemas.KioskTicket)
    h = hub()
    with ratelimit.ticket_slot():
        try:
            response = h.issue(body.service, body.priority)
        except PanggilError as exc:
            add_closed_text(h, exc, body.service)
            raise
    ticket, ahead = response["result"]["ticket"], response["result"]["ahead"]
    url = visitor_url(kiosk, ticket)
    answer = {"ok": True, "ticket": ticket, "ahead": ahead, "seq": response["seq"], "visitor_url": url,
              "token": ticket_token(current_app.secret_key, ticket["id"]), "printed": False,
              "qr_image": qr_image(url)}  # fmt: skip
    if not kiosk.printer.enabled:
        return jsonify(answer), 201
    try:
        printing.send(
            printing.render_slip(slip_for(h, ticket, ahead, url), kiosk.printer), kiosk.printer
        )
    except Exception as exc:  # PrinterError, or a bug in rendering: either way no slip is certain
        level = logging.ERROR if isinstance(exc, PrinterError) else logging.CRITICAL
        log.log(level, "kiosk %s: printing %s on %s failed: %s", kiosk.id, ticket["number"],
                kiosk.printer.describe(), exc, exc_info=not isinstance(exc, PrinterError))  # fmt: skip
        # A slip that went out whole may have printed: taking its number back would leave a
        # visitor holding a cancelled ticket. Then (or when a counter called the number in the
        # meantime) the visitor gets the number on screen instead.
        if not getattr(exc, "sent", False) and release(h, kiosk, ticket):
            raise PanggilError("printer-error") from None
        answer["print_error"] = PanggilError("printer-error").message
        return jsonify(answer), 201
    answer["printed"] = True
    return jsonify(answer), 201


@bp.post("/api/kiosk/<kiosk_id>/checkin")
def check_in(kiosk_id: str):
    """A booked visitor checks in with the code (scanned or typed): the ticket, printed if it can.

    The same booking checked in again answers with the same ticket. A slip that fails to print is
    not taken back (the booking is used): the screen shows the number instead.
    """
    kiosk = find_kiosk(kiosk_id)
    body = request_body(schemas.CheckIn)
    h = hub()
    response = booking.check_in(body.code)
    result = response["result"]
    ticket, ahead = result["ticket"], result["ahead"]
    url = visitor_url(kiosk, ticket)
    answer = {"ok": True, "ticket": ticket, "ahead": ahead, "booking": result["booking"],
              "replayed": bool(response.get("replayed")), "seq": response["seq"],
              "visitor_url": url, "token": ticket_token(current_app.secret_key, ticket["id"]),
              "printed": False, "qr_image": qr_image(url)}  # fmt: skip
    if kiosk.printer.enabled and not answer["replayed"]:
        try:
            printing.send(
                printing.render_slip(slip_for(h, ticket, ahead, url), kiosk.printer), kiosk.printer
            )
            answer["printed"] = True
        except Exception as exc:  # the booking is checked in: the number goes on the screen
            log.error(
                "kiosk %s: printing checked-in %s failed: %s", kiosk.id, ticket["number"], exc
            )
            answer["print_error"] = PanggilError("printer-error").message
    return jsonify(answer), 200 if answer["replayed"] else 201


def add_closed_text(h, exc: PanggilError, service: str) -> None:
    """An `outside-hours` refusal gets why and when the service opens, in the visitor's language
    (the protocol's message stays Indonesian); the kiosk and the phone's /ambil share it."""
    if exc.code == "outside-hours" and "status" in exc.details:
        name = h.hall.services[service].name
        exc.details["closed_text"] = schedule_text.service_text(
            name, exc.details["status"], h.now()
        )


def release(h, kiosk: KioskSpec, ticket: dict) -> bool:
    """Cancel a number whose slip did not print; False if it is no longer waiting."""
    try:
        h.cancel(ticket["number"])
    except PanggilError as exc:
        log.warning(
            "kiosk %s: could not release %s after a print failure: %s",
            kiosk.id,
            ticket["id"],
            exc.code,
        )
        return False
    log.info("kiosk %s: %s released after a print failure", kiosk.id, ticket["id"])
    return True


def slip_for(h, ticket: dict, ahead: int, url: str) -> Slip:
    service = h.hall.services[ticket["service"]]
    agency = h.hall.agencies.get(service.agency)
    return Slip(
        hall=h.hall_info()["name"],
        agency=agency.name if agency else "",
        service=service.name,
        number=ticket["number"],
        issued_at=datetime.fromisoformat(ticket["issued_at"]),
        ahead=ahead,
        url=url,
        priority=ticket["priority"],
    )


def visitor_url(kiosk: KioskSpec, ticket: dict) -> str:
    """The visitor page's full, tokened address, as a phone on the hall's Wi-Fi must reach it."""
    path = visitor_path(ticket)
    base = kiosk.public_url or request.url_root.rstrip("/")
    if not kiosk.public_url and urlsplit(base).hostname in ("127.0.0.1", "localhost", "::1"):
        log.warning("kiosk %s is opened on %s: phones cannot reach that; set kiosks.%s.public_url",
                    kiosk.id, base, kiosk.id)  # fmt: skip
    return base + path


def qr_image(url: str) -> str:
    """The visitor link as a QR code in an SVG data: URL, for the kiosk screen's <img>.

    An image, not markup: the page inserts no HTML, and the Content-Security-Policy allows data:
    images only. Making it takes 5-7 ms of Python (segno) per ticket: under eventlet in a real
    thread, where the event loop gets its turns while it runs, so no TV waits for a kiosk.
    """
    return run_blocking(
        lambda: segno.make(url, error="m").svg_data_uri(
            scale=6, border=2, dark="#111827", light="#ffffff"
        )
    )
