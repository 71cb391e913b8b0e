"""The admin pages through Flask's test client: CRUD, validation in Indonesian, roles, audit, live changes."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import pytest

from server import protocol
from server.protocol import NS_COUNTER, NS_DISPLAY
from server.storage import Storage
from tests.conftest import TOKENS

ROOT = Path(__file__).resolve().parent.parent


def csrf_token(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client, username: str, password: str) -> None:
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2 with the smallest cost: the same hashes and checks, without seconds per test."""
    from argon2 import PasswordHasher

    from server import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def display(socket_client):
    """A TV display on /display; its snapshot is already read."""
    sc = socket_client(NS_DISPLAY, {"display": "lobby-1"})
    sc.get_received(NS_DISPLAY)
    return sc


def received(sc, name: str) -> list[dict]:
    return [m["args"][0] for m in sc.get_received(NS_DISPLAY) if m["name"] == name]


def rows(hub, sql: str, params=()) -> list[dict]:
    return hub.read(lambda s: list(s.db.query(sql, list(params))))


def audit_actions(hub) -> list[tuple]:
    return [
        (r["user"], r["action"], r["target"])
        for r in rows(hub, "SELECT * FROM audit_log WHERE action != 'login'")
    ]


def text(response) -> str:
    return response.get_data(as_text=True)


SERVICE = {"code": "paspor-baru", "agency": "imigrasi", "name": "Paspor Baru", "prefix": "P",
           "daily_quota": "80", "hours": "07:30-12:00,13:00-16:00", "hours_fri": "07:30-11:30,13:30-16:00",
           "hours_sat": "-", "hours_sun": "-", "priority_allowed": "on", "active": "on"}  # fmt: skip


# --- who may enter --------------------------------------------------------------------------------


