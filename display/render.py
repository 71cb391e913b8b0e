"""Draws a ScreenState with pygame: big, high-contrast, readable from 8 metres.

The screen is cut into regions (header, clock, latest call, recent calls, counters, footer,
connection status). Each region has a key made of exactly what it shows; `draw` repaints only the
regions whose key changed and returns their rectangles, so a clock tick that does not change the
minute costs nothing. Text surfaces are cached by (text, size, weight, colour).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygame

from panggil_common.rules import ZONE_OFFSETS

from .state import CounterView, ScreenState, server_now
from .texts import (
    break_label,
    format_date,
    format_time,
    hall_closed_banner,
    hall_reopens,
    text,
)

log = logging.getLogger(__name__)

# The display wheel carries DejaVu inside the package (deploy/build_wheel.py); a checkout uses
# Debian's fonts-dejavu-core.
PACKAGED_FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_DIR = (
    PACKAGED_FONT_DIR
    if (PACKAGED_FONT_DIR / "DejaVuSans.ttf").is_file()
    else Path("/usr/share/fonts/truetype/dejavu")
)
FONT_FILES = {False: FONT_DIR / "DejaVuSans.ttf", True: FONT_DIR / "DejaVuSans-Bold.ttf"}

# Colours: light text on deep navy, amber for the call being announced.
BACKGROUND = (7, 19, 38)
HEADER = (13, 38, 74)
PANEL = (17, 46, 88)
PANEL_ALT = (12, 34, 66)
WHITE = (255, 255, 255)
MUTED = (176, 196, 222)
NUMBER = (255, 210, 63)
AMBER = (255, 193, 7)
INK = (12, 12, 12)
GOOD = (46, 204, 113)
BAD = (235, 64, 52)
STALE = (128, 136, 150)
STALE_PANEL = (46, 52, 62)
STALE_BAND = (150, 32, 32)
BREAK_PANEL = (40, 48, 60)  # a counter on break: grey and calm, nothing to look for there
BREAK_INK = (150, 160, 175)
HALL_BREAK_PANEL = (14, 66, 80)  # the whole hall on a break: a calm teal, unlike any call

RUNNING_TEXT_PAGE_SECONDS = 8


def drawable(value: str) -> str:
    """`value` as text SDL can draw: a NUL, another control character or a lone surrogate (stored
    by an older server, or typed into config.yaml) becomes a space instead of an exception that
    would put the whole screen on the fallback."""
    if value.isprintable():
        return value
    cleaned = "".join(c if c.isprintable() else " " for c in value)
    return " ".join(cleaned.split())


def local_time(now: datetime, zone_name: str) -> datetime:
    """`now` in the hall's time zone."""
    try:
        zone: Any = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        # Fixed offsets for Indonesia's zones, in case the Pi lacks tzdata.
        zone = timezone(timedelta(hours=ZONE_OFFSETS.get(zone_name, 7)))
    return now.astimezone(zone)


@dataclass(frozen=True)
class Layout:
    """Where each region sits for one screen size."""

    size: tuple[int, int]
    scale: float
    portrait: bool
    regions: dict[str, pygame.Rect]
    # The hall's break replaces the call, the counters and the recent list (its own regions).
    hall_break: dict[str, pygame.Rect]

    def area(self, name: str) -> pygame.Rect:
        return self.regions[name] if name in self.regions else self.hall_break[name]


def compute_layout(size: tuple[int, int]) -> Layout:
    """Regions for a landscape (designed at 1920x1080) or portrait (1080x1920) screen."""
    width, height = size
    portrait = height > width
    base_w, base_h = (1080, 1920) if portrait else (1920, 1080)
    sx, sy = width / base_w, height / base_h

    def rect(x: float, y: float, w: float, h: float) -> pygame.Rect:
        return pygame.Rect(round(x * sx), round(y * sy), round(w * sx), round(h * sy))

    if portrait:
        regions = {
            "header": rect(0, 0, 760, 150),
            "status": rect(760, 0, 320, 150),
            "clock": rect(0, 150, 1080, 90),
            "latest": rect(30, 260, 1020, 620),
            "recent": rect(30, 900, 1020, 460),
            "counters": rect(30, 1380, 1020, 400),
            # Full width and two lines: a narrow screen pages its running text less often.
            "footer": rect(0, 1800, 1080, 120),
        }
        hall_break = {
            "hallbreak": rect(30, 260, 1020, 760),
            "break_recent": rect(30, 1040, 1020, 740),
        }
    else:
        regions = {
            "header": rect(0, 0, 1340, 130),
            "clock": rect(1340, 0, 580, 130),
            "latest": rect(30, 150, 1110, 520),
            "recent": rect(1170, 150, 720, 520),
            "counters": rect(30, 690, 1860, 290),
            "footer": rect(0, 1000, 1480, 80),
            "status": rect(1480, 1000, 440, 80),
        }
        hall_break = {
            "hallbreak": rect(30, 150, 1110, 830),
            "break_recent": rect(1170, 150, 720, 830),
        }
    return Layout(size, min(sx, sy), portrait, regions, hall_break)


