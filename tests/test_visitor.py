"""The visitor's page: the wait estimate (pure), the ticket's state as the phone sees it at the
slip's tokened address, and the little a bare number's address tells anyone else."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.estimate import estimate_wait_minutes, service_seconds
from server.ticket_links import TOKEN_LENGTH, ticket_token, token_matches

ROOT = Path(__file__).resolve().parent.parent

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=WIB)


def pairs(*minutes: float):
    return [(T0, T0 + timedelta(minutes=m)) for m in minutes]


def test_service_seconds_drop_implausible_times():
    times = service_seconds([*pairs(5, 0.05, 300, 6), (None, T0), (T0, None)])
    assert times == [300.0, 360.0]


@pytest.mark.parametrize(
    ("ahead", "minutes", "counters", "expected"),
    [
        (4, [5, 5, 5], 1, 23),  # (4 + 0.5) x 5 min
        (4, [5, 5, 5], 2, 12),  # shared by two counters, rounded up
        (0, [6, 6, 6], 1, 3),  # next: about half a service
        (0, [0.5, 0.5, 0.5], 3, 1),  # never "0 minutes"
        (2, [4, 5, 90], 1, 13),  # the median ignores one very long case
        (3, [5, 5], 1, None),  # too little history
        (3, [], 1, None),
        (3, [5, 5, 5], 0, 18),  # no counter serves it at the moment: as if one did
    ],
)
def test_estimate(ahead, minutes, counters, expected):
    assert estimate_wait_minutes(ahead, [m * 60 for m in minutes], counters) == expected


def test_estimate_refuses_negative_ahead():
    with pytest.raises(ValueError):
        estimate_wait_minutes(-1, [60, 60, 60], 1)


def serve(hub, clock, counter: int, minutes: float, request_id: str) -> None:
    hub.command(counter, "call_next", {}, request_id + "-call")
    clock.advance(minutes=minutes)
    hub.command(counter, "finish", {}, request_id + "-finish")


def link(client, ticket: dict) -> str:
    """The slip's address of a ticket: /t/<day>/<number>/<token>."""
    token = ticket_token(client.application.secret_key, ticket["id"])
    return f"/t/{ticket['day']}/{ticket['number']}/{token}"


def test_status_counts_people_ahead_and_estimates_from_recent_service(client, hub, clock):
    for _ in range(3):
        hub.issue("paspor")
    mine = hub.issue("paspor")["result"]["ticket"]
    status = client.get(link(client, mine) + "/status").get_json()
    assert (status["ahead"], status["estimate_minutes"]) == (3, None)  # no history yet
    assert status["service"] == {
        "code": "paspor", "name": "Paspor", "agency": "Imigrasi", "closed_text": None, "alert_ahead": 3,
        "status": {"open": True, "reason": "open", "label": None, "until": None},
    }  # fmt: skip

    for i in range(3):  # counter 3 alone serves paspor: 4 minutes each
        serve(hub, clock, 3, 4, f"p{i}")
        hub.issue("paspor")
    client.application.extensions.pop("panggil_service_times", None)  # the 15 s cache
    status = client.get(link(client, mine) + "/status").get_json()
    assert status["ticket"]["status"] == "waiting"
    assert status["ahead"] == 0
    assert status["estimate_minutes"] == 2  # half of a 4-minute service


