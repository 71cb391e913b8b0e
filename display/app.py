"""The display's main loop: wires the screen model, the renderer, the speaker and the socket.

Socket threads only post messages into the loop's inbox. The loop sleeps in `inbox.get()` until a
message arrives or the next whole second (the clock tick, which also ends highlights), then
collects pygame's own events (quit, keys, expose) without waiting. It does not sleep in
`pygame.event.wait()`: SDL 2 implements that by polling every millisecond on video drivers
without a native wait (KMS/DRM on the Pi, the dummy driver in tests), which measured about 900
wake-ups a second here. The screen is redrawn only when a region's content changed. Any
unexpected error shows a fallback screen and the loop carries on.
"""

from __future__ import annotations

import io
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pygame
import requests

from panggil_common.sdnotify import Watchdog
from panggil_common import discovery

from . import client as net
from .audio import Announcer, AudioCache, AudioError, PygamePlayer
from .config import DisplayConfig
from .render import Renderer, draw_fallback
from .state import (
    Outcome,
    ScreenState,
    Zone,
    apply_event,
    apply_snapshot,
    initial_state,
    set_connected,
    set_server,
    tick,
)

log = logging.getLogger(__name__)

RESYNC_RETRY_SECONDS = 10.0
LOGO = "logo"  # a message of our own: logo bytes fetched in the background
QUIT = "quit"  # posted by the SIGTERM handler
DISCOVERY = "discovery"  # (kind, detail) from the search for the server on the LAN
# A server found by mDNS that stays unreachable this long is looked for again (it may have moved).
REDISCOVER_AFTER_SECONDS = 30.0