def admin_urls(app) -> list[tuple[str, str]]:
    fill = {"code": "ktp", "number": "1", "user_id": "1", "name": "lobby-1"}
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: fill[m.group(1)], rule.rule)
        urls += [(method, path) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


def test_every_admin_url_is_covered(app):
    urls = admin_urls(app)
    assert ("GET", "/admin/") in urls and ("POST", "/admin/settings/logo") in urls
    assert len(urls) >= 25


@pytest.mark.parametrize("who", ["anonymous", "officer"])
def test_officers_get_403_and_anonymous_users_go_to_login(app, client, hub, who):
    if who == "officer":
        log_in(client, "petugas1", "petugas-secret")
    before = rows(hub, "SELECT count(*) AS n FROM audit_log")
    for method, path in admin_urls(app):
        if method == "GET":
            response = client.get(path)
        else:
            response = post(client, path, {"name": "x", "code": "x", "prefix": "Z"})
        if who == "officer":
            assert response.status_code == 403, (method, path)
            assert "Akses ditolak" in text(response)
        else:
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/login"), (method, path)
    assert rows(hub, "SELECT count(*) AS n FROM audit_log") == before
    assert "X" not in {s.name for s in hub.hall.services.values()}


def test_officer_json_request_gets_403_json(client):
    log_in(client, "petugas1", "petugas-secret")
    response = client.get("/admin/displays.json", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"


def test_post_without_csrf_token_is_refused(admin, hub):
    response = admin.post("/admin/agencies", data={"code": "bpjs", "name": "BPJS"})
    assert response.status_code == 400 and "kedaluwarsa" in text(response)
    assert "bpjs" not in hub.hall.agencies


def test_admin_login_lands_on_the_monitor(client):
    response = client.post("/login", data={"username": "admin", "password": "admin-secret",
                                           "csrf_token": csrf_token(client)})  # fmt: skip
    assert response.headers["Location"] == "/admin/"
    page = text(client.get("/admin/"))
    assert "Pemantauan langsung" in page and "socket.io.min.js" in page and "admin.js" in page


# --- agencies ---------------------------------------------------------------------------------------


def test_agency_create_rename_delete_with_audit_and_live_broadcast(admin, hub, display):
    response = post(admin, "/admin/agencies", {"code": "bpjs", "name": "BPJS Kesehatan"})
    assert response.status_code == 302
    assert hub.hall.agencies["bpjs"].name == "BPJS Kesehatan"
    changed = received(display, protocol.HALL_CHANGED)
    assert [c["what"] for c in changed] == ["catalogue"] and changed[0]["seq"] == hub.seq
    assert "BPJS Kesehatan" in text(admin.get("/admin/agencies"))

    post(admin, "/admin/agencies/bpjs", {"name": "BPJS Ketenagakerjaan"})
    assert hub.hall.agencies["bpjs"].name == "BPJS Ketenagakerjaan"
    post(admin, "/admin/agencies/bpjs/delete")
    assert "bpjs" not in hub.hall.agencies
    assert audit_actions(hub) == [("admin", "agency.create", "bpjs"), ("admin", "agency.update", "bpjs"),
                                  ("admin", "agency.delete", "bpjs")]  # fmt: skip
    detail = rows(hub, "SELECT detail FROM audit_log WHERE action = 'agency.update'")[0]["detail"]
    assert "BPJS Kesehatan" in detail and "BPJS Ketenagakerjaan" in detail


def test_agency_with_services_is_not_deleted(admin, hub):
    response = post(admin, "/admin/agencies/dukcapil/delete", follow_redirects=True)
    assert "masih punya layanan" in text(response)
    assert "dukcapil" in hub.hall.agencies


def test_duplicate_agency_code_is_refused_next_to_the_field(admin, hub):
    response = post(admin, "/admin/agencies", {"code": "dukcapil", "name": "Lain"})
    assert response.status_code == 400
    assert re.search(r'id="code-error"[^>]*>Kode ini sudah dipakai\.<', text(response))
    assert hub.hall.agencies["dukcapil"].name == "Dukcapil"


# --- services ---------------------------------------------------------------------------------------


def test_service_create_with_hours_then_edit(admin, hub, display):
    response = post(admin, "/admin/services/new", SERVICE)
    assert response.status_code == 302, text(response)
    service = hub.hall.services["paspor-baru"]
    assert service.prefix == "P" and service.daily_quota == 80 and service.priority_allowed
    assert service.hours[4] == ((450, 690), (810, 960)) and service.hours[6] == ()
    assert received(display, protocol.HALL_CHANGED)
    listing = text(admin.get("/admin/services"))
    assert "Paspor Baru" in listing and "07:30-11:30,13:30-16:00" in listing

    form = text(admin.get("/admin/services/paspor-baru"))
    assert 'value="07:30-12:00,13:00-16:00"' in form and 'value="07:30-11:30,13:30-16:00"' in form

    edit = {**SERVICE, "name": "Paspor", "prefix": "PB", "daily_quota": ""}
    edit.pop("active")  # unticked: the service closes
    assert post(admin, "/admin/services/paspor-baru", edit).status_code == 302
    service = hub.hall.services["paspor-baru"]
    assert (service.name, service.prefix, service.daily_quota, service.active) == (
        "Paspor",
        "PB",
        None,
        False,
    )
    detail = rows(hub, "SELECT detail FROM audit_log WHERE action = 'service.update'")[0]["detail"]
    assert '"prefix": ["P", "PB"]' in detail


def test_closed_service_refuses_tickets_live(admin, hub):
    form = {
        **SERVICE,
        "code": "ktp",
        "agency": "dukcapil",
        "name": "KTP",
        "prefix": "A",
        "hours": "",
    }
    for key in ("active", "hours_fri", "hours_sat", "hours_sun"):
        form.pop(key)
    assert post(admin, "/admin/services/ktp", form).status_code == 302
    with pytest.raises(protocol.PanggilError) as info:
        hub.issue("ktp")
    assert info.value.code == "service-closed"


def test_duplicate_prefix_is_refused_in_indonesian_and_nothing_is_saved(admin, hub, display):
    before = rows(hub, "SELECT * FROM services ORDER BY code")
    response = post(admin, "/admin/services/new", {**SERVICE, "prefix": "A"})
    assert response.status_code == 400
    page = text(response)
    assert re.search(r'id="prefix-error"[^>]*>Awalan A sudah dipakai oleh layanan KTP\.<', page)
    assert 'value="Paspor Baru"' in page  # what was typed stays in the form
    assert rows(hub, "SELECT * FROM services ORDER BY code") == before
    assert received(display, protocol.HALL_CHANGED) == []
    assert audit_actions(hub) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours", "07.30 sampai 12", "Tulis jam seperti 07:30-12:00,13:00-16:00."),
        ("hours", "12:00-07:30", "12:00-07:30 berakhir sebelum dimulai."),
        ("daily_quota", "-5", "Bilangan bulat dari 1 sampai 100000."),
        ("prefix", "P1", "Satu atau dua huruf kapital (A-Z)."),
        ("name", "", "Wajib diisi."),
        ("agency", "", "Wajib diisi."),
    ],
)
def test_service_errors_are_shown_next_to_the_field(admin, field, value, message):
    response = post(admin, "/admin/services/new", {**SERVICE, field: value})
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}<', text(response)), text(
        response
    )


