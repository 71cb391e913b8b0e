"""The voice of the hall: what the server core calls to announce a call, and the `voice` settings.

`Announcer.announce` answers in a few milliseconds with the text and, when the audio is already in
the cache, its URL; otherwise synthesis runs in the background and `notify` carries the URL later
(the `announcement_ready` event of docs/protocol.md).
"""

from __future__ import annotations

import logging
import pathlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server import announce
from server.tts import (
    AudioCache,
    Engine,
    EspeakEngine,
    GttsEngine,
    SynthesisError,
    Synthesizer,
    espeak_voice_exists,
)

log = logging.getLogger(__name__)

ENGINES = ("gtts", "espeak")
# Ahead-of-time synthesis (a call's recall, a new ticket's calls, a counter's next tickets) starts
# no sooner than this after it was asked for: the press or ticket that asked first gets its frames
# to every screen, which a synthesis on the same core slows (docs/benchmarks.md, hall benchmark:
# 100 TVs, the slowest screens 5 ms later while a recall was being prepared).
PREPARE_AFTER_S = 0.1


@dataclass(frozen=True)
class Setting:
    """One `voice` setting: its default and what it does (docs/voice.md is checked against it)."""

    default: Any
    help: str


# Every `voice` setting, declared once. A test fails when one is missing from docs/voice.md.
VOICE_SETTINGS: dict[str, Setting] = {
    "enabled": Setting(True, "Speak calls at all. When false every call has status 'none'."),
    "template": Setting(
        announce.DEFAULT_TEMPLATE,
        "Sentence for a first call. Fields: {ticket}, {counter}, {service}, {agency}.",
    ),
    "recall_template": Setting(
        announce.DEFAULT_RECALL_TEMPLATE, "Sentence for a recall; same fields as template."
    ),
    "number_mode": Setting(
        announce.DEFAULT_NUMBER_MODE,
        "'words' says A012 as 'A dua belas'; 'digits' as 'A nol satu dua'.",
    ),
    "engine": Setting(
        "gtts",
        "Preferred engine: 'gtts' (natural, needs the internet) or 'espeak' (offline). "
        "The offline espeak voice is always the fallback.",
    ),
    "voice": Setting(
        "id", "espeak-ng voice of the offline engine, e.g. 'id', 'id+f3' (female), 'id+m3'."
    ),
    "rate_wpm": Setting(150, "Speaking rate of the offline voice in words a minute (80-300)."),
    "gtts_tld": Setting(
        "com", "Google host used by gTTS (translate.google.<tld>), e.g. 'com' or 'co.id'."
    ),
    "repeat": Setting(1, "How many times the sentence is said in one clip (1-3)."),
    "deadline_s": Setting(
        2.0,
        "Seconds the preferred engine may take before the offline voice speaks instead (0.2-30).",
    ),
    "cooldown_s": Setting(
        60.0,
        "After the preferred engine fails, seconds during which the offline voice is used "
        "directly (0-3600).",
    ),
    "http_timeout_s": Setting(5.0, "Network timeout of one gTTS request in seconds (0.5-60)."),
    "prepare_recall": Setting(
        True, "After a first call, synthesise its recall sentence in the background."
    ),
    "cache_dir": Setting(
        "var/audio-cache", "Folder of the audio cache (relative to the working directory)."
    ),
    "pregenerate_count": Setting(
        100, "How many numbers of each prefix `python -m server.sounds build` prepares (0-9999)."
    ),
}

_GTTS_TLD_RE = re.compile(r"^[a-z]{2,3}(\.[a-z]{2,3})?$")


def default_voice_settings() -> dict:
    """A fresh dict of every voice setting at its default."""
    return {key: setting.default for key, setting in VOICE_SETTINGS.items()}


