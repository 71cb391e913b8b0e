"""The officer console: big buttons for one counter, live over Socket.IO on /counter.

The page only renders; everything it shows and does goes through the protocol in
docs/protocol.md, with the counter's token handed to the logged-in officer's page here.
An officer bound to a counter goes straight to it; an admin or an unbound officer picks one.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import officers, protocol
from server.pages.auth import current_user, login_required

log = logging.getLogger(__name__)

bp = Blueprint("console", __name__, url_prefix="/console")

# How long the page waits for an acknowledgement, and how long it keeps retrying a press whose
# answer was lost in a drop (with the same request id), in milliseconds.
ACK_TIMEOUT_MS = 4000
RETRY_WINDOW_MS = 20000

# The buttons: command, label, letter shortcut, numeric-keypad shortcut (as the hardware client).
BUTTONS = [
    (protocol.CALL_NEXT, _l("Call next"), "N", "+"),
    (protocol.RECALL, _l("Recall"), "U", "."),
    (protocol.SKIP, _l("Skip"), "L", "-"),
    (protocol.FINISH, _l("Finish"), "S", "*"),
    (protocol.TRANSFER, _l("Transfer"), "A", "/"),
    (protocol.CALL_TICKET, _l("Call number"), "P", ""),
]

# The break buttons, outside the command grid: command, label, letter shortcut.
BREAK_BUTTONS = [
    (protocol.PAUSE, _l("Break"), "I"),
    (protocol.RESUME, _l("Resume"), "K"),
]

# The reasons of a break in the officer's words, in the order of their number keys.
BREAK_REASONS = {
    "istirahat": _l("rest"),
    "sholat": _l("prayer"),
    "rapat": _l("meeting"),
    "lainnya": _l("other"),
}
assert tuple(BREAK_REASONS) == protocol.BREAK_REASONS

# Protocol error codes in the officer's words (the server's `message` is Indonesian only).
ERROR_TEXTS = {
    "bad-request": _l("Invalid request."),
    "invalid-token": _l("Wrong counter token."),
    "unknown-counter": _l("Unknown or inactive counter."),
    "unknown-service": _l("Unknown service."),
    "unknown-ticket": _l("No such ticket number today."),
    "service-closed": _l("The service is closed."),
    "no-waiting-tickets": _l("Nobody is waiting."),
    "no-current-ticket": _l("No ticket is being served."),
    "ticket-not-callable": _l("That ticket is not waiting or skipped."),
    "service-not-served": _l("This counter does not serve that ticket's service."),
    "same-service": _l("The ticket is already in that service."),
    "officer-required": _l("Sign in first: this hall records who serves each ticket."),
    "already-signed-in": _l("You are already signed in at this counter."),
    "not-signed-in": _l("Nobody is signed in at this counter."),
    "officer-busy": _l("You still hold a ticket at another counter: finish it there first."),
    "login-required": _l("Your login has ended: reload the page and log in again."),
    "forbidden": _l("You may not sign in at this counter."),
    "request-id-reused": _l("Request id already used for another command."),
    "counter-on-break": _l("The counter is on a break: resume first."),
    "ticket-held": _l("Finish, skip or transfer the ticket being served first."),
    "not-on-break": _l("The counter is not on a break."),
    "already-on-break": _l("The counter is already on a break."),
    "hall-on-break": _l("The hall is on a break: calls resume after it."),
    "internal-error": _l("Server error: nothing was changed."),
}


def hub():
    return current_app.extensions["panggil"]


def _allowed(user: dict, number: int) -> bool:
    """Admins use any counter; an officer bound to a counter uses only that one."""
    return officers.may_use_counter(user, number)


@bp.get("/")
@login_required("officer", "admin")
def index():
    """Go to the officer's own counter, or pick one."""
    user = current_user()
    if user["role"] == "officer" and user.get("counter"):
        return redirect(url_for("console.counter", number=user["counter"]))
    counters = [c for c in hub().snapshot()["counters"] if c["active"]]
    services = {s["code"]: s["name"] for s in hub().snapshot()["services"]}
    return render_template("console/pick.html", counters=counters, services=services)


