"""The renderer, drawn with SDL's dummy video driver: the right numbers in the right regions."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pygame
import pytest

from display import render, samples, texts
from display.render import Renderer, compute_layout, draw_fallback
from display.state import apply_event, apply_snapshot, initial_state, set_connected, tick

ROOT = Path(__file__).parent.parent
T0 = datetime(2026, 11, 26, 13, 43, 5, tzinfo=UTC)  # Kamis, 20.43 WIB
SIZES = [(1920, 1080), (1280, 720), (3840, 2160), (1080, 1920)]


@pytest.fixture(autouse=True, scope="module")
def fonts():
    pygame.font.init()
    yield
    pygame.font.quit()


def demo_state(called: bool = True):
    state = set_connected(initial_state(), True, T0).state
    state = apply_snapshot(state, samples.snapshot(), T0).state
    if called:
        state = apply_event(state, "ticket_called", samples.called_event(41, "A012", 1), T0).state
    return state


def draw(state, size=(1920, 1080), now=T0, renderer=None):
    renderer = renderer or Renderer(size)
    surface = pygame.Surface(size)
    renderer.draw(surface, state, now)
    return renderer, surface


def colours(surface, rect, step=4):
    """How often each colour occurs in `rect` (sampled on a grid)."""
    counts: Counter = Counter()
    for x in range(rect.left, rect.right, step):
        for y in range(rect.top, rect.bottom, step):
            counts[tuple(surface.get_at((x, y)))[:3]] += 1
    return counts


def dominant(surface, rect):
    return colours(surface, rect).most_common(1)[0][0]


def placed(renderer, region, value):
    rects = [rect for text, rect in renderer.placed.get(region, []) if text == value]
    assert rects, f"{value!r} not drawn in {region}: {renderer.placed.get(region)}"
    return rects[0]


def shows_text(renderer, surface, rect, value, size, colour, bold=True):
    """The frame holds exactly the pixels of `value` rendered alone at `rect` (text pixels only)."""
    image = renderer.render_text(value, size, colour, bold)
    assert image.get_size() == rect.size
    matches = total = 0
    for x in range(0, rect.width, 3):
        for y in range(0, rect.height, 3):
            pixel = image.get_at((x, y))
            if pixel.a == 255:  # a fully covered glyph pixel must show the text colour exactly
                total += 1
                matches += tuple(surface.get_at((rect.left + x, rect.top + y)))[:3] == colour
    return total > 20 and matches == total


def test_latest_call_is_big_and_highlighted_in_its_region():
    renderer, surface = draw(demo_state())
    latest = renderer.layout.regions["latest"]
    rect = placed(renderer, "latest", "A012")
    assert latest.contains(rect) and rect.height >= 200  # readable from 8 m
    assert dominant(surface, latest) == render.AMBER
    assert (
        dominant(surface, latest) != tuple(surface.get_at((2, 300)))[:3]
    )  # differs from background
    size = renderer.fit_size("A012", renderer.px(240), latest.width - renderer.px(60), True)
    assert shows_text(renderer, surface, rect, "A012", size, render.INK)
    assert latest.contains(placed(renderer, "latest", "Gerai 1"))


def test_after_the_highlight_the_latest_call_stays_but_calm():
    state = tick(demo_state(), T0 + timedelta(seconds=11)).state
    renderer, surface = draw(state)
    latest = renderer.layout.regions["latest"]
    assert dominant(surface, latest) == render.PANEL
    assert placed(renderer, "latest", "A012")


def test_counter_tiles_show_their_current_numbers_left_to_right():
    renderer, _ = draw(demo_state())
    grid = renderer.layout.regions["counters"]
    texts = renderer.placed["counters"]
    numbers = [(text, rect) for text, rect in texts if " " not in text and text[-1].isdigit()]
    assert [text for text, _ in numbers] == ["A012", "B007", "C004", "D015"]
    assert all(grid.contains(rect) for _, rect in numbers)
    lefts = [rect.left for _, rect in numbers]
    assert lefts == sorted(lefts)
    # Each number sits under its own counter's name.
    for name, number in [("Gerai 1", "A012"), ("Gerai 4 BPJS", "D015")]:
        assert (
            abs(
                placed(renderer, "counters", name).centerx
                - placed(renderer, "counters", number).centerx
            )
            < 5
        )
    size = placed(renderer, "counters", "B007").height
    assert size >= 90


def test_a_changed_counter_repaints_only_its_region_and_only_its_tile_differs():
    renderer, surface = draw(demo_state())
    before = surface.copy()
    state = apply_event(demo_state(), "ticket_called", samples.called_event(42, "B008", 2), T0)
    rects = renderer.draw(
        surface, tick(state.state, T0 + timedelta(seconds=11)).state, T0 + timedelta(seconds=11)
    )
    assert (
        renderer.layout.regions["counters"] in rects
        and renderer.layout.regions["clock"] not in rects
    )
    tile_1 = placed(renderer, "counters", "Gerai 1")
    tile_2 = placed(renderer, "counters", "B008")
    grid = renderer.layout.regions["counters"]
    changed = [
        x for x in range(grid.left, grid.right, 4)
        if any(surface.get_at((x, y)) != before.get_at((x, y)) for y in range(tile_2.top, tile_2.bottom, 4))
    ]  # fmt: skip
    assert changed and min(changed) > tile_1.right  # tile 1 untouched
    assert max(changed) < placed(renderer, "counters", "C004").left


def test_nothing_is_repainted_when_nothing_changed():
    t1 = T0 + timedelta(seconds=11)  # after the highlight
    state = tick(demo_state(), t1).state
    renderer, surface = draw(state, now=t1)
    assert renderer.draw(surface, state, t1) == []
    # Ticks within the same minute change nothing on screen.
    t2 = t1 + timedelta(seconds=30)
    assert renderer.draw(surface, tick(state, t2).state, t2) == []
    # The next minute repaints the clock only.
    t3 = T0 + timedelta(seconds=56)
    assert renderer.draw(surface, tick(state, t3).state, t3) == [renderer.layout.regions["clock"]]
    assert placed(renderer, "clock", "20.44 WIB")


def test_text_surfaces_are_rendered_once_per_value(monkeypatch):
    renderer, surface = draw(demo_state())
    calls = []
    original = pygame.font.Font.render

    class Spy:
        def __init__(self, font):
            self.font = font

        def render(self, *args, **kwargs):
            calls.append(args[0])
            return original(self.font, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.font, name)

    renderer._fonts = {key: Spy(font) for key, font in renderer._fonts.items()}
    renderer.invalidate()
    renderer.draw(surface, demo_state(), T0)
    assert calls == []  # everything came from the cache
    renderer.draw(
        surface,
        apply_event(demo_state(), "ticket_called", samples.called_event(42, "B008", 2), T0).state,
        T0,
    )
    assert "B008" in calls
    assert "Mal Pelayanan Publik Kota Contoh" not in calls and "20.43 WIB" not in calls


def test_date_and_time_in_indonesian():
    renderer, _ = draw(demo_state())
    assert placed(renderer, "clock", "Kamis, 26 November 2026")
    assert placed(renderer, "clock", "20.43 WIB")
    english = Renderer((1920, 1080), language="en")
    english.draw(pygame.Surface((1920, 1080)), demo_state(), T0)
    assert placed(english, "clock", "Thursday, 26 November 2026")
    assert placed(english, "latest", "QUEUE NUMBER")


@pytest.mark.parametrize("size", SIZES)
def test_every_layout_keeps_text_inside_its_regions(size):
    renderer, surface = draw(demo_state(), size)
    screen = surface.get_rect()
    regions = renderer.layout.regions
    for name, area in regions.items():
        assert screen.contains(area), name
        for other, area2 in regions.items():
            if other != name:
                assert not area.colliderect(area2), (name, other)
        for text, rect in renderer.placed.get(name, []):
            assert area.contains(rect), (name, text, rect, area)
    # The big number scales with the screen.
    assert placed(renderer, "latest", "A012").height >= 0.15 * min(size)


def test_portrait_stacks_the_regions():
    layout = compute_layout((1080, 1920))
    r = layout.regions
    assert layout.portrait and r["footer"].width == 1080
    assert (
        r["header"].bottom
        <= r["latest"].top
        < r["recent"].top
        < r["counters"].top
        < r["footer"].top
    )


def test_recent_list_shows_older_calls_newest_first():
    renderer, _ = draw(demo_state())
    numbers = [text for text, _ in renderer.placed["recent"] if " " not in text]
    assert numbers == ["A011", "D015", "C004", "B007", "A010", "PK003"]


def test_disconnected_shows_the_indicator_and_stale_numbers_are_marked():
    state = set_connected(demo_state(), False, T0)
    renderer, surface = draw(state.state)
    assert placed(renderer, "footer", "Terputus dari server, mencoba lagi...")
    assert dominant(surface, renderer.layout.regions["footer"]) == render.BAD
    # Not yet stale: the numbers still look live.
    assert dominant(surface, renderer.layout.regions["latest"]) == render.AMBER
    later = T0 + timedelta(minutes=5)
    stale = tick(state.state, later).state
    renderer, surface = draw(stale, now=later)
    latest = renderer.layout.regions["latest"]
    assert placed(renderer, "latest", "Data tidak terkini sejak 20.43 WIB")
    found = colours(surface, latest)
    assert found[render.STALE_BAND] > 0 and render.AMBER not in found
    assert render.NUMBER not in colours(surface, renderer.layout.regions["counters"])
    assert render.STALE in colours(surface, renderer.layout.regions["counters"])


def test_connected_indicator():
    renderer, surface = draw(demo_state())
    assert placed(renderer, "status", "Terhubung")
    assert render.GOOD in colours(surface, renderer.layout.regions["status"], step=2)


def test_before_the_first_snapshot():
    renderer, _ = draw(initial_state())
    assert placed(renderer, "latest", "Menghubungkan ke server...")


def test_long_running_text_turns_pages_without_losing_words():
    text = " ".join(f"kata{i}" for i in range(60))
    state = apply_snapshot(demo_state(), samples.snapshot(seq=50, running_text=text), T0).state
    renderer = Renderer((1920, 1080))
    seen = []
    for step in range(0, 200, render.RUNNING_TEXT_PAGE_SECONDS):
        for line in renderer.region_keys(state, T0 + timedelta(seconds=step))["footer"][1]:
            if line not in seen:
                seen.append(line)
    assert len(seen) > 1 and " ".join(sorted(seen, key=lambda s: int(s.split()[0][4:]))) == text


def test_missing_fonts_fall_back_to_pygames_own(tmp_path):
    renderer, _ = draw(demo_state(), renderer=Renderer((1280, 720), font_dir=tmp_path))
    assert placed(renderer, "latest", "A012").height > 100


def test_fallback_screen_is_not_black():
    surface = pygame.Surface((1920, 1080))
    draw_fallback(surface, "id", "RuntimeError")
    found = colours(surface, surface.get_rect(), step=16)
    assert (0, 0, 0) not in found and len(found) > 1


def test_screenshot_command_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    subprocess.run(
        [sys.executable, "-m", "display", "--screenshot", str(out), "--state",
         str(ROOT / "display" / "sample_state.json"), "--resolution", "1280x720"],
        check=True, cwd=ROOT, capture_output=True, timeout=60,
    )  # fmt: skip
    image = pygame.image.load(str(out))
    assert image.get_size() == (1280, 720)
    assert tuple(image.get_at((30, 300)))[:3] == render.AMBER  # the highlighted call


def placed_break(renderer, label):
    """Where a break label was drawn: one line, or reason over return time on a narrow tile."""
    drawn = [text for text, _ in renderer.placed["counters"]]
    if label in drawn:
        rect = placed(renderer, "counters", label)
        return rect, rect
    reason, back = label.split(" · ")
    first, second = placed(renderer, "counters", reason), placed(renderer, "counters", back)
    assert second.top >= first.bottom - 4 and abs(first.centerx - second.centerx) < 5
    return first, second


def break_state():
    state = set_connected(initial_state(), True, T0).state
    snapshot = samples.break_document()["snapshot"]
    return apply_snapshot(state, snapshot, T0).state


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_a_counter_on_break_shows_why_and_when_instead_of_a_number(size):
    renderer, surface = draw(break_state(), size=size)
    grid = renderer.layout.regions["counters"]
    label, back = placed_break(renderer, "Istirahat · kembali 13.00")
    assert grid.contains(label) and grid.contains(back) and label.height >= size[1] // 40
    name = placed(renderer, "counters", "Gerai 3 Imigrasi")
    assert abs(label.centerx - name.centerx) < 5 and label.top > name.bottom
    assert placed(renderer, "counters", "Istirahat (sholat)")
    # No number and no dash on a tile on break; the tile is the calm grey of a break.
    drawn = [text for text, _ in renderer.placed["counters"]]
    assert "C004" not in drawn and drawn.count("—") == 0
    assert tuple(surface.get_at((name.centerx, name.top - 2)))[:3] == render.BREAK_PANEL
    assert render.BREAK_INK in colours(surface, label, step=1)


def test_break_label_follows_the_language_setting():
    renderer, _ = draw(break_state(), renderer=Renderer((1920, 1080), language="en"))
    assert placed_break(renderer, "On break · back at 13.00")
    assert placed(renderer, "counters", "On break (prayer)")


def test_the_end_of_a_break_brings_the_tile_back_live():
    state = break_state()
    renderer, _ = draw(state)
    event = samples.counter_changed_event(41, 3, None)
    state = apply_event(state, "counter_changed", event, T0).state
    renderer, _ = draw(state, renderer=renderer)
    drawn = [text for text, _ in renderer.placed["counters"]]
    assert "Istirahat · kembali 13.00" not in drawn and "kembali 13.00" not in drawn
    assert "Istirahat (sholat)" in drawn and "C004" not in drawn and "—" in drawn


# --- the hall's break and closing (issue 13 item 2) -------------------------------------------

FRIDAY_NOON = datetime(2026, 11, 27, 5, 5, tzinfo=UTC)  # Jumat 12.05 WIB


def hall_state(document):
    state = set_connected(initial_state(), True, FRIDAY_NOON).state
    state = apply_snapshot(state, document["snapshot"], FRIDAY_NOON).state
    for event in document["events"]:
        state = apply_event(state, event["event"], event, FRIDAY_NOON).state
    return state


@pytest.mark.parametrize("size", SIZES)
def test_the_hall_break_screen_says_break_which_and_until_when(size):
    renderer, surface = draw(hall_state(samples.hall_break_document()), size, FRIDAY_NOON)
    area = renderer.layout.area("hallbreak")
    word = placed(renderer, "hallbreak", "ISTIRAHAT")
    label = placed(renderer, "hallbreak", "Sholat Jumat")
    back = placed(renderer, "hallbreak", "Layanan dibuka kembali pukul 13.00")
    assert word.bottom <= label.top and label.bottom <= back.top
    assert word.height >= 0.1 * min(size) and all(area.contains(r) for r in (word, label, back))
    assert dominant(surface, area) == render.HALL_BREAK_PANEL
    # No call, no counters: nothing to look for. The clock, the hall, the running text stay.
    assert "latest" not in renderer.placed and "counters" not in renderer.placed
    assert placed(renderer, "clock", "12.05 WIB")
    assert placed(renderer, "header", "Mal Pelayanan Publik Kota Contoh")
    assert renderer.placed["footer"][0][0].startswith("Selamat datang")
    # The calls made before the break are listed, newest first.
    numbers = [t for t, _ in renderer.placed["break_recent"] if " " not in t]
    assert numbers == ["A024", "D019", "C008", "B012", "A023", "PK006"]
    screen = surface.get_rect()
    for name in ("hallbreak", "break_recent"):
        assert screen.contains(renderer.layout.area(name))
        for _, rect in renderer.placed[name]:
            assert renderer.layout.area(name).contains(rect)
        for other in ("header", "clock", "footer", "status"):
            assert not renderer.layout.area(name).colliderect(renderer.layout.regions[other])
    assert not renderer.layout.area("hallbreak").colliderect(renderer.layout.area("break_recent"))


def test_the_hall_break_screen_in_english():
    renderer = Renderer((1920, 1080), language="en")
    draw(hall_state(samples.hall_break_document()), now=FRIDAY_NOON, renderer=renderer)
    assert placed(renderer, "hallbreak", "BREAK")
    assert placed(renderer, "hallbreak", "Service resumes at 13.00")


def test_the_end_of_the_hall_break_brings_the_calls_back():
    state = hall_state(samples.hall_break_document())
    renderer, surface = draw(state, now=FRIDAY_NOON)
    teal = renderer.layout.area("hallbreak").center
    assert tuple(surface.get_at(teal))[:3] == render.HALL_BREAK_PANEL
    opened = dict(samples.OPEN, until="2026-11-27T16:00:00+07:00")
    state = apply_event(state, "hall_changed", samples.hall_status_event(121, opened), T0).state
    state = apply_event(state, "ticket_called", samples.called_event(122, "A025", 1), T0).state
    rects = renderer.draw(surface, state, FRIDAY_NOON)
    assert rects == [surface.get_rect()]  # another screen: all of it repainted
    assert "hallbreak" not in renderer.region_keys(state, FRIDAY_NOON)
    assert placed(renderer, "latest", "A025") and placed(renderer, "counters", "A025")
    assert tuple(surface.get_at(teal))[:3] != render.HALL_BREAK_PANEL


def test_a_closed_hall_shows_a_banner_and_keeps_calling():
    state = hall_state(samples.closed_document())
    renderer, surface = draw(state, now=datetime(2026, 11, 27, 9, 20, 5, tzinfo=UTC))
    banner = placed(renderer, "footer", "Pendaftaran nomor ditutup · buka lagi Senin 07.30")
    assert dominant(surface, renderer.layout.regions["footer"]) == render.AMBER
    assert banner.height >= 1080 // 40
    assert placed(renderer, "latest", "A042") and state.highlighted
    assert "Selamat datang" not in " ".join(t for t, _ in renderer.placed["footer"])


@pytest.mark.parametrize(
    "until, label, expected",
    [
        ("2026-11-27T19:00", None, "Pendaftaran nomor ditutup · buka lagi pukul 19.00"),
        ("2026-11-28T07:30", None, "Pendaftaran nomor ditutup · buka lagi besok 07.30"),
        ("2026-11-30T07:30", None, "Pendaftaran nomor ditutup · buka lagi Senin 07.30"),
        (
            "2027-01-04T07:30",
            "Hari Raya Natal",
            "Hari Raya Natal · Pendaftaran nomor ditutup · buka lagi Senin, 4 Januari 07.30",
        ),
        (None, None, "Pendaftaran nomor ditutup"),
    ],
)
def test_closed_banner_words(until, label, expected):
    zone = timezone(timedelta(hours=7))
    now = datetime(2026, 11, 27, 16, 20, tzinfo=zone)
    moment = None if until is None else datetime.fromisoformat(until).replace(tzinfo=zone)
    assert texts.hall_closed_banner("id", label, moment, now) == expected