def server_label(url: str) -> str:
    """How the screen names the server in use: its host and port."""
    return urlsplit(url).netloc or url


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        # Keep only what matters in SDL's queue: mouse motion and the like are dropped unseen.
        pygame.event.set_blocked(None)
        pygame.event.set_allowed(
            [pygame.QUIT, pygame.KEYDOWN, pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED,
             pygame.WINDOWSIZECHANGED]
        )  # fmt: skip
        self.renderer = Renderer(
            self.screen.get_size(), language=config.language, recent_count=config.recent_calls
        )
        self.state = initial_state_for(config)
        self._server_url = config.server_url
        self._audio_cache: AudioCache | None = None
        self.running = True
        self.errors = 0
        self.redraws = 0
        self._last_resync = 0.0
        self._logo_url: str | None = None
        self._load_logo_file()
        self.announcer = announcer if announcer is not None else self._make_announcer()
        self.client: net.DisplayClient | None = None
        self._connect = connect
        self._discovered = not config.server_url  # found on the LAN: may be looked for again
        self._finder: threading.Thread | None = None
        self._stop_finding = threading.Event()
        if connect and self.server_url:
            self._use_server(self.server_url)
        self._next_tick = 0.0

    @property
    def server_url(self) -> str:
        return self._server_url

    def _use_server(self, url: str) -> None:
        """Connect to `url`: the typed one, or the one found on the LAN."""
        self._server_url = url
        if self._audio_cache is not None:
            self._audio_cache.base_url = url.rstrip("/") + "/"
        self.apply(set_server(self.state, server_label(url)))
        self.client = net.DisplayClient(
            url,
            self.config.name or socket.gethostname(),
            self.post,
            reconnect_delay_max=self.config.reconnect_delay_max,
        )

    def _find_server(self) -> None:
        """Look for the server on the LAN until found (a thread: it only posts)."""
        try:
            found = discovery.find_server(
                hall=self.config.hall,
                timeout=self.config.discovery_timeout,
                interfaces=self.config.discovery_interfaces,
                backoff_max=self.config.reconnect_delay_max,
                on_status=lambda kind, detail: self.post(DISCOVERY, (kind, detail)),
                stop=self._stop_finding,
            )
        except discovery.DiscoveryStopped:
            return
        log.info("server found on the LAN: %s", found.describe())

    # --- wiring -----------------------------------------------------------------------------

    def _make_announcer(self) -> Announcer | None:
        if not self.config.audio:
            return None
        try:
            player = PygamePlayer(volume=self.config.volume)
        except AudioError as exc:
            log.error("audio disabled: %s (calls are still shown)", exc)
            return None
        cache = AudioCache(self.server_url or "http://0.0.0.0", Path(self.config.audio_cache_dir))
        self._audio_cache = cache  # its base URL follows the server found on the LAN
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
        """Hand a message from another thread (socket, signal handler) to the main loop."""
        self.inbox.put((kind, data))

    def start(self) -> DisplayApp:
        if self.client is not None:
            self.client.start()
        elif self._connect:
            self._start_finding()
        self.redraw(full=True)
        return self

    def _start_finding(self) -> None:
        self.apply(set_server(self.state, "", searching=True))
        self._finder = threading.Thread(
            target=self._find_server, name="display-discovery", daemon=True
        )
        self._finder.start()

    def _rediscover_if_gone(self) -> None:
        """The server found on the LAN has been unreachable for long: look for it again."""
        since = self.state.disconnected_since
        if not (self._discovered and self.client is not None and since is not None):
            return
        if self.state.connected or (self._finder is not None and self._finder.is_alive()):
            return
        if (self.clock() - since).total_seconds() < REDISCOVER_AFTER_SECONDS:
            return
        log.warning("server %s unreachable since %s; looking for it on the LAN again",
                    self.server_url, since.isoformat(timespec="seconds"))  # fmt: skip
        old, self.client = self.client, None
        # Stopping a client may wait for its reconnection attempt: not in the loop's thread.
        threading.Thread(target=old.stop, name="display-old-client", daemon=True).start()
        self._start_finding()

    def stop(self) -> None:
        self.running = False
        self._stop_finding.set()
        if self.client is not None:
            self.client.stop()
        if self.announcer is not None:
            self.announcer.stop()

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until QUIT (a key, SIGTERM); never returns on errors."""
        watchdog = Watchdog()  # systemd's: the loop wakes at least once a second (handle_tick)
        watchdog.ready()
        while self.running:
            self.step()
            watchdog.alive()

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Serve until `done()` or `timeout` seconds (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.step(max_wait=min(left, 0.2))
        return True

    def step(self, max_wait: float | None = None) -> None:
        """Sleep until a message or the next tick, handle everything pending, redraw if needed."""
        wait = max(0.0, self._next_tick - time.monotonic())
        if max_wait is not None:
            wait = min(wait, max_wait)
        messages = []
        try:
            messages.append(self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait())
            while True:
                messages.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        full = False
        for work in (
            *[lambda m=m: self.handle_net(*m) for m in messages],
            *[lambda e=e: self.handle_pygame(e) for e in pygame.event.get()],
            self.handle_tick,
        ):
            try:
                full |= bool(work())
            except Exception:
                # A bug in handling one message must not cost the others, nor the screen.
                log.exception("handling a message failed")
        try:
            self.redraw(full=full)
            self.errors = 0
        except Exception as exc:
            # The TV must never go black: show the fallback and try again on the next wake-up.
            self.errors += 1
            log.exception("display error #%d; showing the fallback screen", self.errors)
            self.show_fallback(exc)

    def handle_pygame(self, event: pygame.event.Event) -> bool:
        """Quit on QUIT, Escape or q; True when the whole screen must be repainted."""
        if event.type == pygame.QUIT or (
            event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
        ):
            self.running = False
            return False
        # Exposed, resized or restored: what is on the glass is unknown.
        return event.type != pygame.KEYDOWN

    def handle_tick(self) -> bool:
        """Once a second, on the second: the clock, highlight expiry, stale marking, resync retry."""
        now = time.monotonic()
        if now < self._next_tick:
            return False
        self._next_tick = now + 1.0 - (time.time() % 1.0)
        self.apply(tick(self.state, self.clock()))
        self._rediscover_if_gone()
        if (
            self.state.needs_resync
            and self.client is not None
            and now - self._last_resync > RESYNC_RETRY_SECONDS
        ):
            self.resync()
        return False

    def handle_net(self, kind: str, data: Any) -> None:
        """Apply one message from the inbox (socket client, logo fetch, signal handler)."""
        now = self.clock()
        if kind == QUIT:
            self.running = False
        elif kind == DISCOVERY:
            found, detail = data
            if found == discovery.FOUND and self.client is None:
                self._use_server(detail.url)
                assert self.client is not None
                self.client.start()
            elif found != discovery.FOUND:
                self.apply(set_server(self.state, "", searching=True))
        elif kind == net.CONNECTED:
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
        except Exception:  # nothing left to draw with: wait, and try again
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
            try:
                response = requests.get(urljoin(self.server_url + "/", url), timeout=10)
                response.raise_for_status()
            except Exception as exc:  # noqa: BLE001 - any failure just means: no logo
                log.warning("logo %s not fetched: %s", url, exc)
                return
            self.post(LOGO, response.content)

        threading.Thread(target=fetch, name="logo-fetch", daemon=True).start()
