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

from server import notices
from server.engine import Hall, Service, Ticket, frozen_map
from server.notice_sender import Sender
from server.protocol import PanggilError
from server.ticket_links import ticket_token
from tests.conftest import ROOT, WIB
from tests.test_admin_pages import csrf_token, log_in, quick_hashes  # noqa: F401 (a fixture)
from tests.test_webhooks import Receiver

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
        status, counter = ("called", (called or {}).get(number)) if number in (called or {}) else ("waiting", None)
        tickets[f"2026-11-26/{number}"] = Ticket(
            id=f"2026-11-26/{number}", day="2026-11-26", number=number, prefix="A", seq=order,
            service="ktp", origin_service="ktp", priority=None, status=status, issued_at=now,
            order=order, counter=counter,
        )  # fmt: skip
    service = Service(code="ktp", agency="d", name="KTP", prefix="A", alert_ahead=alert)
    return Hall(day="2026-11-26", services=frozen_map({"ktp": service}), tickets=frozen_map(tickets))


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


@pytest.fixture
def admin(client):
    log_in(client, "admin", "admin-secret")
    return client


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


def drain(sender: Sender) -> int:
    made = 0
    while tried := sender.run_once():
        made += tried
    return made


def sent(gateway: Receiver) -> list[tuple[str, str]]:
    return [(json.loads(r["body"])["kind"], json.loads(r["body"])["ticket"]) for r in gateway.requests]


def test_one_almost_and_one_called_reach_the_gateway_signed_and_none_for_others(admin, hub, gateway):
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
