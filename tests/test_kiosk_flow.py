"""The kiosk's HTTP flow: issue, print, release on a print failure; quota and hours with a message."""

from __future__ import annotations

import pytest
from conftest import hall_config
from fake_printer import closed_port, printer_fixture  # noqa: F401 - the `printer` fixture

from server import printing
from server.pages import kiosk
from server.printing import PrinterError
from server.ticket_links import ticket_token

PRINTER_MESSAGE = "Printer bermasalah, silakan hubungi petugas."


@pytest.fixture
def kiosk_app(app, printer):
    """The test hall with two kiosks: one with the fake network printer, one screen-only."""
    app.config["PANGGIL_KIOSKS"] = {
        "lobi": {
            "name": "Anjungan Lobi",
            "public_url": "http://192.168.1.10:5000",
            "printer": printer.spec,
        },
        "layar": {"name": "Layar"},
    }
    return app


@pytest.fixture(name="hours_ignored_app")
def hours_ignored_app_fixture(tmp_path, clock):
    """The test hall with `hall.enforce_hours: false`, as the demo runs; KTP has no hours on Thursday."""
    from server.app import create_app
    from server.config import parse_config

    raw = hall_config(tmp_path, hall={"enforce_hours": False})
    ktp = next(s for s in raw["services"] if s["code"] == "ktp")
    ktp["hours_by_day"] = {"thu": ""}
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    app.config["TESTING"] = True
    app.config["PANGGIL_KIOSKS"] = {"lobi": {"name": "Anjungan Lobi"}}
    yield app
    app.extensions["panggil"].storage.close()


def take(client, service="ktp", priority=None, kiosk="lobi"):
    return client.post(
        f"/api/kiosk/{kiosk}/tickets", json={"service": service, "priority": priority}
    )


def db_status(hub, ticket_id: str) -> str:
    return hub.storage.db.execute(
        "SELECT status FROM tickets WHERE id = ?", [ticket_id]
    ).fetchone()[0]


def test_ticket_is_issued_and_printed_with_number_and_qr(kiosk_app, client, hub, printer):
    r = take(client)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["printed"] is True
    assert body["ticket"]["number"] == "A001"
    token = ticket_token(kiosk_app.secret_key, "2026-11-26/A001")
    assert body["token"] == token
    assert body["visitor_url"] == f"http://192.168.1.10:5000/t/2026-11-26/A001/{token}"
    qr = body["qr_image"]
    assert qr.startswith("data:image/svg+xml") and "%3Csvg" in qr  # an image, never markup
    assert "<" not in qr and "qr_svg" not in body
    assert qr == kiosk.qr_image(body["visitor_url"])  # the QR code holds the tokened link
    (job,) = printer.wait_for(1)
    assert b"A001" in job
    assert b"MPP Uji" in job and b"KTP" in job and b"Dukcapil" in job
    assert b"1P0" + body["visitor_url"].encode() in job  # the QR code's data
    assert b"Kamis, 26 November 2026 09.00 WIB" in job
    assert db_status(hub, body["ticket"]["id"]) == "waiting"


@pytest.mark.parametrize("failure", ["refuse", "close", "paper-out"])
def test_print_failure_cancels_the_ticket_and_the_next_one_works(
    kiosk_app, client, hub, printer, failure
):
    good_port = printer.port
    if failure == "refuse":
        kiosk_app.config["PANGGIL_KIOSKS"]["lobi"]["printer"] = {
            **printer.spec,
            "port": closed_port(),
        }
    else:
        printer.mode = failure
    r = take(client)
    assert r.status_code == 503
    assert r.get_json() == {"ok": False, "error": "printer-error", "message": PRINTER_MESSAGE}
    assert db_status(hub, "2026-11-26/A001") == "cancelled"
    assert hub.hall.waiting_count("ktp") == 0
    kinds = [row[0] for row in hub.storage.db.execute("SELECT kind FROM events ORDER BY seq")]
    assert kinds[-2:] == ["issued", "cancelled"]

    # The printer is fixed: the next ticket prints, with a new number (numbers are never reused).
    kiosk_app.extensions.pop("panggil_kiosks")
    kiosk_app.config["PANGGIL_KIOSKS"]["lobi"]["printer"] = {**printer.spec, "port": good_port}
    printer.mode = "ok"
    r = take(client)
    assert r.status_code == 201
    assert r.get_json()["ticket"]["number"] == "A002"
    assert r.get_json()["printed"] is True
    assert hub.hall.waiting_count("ktp") == 1


def test_number_called_before_it_could_be_released_is_shown_on_screen(
    kiosk_app, client, hub, monkeypatch
):
    def call_then_fail(data, spec):
        hub.command(1, "call_next", {}, "race-1")
        raise PrinterError("timeout")

    monkeypatch.setattr(printing, "send", call_then_fail)
    r = take(client)
    assert r.status_code == 201
    body = r.get_json()
    assert body["printed"] is False
    assert body["print_error"] == PRINTER_MESSAGE
    assert db_status(hub, body["ticket"]["id"]) == "called"


def test_slip_that_went_out_unconfirmed_keeps_its_number_and_shows_it(
    kiosk_app, client, hub, printer
):
    printer.mode = "drop-after-slip"  # it may well have printed: a cancelled slip would be worse
    r = take(client)
    assert r.status_code == 201
    body = r.get_json()
    assert (body["printed"], body["print_error"]) == (False, PRINTER_MESSAGE)
    assert db_status(hub, body["ticket"]["id"]) == "waiting"


