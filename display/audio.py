"""The announcement queue: chime, then the spoken call, one at a time, never overlapping.

One worker thread plays jobs in arrival order. Audio is fetched from the server (over HTTP, in the
background while the chime plays) and cached on disk. A failure to fetch or play one call is
logged and the next call still plays; the text is on screen either way.
"""

from __future__ import annotations

import array
import hashlib
import logging
import math
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlparse

from .state import CallView

log = logging.getLogger(__name__)


class AudioError(Exception):
    """A sound could not be fetched, decoded or played."""


def sdl_audio_environment(driver: str, device: str) -> dict[str, str]:
    """The environment SDL reads for the sound output (set before pygame.mixer starts).

    AUDIODEV is the device SDL 2's ALSA driver opens (an ALSA name: `hw:1,0`, `plughw:CARD=...`).
    """
    chosen: dict[str, str] = {}
    if driver:
        chosen["SDL_AUDIODRIVER"] = driver
    if device:
        chosen["AUDIODEV"] = device
    return chosen


class Player(Protocol):
    """Something that plays one sound to the end before returning."""

    def play(self, sound: Any) -> None: ...

    def load(self, path: Path) -> Any: ...


class PygamePlayer:
    """Plays through pygame.mixer on one channel; `play` blocks until the sound has finished."""

    def __init__(self, volume: float = 1.0, frequency: int = 44100) -> None:
        import pygame

        self._pygame = pygame
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=frequency, size=-16, channels=2, buffer=1024)
        except pygame.error as exc:
            raise AudioError(f"no audio device: {exc}") from exc
        self._channel = pygame.mixer.Channel(0)
        self._volume = volume
        self._cache: dict[Path, Any] = {}

    def load(self, path: Path) -> Any:
        """A decoded sound for `path` (the last few are kept: the chime is loaded once)."""
        sound = self._cache.get(path)
        if sound is None:
            try:
                sound = self._pygame.mixer.Sound(str(path))
            except (self._pygame.error, FileNotFoundError, OSError) as exc:
                raise AudioError(f"cannot load {path}: {exc}") from exc
            sound.set_volume(self._volume)
            if len(self._cache) >= 16:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = sound
        return sound

    def chime_fallback(self) -> Any:
        """A two-tone "ding-dong" made in memory, for a hall without a chime file."""
        frequency, _size, channels = self._pygame.mixer.get_init()
        samples = array.array("h")
        for tone, seconds in ((659.25, 0.55), (523.25, 0.8)):  # E5 then C5
            count = int(frequency * seconds)
            for i in range(count):
                t = i / frequency
                value = int(9000 * math.exp(-3.5 * t) * math.sin(2 * math.pi * tone * t))
                samples.extend([value] * channels)
        sound = self._pygame.mixer.Sound(buffer=samples.tobytes())
        sound.set_volume(self._volume)
        return sound

    def play(self, sound: Any) -> None:
        try:
            self._channel.play(sound)
        except self._pygame.error as exc:
            raise AudioError(f"cannot play: {exc}") from exc
        # Sleep through most of the sound, then poll finely: the worker thread is the only one
        # waiting, and the main loop stays asleep.
        time.sleep(max(0.0, sound.get_length() - 0.05))
        while self._channel.get_busy():
            time.sleep(0.01)


class AudioCache:
    """Fetches announcement audio from the server once and keeps it on disk."""

    def __init__(
        self, base_url: str, directory: Path, keep: int = 500, session: Any = None
    ) -> None:
        import requests

        self.base_url = base_url.rstrip("/") + "/"
        self.directory = directory.expanduser()
        self.keep = keep
        self._session = session or requests.Session()

    def path_for(self, url: str) -> Path:
        suffix = Path(urlparse(url).path).suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
            suffix = ".audio"
        return self.directory / (hashlib.sha256(url.encode()).hexdigest()[:24] + suffix)

    def fetch(self, url: str) -> Path:
        """The local file for `url` (relative to the server), downloading it if needed."""
        path = self.path_for(url)
        if path.exists():
            return path
        full = urljoin(self.base_url, url)
        try:
            response = self._session.get(full, timeout=(3, 15))
            response.raise_for_status()
            body = response.content
        except Exception as exc:
            raise AudioError(f"cannot fetch {full}: {exc}") from exc
        if not body:
            raise AudioError(f"empty audio from {full}")
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + f".{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(body)
        os.replace(partial, path)  # a crash mid-write never leaves a truncated cache entry
        self._prune()
        return path

    def _prune(self) -> None:
        try:
            files = sorted(self.directory.iterdir(), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)


