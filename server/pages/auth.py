"""Logging in and out, the current user, role checks and login rate limiting."""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,  # fmt: skip
    url_for,
)
from flask_babel import gettext as _

from server.passwords import check_password

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

ROLES = ("admin", "officer")
HOME = {"admin": "admin.index", "officer": "console.index"}

# Login rate limit: at most MAX_FAILURES failed logins per client address and per username
# within WINDOW_SECONDS; further attempts are refused until the window has passed.
MAX_FAILURES = 5
WINDOW_SECONDS = 300


class LoginLimiter:
    """Counts failed logins in a sliding window; in memory, as the server is one process."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures[key]
        cutoff = self.clock() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(k)) >= self.max_failures for k in keys)

    def fail(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock())

    def clear(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def limiter() -> LoginLimiter:
    return current_app.extensions.setdefault("panggil_login_limiter", LoginLimiter())


def current_user() -> dict | None:
    """The logged-in, active user of this request, or None."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = None
        if user_id is not None:
            hub = current_app.extensions["panggil"]
            user = hub.read(lambda storage: storage.find_user(user_id=user_id))
            if user is not None and not user["active"]:
                user = None
        g.user = user
    return g.user


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def login_required(*roles: str) -> Callable:
    """Only logged-in users with one of these roles (any role when none is given) may enter."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if _wants_json():
                    return jsonify(ok=False, error="login-required", message=_("Please log in.")), 401
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and user["role"] not in roles:
                log.warning("user %s (%s) refused %s", user["username"], user["role"], request.path)
                if _wants_json():
                    return jsonify(ok=False, error="forbidden", message=_("You may not do this.")), 403
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _safe_next(target: str | None) -> str | None:
    # Only local paths: never redirect a login to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form for admins and officers."""
    error = None
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        keys = (f"ip:{request.remote_addr}", f"user:{username.lower()}")
        hub = current_app.extensions["panggil"]
        if limiter().blocked(*keys):
            error, status = _("Too many failed attempts. Wait a few minutes and try again."), 429
        else:
            user = hub.read(lambda storage: storage.find_user(username=username)) if username else None
            if user and user["active"] and check_password(user["password_hash"], password):
                limiter().clear(*keys)
                session.clear()
                session["user_id"] = user["id"]
                session.permanent = True
                hub.write(lambda storage: storage.add_audit(hub.now(), user["username"], "login"))
                log.info("user %s logged in from %s", user["username"], request.remote_addr)
                home = HOME[user["role"]]
                home = home if home in current_app.view_functions else "index"
                target = _safe_next(request.args.get("next")) or url_for(home)
                return redirect(target)
            limiter().fail(*keys)
            log.warning("failed login for %r from %s", username, request.remote_addr)
            error, status = _("Wrong username or password."), 401
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