def test_screen_only_kiosk_does_not_print(kiosk_app, client, printer):
    r = take(client, kiosk="layar")
    assert r.status_code == 201
    assert r.get_json()["printed"] is False
    assert printer.jobs == []


def test_unknown_kiosk_is_refused_when_kiosks_are_configured(kiosk_app, client):
    r = take(client, kiosk="nope")
    assert r.status_code == 404
    assert r.get_json()["error"] == "unknown-kiosk"
    assert client.get("/kiosk/nope").status_code == 404


def test_without_kiosks_section_every_kiosk_is_screen_only(app, client):
    r = take(client, kiosk="pintu-utara")
    assert r.status_code == 201
    assert r.get_json()["printed"] is False
    token = ticket_token(app.secret_key, "2026-11-26/A001")
    assert r.get_json()["visitor_url"] == f"http://localhost/t/2026-11-26/A001/{token}"
    assert client.get(f"/t/2026-11-26/A001/{token}").status_code == 200
    assert client.get("/kiosk").headers["Location"].endswith("/kiosk/layar")


def test_quota_is_enforced_with_a_clear_message(kiosk_app, client):
    for _ in range(3):  # kk has a daily quota of 3
        assert take(client, "kk").status_code == 201
    r = take(client, "kk")
    assert r.status_code == 409
    assert r.get_json()["error"] == "quota-reached"
    assert r.get_json()["message"] == "Kuota harian layanan ini sudah habis."
    kk = _service(client, "kk")
    assert kk["state"] == "quota-reached"


def test_hours_are_enforced_with_a_clear_message(kiosk_app, client, clock):
    assert _service(client, "ktp")["state"] == "open"
    clock.advance(hours=8)  # 17:00, ktp serves 07:30-16:00
    r = take(client, "ktp")
    assert r.status_code == 409
    assert r.get_json()["error"] == "outside-hours"
    assert r.get_json()["message"] == (
        "Layanan KTP sudah tutup untuk hari ini. Buka lagi Jumat, 27 November, pukul 07.30."
    )
    assert r.get_json()["status"] == {"open": False, "reason": "after-closing", "label": None,
                                      "until": "2026-11-27T07:30:00+07:00"}  # fmt: skip
    ktp = _service(client, "ktp")
    assert (ktp["state"], ktp["hours_today"]) == ("outside-hours", "07.30-16.00")
    assert _service(client, "kk")["state"] == "open"  # no hours: open all day


def test_hours_not_enforced_say_open_and_never_closed_today(hours_ignored_app, clock):
    client = hours_ignored_app.test_client()
    # Thursday 09:00, KTP has no hours today; 17:00 is after its hours on other days.
    for _ in range(2):
        ktp = _service(client, "ktp")
        assert (ktp["state"], ktp["hours_today"]) == ("open", None)  # no "Not open today" line
        assert take(client, "ktp").status_code == 201  # the tile says what a tap gets
        clock.advance(hours=8)
    assert _service(client, "kk")["hours_today"] is None  # no hours at all: as before


def test_closed_service_and_priority_rules(kiosk_app, client, hub):
    r = take(client, "paspor", "elderly")
    assert (r.status_code, r.get_json()["error"]) == (409, "priority-not-allowed")
    r = take(client, "ktp", "pregnant")
    assert r.status_code == 201
    assert r.get_json()["ticket"]["priority"] == "pregnant"
    assert take(client, "ktp", "vip").status_code == 400
    assert take(client, "nope").status_code == 404


def test_kiosk_post_needs_no_csrf_token_but_changes_nothing_else(kiosk_app, client):
    # CSRF is on for the site, yet a kiosk left open for days must keep working.
    assert take(client).status_code == 201
    assert client.post("/api/kiosk/lobi/services").status_code == 405


def test_kiosk_page_shows_the_priority_button_in_indonesian_and_english(kiosk_app, client):
    page = client.get("/kiosk/lobi").get_data(as_text=True)
    assert "Prioritas: disabilitas, lansia, ibu hamil" in page
    assert "Pilih instansi" in page
    assert "Dukcapil" in page  # the catalogue is in the page: the first screen needs no request
    english = client.get("/kiosk/lobi?lang=en").get_data(as_text=True)
    assert "Priority: disability, elderly, pregnant" in english


def test_kiosk_chooser_lists_configured_kiosks(kiosk_app, client):
    page = client.get("/kiosk").get_data(as_text=True)
    assert "Anjungan Lobi" in page and "/kiosk/layar" in page


def _service(client, code):
    data = client.get("/api/kiosk/lobi/services").get_json()
    return next(s for s in data["services"] if s["code"] == code)


def test_kiosks_are_read_from_the_config_once_it_has_the_section(app, client, printer):
    # The `kiosks:` section is not in server/config.py yet; once it is, it arrives this way.
    config = app.config["PANGGIL_CONFIG"]
    app.config["PANGGIL_CONFIG"] = config.model_copy(
        update={"kiosks": {"pintu": {"printer": printer.spec}}}
    )
    assert take(client, kiosk="pintu").get_json()["printed"] is True
    assert take(client, kiosk="lain").status_code == 404


def test_bad_kiosk_settings_are_refused_with_the_key(app, client, caplog):
    # config.py will refuse them at start-up once it carries the section; until then, a request.
    app.config["PANGGIL_KIOSKS"] = {"pintu": {"printer": {"type": "network"}}}
    r = take(client, kiosk="pintu")
    assert (r.status_code, r.get_json()["error"]) == (500, "internal-error")
    assert "kiosks.pintu.printer.host:" in caplog.text
