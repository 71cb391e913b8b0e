"""The admin area (/admin): catalogue, users, settings, live monitor, day report and audit log.

Only admins enter: a check before every request of the blueprint, so no view can forget it.
The blueprint and what the views share live in admin_common.py; the views in admin_catalogue.py,
admin_people.py, admin_schedule.py, admin_settings.py, admin_day.py and admin_reports.py, which add
themselves to it when imported.
"""

from __future__ import annotations

from flask import Flask

from server.pages import (
    admin_bookings,
    admin_catalogue,
    admin_day,
    admin_notices,
    admin_people,
    admin_phone,
    admin_reports,
    admin_schedule,
    admin_settings,
    admin_skm,
    admin_webhooks,
)
from server.pages.admin_common import bp, media

# Imported for their views, which add themselves to `bp`.
VIEW_MODULES = (
    admin_catalogue,
    admin_day,
    admin_people,
    admin_phone,
    admin_schedule,
    admin_settings,
    admin_reports,
    admin_skm,
    admin_webhooks,
    admin_bookings,
    admin_notices,
)


def register(app: Flask) -> None:
    """Register the admin pages and the public media route (one call from create_app)."""
    app.register_blueprint(bp)
    app.register_blueprint(media)
