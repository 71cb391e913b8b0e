"""Panggil's TV display: a pygame program that shows and speaks every call (docs/display.md)."""