def test_errors_in_english_on_request(admin):
    response = post(admin, "/admin/services/new?lang=en", {**SERVICE, "prefix": "A"})
    assert "Prefix A is already used by KTP." in text(response)


# --- nothing half-saved --------------------------------------------------------------------------


def test_a_failing_save_leaves_the_database_and_the_hall_unchanged(
    admin, hub, display, monkeypatch
):
    tables = ("services", "counters", "counter_services", "audit_log", "events", "settings")
    before = {t: rows(hub, f"SELECT * FROM {t}") for t in tables}
    hall_before, seq_before = hub.hall, hub.seq

    def broken_audit(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(
        Storage, "add_audit", broken_audit
    )  # fails after the service row is written
    response = post(admin, "/admin/services/new", SERVICE)
    assert response.status_code == 500
    assert "Perubahan gagal disimpan; tidak ada yang berubah." in text(response)
    response = post(
        admin, "/admin/counters/new", {"number": "9", "name": "Gerai 9", "services": ["ktp", "kk"]}
    )
    assert response.status_code == 500
    response = post(admin, "/admin/settings", {"name": "Baru", "running_text": "", "template": "{ticket}",
                                               "recall_template": "{ticket}", "number_mode": "words",
                                               "engine": "espeak", "repeat": "1"})  # fmt: skip
    assert response.status_code == 500
    assert {t: rows(hub, f"SELECT * FROM {t}") for t in tables} == before
    assert hub.hall is hall_before and hub.seq == seq_before
    assert received(display, protocol.HALL_CHANGED) == []


# --- counters ----------------------------------------------------------------------------------------


def test_counter_create_gets_a_token_and_a_pairing_qr(admin, hub):
    form = {"number": "4", "name": "Gerai 4", "spoken_name": "gerai empat", "services": ["paspor", "ktp"],
            "order_ktp": "1", "active": "on"}  # fmt: skip
    response = post(admin, "/admin/counters/new", form)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/counters/4"
    counter = hub.hall.counters[4]
    assert counter.services == ("ktp", "paspor") and counter.spoken_name == "gerai empat"
    token = hub.tokens[4]
    assert len(token) >= 16 and hub.check_token(4, token) == 4
    page = text(admin.get("/admin/counters/4"))
    assert token in page and "<svg" in page and "Buat token baru" in page
    assert "panggil:counter?server=http" in page
    assert audit_actions(hub) == [("admin", "counter.create", "4")]


def test_duplicate_counter_number_is_refused(admin, hub):
    response = post(
        admin, "/admin/counters/new", {"number": "2", "name": "Gerai Dua", "services": ["ktp"]}
    )
    assert response.status_code == 400
    assert re.search(r'id="number-error"[^>]*>Gerai 2 sudah ada\.<', text(response))
    assert hub.hall.counters[2].name == "Gerai 2"


def test_counter_needs_a_service(admin):
    response = post(admin, "/admin/counters/new", {"number": "8", "name": "Gerai 8"})
    assert re.search(r'id="services-error"[^>]*>Pilih minimal satu layanan\.<', text(response))


def test_counter_edit_changes_services_and_reaches_displays(admin, hub, display):
    form = {"name": "Loket 1", "spoken_name": "loket satu", "services": ["kk", "ktp"], "order_kk": "1",
            "order_ktp": "2", "active": "on"}  # fmt: skip
    assert post(admin, "/admin/counters/1", form).status_code == 302
    assert hub.hall.counters[1].services == ("kk", "ktp") and hub.hall.counters[1].name == "Loket 1"
    assert received(display, protocol.HALL_CHANGED)
    display.emit(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY)
    snap = received(display, protocol.SNAPSHOT)[-1]
    assert snap["counters"][0]["name"] == "Loket 1"
    assert hub.tokens[1] == TOKENS[1]  # editing keeps the token


def test_a_counter_deactivated_live_leaves_the_displays(admin, hub, display):
    form = {"name": "Gerai 2", "spoken_name": "gerai dua", "services": ["ktp"], "order_ktp": "1"}
    assert post(admin, "/admin/counters/2", form).status_code == 302  # no "active": off
    assert hub.hall.counters[2].active is False
    assert received(display, protocol.HALL_CHANGED)
    display.emit(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY)
    snap = received(display, protocol.SNAPSHOT)[-1]
    assert [c["number"] for c in snap["counters"]] == [1, 3]
    assert [c["number"] for c in admin.get("/api/snapshot").get_json()["counters"]] == [1, 3]


def test_regenerate_token_refuses_the_old_device(admin, hub, socket_client):
    device = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert device.is_connected(NS_COUNTER)
    response = post(admin, "/admin/counters/1/token")
    assert response.status_code == 302
    assert hub.tokens[1] != TOKENS[1]
    with pytest.raises(protocol.PanggilError):
        hub.check_token(1, TOKENS[1])
    assert not device.is_connected(NS_COUNTER)
    assert audit_actions(hub) == [("admin", "counter.token", "1")]
    assert TOKENS[1] not in rows(hub, "SELECT detail FROM audit_log")[-1]["detail"]


# --- displays -----------------------------------------------------------------------------------------


def test_display_settings_online_state_and_last_seen(admin, hub, socket_client):
    assert (
        post(admin, "/admin/displays/new", {"name": "lobby-1", "counters": ["1", "2"]}).status_code
        == 302
    )
    saved = rows(hub, "SELECT * FROM displays")
    assert saved == [
        {
            "name": "lobby-1",
            "counters": "[1, 2]",
            "services": None,
            "last_seen": None,
            "address": None,
            "version": None,
        }
    ]
    assert "luring" in text(admin.get("/admin/displays"))

    screen = socket_client(NS_DISPLAY, {"display": "lobby-1"})
    status = admin.get("/admin/displays.json").get_json()
    assert status["online"] == 1 and status["displays"][0]["online"] is True
    screen.disconnect(NS_DISPLAY)
    assert rows(hub, "SELECT last_seen FROM displays")[0]["last_seen"].startswith(
        "2026-11-26T09:00"
    )
    assert admin.get("/admin/displays.json").get_json()["online"] == 0

    assert post(admin, "/admin/displays/lobby-1", {"services": ["paspor"]}).status_code == 302
    assert rows(hub, "SELECT counters, services FROM displays") == [
        {"counters": None, "services": '["paspor"]'}
    ]
    response = post(admin, "/admin/displays/new", {"name": "lobby-1"})
    assert re.search(r'id="name-error"[^>]*>Nama ini sudah dipakai\.<', text(response))
    post(admin, "/admin/displays/lobby-1/delete")
    assert rows(hub, "SELECT * FROM displays") == []
    assert [a[1] for a in audit_actions(hub)] == [
        "display.create",
        "display.update",
        "display.delete",
    ]


def test_unconfigured_connections_are_listed_apart(admin, socket_client):
    socket_client(NS_DISPLAY, {"display": "tv-lantai-2"})
    status = admin.get("/admin/displays.json").get_json()
    assert status["displays"] == [] and [o["name"] for o in status["others"]] == ["tv-lantai-2"]
    assert "tv-lantai-2" in text(admin.get("/admin/displays"))


# --- users -----------------------------------------------------------------------------------------------


def test_user_create_edit_and_password_reset(admin, hub, app):
    new = {"username": "petugas2", "full_name": "Siti", "role": "officer", "counter": "2",
           "password": "rahasia-123", "password2": "rahasia-123"}  # fmt: skip
    assert post(admin, "/admin/users/new", new).status_code == 302
    user = hub.read(lambda s: s.find_user(username="petugas2"))
    assert user["counter"] == 2 and user["password_hash"].startswith("$argon2")
    other = app.test_client()
    log_in(other, "petugas2", "rahasia-123")

    edit = {"full_name": "Siti A.", "role": "officer", "counter": "", "active": ""}
    assert post(admin, f"/admin/users/{user['id']}", edit).status_code == 302
    user = hub.read(lambda s: s.find_user(username="petugas2"))
    assert user["active"] == 0 and user["counter"] is None
    assert (
        other.get("/login").status_code == 200 and other.get("/admin/").status_code == 302
    )  # logged out

    post(admin, f"/admin/users/{user['id']}", {**edit, "active": "on"})
    response = post(
        admin,
        f"/admin/users/{user['id']}/password",
        {"password": "baru-sekali", "password2": "baru-sekali"},
    )
    assert response.status_code == 302
    log_in(app.test_client(), "petugas2", "baru-sekali")
    actions = [a[1] for a in audit_actions(hub)]
    assert actions == ["user.create", "user.update", "user.update", "user.password"]
    assert "baru-sekali" not in str(rows(hub, "SELECT detail FROM audit_log"))


def test_duplicate_username_and_short_password_are_refused(admin):
    response = post(admin, "/admin/users/new", {"username": "Admin", "role": "admin", "password": "pendek",
                                                "password2": "pendek"})  # fmt: skip
    page = text(response)
    assert response.status_code == 400
    assert "Nama pengguna ini sudah dipakai." in page and "Dari 10 sampai 200 karakter." in page
    assert "pendek" not in page  # passwords are never sent back


def test_admin_cannot_deactivate_or_demote_themselves(admin, hub):
    response = post(admin, "/admin/users/1", {"full_name": "Admin Uji", "role": "admin"})
    assert "Anda tidak dapat menonaktifkan diri sendiri." in text(response)
    response = post(
        admin, "/admin/users/1", {"full_name": "Admin Uji", "role": "officer", "active": "on"}
    )
    assert "Anda tidak dapat mencabut peran admin Anda sendiri." in text(response)
    assert hub.read(lambda s: s.find_user(user_id=1))["role"] == "admin"


def test_the_last_admin_stays(admin, hub, app):
    second = {
        "username": "admin2",
        "role": "admin",
        "password": "rahasia-123",
        "password2": "rahasia-123",
    }
    post(admin, "/admin/users/new", second)
    other = app.test_client()
    log_in(other, "admin2", "rahasia-123")
    assert (
        post(other, "/admin/users/1", {"role": "officer", "active": "on"}).status_code == 302
    )  # one remains
    response = post(admin, "/admin/users/1", {"role": "admin", "active": "on"})
    assert response.status_code == 403  # admin is an officer now
    admin2 = hub.read(lambda s: s.find_user(username="admin2"))
    response = post(other, f"/admin/users/{admin2['id']}", {"role": "officer", "active": "on"})
    assert "Anda tidak dapat mencabut peran admin Anda sendiri." in text(response)


# --- settings -------------------------------------------------------------------------------------------

SETTINGS = {"name": "MPP Kota Uji", "running_text": "Loket tutup pukul 16.00", "number_mode": "digits",
            "template": "Nomor antrean {ticket}, silakan ke {counter}.", "engine": "espeak", "repeat": "2",
            "recall_template": "Panggilan ulang, nomor antrean {ticket}, silakan ke {counter}."}  # fmt: skip


def test_settings_reach_a_display_live(admin, hub, display):
    response = post(admin, "/admin/settings", SETTINGS)
    assert response.status_code == 302, text(response)
    changed = received(display, protocol.HALL_CHANGED)
    assert [c["what"] for c in changed] == ["settings"]
    ack = display.emit(protocol.GET_SNAPSHOT, namespace=NS_DISPLAY, callback=True)
    assert ack["ok"] is True
    snap = received(display, protocol.SNAPSHOT)[-1]
    assert (
        snap["hall"]["name"] == "MPP Kota Uji"
        and snap["hall"]["running_text"] == "Loket tutup pukul 16.00"
    )
    assert hub.settings["voice"]["number_mode"] == "digits" and hub.settings["voice"]["repeat"] == 2
    assert "MPP Kota Uji" in text(admin.get("/admin/settings"))  # the top bar too
    detail = rows(hub, "SELECT detail FROM audit_log WHERE action = 'settings.update'")[0]["detail"]
    assert '"hall.name": ["MPP Uji", "MPP Kota Uji"]' in detail


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("template", "Silakan ke {counter}", "Kalimat harus menyebut nomor: cantumkan {ticket}."),
        (
            "template",
            "Nomor {nomor}",
            "Isian {nomor} tidak dikenal; gunakan {ticket} {counter} {service} {agency}.",
        ),
        (
            "template",
            "Nomor {ticket!r}",
            "Tulis {ticket} apa adanya, tanpa : atau ! setelah namanya.",
        ),
        ("repeat", "4", "Bilangan bulat dari 1 sampai 3."),
        ("name", "", "Wajib diisi."),
    ],
)
def test_settings_errors_next_to_the_field(admin, hub, field, value, message):
    response = post(admin, "/admin/settings", {**SETTINGS, field: value})
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}<', text(response)), text(
        response
    )
    assert hub.settings["hall.name"] == "MPP Uji"


