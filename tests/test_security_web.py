"""Issue 18, the web side: login redirects, revocable sessions, cookies, frames, socket origins,
cacheable secrets and error bodies (405, 414, /t/.../status)."""

from __future__ import annotations

import socket
from urllib.parse import quote

import pytest
import requests
from test_admin_pages import csrf_token, log_in, post

from server import protocol
from server.config import parse_config
from tests.conftest import hall_config

# --- 1. the login's `next` never leaves the hall ------------------------------------------------

LEAVING = ["//evil.example/", "/\\evil.example/", "/\t/evil.example/", "\\\\evil.example",
           "http:evil.example", "https://evil.example/", "///evil.example", "/\n/evil.example",
           "%2F%2Fevil.example", "javascript:alert(1)", " //evil.example",
           "/\\/evil.example", "\t//evil.example", "evil.example", "/\x00/evil.example"]  # fmt: skip


def login_with_next(client, target: str | None, raw: bool = False):
    """POST the login form with `next` in the query string (quoted unless `raw`)."""
    query = "" if target is None else "?next=" + (target if raw else quote(target, safe=""))
    data = {"username": "admin", "password": "admin-secret", "csrf_token": csrf_token(client)}
    return client.post("/login" + query, data=data)


def assert_stays_home(location: str) -> None:
    assert location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location
    assert all(c.isprintable() and c not in " \\" for c in location), repr(location)


@pytest.mark.parametrize("target", LEAVING)
def test_login_never_redirects_to_another_site(client, target):
    response = login_with_next(client, target)
    assert response.status_code == 302
    assert_stays_home(response.headers["Location"])
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", ["/%09/evil.example/", "%2F%2Fevil.example", "/%5Cevil.example",
                                    "%5C%5Cevil.example", "http%3Aevil.example"])  # fmt: skip
def test_login_never_redirects_to_another_site_raw_query(client, target):
    response = login_with_next(client, target, raw=True)
    assert_stays_home(response.headers["Location"])
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", ["/admin/counters", "/console?x=1", "/admin/users/1"])
def test_login_goes_back_to_a_local_page(client, target):
    assert login_with_next(client, target).headers["Location"] == target


# --- 2. a copied session cookie stops working -------------------------------------------------


