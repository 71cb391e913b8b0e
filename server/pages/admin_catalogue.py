"""Admin views for the hall's catalogue: agencies, services, counters (tokens, QR) and displays."""

from __future__ import annotations

import collections
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import segno
from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from panggil_common.version import is_older, version
from server import engine, events, pairing
from server.engine import Agency, Counter, Service
from server.pages.admin_common import (
    actor,
    attempt,
    bp,
    form_data,
    hub,
    render,
    save_hall,
    save_other,
)
from server.pages.admin_forms import (
    FormError,
    Problem,
    booking_fields,
    changes,
    validate_booking_plan,
    hours_fields,
    validate_agency,
    validate_counter,  # fmt: skip
    validate_display,
    validate_service,
)
from server.storage import Storage

# --- agencies ------------------------------------------------------------------------------------


@bp.route("/agencies", methods=["GET", "POST"])
def agencies():
    """The agencies of the hall, and a form to add one."""
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        values = form_data()
        errors = attempt(lambda: _create_agency(values))
        if not errors:
            flash(_("Agency %(name)s added.", name=values["name"].strip()), "success")
            return redirect(url_for("admin.agencies"))
    counts = collections.Counter(s.agency for s in hub().hall.services.values())
    return render("admin/agencies.html", agencies=list(hub().hall.agencies.values()), used=set(counts),
                  counts=counts, values=values, errors=errors, weekdays=engine.WEEKDAYS)  # fmt: skip


def _create_agency(values: dict) -> None:
    hall = hub().hall
    agency = validate_agency(values, agencies=hall.agencies)

    def write(storage: Storage) -> None:
        if storage.agency_exists(agency.code):
            raise FormError({"code": Problem("This code is already used.")})
        storage.save_agency(agency, position=len(hall.agencies))

    save_hall("catalogue", "agency.create", agency.code, write, agency_record(agency))


def agency_record(agency: Agency) -> dict:
    """An agency as plain values for the form and the audit log (weekdays: [] for every day)."""
    days = [] if agency.weekdays is None else [engine.WEEKDAYS[d] for d in sorted(agency.weekdays)]
    return {"name": agency.name, "weekdays": days}


@bp.route("/agencies/<code>", methods=["GET", "POST"])
def agency(code: str):
    """Rename an agency (its code stays: services refer to it)."""
    current = hub().hall.agencies.get(code) or abort(404)
    values = agency_record(current)
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            new = validate_agency(values, agencies=hub().hall.agencies, editing=code)
            save_hall("catalogue", "agency.update", code, lambda s: s.save_agency(new),
                      changes(agency_record(current), agency_record(new)))  # fmt: skip

        errors = attempt(save)
        if not errors:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.agencies"))
    return render("admin/agency.html", agency=current, values=values, errors=errors,
                  weekdays=engine.WEEKDAYS)  # fmt: skip


@bp.post("/agencies/<code>/delete")
def delete_agency(code: str):
    """Remove an agency that no service belongs to."""
    current = hub().hall.agencies.get(code) or abort(404)
    if any(s.agency == code for s in hub().hall.services.values()):
        flash(
            _("%(name)s still has services; move or close them instead.", name=current.name),
            "error",
        )
        return redirect(url_for("admin.agencies"))

    save_hall("catalogue", "agency.delete", code, lambda s: s.delete_agency(code),
              {"name": current.name})  # fmt: skip
    flash(_("Agency %(name)s removed.", name=current.name), "success")
    return redirect(url_for("admin.agencies"))


# --- services ------------------------------------------------------------------------------------


def service_record(service: Service) -> dict:
    """A service as plain values for the audit log and the form."""
    fields = hours_fields(service.hours)
    return {"agency": service.agency, "name": service.name, "prefix": service.prefix,
            "daily_quota": service.daily_quota, **fields, "cutoff_minutes": service.cutoff,
            "priority_allowed": service.priority_allowed, "active": service.active,
            "target_wait": service.target_wait, "alert_ahead": service.alert_ahead}  # fmt: skip


@bp.get("/services")
def services():
    """Every service with its prefix, quota, hours and today's numbers."""
    details = {d["code"]: d for d in hub().services_detail()}
    hall = hub().hall
    rows = [(s, details.get(s.code, {}), hours_fields(s.hours)) for s in hall.services.values()]
    return render(
        "admin/services.html", rows=rows, agencies=hall.agencies, weekdays=engine.WEEKDAYS
    )


