"""The HTTP JSON API: the same operations as the sockets, and clear 4xx errors for bad input."""

from __future__ import annotations

import pytest

from tests.conftest import TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[1]}"}


def post(client, path, body=None, headers=None, **kw):
    return client.post(path, json=body, headers=headers or {}, **kw)


def test_issue_and_call_over_http(client, hub):
    r = post(client, "/api/tickets", {"service": "ktp"})
    assert r.status_code == 201
    assert r.get_json()["ticket"]["number"] == "A001" and r.get_json()["ahead"] == 0
    r = post(client, "/api/counters/1/call_next", {"request_id": "h1"}, AUTH)
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] is True and body["result"]["call"]["ticket"]["number"] == "A001"
    status = client.get("/api/tickets/2026-11-26/A001", headers=AUTH).get_json()
    assert status["ticket"]["status"] == "called"
    assert status["call"]["counter"]["number"] == 1
    state = client.get("/api/counters/1", headers=AUTH).get_json()
    assert state["me"]["current"]["number"] == "A001"


def test_a_retried_http_command_gets_the_first_answer_again_in_full(client):
    post(client, "/api/tickets", {"service": "ktp"})
    first = post(client, "/api/counters/1/call_next", {"request_id": "h2"}, AUTH).get_json()
    again = post(client, "/api/counters/1/call_next", {"request_id": "h2"}, AUTH).get_json()
    assert first["result"]["call"]["announcement"]["text"]
    assert again.pop("replayed") is True
    assert again == first


def test_services_list_shows_hours_and_quota(client):
    services = {s["code"]: s for s in client.get("/api/services").get_json()["services"]}
    assert services["kk"]["daily_quota"] == 3
    assert services["ktp"]["hours"]["mon"] == "07:30-16:00"
    assert services["ktp"]["open_now"] is True  # 09:00 on the fake clock


@pytest.mark.parametrize(
    "path, kwargs, status, code",
    [
        (
            "/api/tickets",
            {"data": "{not json", "content_type": "application/json"},
            400,
            "bad-json",
        ),
        (
            "/api/tickets",
            {"data": '{"service": "ktp"}', "content_type": "text/plain"},
            415,
            "unsupported-media-type",
        ),
        (
            "/api/tickets",
            {
                "data": '{"service": "ktp", "priority": "\\ud800"}',
                "content_type": "application/json",
            },
            400,
            "bad-json",
        ),
        (
            "/api/tickets",
            {
                "data": '{"service": ' + "[" * 1000 + "]" * 1000 + "}",
                "content_type": "application/json",
            },
            400,
            "bad-json",
        ),
        ("/api/tickets", {"json": {"service": "ktp\u0000"}}, 400, "bad-request"),
        ("/api/tickets", {"json": {"service": "ktp", "extra": {"a": [1]}}}, 400, "bad-request"),
        ("/api/tickets", {"json": ["ktp"]}, 400, "bad-request"),
        ("/api/tickets", {"json": {"service": 5}}, 400, "bad-request"),
        ("/api/tickets", {"json": {}}, 400, "bad-request"),
        ("/api/tickets", {"json": {"service": "ktp", "priority": 3}}, 400, "bad-request"),
        ("/api/tickets", {"json": {"service": "ktp", "priority": "vip"}}, 400, "bad-request"),
        ("/api/tickets", {"json": {"service": "sim"}}, 404, "unknown-service"),
        (
            "/api/tickets",
            {"json": {"service": "paspor", "priority": "elderly"}},
            409,
            "priority-not-allowed",
        ),
        (
            "/api/tickets",
            {"data": "x" * 20000, "content_type": "application/json"},
            413,
            "payload-too-large",
        ),
        ("/api/counters/1/call_next", {"json": {"request_id": "a"}}, 401, "invalid-token"),
        (
            "/api/counters/1/call_next",
            {"json": {"request_id": "a"}, "headers": {"Authorization": "Bearer nope"}},
            401,
            "invalid-token",
        ),
        (
            "/api/counters/2/call_next",
            {"json": {"request_id": "a"}, "headers": AUTH},
            401,
            "invalid-token",
        ),
        (
            "/api/counters/9/call_next",
            {"json": {"request_id": "a"}, "headers": AUTH},
            404,
            "unknown-counter",
        ),
        (
            "/api/counters/1/explode",
            {"json": {"request_id": "a"}, "headers": AUTH},
            404,
            "unknown-command",
        ),
        ("/api/counters/1/call_next", {"json": {}, "headers": AUTH}, 400, "bad-request"),
        (
            "/api/counters/1/call_next",
            {"json": {"request_id": "a"}, "headers": AUTH},
            409,
            "no-waiting-tickets",
        ),
        (
            "/api/counters/1/transfer",
            {"json": {"request_id": "a", "service": "x"}, "headers": AUTH},
            409,
            "no-current-ticket",
        ),
        ("/api/tickets/2026-11-26/A001/cancel", {"json": {}}, 401, "invalid-token"),
        (
            "/api/tickets/2026-11-26/A001/cancel",
            {"json": {}, "headers": {"Authorization": "Bearer nope"}},
            401,
            "invalid-token",
        ),
    ],
)
def test_bad_requests_get_clear_errors_and_change_nothing(client, hub, path, kwargs, status, code):
    before = (hub.seq, hub.hall)
    r = client.post(path, **kwargs)
    assert r.status_code == status
    body = r.get_json()
    assert body["ok"] is False and body["error"] == code and body["message"]
    assert (hub.seq, hub.hall) == before


