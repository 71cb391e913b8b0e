"""Panggil's counter client: a keypad, keyboard or GPIO buttons at a counter, with a status view."""
