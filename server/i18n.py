"""UI languages: Indonesian by default, English available (gettext catalogues through Flask-Babel).

Message ids in the code and templates are English; the Indonesian text lives in the catalogues
under server/translations/<area>/id/LC_MESSAGES/messages.po, one area per part of the web UI, so
that each part owns its own file. The .mo files are compiled from the .po files when missing or
older (they are not committed).
"""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel

log = logging.getLogger(__name__)

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
COOKIE = "lang"
TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def select_language() -> str:
    """?lang=en wins, then the cookie it sets, then Indonesian."""
    for value in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def compile_catalogues(root: Path = TRANSLATIONS) -> list[Path]:
    """Compile every stale messages.po below root; returns the .mo files written."""
    written = []
    for po_path in sorted(root.glob("*/*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f)
        try:
            with mo_path.open("wb") as f:
                write_mo(f, catalog)
        except OSError as exc:  # a read-only install keeps whatever .mo it shipped with
            log.warning("cannot write %s: %s", mo_path, exc)
            continue
        written.append(mo_path)
    return written


def init_app(app: Flask) -> None:
    compile_catalogues()
    areas = sorted(str(p) for p in TRANSLATIONS.iterdir() if p.is_dir())
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(areas))
    babel.init_app(app, locale_selector=select_language)

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    @app.context_processor
    def _language():
        return {"current_language": select_language(), "languages": LANGUAGES}
