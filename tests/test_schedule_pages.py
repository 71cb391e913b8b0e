"""The hall's schedule in every shell: service status in payloads, the refusal's message, the kiosk's
and the visitor page's words, on a hall with a Friday prayer break and a holiday in the calendar."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.conftest import ROOT, WIB, hall_config

FRIDAY_PRAYER = datetime(2026, 11, 27, 12, 0, tzinfo=WIB)
CHRISTMAS = datetime(2026, 12, 25, 9, 0, tzinfo=WIB)


def schedule_config(tmp_path) -> dict:
    raw = hall_config(
        tmp_path,
        hall={"hours": "07:30-16:00", "hours_by_day": {"sat": "", "sun": ""},
              "breaks": [{"days": ["fri"], "from": "11:30", "to": "13:00", "label": "Sholat Jumat"}]},
        calendar=[{"date": "2026-12-24", "label": "Cuti Bersama Natal"},
                  {"date": "2026-12-25", "label": "Hari Raya Natal"}],
    )  # fmt: skip
    raw["agencies"][1]["weekdays"] = ["mon", "tue", "wed", "thu", "fri"]
    raw["services"][1]["cutoff_minutes"] = 30  # kk: no numbers after 15:30
    return raw


@pytest.fixture(name="sched_app")
def sched_app_fixture(tmp_path, clock):
    from server.app import create_app
    from server.config import parse_config

    app = create_app(parse_config(schedule_config(tmp_path), base_dir=tmp_path), clock=clock,
                     start_ticker=False)  # fmt: skip
    app.config["TESTING"] = True
    app.config["PANGGIL_KIOSKS"] = {"lobi": {"name": "Anjungan Lobi"}}
    yield app
    app.extensions["panggil"].storage.close()


@pytest.fixture(name="web")
def web_fixture(sched_app):
    return sched_app.test_client()


def services(web) -> dict:
    return {s["code"]: s for s in web.get("/api/services").get_json()["services"]}


def take(web, service: str, path: str = "/api/tickets"):
    return web.post(path, json={"service": service})


def test_each_service_carries_its_status_in_the_api_and_the_snapshot(web, clock):
    assert services(web)["paspor"]["status"] == {
        "open": True, "reason": "open", "label": None, "until": "2026-11-26T16:00:00+07:00"
    }  # fmt: skip
    clock.set(FRIDAY_PRAYER)
    listed = services(web)
    for code in ("ktp", "kk", "paspor"):
        assert listed[code]["status"] == {"open": False, "reason": "hall-break",
                                          "label": "Sholat Jumat",
                                          "until": "2026-11-27T13:00:00+07:00"}  # fmt: skip
        assert listed[code]["open_now"] is False  # the same answer as status.open
    snapshot = {s["code"]: s for s in web.get("/api/snapshot").get_json()["services"]}
    assert snapshot["paspor"]["status"] == listed["paspor"]["status"]


@pytest.mark.parametrize(
    "moment, service, reason, message",
    [
        (FRIDAY_PRAYER, "paspor", "hall-break",
         "Layanan Paspor sedang istirahat Sholat Jumat. Buka lagi pukul 13.00."),
        (CHRISTMAS, "paspor", "holiday",
         "Hari ini libur: Hari Raya Natal. Buka lagi Senin, 28 Desember, pukul 07.30."),
        (datetime(2026, 11, 26, 15, 40, tzinfo=WIB), "kk", "cutoff",
         "Pengambilan nomor Layanan KK sudah ditutup untuk hari ini."
         " Buka lagi Jumat, 27 November, pukul 07.30."),
        (datetime(2026, 11, 28, 10, 0, tzinfo=WIB), "paspor", "closed-day",
         "Hari ini mal pelayanan tutup. Buka lagi Senin, 30 November, pukul 07.30."),
        (datetime(2026, 11, 26, 6, 0, tzinfo=WIB), "ktp", "before-opening",
         "Layanan KTP belum buka. Buka lagi pukul 07.30."),
    ],
)  # fmt: skip
def test_a_refused_ticket_says_why_and_when_the_service_opens(web, clock, moment, service,
                                                              reason, message):  # fmt: skip
    clock.set(moment)
    for path in ("/api/tickets", "/api/kiosk/lobi/tickets"):
        r = take(web, service, path)
        body = r.get_json()
        assert (r.status_code, body["error"], body["status"]["reason"]) == (409, "outside-hours",
                                                                            reason)  # fmt: skip
        assert body["message"] == message  # Indonesian, whatever the caller's language
        assert body["status"] == services(web)[service]["status"]


def test_an_agency_on_other_weekdays_is_not_today(tmp_path, clock):
    from server.app import create_app
    from server.config import parse_config

    raw = schedule_config(tmp_path)
    raw["agencies"][1]["weekdays"] = ["mon", "wed"]  # imigrasi: not on Thursdays
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    try:
        web = app.test_client()
        status = services(web)["paspor"]["status"]
        assert (status["reason"], status["until"]) == ("not-today", "2026-11-30T07:30:00+07:00")
        assert take(web, "paspor").get_json()["message"] == (
            "Layanan Paspor tidak buka hari ini. Buka lagi Senin, 30 November, pukul 07.30."
        )
        assert take(web, "ktp").status_code == 201  # the other agency serves
    finally:
        app.extensions["panggil"].storage.close()


def kiosk_catalogue(web, lang: str = "id") -> dict:
    return web.get(f"/api/kiosk/lobi/services?lang={lang}").get_json()


def test_the_kiosk_card_says_why_and_when_in_the_visitor_s_language(web, clock):
    clock.set(datetime(2026, 11, 26, 15, 40, tzinfo=WIB))  # KK's cut-off, KTP still open
    catalogue = kiosk_catalogue(web)
    kk = next(s for s in catalogue["services"] if s["code"] == "kk")
    ktp = next(s for s in catalogue["services"] if s["code"] == "ktp")
    assert (kk["state"], kk["status"]["reason"]) == ("outside-hours", "cutoff")
    assert kk["closed_text"].startswith("Pengambilan nomor Layanan KK sudah ditutup")
    assert (ktp["state"], ktp["closed_text"]) == ("open", None)
    assert catalogue["hall_closed"] is None  # the hall is open: per-service words only
    kk_en = next(s for s in kiosk_catalogue(web, "en")["services"] if s["code"] == "kk")
    assert kk_en["closed_text"] == (
        "KK takes no more numbers today. It opens again on Friday, 27 November at 7:30\u202fAM."
    )


def test_the_kiosk_s_refusal_also_says_it_in_the_visitor_s_language(web, clock):
    clock.set(FRIDAY_PRAYER)
    web.get("/kiosk/lobi?lang=en")  # the language cookie, as the kiosk's page sets it
    body = take(web, "paspor", "/api/kiosk/lobi/tickets").get_json()
    assert (
        body["closed_text"] == "Paspor is closed for Sholat Jumat. It opens again at 1:00\u202fPM."
    )
    assert body["message"].startswith("Layanan Paspor sedang istirahat")


def test_a_holiday_is_one_message_for_the_hall(web, clock):
    clock.set(CHRISTMAS)
    catalogue = kiosk_catalogue(web)
    assert catalogue["hall_closed"] == (
        "Hari ini libur: Hari Raya Natal. Buka lagi Senin, 28 Desember, pukul 07.30."
    )
    page = web.get("/kiosk/lobi?lang=id").get_data(as_text=True)
    assert "Hari ini libur: Hari Raya Natal." in page  # rendered before any script runs
    clock.set(FRIDAY_PRAYER)
    assert kiosk_catalogue(web)["hall_closed"] == (
        "Pelayanan sedang istirahat: Sholat Jumat. Buka lagi pukul 13.00."
    )
    clock.set(datetime(2026, 11, 27, 13, 0, tzinfo=WIB))
    assert kiosk_catalogue(web)["hall_closed"] is None


def test_the_visitor_page_says_when_its_service_takes_numbers_again(web, clock):
    clock.set(datetime(2026, 11, 27, 11, 0, tzinfo=WIB))
    url = take(web, "paspor").get_json()["visitor_url"].removeprefix("http://localhost")
    view = web.get(url + "/status").get_json()
    assert view["service"]["status"]["open"] is True and view["service"]["closed_text"] is None
    clock.set(FRIDAY_PRAYER)
    view = web.get(url + "/status").get_json()
    assert view["service"]["closed_text"] == (
        "Layanan Paspor sedang istirahat Sholat Jumat. Buka lagi pukul 13.00."
    )
    page = web.get(url).get_data(as_text=True)
    assert "Layanan Paspor sedang istirahat Sholat Jumat. Buka lagi pukul 13.00." in page
    english = web.get(url + "?lang=en").get_data(as_text=True)
    assert "Paspor is closed for Sholat Jumat. It opens again at 1:00\u202fPM." in english


def test_an_inactive_or_unenforced_service_status_agrees_with_open_now(tmp_path, clock):
    from server import engine, payloads

    hall = engine.Hall(day="2026-11-26", services=engine.frozen_map({
        "a": engine.Service(code="a", name="A", agency="x", prefix="A", active=False)}))  # fmt: skip
    now = clock()
    assert payloads.service_status(hall, hall.services["a"], now)["reason"] == "service-closed"
    assert payloads.services_detail(hall, now)[0]["open_now"] is False
    relaxed = engine.Hall(day="2026-11-26", enforce_hours=False, services=engine.frozen_map({
        "b": engine.Service(code="b", name="B", agency="x", prefix="B", hours=((),) * 7)}))  # fmt: skip
    detail = payloads.services_detail(relaxed, now)[0]
    assert detail["open_now"] is True and detail["status"]["open"] is True


def test_every_schedule_text_has_an_indonesian_translation():
    from babel.messages.pofile import read_po

    with open(ROOT / "server/translations/core/id/LC_MESSAGES/messages.po", "rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    source = (ROOT / "server/schedule_text.py").read_text()
    wanted = set(re.findall(r'_\(\s*"([^"]+)"', source))
    assert len(wanted) >= 15
    assert sorted(wanted - translated) == []


@pytest.mark.parametrize(
    "moment, hall_closed, reasons",
    [
        (datetime(2026, 11, 27, 6, 0, tzinfo=WIB), "Pelayanan belum dibuka. Buka lagi pukul 07.30.",
         {"ktp": "before-opening", "kk": "before-opening", "paspor": "before-opening"}),
        (datetime(2026, 11, 27, 8, 0, tzinfo=WIB), None, {"ktp": "open", "kk": "open", "paspor": "open"}),
        (datetime(2026, 11, 27, 11, 45, tzinfo=WIB),
         "Pelayanan sedang istirahat: Sholat Jumat. Buka lagi pukul 13.00.",
         {"ktp": "hall-break", "kk": "hall-break", "paspor": "hall-break"}),
        (datetime(2026, 11, 27, 13, 0, tzinfo=WIB), None, {"ktp": "open", "kk": "open", "paspor": "open"}),
        (datetime(2026, 11, 27, 15, 40, tzinfo=WIB), None, {"ktp": "open", "kk": "cutoff", "paspor": "open"}),
        (datetime(2026, 11, 27, 16, 30, tzinfo=WIB),
         "Pelayanan hari ini sudah selesai. Buka lagi Senin, 30 November, pukul 07.30.",
         {"ktp": "after-closing", "kk": "after-closing", "paspor": "after-closing"}),
        (datetime(2026, 11, 28, 10, 0, tzinfo=WIB),
         "Hari ini mal pelayanan tutup. Buka lagi Senin, 30 November, pukul 07.30.",
         {"ktp": "closed-day", "kk": "closed-day", "paspor": "closed-day"}),
        (datetime(2026, 12, 24, 10, 0, tzinfo=WIB),
         "Hari ini libur: Cuti Bersama Natal. Buka lagi Senin, 28 Desember, pukul 07.30.",
         {"ktp": "holiday", "kk": "holiday", "paspor": "holiday"}),
    ],
)  # fmt: skip
def test_a_simulated_friday_and_holiday_on_the_kiosk(web, clock, moment, hall_closed, reasons):
    clock.set(moment)
    catalogue = kiosk_catalogue(web)
    assert catalogue["hall_closed"] == hall_closed
    found = {s["code"]: s["status"]["reason"] for s in catalogue["services"]}
    assert found == reasons
    for service in catalogue["services"]:
        taken = take(web, service["code"]).status_code
        assert taken == (201 if service["status"]["open"] else 409)  # the card says what a tap gets
