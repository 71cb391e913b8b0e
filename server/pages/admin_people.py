"""Admin views for users: add, edit role/counter/active, reset a password, set a keypad PIN."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from server.pages.admin_common import attempt, bp, form_data, hub, render, save_other
from server.pages.admin_forms import FormError, Problem, changes, validate_password, validate_user
from server.pages.auth import ROLES, current_user
from server.officers import PIN_DIGITS, hash_pin
from server.passwords import hash_password
from server.protocol import PanggilError
from server.storage import Storage

USER_FIELDS = ("full_name", "role", "counter", "active")


def _users() -> list[dict]:
    return hub().read(lambda s: s.list_users())


def _find(user_id: int) -> dict:
    return hub().read(lambda s: s.find_user(user_id=user_id)) or abort(404)


def _record(user: dict) -> dict:
    return {"full_name": user["full_name"], "role": user["role"], "counter": user["counter"],
            "active": bool(user["active"])}  # fmt: skip


@bp.get("/users")
def users():
    """Admins and officers, their counter and whether they may log in."""
    return render("admin/users.html", users=_users(), me=current_user())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Add an admin or an officer with a first password."""
    values: dict = {"role": "officer"}
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            clean = validate_user(values, users=_users(), counters=hub().hall.counters)
            password_hash = hash_password(clean["password"])  # slow on purpose: outside the lock

            def write(storage: Storage) -> None:
                if storage.find_user(username=clean["username"]):
                    raise FormError({"username": Problem("This username is already taken.")})
                storage.add_user(clean["username"], password_hash, clean["role"], hub().now(),
                                 counter=clean["counter"], full_name=clean["full_name"])  # fmt: skip

            save_other("user.create", clean["username"], write,
                       {k: clean[k] for k in ("full_name", "role", "counter")})  # fmt: skip

        errors = attempt(save)
        if not errors:
            flash(_("User %(name)s added.", name=values.get("username", "")), "success")
            return redirect(url_for("admin.users"))
    values.pop("password", None)
    values.pop("password2", None)
    return render("admin/user.html", edited=None, values=values, errors=errors, roles=ROLES,
                  counters=hub().hall.counters)  # fmt: skip


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    """Edit a user's name, role, counter and whether they may log in."""
    edited = _find(user_id)
    values: dict = _record(edited)
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            me = current_user()

            def write(storage: Storage) -> None:
                # Checked inside the transaction: two admins demoting each other at once must
                # still leave one admin.
                before = storage.find_user(user_id=user_id)
                clean = validate_user(values, users=storage.list_users(), counters=hub().hall.counters,
                                      editing=before, me=me)  # fmt: skip
                storage.update_user(user_id, full_name=clean["full_name"], role=clean["role"],
                                    counter=clean["counter"], active=clean["active"])  # fmt: skip
                after = {k: clean[k] for k in USER_FIELDS}
                detail.update(changes(_record(before), after))

            detail: dict = {}
            save_other("user.update", edited["username"], write, detail)

        errors = attempt(save)
        if not errors:
            if not _find(user_id)["active"]:
                _sign_out_everywhere(user_id)
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user.html", edited=edited, values=values, errors=errors, roles=ROLES,
                  counters=hub().hall.counters)  # fmt: skip


def _sign_out_everywhere(user_id: int) -> None:
    """A deactivated user leaves the counter they were signed in at (every screen is told)."""
    try:
        hub().sign_out_user(user_id)
    except PanggilError as exc:
        if exc.code != "not-signed-in":
            raise


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set a new password for a user (they are not told the old one, nobody is)."""
    edited = _find(user_id)
    values = form_data()
    errors: dict = {}

    def save() -> None:
        password_hash = hash_password(validate_password(values))
        save_other("user.password", edited["username"],
                   lambda s: s.replace_password(user_id, password_hash))  # fmt: skip

    errors = attempt(save)
    if not errors:
        flash(_("New password set for %(name)s.", name=edited["username"]), "success")
        return redirect(url_for("admin.users"))
    return render("admin/user.html", edited=edited, values=_record(edited), errors=errors, roles=ROLES,
                  counters=hub().hall.counters)  # fmt: skip


@bp.post("/users/<int:user_id>/pin")
def set_pin(user_id: int):
    """Set (typed twice) or clear the PIN a user signs in with on a counter's keypad."""
    edited = _find(user_id)
    values = form_data()
    clear = "clear" in values

    def save() -> None:
        pin_hash = None if clear else hash_pin(_checked_pin(values))  # slow: outside the lock
        save_other("user.pin_cleared" if clear else "user.pin", edited["username"],
                   lambda s: s.set_user_pin(user_id, pin_hash))  # fmt: skip

    errors = attempt(save)
    if not errors:
        message = _("PIN cleared for %(name)s.") if clear else _("New PIN set for %(name)s.")
        flash(message % {"name": edited["username"]}, "success")
        return redirect(url_for("admin.user", user_id=user_id))
    return render("admin/user.html", edited=edited, values=_record(edited), errors=errors, roles=ROLES,
                  counters=hub().hall.counters)  # fmt: skip


def _checked_pin(values: dict) -> str:
    pin = str(values.get("pin") or "").strip()
    low, high = PIN_DIGITS
    if not pin:
        raise FormError({"pin": Problem("Required.")})
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise FormError(
            {"pin": Problem("From %(low)d to %(high)d digits.", {"low": low, "high": high})}
        )
    if pin != str(values.get("pin2") or "").strip():
        raise FormError({"pin2": Problem("The two PINs differ.")})
    return pin
