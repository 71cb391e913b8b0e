"""Admin views for the hall's settings (name, running text, voice) and its logo.

The logo is kept in the settings table (base64), so it is saved in the same transaction as its
audit row and travels with the database backup; screens fetch it from /media/<name> without a login.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from server import announce
from server.pages.admin_common import attempt, bp, form_data, hub, media, render, save_hall
from server.pages.admin_forms import (
    LOGO_MAX_BYTES,
    LOGO_TYPES,
    FormError,
    Problem,
    changes,
    validate_logo,  # fmt: skip
    validate_settings,
)
from server.storage import Storage
from server.voice import VOICE_SETTINGS

log = logging.getLogger(__name__)

# The voice settings this form edits, with their defaults: the sentences' from announce.py, the
# engine's and the repeat count's from voice.py, which declares every voice setting.
VOICE_DEFAULTS = {
    "template": announce.DEFAULT_TEMPLATE,
    "recall_template": announce.DEFAULT_RECALL_TEMPLATE,
    "number_mode": announce.DEFAULT_NUMBER_MODE,
    "engine": VOICE_SETTINGS["engine"].default,
    "repeat": VOICE_SETTINGS["repeat"].default,
}


def _current_values() -> dict:
    settings = hub().settings
    voice = {**VOICE_DEFAULTS, **settings.get("voice", {})}
    return {"name": settings.get("hall.name", ""), "running_text": settings.get("hall.running_text", ""),
            **{k: voice.get(k) for k in VOICE_DEFAULTS}}  # fmt: skip


def check_with_voice_module(voice: dict) -> None:
    """Let the voice module judge the settings too, when it is installed."""
    try:
        from server.voice import validate_voice_settings
    except ImportError:
        return
    try:
        validate_voice_settings(voice)
    except ValueError as exc:
        key, _sep, why = str(exc).partition(": ")
        field = key.removeprefix("voice.")
        # A key this form does not show (set in config.yaml) is reported above the form.
        field = field if field in VOICE_DEFAULTS else "_form"
        problem = Problem("Refused by the voice module: %(why)s", {"why": why or str(exc)})
        raise FormError({field: problem}) from None


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """The hall's name, running text, announcement sentences and voice."""
    values = _current_values()
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            before = hub().settings
            clean = validate_settings(values, before.get("voice"))
            if clean["voice"] != before.get("voice", {}):
                # Only when the voice changed: a renamed hall must not wait for a voice fix.
                check_with_voice_module(clean["voice"])
            detail = {}
            for key, value in clean.items():
                if key == "voice":
                    detail.update(
                        {
                            f"voice.{k}": d
                            for k, d in changes(before.get("voice", {}), value).items()
                        }
                    )
                elif before.get(key) != value:
                    detail[key] = [before.get(key), value]

            def write(storage: Storage) -> None:
                for key, value in clean.items():
                    storage.save_setting(key, value)

            save_hall("settings", "settings.update", "hall", write, detail)

        errors = attempt(save)
        if not errors:
            flash(_("Settings saved. Screens show them now."), "success")
            return redirect(url_for("admin.settings"))
    status = getattr(hub().announcer, "status", dict)()
    return render("admin/settings.html", values=values, errors=errors, voice_status=status,
                  logo_url=hub().settings.get("hall.logo_url"), logo_kb=LOGO_MAX_BYTES // 1024)  # fmt: skip


@bp.url_value_preprocessor
def _allow_logo_upload(endpoint: str | None, values: dict | None) -> None:
    # The app refuses bodies over server.max_payload_bytes (16 KB by default); a logo may be larger.
    # This runs before the CSRF check reads the body, which a view or before_request would not.
    # Up to 8x the logo limit is read, so a too-large logo gets the form's message, not a bare 413.
    if endpoint == "admin.upload_logo":
        request.max_content_length = 8 * LOGO_MAX_BYTES


@bp.post("/settings/logo")
def upload_logo():
    """Upload the hall's logo (PNG, JPEG or SVG, size-limited); screens get its new URL live."""
    upload = request.files.get("logo")
    data = upload.read(LOGO_MAX_BYTES + 1) if upload else b""
    filename = (upload.filename or "") if upload else ""

    def save() -> None:
        kind = validate_logo(filename, data)
        digest = hashlib.sha256(data).hexdigest()[:12]
        name = f"logo-{digest}.{'jpg' if kind == 'jpeg' else kind}"
        logo = {"name": name, "type": kind, "data": base64.b64encode(data).decode("ascii")}

        def write(storage: Storage) -> None:
            storage.save_setting("hall.logo", logo)
            storage.save_setting("hall.logo_url", url_for("admin_media.file", name=name))

        save_hall(
            "settings", "settings.logo", "hall", write, {"file": filename, "bytes": len(data)}
        )

    errors = attempt(save)
    if not errors:
        flash(_("Logo saved."), "success")
        return redirect(url_for("admin.settings"))
    return render("admin/settings.html", values=_current_values(), errors=errors,
                  logo_url=hub().settings.get("hall.logo_url"), logo_kb=LOGO_MAX_BYTES // 1024)  # fmt: skip


@bp.post("/settings/logo/delete")
def delete_logo():
    """Remove the logo: screens show the hall's name only."""

    save_hall("settings", "settings.logo_delete", "hall",
              lambda s: s.delete_settings("hall.logo", "hall.logo_url"))  # fmt: skip
    flash(_("Logo removed."), "success")
    return redirect(url_for("admin.settings"))


@media.get("/media/<name>")
def file(name: str):
    """The hall's logo for screens and pages; the name changes with the content, so cache it long."""
    logo = hub().settings.get("hall.logo")
    if not logo or logo.get("name") != name:
        abort(404)
    response = Response(base64.b64decode(logo["data"]), mimetype=LOGO_TYPES[logo["type"]])
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # An SVG opened on its own must not run anything, whatever slipped past the upload check.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
