"""The satisfaction survey's ways in, and its figures over HTTP.

Two pages show the same form (templates/survey/form.html, static/survey.js), both without a login:
- `/survey/<counter>/<tablet token>`: a tablet at a counter, paired by the admin's SKM page. It
  follows the public /display namespace and opens the form when its counter finishes a ticket
  (`ticket_finished` with that counter), then thanks and goes back to waiting.
- `/t/<day>/<number>/<visitor token>/survey`: the visitor's phone, from the slip's page once the
  ticket is done; the slip's token authorises the answer (server/ticket_links.py).

The answers go to `POST /api/survey/counters/<n>` and `POST /api/survey/tickets/<day>/<number>`;
`GET /api/reports/skm` gives the IKM for a period (an admin's session: see `may_read_reports`).
The rules are in server/skm.py, the storing and the figures in server/survey.py.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import report_api, schemas, skm, survey
from server.api import request_body
from server.protocol import PanggilError
from server.ticket_links import require_token

log = logging.getLogger(__name__)

bp = Blueprint("survey", __name__)
api = Blueprint("survey_api", __name__, url_prefix="/api")

# Seconds the tablet shows its thanks, and waits on an untouched form, before it waits again.
THANKS_SECONDS = 8
IDLE_SECONDS = 180

# The regulation's questions and answers (server/skm.py has them in Indonesian, which the survey
# catalogue repeats word for word: tests/test_skm.py checks it).
ELEMENT_TEXTS = {
    "U1": (_l("Requirements"),
           _l("How well do the requirements of the service match the kind of service?"),
           (_l("Not suitable"), _l("Less suitable"), _l("Suitable"), _l("Very suitable"))),
    "U2": (_l("Systems, mechanisms and procedures"),
           _l("How easy do you find the procedure of the service at this unit?"),
           (_l("Not easy"), _l("Less easy"), _l("Easy"), _l("Very easy"))),
    "U3": (_l("Completion time"),
           _l("How fast was the service given?"),
           (_l("Not fast"), _l("Less fast"), _l("Fast"), _l("Very fast"))),
    "U4": (_l("Cost/fee"),
           _l("How fair is the cost/fee of the service?"),
           (_l("Very expensive"), _l("Fairly expensive"), _l("Cheap"), _l("Free of charge"))),
    "U5": (_l("Product specification of the service type"),
           _l("How well does the result you were given match what the service standard lists?"),
           (_l("Not suitable"), _l("Less suitable"), _l("Suitable"), _l("Very suitable"))),
    "U6": (_l("Competence of the officers"),
           _l("How competent/able were the officers in the service?"),
           (_l("Not competent"), _l("Less competent"), _l("Competent"), _l("Very competent"))),
    "U7": (_l("Behaviour of the officers"),
           _l("How were the officers' manners in the service: polite and friendly?"),
           (_l("Not polite and friendly"), _l("Less polite and friendly"),
            _l("Polite and friendly"), _l("Very polite and friendly"))),
    "U8": (_l("Facilities and infrastructure"),
           _l("How good are the facilities and infrastructure?"),
           (_l("Poor facilities"), _l("Adequate facilities"), _l("Good facilities"),
            _l("Very good facilities"))),
    "U9": (_l("Handling of complaints, suggestions and feedback"),
           _l("How are complaints from service users handled?"),
           (_l("No complaint channel"), _l("There is one, but it does not work"),
            _l("It works, but not fully"), _l("Well managed"))),
}  # fmt: skip
assert tuple(ELEMENT_TEXTS) == skm.CODES

PROFILE = {
    "age": (_l("Age"), {"<20": _l("under 20"), "20-29": "20–29", "30-39": "30–39",
                        "40-49": "40–49", "50-59": "50–59", "60+": _l("60 or older")}),
    "sex": (_l("Sex"), {"L": _l("Male"), "P": _l("Female")}),
    "education": (_l("Education"), {code: code for code in skm.EDUCATIONS}),
    "occupation": (_l("Occupation"), {"PNS": _l("Civil servant (PNS)"), "TNI": "TNI",
                                      "POLRI": "POLRI", "SWASTA": _l("Private employee"),
                                      "WIRAUSAHA": _l("Self-employed"), "LAINNYA": _l("Other")}),
}  # fmt: skip


def hub():
    return current_app.extensions["panggil"]


def form_context() -> dict:
    """The form's questions, answers and profile lists in the visitor's language."""
    elements = [
        {"code": code, "name": str(name), "question": str(question),
         "answers": [str(a) for a in answers]}
        for code, (name, question, answers) in ELEMENT_TEXTS.items()
    ]  # fmt: skip
    profile = [
        {"field": field, "label": str(label), "choices": [(k, str(v)) for k, v in choices.items()]}
        for field, (label, choices) in PROFILE.items()
    ]
    return {"elements": elements, "profile": profile, "comment_limit": skm.COMMENT_LIMIT}


def page_texts() -> dict[str, str]:
    """The words survey.js shows."""
    return {
        "waiting": _("Thank you for visiting. This screen opens when your service is finished."),
        "for_ticket": _("Rating for number %(number)s", number="{number}"),
        "missing": _("Please answer every question (%(n)s left).", n="{n}"),
        "sending": _("Sending…"),
        "thanks": _("Thank you! Your rating helps us improve the service."),
        "already": _("This number has already been rated. Thank you!"),
        "not_open": _("Rating is open only for a number served today."),
        "error": _("Could not send. Please try again or tell the officer."),
        "connected": _("Live"),
        "disconnected": _("Offline, reconnecting..."),
    }


def _render(mode: str, options: dict):
    response = make_response(render_template(
        "survey/form.html", mode=mode, options=options, texts=page_texts(), **form_context(),
    ))  # fmt: skip
    # The page carries a token: never keep it in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/survey/<int:number>/<token>")
def tablet(number: int, token: str):
    """The survey tablet of a counter (paired with the URL on the admin's SKM page)."""
    try:
        survey.check_tablet_token(hub(), current_app.secret_key, number, token)
    except PanggilError:
        abort(404)
    found = hub().hall.counters.get(number)
    options = {
        "counter": number,
        "counter_name": found.name if found else str(number),
        "token": token,
        "post_url": f"/api/survey/counters/{number}",
        "thanks_seconds": THANKS_SECONDS,
        "idle_seconds": IDLE_SECONDS,
    }
    return _render("tablet", options)


@bp.get("/t/<day>/<number>/<token>/survey")
def phone(day: str, number: str, token: str):
    """The survey on the visitor's phone, from the slip's page once the ticket is done."""
    try:
        schemas.check(schemas.TicketRef, {"day": day, "number": number})
        status = hub().ticket_status(day, number)
        require_token(current_app.secret_key, status["ticket"]["id"], token)
    except PanggilError:
        abort(404)
    ticket = status["ticket"]
    state = "open"
    try:
        skm.check_open(ticket, hub().hall.day, survey.answered(hub(), ticket["id"]))
    except PanggilError as exc:
        state = "answered" if exc.code == "survey-already-answered" else "closed"
    options = {
        "ticket": {"id": ticket["id"], "number": ticket["number"]},
        "token": token,
        "state": state,
        "post_url": f"/api/survey/tickets/{ticket['day']}/{ticket['number']}",
        "back_url": f"/t/{ticket['day']}/{ticket['number']}/{token}",
    }
    return _render("phone", options)


# --- the API ------------------------------------------------------------------------------------


@api.post("/survey/tickets/<day>/<number>")
def answer_from_phone(day: str, number: str):
    """A visitor rates their ticket; the ticket's visitor token is the credential."""
    body = request_body(schemas.SurveyFromPhone)
    try:
        schemas.check(schemas.TicketRef, {"day": day, "number": number})
    except PanggilError:
        raise PanggilError("unknown-ticket") from None
    status = hub().ticket_status(day, number)
    ticket_id = status["ticket"]["id"]
    require_token(current_app.secret_key, ticket_id, body.token)
    survey.record(hub(), ticket_id, body.model_dump(), "phone")
    log.info("survey answer for %s (phone)", ticket_id)
    return jsonify(ok=True, ticket=ticket_id), 201


@api.post("/survey/counters/<int:number>")
def answer_from_tablet(number: int):
    """A counter's survey tablet sends the rating of the ticket its counter just finished."""
    body = request_body(schemas.SurveyFromTablet)
    survey.check_tablet_token(hub(), current_app.secret_key, number, body.token)
    survey.record(hub(), body.ticket, body.model_dump(), "tablet", counter=number)
    log.info("survey answer for %s (tablet at counter %d)", body.ticket, number)
    return jsonify(ok=True, ticket=body.ticket), 201


def may_read_reports() -> None:
    """Raise unless the request may read the hall's reports: an admin's session or a read-only
    report token, the same rule as the period reports (server/report_api.py)."""
    report_api.check_reader()


@api.get("/reports/skm")
def skm_report():
    """The IKM for `?from=YYYY-MM-DD&to=YYYY-MM-DD`, optionally one `service` or `agency`."""
    may_read_reports()
    first, last = survey.period(request.args.get("from"), request.args.get("to"))
    service = request.args.get("service") or None
    agency = request.args.get("agency") or None
    return jsonify(ok=True, **survey.report(hub(), first, last, service, agency))
