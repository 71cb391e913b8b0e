"""Security headers on every response: the hall's Wi-Fi is shared with anyone who walks in.

The Content-Security-Policy lets a page run only the server's own script files and styles (no
inline script, no inline style), so text an admin or a visitor typed can never become code.
Pages that carry a secret (a counter's token, a session, a ticket's visitor token) are never
stored by the browser or a proxy, and no address leaves the page in a Referer header.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for the kiosk's QR code
    "connect-src 'self'",
    "media-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])  # fmt: skip

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
# No address leaves a page in a Referer header (a visitor link carries its ticket's token). Staff
# pages send it to this server only: over HTTPS, Flask-WTF refuses a form POST without a Referer
# of the same host, so "no-referrer" there would break every login and admin form.
REFERRER_POLICY = "no-referrer"
STAFF_REFERRER_POLICY = "same-origin"
STAFF_ENDPOINTS = {"index"}  # the start page's log-out form

# Blueprints whose every answer is personal: admin pages (a counter's token), the officer console
# (its token), the login form (a CSRF token bound to the session).
PRIVATE_BLUEPRINTS = {"admin", "console", "auth"}
# Single answers that carry a ticket's visitor token, or figures only staff may read.
PRIVATE_ENDPOINTS = {
    "visitor.ticket_page",
    "visitor.ticket_status",
    "kiosk.take_ticket",
    "phone.take_ticket",  # the number's tokened page address
    "phone.page",  # sets the phone's device cookie
    "api.issue_ticket",
    "report_api.summary",  # the hall's figures, for an admin or a report token's holder
    "kiosk.check_in",  # a checked-in booking's ticket with its visitor token
    "booking.book",  # a booking's code is the key to it
    "booking.confirmation",
    "booking.import_booking",
    "booking.counter_check_in",
}
HOST_RE = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,255}$")


def content_security_policy() -> str:
    """The policy; older browsers (CSP 2, on smart TVs) need the websocket origin named."""
    host = request.host
    if not HOST_RE.match(host):
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}"
    )


def is_private() -> bool:
    """True for answers the browser must not keep (see PRIVATE_BLUEPRINTS, PRIVATE_ENDPOINTS)."""
    return request.blueprint in PRIVATE_BLUEPRINTS or request.endpoint in PRIVATE_ENDPOINTS


def referrer_policy() -> str:
    staff = request.blueprint in PRIVATE_BLUEPRINTS or request.endpoint in STAFF_ENDPOINTS
    return STAFF_REFERRER_POLICY if staff else REFERRER_POLICY


def add_headers(response: Response) -> Response:
    # A route may set a stricter policy of its own (the uploaded logo: default-src 'none').
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Referrer-Policy", referrer_policy())
    if is_private():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)


def socket_origins(extra: Iterable[str]) -> Callable[[str | None, dict], bool]:
    """The Socket.IO Origin check: this server's own pages, the configured extra sites, and clients
    that send no Origin at all (the Pi display and the counter client are not browsers).

    A browser on the hall's Wi-Fi sends the Origin of the page that opened the socket: without this
    check any web page a visitor opens could drive a console whose cookie or token it got hold of.
    Behind the reverse proxy the page's origin is the proxy's: it must keep the Host header and
    send X-Forwarded-Proto (deploy/nginx-panggil.conf, docs/install.md).
    """
    allowed = frozenset(extra)

    def check(origin: str | None, environ: dict) -> bool:
        if origin is None:
            return True
        return origin in allowed or origin in own_origins(environ)

    return check


def own_origins(environ: dict) -> set[str]:
    """The origins this request's own pages have: as addressed, and as the proxy forwarded it."""
    host = environ.get("HTTP_HOST", "")
    if not HOST_RE.match(host):
        return set()
    scheme = environ.get("wsgi.url_scheme", "http")
    own = {f"{scheme}://{host}"}
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
    if forwarded in ("http", "https"):
        own.add(f"{forwarded}://{host}")
    return own