def test_unknown_ticket(client):
    r = client.get("/api/tickets/2026-11-26/Z001", headers=AUTH)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown-ticket"


def test_a_ticket_s_details_need_its_visitor_token_or_a_counter_device(client):
    """Numbers cannot be walked: without a credential a real ticket answers like a missing one."""
    issued = client.post("/api/tickets", json={"service": "ktp"}).get_json()
    path = "/api/tickets/2026-11-26/A001"
    for anonymous in (client.get(path), client.get(path + "?token=AAAAAAAAAAAAAAAA"),
                      client.get("/api/tickets/2026-11-26/A002")):  # fmt: skip
        assert anonymous.status_code == 404 and anonymous.get_json()["error"] == "unknown-ticket"
        assert "ahead" not in anonymous.get_json()
    holder = client.get(f"{path}?token={issued['token']}").get_json()
    assert holder["ok"] and holder["ticket"]["number"] == "A001" and holder["ahead"] == 0
    device = client.get(path, headers=AUTH).get_json()
    assert device["ticket"]["number"] == "A001"
    wrong = client.get(path, headers={"Authorization": "Bearer not-a-counter-token"})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid-token"


def test_quota_reached(client):
    for _ in range(3):
        assert post(client, "/api/tickets", {"service": "kk"}).status_code == 201
    r = post(client, "/api/tickets", {"service": "kk"})
    assert r.status_code == 409
    assert r.get_json()["message"] == "Kuota harian layanan ini sudah habis."


def test_outside_hours(client, clock):
    clock.advance(hours=8)  # 17:00
    r = post(client, "/api/tickets", {"service": "ktp"})
    assert r.status_code == 409 and r.get_json()["error"] == "outside-hours"


def test_cancel_with_a_counter_token(client, hub):
    post(client, "/api/tickets", {"service": "ktp"})
    r = post(client, "/api/tickets/2026-11-26/A001/cancel", {}, AUTH)
    assert r.status_code == 200 and r.get_json()["ticket"]["status"] == "cancelled"
    assert hub.hall.tickets == {}


def test_cancelling_a_ticket_that_ended_today_is_not_callable(client, hub):
    post(client, "/api/tickets", {"service": "ktp"})
    post(client, "/api/tickets", {"service": "ktp"})
    post(client, "/api/counters/1/call_next", {"request_id": "c1"}, AUTH)
    post(client, "/api/counters/1/finish", {"request_id": "c2"}, AUTH)  # A001 done
    post(client, "/api/tickets/2026-11-26/A002/cancel", {}, AUTH)
    before = (hub.seq, hub.hall)
    for number in ("A001", "A002"):
        r = post(client, f"/api/tickets/2026-11-26/{number}/cancel", {}, AUTH)
        assert r.status_code == 409 and r.get_json()["error"] == "ticket-not-callable"
    r = post(client, "/api/counters/1/call_ticket", {"request_id": "c3", "number": "A001"}, AUTH)
    assert r.status_code == 409 and r.get_json()["error"] == "ticket-not-callable"
    r = post(client, "/api/tickets/2026-11-26/A003/cancel", {}, AUTH)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown-ticket"
    assert (hub.seq, hub.hall) == before


def test_internal_errors_are_json_and_change_nothing(client, hub, monkeypatch):
    monkeypatch.setattr(hub, "snapshot", lambda *a, **k: 1 / 0)
    r = client.get("/api/snapshot")
    assert r.status_code == 500 and r.get_json()["error"] == "internal-error"