class Renderer:
    """Paints ScreenStates onto a surface, repainting only regions whose content changed."""

    def __init__(
        self,
        size: tuple[int, int],
        *,
        language: str = "id",
        recent_count: int = 6,
        font_dir: Path | None = None,
    ) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.layout = compute_layout(size)
        self.language = language
        self.recent_count = recent_count
        self.logo: pygame.Surface | None = None
        self._font_files = (
            {bold: (font_dir / path.name) for bold, path in FONT_FILES.items()}
            if font_dir
            else FONT_FILES
        )
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._texts: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._page_cache: dict[tuple, tuple[int, list[str]]] = {}
        self._keys: dict[str, Any] = {}
        # Which text went where, per region: for tests and for debugging a layout.
        self.placed: dict[str, list[tuple[str, pygame.Rect]]] = {}
        self._region = ""
        self._painters: dict[str, Callable[[pygame.Surface, pygame.Rect, Any], None]] = {
            "header": self._paint_header,
            "clock": self._paint_clock,
            "latest": self._paint_latest,
            "recent": self._paint_recent,
            "counters": self._paint_counters,
            "footer": self._paint_footer,
            "status": self._paint_status,
            "hallbreak": self._paint_hall_break,
            "break_recent": self._paint_recent,
        }

    # --- public -----------------------------------------------------------------------------

    def set_logo(self, image: pygame.Surface | None) -> None:
        """Use `image` as the hall's logo (scaled to the header) and repaint the header."""
        self.logo = image
        self._keys.pop("header", None)

    def invalidate(self) -> None:
        """Forget what is on screen: the next draw repaints everything."""
        self._keys.clear()

    def draw(self, surface: pygame.Surface, state: ScreenState, now: datetime) -> list[pygame.Rect]:
        """Repaint the regions that changed; returns their rectangles for display.update()."""
        keys = self.region_keys(state, now)
        if self._keys.keys() != keys.keys():  # the hall's break began or ended: a new screen
            self._keys.clear()
        if not self._keys:
            surface.fill(BACKGROUND)
        dirty = []
        for name, key in keys.items():
            if self._keys.get(name, _UNSET) == key:
                continue
            area = self.layout.area(name)
            self._region = name
            self.placed[name] = []
            surface.fill(BACKGROUND, area)
            self._painters[name](surface, area, key)
            self._keys[name] = key
            dirty.append(area)
        if dirty and len(dirty) == len(keys):
            return [surface.get_rect()]
        return dirty

    def region_keys(self, state: ScreenState, now: datetime) -> dict[str, Any]:
        """What each region shows, as plain hashable values (its cache key)."""
        # The server's time, not this device's: a Pi has no RTC (state.clock_offset).
        now = server_now(state, now)
        local = local_time(now, state.timezone)
        since = None
        if state.stale and state.disconnected_since is not None:
            since = format_time(
                local_time(server_now(state, state.disconnected_since), state.timezone),
                state.timezone,
            )
        since_drop = None
        if not state.connected and state.disconnected_since is not None:
            since_drop = format_time(
                local_time(server_now(state, state.disconnected_since), state.timezone),
                state.timezone,
            )
        if state.searching:
            connection = "searching"
        elif state.seq is None:
            connection = "connecting" if not state.disconnected_since else "disconnected"
        else:
            connection = "connected" if state.connected else "disconnected"
        hall = state.hall_status
        until = None if hall.until is None else local_time(hall.until, state.timezone)
        banner = ""
        if hall.state == "closed":
            banner = hall_closed_banner(self.language, hall.label, until, local)
        keys = {
            "header": (state.hall_name, id(self.logo)),
            "clock": (format_date(local, self.language), format_time(local, state.timezone)),
        }
        if hall.on_break:
            # The whole hall pauses (Friday prayer): no call to look for, only when it resumes.
            rows = self.recent_count + 2
            keys["hallbreak"] = (
                hall.label or "",
                hall_reopens(self.language, until, local),
                state.stale,
                since,
            )
            keys["break_recent"] = (state.recent[:rows], state.stale, rows)
        else:
            keys["latest"] = (
                state.latest,
                state.highlighted,
                state.stale,
                since,
                state.seq is None,
            )
            keys["recent"] = (state.recent[1 : self.recent_count + 1], state.stale)
            keys["counters"] = (state.counters, state.stale)
        keys["footer"] = (
            connection, *self._footer_key(state.running_text, now), banner, state.server
        )  # fmt: skip
        keys["status"] = (connection, since_drop, state.server)
        return keys

    # --- text -------------------------------------------------------------------------------

    def px(self, design_pixels: float) -> int:
        """A size given for 1920x1080, scaled to this screen."""
        return max(8, round(design_pixels * self.layout.scale))

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        font = self._fonts.get((size, bold))
        if font is None:
            try:
                font = pygame.font.Font(str(self._font_files[bold]), size)
            except (OSError, FileNotFoundError, pygame.error):
                # pygame's own font lacks nothing Indonesian needs (plain Latin letters).
                font = pygame.font.Font(None, round(size * 1.3))
                font.set_bold(bold)
            self._fonts[(size, bold)] = font
        return font

    def fit_size(self, value: str, size: int, max_width: int, bold: bool = False) -> int:
        """The largest size up to `size` at which `value` fits in `max_width`."""
        value = drawable(value)
        while size > 10 and self.font(size, bold).size(value)[0] > max_width:
            size = max(10, int(size * 0.92))
        return size

    def render_text(
        self, value: str, size: int, color: tuple, bold: bool = False
    ) -> pygame.Surface:
        """A cached text surface: rendered again only when text, size or colour change."""
        value = drawable(value)
        key = (value, size, color, bold)
        surface = self._texts.get(key)
        if surface is None:
            surface = self.font(size, bold).render(value, True, color)
            self._texts[key] = surface
            if len(self._texts) > 400:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        return surface

    def blit_text(
        self,
        surface: pygame.Surface,
        value: str,
        size: int,
        color: tuple,
        *,
        bold: bool = False,
        max_width: int | None = None,
        **anchor: Any,
    ) -> pygame.Rect:
        """Draw text positioned by one pygame.Rect anchor, e.g. center=(x, y) or midleft=..."""
        value = drawable(value)
        if max_width is not None:
            size = self.fit_size(value, size, max_width, bold)
        image = self.render_text(value, size, color, bold)
        rect = surface.blit(image, image.get_rect(**anchor))
        self.placed.setdefault(self._region, []).append((value, rect))
        return rect

    # --- regions ----------------------------------------------------------------------------

    def _paint_header(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        hall_name, _ = key
        surface.fill(HEADER, area)
        x = area.left + self.px(30)
        if self.logo is not None:
            box = area.height - self.px(24)
            w, h = self.logo.get_size()
            factor = min(box / max(1, h), (box * 2) / max(1, w))
            image = pygame.transform.smoothscale(
                self.logo, (max(1, int(w * factor)), max(1, int(h * factor)))
            )
            surface.blit(image, image.get_rect(midleft=(x, area.centery)))
            x += image.get_width() + self.px(24)
        self.blit_text(
            surface, hall_name or "Panggil", self.px(54), WHITE, bold=True,
            max_width=area.right - x - self.px(20), midleft=(x, area.centery),
        )  # fmt: skip

    def _paint_clock(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        date, clock = key
        surface.fill(HEADER, area)
        right = area.right - self.px(30)
        if self.layout.portrait:
            # One line under the hall name: date on the left, time on the right.
            self.blit_text(
                surface, date, self.px(40), MUTED, midleft=(area.left + self.px(30), area.centery)
            )
            self.blit_text(
                surface, clock, self.px(54), WHITE, bold=True, midright=(right, area.centery)
            )
            return
        self.blit_text(
            surface, clock, self.px(58), WHITE, bold=True,
            topright=(right, area.top + self.px(8)),
        )  # fmt: skip
        self.blit_text(
            surface, date, self.px(32), MUTED, max_width=area.width - self.px(40),
            bottomright=(right, area.bottom - self.px(12)),
        )  # fmt: skip

    def _paint_latest(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        call, highlighted, stale, since, waiting_for_server = key
        if stale:
            background, ink, number_ink = STALE_PANEL, MUTED, STALE
        elif highlighted:
            background, ink, number_ink = AMBER, INK, INK
        else:
            background, ink, number_ink = PANEL, WHITE, NUMBER
        pygame.draw.rect(surface, background, area, border_radius=self.px(24))
        inner = area.width - self.px(60)
        cx = area.centerx
        if call is None:
            message = text(self.language, "connecting" if waiting_for_server else "no_calls")
            self.blit_text(
                surface, message, self.px(56), ink, bold=True, max_width=inner, center=area.center
            )
        else:
            label = text(self.language, "recall" if call.kind == "recall" else "latest_label")
            if call.priority:
                label += f" · {text(self.language, 'priority')}"
            top = area.top + (area.height * 0.04)
            self.blit_text(
                surface, label.upper(), self.px(44), ink, bold=True, max_width=inner,
                midtop=(cx, top + self.px(12)),
            )  # fmt: skip
            self.blit_text(
                surface, call.number, self.px(240), number_ink, bold=True, max_width=inner,
                center=(cx, area.top + area.height * 0.42),
            )  # fmt: skip
            go_to = f"{text(self.language, 'go_to')}"
            self.blit_text(
                surface, go_to, self.px(40), ink, max_width=inner,
                center=(cx, area.top + area.height * 0.66),
            )  # fmt: skip
            self.blit_text(
                surface, call.counter_name, self.px(92), ink, bold=True, max_width=inner,
                center=(cx, area.top + area.height * 0.80),
            )  # fmt: skip
            if call.service_name:
                self.blit_text(
                    surface, call.service_name, self.px(34), ink, max_width=inner,
                    center=(cx, area.top + area.height * 0.93),
                )  # fmt: skip
        if stale:
            self._paint_stale_band(surface, area, inner, since, note=True)

    def _paint_stale_band(
        self, surface: pygame.Surface, area: pygame.Rect, inner: int, since: str | None, note: bool
    ) -> None:
        """The band across a panel's top while its data may be old: since when, and (with `note`)
        a second line saying what that means; without it the one line sits in the middle."""
        band = pygame.Rect(area.left, area.top, area.width, self.px(110))
        pygame.draw.rect(
            surface, STALE_BAND, band,
            border_top_left_radius=self.px(24), border_top_right_radius=self.px(24),
        )  # fmt: skip
        banner = text(self.language, "stale_banner", time=since or "?")
        if not note:
            self.blit_text(surface, banner, self.px(40), WHITE, bold=True, max_width=inner,
                           center=band.center)  # fmt: skip
            return
        self.blit_text(
            surface, banner, self.px(40), WHITE, bold=True, max_width=inner,
            midtop=(band.centerx, band.top + self.px(10)),
        )  # fmt: skip
        self.blit_text(
            surface, text(self.language, "stale_note"), self.px(30), WHITE, max_width=inner,
            midbottom=(band.centerx, band.bottom - self.px(10)),
        )  # fmt: skip

    def _paint_recent(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        calls, stale, *more = key  # more: the rows of the break screen's longer list
        pygame.draw.rect(surface, PANEL_ALT, area, border_radius=self.px(20))
        pad = self.px(24)
        title_h = self.px(70)
        self.blit_text(
            surface, text(self.language, "recent_title"), self.px(38), MUTED, bold=True,
            midleft=(area.left + pad, area.top + title_h // 2 + self.px(6)),
        )  # fmt: skip
        rows = max(1, more[0] if more else self.recent_count)
        row_h = (area.height - title_h - pad // 2) / rows
        for index, call in enumerate(calls[:rows]):
            row = pygame.Rect(
                area.left + pad // 2, round(area.top + title_h + index * row_h),
                area.width - pad, round(row_h) - self.px(6),
            )  # fmt: skip
            pygame.draw.rect(
                surface, PANEL if index % 2 == 0 else PANEL_ALT, row, border_radius=self.px(12)
            )
            size = min(self.px(62), int(row.height * 0.8))
            self.blit_text(
                surface, call.number, size, STALE if stale else NUMBER, bold=True,
                max_width=int(row.width * 0.42), midleft=(row.left + pad // 2, row.centery),
            )  # fmt: skip
            self.blit_text(
                surface, call.counter_name, int(size * 0.78), STALE if stale else WHITE,
                max_width=int(row.width * 0.55), midright=(row.right - pad // 2, row.centery),
            )  # fmt: skip

    def _paint_hall_break(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        """The hall's break: "ISTIRAHAT", which break, and when service resumes."""
        label, reopens, stale, since = key
        pygame.draw.rect(
            surface, STALE_PANEL if stale else HALL_BREAK_PANEL, area, border_radius=self.px(24)
        )
        inner = area.width - self.px(80)
        cx = area.centerx
        lines = [
            (text(self.language, "hall_break"), self.px(190), WHITE, True, 0.30),
            (label, self.px(96), MUTED if stale else NUMBER, True, 0.56),
            (reopens, self.px(52), WHITE, False, 0.78),
        ]
        for value, size, ink, bold, y in lines:
            if value:
                self.blit_text(
                    surface, value, size, ink, bold=bold, max_width=inner,
                    center=(cx, round(area.top + area.height * y)),
                )  # fmt: skip
        if stale:
            self._paint_stale_band(surface, area, inner, since, note=False)

    def _paint_counters(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        counters, stale = key
        if not counters:
            return
        count = len(counters)
        columns = _grid_columns(count, area.width / area.height)
        rows = -(-count // columns)
        gap = self.px(14)
        cell_w = (area.width - gap * (columns - 1)) / columns
        cell_h = (area.height - gap * (rows - 1)) / rows
        for index, counter in enumerate(counters):
            r, c = divmod(index, columns)
            cell = pygame.Rect(
                round(area.left + c * (cell_w + gap)), round(area.top + r * (cell_h + gap)),
                round(cell_w), round(cell_h),
            )  # fmt: skip
            idle = counter.current is None or not counter.active
            panel = BREAK_PANEL if counter.on_break else (PANEL if not idle else PANEL_ALT)
            pygame.draw.rect(surface, panel, cell, border_radius=self.px(16))
            inner = cell.width - self.px(44)
            name_size = min(self.px(36), int(cell.height * 0.2))
            self.blit_text(
                surface, counter.name, name_size, MUTED, max_width=inner,
                midtop=(cell.centerx, cell.top + max(4, int(cell.height * 0.07))),
            )  # fmt: skip
            if counter.on_break:
                self._paint_break(surface, cell, inner, counter, STALE if stale else BREAK_INK)
                continue
            number = counter.current or text(self.language, "no_current")
            ink = STALE if stale else (NUMBER if not idle else MUTED)
            self.blit_text(
                surface, number, min(self.px(120), int(cell.height * 0.5)), ink, bold=True,
                max_width=inner, center=(cell.centerx, cell.top + cell.height * 0.62),
            )  # fmt: skip

    def _paint_break(
        self,
        surface: pygame.Surface,
        cell: pygame.Rect,
        inner: int,
        counter: CounterView,
        ink: tuple,
    ) -> None:
        """A tile on break: "Istirahat · kembali 13.00", on two lines when one would be tiny."""
        label = break_label(self.language, counter.break_reason, counter.break_until)
        size = min(self.px(48), int(cell.height * 0.22))
        lines = [label]
        if " · " in label and self.fit_size(label, size, inner) < size * 0.8:
            lines = label.split(" · ", 1)
            size = min(self.fit_size(line, size, inner) for line in lines)
        middle = cell.top + cell.height * 0.62
        step = size * 1.2
        for index, line in enumerate(lines):
            y = middle + (index - (len(lines) - 1) / 2) * step
            self.blit_text(surface, line, size, ink, max_width=inner, center=(cell.centerx, y))

    def _footer_key(self, running_text: str, now: datetime) -> tuple:
        if not running_text:
            return ((), 0)
        area = self.layout.regions["footer"]
        size, lines = self._lines(running_text, self.px(38), area.width - self.px(60))
        per_page = max(1, int(area.height // (size * 1.35)))
        pages = [tuple(lines[i : i + per_page]) for i in range(0, len(lines), per_page)]
        # Long text turns its pages every few seconds on the 1 s timer, instead of scrolling at
        # 30 frames a second: a marquee would keep a Raspberry Pi busy all day.
        page = int(now.timestamp() // RUNNING_TEXT_PAGE_SECONDS) % len(pages)
        return (pages[page], size)

    def _lines(self, value: str, size: int, width: int) -> tuple[int, list[str]]:
        """The running text at `size` (a little smaller if that makes it fit) as lines."""
        key = (value, size, width)
        cached = self._page_cache.get(key)
        if cached is not None:
            return cached
        value = " ".join(drawable(value).split())
        smaller = max(10, int(size * 0.8))
        if self.font(size).size(value)[0] <= width:
            result = (size, [value])
        elif self.font(smaller).size(value)[0] <= width:
            result = (smaller, [value])
        else:
            font = self.font(size)
            count = -(-font.size(value)[0] // width)
            # Balance the lines, so that no line holds a lonely last word.
            target = font.size(value)[0] / count
            lines: list[str] = []
            line = ""
            for word in value.split():
                candidate = f"{line} {word}".strip()
                too_long = font.size(candidate)[0] > width
                if line and (too_long or font.size(line)[0] >= target):
                    lines.append(line)
                    line = word
                else:
                    line = candidate
            if line:
                lines.append(line)
            result = (size, lines)
        if len(self._page_cache) > 8:
            self._page_cache.clear()
        self._page_cache[key] = result
        return result

    def _paint_footer(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        connection, lines, size, banner, server = key
        if connection != "connected":
            # Losing the server matters more than the running text: say it across the footer.
            surface.fill(BAD if connection == "disconnected" else HEADER, area)
            message = text(self.language, connection)
            if server and connection != "searching":
                message += " · " + text(self.language, "server", server=server)
            self.blit_text(
                surface, message, self.px(40), WHITE, bold=True,
                max_width=area.width - self.px(60), midleft=(area.left + self.px(30), area.centery),
            )  # fmt: skip
            return
        if banner:
            # The hall is closed: numbers are no longer issued. Calls of the backlog go on above.
            surface.fill(AMBER, area)
            self.blit_text(
                surface, banner, self.px(40), INK, bold=True,
                max_width=area.width - self.px(60), midleft=(area.left + self.px(30), area.centery),
            )  # fmt: skip
            return
        surface.fill(HEADER, area)
        step = size * 1.3
        top = area.centery - step * len(lines) / 2
        for index, line in enumerate(lines):
            self.blit_text(
                surface, line, size, WHITE, max_width=area.width - self.px(60),
                midleft=(area.left + self.px(30), round(top + step * (index + 0.5))),
            )  # fmt: skip

    def _paint_status(self, surface: pygame.Surface, area: pygame.Rect, key: Any) -> None:
        connection, since_drop, server = key
        ok = connection == "connected"
        surface.fill(HEADER if connection != "disconnected" else BAD, area)
        radius = self.px(13)
        if ok:
            label, ink = server or text(self.language, "connected"), GOOD
        else:
            # The footer carries the message; here: since when, or nothing while first connecting.
            label = text(self.language, "since", time=since_drop) if since_drop else ""
            ink = WHITE
        if not label and not ok:
            return
        image = self.render_text(label, self.px(32), WHITE, False)
        gap = self.px(14)
        left = area.right - self.px(30) - image.get_width() - gap - 2 * radius
        center = (left + radius, area.centery)
        if ok:
            pygame.draw.circle(surface, ink, center, radius)
        else:
            pygame.draw.circle(surface, ink, center, radius, width=max(2, self.px(4)))
        rect = surface.blit(image, image.get_rect(midleft=(left + 2 * radius + gap, area.centery)))
        self.placed[self._region].append((label, rect))


def _grid_columns(count: int, aspect: float) -> int:
    """Columns for `count` tiles in an area of width/height `aspect`, tiles about 1.6:1."""
    best, best_score = 1, None
    for columns in range(1, count + 1):
        rows = -(-count // columns)
        tile_aspect = (aspect * rows) / columns
        score = abs(tile_aspect - 1.6) + 0.05 * (columns * rows - count)
        if best_score is None or score < best_score:
            best, best_score = columns, score
    return best


class _Unset:
    pass


_UNSET = _Unset()


def draw_fallback(surface: pygame.Surface, language: str = "id", detail: str = "") -> None:
    """A plain screen for when normal drawing failed: never leave the TV black."""
    surface.fill(HEADER)
    width, height = surface.get_size()
    scale = min(width / 1920, height / 1080) if width > height else min(width / 1080, height / 1920)
    lines = [
        (text(language, "fallback_title"), 72, WHITE),
        (text(language, "fallback_note"), 40, MUTED),
    ]
    if detail:
        lines.append((detail[:80], 24, MUTED))
    y = height * 0.4
    for value, size, color in lines:
        try:
            font = pygame.font.Font(str(FONT_FILES[True]), max(10, int(size * scale)))
        except (OSError, FileNotFoundError, pygame.error):
            font = pygame.font.Font(None, max(12, int(size * scale * 1.3)))
        image = font.render(value, True, color)
        surface.blit(image, image.get_rect(center=(width // 2, int(y))))
        y += image.get_height() * 1.6
