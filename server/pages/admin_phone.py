"""Admin: numbers from the visitor's phone (/ambil): turn it on or off, the address phones use,
and the entrance poster with its QR code (printable, A4 portrait)."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from server.pages.admin_common import attempt, bp, form_data, hub, render, save_hall
from server.pages.admin_forms import FormError, Problem
from server.pages.phone_ticket import ENABLED, PUBLIC_URL

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def phone_address() -> str:
    """The address of /ambil as phones on the hall's Wi-Fi reach it."""
    base = hub().settings.get(PUBLIC_URL) or request.url_root.rstrip("/")
    return base.rstrip("/") + url_for("phone.page")


def _check_base(raw: str) -> str:
    base = raw.strip().rstrip("/")
    if not base:
        return ""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(base) > 200:
        raise FormError(
            {
                "public_url": Problem(
                    "Enter the server's address as phones reach it, e.g. http://192.168.1.10:5000."
                )
            }
        )
    return base


@bp.route("/phone-tickets", methods=["GET", "POST"])
def phone_tickets():
    """On/off and the address; the poster is one click away."""
    h = hub()
    values = {
        "enabled": bool(h.settings.get(ENABLED)),
        "public_url": h.settings.get(PUBLIC_URL) or "",
    }
    errors: dict = {}
    if request.method == "POST":
        form = form_data()
        values = {"enabled": form.get("enabled") == "on", "public_url": form.get("public_url", "")}

        def save() -> None:
            base = _check_base(values["public_url"])
            detail = {"enabled": values["enabled"], "public_url": base}

            def write(storage) -> None:
                storage.save_setting(ENABLED, values["enabled"])
                storage.save_setting(PUBLIC_URL, base)

            save_hall("settings", "phone_tickets.update", "hall", write, detail)

        errors = attempt(save)
        if not errors:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.phone_tickets"))
    address = phone_address()
    loopback = urlsplit(address).hostname in LOOPBACK
    return render("admin/phone.html", values=values, errors=errors, address=address,
                  loopback=loopback, active_nav="admin.settings")  # fmt: skip


@bp.get("/phone-tickets/poster")
def phone_poster():
    """The entrance poster: the hall's name, a big QR code of /ambil, and three steps."""
    address = phone_address()
    qr = segno.make(address, error="m").svg_data_uri(scale=12, border=2, dark="#111827")
    return render("admin/phone_poster.html", address=address, qr=qr,
                  enabled=bool(hub().settings.get(ENABLED)))  # fmt: skip