def validate_voice_settings(settings: dict | None) -> dict:
    """Return complete, normalised voice settings, or raise ValueError("voice.<key>: why")."""
    given = dict(settings or {})
    unknown = sorted(set(given) - set(VOICE_SETTINGS))
    if unknown:
        raise ValueError(f"voice.{unknown[0]}: unknown setting")
    out = default_voice_settings()
    out.update(given)

    for key in ("enabled", "prepare_recall"):
        if not isinstance(out[key], bool):
            # ValueError, not TypeError: one error type for every bad setting (the contract).
            raise ValueError(f"voice.{key}: must be true or false")  # noqa: TRY004
    for key in ("template", "recall_template"):
        if not isinstance(out[key], str) or not out[key].strip():
            raise ValueError(f"voice.{key}: must be a non-empty text")
        try:
            announce.check_template(out[key])
        except ValueError as exc:
            raise ValueError(f"voice.{key}: {exc}") from None
    if out["number_mode"] not in announce.NUMBER_MODES:
        raise ValueError(
            f"voice.number_mode: {out['number_mode']!r} is not one of "
            + ", ".join(announce.NUMBER_MODES)
        )
    if out["engine"] not in ENGINES:
        raise ValueError(f"voice.engine: {out['engine']!r} is not one of {', '.join(ENGINES)}")
    if not isinstance(out["voice"], str) or not espeak_voice_exists(out["voice"]):
        raise ValueError(f"voice.voice: espeak-ng has no voice {out['voice']!r}")
    if not isinstance(out["gtts_tld"], str) or not _GTTS_TLD_RE.match(out["gtts_tld"]):
        raise ValueError(f"voice.gtts_tld: {out['gtts_tld']!r} is not a top-level domain")
    out["rate_wpm"] = _number(out, "rate_wpm", 80, 300, int)
    out["repeat"] = _number(out, "repeat", 1, 3, int)
    out["deadline_s"] = _number(out, "deadline_s", 0.2, 30, float)
    out["cooldown_s"] = _number(out, "cooldown_s", 0, 3600, float)
    out["http_timeout_s"] = _number(out, "http_timeout_s", 0.5, 60, float)
    out["pregenerate_count"] = _number(out, "pregenerate_count", 0, 9999, int)
    if not isinstance(out["cache_dir"], str) or not out["cache_dir"].strip():
        raise ValueError("voice.cache_dir: must be a folder path")
    return out


def _number(settings: dict, key: str, low: float, high: float, kind: type) -> Any:
    value = settings[key]
    # bool is an int in Python; "repeat: yes" is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"voice.{key}: must be a number")  # noqa: TRY004
    if kind is int and value != int(value):
        raise ValueError(f"voice.{key}: must be a whole number")
    if not low <= value <= high:
        raise ValueError(f"voice.{key}: {value} is outside {low:g}-{high:g}")
    return kind(value)


def text_settings(settings: dict) -> announce.TextSettings:
    """The part of validated voice settings that shapes the text."""
    return announce.TextSettings(
        template=settings["template"],
        recall_template=settings["recall_template"],
        number_mode=settings["number_mode"],
    )


def build_synthesizer(settings: dict, cache_dir: pathlib.Path) -> Synthesizer:
    """The fallback chain described by validated voice settings."""
    offline = EspeakEngine(settings["voice"], settings["rate_wpm"])
    preferred: Engine = offline
    if settings["engine"] == "gtts":
        preferred = GttsEngine(settings["gtts_tld"], settings["http_timeout_s"])
    return Synthesizer(
        AudioCache(cache_dir),
        preferred,
        offline,
        deadline_s=settings["deadline_s"],
        cooldown_s=settings["cooldown_s"],
        repeat=settings["repeat"],
    )


@dataclass(frozen=True)
class _Voice:
    """Settings and what is built from them, swapped as one reference on a settings change."""

    settings: dict
    text: announce.TextSettings
    synth: Synthesizer


