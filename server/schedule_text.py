"""Why a service (or the hall) takes no numbers now and when it opens, in the page's language.

The one home of these words: the kiosk, the visitor page and the API's refusal message all ask
here. The English message ids are translated in server/translations/core (Indonesian); the API's
`outside-hours` message is the Indonesian text (`in_indonesian`), whatever the caller's language.
The statuses are the protocol's plain dicts (schedule.status_dict): reason, label, until.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from babel.dates import format_date, format_time
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _


def service_text(service: str, status: Mapping, now: datetime) -> str:
    """'Layanan Paspor sedang istirahat Sholat Jumat. Buka lagi pukul 13.00.'"""
    return _join(_service_reason(service, status), when_text(status, now))


def hall_text(status: Mapping, now: datetime) -> str:
    """The hall's state when it is not open: 'Hari ini libur: Hari Raya Natal. Buka lagi ...'"""
    return _join(_hall_reason(status), when_text(status, now))


def in_indonesian(service: str, status: Mapping, now: datetime) -> str:
    """service_text in Indonesian, for the protocol's error message."""
    with force_locale("id"):
        return service_text(service, status, now)


def when_text(status: Mapping, now: datetime) -> str:
    """'Buka lagi pukul 13.00.' today, 'Buka lagi Senin, 28 Desember, pukul 07.30.' another day."""
    until = status.get("until")
    if not until:
        return ""
    opens = datetime.fromisoformat(until)
    if now.tzinfo is not None:
        opens = opens.astimezone(now.tzinfo)
    if opens.date() == now.date():
        return _("It opens again at %(time)s.", time=time_text(opens))
    return _("It opens again on %(day)s at %(time)s.", day=day_text(opens), time=time_text(opens))


def time_text(moment: datetime) -> str:
    """13.00 (Indonesian), 1:00 PM (English)."""
    return format_time(moment, "short", tzinfo=moment.tzinfo, locale=_locale())


def day_text(moment: datetime) -> str:
    """Senin, 28 Desember (Indonesian), Monday, 28 December (English)."""
    return format_date(moment, "EEEE, d MMMM", locale=_locale())


def _locale() -> str:
    return str(get_locale() or "id")


def _service_reason(service: str, status: Mapping) -> str:
    reason, label = status.get("reason"), status.get("label")
    if reason == "holiday":
        return _("Today is a holiday: %(label)s.", label=label)
    if reason == "closed-day":
        return _("The hall is closed today.")
    if reason == "not-today":
        return _("%(service)s does not serve today.", service=service)
    if reason == "before-opening":
        return _("%(service)s has not opened yet.", service=service)
    if reason == "hall-break" and label:
        return _("%(service)s is closed for %(label)s.", service=service, label=label)
    if reason in ("hall-break", "service-break"):
        return _("%(service)s is on a break.", service=service)
    if reason == "cutoff":
        return _("%(service)s takes no more numbers today.", service=service)
    if reason == "after-closing":
        return _("%(service)s has closed for today.", service=service)
    return _("%(service)s is closed at the moment.", service=service)


def _hall_reason(status: Mapping) -> str:
    reason, label = status.get("reason"), status.get("label")
    if reason == "holiday":
        return _("Today is a holiday: %(label)s.", label=label)
    if reason == "hall-break" and label:
        return _("The hall is on a break: %(label)s.", label=label)
    if reason == "hall-break":
        return _("The hall is on a break.")
    if reason == "before-opening":
        return _("The hall has not opened yet.")
    if reason == "after-closing":
        return _("The hall has closed for today.")
    return _("The hall is closed today.")


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)