@bp.route("/services/new", methods=["GET", "POST"])
def new_service():
    """Add a service (queue) with its own prefix."""
    hall = hub().hall
    values: dict = {
        "active": "on",
        "priority_allowed": "on",
        "agency": request.args.get("agency", ""),
        **booking_fields(None),
    }
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            hall = hub().hall
            service, plan = _validated(
                lambda: validate_service(values, agencies=hall.agencies, services=hall.services),
                values,
            )

            def write(storage: Storage) -> None:
                _check_service_unique(storage, service, new=True)
                storage.save_service(service, position=len(hall.services))
                if plan is not None:
                    storage.save_booking_plan(service.code, plan)

            save_hall("catalogue", "service.create", service.code, write,
                      {**service_record(service), "bookings": plan_record(plan)})  # fmt: skip

        errors = attempt(save)
        if not errors:
            flash(_("Service %(name)s added.", name=values.get("name", "")), "success")
            return redirect(url_for("admin.services"))
    return render("admin/service.html", service=None, values=values, errors=errors,
                  agencies=hall.agencies, weekdays=engine.WEEKDAYS)  # fmt: skip


@bp.route("/services/<code>", methods=["GET", "POST"])
def service(code: str):
    """Edit a service; its code stays (tickets refer to it). Closing it stops new tickets."""
    current = hub().hall.services.get(code) or abort(404)
    stored_plan = hub().read(lambda s: s.booking_plan_rows().get(code))
    values = {**service_record(current), "active": current.active,
              "priority_allowed": current.priority_allowed,
              **booking_fields(stored_plan)}  # fmt: skip
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            hall = hub().hall
            new, plan = _validated(
                lambda: validate_service(
                    values, agencies=hall.agencies, services=hall.services, editing=code
                ),
                values,
            )
            if plan is None and stored_plan is not None:  # switched off, sessions emptied
                plan = {**stored_plan, "active": False}

            def write(storage: Storage) -> None:
                _check_service_unique(storage, new, new=False)
                storage.save_service(new)
                if plan is not None:
                    storage.save_booking_plan(code, plan)

            before = {**service_record(current), "bookings": plan_record(stored_plan)}
            after = {**service_record(new), "bookings": plan_record(plan)}
            save_hall("catalogue", "service.update", code, write, changes(before, after))

        errors = attempt(save)
        if not errors:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.services"))
    return render("admin/service.html", service=current, values=values, errors=errors,
                  agencies=hub().hall.agencies, weekdays=engine.WEEKDAYS)  # fmt: skip


def _validated(service: Callable[[], Service], values: Mapping) -> tuple[Service, dict | None]:
    """The service and its booking plan from the form, every field's problem at once."""
    errors: dict = {}
    checked = plan = None
    try:
        checked = service()
    except FormError as exc:
        errors.update(exc.errors)
    try:
        plan = validate_booking_plan(values)
    except FormError as exc:
        errors.update(exc.errors)
    if errors:
        raise FormError(errors)
    assert checked is not None
    return checked, plan


def plan_record(plan: Mapping | None) -> str | None:
    """A booking plan in one line for the audit log (None: no bookings)."""
    if plan is None or not plan["active"]:
        return None
    return (f"{', '.join(plan['sessions'])} x{plan['quota']}, +{plan['grace_minutes']} min"
            + (", priority" if plan["priority"] else ""))  # fmt: skip


def _check_service_unique(storage: Storage, service: Service, *, new: bool) -> None:
    """The same checks as the form, again inside the transaction: another admin may have been quicker."""
    if new and storage.service_exists(service.code):
        raise FormError({"code": Problem("This code is already used.")})
    other = storage.service_using_prefix(service.prefix, other_than=service.code)
    if other:
        raise FormError({"prefix": Problem("Prefix %(prefix)s is already used by %(service)s.",
                                           {"prefix": service.prefix, "service": other})})  # fmt: skip


# --- counters ------------------------------------------------------------------------------------


def counter_record(counter: Counter) -> dict:
    return {"name": counter.name, "spoken_name": counter.spoken_name,
            "services": list(counter.services), "active": counter.active}  # fmt: skip


@bp.get("/counters")
def counters():
    """Every counter, the services it calls and whether it is in use."""
    h = hub()
    devices = h.read(Storage.list_counter_devices)
    for device in devices.values():
        device["older"] = is_older(device["version"], version())
    return render("admin/counters.html", counters=[h.counter_info(n) for n in h.hall.counters],
                  services=h.hall.services, devices=devices, server_version=version(),
                  older=sum(1 for d in devices.values() if d["older"]))  # fmt: skip


