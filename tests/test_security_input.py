"""Issue 18, hostile input: cancel rights, bodies and sockets built to break the server, forged log
lines, control characters in admin-set names, a read-only database and a full disk."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import socketio as socketio_client
import yaml
from test_admin_pages import post

from server import engine, protocol
from server.config import ConfigError, parse_config
from server.extensions import socketio
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError
from tests.conftest import TOKENS, hall_config

DAY = "2026-11-26"
AUTH = {n: {"Authorization": f"Bearer {t}"} for n, t in TOKENS.items()}


def api_post(client, path: str, body: object, headers: dict | None = None):
    return client.post(path, json=body, headers=headers or {})


# --- 4. cancel rights and exactly-once ------------------------------------------------------------


def test_a_counter_cancels_only_tickets_of_services_it_serves(client, hub):
    api_post(client, "/api/tickets", {"service": "ktp"})  # A001: counters 1 and 2 serve ktp
    before = (hub.seq, hub.hall)
    response = api_post(client, f"/api/tickets/{DAY}/A001/cancel", {}, AUTH[3])  # paspor only
    assert response.status_code == 409 and response.get_json()["error"] == "service-not-served"
    assert (hub.seq, hub.hall) == before
    response = api_post(client, f"/api/tickets/{DAY}/A001/cancel", {}, AUTH[2])
    assert response.status_code == 200 and response.get_json()["ticket"]["status"] == "cancelled"


def test_the_cancel_rule_is_in_the_engine_and_leaves_the_hall_untouched(hub):
    hub.issue("ktp")
    hall = hub.hall
    with pytest.raises(PanggilError) as refused:
        engine.cancel_ticket(hall, "A001", datetime(2026, 11, 26, 3, tzinfo=UTC), counter=3)
    assert refused.value.code == "service-not-served" and hub.hall is hall
    outcome = engine.cancel_ticket(hall, "A001", datetime(2026, 11, 26, 3, tzinfo=UTC), counter=1)
    assert outcome.changes[0].ticket.status == "cancelled"


def test_cancel_honours_its_request_id_exactly_once(client, hub):
    api_post(client, "/api/tickets", {"service": "ktp"})
    first = api_post(client, f"/api/tickets/{DAY}/A001/cancel", {"request_id": "batal-1"}, AUTH[1])
    assert first.status_code == 200
    seq = hub.seq
    again = api_post(client, f"/api/tickets/{DAY}/A001/cancel", {"request_id": "batal-1"}, AUTH[1])
    assert again.status_code == 200, again.get_json()
    assert {**again.get_json(), "replayed": None} == {**first.get_json(), "replayed": None}
    assert again.get_json()["replayed"] is True and hub.seq == seq
    # The same id for another command is a reuse, not a replay.
    reused = api_post(client, "/api/counters/1/call_next", {"request_id": "batal-1"}, AUTH[1])
    assert reused.status_code == 409 and reused.get_json()["error"] == "request-id-reused"


# --- 5. hostile bodies, sockets and log lines -----------------------------------------------------

JSON_POSTS = [
    ("/api/tickets", {}),
    ("/api/kiosk/layar/tickets", {}),
    (f"/api/tickets/{DAY}/A001/cancel", AUTH[1]),
    ("/api/counters/1/call_next", AUTH[1]),
    ("/api/counters/1/sign_in", AUTH[1]),
    (f"/api/survey/tickets/{DAY}/A001", {}),
    ("/api/survey/counters/1", AUTH[1]),
    ("/api/phone/tickets", {}),
]
DEEP = '{"service": ' + "[" * 1000 + "]" * 1000 + "}"
SURROGATES = [b'{"service": "ktp", "priority": "\\ud800"}',
              b'{"service": "ktp", "priority": "\xed\xa0\x80"}',  # the surrogate as raw bytes
              b'{"service": "ktp\\udfff"}', b'{"request_id": "a\\ud800"}',
              b'{"\\ud800": 1}', b'{"service": "ktp", "priority": ["\\udc00"]}']  # fmt: skip


@pytest.mark.parametrize("path,headers", JSON_POSTS)
@pytest.mark.parametrize("body", [DEEP.encode(), *SURROGATES], ids=lambda b: repr(b[:30]))
def test_hostile_json_bodies_are_4xx_json(client, hub, path, headers, body):
    hub.issue("ktp")
    seq = hub.seq
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:200])
    assert response.is_json and response.get_json()["error"] in protocol.ERRORS
    assert hub.seq == seq


@pytest.mark.parametrize("namespace", [NS_DISPLAY, NS_COUNTER])
def test_socket_events_with_extra_arguments_are_refused_with_an_ack(socket_client, namespace):
    auth = {"counter": 1, "token": TOKENS[1]} if namespace == NS_COUNTER else None
    sc = socket_client(namespace, auth)
    event = protocol.CALL_NEXT if namespace == NS_COUNTER else protocol.GET_SNAPSHOT
    ack = sc.emit(event, {"request_id": "x1"}, {"extra": 1}, "more", namespace=namespace,
                  callback=True)  # fmt: skip
    assert ack["ok"] is False and ack["error"] in protocol.ERRORS and ack["message"]


def live_connect(url: str, namespace: str, auth: dict) -> tuple[bool, float]:
    """Connect a real python-socketio client; (connected, seconds it took to know)."""
    client = socketio_client.Client(reconnection=False)
    start = time.monotonic()
    try:
        client.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"],
                       wait_timeout=8)  # fmt: skip
        connected = client.connected
    except socketio_client.exceptions.ConnectionError:
        connected = False
    finally:
        client.disconnect()
    return connected, time.monotonic() - start


@pytest.mark.parametrize("namespace,auth", [
    (NS_COUNTER, {"counter": 1, "token": TOKENS[1] + "\ud800"}),
    (NS_COUNTER, {"counter": 1, "token": "\udfff"}),
    (NS_DISPLAY, {"display": "lobby\ud800"}),
    (NS_DISPLAY, {"display": "\udc00" * 50}),
])  # fmt: skip
def test_lone_surrogates_in_connect_auth_are_refused_at_once(live_server, namespace, auth):
    connected, seconds = live_connect(live_server.url, namespace, auth)
    assert not connected
    assert seconds < 6  # the refusal came: not the client's own 8 s wait for an answer
    ok, _ = live_connect(live_server.url, NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert ok  # the server is still serving


def test_a_malformed_packet_writes_one_log_line(socket_client, caplog):
    sc = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    caplog.set_level(logging.DEBUG)
    for raw in ['2/counter,7["call_next",', "2/counter,7[5]", "2/counter,7" + "[" * 3000,
                '2/counter,7["connect",{}]', "9junk"]:  # fmt: skip
        caplog.clear()
        socketio.server._handle_eio_message(sc.eio_sid, raw)
        assert len(caplog.records) == 1, [r.getMessage() for r in caplog.records]


def assert_no_forged_lines(records) -> None:
    for record in records:
        message = record.getMessage()
        assert message.isprintable(), repr(message)  # no newline, CR, NEL, LS, PS, ESC ...


FORGERS = ["lobby\u2028INFO server: admin logged in", "lobby\x85ERROR forged",
           "lobby\u2029x", "lobby\u202ex"]  # fmt: skip


@pytest.mark.parametrize("name", FORGERS)
def test_display_names_cannot_forge_log_lines(socket_client, caplog, name):
    caplog.set_level(logging.DEBUG)
    socket_client(NS_DISPLAY, {"display": name})
    assert caplog.records
    assert_no_forged_lines(caplog.records)


@pytest.mark.parametrize(
    "path",
    ["/api/tickets/x%0AINFO%20forged/1", "/api/nope%0D%0Aforged", "/api/counters/1/x%E2%80%A8y"],
)
def test_addresses_cannot_forge_log_lines(client, caplog, path):
    caplog.set_level(logging.DEBUG)
    client.post(path, json={}, headers=AUTH[1])
    client.get(path, headers=AUTH[1])
    assert_no_forged_lines(caplog.records)


def test_usernames_cannot_forge_log_lines(client, caplog):
    from test_admin_pages import csrf_token

    caplog.set_level(logging.DEBUG)
    client.post("/login", data={"username": "x\nINFO forged\u2028y", "password": "p",
                                "csrf_token": csrf_token(client)})  # fmt: skip
    assert any("x" in r.getMessage() for r in caplog.records)
    assert_no_forged_lines(caplog.records)


def test_one_helper_escapes_logged_text():
    from server.logtext import shown

    assert shown("a\nb\x00c\u2028d\ud800") == "a\\nb\\x00c\\u2028d\\ud800"
    assert shown("Gerai Satu é") == "Gerai Satu é"
    assert len(shown("x" * 1000)) < 200


# --- 6. control characters in admin-set names ---------------------------------------------------

CONTROL = ["Dukcapil\x00", "Duk\x00capil", "Duk\x07capil", "Duk\x1bcapil", "Duk\x7fcapil"]


def field_error(response, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else ""


@pytest.mark.parametrize("name", CONTROL)
def test_admin_forms_refuse_control_characters_in_names(admin, hub, name):
    agency = post(admin, "/admin/agencies/dukcapil", {"name": name})
    assert agency.status_code == 400 and "karakter kendali" in field_error(agency, "name")
    assert hub.hall.agencies["dukcapil"].name == "Dukcapil"
    form = {"name": name, "spoken_name": "gerai satu", "services": ["ktp"], "order_ktp": "1",
            "active": "on"}  # fmt: skip
    counter = post(admin, "/admin/counters/1", form)
    assert counter.status_code == 400 and "karakter kendali" in field_error(counter, "name")
    spoken = post(admin, "/admin/counters/1", {**form, "name": "Gerai 1", "spoken_name": name})
    assert "karakter kendali" in field_error(spoken, "spoken_name")
    assert hub.hall.counters[1].name == "Gerai 1"
    service = post(admin, "/admin/services/ktp", {"name": name, "agency": "dukcapil", "prefix": "A",
                                                   "hours": "07:30-16:00", "active": "on"})  # fmt: skip
    assert "karakter kendali" in field_error(service, "name")
    assert hub.hall.services["ktp"].name == "KTP"


def test_the_hall_name_refuses_control_characters(admin, hub):
    from test_admin_pages import SETTINGS

    for field in ("name", "running_text"):
        response = post(admin, "/admin/settings", {**SETTINGS, field: "MPP\x00 Uji"})
        assert response.status_code == 400
        assert "karakter kendali" in field_error(response, field)
    assert hub.settings["hall.name"] == "MPP Uji"


@pytest.mark.parametrize(
    "section,change",
    [
        ("hall", {"name": "MPP\x00"}),
        ("agencies", [{"code": "dukcapil", "name": "Duk\x00capil"}]),
        ("services", [{"code": "ktp", "agency": "dukcapil", "name": "KTP\x00", "prefix": "A"}]),
        ("counters", [{"number": 1, "name": "Gerai\x001", "services": ["ktp"], "token": "t" * 20}]),
        (
            "counters",
            [
                {
                    "number": 1,
                    "name": "Gerai 1",
                    "spoken_name": "satu\x1b",
                    "services": ["ktp"],
                    "token": "t" * 20,
                }
            ],
        ),
    ],
)
def test_config_refuses_control_characters_in_names(tmp_path, section, change):
    raw = hall_config(tmp_path)
    if section == "agencies":
        raw["agencies"] = change + raw["agencies"][1:]
    elif section == "services":
        raw["services"] = change
        raw["counters"] = [{**c, "services": ["ktp"]} for c in raw["counters"]]
        raw["users"] = [u for u in raw["users"] if u.get("counter") != 3]
    elif section == "counters":
        raw["counters"] = change + raw["counters"][1:]
    else:
        raw["hall"] = {**raw["hall"], **change}
    with pytest.raises(ConfigError, match="control character"):
        parse_config(raw, base_dir=tmp_path)


# --- 7. a read-only database, a full disk ---------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    raw = hall_config(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("fresh", [True, False])
def test_a_read_only_database_stops_the_start_with_one_clear_line(tmp_path, capsys, monkeypatch,
                                                                 fresh):  # fmt: skip
    """The server runs as root in this test box, so the file is opened read-only by SQLite itself."""
    from server import storage
    from server.__main__ import main

    config = write_config(tmp_path)
    database = tmp_path / "panggil.sqlite"
    if not fresh:  # a database that is migrated and seeded already
        from server.app import create_app

        app = create_app(parse_config(hall_config(tmp_path), base_dir=tmp_path), start_ticker=False)
        app.extensions["panggil"].storage.close()
    else:
        storage.Storage(database).close()
    real = sqlite3.connect
    monkeypatch.setattr(storage.sqlite3, "connect", lambda path, *a, **k: real(
        f"file:{path}?mode=ro", *a, uri=True, **k))  # fmt: skip
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and str(database) in lines[0] and "read-only" in lines[0], err


def fill_the_disk(hub) -> None:
    """SQLite's page limit at the pages it has: the next write that needs a page fails (SQLITE_FULL)."""
    with hub.lock:
        pages = hub.storage.db.execute("PRAGMA page_count").fetchone()[0]
        hub.storage.db.execute(f"PRAGMA max_page_count = {pages}")


