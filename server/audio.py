"""HTTP serving of announcement audio from the cache, and of the chime.

`GET /api/audio/<key>.<ext>` and `GET /api/audio/chime.wav`, with ETag and Cache-Control so a
display fetches each clip once. The app sets `PANGGIL_AUDIO_DIR` (the audio cache folder) and may
set `PANGGIL_CHIME_PATH` (default: sounds/chime.wav of this checkout, or the copy an installed
wheel carries in the package, see setup.py).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file
from flask.typing import ResponseReturnValue

from server import protocol
from server.tts import MIMETYPES, AudioCache

audio_bp = Blueprint("audio", __name__)

_PACKAGED_CHIME = Path(__file__).resolve().parent / "chime.wav"
_CHECKOUT_CHIME = Path(__file__).resolve().parent.parent / "sounds" / "chime.wav"
DEFAULT_CHIME_PATH = _PACKAGED_CHIME if _PACKAGED_CHIME.is_file() else _CHECKOUT_CHIME

# A clip's name is a hash of what made it, so its content never changes: cache it for a year.
CLIP_MAX_AGE_S = 365 * 24 * 3600
# The chime may change with an upgrade; the ETag makes revalidation cheap.
CHIME_MAX_AGE_S = 24 * 3600


def _not_found(key: str) -> ResponseReturnValue:
    message = protocol.ERRORS["unknown-audio"][1]
    return jsonify(ok=False, error="unknown-audio", message=message, key=key), 404


@audio_bp.get("/api/audio/chime.wav")
def chime() -> ResponseReturnValue:
    """The ding-dong a display plays before every announcement."""
    path = Path(current_app.config.get("PANGGIL_CHIME_PATH") or DEFAULT_CHIME_PATH).resolve()
    if not path.is_file():
        return _not_found("chime")
    return send_file(
        path, mimetype="audio/wav", conditional=True, etag=True, max_age=CHIME_MAX_AGE_S
    )


@audio_bp.get("/api/audio/<key>.<ext>")
def clip(key: str, ext: str) -> ResponseReturnValue:
    """One announcement clip from the audio cache."""
    if not AudioCache.is_valid(key, ext):
        return _not_found(f"{key}.{ext}")
    # Absolute: send_file would resolve a relative path against the app's package folder.
    cache = AudioCache(Path(current_app.config["PANGGIL_AUDIO_DIR"]).resolve())
    path = cache.find(key, ext)
    if path is None:
        return _not_found(f"{key}.{ext}")
    response = send_file(
        path, mimetype=MIMETYPES[ext], conditional=True, etag=True, max_age=CLIP_MAX_AGE_S
    )
    response.cache_control.immutable = True
    return response