def test_called_ticket_page_says_where_to_go(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    page = client.get(link(client, ticket)).get_data(as_text=True)
    assert "Menunggu" in page and "Anda berikutnya" in page
    hub.command(1, "call_next", {}, "c1")
    page = client.get(link(client, ticket)).get_data(as_text=True)
    assert "Dipanggil, silakan ke Gerai 1" in page
    english = client.get(link(client, ticket) + "?lang=en").get_data(as_text=True)
    assert "Called: please go to Gerai 1" in english
    lower = link(client, ticket).replace(ticket["number"], ticket["number"].lower())
    status = client.get(lower + "/status").get_json()
    assert status["call"]["counter"]["name"] == "Gerai 1"


@pytest.mark.parametrize(
    ("step", "text"),
    [
        ("finish", "Selesai dilayani"),
        ("skip", "Silakan temui petugas di Gerai 1"),
    ],
)
def test_finished_and_skipped_tickets(client, hub, step, text):
    ticket = hub.issue("ktp")["result"]["ticket"]
    hub.command(1, "call_next", {}, "c1")
    hub.command(1, step, {}, "c2")
    assert text in client.get(link(client, ticket)).get_data(as_text=True)


def test_tickets_of_earlier_days_stay_readable(client, hub, clock):
    ticket = hub.issue("kk")["result"]["ticket"]
    clock.advance(days=1)
    hub.tick()
    page = client.get(link(client, ticket)).get_data(as_text=True)
    assert "sudah tidak berlaku" in page


@pytest.mark.parametrize(
    "path", ["/t/2026-11-26/A999", "/t/kemarin/A001", "/t/2026-11-26/..%2Fx", "/t/2026-11-26/A1"]
)
def test_unknown_tickets_are_404(client, path):
    assert client.get(path).status_code == 404
    assert client.get(path + "/status").status_code in (404, 405)
    token = ticket_token(client.application.secret_key, "2026-11-26/A999")
    assert client.get(f"{path}/{token}").status_code == 404
    assert client.get(f"{path}/{token}/status").status_code in (404, 405)


def test_visitor_page_is_light(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    page = client.get(link(client, ticket)).get_data(as_text=True)
    assert len(page.encode()) < 8000
    assert "http://" not in page.replace("http://localhost", "")  # nothing from the internet
    assert "visitor.js" in page and "vendor/socket.io.min.js" in page


# --- the token ----------------------------------------------------------------------------------


def test_token_is_short_url_safe_and_bound_to_ticket_and_key():
    token = ticket_token("key-one-0123456789", "2026-11-26/A001")
    assert re.fullmatch(f"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}", token)
    assert token == ticket_token("key-one-0123456789", "2026-11-26/A001")  # nothing stored
    others = {
        ticket_token("key-one-0123456789", "2026-11-26/A002"),
        ticket_token("key-one-0123456789", "2026-11-27/A001"),
        ticket_token("key-two-0123456789", "2026-11-26/A001"),
    }
    assert token not in others and len(others) == 3
    assert token_matches("key-one-0123456789", "2026-11-26/A001", token)
    assert not token_matches("key-one-0123456789", "2026-11-26/A002", token)
    assert not token_matches("key-one-0123456789", "2026-11-26/A001", token[:-1])
    assert not token_matches("key-one-0123456789", "2026-11-26/A001", "é" * TOKEN_LENGTH)


def wrong_tokens(client, ticket: dict) -> list[str]:
    """Tokens a guesser might try: another ticket's, another day's, a near miss, an empty-ish one."""
    key = client.application.secret_key
    right = ticket_token(key, ticket["id"])
    return [
        ticket_token(key, f"{ticket['day']}/A999"),
        ticket_token(key, "2026-11-25/" + ticket["number"]),
        right[:-1] + ("A" if right[-1] != "A" else "B"),
        right[:-1],
        right + "x",
        "0" * TOKEN_LENGTH,
    ]


def test_wrong_token_is_an_unknown_ticket(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    base = f"/t/{ticket['day']}/{ticket['number']}"
    assert client.get(link(client, ticket)).status_code == 200
    for token in wrong_tokens(client, ticket):
        page = client.get(f"{base}/{token}")
        assert page.status_code == 404, token
        assert "Menunggu" not in page.get_data(as_text=True)
        status = client.get(f"{base}/{token}/status")
        assert status.status_code == 404, token
        body = status.get_json()
        assert body["ok"] is False and body["error"] == "unknown-ticket"
        assert body["message"] and set(body) == {"ok", "error", "message"}


def test_bare_number_tells_only_what_the_tv_shows(client, hub, clock):
    for _ in range(2):
        hub.issue("kk")
    ticket = hub.issue("kk", "elderly")["result"]["ticket"]
    bare = f"/t/{ticket['day']}/{ticket['number']}"
    page = client.get(bare).get_data(as_text=True)
    assert ticket["number"] in page and "Belum dipanggil" in page
    full = client.get(link(client, ticket)).get_data(as_text=True)
    # The slip's page shows each of these (status, people ahead, estimate, service, agency,
    # priority); the bare page none of them.
    for secret in ("Menunggu", "orang", "Perkiraan waktu tunggu", "Dukcapil", "Prioritas",
                   'data-service="kk"', '"ahead"', '"estimate_minutes"', '"status": "waiting"'):  # fmt: skip
        assert secret in full, secret
        assert secret not in page, secret
    assert client.get(bare + "/status").get_json() == {
        "ok": True,
        "ticket": {"id": ticket["id"], "number": ticket["number"], "day": ticket["day"]},
        "called": False,
        "kind": None,
        "counter": None,
        "hall": "MPP Uji",
    }

    for i in range(3):  # counter 2 serves the others (not a word on the bare page), then ours
        called = hub.command(2, "call_next", {}, f"c{i}")["result"]["ticket"]
        if called["id"] == ticket["id"]:
            break
        assert "Belum dipanggil" in client.get(bare).get_data(as_text=True)
        hub.command(2, "finish", {}, f"f{i}")
    assert called["id"] == ticket["id"]
    hub.command(2, "recall", {}, "again")
    page = client.get(bare).get_data(as_text=True)
    assert "Sudah dipanggil ke Gerai 2" in page and "Dukcapil" not in page
    status = client.get(bare + "/status").get_json()
    assert (status["called"], status["kind"], status["counter"]) == (
        True, "recall", {"number": 2, "name": "Gerai 2"})  # fmt: skip
    assert set(status["ticket"]) == {"id", "number", "day"}
    assert "Called to Gerai 2" in client.get(bare + "?lang=en").get_data(as_text=True)


def test_bare_number_page_has_no_link_to_the_tokened_page(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    token = ticket_token(client.application.secret_key, ticket["id"])
    for path in ("", "/status"):
        answer = client.get(f"/t/{ticket['day']}/{ticket['number']}{path}")
        assert answer.status_code == 200 and token not in answer.get_data(as_text=True)


def test_api_ticket_answer_carries_the_tokened_link(client):
    answer = client.post("/api/tickets", json={"service": "ktp"})
    assert answer.status_code == 201
    body = answer.get_json()
    ticket = body["ticket"]
    assert body["token"] == ticket_token(client.application.secret_key, ticket["id"])
    assert (
        body["visitor_url"]
        == f"http://localhost/t/{ticket['day']}/{ticket['number']}/{body['token']}"
    )
    page = client.get(body["visitor_url"].removeprefix("http://localhost"))
    assert page.status_code == 200 and "Anda berikutnya" in page.get_data(as_text=True)


def test_every_visitor_text_has_an_indonesian_translation():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    translated = set()
    for area in ("visitor", "core"):
        with open(ROOT / f"server/translations/{area}/id/LC_MESSAGES/messages.po", "rb") as f:
            translated |= {m.id for m in read_po(f) if m.id and m.string}
    method_map = [
        ("server/templates/visitor/**.html", "jinja2"),
        ("server/pages/visitor.py", "python"),
        # The form for SMS/WhatsApp notices, and the booking page with its consent box.
        ("server/pages/visitor_contact.py", "python"),  # (its texts are in visitor.py)
        ("server/templates/booking/**.html", "jinja2"),
        ("server/pages/booking.py", "python"),
    ]
    wanted = {
        m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(str(ROOT), method_map)
    }
    assert {"Not called yet", "Called to %(counter)s", "Waiting"} <= wanted
    assert sorted(wanted - translated) == []
