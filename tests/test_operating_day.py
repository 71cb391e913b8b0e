"""A hall's operating day end to end (issue 13's done-when), on the in-process server and a passed-in
clock: a Friday with its prayer break and a holiday in the calendar, hour by hour, as the kiosk, a TV
(a /display socket client) and a visitor's phone see it, with counters pausing and calling.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server import protocol
from server.extensions import socketio
from server.protocol import NS_COUNTER, NS_DISPLAY
from tests.conftest import TOKENS, WIB, unbatched
from tests.test_schedule_pages import schedule_config

FRIDAY = datetime(2026, 11, 27, tzinfo=WIB)  # a Friday; the hall: 07:30-16:00, prayer 11:30-13:00
HOLIDAY = datetime(2026, 12, 25, tzinfo=WIB)  # Hari Raya Natal, in the calendar


@pytest.fixture(name="hall")
def hall_fixture(tmp_path, clock):
    from server.app import create_app
    from server.config import parse_config

    clock.set(FRIDAY + timedelta(hours=6))
    app = create_app(parse_config(schedule_config(tmp_path), base_dir=tmp_path), clock=clock,
                     start_ticker=False)  # fmt: skip
    app.config["TESTING"] = True
    app.config["PANGGIL_KIOSKS"] = {"lobi": {"name": "Anjungan Lobi"}}
    web = app.test_client()
    tv = socketio.test_client(app, namespace=NS_DISPLAY, flask_test_client=web)
    counter = socketio.test_client(
        app, namespace=NS_COUNTER, auth={"counter": 1, "token": TOKENS[1]}, flask_test_client=web
    )
    yield app, web, tv, counter
    for sc in (tv, counter):
        if sc.is_connected(sc.namespace if hasattr(sc, "namespace") else None):
            sc.disconnect()
    app.extensions["panggil"].storage.close()


class Tv:
    """What a TV knows: it follows the stream and re-reads the snapshot on hall_changed, as the
    pygame display and /tv do (panggil_protocol.stream)."""

    def __init__(self, client) -> None:
        self.client = client
        self.status: dict | None = None
        self.changes = 0
        self.calls: list[str] = []
        self.on_break: set[int] = set()

    def follow(self) -> None:
        for message in unbatched(self.client.get_received(NS_DISPLAY)):  # as a TV applies them
            name, data = message["name"], message["args"][0]
            if name == protocol.SNAPSHOT:
                self.status = data["hall_status"]
                self.on_break = {c["number"] for c in data["counters"] if c["state"] == "break"}
            elif name == protocol.HALL_CHANGED:
                self.changes += 1
                self.client.emit(protocol.GET_SNAPSHOT, {}, namespace=NS_DISPLAY)
                self.follow()
                return
            elif name == protocol.TICKET_CALLED:
                self.calls.append(data["call"]["ticket"]["number"])
            elif name == protocol.COUNTER_CHANGED:
                number = data["counter"]["number"]
                (
                    self.on_break.add
                    if data["counter"]["state"] == "break"
                    else self.on_break.discard
                )(number)


# (hour, the hall's state on the TV, the kiosk's one hall message or None, KTP takes numbers)
FRIDAY_HOURS = [
    (6, "closed", "Pelayanan belum dibuka. Buka lagi pukul 07.30.", False),
    (7, "closed", "Pelayanan belum dibuka. Buka lagi pukul 07.30.", False),
    (8, "open", None, True),
    (9, "open", None, True),
    (10, "open", None, True),
    (11, "open", None, True),  # 11:00: the prayer break starts at 11:30
    (12, "break", "Pelayanan sedang istirahat: Sholat Jumat. Buka lagi pukul 13.00.", False),
    (13, "open", None, True),
    (14, "open", None, True),
    (15, "open", None, True),
    (16, "closed", "Pelayanan hari ini sudah selesai. Buka lagi Senin, 30 November, pukul 07.30.", False),
    (17, "closed", "Pelayanan hari ini sudah selesai. Buka lagi Senin, 30 November, pukul 07.30.", False),
]  # fmt: skip


def test_a_friday_hour_by_hour_on_the_kiosk_the_tv_and_the_visitor_page(hall, clock):
    app, web, tv_client, counter = hall
    hub = app.extensions["panggil"]
    tv = Tv(tv_client)
    tv.follow()
    assert tv.status["state"] == "closed"
    visitor_url = None
    seen_states = []
    for hour, state, hall_message, ktp_open in FRIDAY_HOURS:
        clock.set(FRIDAY + timedelta(hours=hour))
        hub.tick()  # the server's ticker, as it runs every few seconds
        tv.follow()
        seen_states.append(tv.status["state"])
        assert tv.status["state"] == state, hour

        kiosk = web.get("/api/kiosk/lobi/services?lang=id").get_json()
        assert kiosk["hall_closed"] == hall_message, hour
        ktp = next(s for s in kiosk["services"] if s["code"] == "ktp")
        assert ktp["status"]["open"] is ktp_open, hour
        taken = web.post("/api/kiosk/lobi/tickets", json={"service": "ktp"})
        assert taken.status_code == (201 if ktp_open else 409), (
            hour
        )  # the card says what a tap gets

        if hour == 15:  # one more just before closing: the backlog called after 16:00
            assert web.post("/api/kiosk/lobi/tickets", json={"service": "ktp"}).status_code == 201
        if hour == 8:  # a visitor takes a number and follows it on the phone
            visitor_url = taken.get_json()["visitor_url"].removeprefix("http://localhost")
        if visitor_url:
            view = web.get(visitor_url + "/status").get_json()
            closed_text = view["service"]["closed_text"]
            if state == "break":
                assert (
                    closed_text
                    == "Layanan KTP sedang istirahat Sholat Jumat. Buka lagi pukul 13.00."
                )
            elif ktp_open:
                assert closed_text is None

        call = counter.emit(protocol.CALL_NEXT, {"request_id": f"f-{hour}"}, namespace=NS_COUNTER,
                            callback=True)  # fmt: skip
        if state == "break":  # nobody is called while the hall prays; the TV stays silent
            assert call == {**call, "ok": False, "error": "hall-on-break"}
        elif hour == 17:
            assert call["error"] == "no-waiting-tickets"  # the backlog is served
        elif hour >= 8:
            assert call["ok"] is True, (hour, call)
            tv.follow()
            assert tv.calls[-1] == call["result"]["ticket"]["number"]
    # One hall_changed per change of state: opened 08, break 12, open 13, closed 16.
    assert tv.changes == 4
    assert seen_states.count("break") == 1
    # Every number was called, the one taken at 15:00 after closing (announced as usual).
    assert len(tv.calls) == 8


def test_a_counter_break_is_live_on_the_tv_and_out_of_the_estimate(hall, clock):
    app, web, tv_client, counter = hall
    hub = app.extensions["panggil"]
    clock.set(FRIDAY + timedelta(hours=9))
    hub.tick()
    tv = Tv(tv_client)
    tv.follow()
    for _ in range(4):
        assert web.post("/api/kiosk/lobi/tickets", json={"service": "ktp"}).status_code == 201
    before = hub.hall.open_counters("ktp")
    ack = counter.emit(protocol.PAUSE, {"request_id": "b-1", "reason": "sholat", "until": "10:00"},
                       namespace=NS_COUNTER, callback=True)  # fmt: skip
    assert ack["ok"] is True, ack
    tv.follow()
    assert tv.on_break == {1}
    assert hub.hall.open_counters("ktp") == before - 1
    ack = counter.emit(protocol.RESUME, {"request_id": "b-2"}, namespace=NS_COUNTER, callback=True)
    tv.follow()
    assert ack["ok"] is True and tv.on_break == set()


HOLIDAY_HOURS = [7, 9, 12, 15, 18]


def test_a_holiday_is_closed_all_day_everywhere(hall, clock):
    app, web, tv_client, counter = hall
    hub = app.extensions["panggil"]
    tv = Tv(tv_client)
    for hour in HOLIDAY_HOURS:
        clock.set(HOLIDAY + timedelta(hours=hour))
        hub.tick()
        tv.follow()
        assert tv.status == {
            "state": "closed",
            "reason": "holiday",
            "label": "Hari Raya Natal",
            "until": "2026-12-28T07:30:00+07:00",
        }, hour
        kiosk = web.get("/api/kiosk/lobi/services?lang=id").get_json()
        assert kiosk["hall_closed"] == (
            "Hari ini libur: Hari Raya Natal. Buka lagi Senin, 28 Desember, pukul 07.30."
        )
        assert {s["status"]["reason"] for s in kiosk["services"]} == {"holiday"}
        taken = web.post("/api/kiosk/lobi/tickets", json={"service": "ktp"})
        assert (taken.status_code, taken.get_json()["error"]) == (409, "outside-hours")
        # A closed hall is no break: a counter may still call (nobody waits today).
        call = counter.emit(protocol.CALL_NEXT, {"request_id": f"h-{hour}"}, namespace=NS_COUNTER,
                            callback=True)  # fmt: skip
        assert call["error"] == "no-waiting-tickets"
