"""Panggil's queue server."""
