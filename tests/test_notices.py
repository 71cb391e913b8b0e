"""Outbound SMS/WhatsApp notices: the rules (numbers, detection), the visitor's number (opt-in,
token, rate limit, erased when the ticket ends and at the day roll, gone from the SQLite file),
delivery to a real HTTP gateway on loopback (one "almost" and one "called" per ticket with a
number, none for the others, signed JSON or form fields, retried, never in a press's way), the
booking's consent, and the admin page."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from server import notices, webhooks
from server.engine import Hall, Service, Ticket, frozen_map
from server.notice_sender import Sender
from server.protocol import PanggilError
from server.ticket_links import ticket_token
from tests.conftest import WIB
from tests.test_admin_pages import csrf_token, log_in, quick_hashes  # noqa: F401 (a fixture)
from tests.test_webhooks import Receiver, drain

PHONE = "081234567890"
STORED = "6281234567890"


# --- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("081234567890", "6281234567890"),
        ("0812-3456-7890", "6281234567890"),
        ("+62 812 3456 7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("(0812) 345.678", "62812345678"),
        ("0851234567890", "62851234567890"),
    ],
)
def test_indonesian_mobiles_are_written_628(text, number):
    assert notices.normalise_phone(text) == number


@pytest.mark.parametrize(
    "text",
    ["", "0212345678", "+6521234567", "62212345678", "0812345", "08123456789012", "0812abc45678",
     "++6281234567890", None, 81234567890, "0" + "8" * 40],
)  # fmt: skip
def test_other_numbers_are_refused_with_bad_phone(text):
    with pytest.raises(PanggilError) as caught:
        notices.normalise_phone(text)
    assert caught.value.code == "bad-phone"


def test_a_number_is_shown_masked():
    assert notices.mask("6281234567890") == "6281******890"
    assert notices.mask("628123456789") == "6281*****789"
    assert notices.mask(None) == ""


def _hall(numbers: list[str], *, called: dict | None = None, alert: int = 2) -> Hall:
    now = __import__("datetime").datetime(2026, 11, 26, 9, 0, tzinfo=WIB)
    tickets = {}
    for order, number in enumerate(numbers, start=1):
        status, counter = (
            ("called", (called or {}).get(number))
            if number in (called or {})
            else ("waiting", None)
        )
        tickets[f"2026-11-26/{number}"] = Ticket(
            id=f"2026-11-26/{number}", day="2026-11-26", number=number, prefix="A", seq=order,
            service="ktp", origin_service="ktp", priority=None, status=status, issued_at=now,
            order=order, counter=counter,
        )  # fmt: skip
    service = Service(code="ktp", agency="d", name="KTP", prefix="A", alert_ahead=alert)
    return Hall(
        day="2026-11-26", services=frozen_map({"ktp": service}), tickets=frozen_map(tickets)
    )


def test_almost_is_due_once_when_a_ticket_comes_within_alert_ahead():
    before = _hall(["A001", "A002", "A003", "A004"])
    after = _hall(["A002", "A003", "A004"], called={"A001": None})
    found = notices.detect(before, after, {"2026-11-26/A004": False}, "MPP Uji")
    assert [(n.ticket, n.kind) for n in found] == [("2026-11-26/A004", "almost")]
    assert found[0].message == (
        "MPP Uji: nomor A004, 2 orang lagi sebelum giliran Anda (KTP). Mohon menuju ruang tunggu."
    )
    # Told already: never twice, however the queue moves.
    assert notices.detect(before, after, {"2026-11-26/A004": True}, "MPP Uji") == []
    # Already that close before the change (the number was left late): no "almost".
    closer = _hall(["A003", "A004"])
    assert notices.detect(after, closer, {"2026-11-26/A004": False}, "MPP Uji") == []


def test_called_is_due_when_the_ticket_goes_to_a_counter_and_not_for_others():
    before = _hall(["A001", "A002"])
    after = _hall(["A001", "A002"], called={"A001": 5})
    found = notices.detect(before, after, {"2026-11-26/A001": True}, "MPP Uji")
    assert [(n.ticket, n.kind) for n in found] == [("2026-11-26/A001", "called")]
    assert notices.detect(before, after, {"2026-11-26/A002": False}, "MPP Uji") == []
    assert notices.detect(before, after, {"2026-11-26/A001": True}, "MPP Uji", called=False) == []
    assert notices.detect(after, after, {"2026-11-26/A001": True}, "MPP Uji") == []  # a recall


def test_places_agree_with_the_engines_people_ahead(hub):
    for _ in range(4):
        hub.issue("ktp")
    hub.issue("ktp", priority="elderly")
    hub.issue("kk")
    hub.command(1, "call_next", {}, "p1")
    hall = hub.hall
    waiting = [t for t in hall.tickets.values() if t.status == "waiting"]
    assert notices.places(hall, {"ktp", "kk"}) == {t.id: hall.ahead_of(t) for t in waiting}
    assert sorted(notices.places(hall, {"ktp"}).values()) == [0, 1, 2, 3]


def test_an_almost_notice_is_dropped_once_the_ticket_is_called():
    waiting = _hall(["A001"]).tickets["2026-11-26/A001"]
    called = _hall(["A001"], called={"A001": 1}).tickets["2026-11-26/A001"]
    assert notices.still_wanted("almost", waiting) and not notices.still_wanted("almost", called)
    assert notices.still_wanted("called", called) and not notices.still_wanted("called", None)


# --- the hall, the gateway and the visitor ---------------------------------------------------------


@pytest.fixture
def gateway():
    made = Receiver()
    yield made
    made.close()


def set_gateway(admin, url: str, **fields) -> str | None:
    """Save the gateway on the admin page; the signing secret when this save made it."""
    data = {"enabled": "on", "url": url, "format": "json", "to_field": "target",
            "message_field": "message", "called": "on", **fields,
            "csrf_token": csrf_token(admin)}  # fmt: skip
    response = admin.post("/admin/notices", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    found = re.search(r'<code class="token">([^<]+)</code>', response.get_data(as_text=True))
    return found.group(1) if found else None


def contact_url(ticket: dict, token: str | None = None) -> str:
    token = token or ticket_token("test-secret-key-0123456789-abcdefghijkl", ticket["id"])
    return f"/t/{ticket['day']}/{ticket['number']}/{token}/contact"


def leave_number(client, ticket: dict, phone: str | None = PHONE, **kw):
    return client.post(contact_url(ticket, **kw), json={"phone": phone})


def sent(gateway: Receiver) -> list[tuple[str, str]]:
    return [
        (json.loads(r["body"])["kind"], json.loads(r["body"])["ticket"]) for r in gateway.requests
    ]


def test_one_almost_and_one_called_reach_the_gateway_signed_and_none_for_others(
    admin, hub, gateway
):
    secret = set_gateway(admin, gateway.url)
    assert secret and secret.startswith("ntsec_")
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(6)]  # alert_ahead is 3
    assert leave_number(admin, tickets[5]).json == {"ok": True, "contact": "6281******890"}
    sender = Sender(hub)
    for n in range(5):  # A001 ... A005 called and finished; A006 moves up to the front
        hub.command(1, "call_next", {}, f"c{n}")
        drain(sender)
        hub.command(1, "finish", {}, f"f{n}")
        drain(sender)
    assert sent(gateway) == [("almost", tickets[5]["id"])]
    hub.command(1, "call_next", {}, "c6")
    hub.command(1, "recall", {}, "r6")
    assert drain(sender) == 1
    assert sent(gateway) == [("almost", tickets[5]["id"]), ("called", tickets[5]["id"])]
    almost, called = (json.loads(r["body"]) for r in gateway.requests)
    assert almost == {"to": STORED, "ticket": tickets[5]["id"], "kind": "almost", "service": "ktp",
                      "message": "MPP Uji: nomor A006, 3 orang lagi sebelum giliran Anda (KTP). "
                                 "Mohon menuju ruang tunggu."}  # fmt: skip
    assert called["message"] == "MPP Uji: nomor A006 dipanggil ke Gerai 1."
    for r in gateway.requests:
        stamp, mac = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                                  r["headers"]["X-Panggil-Signature"]).groups()  # fmt: skip
        want = hmac.new(secret.encode(), stamp.encode() + b"." + r["body"], hashlib.sha256)
        assert hmac.compare_digest(mac, want.hexdigest())
        assert r["headers"]["Content-Type"].startswith("application/json")
    hub.command(1, "finish", {}, "f6")
    assert drain(sender) == 0
    page = admin.get("/admin/notices").get_data(as_text=True)
    log = page[page.index('id="notice-log"') :]
    assert log.count('class="ok"') == 2 and "6281******890" in log and STORED not in log


def test_the_form_format_sends_the_configured_fields_and_the_token_header(admin, hub, gateway):
    set_gateway(admin, gateway.url, format="form", to_field="target", message_field="pesan",
                authorization="Bearer tok-123456789", called=None)  # fmt: skip
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(5)]
    leave_number(admin, tickets[0], "0812 1111 2222")
    leave_number(admin, tickets[4], "+62 812 3456 7890")
    hub.command(1, "call_next", {}, "c1")  # A001 called: no message (turned off); A005: 3 ahead
    assert drain(Sender(hub)) == 1
    [request] = gateway.requests
    assert parse_qs(request["body"].decode()) == {
        "target": [STORED],
        "pesan": ["MPP Uji: nomor A005, 3 orang lagi sebelum giliran Anda (KTP). "
                  "Mohon menuju ruang tunggu."],
    }  # fmt: skip
    assert request["headers"]["Authorization"] == "Bearer tok-123456789"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    page = admin.get("/admin/notices").get_data(as_text=True)
    assert "tok-123456789" not in page and "Bear********89" in page  # stored, shown masked


def test_a_gateway_that_is_down_never_holds_a_press_and_is_retried(admin, hub, gateway, clock):
    set_gateway(admin, gateway.url)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(5)]
    leave_number(admin, tickets[4])
    gateway.status = 503
    hub.command(1, "call_next", {}, "c1")  # A005: 3 ahead now
    sender = Sender(hub)
    assert drain(sender) == 1 and sender.run_once() == 0  # failed; not due before 15 s
    clock.advance(seconds=15)
    gateway.status = 200
    assert drain(sender) == 1
    assert sent(gateway) == [("almost", tickets[4]["id"])] * 2
    assert [r["headers"]["X-Panggil-Delivery"] for r in gateway.requests] == ["notice-1"] * 2

    # A gateway that hangs: the press goes through while the sender waits on it.
    hub.command(1, "finish", {}, "f1")
    hub.command(1, "call_next", {}, "c2")
    hub.command(1, "finish", {}, "f2")
    hub.command(1, "call_next", {}, "c3")
    hub.command(1, "finish", {}, "f3")
    hub.command(1, "call_next", {}, "c4")
    hub.command(1, "finish", {}, "f4")
    release, entered = threading.Event(), threading.Event()

    def hanging(url, payload, headers):
        entered.set()
        release.wait()
        return webhooks.Answer(None, "timed out", 5000)

    worker = threading.Thread(target=Sender(hub, send=hanging).run_once, daemon=True)
    hub.command(1, "call_next", {}, "c5")  # A005 called: a "called" notice queued
    worker.start()
    try:
        assert entered.wait(10)
        # The sender is stuck in the gateway; presses go through meanwhile.
        issued = hub.issue("ktp")["result"]["ticket"]
        answer = hub.command(2, "call_next", {}, "c6")
        assert answer["result"]["ticket"]["number"] == issued["number"]
        assert worker.is_alive()
    finally:
        release.set()
        worker.join(10)
    [row] = hub.read(lambda s: s.due_notices(clock() + timedelta(hours=1), 10))
    assert (row["kind"], row["attempts"]) == ("called", 1)  # to be tried again


def test_a_gateway_that_never_answers_is_given_up(admin, hub, clock):
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x"
    set_gateway(admin, dead)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(5)]
    leave_number(admin, tickets[4])
    hub.command(1, "call_next", {}, "c1")
    sender = Sender(hub)
    tries = 0
    for n in range(1, notices.MAX_ATTEMPTS + 1):
        tries += drain(sender)
        clock.advance(seconds=notices.webhooks.retry_delay(n).total_seconds())
    assert tries == notices.MAX_ATTEMPTS
    assert hub.read(lambda s: s.due_notices(clock() + timedelta(days=1), 10)) == []
    page = admin.get("/admin/notices").get_data(as_text=True)
    assert "(dihentikan)" in page or "given up" in page


def test_an_almost_notice_still_queued_when_the_ticket_is_called_is_not_sent(admin, hub, gateway):
    set_gateway(admin, gateway.url, called=None)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(5)]
    leave_number(admin, tickets[4])
    hub.command(1, "call_next", {}, "c1")  # "almost" queued for A005
    for n, counter in enumerate((2, 1, 2, 1)):  # A002..A005 called before the sender runs
        if counter == 1:
            hub.command(1, "finish", {}, f"f{n}")
        hub.command(counter, "call_next", {}, f"n{n}")
    assert hub.hall.tickets[tickets[4]["id"]].status == "called"
    assert drain(Sender(hub)) == 1  # looked at, and dropped
    assert gateway.requests == []
    page = admin.get("/admin/notices").get_data(as_text=True)
    assert page.count('class="failed"') == 1


def _file_bytes(hub) -> bytes:
    path = Path(hub.storage.path)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.parametrize("end", ["finish", "cancel", "remove", "day"])
def test_the_number_is_erased_when_the_ticket_ends_and_gone_from_the_file(admin, hub, gateway,
                                                                          clock, end):  # fmt: skip
    set_gateway(admin, gateway.url)
    ticket = hub.issue("ktp")["result"]["ticket"]
    hub.issue("ktp")
    leave_number(admin, ticket, "0812 9876 5432")
    assert hub.read(lambda s: s.contact(ticket["id"])) == "6281298765432"
    assert b"6281298765432" in _file_bytes(hub)
    if end == "finish":
        hub.command(1, "call_next", {}, "c1")
        assert hub.read(lambda s: s.contact(ticket["id"])) is not None  # called: still open
        hub.command(1, "skip", {}, "s1")
        assert hub.read(lambda s: s.contact(ticket["id"])) is not None  # skipped: may come back
        hub.command(1, "call_ticket", {"number": ticket["number"]}, "c2")
        hub.command(1, "finish", {}, "f1")
    elif end == "cancel":
        hub.cancel(ticket["number"])
    elif end == "remove":
        assert leave_number(admin, ticket, None).json == {"ok": True, "contact": None}
    else:
        clock.advance(days=1)
        hub.tick()
    assert hub.read(lambda s: s.contact(ticket["id"])) is None
    assert hub.contacts == {}
    Sender(hub).run_once()  # a press leaves emptying the -wal file to the sender's next round
    assert b"6281298765432" not in _file_bytes(hub)
    assert b"6281298765432" not in Path(hub.storage.path).read_bytes()


def test_a_crash_between_a_change_and_its_erase_is_swept_at_start(admin, hub, gateway, monkeypatch):
    set_gateway(admin, gateway.url)
    ticket = hub.issue("ktp")["result"]["ticket"]
    leave_number(admin, ticket)
    monkeypatch.setattr(hub.storage, "erase_contacts", lambda *a: 0)  # the erase is lost
    hub.cancel(ticket["number"])
    monkeypatch.undo()
    assert hub.read(lambda s: s.contact(ticket["id"])) == STORED
    hub.load()  # a restart
    assert hub.read(lambda s: s.contact(ticket["id"])) is None


def test_the_number_is_never_logged_in_full(admin, hub, gateway, caplog):
    caplog.set_level(logging.DEBUG)
    set_gateway(admin, gateway.url)
    tickets = [hub.issue("ktp")["result"]["ticket"] for _ in range(5)]
    leave_number(admin, tickets[4])
    hub.command(1, "call_next", {}, "c1")
    drain(Sender(hub))
    admin.post("/admin/notices/test", data={"phone": PHONE, "csrf_token": csrf_token(admin)})
    assert len(gateway.requests) == 2
    assert STORED not in caplog.text and PHONE not in caplog.text and "6281******890" in caplog.text


# --- the visitor's form ---------------------------------------------------------------------------


def test_a_bad_number_a_wrong_token_and_notices_off_are_refused(admin, hub, gateway):
    ticket = hub.issue("ktp")["result"]["ticket"]
    off = leave_number(admin, ticket)
    assert (off.status_code, off.json["error"]) == (403, "notices-off")
    set_gateway(admin, gateway.url)
    bad = leave_number(admin, ticket, "021 555 1234")
    assert (bad.status_code, bad.json["error"]) == (400, "bad-phone")
    assert "nomor seluler Indonesia" in bad.json["message"]
    wrong = leave_number(admin, ticket, token="A" * 16)
    assert (wrong.status_code, wrong.json["error"]) == (404, "unknown-ticket")
    assert hub.read(lambda s: s.contact(ticket["id"])) is None
    hub.cancel(ticket["number"])
    ended = leave_number(admin, ticket)
    assert (ended.status_code, ended.json["error"]) == (410, "ticket-ended")


def test_the_form_is_rate_limited_per_ticket(admin, hub, gateway):
    set_gateway(admin, gateway.url)
    ticket = hub.issue("ktp")["result"]["ticket"]
    answers = [leave_number(admin, ticket, "0812 000").status_code for _ in range(6)]
    assert answers == [400] * 5 + [429]


def test_the_page_offers_the_form_only_when_the_hall_sends_notices(admin, hub, gateway, client):
    ticket = hub.issue("ktp")["result"]["ticket"]
    token = ticket_token("test-secret-key-0123456789-abcdefghijkl", ticket["id"])
    page = f"/t/{ticket['day']}/{ticket['number']}/{token}"
    assert 'id="contact-form"' not in admin.get(page).get_data(as_text=True)
    set_gateway(admin, gateway.url)
    html = admin.get(page).get_data(as_text=True)
    assert "Kirim pemberitahuan lewat WhatsApp/SMS" in html and 'id="contact-form"' in html
    # Without JavaScript: the form posts, the page says what happened.
    answer = admin.post(page + "/contact", data={"phone": "0812-3456-7890"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        "?contact=saved#contact"
    )
    html = admin.get(page + "?contact=saved").get_data(as_text=True)
    assert "Pemberitahuan WhatsApp/SMS dikirim ke 6281******890" in html and STORED not in html
    bad = admin.post(page + "/contact", data={"phone": "12345"})
    assert bad.headers["Location"].endswith("?contact=bad-phone#contact")
    removed = admin.post(page + "/contact", data={"remove": "1"})
    assert removed.headers["Location"].endswith("?contact=removed#contact")
    assert hub.read(lambda s: s.contact(ticket["id"])) is None
    english = admin.get(page + "?lang=en").get_data(as_text=True)
    assert "Send notices by WhatsApp/SMS" in english


# --- a booking's consent ----------------------------------------------------------------------------


def test_a_bookings_phone_is_a_contact_only_with_the_consent(tmp_path, clock, gateway):
    from tests.test_bookings import booked, booking_config, check_in

    from server.app import create_app

    app = create_app(booking_config(tmp_path), clock=clock, start_ticker=False)
    app.config["TESTING"] = True
    client = app.test_client()
    hub = app.extensions["panggil"]
    try:
        assert 'id="notify"' not in client.get("/reservasi").get_data(as_text=True)
        log_in(client, "admin", "admin-secret")
        set_gateway(client, gateway.url)
        assert (
            "kirimi saya pemberitahuan" in client.get("/reservasi").get_data(as_text=True).lower()
        )
        refused = client.post("/api/reservasi", json={"service": "ktp", "day": "2026-11-26",
                                                      "session": "09:00-10:00",
                                                      "phone": "021 555 1234", "notify": True})  # fmt: skip
        assert (refused.status_code, refused.get_json()["error"]) == (400, "bad-phone")
        with_consent = booked(client, phone="0812 3456 7890", notify=True)
        without = booked(client, phone="0813 1111 2222")
        ticket = check_in(client, with_consent).get_json()["ticket"]
        other = check_in(client, without).get_json()["ticket"]
        assert hub.read(lambda s: s.contact(ticket["id"])) == STORED
        assert hub.read(lambda s: s.contact(other["id"])) is None
        assert hub.contacts == {ticket["id"]: False}
    finally:
        hub.storage.close()


# --- the admin page ----------------------------------------------------------------------------------


def test_the_admin_page_keeps_the_secret_once_and_refuses_bad_fields(admin, hub, gateway):
    secret = set_gateway(admin, gateway.url)
    page = admin.get("/admin/notices").get_data(as_text=True)
    assert secret not in page and "Pemberitahuan WhatsApp/SMS" in page
    assert set_gateway(admin, gateway.url) is None  # the same secret is kept
    refused = admin.post("/admin/notices", data={"enabled": "on", "url": "ftp://x", "format": "xml",
                                                 "to_field": "a b", "message_field": "message",
                                                 "csrf_token": csrf_token(admin)})  # fmt: skip
    assert refused.status_code == 400
    stored = notices.Gateway.from_settings(hub.settings)
    assert stored.url == gateway.url and stored.secret == secret
    actions = hub.read(lambda s: [r["action"] for r in s.db.query("SELECT action FROM audit_log")])
    assert actions.count("notices.update") == 2


def test_the_test_button_sends_one_message_to_the_number(admin, hub, gateway):
    set_gateway(admin, gateway.url, format="form", to_field="target", message_field="message")
    answer = admin.post("/admin/notices/test", data={"phone": "+6281234567890",
                                                     "csrf_token": csrf_token(admin)})  # fmt: skip
    assert answer.status_code == 302
    [request] = gateway.requests
    assert parse_qs(request["body"].decode())["target"] == [STORED]
    page = admin.get("/admin/notices").get_data(as_text=True)
    assert "6281******890" in page
    bad = admin.post("/admin/notices/test", data={"phone": "123", "csrf_token": csrf_token(admin)})
    assert bad.status_code == 302 and len(gateway.requests) == 1


def test_only_admins_reach_the_notices_page(client):
    assert client.get("/admin/notices").status_code in (302, 401)
    log_in(client, "petugas1", "petugas-secret")
    assert client.get("/admin/notices").status_code == 403
    assert client.post("/admin/notices/test", data={"phone": PHONE,
                                                    "csrf_token": csrf_token(client)}).status_code == 403  # fmt: skip
