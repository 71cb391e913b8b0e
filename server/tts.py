"""Speech engines, the audio cache, and the fallback chain that keeps a call from going silent.

Engines share one small interface (`name`, `voice`, `ext`, `offline`, `synthesize(text) -> bytes`):
- `GttsEngine`: Google Translate's voice through gTTS (needs the internet, MP3).
- `EspeakEngine`: espeak-ng's Indonesian voice from the `espeakng-loader` wheel (offline, WAV).

`Synthesizer` runs the chain cache -> preferred engine within its deadline -> offline engine and
keeps the counters the admin page shows. Its `synthesize` blocks: call it off the request path.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import logging
import os
import re
import sys
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

AUDIO_EXTS = ("mp3", "wav")
MIMETYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}
_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


class SynthesisError(Exception):
    """An engine could not turn text into audio."""


class SynthesisTimeout(SynthesisError):
    """An engine did not finish within its deadline."""


class Engine(Protocol):
    """What the fallback chain needs from a speech engine."""

    name: str  # "gtts", "espeak"
    voice: str  # everything besides the text that changes the audio; part of the cache key
    ext: str  # file extension of the audio it makes
    offline: bool  # works without the internet

    def synthesize(self, text: str) -> bytes: ...


# --- blocking work and deadlines -------------------------------------------------------------


# How much lower than the event loop's the CPU priority of eventlet's helper threads is (a nice
# increment): on a busy core the loop that serves every screen, counter and phone runs first.
HELPER_NICE = 5
_lowered: set[int] = set()  # the helper threads (native ids) already lowered


def run_blocking(fn: Callable[[], T]) -> T:
    """Run a call that blocks inside C code (espeak-ng) without stalling the server's event loop.

    The one place that knows about eventlet: when eventlet has monkey-patched threads, "threads"
    are greenlets sharing one OS thread, so the call goes to eventlet's pool of real threads, at a
    lower CPU priority than the event loop's (HELPER_NICE). In threading mode the caller is
    already a worker thread and the call runs directly.
    """
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None:
        from eventlet import patcher

        if patcher.is_monkey_patched("thread"):
            from eventlet import tpool

            return tpool.execute(_lowered_priority, fn)
    return fn()


def _lowered_priority(fn: Callable[[], T]) -> T:
    """In one of eventlet's helper threads: lower its priority (once), then run `fn`."""
    tid = threading.get_native_id()  # the OS thread's id, also under eventlet's patching
    if tid not in _lowered and hasattr(os, "setpriority"):
        _lowered.add(tid)
        try:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HELPER_NICE)
        except OSError:  # not allowed here: the thread keeps the loop's priority
            log.warning("cannot lower the priority of helper thread %d", tid)
    return fn()