def test_the_voice_module_judges_voice_settings_when_present(admin, hub, monkeypatch):
    import sys
    import types

    voice = types.ModuleType("server.voice")

    def validate_voice_settings(settings):
        if settings.get("engine") == "gtts":
            raise ValueError("voice.engine: no internet in this hall")
        if settings.get("repeat") == 3:
            raise ValueError("voice.voice: espeak-ng has no voice 'xx'")
        return settings

    voice.validate_voice_settings = validate_voice_settings
    monkeypatch.setitem(sys.modules, "server.voice", voice)
    response = post(admin, "/admin/settings", {**SETTINGS, "engine": "gtts"})
    assert response.status_code == 400
    assert re.search(
        r'id="engine-error"[^>]*>Ditolak oleh modul suara: no internet in this hall<',
        text(response),
    )
    response = post(admin, "/admin/settings", {**SETTINGS, "repeat": "3"})
    assert "Ditolak oleh modul suara: espeak-ng has no voice" in text(response)
    assert post(admin, "/admin/settings", SETTINGS).status_code == 302
    assert hub.settings["voice"]["engine"] == "espeak"


def png(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(size)


def test_logo_upload_is_served_without_login_and_announced(admin, app, hub, display):
    data = png(40_000)  # larger than server.max_payload_bytes: the upload has its own limit
    response = admin.post(
        "/admin/settings/logo",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(admin), "logo": (io.BytesIO(data), "logo.png")},
    )
    assert response.status_code == 302, text(response)
    url = hub.settings["hall.logo_url"]
    assert re.fullmatch(r"/media/logo-[0-9a-f]{12}\.png", url)
    assert received(display, protocol.HALL_CHANGED)[0]["what"] == "settings"
    served = app.test_client().get(url)
    assert served.status_code == 200 and served.data == data and served.mimetype == "image/png"
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert app.test_client().get("/media/logo-000000000000.png").status_code == 404
    post(admin, "/admin/settings/logo/delete")
    assert "hall.logo_url" not in hub.settings and app.test_client().get(url).status_code == 404


