"""UI languages: Indonesian by default, English available (gettext catalogues through Flask-Babel).

Message ids in the code and templates are English; the Indonesian text lives in the catalogues
under server/translations/<area>/id/LC_MESSAGES/messages.po, one area per part of the web UI, so
that each part owns its own file. The .mo files are not committed: a wheel carries them compiled
at build time (setup.py), and the server uses them as they are when they match their .po files,
so that an install never writes into its package folder. A checkout compiles the missing or stale
ones in place when it starts; a read-only install whose files do not match compiles them into a
private temporary folder instead.
"""

from __future__ import annotations

import atexit
import functools
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
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


@functools.cache
def catalogue_root(root: Path = TRANSLATIONS) -> Path:
    """The folder whose <area>/id/LC_MESSAGES/*.mo match the .po files below root (once a process)."""
    compiled = {po_path.relative_to(root).with_suffix(".mo"): _compile(po_path)
                for po_path in sorted(root.glob("*/*/LC_MESSAGES/*.po"))}  # fmt: skip
    stale = {
        name: data
        for name, data in compiled.items()
        if _messages(_read(root / name)) != _messages(data)
    }
    if not stale:
        return root
    try:
        _write(root, stale)
        log.info("compiled %d translation catalogues in %s", len(stale), root)
        return root
    except OSError as exc:
        private = Path(tempfile.mkdtemp(prefix="panggil-i18n-"))
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        _write(private, compiled)
        log.info("cannot write into %s (%s): translations compiled into %s", root, exc, private)
        return private


def _compile(po_path: Path) -> bytes:
    with po_path.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _messages(mo: bytes | None) -> set | None:
    """What a compiled catalogue says, without its header (Babel stamps a .po without dates
    with the time it compiled it, so two compilations of one .po differ in their bytes)."""
    if mo is None:
        return None
    try:
        catalog = read_mo(io.BytesIO(mo))
    except Exception:  # a truncated or foreign file: compile it again
        return None
    return {(m.id, m.string, m.context) for m in catalog if m.id}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write(root: Path, files: dict[Path, bytes]) -> None:
    """Write each file whole (a temp file renamed): servers starting side by side share a checkout."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, path)


def init_app(app: Flask) -> None:
    root = catalogue_root()
    areas = sorted(str(p) for p in root.iterdir() if p.is_dir())
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
