"""What the admin views share: the blueprint with its admins-only check, and the save helpers.

Views are thin: `admin_forms` validates, then one `save_*` call writes the change and its audit
row in one transaction (`Hub.change_hall` broadcasts `hall_changed` after the commit).
The view modules import this one; admin.py imports them and registers the blueprints.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from server.pages.admin_forms import FormError, Problem
from server.pages.auth import current_user, login_required
from server.hub import Hub
from server.storage import Storage
from server.logtext import shown

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Public files the admin manages (the hall's logo): screens fetch them without logging in.
media = Blueprint("admin_media", __name__)

NOT_SAVED = Problem("The change could not be saved; nothing was changed. Try again.")


_admins_only = login_required("admin")(lambda: None)


@bp.before_request
def _check_role():
    """Every admin URL, GET or POST, is for logged-in admins only (officers get 403)."""
    return _admins_only()


def hub() -> Hub:
    return current_app.extensions["panggil"]


def actor() -> str:
    user = current_user()
    return user["username"] if user else "?"


def form_data() -> dict:
    """The submitted form as a plain dict: one value per field, lists for repeated fields."""
    data: dict = {}
    for key, values in request.form.lists():
        if key != "csrf_token":
            data[key] = values if len(values) > 1 or key in ("services", "counters") else values[0]
    return data


def save_hall(what: str, action: str, target: str, write: Callable[[Storage], None],
              detail: Mapping | None = None) -> None:  # fmt: skip
    """A catalogue or settings change, its audit row, one transaction, then `hall_changed`."""
    h, user = hub(), actor()

    def work(storage: Storage) -> None:
        write(storage)
        storage.add_audit(h.now(), user, action, target, detail)

    h.change_hall(what, work)
    log.info("admin %s: %s %s", user, action, shown(target))


def save_other(action: str, target: str, write: Callable[[Storage], object],
               detail: Mapping | None = None) -> object:  # fmt: skip
    """A change of users or displays and its audit row in one transaction (nothing to broadcast)."""
    h, user = hub(), actor()

    def work(storage: Storage) -> object:
        result = write(storage)
        storage.add_audit(h.now(), user, action, target, detail)
        return result

    result = h.write(work)
    log.info("admin %s: %s %s", user, action, shown(target))
    return result


def attempt(save: Callable[[], object]) -> dict:
    """Run a save; return the form errors ({} when saved). A database failure saves nothing."""
    try:
        save()
    except FormError as exc:
        return exc.errors
    except sqlite3.Error:
        log.exception("admin change failed; rolled back")
        return {"_form": NOT_SAVED}
    return {}


def render(template: str, status: int = 200, **context) -> tuple[str, int]:
    errors = context.get("errors") or {}
    if errors and status == 200:
        status = 500 if "_form" in errors and errors["_form"] is NOT_SAVED else 400
    return render_template(template, **context), status


@bp.app_template_filter("problem")
def _problem_text(problem: Problem | None) -> str:
    return _(problem.message, **problem.params) if problem else ""


@bp.context_processor
def _admin_context() -> dict:
    return {"admin_nav": NAV}


# The report pages, as tabs above each of them under the one "Laporan" menu entry. A tab shows
# when its page is there: the SKM survey's report (admin.skm) comes with the survey.
REPORT_TABS: list[tuple[str, str]] = [("admin.reports_page", "Summary"), ("admin.skm", "SKM")]


def report_tabs() -> list[tuple[str, str]]:
    return [(e, label) for e, label in REPORT_TABS if e in current_app.view_functions]


NAV = [
    ("admin.index", "Monitor"),
    ("admin.services", "Services"),
    ("admin.agencies", "Agencies"),
    ("admin.schedule_page", "Schedule"),
    ("admin.counters", "Counters"),
    ("admin.displays", "Displays"),
    ("admin.users", "Users"),
    ("admin.settings", "Settings"),
    ("admin.day", "Service day"),
    ("admin.bookings_page", "Bookings"),
    ("admin.reports_page", "Reports"),
    ("admin.audit", "Audit log"),
]


def duration(seconds: float | None) -> str:
    """12:05 (minutes:seconds), 1:02:03 past an hour, '-' when nothing was measured."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
