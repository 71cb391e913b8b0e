"""Draws server/static/favicon.ico: a white "P" on Panggil's blue with the accent's ticket notch.

The icon is committed, so a hall's server never needs Pillow for it; run this again only to change
it: `.venv/bin/python scripts/make_favicon.py` (Pillow comes with the printing dependencies).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (11, 61, 145)  # --brand in server/static/panggil.css
ACCENT = (245, 183, 0)  # --accent
WHITE = (255, 255, 255)
SIZE = 256  # drawn large, then scaled down smoothly to each icon size
ICON_SIZES = [(16, 16), (32, 32), (48, 48)]
OUT = Path(__file__).resolve().parent.parent / "server" / "static" / "favicon.ico"


def draw() -> Image.Image:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, SIZE - 1, SIZE - 1), radius=48, fill=BRAND)
    # The "P": a stem and a round bowl with its counter cut out.
    pen.rounded_rectangle((64, 40, 112, 216), radius=12, fill=WHITE)
    pen.ellipse((64, 40, 200, 160), fill=WHITE)
    pen.rounded_rectangle((112, 82, 158, 118), radius=18, fill=BRAND)
    # A queue ticket's notch in the accent colour, bottom right.
    pen.ellipse((168, 168, 216, 216), fill=ACCENT)
    return image


def main() -> None:
    draw().save(OUT, format="ICO", sizes=ICON_SIZES)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
