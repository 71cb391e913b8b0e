"""Server-rendered web pages, one blueprint per area (auth, console, admin, kiosk, visitor, tv)."""