def free_the_disk(hub) -> None:
    with hub.lock:
        hub.storage.db.execute("PRAGMA max_page_count = 1073741823")


def test_a_full_disk_makes_health_503_and_writes_answer_clearly(client, hub):
    assert client.get("/api/health").status_code == 200
    fill_the_disk(hub)
    seq, hall = hub.seq, hub.hall
    refused = []
    for _ in range(400):  # until a write needs a new page
        response = api_post(client, "/api/tickets", {"service": "ktp"})
        if response.status_code != 201:
            refused.append(response)
            break
    assert refused, "the page limit never bit"
    response = refused[0]
    assert response.status_code == 503 and response.get_json()["error"] == "storage-full"
    assert protocol.ERRORS["storage-full"][0] == 503
    health = client.get("/api/health")
    assert health.status_code == 503 and health.get_json()["error"] == "storage-full"
    assert health.get_json()["ok"] is False
    seq, hall = hub.seq, hub.hall
    again = api_post(client, "/api/counters/1/call_next", {"request_id": "full-1"}, AUTH[1])
    assert again.status_code in (409, 503)
    if again.status_code == 503:
        assert again.get_json()["error"] == "storage-full" and (hub.seq, hub.hall) == (seq, hall)
    free_the_disk(hub)
    assert client.get("/api/health").status_code == 200
    assert api_post(client, "/api/tickets", {"service": "ktp"}).status_code == 201


def test_health_is_503_while_full_even_before_any_write_failed(client, hub):
    """A probe write (rolled back) tells the truth; the flag of a failed write alone would not."""
    fill_the_disk(hub)
    response = client.get("/api/health")
    assert response.status_code == 503 and response.get_json()["error"] == "storage-full"
    free_the_disk(hub)
    assert client.get("/api/health").status_code == 200
