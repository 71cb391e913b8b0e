"""Panggil's TV display: a pygame program that shows and speaks every call (docs/display.md)."""

import os

# pygame greets on import; on a Pi that line lands in the journal at every start.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
