"""Admin: the day's bookings (Reservasi) per service and session, and their import from a CSV file.

The rules are server/bookings.py; a CSV row is booked exactly as the API books it
(server/pages/booking.make_booking), and a row with an `external_id` seen before is skipped.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from server import bookings, schemas
from server.pages import booking
from server.pages.admin_common import actor, bp, hub, render
from server.pages.admin_forms import CONTROL_CHARACTERS
from server.protocol import PanggilError
from server.storage import Storage

log = logging.getLogger(__name__)

CSV_COLUMNS = ("service", "day", "session", "name", "phone", "id_last4", "external_id")
MAX_ROWS = 2000


@bp.route("/reservasi", methods=["GET", "POST"])
def bookings_page():
    """Per service and session: quota, booked, checked in, expired; the list; the CSV import."""
    h = hub()
    chosen = request.args.get("day") or h.today()
    try:
        day = date.fromisoformat(chosen)
    except ValueError:
        day = date.fromisoformat(h.today())
    imported = None
    if request.method == "POST":
        imported = import_csv(request.files.get("file"))
    rows = h.read(lambda s: s.day_bookings(day.isoformat(), h.tz))
    tickets = {b.ticket: b.ticket.split("/", 1)[1] for b in rows if b.ticket}
    plans = booking.plans()
    summary = []
    for code, plan in plans.items():
        service = h.hall.services.get(code)
        for session in plan.sessions:
            mine = [b for b in rows if b.service == code and b.session == session.label]
            counts = {status: sum(1 for b in mine if b.status == status)
                      for status in bookings.STATUSES}  # fmt: skip
            summary.append({"service": service.name if service else code, "session": session.label,
                            "quota": plan.quota, **counts,
                            "left": max(0, plan.quota - counts["booked"] - counts["checked_in"])})  # fmt: skip
    # Sessions a plan no longer has keep their bookings (and their times): listed on their own.
    for service_code in sorted({b.service for b in rows}):
        plan = plans.get(service_code)
        labels = {s.label for s in plan.sessions} if plan else set()
        for label in sorted({b.session for b in rows if b.service == service_code} - labels):
            mine = [b for b in rows if b.service == service_code and b.session == label]
            counts = {status: sum(1 for b in mine if b.status == status)
                      for status in bookings.STATUSES}  # fmt: skip
            service = h.hall.services.get(service_code)
            summary.append({"service": service.name if service else service_code, "session": label,
                            "quota": None, **counts, "left": 0, "old": True})  # fmt: skip
    names = {code: s.name for code, s in h.hall.services.items()}
    return render("admin/bookings.html", day=day.isoformat(), summary=summary, rows=rows,
                  tickets=tickets, names=names, imported=imported, columns=CSV_COLUMNS,
                  status=400 if imported and imported["errors"] and not imported["created"] else 200)  # fmt: skip


@bp.post("/reservasi/<code>/cancel")
def cancel_booking(code: str):
    """The admin cancels a booking (a reason is optional): its place returns at once."""
    text = CONTROL_CHARACTERS.sub("", request.form.get("reason") or "")
    reason = " ".join(text.split())[:200] or None
    day = request.form.get("day") or None
    user = actor()

    def audit(storage: Storage) -> None:
        storage.add_audit(hub().now(), user, "booking.cancel", wanted, {"reason": reason})

    try:
        wanted = bookings.normalise_code(code)
        booking, changed = hub().cancel_booking(wanted, by=user, reason=reason, also=audit)
    except PanggilError as exc:
        flash(exc.message, "error")
    else:
        day = day or booking.day
        if changed:
            flash(_("Booking %(code)s cancelled: its place is free again.", code=booking.code),
                  "success")  # fmt: skip
        else:
            flash(_("Booking %(code)s was cancelled already.", code=booking.code), "success")
    return redirect(url_for("admin.bookings_page", day=day))


def import_csv(upload) -> dict:
    """Book each row of an uploaded CSV; per row: booked, already there (its external id), or why not."""
    result: dict = {"created": 0, "existing": 0, "errors": []}
    if upload is None or not upload.filename:
        result["errors"].append((0, PanggilError("bad-request", "Pilih berkas CSV.").message))
        return result
    text = upload.read(1_000_001).decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("service", "day", "session") if c not in (reader.fieldnames or [])]
    if missing:
        result["errors"].append((1, "Kolom wajib tidak ada: " + ", ".join(missing)))
        return result
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            result["errors"].append((line, f"Paling banyak {MAX_ROWS} baris per berkas."))
            break
        values = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS if row.get(k) is not None}
        external = values.pop("external_id", "") or None
        try:
            if external is None:
                body = schemas.check(schemas.NewBooking, values)
            else:
                body = schemas.check(schemas.ImportBooking, {**values, "external_id": external})
            _booking, created = booking.make_booking(body, source="csv", external_id=external)
        except PanggilError as exc:
            result["errors"].append((line, exc.message))
            continue
        result["created" if created else "existing"] += 1
    log.info("admin %s imported bookings: %d new, %d already there, %d refused", actor(),
             result["created"], result["existing"], len(result["errors"]))  # fmt: skip
    return result
