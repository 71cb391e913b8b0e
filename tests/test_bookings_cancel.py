"""Cancelling a booking (the visitor, the admin, the external system) and booking plans edited in
the admin's service form (browser tests: test_bookings_browser.py)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from conftest import WIB, hall_config
from test_bookings import TODAY, TOKEN, TZ, book, booked, booking_config, check_in, pure_booking

from server import bookings, protocol
from server.protocol import PanggilError

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def bapp(tmp_path, clock):
    from server.app import create_app

    app = create_app(booking_config(tmp_path), clock=clock, start_ticker=False)
    app.config["TESTING"] = True
    yield app
    app.extensions["panggil"].storage.close()


@pytest.fixture
def bclient(bapp):
    return bapp.test_client()


def cancel(client, code: str, body: object = None, **kwargs):
    return client.post(f"/api/reservasi/{code}/cancel",
                       json={"code": code} if body is None else body, **kwargs)  # fmt: skip


# --- the pure rule ------------------------------------------------------------------------------


def test_cancel_frees_the_place_and_a_second_cancel_changes_nothing():
    booking = pure_booking()
    at = datetime(2026, 11, 26, 9, 5, tzinfo=WIB)
    cancelled = bookings.cancel(booking, at, "visitor")
    assert (cancelled.status, cancelled.cancelled_at, cancelled.cancelled_by) == (
        "cancelled", at, "visitor"
    )  # fmt: skip
    assert cancelled.status not in bookings.TAKEN
    assert booking.status == "booked"  # the old value is untouched (frozen)
    assert bookings.cancel(cancelled, at, "api") is cancelled


@pytest.mark.parametrize(
    ("status", "at", "why"),
    [
        ("checked_in", "09:05", "checked_in"),
        ("expired", "09:05", "expired"),
        ("booked", "10:15", "expired"),  # past its expiry, not yet swept by the ticker
    ],
)
def test_a_checked_in_or_expired_booking_cannot_be_cancelled(status, at, why):
    from dataclasses import replace

    booking = replace(pure_booking(), status=status)
    hour, minute = map(int, at.split(":"))
    with pytest.raises(PanggilError) as refused:
        bookings.cancel(booking, datetime(2026, 11, 26, hour, minute, tzinfo=WIB), "visitor")
    assert refused.value.code == "booking-not-cancellable"
    assert refused.value.details == {"status": why}


def test_a_cancelled_booking_cannot_check_in():
    from test_bookings import pure_hall

    cancelled = bookings.cancel(pure_booking(), datetime(2026, 11, 26, 9, 0, tzinfo=WIB), "x")
    with pytest.raises(PanggilError) as refused:
        bookings.check_in(pure_hall(), cancelled, datetime(2026, 11, 26, 9, 5, tzinfo=WIB),
                          early_minutes=30, priority=False)  # fmt: skip
    assert refused.value.code == "booking-cancelled"


# --- the visitor --------------------------------------------------------------------------------


def test_the_visitor_cancels_and_the_place_returns_at_once(bapp, bclient):
    hub = bapp.extensions["panggil"]
    first, second = booked(bclient), booked(bclient)
    assert book(bclient).get_json()["error"] == "session-full"
    seq = hub.seq
    r = cancel(bclient, first)
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert answer["cancelled"] is True and answer["booking"]["status"] == "cancelled"
    assert hub.seq == seq + 1  # stored and broadcast like any event: screens keep their order
    stored = hub.storage.find_booking(first, TZ)
    assert (stored.status, stored.cancelled_by) == ("cancelled", "visitor")
    assert book(bclient).status_code == 201  # the place is free again
    again = cancel(bclient, first)
    assert again.status_code == 200 and again.get_json()["cancelled"] is False
    assert hub.storage.find_booking(second, TZ).status == "booked"


def test_the_cancel_is_broadcast_in_seq_order(bapp, bclient):
    from flask_socketio import SocketIOTestClient

    from server.extensions import socketio

    code = booked(bclient)
    tv = SocketIOTestClient(bapp, socketio, namespace=protocol.NS_DISPLAY)
    try:
        first = tv.get_received(protocol.NS_DISPLAY)
        cancel(bclient, code)
        got = [m for m in tv.get_received(protocol.NS_DISPLAY) if m["name"] == "booking_cancelled"]
        assert len(got) == 1
        message = got[0]["args"][0]
        assert message["seq"] == bapp.extensions["panggil"].seq
        assert message["booking"]["code"] == code and message["booking"]["status"] == "cancelled"
        assert "name" not in message["booking"]  # no personal data on the hall's screens
        # The pygame TV takes the event's seq in order: no gap, no resync, nothing redrawn wrong.
        from display import state as screen

        snapshot = next(m["args"][0] for m in first if m["name"] == "snapshot")
        now = datetime(2026, 11, 26, 9, 5, tzinfo=WIB)
        shown = screen.apply_snapshot(screen.initial_state(), snapshot, now).state
        outcome = screen.apply_event(shown, "booking_cancelled", message, now)
        assert (outcome.state.seq, outcome.resync, outcome.problems) == (message["seq"], False, ())
        assert outcome.state.needs_resync is False and outcome.state.recent == shown.recent
    finally:
        tv.disconnect(protocol.NS_DISPLAY)


@pytest.mark.parametrize(
    ("body", "kwargs", "status", "error"),
    [
        ("", {}, 415, "unsupported-media-type"),  # an empty body: what a bare form could send
        (None, {"data": "code=X", "content_type": "application/x-www-form-urlencoded"}, 415,
         "unsupported-media-type"),
        ({"code": "ABCDEF"}, {}, 404, "unknown-booking"),  # the body's code must be the page's
        ({}, {}, 400, "bad-request"),
    ],
)  # fmt: skip
def test_a_cancel_needs_the_code_in_a_json_body(bapp, bclient, body, kwargs, status, error):
    code = booked(bclient)
    if kwargs:
        r = bclient.post(f"/api/reservasi/{code}/cancel", **kwargs)
    elif body == "":
        r = bclient.post(f"/api/reservasi/{code}/cancel")
    else:
        r = cancel(bclient, code, body)
    assert (r.status_code, r.get_json()["error"]) == (status, error)
    assert bapp.extensions["panggil"].storage.find_booking(code, TZ).status == "booked"


def test_cancels_from_one_address_are_limited(bclient):
    from server.pages.booking import CANCELS

    code = booked(bclient)
    for _ in range(CANCELS):
        assert cancel(bclient, "ABCDEF").status_code == 404
    r = cancel(bclient, code)
    assert (r.status_code, r.get_json()["error"]) == (429, "rate-limited")


def test_checked_in_or_expired_bookings_are_refused_and_kept(bapp, bclient, clock):
    hub = bapp.extensions["panggil"]
    kept = booked(bclient)
    missed = booked(bclient, "10:00-11:00")
    clock.advance(minutes=10)
    check_in(bclient, kept)
    r = cancel(bclient, kept)
    assert (r.status_code, r.get_json()["error"]) == (409, "booking-not-cancellable")
    assert r.get_json()["status"] == "checked_in"
    clock.set(datetime(2026, 11, 26, 11, 15, tzinfo=WIB))
    hub.tick()
    r = cancel(bclient, missed)
    assert (r.status_code, r.get_json()["status"]) == (409, "expired")
    assert hub.storage.find_booking(kept, TZ).status == "checked_in"
    assert hub.storage.find_booking(missed, TZ).status == "expired"


def test_the_page_offers_the_cancel_and_then_says_it_was_cancelled(bclient):
    code = booked(bclient)
    html = bclient.get(f"/reservasi/{code}?lang=id").get_data(as_text=True)
    assert 'id="cancel-start"' in html and "Batalkan reservasi" in html
    assert f"/api/reservasi/{code}/cancel" in html and "booking_cancel.js" in html
    cancel(bclient, code)
    html = bclient.get(f"/reservasi/{code}?lang=id").get_data(as_text=True)
    assert 'id="cancel-start"' not in html
    assert "Reservasi ini dibatalkan" in html and "26 November 2026, 09.00" in html


def test_the_kiosk_check_in_of_a_cancelled_code_says_so(bclient, clock):
    code = booked(bclient)
    cancel(bclient, code)
    clock.advance(minutes=10)
    r = check_in(bclient, code)
    assert (r.status_code, r.get_json()["error"]) == (409, "booking-cancelled")
    assert "sudah dibatalkan" in r.get_json()["message"]


# --- the external system ------------------------------------------------------------------------


def test_the_api_cancels_by_code_or_external_id_idempotently(bapp, bclient):
    hub = bapp.extensions["panggil"]
    made = bclient.post("/api/bookings", headers=AUTH, json={
        "external_id": "mpp/2026-9", "service": "ktp", "day": TODAY, "session": "10:00-11:00"})  # fmt: skip
    code = made.get_json()["booking"]["code"]
    other = booked(bclient)
    assert bclient.delete(f"/api/bookings/{other}").get_json()["error"] == "invalid-booking-token"
    r = bclient.delete("/api/bookings/external/mpp/2026-9", headers=AUTH)
    assert r.status_code == 200 and r.get_json()["cancelled"] is True
    assert r.get_json()["booking"]["code"] == code
    again = bclient.delete(f"/api/bookings/{code}", headers=AUTH)
    assert again.status_code == 200 and again.get_json()["cancelled"] is False
    assert again.get_json()["booking"] == r.get_json()["booking"]
    assert hub.storage.find_booking(code, TZ).cancelled_by == "api"
    r = bclient.delete("/api/bookings/external/nope", headers=AUTH)
    assert (r.status_code, r.get_json()["error"]) == (404, "unknown-booking")
    r = bclient.delete(f"/api/bookings/{other}", headers=AUTH)
    assert r.get_json()["cancelled"] is True


def test_a_cancel_reaches_the_booking_cancelled_webhook(bapp, bclient):
    from test_admin_pages import log_in
    from test_webhooks import Receiver, add_hook, drain

    from server.webhooks import Dispatcher

    hub = bapp.extensions["panggil"]
    receiver = Receiver()
    try:
        code = booked(bclient)
        log_in(bclient, "admin", "admin-secret")
        add_hook(bclient, receiver.url, ("booking.cancelled", "ticket.issued"))
        hub.issue("ktp")
        cancel(bclient, code)
        cancel(bclient, code)  # again: no second event
        drain(Dispatcher(hub))
        names = [r["headers"]["X-Panggil-Event"] for r in receiver.requests]
        assert names == ["ticket.issued", "booking.cancelled"]
        body = json.loads(receiver.requests[-1]["body"])
        assert body["data"]["booking"]["code"] == code
        assert body["data"]["booking"]["status"] == "cancelled"
    finally:
        receiver.close()


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_cancels_with_a_reason_and_it_is_audited(bapp, bclient):
    from test_admin_pages import log_in, post

    hub = bapp.extensions["panggil"]
    code = booked(bclient, name="Budi")
    log_in(bclient, "admin", "admin-secret")
    page = bclient.get(f"/admin/reservasi?day={TODAY}&lang=id").get_data(as_text=True)
    assert f'id="cancel-{code}"' in page and "Alasan (opsional)" in page
    r = post(bclient, f"/admin/reservasi/{code}/cancel", {"reason": "Pemohon sakit", "day": TODAY})
    assert r.status_code == 302
    stored = hub.storage.find_booking(code, TZ)
    assert (stored.status, stored.cancelled_by, stored.cancel_reason) == (
        "cancelled", "admin", "Pemohon sakit"
    )  # fmt: skip
    page = bclient.get(f"/admin/reservasi?day={TODAY}&lang=id").get_data(as_text=True)
    assert "dibatalkan" in page and "Pemohon sakit" in page and f'id="cancel-{code}"' not in page
    audit = hub.storage.audit_page(None, 5)
    assert audit[0]["action"] == "booking.cancel" and audit[0]["target"] == code


def test_the_admin_cancel_needs_the_csrf_token(bapp, bclient):
    from test_admin_pages import log_in

    code = booked(bclient)
    log_in(bclient, "admin", "admin-secret")
    r = bclient.post(f"/admin/reservasi/{code}/cancel", data={"reason": "x"})
    assert r.status_code == 400
    assert bapp.extensions["panggil"].storage.find_booking(code, TZ).status == "booked"


# --- booking plans in the database ----------------------------------------------------------------


def service_form(client, code="ktp", **fields):
    """The service's form as it stands, with `fields` changed (the browser's post)."""
    import re

    html = client.get(f"/admin/services/{code}").get_data(as_text=True)
    values: dict = {}
    for name, value in re.findall(
        r'<input id="f-([a-z_]+)" name="\1" type="(?:text|number)" value="([^"]*)"', html
    ):
        values[name] = value
    for name in re.findall(r'<input type="checkbox" name="([a-z_]+)" value="on" checked>', html):
        values[name] = "on"
    values["agency"] = re.search(r'<option value="([^"]+)" selected>', html).group(1)
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def test_plans_are_seeded_from_the_config_once_and_admin_edits_win(bapp):
    from server import catalogue

    hub = bapp.extensions["panggil"]
    rows = hub.storage.booking_plan_rows()
    assert rows["ktp"]["sessions"] == ["08:00-09:00", "09:00-10:00", "10:00-11:00"]
    assert (rows["ktp"]["quota"], rows["ktp"]["active"]) == (2, True)
    with hub.storage.transaction():
        hub.storage.save_booking_plan("ktp", {**rows["ktp"], "quota": 5})
    config = bapp.config["PANGGIL_CONFIG"]
    assert config.services[0].bookings.quota == 2
    catalogue.seed(hub, config)  # as at a restart: the database rules now
    assert hub.storage.booking_plan_rows()["ktp"]["quota"] == 5


def test_the_service_form_edits_the_plan_and_the_page_follows_at_once(bapp, bclient, clock):
    from test_admin_pages import csrf_token, log_in

    hub = bapp.extensions["panggil"]
    code = booked(bclient, "10:00-11:00")
    log_in(bclient, "admin", "admin-secret")
    html = bclient.get("/admin/services/ktp?lang=id").get_data(as_text=True)
    assert 'id="bookings-part"' in html and 'value="08:00-09:00, 09:00-10:00, 10:00-11:00"' in html
    assert "tetap pada sesi dan jamnya" in html  # what happens to bookings already made
    fields = service_form(bclient, booking_sessions="13:00-14:00; 14:00-15:00", booking_quota="3",
                          booking_grace="5", booking_priority="on")  # fmt: skip
    r = bclient.post("/admin/services/ktp", data={**fields, "csrf_token": csrf_token(bclient)})
    assert r.status_code == 302, r.get_data(as_text=True)
    row = hub.storage.booking_plan_rows()["ktp"]
    assert (row["sessions"], row["quota"], row["grace_minutes"], row["priority"]) == (
        ["13:00-14:00", "14:00-15:00"], 3, 5, True
    )  # fmt: skip
    rows = bclient.get(f"/api/reservasi/sessions?service=ktp&day={TODAY}").get_json()["sessions"]
    assert [(r["session"], r["left"]) for r in rows] == [("13:00-14:00", 3), ("14:00-15:00", 3)]
    # The booking made before keeps its session and times, and is listed under it.
    kept = hub.storage.find_booking(code, TZ)
    assert (kept.session, kept.status) == ("10:00-11:00", "booked")
    page = bclient.get(f"/admin/reservasi?day={TODAY}&lang=id").get_data(as_text=True)
    assert "tidak ditawarkan lagi" in page and code in page
    # Switched off: no new bookings; the values stay for later.
    fields = service_form(bclient)
    fields.pop("booking_active")
    bclient.post("/admin/services/ktp", data={**fields, "csrf_token": csrf_token(bclient)})
    assert book(bclient, "13:00-14:00").get_json()["error"] == "no-bookings"
    assert hub.storage.booking_plan_rows()["ktp"]["sessions"] == ["13:00-14:00", "14:00-15:00"]
    # The booking made before still checks in at the kiosk, which still offers check-in.
    assert 'id="booking-toggle"' in bclient.get("/kiosk/layar").get_data(as_text=True)
    clock.advance(minutes=35)
    r = check_in(bclient, code)
    assert r.status_code == 201 and r.get_json()["booking"]["session"] == "10:00-11:00"
    assert 'id="booking-toggle"' not in bclient.get("/kiosk/layar").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"booking_sessions": "08:00-09:00, 08:30-09:30"}, "booking_sessions",
         "Sesi 08:00-09:00 dan 08:30-09:30 bertumpang tindih."),
        ({"booking_sessions": "08:00-09:00, 9-10"}, "booking_sessions",
         "9-10 bukan sesi: tulis seperti 08:00-09:00."),
        ({"booking_sessions": "10:00-09:00"}, "booking_sessions",
         "10:00-09:00 berakhir sebelum dimulai."),
        ({"booking_sessions": ""}, "booking_sessions", "Wajib diisi."),
        ({"booking_quota": "0"}, "booking_quota", "Bilangan bulat dari 1 sampai 10000."),
        ({"booking_quota": "3", "name": ""}, "name", "Wajib diisi."),  # with the service's own
    ],
)  # fmt: skip
def test_bad_sessions_are_refused_in_indonesian_and_nothing_is_saved(
    bapp, bclient, fields, field, message
):
    from test_admin_pages import csrf_token, log_in

    hub = bapp.extensions["panggil"]
    log_in(bclient, "admin", "admin-secret")
    before = (hub.storage.booking_plan_rows(), hub.hall.services["ktp"])
    data = {**service_form(bclient, **fields), "prefix": "Z", "csrf_token": csrf_token(bclient)}
    r = bclient.post("/admin/services/ktp?lang=id", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f'id="{field}-error"' in html and message in html, html
    assert (hub.storage.booking_plan_rows(), hub.hall.services["ktp"]) == before


def test_a_new_service_can_take_bookings_from_the_start(bapp, bclient):
    from test_admin_pages import csrf_token, log_in

    log_in(bclient, "admin", "admin-secret")
    agency = next(iter(bapp.extensions["panggil"].hall.agencies))
    r = bclient.post("/admin/services/new", data={
        "code": "sim", "name": "SIM", "agency": agency, "prefix": "S", "active": "on",
        "booking_active": "on", "booking_sessions": "10:00-11:00", "booking_quota": "4",
        "csrf_token": csrf_token(bclient)})  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)
    rows = bclient.get(f"/api/reservasi/sessions?service=sim&day={TODAY}").get_json()["sessions"]
    assert rows == [{"session": "10:00-11:00", "left": 4, "quota": 4, "state": "open"}]


def test_a_database_made_before_plans_were_stored_is_seeded_at_start(tmp_path, clock):
    """An upgraded hall keeps its bookings: config.yaml's plans are loaded once."""
    from server.app import create_app
    from server.catalogue import BOOKING_PLANS_SEEDED
    from server.config import parse_config

    # A hall run without plans stored: no plan rows and no mark that they were seeded.
    app = create_app(parse_config(hall_config(tmp_path), base_dir=tmp_path), clock=clock,
                     start_ticker=False)  # fmt: skip
    hub = app.extensions["panggil"]
    assert hub.storage.booking_plan_rows() == {}
    with hub.storage.transaction():
        hub.storage.delete_settings(BOOKING_PLANS_SEEDED)
    hub.storage.close()
    app = create_app(booking_config(tmp_path), clock=clock, start_ticker=False)
    try:
        assert list(app.extensions["panggil"].storage.booking_plan_rows()) == ["ktp"]
    finally:
        app.extensions["panggil"].storage.close()


def test_the_admin_list_of_a_day_without_bookings_still_shows_its_plans(bapp, bclient):
    from test_admin_pages import log_in

    log_in(bclient, "admin", "admin-secret")
    day = date.fromisoformat(TODAY).replace(day=27).isoformat()
    page = bclient.get(f"/admin/reservasi?day={day}").get_data(as_text=True)
    assert 'id="sessions"' in page and "08:00-09:00" in page


def test_every_booking_page_text_has_an_indonesian_translation():
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    translated = set()
    for po in (root / "server/translations").glob("*/id/LC_MESSAGES/messages.po"):
        with open(po, "rb") as f:  # Flask-Babel merges every area's catalogue
            translated |= {m.id for m in read_po(f) if m.id and m.string}
    method_map = [("server/templates/booking/**.html", "jinja2"),
                  ("server/pages/booking.py", "python")]  # fmt: skip
    wanted = {
        m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(str(root), method_map)
    }
    assert {"Cancel booking", "Yes, cancel the booking"} <= wanted
    assert sorted(wanted - translated) == []