def test_bad_logo_is_refused_in_indonesian(admin, hub):
    response = admin.post(
        "/admin/settings/logo",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(admin), "logo": (io.BytesIO(b"GIF89a"), "logo.gif")},
    )
    assert response.status_code == 400 and "Pilih berkas PNG, JPEG atau SVG." in text(response)
    response = admin.post(
        "/admin/settings/logo",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(admin), "logo": (io.BytesIO(png(600_000)), "big.png")},
    )
    assert response.status_code == 400 and "Berkas lebih besar dari 512 KB." in text(response)
    assert "hall.logo" not in hub.settings


# --- the day, the report, the audit log -------------------------------------------------------------------


def test_report_counts_and_times(admin, hub, clock):
    hub.issue("ktp")  # A001 at 09:00
    hub.issue("ktp")  # A002 at 09:00
    clock.advance(minutes=10)
    hub.command(1, "call_next", {}, "r1")  # A001 waited 10 min
    clock.advance(minutes=4)
    hub.command(1, "finish", {}, "r2")  # served in 4 min
    clock.advance(minutes=1)
    hub.command(1, "call_next", {}, "r3")  # A002 waited 15 min
    hub.command(1, "skip", {}, "r4")
    page = text(admin.get("/admin/day"))
    row = re.search(r"<tr><td>KTP</td>(.*?)</tr>", page, re.DOTALL).group(1)
    assert re.findall(r">([^<]+)</td>", row) == ["2", "1", "1", "0", "0", "12:30", "4:00"]
    # The day's file is the period report's CSV of that one day: one export, one format.
    response = admin.get("/admin/day/report.csv?day=2026-11-26", follow_redirects=True)
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith(
        "kelompok;kode;nama;diambil;dilayani;dilewati;dibatalkan;kedaluwarsa"
    )
    ktp = next(line.split(";") for line in lines if line.startswith("Layanan;ktp;"))
    assert ktp[3:8] == ["2", "1", "1", "0", "0"] and ktp[8] == "12,50"  # minutes, decimal comma


