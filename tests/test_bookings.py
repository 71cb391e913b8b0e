"""Bookings (reservasi): the pure rules, booking and its quota, check-in in first-come order,
expiry, the import API and the settings' documentation (browser tests: test_bookings_browser.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import WIB, hall_config

from server import bookings, engine, protocol
from server.protocol import PanggilError

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Jakarta")
TOKEN = "mpp-digital-token-0123456789abcdef"
PLAN = {"sessions": ["08:00-09:00", "09:00-10:00", "10:00-11:00"], "quota": 2, "grace_minutes": 15}
TODAY = "2026-11-26"  # the FakeClock's Thursday, 09:00 WIB


def booking_config(tmp_path, priority: bool = False, **bookings_section):
    from server.config import parse_config

    raw = hall_config(tmp_path, bookings={"api_token": TOKEN, **bookings_section})
    raw["services"][0]["bookings"] = {**PLAN, "priority": priority}  # ktp (07:30-16:00)
    return parse_config(raw, base_dir=tmp_path)


@pytest.fixture
def make_app(tmp_path, clock):
    from server.app import create_app

    made = []

    def make(**options):
        app = create_app(booking_config(tmp_path / f"a{len(made)}", **options), clock=clock,
                         start_ticker=False)  # fmt: skip
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["panggil"].storage.close()


@pytest.fixture
def bapp(make_app):
    return make_app()


@pytest.fixture
def bclient(bapp):
    return bapp.test_client()


def book(client, session="09:00-10:00", day=TODAY, service="ktp", **extra):
    return client.post(
        "/api/reservasi", json={"service": service, "day": day, "session": session, **extra}
    )


def booked(client, session="09:00-10:00", **extra) -> str:
    r = book(client, session, **extra)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["booking"]["code"]


def check_in(client, code: str):
    return client.post("/api/kiosk/layar/checkin", json={"code": code})


def call_next(hub, counter: int, rid: str) -> str:
    return hub.command(counter, "call_next", {}, rid)["result"]["ticket"]["number"]


# --- the pure rules ---------------------------------------------------------------------------


def test_sessions_parse_in_order_and_overlaps_are_refused():
    sessions = bookings.parse_sessions(["09:00-10:00", "08:00-09:00"])
    assert [s.label for s in sessions] == ["08:00-09:00", "09:00-10:00"]
    for bad in (["08:00-09:30", "09:00-10:00"], ["10:00-09:00"], ["8-9"], ["08:00-25:00"]):
        with pytest.raises(ValueError):
            bookings.parse_sessions(bad)


def test_codes_have_six_unambiguous_characters_and_are_read_forgivingly():
    code = bookings.make_code(bytes(range(0, 256, 43)))
    assert bookings.CODE_RE.fullmatch(code)
    assert not set("0O1I") & set(bookings.CODE_ALPHABET)
    assert {bookings.make_code(bytes([b] * 6))[0] for b in range(256)} == set(
        bookings.CODE_ALPHABET
    )
    assert bookings.normalise_code(" k7m-2qx ") == "K7M2QX"
    assert bookings.normalise_code("https://mpp.example/reservasi/K7M2QX") == "K7M2QX"
    for bad in ("", "K7M2Q", "K7M2Q0", None, 123, "x" * 300):
        with pytest.raises(PanggilError) as refused:
            bookings.normalise_code(bad)
        assert refused.value.code == "unknown-booking"


def test_only_the_last_four_digits_of_an_id_are_kept():
    assert bookings.id_last4("1234") == "1234"
    assert bookings.id_last4("") is None
    with pytest.raises(PanggilError):
        bookings.id_last4("3201234567890123")  # a whole NIK is refused, not cut


def pure_hall(enforce_hours: bool = True) -> engine.Hall:
    service = engine.Service("ktp", "KTP", "dukcapil", "A", daily_quota=1,
                             hours=engine.weekday_hours("07:30-16:00"))  # fmt: skip
    return engine.Hall(day=TODAY, services=engine.frozen_map({"ktp": service}),
                       agencies=engine.frozen_map({"dukcapil": engine.Agency("dukcapil", "Dukcapil")}),
                       enforce_hours=enforce_hours)  # fmt: skip


def pure_booking(session: str = "09:00-10:00", day: str = TODAY) -> bookings.Booking:
    plan = bookings.Plan("ktp", bookings.parse_sessions([session]), 2, 15)
    return bookings.new_booking(plan, date.fromisoformat(day), plan.sessions[0], "K7M2QX",
                                datetime(2026, 11, 20, 8, 0, tzinfo=WIB), TZ)  # fmt: skip


@pytest.mark.parametrize(
    ("at", "code"),
    [("08:29", "booking-too-early"), ("10:15", "booking-expired"), ("11:00", "booking-expired")],
)
def test_check_in_outside_its_window_is_refused_and_changes_nothing(at, code):
    hall = pure_hall()
    hour, minute = (int(x) for x in at.split(":"))
    with pytest.raises(PanggilError) as refused:
        bookings.check_in(hall, pure_booking(), datetime(2026, 11, 26, hour, minute, tzinfo=WIB),
                          early_minutes=30, priority=False)  # fmt: skip
    assert refused.value.code == code
    assert hall == pure_hall()


def test_check_in_issues_past_the_daily_quota_and_keeps_the_services_as_they_were():
    hall = pure_hall()
    walk_in = engine.issue_ticket(hall, "ktp", datetime(2026, 11, 26, 8, 40, tzinfo=WIB)).hall
    with pytest.raises(PanggilError):  # the walk-ins' quota (1) is used up
        engine.issue_ticket(walk_in, "ktp", datetime(2026, 11, 26, 8, 45, tzinfo=WIB))
    outcome = bookings.check_in(walk_in, pure_booking(), datetime(2026, 11, 26, 8, 50, tzinfo=WIB),
                                early_minutes=30, priority=True)  # fmt: skip
    ticket = outcome.last.ticket
    assert ticket is not None and ticket.number == "A002" and ticket.priority == "booking"
    assert outcome.last.data["booking"] == {"code": "K7M2QX", "session": "09:00-10:00"}
    assert outcome.hall.services == walk_in.services and outcome.hall.enforce_hours
    assert outcome.hall.ahead_of(ticket) == 0  # priority: before the earlier walk-in


def test_a_booking_of_another_day_cannot_check_in_today():
    with pytest.raises(PanggilError) as refused:
        bookings.check_in(pure_hall(), pure_booking(day="2026-11-25"),
                          datetime(2026, 11, 25, 9, 30, tzinfo=WIB), early_minutes=30,
                          priority=False)  # fmt: skip
    assert refused.value.code == "booking-expired"


def test_expiry_is_the_sessions_end_plus_grace():
    booking = pure_booking()
    assert bookings.expired([booking], datetime(2026, 11, 26, 10, 14, tzinfo=WIB)) == []
    assert bookings.expired([booking], datetime(2026, 11, 26, 10, 15, tzinfo=WIB)) == [booking]


# --- booking through the page's API -------------------------------------------------------------


def test_a_visitor_books_a_session_and_gets_a_code_and_a_qr(bclient):
    r = book(bclient, name="Budi", phone="0812 3456 7890", id_last4="1234")
    assert r.status_code == 201
    answer = r.get_json()
    code = answer["booking"]["code"]
    assert bookings.CODE_RE.fullmatch(code)
    assert answer["booking"]["session"] == "09:00-10:00"
    assert "Budi" not in r.get_data(as_text=True)  # the answer names no one
    page = bclient.get(answer["url"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert code in html and "data:image/svg+xml" in html
    assert bclient.get("/reservasi/ZZZZZZ").status_code == 404


def test_the_page_lists_the_sessions_with_places_left(bclient):
    assert bclient.get("/reservasi").status_code == 200
    booked(bclient)
    rows = bclient.get(f"/api/reservasi/sessions?service=ktp&day={TODAY}").get_json()["sessions"]
    assert rows == [
        {"session": "08:00-09:00", "left": 2, "quota": 2, "state": "past"},
        {"session": "09:00-10:00", "left": 1, "quota": 2, "state": "open"},
        {"session": "10:00-11:00", "left": 2, "quota": 2, "state": "open"},
    ]
    # A service without bookings: nothing to book.
    r = bclient.get(f"/api/reservasi/sessions?service=paspor&day={TODAY}")
    assert r.status_code == 409 and r.get_json()["error"] == "no-bookings"


def test_a_full_session_is_refused_in_indonesian(bclient):
    booked(bclient)
    booked(bclient)
    r = book(bclient)
    assert r.status_code == 409
    assert r.get_json()["error"] == "session-full"
    assert r.get_json()["message"] == "Kuota sesi ini sudah penuh. Silakan pilih sesi lain."


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"session": "08:00-09:00"}, 409, "booking-closed"),  # over already
        ({"day": "2026-12-10"}, 409, "booking-closed"),  # past bookings.days_ahead (7)
        ({"day": "2026-11-25"}, 409, "booking-closed"),
        ({"session": "12:00-13:00"}, 400, "bad-request"),  # not one of the plan's sessions
        ({"id_last4": "3201234567890123"}, 400, "bad-request"),  # never a whole NIK
        ({"phone": "<script>"}, 400, "bad-request"),
        ({"service": "paspor"}, 409, "no-bookings"),
        ({"day": "2026-02-30"}, 400, "bad-date"),
    ],
)
def test_bad_bookings_are_refused_with_a_code(bclient, body, status, code):
    r = book(bclient, **{"session": "09:00-10:00", **body})
    assert (r.status_code, r.get_json()["error"]) == (status, code)
    assert r.get_json()["message"] == protocol.ERRORS[code][1] or code == "bad-request"


def test_bookings_per_address_are_limited(make_app):
    client = make_app(per_address=2).test_client()
    booked(client)
    booked(client, "10:00-11:00")
    r = book(client, "10:00-11:00")
    assert r.status_code == 429 and r.get_json()["error"] == "rate-limited"


# --- check-in: first come at check-in time, once ----------------------------------------------


def test_a_checked_in_booking_is_called_among_walk_ins_in_arrival_order(bapp, bclient, clock):
    hub = bapp.extensions["panggil"]
    code = booked(bclient)  # booked at 09:00 for 09:00-10:00
    hub.issue("ktp")  # A001, a walk-in who came first
    clock.advance(minutes=5)
    r = check_in(bclient, code)
    assert r.status_code == 201
    mine = r.get_json()["ticket"]
    assert mine["number"] == "A002" and mine["priority"] is None
    assert r.get_json()["ahead"] == 1
    clock.advance(minutes=5)
    hub.issue("ktp")  # A003 came after the check-in
    assert [call_next(hub, 1, f"r{i}") for i in range(3)] == ["A001", "A002", "A003"]


def test_with_booking_priority_a_checked_in_booking_goes_first(make_app, clock):
    app = make_app(priority=True)
    client, hub = app.test_client(), app.extensions["panggil"]
    code = booked(client)
    hub.issue("ktp")
    clock.advance(minutes=5)
    assert check_in(client, code).get_json()["ticket"]["priority"] == "booking"
    assert call_next(hub, 1, "r1") == "A002"


def test_checking_in_twice_answers_with_the_same_ticket(bapp, bclient, clock):
    hub = bapp.extensions["panggil"]
    sent = []
    hub.broadcast = lambda name, message: sent.append((name, message))
    code = booked(bclient)
    first = check_in(bclient, code)
    again = check_in(bclient, code.lower())
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["ticket"]["id"] == first.get_json()["ticket"]["id"]
    assert again.get_json()["replayed"] is True
    page = bclient.get(f"/reservasi/{code}").get_data(as_text=True)
    assert 'id="ticket-link"' in page and f"/t/{TODAY}/A001/" in page
    issued = [m for name, m in sent if name == protocol.TICKET_ISSUED]
    assert len(issued) == 1
    assert issued[0]["booking"] == {"code": code, "session": "09:00-10:00"}
    assert hub.hall.issued["ktp"] == 1
    # The ticket is served and done: a third check-in still names it, not a new number.
    call_next(hub, 1, "r1")
    hub.command(1, "finish", {}, "r2")
    third = check_in(bclient, code)
    assert third.get_json()["ticket"]["number"] == "A001"
    assert third.get_json()["ticket"]["status"] == "done"


def test_the_booking_and_its_ticket_are_stored_together_or_not_at_all(bapp, bclient, monkeypatch):
    hub = bapp.extensions["panggil"]
    code = booked(bclient)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(hub.storage, "mark_booking", broken)
    r = check_in(bclient, code)
    assert r.status_code == 500 and r.get_json()["error"] == "internal-error"
    assert hub.hall.tickets == {} and hub.storage.find_ticket(f"{TODAY}/A001", TZ) is None
    monkeypatch.undo()
    assert hub.storage.find_booking(code, TZ).status == "booked"
    assert check_in(bclient, code).get_json()["ticket"]["number"] == "A001"


def test_check_in_refusals(bclient, clock):
    code = booked(bclient, "10:00-11:00")
    r = check_in(bclient, code)  # 09:00: the window opens at 09:30
    assert (r.status_code, r.get_json()["error"]) == (409, "booking-too-early")
    r = check_in(bclient, "ABCDEF")
    assert (r.status_code, r.get_json()["error"]) == (404, "unknown-booking")
    r = check_in(bclient, "not a code")
    assert (r.status_code, r.get_json()["error"]) == (404, "unknown-booking")


def test_a_no_show_expires_and_its_place_returns(bapp, bclient, clock):
    hub = bapp.extensions["panggil"]
    kept, missed = booked(bclient), booked(bclient)
    clock.advance(minutes=10)
    check_in(bclient, kept)
    assert book(bclient).get_json()["error"] == "session-full"
    clock.set(datetime(2026, 11, 26, 10, 14, tzinfo=WIB))
    hub.tick()
    assert hub.storage.find_booking(missed, TZ).status == "booked"
    clock.advance(minutes=1)  # 10:15: the end (10:00) plus 15 minutes' grace
    hub.tick()
    assert hub.storage.find_booking(missed, TZ).status == "expired"
    assert hub.storage.find_booking(kept, TZ).status == "checked_in"
    rows = bclient.get(f"/api/reservasi/sessions?service=ktp&day={TODAY}").get_json()["sessions"]
    assert rows[1] == {"session": "09:00-10:00", "left": 1, "quota": 2, "state": "past"}
    r = check_in(bclient, missed)
    assert r.get_json()["error"] == "booking-expired"


# --- the import API (an external booking system) -------------------------------------------------


def api(client, body: dict, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/bookings", json=body, headers=headers)


IMPORT = {"external_id": "mppd-2026-0001", "service": "ktp", "day": "2026-11-27",
          "session": "08:00-09:00", "name": "Siti", "id_last4": "0042"}  # fmt: skip


def test_the_api_import_is_idempotent_by_external_id(bapp, bclient):
    first = api(bclient, IMPORT)
    assert first.status_code == 201 and first.get_json()["created"] is True
    again = api(bclient, IMPORT)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["booking"] == first.get_json()["booking"]
    hub = bapp.extensions["panggil"]
    rows = hub.storage.day_bookings("2026-11-27", TZ)
    assert len(rows) == 1 and rows[0].source == "api" and rows[0].id_last4 == "0042"
    other = api(bclient, {**IMPORT, "external_id": "mppd-2026-0002"})
    assert other.status_code == 201
    full = api(bclient, {**IMPORT, "external_id": "mppd-2026-0003"})
    assert (full.status_code, full.get_json()["error"]) == (409, "session-full")


@pytest.mark.parametrize(
    ("token", "body", "status", "code"),
    [
        (None, IMPORT, 401, "invalid-booking-token"),
        ("wrong-token-0123456789abcdef", IMPORT, 401, "invalid-booking-token"),
        (TOKEN, {**IMPORT, "external_id": ""}, 400, "bad-request"),
        (TOKEN, {k: v for k, v in IMPORT.items() if k != "external_id"}, 400, "bad-request"),
        (TOKEN, {**IMPORT, "nik": "3201234567890123"}, 400, "bad-request"),
        (TOKEN, {**IMPORT, "service": "nope"}, 409, "no-bookings"),
    ],
)
def test_the_api_refuses_bad_imports_with_json_codes(bclient, token, body, status, code):
    r = api(bclient, body, token)
    assert (r.status_code, r.get_json()["error"]) == (status, code)
    assert r.get_json()["ok"] is False and r.get_json()["message"]


def test_without_a_configured_token_the_api_is_closed(tmp_path, clock):
    from server.app import create_app
    from server.config import parse_config

    raw = hall_config(tmp_path)
    raw["services"][0]["bookings"] = PLAN
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    try:
        r = api(app.test_client(), IMPORT, token="")
        assert r.status_code == 401
    finally:
        app.extensions["panggil"].storage.close()


# --- settings ---------------------------------------------------------------------------------


def test_every_bookings_setting_is_in_the_install_guide():
    from server.config import BookingPlanEntry, BookingsSection

    guide = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    for key in BookingsSection.model_fields:
        assert f"bookings.{key}" in guide
    for key in BookingPlanEntry.model_fields:
        assert f"services[].bookings.{key}" in guide


@pytest.mark.parametrize(
    "plan",
    [{"sessions": [], "quota": 1}, {"sessions": ["09:00-10:00"], "quota": 0},
     {"sessions": ["09:00-10:00", "09:30-10:30"], "quota": 1}],
)  # fmt: skip
def test_bad_booking_plans_name_their_key(tmp_path, plan):
    from server.config import ConfigError, parse_config

    raw = hall_config(tmp_path)
    raw["services"][0]["bookings"] = plan
    with pytest.raises(ConfigError, match=r"services\.0\.bookings"):
        parse_config(raw, base_dir=tmp_path)


def test_a_clock_that_moves_to_tomorrow_offers_tomorrows_sessions(make_app, clock):
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=WIB) + timedelta(days=1))
    client = make_app().test_client()
    rows = client.get("/api/reservasi/sessions?service=ktp&day=2026-11-27").get_json()["sessions"]
    assert [r["state"] for r in rows] == ["past", "open", "open"]


def test_the_counter_checks_a_booking_in_with_its_device_token(bapp, bclient):
    code = booked(bclient)
    url = "/api/bookings/checkin"
    r = bclient.post(url, json={"code": code})
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-token")
    r = bclient.post(url, json={"code": code}, headers={"Authorization": "Bearer token-counter-1"})
    assert r.status_code == 201 and r.get_json()["ticket"]["number"] == "A001"
    assert r.get_json()["booking"]["status"] == "checked_in"
    again = bclient.post(
        url, json={"code": code}, headers={"Authorization": "Bearer token-counter-2"}
    )
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["ticket"]["number"] == "A001"


def test_the_console_page_offers_the_check_in(bapp, bclient):
    from test_admin_pages import log_in

    log_in(bclient, "petugas1", "petugas-secret")
    html = bclient.get("/console/1?lang=id").get_data(as_text=True)
    assert 'id="checkin-form"' in html and "Check-in reservasi: kodenya" in html
    assert "/api/bookings/checkin" in html


# --- the admin's Reservasi page -------------------------------------------------------------------


def test_the_admin_page_lists_the_days_bookings_and_imports_a_csv(bapp, bclient, clock):
    from io import BytesIO

    from test_admin_pages import csrf_token, log_in

    hub = bapp.extensions["panggil"]
    kept = booked(bclient, name="Budi", id_last4="1234")
    check_in(bclient, kept)
    booked(bclient)
    log_in(bclient, "admin", "admin-secret")
    csv_text = (
        "service,day,session,name,phone,id_last4,external_id\n"
        f"ktp,{TODAY},10:00-11:00,Siti,0812345678,0042,siola-1\n"
        f"ktp,{TODAY},10:00-11:00,Siti,0812345678,0042,siola-1\n"  # the same row again: skipped
        f"ktp,{TODAY},09:00-10:00,Ani,,,\n"  # 09:00-10:00 is full (2 of 2)
        f"ktp,{TODAY},10:00-11:00,Joko,,3201234567890123,\n"  # a whole NIK: refused
    )
    r = bclient.post("/admin/reservasi", data={"csrf_token": csrf_token(bclient),
                     "file": (BytesIO(csv_text.encode()), "reservasi.csv")},
                     content_type="multipart/form-data")  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html
    assert "1 dipesan, 1 sudah ada, 2 ditolak." in html
    assert "Baris 4: Kuota sesi ini sudah penuh" in html
    assert "3201234567890123" not in html
    rows = hub.storage.day_bookings(TODAY, TZ)
    assert sorted((b.session, b.status, b.source) for b in rows) == [
        ("09:00-10:00", "booked", "web"), ("09:00-10:00", "checked_in", "web"),
        ("10:00-11:00", "booked", "csv"),
    ]  # fmt: skip
    page = bclient.get(f"/admin/reservasi?day={TODAY}").get_data(as_text=True)
    assert kept in page and "Budi" in page and "&bull;&bull;&bull;&bull;1234" in page
    assert "A001" in page  # the checked-in booking's ticket


# --- the booking.checked_in webhook ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "wanted"),
    [
        (("booking.checked_in",), [("booking.checked_in", "A002")]),
        (("ticket.issued",), [("ticket.issued", "A001"), ("ticket.issued", "A002"),
                              ("ticket.issued", "A003")]),
        (("ticket.issued", "booking.checked_in"), [("ticket.issued", "A001"),
         ("booking.checked_in", "A002"), ("ticket.issued", "A003")]),
    ],
)  # fmt: skip
def test_a_check_in_reaches_a_webhook_receiver_once_and_signed(
    bapp, bclient, clock, events, wanted
):
    from test_admin_pages import log_in
    from test_webhooks import Receiver, add_hook, drain

    from server.webhooks import Dispatcher

    hub = bapp.extensions["panggil"]
    receiver = Receiver()
    try:
        code = booked(bclient)
        log_in(bclient, "admin", "admin-secret")
        add_hook(bclient, receiver.url, events)
        hub.issue("ktp")
        check_in(bclient, code)
        check_in(bclient, code)  # the same ticket again: no second event
        hub.issue("ktp")
        drain(Dispatcher(hub))
        assert receiver.events() == wanted
        for r in receiver.requests:
            assert r["headers"]["X-Panggil-Signature"].startswith("t=")
            body = json.loads(r["body"])
            if body["event"] == "booking.checked_in":
                assert body["data"]["booking"] == {"code": code, "session": "09:00-10:00"}
        assert drain(Dispatcher(hub)) == 0
    finally:
        receiver.close()


def test_guessing_codes_is_stopped(bclient):
    from server.pages.booking import WRONG_CODES

    code = booked(bclient)
    for i in range(WRONG_CODES):
        assert check_in(bclient, f"ABCD{bookings.CODE_ALPHABET[i]}2").status_code == 404
    r = check_in(bclient, code)  # even a right code waits now
    assert (r.status_code, r.get_json()["error"]) == (429, "rate-limited")
    assert int(r.headers["Retry-After"]) > 0


def test_the_page_offers_only_the_days_the_service_opens(tmp_path, clock):
    from server.app import create_app
    from server.config import parse_config

    raw = hall_config(tmp_path, calendar=[{"date": "2026-11-27", "label": "Cuti bersama"}])
    raw["agencies"][0]["weekdays"] = ["mon", "tue", "wed", "thu", "fri"]
    raw["services"][0]["bookings"] = PLAN
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    try:
        html = app.test_client().get("/reservasi").get_data(as_text=True)
        days = json.loads(html.split('id="open-days" type="application/json">')[1].split("<")[0])
        # Thursday 26th to Thursday 3rd: not the holiday (27th), not the weekend (28th, 29th).
        assert days["ktp"] == ["2026-11-26", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    finally:
        app.extensions["panggil"].storage.close()
