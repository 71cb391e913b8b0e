"""The browser display: the waiting-room screen for smart TVs, the same layout as the Pi display.

Read-only: the page follows the /display namespace (snapshot on connect, then events in seq order),
plays the chime and each call's announcement one at a time, and shows only its zone when given
`?counters=1,2&services=ktp`.
"""

from __future__ import annotations

import logging
import sqlite3
from server.logtext import shown

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from panggil_common.rules import CODE_RE, DISPLAY_NAME_RE, ZONE_NAMES

log = logging.getLogger(__name__)

bp = Blueprint("tv", __name__)

RECENT_COUNT = 6
STALE_AFTER_SECONDS = 60  # as the Pi display: then the numbers on screen are greyed out


def hub():
    return current_app.extensions["panggil"]


@bp.get("/tv")
def index():
    """The display page; `?counters=1,2&services=ktp` limit it to a zone, `?name=` names it.

    A name the admin set up under Displays brings its zone with it; the query overrides it.
    """
    name = _name(request.args.get("name", ""))
    stored = stored_zone(name)
    counters = _numbers(request.args.get("counters", ""))
    services = _codes(request.args.get("services", ""))
    options = {
        "counters": counters if counters is not None else stored.get("counters"),
        "services": services if services is not None else stored.get("services"),
        "name": name,
        "recent": RECENT_COUNT,
        "stale_after": STALE_AFTER_SECONDS,
        "chime_url": url_for("audio.chime"),
    }
    return render_template("tv/tv.html", options=options, texts=page_texts(),
                           socket_js=url_for("static", filename="vendor/socket.io.min.js"))  # fmt: skip


def stored_zone(name: str) -> dict:
    """The counters and services the admin chose for a display name ({} if none)."""

    try:
        found = hub().read(lambda s: s.find_display(name))
    except sqlite3.Error:  # an older database without the displays table: no stored zones
        log.warning("cannot read the zone of display %s", shown(name), exc_info=True)
        return {}
    if found is None:
        return {}
    return {"counters": found["counters"], "services": found["services"]}


def _numbers(value: str) -> list[int] | None:
    numbers = sorted({int(v) for v in value.split(",") if v.strip().isdigit()})
    return numbers or None


def _codes(value: str) -> list[str] | None:
    codes = sorted({v.strip() for v in value.split(",") if CODE_RE.match(v.strip())})
    return codes or None


def _name(value: str) -> str:
    return value if DISPLAY_NAME_RE.match(value) else "tv-browser"


def page_texts() -> dict[str, str]:
    """Every word the screen shows (the same as the Pi display's texts)."""
    return {
        "latest_label": _("QUEUE NUMBER"),
        "go_to": _("Please go to"),
        "recall": _("Second call"),
        "recent_title": _("Recent calls"),
        "no_calls": _("No calls yet"),
        "no_current": "—",
        "connected": _("Connected"),
        "connecting": _("Connecting to the server..."),
        "disconnected": _("Disconnected from the server, retrying..."),
        "priority": _("Priority"),
        "stale_banner": _("Not up to date since %(time)s", time="{time}"),
        "stale_note": _("The numbers on screen may have changed"),
        "enable_sound": _("Tap to turn on the sound"),
        "enable_sound_note": _("Browsers play sound only after a tap. This is needed once."),
        "days": _("Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday"),
        "months": _(
            "January,February,March,April,May,June,July,August,September,October,November,December"
        ),
        # WIB, WITA, WIT: the same in every language.
        **{f"zone_{offset}": name for offset, name in ZONE_NAMES.items()},
    }
