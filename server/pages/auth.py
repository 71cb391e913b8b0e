"""Logging in and out, the current user, role checks and login rate limiting."""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit
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

from server import credentials
from server.passwords import check_password, dummy_hash, hash_password
from server.ratelimit import client_address, limits
from server.logtext import shown

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

ROLES = ("admin", "officer")
HOME = {"admin": "admin.index", "officer": "console.index"}


# The session cookie's copy of users.session_version: a logout, a new password or a deactivation
# bumps the user's, and every cookie that still carries the old one is logged out.
SESSION_VERSION = "sv"


def current_user() -> dict | None:
    """The logged-in, active user of this request, or None."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = None
        if user_id is not None:
            hub = current_app.extensions["panggil"]
            user = hub.read(lambda storage: storage.find_user(user_id=user_id))
            if user is not None and not session_is_current(user, session.get(SESSION_VERSION)):
                user = None
        g.user = user
    return g.user


def session_is_current(user: dict, version: object) -> bool:
    """True if a session for `user` that was given `version` at its login still counts."""
    return bool(user["active"]) and version == user["session_version"]


def start_session(user_id: int) -> None:
    """A fresh session for this user, carrying the user's session version."""
    hub = current_app.extensions["panggil"]
    user = hub.read(lambda storage: storage.find_user(user_id=user_id))
    session.clear()
    session["user_id"] = user_id
    session[SESSION_VERSION] = user["session_version"]
    session.permanent = True


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
                    return jsonify(
                        ok=False, error="login-required", message=_("Please log in.")
                    ), 401
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and user["role"] not in roles:
                log.warning(
                    "user %s (%s) refused %s", user["username"], user["role"], shown(request.path)
                )
                if _wants_json():
                    return jsonify(
                        ok=False, error="forbidden", message=_("You may not do this.")
                    ), 403
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _safe_next(target: str | None) -> str | None:
    """A local path to go to after the login, or None: never another site.

    Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
    `/%09/evil.example/` or `/\\evil.example` would leave the hall: such paths are refused whole.
    """
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form for admins and officers."""
    if current_app.extensions.get("panggil_setup") is not None:
        return redirect(url_for("auth.setup"))
    error = None
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:100]
        password = (request.form.get("password") or "")[:1000]
        address = client_address()
        login_limits = limits()["login"]
        hub = current_app.extensions["panggil"]
        if wait := login_limits.blocked(address, username):
            error, status = _wait_message(wait), 429
        else:
            user = (
                hub.read(lambda storage: storage.find_user(username=username)) if username else None
            )
            # The hash is checked whoever asks: an unknown name takes as long as a known one.
            right = check_password(user["password_hash"] if user else dummy_hash(), password)
            if user and user["active"] and right:
                login_limits.succeed(address, username)
                start_session(user["id"])
                hub.write(lambda storage: storage.add_audit(hub.now(), user["username"], "login"))
                log.info("user %s logged in from %s", user["username"], address)
                home = HOME[user["role"]]
                home = home if home in current_app.view_functions else "index"
                target = _safe_next(request.args.get("next")) or url_for(home)
                return redirect(target)
            login_limits.fail(address, username)
            log.warning("failed login for %s from %s", shown(username), address)
            error, status = _("Wrong username or password."), 401
    return render_template("auth/login.html", error=error), status


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """First start of a real hall: the one-time code from the server's log creates the first admin."""
    code = current_app.extensions.get("panggil_setup")
    if code is None:
        return redirect(url_for("auth.login"))
    error, status = None, 200
    form = {"username": "", "full_name": ""}
    if request.method == "POST":
        address = client_address()
        login_limits = limits()["login"]
        form = {k: (request.form.get(k) or "").strip()[:120] for k in ("username", "full_name")}
        password = (request.form.get("password") or "")[:1000]
        if wait := login_limits.blocked(address, "(setup)"):
            error, status = _wait_message(wait), 429
        elif not code.matches(request.form.get("code")):
            login_limits.fail(address, "(setup)")
            log.warning("wrong set-up code from %s", address)
            error, status = _("The set-up code is wrong. It is printed in the server's log."), 403
        elif password != request.form.get("password2"):
            error, status = _("The two passwords differ."), 400
        elif problem := credentials.check_new_admin(form["username"], password):
            error, status = _setup_problem(problem), 400
        else:
            hub = current_app.extensions["panggil"]
            password_hash = hash_password(password)
            try:
                user_id = hub.write(lambda storage: credentials.add_first_admin(
                    storage, form["username"], password_hash, hub.now(), form["full_name"]))  # fmt: skip
            except credentials.CredentialError:
                user_id, error, status = None, _("A user with this name exists already."), 409
            if user_id is None and error is None:
                error, status = _("An admin already exists. Log in instead."), 409
            elif user_id is not None:
                code.used = True
                current_app.extensions["panggil_setup"] = None
                log.warning(
                    "first admin %s created from %s with the set-up code", form["username"], address
                )
                start_session(user_id)
                return redirect(
                    url_for("admin.index")
                    if "admin.index" in current_app.view_functions
                    else url_for("index")
                )
    return render_template(
        "auth/setup.html", error=error, form=form, min_password=credentials.MIN_PASSWORD
    ), status


def _wait_message(seconds: int) -> str:
    return _("Too many failed attempts. Try again in %(n)s minutes.", n=max(1, -(-seconds // 60)))


def _setup_problem(problem: str) -> str:
    if problem.startswith("username"):
        return _("The username needs 3 to 40 letters, digits, dots, dashes or underscores.")
    if "demo" in problem:
        return _("This password was published with the demo. Choose another.")
    return _("The password needs at least %(n)s characters.", n=credentials.MIN_PASSWORD)


@bp.post("/logout")
def logout():
    """Log out: this session and every copy of its cookie end (the user's session version moves)."""
    user = current_user()
    if user is not None:
        hub = current_app.extensions["panggil"]
        hub.write(lambda storage: storage.end_sessions(user["id"]))
    session.clear()
    return redirect(url_for("auth.login"))