def copy_session(app, source):
    """A second browser holding a copy of `source`'s session cookie."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def logged_in(client, path: str = "/admin/") -> bool:
    response = client.get(path)
    return response.status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app, client):
    log_in(client, "admin", "admin-secret")
    thief = copy_session(app, client)
    assert logged_in(thief)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert not logged_in(client)
    assert not logged_in(thief)
    assert thief.get("/admin/").headers["Location"].startswith("/login")


def test_logging_in_again_does_not_revive_an_old_copy(app, client):
    log_in(client, "admin", "admin-secret")
    thief = copy_session(app, client)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    log_in(client, "admin", "admin-secret")
    assert logged_in(client)
    assert not logged_in(thief)


def officer_and_admin(app):
    officer = app.test_client()
    log_in(officer, "petugas1", "petugas-secret")
    admin = app.test_client()
    log_in(admin, "admin", "admin-secret")
    return officer, copy_session(app, officer), admin


def test_a_password_reset_ends_every_session_of_that_user(app, hub):
    officer, thief, admin = officer_and_admin(app)
    assert logged_in(thief, "/console/1")
    user = hub.read(lambda s: s.find_user(username="petugas1"))
    response = post(admin, f"/admin/users/{user['id']}/password",
                    {"password": "another-secret-1", "password2": "another-secret-1"})  # fmt: skip
    assert response.status_code == 302
    assert not logged_in(thief, "/console/1")
    assert not logged_in(officer, "/console/1")
    assert logged_in(admin)  # the admin's own session is another user's


def test_deactivating_a_user_ends_their_sessions_even_after_reactivation(app, hub):
    officer, thief, admin = officer_and_admin(app)
    user = hub.read(lambda s: s.find_user(username="petugas1"))
    form = {"full_name": user["full_name"] or "", "role": "officer", "counter": "1"}
    assert post(admin, f"/admin/users/{user['id']}", form).status_code == 302  # no `active`
    assert not logged_in(thief, "/console/1")
    assert post(admin, f"/admin/users/{user['id']}", {**form, "active": "on"}).status_code == 302
    assert hub.read(lambda s: s.find_user(user_id=user["id"]))["active"]
    assert not logged_in(thief, "/console/1")
    assert not logged_in(officer, "/console/1")


def test_an_ordinary_edit_keeps_the_user_logged_in(app, hub):
    officer, thief, admin = officer_and_admin(app)
    user = hub.read(lambda s: s.find_user(username="petugas1"))
    form = {"full_name": "Petugas Satu", "role": "officer", "counter": "1", "active": "on"}
    assert post(admin, f"/admin/users/{user['id']}", form).status_code == 302
    assert logged_in(officer, "/console/1") and logged_in(thief, "/console/1")


def test_the_session_version_survives_a_restart(config, clock, tmp_path):
    """The version lives in the database (users.session_version), not in the process."""
    from server.app import create_app

    first = create_app(config, clock=clock, start_ticker=False)
    browser = first.test_client()
    log_in(browser, "admin", "admin-secret")
    cookie = browser.get_cookie("session").value
    browser.post("/logout", data={"csrf_token": csrf_token(browser)})
    first.extensions["panggil"].storage.close()
    second = create_app(config, clock=clock, start_ticker=False)
    try:
        thief = second.test_client()
        thief.set_cookie("session", cookie)
        assert not logged_in(thief)
    finally:
        second.extensions["panggil"].storage.close()


def test_the_session_cookie_is_samesite_lax_and_httponly(client):
    response = client.post("/login", data={"username": "admin", "password": "admin-secret",
                                           "csrf_token": csrf_token(client)})  # fmt: skip
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


# --- 3. frames and socket origins ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/kiosk", "/tv", "/admin/", "/console"])
def test_no_page_may_be_framed(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://localhost.evil.example",
        "https://localhost:5000",
        "http://localhost@evil.example",
    ],
)
def test_sockets_refuse_a_foreign_origin(client, origin):
    response = client.get(HANDSHAKE, headers={"Origin": origin})
    assert response.status_code == 400


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"}])
def test_sockets_accept_the_same_origin_and_clients_without_one(client, headers):
    """The Pi display and the counter client (python-socketio) send no Origin at all."""
    response = client.get(HANDSHAKE, headers=headers)
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("0{")


def test_behind_the_proxy_the_forwarded_origin_is_the_same_origin(client):
    headers = {"Origin": "https://antrian.mpp.example", "Host": "antrian.mpp.example",
               "X-Forwarded-Proto": "https"}  # fmt: skip
    assert client.get(HANDSHAKE, headers=headers).status_code == 200


def test_configured_extra_origins_are_accepted(tmp_path, clock):
    from server.app import create_app

    raw = hall_config(tmp_path, server={"allowed_origins": ["https://papan.mpp.example"]})
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    try:
        client = app.test_client()
        ok = client.get(HANDSHAKE, headers={"Origin": "https://papan.mpp.example"})
        assert ok.status_code == 200
        assert client.get(HANDSHAKE, headers={"Origin": "https://evil.example"}).status_code == 400
    finally:
        app.extensions["panggil"].storage.close()


@pytest.mark.parametrize("origin", ["papan.mpp.example", "https://x.example/path", "*"])
def test_an_extra_origin_must_be_scheme_and_host(tmp_path, origin):
    from server.config import ConfigError

    with pytest.raises(ConfigError, match="allowed_origins"):
        parse_config(hall_config(tmp_path, server={"allowed_origins": [origin]}), base_dir=tmp_path)


# --- 8. cache and error bodies -------------------------------------------------------------------


def test_the_admin_counter_page_with_its_token_is_never_stored(client):
    log_in(client, "admin", "admin-secret")
    response = client.get("/admin/counters/1")
    assert "token-counter-1" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/tickets", "/api/health", "/t/2026-11-26/A001/status"])
def test_a_wrong_method_is_method_not_allowed(client, path):
    response = client.put(path, json={})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method-not-allowed"
    assert protocol.ERRORS["method-not-allowed"][0] == 405


@pytest.mark.parametrize("path", ["/t/2026-11-26/A999/status", "/t/nope/A001/status",
                                  "/t/2026-11-26/A001/" + "x" * 40 + "/status"])  # fmt: skip
def test_ticket_status_404s_are_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == "unknown-ticket"


def raw_get(port: int, target: str) -> tuple[int, bytes, bytes]:
    """A GET with a request line as long as it is (requests would not send some of these)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_a_too_long_address_is_a_json_414(live_server_factory, async_mode):
    server = live_server_factory(async_mode).start()
    for path in ("/api/health?x=", "/t/2026-11-26/A001/status?x=", "/?x="):
        status, head, body = raw_get(server.port, path + "a" * 9000)
        assert status == 414, head
        assert b"application/json" in head.lower()
        assert b'"uri-too-long"' in body
    assert protocol.ERRORS["uri-too-long"][0] == 414
    assert requests.get(server.url + "/api/health?x=" + "a" * 1000, timeout=10).status_code == 200
