"""HTTP serving of cached clips and the chime: ETag, Cache-Control, 304 and 404."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from flask import Flask

from server.audio import audio_bp
from server.tts import AudioCache
from server.voice import Announcer

ROOT = Path(__file__).resolve().parent.parent


def create_test_app(audio_dir: Path, **config) -> Flask:
    """The smallest app that serves audio the way server/app.py does."""
    app = Flask(__name__)
    app.config.update(TESTING=True, PANGGIL_AUDIO_DIR=str(audio_dir), **config)
    app.register_blueprint(audio_bp)
    return app


@pytest.fixture
def cache(tmp_path) -> AudioCache:
    return AudioCache(tmp_path / "audio")


@pytest.fixture
def client(cache):
    return create_test_app(cache.root).test_client()


def test_a_cached_clip_is_served_with_etag_and_long_caching(cache, client):
    key = AudioCache.key("espeak", "id@150wpm", "satu")
    cache.write(key, "wav", b"RIFF-fake-wave")
    response = client.get(f"/api/audio/{key}.wav")
    assert response.status_code == 200
    assert response.data == b"RIFF-fake-wave"
    assert response.mimetype == "audio/wav"
    assert response.headers["ETag"]
    cache_control = response.headers["Cache-Control"]
    assert "public" in cache_control and "max-age=31536000" in cache_control
    assert "immutable" in cache_control


def test_if_none_match_gives_304_without_a_body(cache, client):
    key = AudioCache.key("gtts", "id@com", "dua")
    cache.write(key, "mp3", b"ID3-fake-mp3")
    first = client.get(f"/api/audio/{key}.mp3")
    assert first.mimetype == "audio/mpeg"
    again = client.get(f"/api/audio/{key}.mp3", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    other = client.get(f"/api/audio/{key}.mp3", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == b"ID3-fake-mp3"


@pytest.mark.parametrize(
    "name",
    [
        "0123456789abcdef0123456789abcdef.wav",  # well-formed but not in the cache
        "0123456789abcdef0123456789abcdef.ogg",
        "not-a-key.wav",
        "..wav",
    ],
)
def test_unknown_audio_is_a_json_404(client, name):
    response = client.get(f"/api/audio/{name}")
    assert response.status_code == 404
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "unknown-audio" and body["message"]


def test_a_path_outside_the_cache_is_never_served(client):
    response = client.get("/api/audio/..%2F..%2F..%2Fetc%2Fpasswd")
    assert response.status_code == 404  # no route matches a slash in the key
    assert b"root:" not in response.data


def test_a_missing_cache_folder_is_a_404_not_a_crash(tmp_path):
    client = create_test_app(tmp_path / "never-created").test_client()
    response = client.get("/api/audio/0123456789abcdef0123456789abcdef.wav")
    assert response.status_code == 404


def test_a_relative_cache_folder_is_resolved_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = AudioCache(Path("var/audio-cache"))
    key = AudioCache.key("e", "v", "t")
    cache.write(key, "wav", b"RIFF")
    client = create_test_app(Path("var/audio-cache")).test_client()
    assert client.get(f"/api/audio/{key}.wav").data == b"RIFF"


def test_the_chime_is_served_with_an_etag(client):
    response = client.get("/api/audio/chime.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.data == (ROOT / "sounds" / "chime.wav").read_bytes()
    again = client.get("/api/audio/chime.wav", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_chime_is_a_short_ding_dong():
    with wave.open(str(ROOT / "sounds" / "chime.wav")) as w:
        duration = w.getnframes() / w.getframerate()
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
    assert 1.0 <= duration <= 3.0


def test_an_announced_clip_can_be_fetched(tmp_path):
    notes = []
    announcer = Announcer({"engine": "espeak"}, tmp_path / "audio", notes.append, lambda fn: fn())
    call = {
        "call_id": "2026-11-26/A012#1",
        "kind": "call",
        "ticket": {"number": "A012"},
        "counter": {"number": 5, "spoken_name": "gerai lima"},
    }
    announcer.announce(call)
    client = create_test_app(tmp_path / "audio").test_client()
    response = client.get(notes[0]["audio_url"])
    assert response.status_code == 200
    assert response.data[:4] == b"RIFF" and len(response.data) > 20_000
