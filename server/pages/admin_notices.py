"""Admin: SMS/WhatsApp notices (under Settings, next to Webhooks): the hall's gateway, a test
message, and the latest deliveries (numbers masked). The rules live in server/notices.py."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from server import announce, notice_sender, notices, webhooks
from server.pages.admin_common import attempt, bp, form_data, hub, render, save_hall
from server.pages.admin_forms import FormError, Problem
from server.protocol import PanggilError

DELIVERIES_SHOWN = 50

PROBLEMS = {
    "url": Problem(
        "Enter the gateway's address, starting with http:// or https:// (at most 500 characters)."
    ),
    "authorization": Problem("At most 500 characters, on one line."),
    "format": Problem("Choose a format."),
    "to_field": Problem("Letters, digits, _ . - [ ] only (at most 40)."),
    "message_field": Problem(
        "Letters, digits, _ . - [ ] only (at most 40), not the number's field."
    ),
}


def kind_labels() -> dict[str, str]:
    return {
        notices.ALMOST: _("Almost their turn"),
        notices.CALLED: _("Number called"),
        notices.TEST: _("Test message"),
    }


def _values(gateway: notices.Gateway) -> dict:
    return {"enabled": gateway.enabled, "url": gateway.url, "format": gateway.format,
            "to_field": gateway.to_field, "message_field": gateway.message_field,
            "called": gateway.called}  # fmt: skip


@bp.route("/notices", methods=["GET", "POST"])
def notices_page():
    """The gateway's settings; a new signing secret is shown on the answer that made it only."""
    h = hub()
    stored = notice_sender.gateway(h)
    values = _values(stored)
    errors: dict = {}
    made_secret = None
    if request.method == "POST":
        form = form_data()
        gateway, wrong = notices.check_gateway(form, stored)
        values = _values(gateway)

        def save() -> None:
            nonlocal gateway, made_secret
            if wrong:
                raise FormError({field: PROBLEMS[field] for field in wrong})
            if not gateway.secret:
                made_secret = webhooks.new_secret().replace("whsec_", "ntsec_", 1)
                gateway = notices.Gateway(**{**gateway.as_setting(), "secret": made_secret})
            detail = {**_values(gateway), "authorization": bool(gateway.authorization)}

            def write(storage) -> None:
                storage.save_setting(notices.SETTING, gateway.as_setting())
                if not gateway.active:  # turned off: nothing queued goes out later
                    storage.drop_notices()

            save_hall("settings", "notices.update", "hall", write, detail)

        errors = attempt(save)
        if not errors and made_secret is None:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.notices_page"))
        if errors:
            made_secret = None
        stored = notice_sender.gateway(h)
    deliveries = h.read(lambda s: s.notice_deliveries(DELIVERIES_SHOWN))
    return render("admin/notices.html", values=values, errors=errors, made_secret=made_secret,
                  authorization=notices.mask_secret(stored.authorization), deliveries=deliveries,
                  active_nav="admin.settings", max_attempts=notices.MAX_ATTEMPTS,
                  examples=_examples(), kinds=kind_labels())  # fmt: skip


def _examples() -> list[str]:
    name = hub().hall_info()["name"]
    return [
        announce.notice_almost(name, "A012", 3, "KTP"),
        announce.notice_called(name, "A012", "Gerai 5"),
    ]


@bp.post("/notices/test")
def notices_test():
    """Send the test message to a number now (the admin waits for the gateway's answer)."""
    h = hub()
    if not notice_sender.gateway(h).url:
        flash(_("Enter and save the gateway's address first."), "error")
        return redirect(url_for("admin.notices_page"))
    try:
        phone = notices.normalise_phone(request.form.get("phone", ""))
    except PanggilError:
        flash(_("That is not an Indonesian mobile number (e.g. 0812 3456 7890)."), "error")
        return redirect(url_for("admin.notices_page"))
    answer = notice_sender.send_test(h, phone)
    if answer.ok:
        flash(_("The gateway accepted the test message to %(number)s (HTTP %(status)s).",
                number=notices.mask(phone), status=answer.status), "success")  # fmt: skip
    else:
        flash(_("The gateway did not accept the test message: %(error)s",
                error=answer.error or answer.status), "error")  # fmt: skip
    return redirect(url_for("admin.notices_page"))
