"""Admin: webhooks (under Settings): register a receiver, see its deliveries, pause or delete it.

The secret is made by the server and shown on the answer to the form only (never in a redirect or
the flash cookie); the rules live in server/webhooks.py.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from server import webhooks
from server.pages.admin_common import attempt, bp, hub, render, save_other
from server.pages.admin_forms import FormError, Problem

DELIVERIES_SHOWN = 50

PROBLEMS = {
    "name": Problem("Give the webhook a name (which system receives it)."),
    "url": Problem("Enter an address starting with http:// or https:// (at most 500 characters)."),
    "events": Problem("Choose at least one event."),
}


def event_labels() -> dict[str, str]:
    return {
        "ticket.issued": _("Ticket issued"),
        "ticket.called": _("Ticket called (and called again)"),
        "ticket.finished": _("Service finished"),
        "ticket.skipped": _("Ticket skipped"),
        "ticket.transferred": _("Ticket transferred"),
        "ticket.cancelled": _("Ticket cancelled"),
        "ticket.expired": _("Ticket expired"),
        "booking.checked_in": _("Booking checked in (its ticket issued)"),
        "booking.cancelled": _("Booking cancelled"),
    }


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks_page():
    """The list of hooks with their state, the delivery log, and the form for a new hook."""
    values: dict = {"events": ["ticket.issued", "ticket.called", "ticket.finished"]}
    errors: dict = {}
    made = None
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
                  "events": request.form.getlist("events")}  # fmt: skip
        secret = webhooks.new_secret()

        def save() -> None:
            name, url, events, wrong = webhooks.check_hook(values["name"], values["url"],
                                                            values["events"])  # fmt: skip
            if wrong:
                raise FormError({field: PROBLEMS[field] for field in wrong})
            h = hub()
            save_other("webhook.add", name,
                       lambda s: s.add_webhook(name, url, secret, events, h.now(), None),
                       {"url": url, "events": events})  # fmt: skip
            values.update(name=name, url=url)

        errors = attempt(save)
        if not errors:
            made = {"name": values["name"], "secret": secret}
            values = {"events": values["events"]}
    h = hub()
    hooks, deliveries = h.read(
        lambda s: (s.list_webhooks(), s.webhook_deliveries(DELIVERIES_SHOWN))
    )
    for hook in hooks:
        hook.pop("secret")  # never on a page after the first answer
    return render("admin/webhooks.html", values=values, errors=errors, made=made, hooks=hooks,
                  deliveries=deliveries, labels=event_labels(), active_nav="admin.settings",
                  max_attempts=webhooks.MAX_ATTEMPTS)  # fmt: skip


@bp.post("/webhooks/<int:number>/active")
def set_webhook_active(number: int):
    """Pause a hook, or resume it from now on (events in between are not sent)."""
    active = request.form.get("active") == "1"
    action = "webhook.resume" if active else "webhook.pause"
    name = save_other(action, str(number), lambda s: s.set_webhook_active(number, active))
    if name is None:
        flash(_("That webhook no longer exists."), "error")
    elif active:
        flash(_("Webhook %(name)s resumed: it receives events from now on.", name=name), "success")
    else:
        flash(_("Webhook %(name)s paused.", name=name), "success")
    return redirect(url_for("admin.webhooks_page"))


@bp.post("/webhooks/<int:number>/delete")
def delete_webhook(number: int):
    name = save_other("webhook.delete", str(number), lambda s: s.delete_webhook(number))
    if name is None:
        flash(_("That webhook no longer exists."), "error")
    else:
        flash(_("Webhook %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.webhooks_page"))