def test_close_day_expires_open_tickets_keeps_history_and_audits(admin, hub, display):
    hub.issue("ktp")
    hub.issue("kk")
    display.get_received(NS_DISPLAY)
    response = post(admin, "/admin/day")
    assert response.status_code == 302
    assert hub.hall.tickets == {}
    assert [r["status"] for r in rows(hub, "SELECT status FROM tickets ORDER BY id")] == [
        "expired",
        "expired",
    ]
    names = [m["name"] for m in display.get_received(NS_DISPLAY)]
    assert names == [protocol.TICKET_EXPIRED, protocol.TICKET_EXPIRED, protocol.DAY_CLOSED]
    audit = rows(hub, "SELECT * FROM audit_log WHERE action = 'day.close'")
    assert (
        len(audit) == 1
        and audit[0]["target"] == "2026-11-26"
        and '"open_tickets": 2' in audit[0]["detail"]
    )
    page = text(admin.get("/admin/day?day=2026-11-26"))
    assert re.search(r"<tr><td>KTP</td><td class=\"num\">1</td>", page)


def test_a_failing_close_leaves_the_day_open(admin, hub, display, monkeypatch):
    hub.issue("ktp")
    display.get_received(NS_DISPLAY)

    def broken_audit(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Storage, "add_audit", broken_audit)
    response = post(admin, "/admin/day", follow_redirects=True)
    assert "Perubahan gagal disimpan" in text(response)
    assert len(hub.hall.tickets) == 1
    assert rows(hub, "SELECT status FROM tickets") == [{"status": "waiting"}]
    assert rows(hub, "SELECT closed_at FROM days") == [{"closed_at": None}]
    assert display.get_received(NS_DISPLAY) == []


