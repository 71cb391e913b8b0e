"""The visitor's page: the wait estimate (pure) and the ticket's state as the phone sees it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server.estimate import estimate_wait_minutes, service_seconds

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


def test_status_counts_people_ahead_and_estimates_from_recent_service(client, hub, clock):
    for _ in range(3):
        hub.issue("paspor")
    mine = hub.issue("paspor")["result"]["ticket"]
    status = client.get(f"/t/{mine['day']}/{mine['number']}/status").get_json()
    assert (status["ahead"], status["estimate_minutes"]) == (3, None)  # no history yet
    assert status["service"] == {"code": "paspor", "name": "Paspor", "agency": "Imigrasi"}

    for i in range(3):  # counter 3 alone serves paspor: 4 minutes each
        serve(hub, clock, 3, 4, f"p{i}")
        hub.issue("paspor")
    client.application.extensions.pop("panggil_service_times", None)  # the 15 s cache
    status = client.get(f"/t/{mine['day']}/{mine['number']}/status").get_json()
    assert status["ticket"]["status"] == "waiting"
    assert status["ahead"] == 0
    assert status["estimate_minutes"] == 2  # half of a 4-minute service


def test_called_ticket_page_says_where_to_go(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    page = client.get(f"/t/{ticket['day']}/{ticket['number']}").get_data(as_text=True)
    assert "Menunggu" in page and "Anda berikutnya" in page
    hub.command(1, "call_next", {}, "c1")
    page = client.get(f"/t/{ticket['day']}/{ticket['number']}").get_data(as_text=True)
    assert "Dipanggil, silakan ke Gerai 1" in page
    english = client.get(f"/t/{ticket['day']}/{ticket['number']}?lang=en").get_data(as_text=True)
    assert "Called: please go to Gerai 1" in english
    status = client.get(f"/t/{ticket['day']}/{ticket['number'].lower()}/status").get_json()
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
    assert text in client.get(f"/t/{ticket['day']}/{ticket['number']}").get_data(as_text=True)


def test_tickets_of_earlier_days_stay_readable(client, hub, clock):
    ticket = hub.issue("kk")["result"]["ticket"]
    clock.advance(days=1)
    hub.tick()
    page = client.get(f"/t/{ticket['day']}/{ticket['number']}").get_data(as_text=True)
    assert "sudah tidak berlaku" in page


@pytest.mark.parametrize(
    "path", ["/t/2026-11-26/A999", "/t/kemarin/A001", "/t/2026-11-26/..%2Fx", "/t/2026-11-26/A1"]
)
def test_unknown_tickets_are_404(client, path):
    assert client.get(path).status_code == 404
    assert client.get(path + "/status").status_code in (404, 405)


def test_visitor_page_is_light(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    page = client.get(f"/t/{ticket['day']}/{ticket['number']}").get_data(as_text=True)
    assert len(page.encode()) < 8000
    assert "http://" not in page.replace("http://localhost", "")  # nothing from the internet
    assert "visitor.js" in page and "vendor/socket.io.min.js" in page