def call_with_deadline(fn: Callable[[], T], deadline_s: float, what: str = "synthesis") -> T:
    """Run fn in a helper thread and give up waiting after deadline_s seconds.

    A hung call cannot be killed; it is left to finish (or time out by itself) in its daemon
    thread. Under eventlet's monkey-patching the thread and the wait are green, so this works the
    same in both async modes.
    """
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name=f"panggil-{what}", daemon=True).start()
    if not done.wait(deadline_s):
        raise SynthesisTimeout(f"{what} took longer than {deadline_s:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


# --- engines -----------------------------------------------------------------------------------


class GttsEngine:
    """Google Translate's Indonesian voice through gTTS: natural, but needs the internet."""

    name = "gtts"
    ext = "mp3"
    offline = False

    def __init__(self, tld: str = "com", timeout_s: float = 5.0) -> None:
        self.tld = tld
        self.timeout_s = timeout_s
        self.voice = f"id@{tld}"

    def synthesize(self, text: str) -> bytes:
        # Imported here so that the offline path never pays for (or depends on) gTTS's imports.
        from gtts import gTTS

        # lang_check=False: the check can try the network and we already know 'id' is supported.
        tts = gTTS(text, lang="id", tld=self.tld, lang_check=False, timeout=self.timeout_s)
        data = b"".join(tts.stream())
        if not data:
            raise SynthesisError("gTTS returned no audio")
        return data


# espeak_AUDIO_OUTPUT and friends from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _EspeakLibrary:
    """libespeak-ng loaded once per process; it keeps global state, so callers serialise."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if rate <= 0:
            raise SynthesisError(f"espeak-ng failed to initialise (data in {data_path!r})")
        self.lib = lib
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        # Kept on self: ctypes would free the trampoline while espeak still points at it.
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None
        self._rate: int | None = None

    def _collect(self, samples, count, _events) -> int:  # type: ignore[no-untyped-def]
        if samples and count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0  # 0 = go on

    def speak(self, text: str, voice: str, rate_wpm: int) -> bytes:
        """16-bit mono PCM of text. Not thread-safe: the caller holds EspeakEngine's lock."""
        if voice != self._voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                self._voice = None  # whatever espeak kept, set the voice again next time
                raise SynthesisError(f"espeak-ng has no voice {voice!r}")
            self._voice = voice
            self._rate = None  # a new voice resets the rate
        if rate_wpm != self._rate:
            self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
            self._rate = rate_wpm
        self._chunks = []
        encoded = text.encode("utf-8")
        err = self.lib.espeak_Synth(
            encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if err != 0:
            raise SynthesisError(f"espeak_Synth failed with code {err}")
        return b"".join(self._chunks)


class EspeakEngine:
    """espeak-ng's Indonesian voice: offline and fast (~6 ms a sentence), robotic but clear."""

    name = "espeak"
    ext = "wav"
    offline = True

    _library: _EspeakLibrary | None = None
    _lock: threading.Lock | None = None

    def __init__(self, voice: str = "id", rate_wpm: int = 150) -> None:
        self.espeak_voice = voice
        self.rate_wpm = rate_wpm
        self.voice = f"{voice}@{rate_wpm}wpm"
        # Created on first construction, i.e. inside the running server, after eventlet has
        # monkey-patched threading, so that greenlets wait on it cooperatively.
        if EspeakEngine._lock is None:
            EspeakEngine._lock = threading.Lock()

    def synthesize(self, text: str) -> bytes:
        assert EspeakEngine._lock is not None
        with EspeakEngine._lock:
            pcm, sample_rate = run_blocking(functools.partial(self._speak, text))
        if len(pcm) < 2:
            raise SynthesisError("espeak-ng produced no audio")
        return pcm_to_wav(pcm, sample_rate)

    def _speak(self, text: str) -> tuple[bytes, int]:
        if EspeakEngine._library is None:
            EspeakEngine._library = _EspeakLibrary()
        library = EspeakEngine._library
        return library.speak(text, self.espeak_voice, self.rate_wpm), library.sample_rate


@functools.cache
def _espeak_data() -> Path | None:
    try:
        import espeakng_loader

        return Path(espeakng_loader.get_data_path())
    except (ImportError, RuntimeError):
        return None


def espeak_voice_exists(voice: str) -> bool:
    """Whether espeak-ng knows a voice such as "id" or "id+f3" (language file plus variant)."""
    data = _espeak_data()
    if data is None:
        return False
    language, _, variant = voice.partition("+")
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", language):
        return False
    if not any(p.is_file() for p in (data / "lang").rglob(language)):
        return False
    return not variant or (data / "voices" / "!v" / variant).is_file()


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    """Wrap 16-bit mono PCM in a WAV container."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return out.getvalue()


def repeat_audio(data: bytes, ext: str, times: int, gap_s: float = 0.8) -> bytes:
    """The same clip said `times` times: WAV with a silent gap, MP3 by joining frames."""
    if times <= 1:
        return data
    if ext == "mp3":
        # MP3 is a sequence of independent frames, so concatenation plays back to back.
        return data * times
    with wave.open(io.BytesIO(data), "rb") as w:
        params = w.getparams()
        frames = w.readframes(w.getnframes())
    silence = b"\x00" * (int(params.framerate * gap_s) * params.sampwidth * params.nchannels)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(silence.join([frames] * times))
    return out.getvalue()


# --- cache -----------------------------------------------------------------------------------


class AudioCache:
    """Audio files named by a hash of what made them, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(engine: str, voice: str, text: str) -> str:
        material = f"{engine}\x1f{voice}\x1f{text}".encode()
        return hashlib.sha256(material).hexdigest()[:32]

    @staticmethod
    def is_valid(key: str, ext: str) -> bool:
        return bool(_KEY_RE.match(key)) and ext in AUDIO_EXTS

    def path(self, key: str, ext: str) -> Path:
        if not self.is_valid(key, ext):
            raise ValueError(f"not an audio cache name: {key}.{ext}")
        return self.root / f"{key}.{ext}"

    def find(self, key: str, ext: str) -> Path | None:
        path = self.path(key, ext)
        try:
            # An empty file can only be the remains of a crash; treat it as missing.
            return path if path.stat().st_size > 0 else None
        except FileNotFoundError:
            return None

    def write(self, key: str, ext: str, data: bytes) -> Path:
        path = self.path(key, ext)
        self.root.mkdir(parents=True, exist_ok=True)
        # Readers (HTTP, other workers) must never see half a file: write aside, then rename.
        tmp = self.root / f".{key}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


# --- the fallback chain ------------------------------------------------------------------------


@dataclass(frozen=True)
class Spoken:
    """Audio ready in the cache."""

    key: str
    ext: str
    engine: str
    from_cache: bool

    @property
    def url(self) -> str:
        return f"/api/audio/{self.key}.{self.ext}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Synthesizer:
    """cache -> preferred engine within its deadline -> offline engine, with counters for the admin.

    After the preferred engine fails it is skipped for `cooldown_s`, so that while the hall's
    internet is down each call goes straight to the offline voice instead of waiting out a deadline.
    """

    def __init__(
        self,
        cache: AudioCache,
        preferred: Engine,
        offline: Engine | None = None,
        *,
        deadline_s: float = 2.0,
        cooldown_s: float = 60.0,
        repeat: int = 1,
        last_deadline_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self.preferred = preferred
        self.offline = offline if offline is not None and offline.name != preferred.name else None
        self.deadline_s = deadline_s
        self.cooldown_s = cooldown_s
        self.repeat = repeat
        self.last_deadline_s = max(last_deadline_s, deadline_s)
        self._clock = clock
        self._retry_preferred_at = 0.0
        self._stats_lock = threading.Lock()
        self._text_locks: dict[str, list] = {}
        self._text_locks_guard = threading.Lock()
        self.cache_hits = 0
        self.synthesized: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.last_error: dict | None = None
        self.last_synthesis: dict | None = None

    # -- queries

    def key_for(self, engine: Engine, text: str) -> str:
        voice = engine.voice if self.repeat == 1 else f"{engine.voice}x{self.repeat}"
        return AudioCache.key(engine.name, voice, text)

    def preferred_cooling_down(self) -> bool:
        return self.offline is not None and self._clock() < self._retry_preferred_at

    def lookup(self, text: str) -> Spoken | None:
        """Audio already in the cache for the engine that would speak now; never synthesises."""
        for engine in self._chain():
            key = self.key_for(engine, text)
            if self.cache.find(key, engine.ext) is not None:
                return Spoken(key, engine.ext, engine.name, from_cache=True)
            if engine is self.preferred:
                # The preferred engine is not cooling down, so it deserves its chance: an older
                # offline clip must not shadow it.
                return None
        return None

    def adopt_counters(self, other: Synthesizer) -> None:
        """Carry the admin's counters over from the synthesizer this one replaces."""
        with other._stats_lock:
            self.cache_hits = other.cache_hits
            self.synthesized = dict(other.synthesized)
            self.failures = dict(other.failures)
            self.last_error = other.last_error
            self.last_synthesis = other.last_synthesis

    def status(self) -> dict:
        remaining = self._retry_preferred_at - self._clock()
        with self._stats_lock:
            return {
                "preferred_engine": self.preferred.name,
                "offline_engine": self.offline.name if self.offline else None,
                "preferred_available": not self.preferred_cooling_down(),
                "retry_preferred_in_s": round(remaining, 1) if remaining > 0 else 0.0,
                # Found in the cache by background work (a call answered "ready" is not counted).
                "cache_hits": self.cache_hits,
                "synthesized": dict(self.synthesized),
                "failures": dict(self.failures),
                "last_synthesis": dict(self.last_synthesis) if self.last_synthesis else None,
                "last_error": dict(self.last_error) if self.last_error else None,
            }

    # -- the blocking work

    def warm_up(self, text: str) -> None:
        """Load the offline engine's library and data now so the first call does not wait."""
        engine = self.offline or self.preferred
        if not engine.offline:
            return
        try:
            engine.synthesize(text)
        except Exception as exc:  # noqa: BLE001 - the real call fails (and is logged) the same way
            log.warning("%s failed to warm up: %s", engine.name, exc)

    def synthesize(self, text: str) -> Spoken:
        """Audio for text from the first link of the chain that delivers. Blocks; raises
        SynthesisError when no engine could speak."""
        with self._text_lock(text):
            errors = []
            chain = self._chain()
            for position, engine in enumerate(chain):
                key = self.key_for(engine, text)
                if self.cache.find(key, engine.ext) is not None:
                    with self._stats_lock:
                        self.cache_hits += 1
                    return Spoken(key, engine.ext, engine.name, from_cache=True)
                is_last = position == len(chain) - 1
                deadline = self.last_deadline_s if is_last else self.deadline_s
                started = time.perf_counter()
                try:
                    call_with_deadline(
                        functools.partial(self._make, engine, key, text), deadline, engine.name
                    )
                except Exception as exc:  # noqa: BLE001 - any engine failure means: next link
                    self._record_failure(engine, exc, text)
                    errors.append(f"{engine.name}: {exc}")
                    continue
                self._record_success(engine, text, time.perf_counter() - started)
                return Spoken(key, engine.ext, engine.name, from_cache=False)
            raise SynthesisError("no engine could speak: " + "; ".join(errors))

    def _chain(self) -> list[Engine]:
        if self.offline is None:
            return [self.preferred]
        if self.preferred_cooling_down():
            return [self.offline]
        return [self.preferred, self.offline]

    def _make(self, engine: Engine, key: str, text: str) -> None:
        # Runs in the helper thread and writes the cache itself: a late answer after the
        # deadline is still kept for the next time this text is needed.
        data = repeat_audio(engine.synthesize(text), engine.ext, self.repeat)
        self.cache.write(key, engine.ext, data)

    def _record_success(self, engine: Engine, text: str, seconds: float) -> None:
        log.info("%s spoke %r in %.0f ms", engine.name, text, seconds * 1000)
        with self._stats_lock:
            self.synthesized[engine.name] = self.synthesized.get(engine.name, 0) + 1
            self.last_synthesis = {
                "engine": engine.name,
                "text": text,
                "ms": round(seconds * 1000, 1),
                "at": _now(),
            }

    def _record_failure(self, engine: Engine, exc: Exception, text: str) -> None:
        fallback = self.offline is not None and engine is self.preferred
        log.warning(
            "%s could not speak %r: %s%s",
            engine.name,
            text,
            exc,
            f"; using {self.offline.name} for the next {self.cooldown_s:g} s"
            if fallback and self.offline
            else "",
        )
        with self._stats_lock:
            self.failures[engine.name] = self.failures.get(engine.name, 0) + 1
            self.last_error = {
                "engine": engine.name,
                "error": f"{type(exc).__name__}: {exc}",
                "at": _now(),
            }
            if fallback:
                self._retry_preferred_at = self._clock() + self.cooldown_s

    @contextlib.contextmanager
    def _text_lock(self, text: str) -> Iterator[None]:
        # Two requests for the same text (ahead of time, then the call) synthesise it once.
        with self._text_locks_guard:
            entry = self._text_locks.setdefault(text, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._text_locks_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._text_locks[text]