@dataclass
class _Job:
    call: CallView
    url_known: threading.Event = field(default_factory=threading.Event)
    audio: Future | None = None


_STOP = object()


class Announcer:
    """Queues calls and plays each as chime + announcement (x repeat), one after another."""

    def __init__(
        self,
        player: Player,
        fetch: Callable[[str], Path],
        chime: Path | None,
        *,
        repeat: int = 1,
        audio_wait: float = 8.0,
        pause: float = 0.4,
        on_play: Callable[[str, str], None] | None = None,
    ) -> None:
        self.player = player
        self.fetch = fetch
        self.repeat = repeat
        self.audio_wait = audio_wait
        self.pause = pause
        self.on_play = on_play
        self._chime = self._load_chime(chime)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._jobs: dict[str, _Job] = {}
        self._seen: deque[str] = deque(maxlen=500)
        self._lock = threading.Lock()
        self._fetcher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audio-fetch")
        self._worker = threading.Thread(target=self._run, name="announcer", daemon=True)
        self.played = 0

    def _load_chime(self, chime: Path | None) -> Any:
        if chime is not None:
            try:
                return self.player.load(chime)
            except AudioError as exc:
                log.warning("chime %s unusable (%s); using the built-in ding-dong", chime, exc)
        fallback = getattr(self.player, "chime_fallback", None)
        return fallback() if fallback else None

    def start(self) -> Announcer:
        self._worker.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(_STOP)
        if self._worker.is_alive():
            self._worker.join(timeout)
        self._fetcher.shutdown(wait=False, cancel_futures=True)

    def idle(self) -> bool:
        """True when nothing is queued or playing."""
        return self._queue.unfinished_tasks == 0

    def announce(self, call: CallView) -> None:
        """Queue a live call (never one from a snapshot). A recall has a new call id and plays."""
        with self._lock:
            if call.call_id in self._seen:
                log.info("call %s already announced; not repeated", call.call_id)
                return
            self._seen.append(call.call_id)
            job = _Job(call)
            self._jobs[call.call_id] = job
            if call.audio_url:
                self._start_fetch(job, call.audio_url)
            elif call.audio_status != "pending":
                job.url_known.set()  # status "none": chime and text only
        self._queue.put(job)

    def audio_ready(self, call_id: str, audio_url: str | None) -> None:
        """The server finished the audio of a `pending` call (None: no voice could speak it)."""
        with self._lock:
            job = self._jobs.get(call_id)
            if job is None or job.audio is not None:
                return
            if audio_url:
                self._start_fetch(job, audio_url)
            else:
                job.url_known.set()  # chime and text only, and no waiting for audio_wait

    def _start_fetch(self, job: _Job, url: str) -> None:
        try:
            job.audio = self._fetcher.submit(self.fetch, url)
        except RuntimeError:  # shutting down
            job.audio = None
        job.url_known.set()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is _STOP:
                    return
                self._play(job)
            except Exception:
                log.exception("announcement of %s failed", getattr(job, "call", None))
            finally:
                if job is not _STOP:
                    with self._lock:
                        self._jobs.pop(job.call.call_id, None)
                self._queue.task_done()

    def _play(self, job: _Job) -> None:
        call = job.call
        # Measured from the start of this job, not its queueing: behind a long queue the audio
        # has had time to arrive, and a waiting visitor should still hear the call.
        deadline = time.monotonic() + self.audio_wait
        if self._chime is not None:
            self._emit("chime", call.call_id)
            try:
                self.player.play(self._chime)
            except AudioError as exc:
                log.warning("chime failed: %s", exc)
        if not job.url_known.wait(max(0.0, deadline - time.monotonic())):
            log.warning("no audio for %s after %.1f s: text only", call.call_id, self.audio_wait)
            return
        if job.audio is None:
            return
        try:
            path = job.audio.result(timeout=max(0.5, deadline - time.monotonic()))
            sound = self.player.load(path)
        except Exception as exc:  # noqa: BLE001 - fetch/decoding errors of any kind
            log.warning("announcement audio of %s unavailable: %s", call.call_id, exc)
            return
        for index in range(self.repeat):
            if index:
                time.sleep(self.pause)
            self._emit("announcement", call.call_id)
            try:
                self.player.play(sound)
            except AudioError as exc:
                log.warning("announcement of %s failed: %s", call.call_id, exc)
                return
        self.played += 1

    def _emit(self, what: str, call_id: str) -> None:
        log.debug("playing %s for %s", what, call_id)
        if self.on_play is not None:
            try:
                self.on_play(what, call_id)
            except Exception:
                log.exception("on_play hook failed")
