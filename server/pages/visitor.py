"""The visitor's phone page (the QR code on the slip): one ticket's live state and estimated wait.

The slip's URL carries the ticket's token (server.ticket_links): only there does the page show the
place in the queue, the estimate and the status. Anyone may type a bare `/t/<day>/<number>`; that
page says only what the TV in the hall says too: whether the number was called, and where to.

Read-only: the page renders the state at once (it works without JavaScript), then follows its
own ticket and its service's queue summary on the /visitor namespace (server/visitor_events.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from server import engine, notice_sender, notices, payloads, schedule_text
from server.estimate import estimate_wait_minutes, service_seconds
from server.protocol import PanggilError
from server.ticket_links import require_token, ticket_token

log = logging.getLogger(__name__)

bp = Blueprint("visitor", __name__)

DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER_RE = re.compile(r"^[A-Za-z]{1,2}\d{3,6}$")
RECENT_FINISHED = 20
HISTORY_DAYS = 7
# Many phones re-read their status after each call: the service times are read at most this often.
TIMES_CACHE_SECONDS = 15
# The words a bare number's page needs (the others would hint at what it does not show).
NUMBER_TEXTS = {"called_to", "not_called", "counter_fallback", "connected", "disconnected", "busy"}


def hub():
    return current_app.extensions["panggil"]


def visitor_path(ticket: dict) -> str:
    """The tokened address of a ticket's page (for the kiosk's QR, the slip and the API)."""
    token = ticket_token(current_app.secret_key, ticket["id"])
    return url_for("visitor.ticket_page", day=ticket["day"], number=ticket["number"], token=token)


@bp.get("/t/<day>/<number>/<token>")
def ticket_page(day: str, number: str, token: str):
    """The live page of one ticket, for the holder of its slip."""
    try:
        view = ticket_view(day, number, token)
    except PanggilError:
        abort(404)
    number = view["ticket"]["number"]
    status_url = url_for("visitor.ticket_status", day=day, number=number, token=token)
    # The satisfaction survey (server/pages/survey.py), offered once the ticket is done.
    survey_url = url_for("survey.phone", day=day, number=number, token=token)
    return render_template(
        "visitor/ticket.html",
        view=view,
        texts=page_texts(),
        status_url=status_url,
        survey_url=survey_url,
        token=token,  # the page's script follows its ticket on /visitor with it
        contact=contact_view(view["ticket"], token),  # SMS/WhatsApp notices
    )


@bp.get("/t/<day>/<number>/<token>/status")
def ticket_status(day: str, number: str, token: str):
    """The page's state as JSON, re-read when an event touches the ticket's service."""
    return jsonify(ok=True, **ticket_view(day, number, token))


@bp.get("/t/<day>/<number>")
def number_page(day: str, number: str):
    """A typed-in number: only what the hall's TV shows about it."""
    try:
        view = number_view(day, number)
    except PanggilError:
        abort(404)
    return render_template(
        "visitor/number.html",
        view=view,
        texts={key: text for key, text in page_texts().items() if key in NUMBER_TEXTS},
        status_url=url_for("visitor.number_status", day=day, number=view["ticket"]["number"]),
    )


@bp.get("/t/<day>/<number>/status")
def number_status(day: str, number: str):
    """The bare number's state as JSON: called or not, and to which counter."""
    return jsonify(ok=True, **number_view(day, number))


def number_view(day: str, number: str) -> dict:
    """Whether a number was called and where to: no place in the queue, service or status."""
    status = _find(day, number)
    ticket, call = status["ticket"], status["call"]
    counter = call["counter"] if call else None
    return {
        "ticket": {"id": ticket["id"], "number": ticket["number"], "day": ticket["day"]},
        "called": call is not None,
        "kind": call["kind"] if call else None,
        "counter": {"number": counter["number"], "name": counter["name"]} if counter else None,
        "hall": hub().hall_info()["name"],
    }


def _find(day: str, number: str) -> dict:
    if not DAY_RE.match(day) or not NUMBER_RE.match(number):
        raise PanggilError("unknown-ticket")
    return hub().ticket_status(day, number)


def ticket_view(day: str, number: str, token: str) -> dict:
    """Ticket, people ahead, last call, estimated minutes and names, for the slip's holder.

    A wrong token is answered as an unknown ticket: it must not tell that the number exists.
    """
    status = _find(day, number)
    ticket = status["ticket"]
    require_token(current_app.secret_key, ticket["id"], token)
    h = hub()
    service = h.hall.services.get(ticket["service"])
    agency = h.hall.agencies.get(service.agency) if service else None
    estimate = None
    if ticket["status"] == "waiting":
        # Only the counters serving now: one on a break does not shorten anyone's wait.
        counters = h.hall.open_counters(ticket["service"])
        estimate = estimate_wait_minutes(
            status["ahead"], recent_service_times(h, ticket["service"]), counters
        )
    name = service.name if service else ticket["service"]
    now = h.now()
    service_status = payloads.service_status(h.hall, service, now) if service else None
    closed = service_status is not None and not service_status["open"]
    return {
        **status,
        "estimate_minutes": estimate,
        "service": {
            "code": ticket["service"],
            "name": name,
            "agency": agency.name if agency else "",
            # Whether it takes numbers now, and if not the sentence why and when it opens.
            "status": service_status,
            "closed_text": schedule_text.service_text(name, service_status, now)
            if closed
            else None,
            # "Almost your turn": the page alerts at this many people ahead or fewer.
            "alert_ahead": service.alert_ahead if service else engine.Service.alert_ahead,
        },
        "hall": h.hall_info()["name"],
    }