@bp.get("/<int:number>")
@login_required("officer", "admin")
def counter(number: int):
    """The console of one counter."""
    user = current_user()
    if not _allowed(user, number):
        log.warning("user %s refused the console of counter %d", user["username"], number)
        abort(403)
    h = hub()
    token = h.tokens.get(number)
    counter = h.hall.counters.get(number)
    if token is None or counter is None or not counter.active:
        abort(404)
    services = {s["code"]: s["name"] for s in h.snapshot()["services"]}
    data = {
        "counter": number,
        "token": token,
        "ackTimeoutMs": ACK_TIMEOUT_MS,
        "retryWindowMs": RETRY_WINDOW_MS,
        "texts": _texts(),
        "errors": {code: str(text) for code, text in ERROR_TEXTS.items()},
        "reasons": {code: str(text) for code, text in BREAK_REASONS.items()},
        # Who the page is for: it signs them in (the server takes the user from the socket's
        # web session, never from this) and decides whether to do so by itself, see console.js.
        "user": {"username": user["username"], "role": user["role"]},
        "checkinUrl": url_for("booking.counter_check_in"),
    }
    response = make_response(render_template(
        "console/console.html", data=data, counter=counter, services=services, buttons=BUTTONS,
        break_buttons=BREAK_BUTTONS, reasons=BREAK_REASONS,
    ))  # fmt: skip
    # The page carries the counter's token: never keep it in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _texts() -> dict[str, str]:
    """The words console.js needs; %(name)s placeholders are filled in by the script."""
    return {
        "connecting": _("Connecting to the server…"),
        "connected": _("Connected"),
        "disconnected": _("Disconnected from the server — reconnecting…"),
        "offline": _("Disconnected from the server — buttons are not sent."),
        "reconnecting": _("Reconnecting automatically…"),
        "refused": _("The server refused this counter: %(reason)s"),
        "sending": _("Sending…"),
        "retrying": _("Connection lost while sending. The same command will be sent again, once, "
                      "when the connection is back…"),
        "notDelivered": _("Disconnected for too long: the command may not have been sent. "
                          "Check the ticket being served when the connection is back."),
        "nobody": _("Nobody"),
        "detail": _("%(service)s · called at %(time)s · call #%(calls)s"),
        "closed": _("closed"),
        "call": _("Call"),
        "noSkipped": _("No skipped tickets."),
        "noTargets": _("No other open service to transfer to."),
        "transferTitle": _("Transfer %(number)s to:"),
        "typeNumber": _("Type a ticket number, e.g. A012."),
        "calling": _("Calling %(number)s."),
        "callingFinished": _("Calling %(number)s (%(finished)s finished)."),
        "recalled": _("Calling %(number)s again."),
        "skipped": _("%(number)s skipped."),
        "finished": _("%(number)s finished."),
        "transferred": _("%(number)s transferred to %(service)s."),
        "replayed": _(" Delivered after the connection came back, applied once."),
        "officer": _("Officer: %(name)s"),
        "noOfficer": _("No officer signed in"),
        "signedIn": _("Signed in as %(name)s."),
        "signedOut": _("Signed out. Calls from this counter are no longer recorded as yours."),
        "onBreak": _("On break (%(reason)s)"),
        "backAt": _("back at %(time)s"),
        "since": _("since %(time)s"),
        "paused": _("Break started. The call buttons are off until you resume."),
        "resumed": _("Back in service."),
        "oldest": _("Longest wait: %(n)s min"),
        "pastTarget": _("%(service)s past the target of %(n)s min"),
        "minutes": _("waited %(n)s min"),
        "hallBreak": _("The whole hall is on a break: %(label)s. Calls resume at %(time)s."),
        "checkedIn": _("Booking %(code)s checked in: ticket %(number)s (%(service)s), %(ahead)s ahead."),
        "checkedInAgain": _("Booking %(code)s was checked in before: its ticket is %(number)s."),
    }  # fmt: skip
