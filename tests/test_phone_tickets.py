"""Numbers from the visitor's phone (/ambil): off until the admin turns it on; the kiosk's rules;
a device cookie (stored only hashed) with one open number per service per phone; limits; the
entrance poster. In-process app on the fake clock."""

from __future__ import annotations

import hashlib
import re

import pytest

from server.engine import issue_ticket
from server.protocol import ERRORS, NS_DISPLAY, PanggilError
from server.pages.phone_ticket import DEVICE_COOKIE, PER_DEVICE
from tests.test_admin_pages import csrf_token, log_in, quick_hashes  # noqa: F401 (a fixture)


def turn_on(client, public_url: str = "http://192.168.1.10:5000") -> None:
    log_in(client, "admin", "admin-secret")
    response = client.post("/admin/phone-tickets", data={"enabled": "on", "public_url": public_url,
                                                         "csrf_token": csrf_token(client)})  # fmt: skip
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})


def device(client) -> str:
    """Open /ambil as a phone does; the device cookie it set."""
    response = client.get("/ambil")
    assert response.status_code == 200
    return client.get_cookie(DEVICE_COOKIE).value


def take(client, service: str = "ktp", priority: str | None = None):
    return client.post("/api/phone/tickets", json={"service": service, "priority": priority})


def test_off_by_default_the_page_sends_visitors_to_the_kiosk(client):
    page = client.get("/ambil").get_data(as_text=True)
    assert "Silakan ambil nomor Anda di anjungan" in page
    assert client.get_cookie(DEVICE_COOKIE) is None
    refused = take(client)
    assert refused.status_code == 403 and refused.get_json()["error"] == "phone-tickets-off"


def test_a_phone_takes_a_number_and_goes_to_its_page(client, hub):
    turn_on(client)
    raw = device(client)
    cookie = client.get_cookie(DEVICE_COOKIE)
    assert cookie.http_only and cookie.same_site == "Lax" and len(raw) == 43
    response = take(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"  # it carries the ticket's token
    body = response.get_json()
    ticket = body["ticket"]
    assert ticket["number"] == "A001" and "holder" not in ticket
    assert re.fullmatch(rf"/t/{ticket['day']}/A001/[\w-]+", body["visitor_url"])
    assert client.get(body["visitor_url"]).status_code == 200
    stored = hub.read(lambda s: s.db.execute("SELECT holder FROM tickets").fetchone()[0])
    assert stored == hashlib.sha256(raw.encode()).hexdigest() and raw not in stored


def test_one_open_number_per_service_per_phone(client, hub):
    turn_on(client)
    device(client)
    first = take(client).get_json()
    again = take(client)
    body = again.get_json()
    assert again.status_code == 409 and body["error"] == "already-holding"
    assert body["message"] == ERRORS["already-holding"][1] and body["number"] == "A001"
    assert body["visitor_url"] == first["visitor_url"]  # the page offers "Lihat nomor A001"
    assert take(client, "paspor").status_code == 201  # another service: fine
    hub.command(1, "call_next", {}, "p1")
    assert take(client).status_code == 409  # called, not yet served: still held
    hub.command(1, "finish", {}, "p2")
    assert take(client).get_json()["ticket"]["number"] == "A002"  # served: a new one is allowed
    other = client.application.test_client()  # another phone
    device(other)
    assert take(other).status_code == 201


def test_the_engine_rule_leaves_the_hall_unchanged_when_refusing(hub, clock):
    hall = issue_ticket(hub.hall, "ktp", clock(), holder="h1").hall
    with pytest.raises(PanggilError) as refused:
        issue_ticket(hall, "ktp", clock(), holder="h1")
    assert refused.value.code == "already-holding"
    assert issue_ticket(hall, "ktp", clock(), holder="h2").hall.next_order == hall.next_order + 1
    assert issue_ticket(hall, "ktp", clock()).changes  # kiosk numbers have no holder: no limit


def test_a_request_without_the_device_cookie_is_refused(client):
    turn_on(client)
    response = take(client)
    assert response.status_code == 400 and response.get_json()["error"] == "device-required"
    client.set_cookie(DEVICE_COOKIE, "not-a-real-device-id")
    assert take(client).get_json()["error"] == "device-required"


def test_a_phone_may_take_only_a_few_numbers_an_hour(client, hub):
    turn_on(client)
    device(client)
    taken = []
    for _ in range(PER_DEVICE):
        answer = take(client, "ktp")
        taken.append(answer.status_code)
        hub.cancel(answer.get_json()["ticket"]["number"])  # no open number: only the limit refuses
    assert taken == [201] * PER_DEVICE
    refused = take(client, "ktp")
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate-limited"


def test_the_kiosk_s_rules_apply(client, hub):
    turn_on(client)
    device(client)
    no_priority = next(c for c, s in hub.hall.services.items() if not s.priority_allowed)
    refused = take(client, no_priority, "elderly")
    assert refused.status_code == 409 and refused.get_json()["error"] == "priority-not-allowed"
    assert take(client, "ktp", "elderly").get_json()["ticket"]["priority"] == "elderly"
    assert take(client, "nope").get_json()["error"] in ("unknown-service", "bad-request")


def test_the_screens_never_see_the_phone(client, hub, socket_client):
    display = socket_client(NS_DISPLAY, {"display": "lobby-1"})
    display.get_received(NS_DISPLAY)
    turn_on(client)
    raw = device(client)
    take(client)
    received = repr(display.get_received(NS_DISPLAY))
    assert "holder" not in received and hashlib.sha256(raw.encode()).hexdigest() not in received


def test_the_admin_page_and_the_poster(client, hub):
    log_in(client, "admin", "admin-secret")
    page = client.get("/admin/phone-tickets").get_data(as_text=True)
    assert "Nomor dari HP" in page
    assert "http://localhost/ambil" in page and "hanya bekerja di server ini" in page  # loopback
    bad = client.post("/admin/phone-tickets", data={"enabled": "on", "public_url": "ftp://x",
                                                    "csrf_token": csrf_token(client)})  # fmt: skip
    assert bad.status_code == 400 and "http://192.168.1.10:5000" in bad.get_data(as_text=True)
    assert not hub.settings.get("phone_tickets.enabled")  # nothing half-saved
    client.post("/admin/phone-tickets", data={"enabled": "on", "public_url": "http://10.1.2.3:5000/",
                                              "csrf_token": csrf_token(client)})  # fmt: skip
    assert hub.settings.get("phone_tickets.enabled") is True
    poster = client.get("/admin/phone-tickets/poster").get_data(as_text=True)
    assert "Ambil nomor antrean dari HP Anda" in poster and "http://10.1.2.3:5000/ambil" in poster
    assert 'src="data:image/svg+xml' in poster
    audit = hub.read(lambda s: [r["action"] for r in s.db.query("SELECT action FROM audit_log")])
    assert audit.count("phone_tickets.update") == 1