def recent_service_times(h, service: str) -> list[float]:
    """Service times (seconds) of the service's latest finished tickets, over the last week."""
    cache = current_app.extensions.setdefault("panggil_service_times", {})
    hit = cache.get(service)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    since = (date.fromisoformat(h.hall.day) - timedelta(days=HISTORY_DAYS)).isoformat()

    pairs = []
    for data in h.read(lambda s: s.finished_event_data(service, since, RECENT_FINISHED)):
        try:
            ticket = json.loads(data)["ticket"]
            pairs.append((_time(ticket.get("called_at")), _time(ticket.get("finished_at"))))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable finished event for %s", service)
    times = service_seconds(pairs)
    cache[service] = (time.monotonic() + TIMES_CACHE_SECONDS, times)
    return times


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def page_texts() -> dict[str, str]:
    """Every string the page's script may show, in the visitor's language."""
    return {
        "waiting": _("Waiting"),
        "ahead": _("%(n)s people ahead of you", n="{n}"),
        "none_ahead": _("You are next"),
        "estimate": _("Estimated wait: about %(n)s minutes", n="{n}"),
        "estimate_one": _("Estimated wait: about 1 minute"),
        "no_estimate": _("No estimate yet"),
        "called": _("Called: please go to %(counter)s", counter="{counter}"),
        "recalled": _("Called again: please go to %(counter)s now", counter="{counter}"),
        "skipped": _(
            "You were called but did not come. Please see the officer at %(counter)s.",
            counter="{counter}",
        ),
        "done": _("Served. Thank you for your visit."),
        "cancelled": _("This number was cancelled."),
        "expired": _("This number is no longer valid: the service day has ended."),
        "connected": _("Live"),
        "disconnected": _("Offline, reconnecting..."),
        # Refused a live connection (too-many-phones): the page re-reads its status slowly.
        "busy": _("The hall's network is busy: this page updates every 30 seconds."),
        "counter_fallback": _("the counter"),
        "not_called": _("Not called yet"),
        "called_to": _("Called to %(counter)s", counter="{counter}"),
        # "Almost your turn" (the service's alert_ahead) and the sound/vibration switch.
        "almost": _("Almost your turn. Please wait near the counters."),
        "almost_next": _("You are next. Please wait near the counters."),
        "almost_title": _("Almost your turn"),
        "alerts_off": _("Tap so that this phone rings and vibrates when your turn is near."),
        "alerts_awake": _(
            "Sound and vibration are on. The screen stays on while this page is open."
        ),
        "alerts_asleep": _(
            "Sound and vibration are on. Keep the screen on: a web page cannot ring while the "
            "phone is locked."
        ),
        "alerts_no_vibrate": _("This phone's browser cannot vibrate; it rings only."),
    }


def contact_view(ticket: dict, token: str) -> dict | None:
    """What the slip's page shows of SMS/WhatsApp notices (the form posts to
    server/pages/visitor_contact.py): None when the hall sends none and the ticket has no number."""
    h = hub()
    kept = notice_sender.contact(h, ticket["id"])
    if not notice_sender.gateway(h).active and not kept:
        return None
    if ticket["status"] not in ("waiting", "called", "skipped") and not kept:
        return None
    said = request.args.get("contact", "")
    return {
        "action": url_for(
            "visitor_contact.set_contact", day=ticket["day"], number=ticket["number"], token=token
        ),
        "masked": notices.mask(kept),
        "can_add": ticket["status"] == "waiting",
        "message": _contact_messages().get(said),
        "error": said not in ("saved", "removed"),
    }


def _contact_messages() -> dict[str, str]:
    return {
        "saved": _("Saved: we will send the messages to this number."),
        "removed": _("Your number was removed."),
        "bad-phone": _("That is not an Indonesian mobile number. Write it like 0812 3456 7890."),
        "rate-limited": _("Too many tries. Please wait a few minutes."),
        "notices-off": _("This hall does not send WhatsApp/SMS notices now."),
        "ticket-ended": _("This number is no longer in the queue."),
        "bad-request": _("That is not an Indonesian mobile number. Write it like 0812 3456 7890."),
    }