@bp.route("/counters/new", methods=["GET", "POST"])
def new_counter():
    """Add a counter; it gets a fresh device token."""
    hall = hub().hall
    suggested = max(hall.counters, default=0) + 1
    values: dict = {"active": "on", "number": str(suggested), "services": []}
    errors: dict = {}
    if request.method == "POST":
        values = form_data()
        saved: list[int] = []

        def save() -> None:
            hall = hub().hall
            counter = validate_counter(values, services=hall.services, counters=hall.counters)

            def write(storage: Storage) -> None:
                if storage.counter_exists(counter.number):
                    raise FormError({"number": Problem("Counter %(number)d already exists.",
                                                       {"number": counter.number})})  # fmt: skip
                storage.save_counter(counter, token=new_token())

            save_hall(
                "catalogue", "counter.create", str(counter.number), write, counter_record(counter)
            )
            saved.append(counter.number)

        errors = attempt(save)
        if not errors:
            flash(_("Counter %(number)s added. Pair its device with the QR code below.", number=saved[0]),
                  "success")  # fmt: skip
            return redirect(url_for("admin.counter", number=saved[0]))
    return render("admin/counter.html", counter=None, values=values, errors=errors,
                  services=hall.services, agencies=hall.agencies)  # fmt: skip


def new_token() -> str:
    return secrets.token_urlsafe(16)


@bp.route("/counters/<int:number>", methods=["GET", "POST"])
def counter(number: int):
    """Edit a counter; shows its device token and the pairing QR code."""
    current = hub().hall.counters.get(number) or abort(404)
    values: dict = {**counter_record(current)}
    errors: dict = {}
    if request.method == "POST":
        values = form_data()

        def save() -> None:
            hall = hub().hall
            new = validate_counter(
                values, services=hall.services, counters=hall.counters, editing=number
            )
            save_hall("catalogue", "counter.update", str(number), lambda s: s.save_counter(new),
                      changes(counter_record(current), counter_record(new)))  # fmt: skip

        errors = attempt(save)
        if not errors:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.counters"))
    if not isinstance(values.get("services"), list):
        values["services"] = [values["services"]] if values.get("services") else []
    token = hub().tokens.get(number, "")
    pairing = pairing_text(request.host_url, number, token)
    return render("admin/counter.html", counter=current, values=values, errors=errors,
                  services=hub().hall.services, agencies=hub().hall.agencies, token=token,
                  pairing=pairing, qr_svg=qr_svg(pairing))  # fmt: skip


@bp.post("/counters/<int:number>/token")
def regenerate_token(number: int):
    """Give a counter a new token: the old device is refused from now on."""
    current = hub().hall.counters.get(number) or abort(404)
    save_hall(
        "catalogue",
        "counter.token",
        str(number),
        lambda s: s.save_counter(current, token=new_token()),
    )
    events.disconnect_counter(number)
    flash(_("New token made. Pair the counter's device again."), "success")
    return redirect(url_for("admin.counter", number=number))


@bp.post("/counters/<int:number>/pair")
def pair_counter(number: int):
    """A one-use pairing code for a counter's Pi: `panggil-counter --pair CODE`."""
    current = hub().hall.counters.get(number) or abort(404)
    return _pairing_page(
        "counter", str(number), current.name, url_for("admin.counter", number=number)
    )


@bp.post("/displays/<name>/pair")
def pair_display(name: str):
    """A one-use pairing code for a display's Pi: `panggil-display --pair CODE`."""
    if hub().read(lambda s: s.find_display(name)) is None:
        abort(404)
    return _pairing_page("display", name, name, url_for("admin.display", name=name))


