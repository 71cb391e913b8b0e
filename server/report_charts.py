"""The Laporan page's trend charts as server-side SVG: no JavaScript, printable, CSP-safe.

Pure: numbers and labels in, SVG text out. Colours are presentation attributes and classes
(the CSP forbids inline style, not SVG attributes); every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 40


@dataclass(frozen=True)
class Series:
    """One line of a chart: its label, its class (its colour in admin.css) and one value per x."""

    label: str
    css: str
    values: Sequence[float | None]


def nice_top(value: float) -> float:
    """A round number at or above value for the y axis (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> str:
    """A line chart with markers, a y axis from 0 and a legend; labels are the x values (days)."""
    n = len(labels)
    values = [v for s in series for v in s.values if v is not None]
    top = nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):  # grid and y labels
        v = top * k / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" '
                     f'y2="{y(v):.1f}"/>')  # fmt: skip
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f"{_number(v)}{escape(unit)}</text>")  # fmt: skip
    every = max(1, -(-n // 16))  # at most 16 x labels
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                         f'text-anchor="middle">{escape(label)}</text>')  # fmt: skip
    for s in series:
        points = [(x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline class="line {s.css}" points="{path}"/>')
        for px, py in points:
            parts.append(f'<circle class="dot {s.css}" cx="{px:.1f}" cy="{py:.1f}" r="3"/>')
    legend_x = LEFT
    for s in series:
        parts.append(f'<rect class="key {s.css}" x="{legend_x}" y="{HEIGHT - 14}" width="12" '
                     f'height="12"/>')  # fmt: skip
        parts.append(f'<text class="legend" x="{legend_x + 16}" y="{HEIGHT - 4}">'
                     f"{escape(s.label)}</text>")  # fmt: skip
        legend_x += 28 + 8 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)