def test_audit_page_lists_changes_newest_first(admin, hub):
    post(admin, "/admin/agencies", {"code": "pln", "name": "PLN"})
    post(admin, "/admin/agencies/pln", {"name": "PLN UP3"})
    page = text(admin.get("/admin/audit"))
    assert page.index("instansi diubah") < page.index("instansi ditambah") < page.index(">masuk<")
    assert "PLN UP3" in page


def test_monitor_page_carries_its_texts(admin):
    page = text(admin.get("/admin/"))
    texts = re.search(r'<script id="texts" type="application/json">(.*?)</script>', page).group(1)
    assert "Melayani" in texts and "Koneksi terputus" in texts


# --- translations ---------------------------------------------------------------------------------------


def test_every_admin_text_has_an_indonesian_translation():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    with open(ROOT / "server/translations/admin/id/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    core_path = ROOT / "server/translations/core/id/LC_MESSAGES/messages.po"
    with open(core_path, "rb") as f:
        translated |= {m.id for m in read_po(f) if m.id and m.string}
    wanted = set()
    method_map = [
        ("server/templates/admin/**.html", "jinja2"),
        ("server/pages/admin*.py", "python"),
    ]
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map):
        wanted.add(message if isinstance(message, str) else message[0])
    for path in (ROOT / "server/pages").glob("admin*.py"):
        wanted |= set(re.findall(r'Problem\(\s*"([^"]+)"', path.read_text()))
        wanted |= set(
            re.findall(
                r'save_(?:hall|other)\(\s*(?:"[a-z]+",\s*)?"([a-z_]+\.[a-z_]+)"', path.read_text()
            )
        )
    from server.pages.admin_common import NAV

    wanted |= {label for _endpoint, label in NAV} | {
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "day.close",
    }
    assert len(wanted) > 200
    assert sorted(wanted - translated) == []


def test_admin_texts_agree_with_the_other_catalogues():
    """Flask-Babel merges every area's catalogue: the same English text must read the same everywhere."""
    from babel.messages.pofile import read_po

    def load(path: Path) -> dict:
        with open(path, "rb") as f:
            return {m.id: m.string for m in read_po(f) if m.id}

    root = ROOT / "server/translations"
    mine = load(root / "admin/id/LC_MESSAGES/messages.po")
    clashes = []
    for path in sorted(root.glob("*/id/LC_MESSAGES/messages.po")):
        if path.parts[-4] != "admin":
            clashes += [
                (path.parts[-4], k, mine[k], v)
                for k, v in load(path).items()
                if mine.get(k, v) != v
            ]
    assert clashes == []


def test_settings_show_which_voice_spoke_the_last_call(admin, hub):
    import time

    hub.issue("ktp")
    hub.command(1, "call_next", {}, "voice-1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (hub.announcer.status().get("last_call") or {}).get(
        "engine"
    ):
        time.sleep(0.05)
    page = text(admin.get("/admin/settings"))
    assert "Suara saat ini" in page
    assert '<strong id="voice-last-engine">espeak</strong>' in page
    assert "Nomor antrean A satu, silakan ke gerai satu." in page
