"""The display's main loop: wires the screen model, the renderer, the speaker and the socket.

The loop blocks in `pygame.event.wait()`. Socket threads only post events; a 1 s timer moves the
clock and ends highlights. The screen is redrawn only when a region's content changed, so an
idle Raspberry Pi sleeps. Any unexpected error shows a fallback screen and the loop carries on.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pygame

from . import client as net
from .audio import Announcer, AudioCache, AudioError, PygamePlayer
from .config import DisplayConfig
from .render import Renderer, draw_fallback
from .state import Outcome, ScreenState, Zone, apply_event, apply_snapshot, initial_state, set_connected, tick

log = logging.getLogger(__name__)

RESYNC_RETRY_SECONDS = 10.0
LOGO = "logo"  # a post kind of our own: logo bytes fetched in the background


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def zone_of(config: DisplayConfig) -> Zone:
    return Zone(frozenset(config.counters), frozenset(config.services))


def initial_state_for(config: DisplayConfig) -> ScreenState:
    return initial_state(
        zone_of(config),
        highlight_seconds=config.highlight_seconds,
        stale_after=config.stale_after,
        timezone=config.timezone,
    )


class DisplayApp:
    """One TV display: connect, keep the screen model, draw it, speak the calls."""

    def __init__(
        self,
        config: DisplayConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        announcer: Announcer | None = None,
        connect: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        if not pygame.display.get_init():
            pygame.display.init()
        pygame.font.init()
        flags = pygame.FULLSCREEN if config.fullscreen else 0
        self.screen = pygame.display.set_mode(config.size, flags)
        pygame.display.set_caption("Panggil")
        pygame.mouse.set_visible(False)
        self.net_event = pygame.event.custom_type()
        self.tick_event = pygame.event.custom_type()
        # Wake only for what matters: mouse motion and the like must not cost a redraw on a Pi.
        pygame.event.set_blocked(None)
        pygame.event.set_allowed(
            [pygame.QUIT, pygame.KEYDOWN, pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED,
             pygame.WINDOWSIZECHANGED, self.net_event, self.tick_event]
        )  # fmt: skip
        self.renderer = Renderer(self.screen.get_size(), language=config.language, recent_count=config.recent_calls)
        self.state = initial_state_for(config)
        self.running = True
        self.errors = 0
        self.redraws = 0
        self._last_resync = 0.0
        self._logo_url: str | None = None
        self._load_logo_file()
        self.announcer = announcer if announcer is not None else self._make_announcer()
        self.client: net.DisplayClient | None = None
        if connect:
            self.client = net.DisplayClient(
                config.server_url,
                config.name or socket.gethostname(),
                self.post,
                reconnect_delay_max=config.reconnect_delay_max,
            )
        pygame.time.set_timer(self.tick_event, 1000)

    # --- wiring -----------------------------------------------------------------------------

    def _make_announcer(self) -> Announcer | None:
        if not self.config.audio:
            return None
        try:
            player = PygamePlayer(volume=self.config.volume)
        except AudioError as exc:
            log.error("audio disabled: %s (calls are still shown)", exc)
            return None
        cache = AudioCache(self.config.server_url, Path(self.config.audio_cache_dir))
        chime = Path(self.config.chime).expanduser() if self.config.chime else None
        return Announcer(
            player, cache.fetch, chime, repeat=self.config.repeat, audio_wait=self.config.audio_wait
        ).start()

    def _load_logo_file(self) -> None:
        if not self.config.logo:
            return
        try:
            self.renderer.set_logo(pygame.image.load(self.config.logo))
        except (pygame.error, FileNotFoundError, OSError) as exc:
            log.warning("logo %s not shown: %s", self.config.logo, exc)

    def post(self, kind: str, data: Any) -> None:
        """Hand a message from another thread to the main loop (thread-safe)."""
        try:
            pygame.event.post(pygame.event.Event(self.net_event, kind=kind, data=data))
        except pygame.error as exc:  # the queue is full or video is shutting down
            log.error("dropped %s from the network: %s", kind, exc)

    def start(self) -> DisplayApp:
        if self.client is not None:
            self.client.start()
        self.redraw(full=True)
        return self

    def stop(self) -> None:
        self.running = False
        pygame.time.set_timer(self.tick_event, 0)
        if self.client is not None:
            self.client.stop()
        if self.announcer is not None:
            self.announcer.stop()

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until QUIT (a key, SIGTERM); never returns on errors."""
        while self.running:
            self.step()

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Serve until `done()` or `timeout` seconds (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.step(timeout_ms=max(1, int(min(left, 0.2) * 1000)))
        return True

    def step(self, timeout_ms: int | None = None) -> None:
        """Wait for at least one event, handle every queued one, then redraw once if needed."""
        first = pygame.event.wait(timeout_ms) if timeout_ms else pygame.event.wait()
        full = False
        failure: Exception | None = None
        for event in [first, *pygame.event.get()]:
            try:
                full |= self.handle(event)
            except Exception as exc:  # noqa: BLE001 - one bad message must not cost the others
                log.exception("handling %s failed", pygame.event.event_name(event.type))
                failure = exc
        try:
            if failure is not None:
                raise failure
            self.redraw(full=full)
            self.errors = 0
        except Exception as exc:  # noqa: BLE001 - the TV must never go black
            self.errors += 1
            log.error("display error #%d (%s); showing the fallback screen", self.errors, exc)
            self.show_fallback(exc)

    def handle(self, event: pygame.event.Event) -> bool:
        """Apply one pygame event to the state; True when the whole screen must be repainted."""
        if event.type == pygame.NOEVENT:  # event.wait() timed out
            return False
        if event.type == pygame.QUIT or (
            event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
        ):
            self.running = False
            return False
        if event.type == self.tick_event:
            self.apply(tick(self.state, self.clock()))
            if (
                self.state.needs_resync
                and self.client is not None
                and time.monotonic() - self._last_resync > RESYNC_RETRY_SECONDS
            ):
                self.resync()
            return False
        if event.type == self.net_event:
            self.handle_net(event.kind, event.data)
            return False
        # Exposed, resized or restored: what is on the glass is unknown.
        return True

    def handle_net(self, kind: str, data: Any) -> None:
        now = self.clock()
        if kind == net.CONNECTED:
            self.apply(set_connected(self.state, True, now))
        elif kind == net.DISCONNECTED:
            self.apply(set_connected(self.state, False, now))
        elif kind == net.SNAPSHOT:
            self.apply(apply_snapshot(self.state, data, now))
            self._fetch_logo(self.state.logo_url)
        elif kind == net.EVENT:
            name, payload = data
            self.apply(apply_event(self.state, name, payload, now))
        elif kind == LOGO:
            try:
                self.renderer.set_logo(pygame.image.load(io.BytesIO(data)))
            except pygame.error as exc:
                log.warning("logo not shown: %s", exc)

    def apply(self, outcome: Outcome) -> None:
        for problem in outcome.problems:
            log.warning("%s", problem)
        self.state = outcome.state
        if self.announcer is not None:
            for call in outcome.announce:
                self.announcer.announce(call)
            for call_id, audio_url in outcome.audio_ready:
                self.announcer.audio_ready(call_id, audio_url)
        if outcome.resync:
            self.resync()

    def resync(self) -> None:
        self._last_resync = time.monotonic()
        if self.client is not None and self.client.request_snapshot():
            log.info("asked the server for a fresh snapshot (seq %s)", self.state.seq)

    def redraw(self, full: bool = False) -> None:
        if full:
            self.renderer.invalidate()
        rects = self.renderer.draw(self.screen, self.state, self.clock())
        if rects:
            self.redraws += 1
            pygame.display.update(rects)

    def show_fallback(self, exc: BaseException) -> None:
        try:
            draw_fallback(self.screen, self.config.language, type(exc).__name__)
            pygame.display.flip()
        except Exception:  # noqa: BLE001 - nothing left to draw with; wait and retry
            log.exception("fallback screen failed too")
            time.sleep(1)
        self.renderer.invalidate()  # the next successful draw repaints everything
        if self.errors > 3:
            time.sleep(min(5.0, self.errors * 0.5))  # do not spin on a persistent fault

    def _fetch_logo(self, url: str | None) -> None:
        if not url or url == self._logo_url or self.config.logo:
            return
        self._logo_url = url

        def fetch() -> None:
            import requests
            from urllib.parse import urljoin

            try:
                response = requests.get(urljoin(self.config.server_url + "/", url), timeout=10)
                response.raise_for_status()
            except Exception as exc:  # noqa: BLE001 - no logo is fine
                log.warning("logo %s not fetched: %s", url, exc)
                return
            self.post(LOGO, response.content)

        threading.Thread(target=fetch, name="logo-fetch", daemon=True).start()
