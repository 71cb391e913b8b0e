"""Every word the TV display shows, in Indonesian and English (the `language` setting).

This is the one place where Indonesian UI text lives; the rest of display/ refers to keys.
"""

from __future__ import annotations

from datetime import datetime

from panggil_common.rules import zone_name

LANGUAGES = ("id", "en")

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "latest_label": "NOMOR ANTREAN",
        "go_to": "Silakan ke",
        "recall": "Panggilan ulang",
        "recent_title": "Panggilan terakhir",
        "counters_title": "Gerai",
        "no_calls": "Belum ada panggilan",
        "no_current": "—",
        "connected": "Terhubung",
        "connecting": "Menghubungkan ke server...",
        "searching": "Mencari server...",
        "server": "server {server}",
        "disconnected": "Terputus dari server, mencoba lagi...",
        "stale_banner": "Data tidak terkini sejak {time}",
        "stale_note": "Nomor di layar mungkin sudah berubah",
        "fallback_title": "Layar sedang dipulihkan",
        "fallback_note": "Mohon tunggu sebentar. Panggilan tetap berjalan.",
        "priority": "Prioritas",
        "since": "sejak {time}",
        "break": "Istirahat",
        "break_back": "kembali {time}",
        "hall_break": "ISTIRAHAT",
        "hall_reopens": "Layanan dibuka kembali {when}",
        "hall_closed": "Pendaftaran nomor ditutup",
        "hall_opens_again": "buka lagi {when}",
        "at_time": "pukul {time}",
        "tomorrow": "besok {time}",
        "on_day": "{day} {time}",
    },
    "en": {
        "latest_label": "QUEUE NUMBER",
        "go_to": "Please go to",
        "recall": "Second call",
        "recent_title": "Recent calls",
        "counters_title": "Counters",
        "no_calls": "No calls yet",
        "no_current": "—",
        "connected": "Connected",
        "connecting": "Connecting to the server...",
        "searching": "Looking for the server...",
        "server": "server {server}",
        "disconnected": "Disconnected from the server, retrying...",
        "stale_banner": "Not up to date since {time}",
        "stale_note": "The numbers on screen may have changed",
        "fallback_title": "The screen is recovering",
        "fallback_note": "Please wait a moment. Calls continue.",
        "priority": "Priority",
        "since": "since {time}",
        "break": "On break",
        "break_back": "back at {time}",
        "hall_break": "BREAK",
        "hall_reopens": "Service resumes {when}",
        "hall_closed": "No more queue numbers",
        "hall_opens_again": "opens again {when}",
        "at_time": "at {time}",
        "tomorrow": "tomorrow {time}",
        "on_day": "{day} {time}",
    },
}

# Why a counter is on break, in words; a plain break ("istirahat") and "other" need no word.
_BREAK_REASONS = {
    "id": {"sholat": "sholat", "rapat": "rapat"},
    "en": {"sholat": "prayer", "rapat": "meeting"},
}

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def text(language: str, key: str, **values: object) -> str:
    """The UI string `key` in `language` (Indonesian when the language is unknown)."""
    table = TEXTS.get(language, TEXTS["id"])
    return table[key].format(**values) if values else table[key]


def format_date(moment: datetime, language: str = "id") -> str:
    """A long date such as "Kamis, 26 November 2026"."""
    days = _DAYS.get(language, _DAYS["id"])
    months = _MONTHS.get(language, _MONTHS["id"])
    return f"{days[moment.weekday()]}, {moment.day} {months[moment.month - 1]} {moment.year}"


def format_time(moment: datetime, timezone: str) -> str:
    """A clock time such as "20.43 WIB" (Indonesian style: a dot between hours and minutes)."""
    zone = zone_name(timezone)  # WIB, WITA or WIT; any other zone shows its UTC offset
    if zone is None:
        offset = moment.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "+" if minutes >= 0 else "-"
        zone = f"UTC{sign}{abs(minutes) // 60}" + (
            f":{abs(minutes) % 60:02d}" if minutes % 60 else ""
        )
    return f"{moment.hour:02d}.{moment.minute:02d} {zone}"


def break_label(language: str, reason: str, until: str | None) -> str:
    """A counter tile on break: "Istirahat · kembali 13.00" or "Istirahat (sholat)"."""
    label = text(language, "break")
    word = _BREAK_REASONS.get(language, _BREAK_REASONS["id"]).get(reason)
    if word:
        label += f" ({word})"
    if until:
        label += " · " + text(language, "break_back", time=until.replace(":", "."))
    return label


def format_when(language: str, moment: datetime, now: datetime) -> str:
    """When a hall opens again, both in the hall's time: "pukul 13.00", "besok 07.30",
    "Senin 07.30" within the week, "Senin, 4 Januari 07.30" beyond it."""
    clock = f"{moment.hour:02d}.{moment.minute:02d}"
    days = (moment.date() - now.date()).days
    if days <= 0:
        return text(language, "at_time", time=clock)
    if days == 1:
        return text(language, "tomorrow", time=clock)
    names = _DAYS.get(language, _DAYS["id"])
    day = names[moment.weekday()]
    if days >= 7:
        months = _MONTHS.get(language, _MONTHS["id"])
        day += f", {moment.day} {months[moment.month - 1]}"
    return text(language, "on_day", day=day, time=clock)


def hall_closed_banner(
    language: str, label: str | None, until: datetime | None, now: datetime
) -> str:
    """The closed hall's banner: "Pendaftaran nomor ditutup · buka lagi Senin 07.30", led by
    the holiday's name when there is one."""
    parts = [label] if label else []
    parts.append(text(language, "hall_closed"))
    if until is not None:
        parts.append(text(language, "hall_opens_again", when=format_when(language, until, now)))
    return " · ".join(parts)


def hall_reopens(language: str, until: datetime | None, now: datetime) -> str:
    """The break screen's last line: "Layanan dibuka kembali pukul 13.00" ("" when unknown)."""
    if until is None:
        return ""
    return text(language, "hall_reopens", when=format_when(language, until, now))