class Announcer:
    """Turns committed calls into announcement text and audio, never blocking the caller."""

    def __init__(
        self,
        settings: dict,
        cache_dir: pathlib.Path,
        notify: Callable[[dict], None],
        run_background: Callable[[Callable[[], None]], None],
        prepare_after_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cache_dir = pathlib.Path(cache_dir)
        self._notify = notify
        self._run_background = run_background
        self._prepare_after_s = prepare_after_s
        self._sleep = sleep
        self._lock = threading.Lock()
        # Two workers, started on first use: one speaks calls, one prepares ahead of time. A call
        # never waits behind a backlog of preparations, and synthesis takes at most two threads,
        # however many tickets are issued at once (the event loop keeps a core for itself).
        # Each job with the monotonic time it may start (see PREPARE_AFTER_S).
        self._lanes: dict[str, deque[tuple[Callable[[], None], float]]] = {
            "calls": deque(),
            "prepare": deque(),
        }
        self._busy: dict[str, bool] = {"calls": False, "prepare": False}
        # ready/pending/none: answers of announce(); ready_later/silent: how pending ones ended.
        self._counts = {"ready": 0, "pending": 0, "none": 0, "ready_later": 0, "silent": 0}
        self._last_call: dict | None = None
        self._voice = self._build(validate_voice_settings(settings), previous=None)
        if self.settings["enabled"]:
            # Loading espeak-ng's library and data takes 10-90 ms (cold disk): pay it now, not on
            # the first call.
            synth = self._voice.synth
            self._run_background(lambda: synth.warm_up(announce.WARM_UP_TEXT))

    @property
    def settings(self) -> dict:
        """The validated voice settings in force."""
        return self._voice.settings

    def _build(self, settings: dict, previous: Synthesizer | None) -> _Voice:
        synth = build_synthesizer(settings, self.cache_dir)
        if previous is not None:
            synth.adopt_counters(previous)
        return _Voice(settings, text_settings(settings), synth)

    def update_settings(self, settings: dict) -> None:
        """Apply new voice settings (validated first: on error nothing changes)."""
        validated = validate_voice_settings(settings)
        with self._lock:
            # A background job keeps the synthesizer it started with.
            self._voice = self._build(validated, previous=self._voice.synth)
        log.info(
            "voice settings updated: engine=%s voice=%s", validated["engine"], validated["voice"]
        )

    def text_for(self, call: dict) -> str:
        """The sentence for a call object."""
        return announce.announcement_text(call, self._voice.text)

    def texts_for_ticket(
        self, ticket_number: str, counters: list[dict], service: dict | None = None
    ) -> list[str]:
        """The first-call sentences of a ticket at each counter that can call it (for prepare)."""
        return announce.texts_for_ticket(ticket_number, counters, self._voice.text, service)

    def announce(self, call: dict) -> dict:
        """Called right after a call is committed, with the call object of docs/protocol.md
        (without 'announcement'). Returns within a few ms: {"text": ..., "audio_url":
        "/api/audio/<key>.<ext>" or None, "status": "ready"|"pending"|"none"}.
        When pending, synthesis runs via run_background and then calls
        notify({"call_id", "audio_url", "text"}), with audio_url None if no engine could speak."""
        voice = self._voice  # one consistent view, even if the admin changes settings meanwhile
        try:
            text = announce.announcement_text(call, voice.text)
        except (KeyError, TypeError, ValueError) as exc:
            # The call is committed already: it goes out with a plain text and the chime.
            log.error("cannot build announcement for %r: %s", call.get("call_id"), exc)
            return self._answer(call, announce.fallback_text(call), None, "none", engine=None)
        if not voice.settings["enabled"]:
            return self._answer(call, text, None, "none", engine=None)
        synth = voice.synth
        hit = synth.lookup(text)
        if hit is not None:
            answer = self._answer(call, text, hit.url, "ready", engine=hit.engine)
        else:
            answer = self._answer(call, text, None, "pending", engine=None)
            self._submit("calls", lambda: self._speak_later(synth, call, text))
        if voice.settings["prepare_recall"] and call.get("kind") == "call":
            # Even its text and cache look-up wait their turn, after the call's frames.
            self._submit("prepare", lambda: self._prepare_recall(call))
        return answer

    def prepare(self, texts: list[str]) -> None:
        """Synthesise ahead of time, in the background (e.g. when a ticket is issued, for each
        counter that can call it)."""
        synth, wanted = self._missing(texts)
        if wanted:
            self._submit("prepare", lambda: self._prepare_now(synth, wanted))

    def _missing(self, texts: list[str]) -> tuple[Synthesizer, list[str]]:
        """The synthesizer in force and which of `texts` it has no clip of (none: voice off)."""
        voice = self._voice
        if not voice.settings["enabled"]:
            return voice.synth, []
        synth = voice.synth
        return synth, [t for t in dict.fromkeys(texts) if synth.lookup(t) is None]

    def status(self) -> dict:
        """What the admin page shows: engines, which one spoke last, counts and the last error."""
        voice = self._voice
        with self._lock:
            calls = dict(self._counts)
            last_call = dict(self._last_call) if self._last_call else None
        return {
            "enabled": voice.settings["enabled"],
            "engine": voice.settings["engine"],
            "voice": voice.settings["voice"],
            "cache_dir": str(self.cache_dir),
            "calls": calls,
            "last_call": last_call,
            **voice.synth.status(),
        }

    # -- background work

    def _submit(self, lane: str, job: Callable[[], None]) -> None:
        due = time.monotonic() + (self._prepare_after_s if lane == "prepare" else 0.0)
        with self._lock:
            self._lanes[lane].append((job, due))
            if self._busy[lane]:
                return  # the lane's worker will take it
            self._busy[lane] = True
        self._run_background(lambda: self._drain(lane))

    def _drain(self, lane: str) -> None:
        """The lane's only worker: runs its jobs in order, then ends until the next job comes."""
        while True:
            with self._lock:
                if not self._lanes[lane]:
                    self._busy[lane] = False
                    return
                job, due = self._lanes[lane].popleft()
            wait = due - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            try:
                job()
            except Exception:  # one bad job must not silence the voice
                log.exception("voice job in lane %s failed", lane)

    def _speak_later(self, synth: Synthesizer, call: dict, text: str) -> None:
        try:
            spoken = synth.synthesize(text)
        except SynthesisError as exc:
            log.error("call %s goes out without a voice: %s", call.get("call_id"), exc)
            url, engine = None, None
        except Exception:  # a bug must not kill the background worker silently
            log.exception("voice synthesis crashed for call %s", call.get("call_id"))
            url, engine = None, None
        else:
            url, engine = spoken.url, spoken.engine
        self._record(call, text, engine, "ready_later" if url else "silent")
        try:
            self._notify({"call_id": call.get("call_id"), "audio_url": url, "text": text})
        except Exception:
            log.exception("could not send announcement_ready for %s", call.get("call_id"))

    def _prepare_now(self, synth: Synthesizer, texts: list[str]) -> None:
        for text in texts:
            try:
                synth.synthesize(text)
            except Exception as exc:  # noqa: BLE001 - ahead-of-time work: the call will try again
                log.warning("could not prepare %r: %s", text, exc)

    def _prepare_recall(self, call: dict) -> None:
        """A job of the prepare lane (already past its wait): the recall sentence, if missing."""
        try:
            recall_text = self.text_for({**call, "kind": "recall"})
        except (KeyError, TypeError, ValueError):
            return
        self._prepare_now(*self._missing([recall_text]))

    def _answer(
        self, call: dict, text: str, url: str | None, status: str, engine: str | None
    ) -> dict:
        if status != "pending":
            self._record(call, text, engine, status)
        else:
            with self._lock:
                self._counts["pending"] += 1
        return {"text": text, "audio_url": url, "status": status}

    def _record(self, call: dict, text: str, engine: str | None, outcome: str) -> None:
        log.info("call %s: %s, spoken by %s", call.get("call_id"), outcome, engine or "no engine")
        with self._lock:
            self._counts[outcome] += 1
            self._last_call = {
                "call_id": call.get("call_id"),
                "text": text,
                "engine": engine,
                "outcome": outcome,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