def _pairing_page(kind: str, target: str, label: str, back: str):
    code = pairing.create(hub(), current_app.config["SECRET_KEY"], kind, target, actor())
    server = request.host_url.rstrip("/")
    text = f"panggil:pair?{urlencode({'server': server, 'code': code})}"
    command = f"panggil-{kind} --config /etc/panggil/{kind}.yaml --pair {code}"
    return render("admin/pairing.html", kind=kind, label=label, code=code, back=back,
                  qr_svg=qr_svg(text), pairing=text, command=command,
                  minutes=int(pairing.CODE_TTL.total_seconds() // 60))  # fmt: skip


def pairing_text(server_url: str, number: int, token: str) -> str:
    """What the pairing QR code holds: the server, the counter and its token (docs/admin.md)."""
    query = urlencode({"server": server_url.rstrip("/"), "counter": number, "token": token})
    return f"panggil:counter?{query}"


def qr_svg(text: str) -> str:
    """The QR code as inline SVG markup (made here, nothing fetched)."""
    return segno.make(text, error="m").svg_inline(
        scale=5, border=2, dark="#111827", light="#ffffff"
    )


# --- displays ------------------------------------------------------------------------------------


def displays_status() -> dict:
    """Configured displays with online state, and the other live /display connections."""
    h = hub()
    configured = h.read(Storage.list_displays)
    online: dict[str, dict] = {}
    others = []
    for conn in list(h.displays.values()):
        online.setdefault(conn["name"], conn)
    names = {d["name"] for d in configured}
    for d in configured:
        conn = online.get(d["name"])
        d["online"] = conn is not None
        d["since"] = conn["since"] if conn else None
        d["address"] = (conn or {}).get("address") or d.get("address")
        d["version"] = conn.get("version") if conn else d.get("version")
        d["older"] = is_older(d["version"], version())
    for name, conn in sorted(online.items()):
        if name not in names:
            others.append({"name": name, "since": conn["since"], "address": conn.get("address"),
                           "version": conn.get("version"),
                           "older": is_older(conn.get("version"), version())})  # fmt: skip
    return {"displays": configured, "others": others,
            "online": sum(1 for d in configured if d["online"]), "server_version": version(),
            "older": sum(1 for d in (*configured, *others) if d["older"])}  # fmt: skip


@bp.get("/displays")
def displays():
    """TV screens: what each shows, online now, last seen; other live connections."""
    hall = hub().hall
    return render("admin/displays.html", **displays_status(), services=hall.services,
                  counters=hall.counters)  # fmt: skip


@bp.get("/displays.json")
def displays_json():
    """The display list for the live monitor (connections are not broadcast events)."""
    return jsonify(ok=True, **displays_status())


@bp.route("/displays/new", methods=["GET", "POST"])
@bp.route("/displays/<name>", methods=["GET", "POST"])
def display(name: str | None = None):
    """Add or edit a display: its name (set on the screen) and the counters or services it shows."""
    h = hub()
    existing = {d["name"]: d for d in h.read(Storage.list_displays)}
    current = None
    if name is not None:
        current = existing.get(name) or abort(404)
    values: dict = {"name": request.args.get("name", ""), "counters": [], "services": []}
    if current:
        values = {"name": name, "counters": [str(n) for n in current["counters"] or []],
                  "services": current["services"] or []}  # fmt: skip
    errors: dict = {}
    if request.method == "POST":
        values = {"counters": [], "services": [], **form_data()}

        def save() -> None:
            hall = h.hall
            clean = validate_display(values, counters=hall.counters, services=hall.services,
                                     displays=existing, editing=name)  # fmt: skip
            record = {"counters": clean["counters"], "services": clean["services"]}
            if current is None:
                save_other(
                    "display.create", clean["name"], lambda s: _insert_display(s, clean), record
                )
            else:
                save_other("display.update", name, lambda s: _update_display(s, clean),
                           changes({k: current[k] for k in record}, record))  # fmt: skip

        errors = attempt(save)
        if not errors:
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.displays"))
    return render("admin/display.html", display=current, values=values, errors=errors,
                  services=h.hall.services, counters=h.hall.counters)  # fmt: skip


def _insert_display(storage: Storage, clean: dict) -> None:
    if storage.display_exists(clean["name"]):
        raise FormError({"name": Problem("This name is already used.")})
    storage.add_display(clean["name"], clean["counters"], clean["services"])


def _update_display(storage: Storage, clean: dict) -> None:
    storage.update_display(clean["name"], clean["counters"], clean["services"])


@bp.post("/displays/<name>/delete")
def delete_display(name: str):
    """Forget a display's settings (a screen with that name then shows everything)."""
    if name not in {d["name"] for d in hub().read(Storage.list_displays)}:
        abort(404)
    save_other("display.delete", name,
               lambda s: s.delete_display(name))  # fmt: skip
    flash(_("Display %(name)s removed.", name=name), "success")
    return redirect(url_for("admin.displays"))
