"""Logging in: roles, CSRF, rate limiting, language switch."""

from __future__ import annotations

import re

import pytest


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client, username, password):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_login_page_is_indonesian_by_default_and_english_on_request(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Kata sandi" in html and "Masuk" in html
    english = client.get("/login?lang=en")
    assert "Password" in english.get_data(as_text=True)
    assert "lang=en" in english.headers.get("Set-Cookie", "")
    assert "Password" in client.get("/login").get_data(as_text=True)  # the cookie remembers


def test_login_without_csrf_token_is_refused(client, hub):
    response = client.post("/login", data={"username": "admin", "password": "admin-secret"})
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True)


def test_wrong_password_is_refused_in_indonesian(client):
    response = login(client, "admin", "not-the-password")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)


def test_admin_login_sets_session_and_audits(client, hub):
    response = login(client, "admin", "admin-secret")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["user_id"] == 1
    audit = hub.read(lambda s: list(s.db.query("SELECT user, action FROM audit_log")))
    assert audit == [{"user": "admin", "action": "login"}]


def test_passwords_are_stored_as_argon2_hashes(hub):
    users = hub.read(lambda s: s.list_users())
    assert {u["username"] for u in users} == {"admin", "petugas1", "petugas3"}
    for user in users:
        assert user["password_hash"].startswith("$argon2")
        assert "secret" not in user["password_hash"]


def test_login_is_rate_limited(client):
    for _ in range(5):
        assert login(client, "admin", "wrong-password").status_code == 401
    blocked = login(client, "admin", "admin-secret")  # even the right password waits
    assert blocked.status_code == 429
    assert "Terlalu banyak percobaan" in blocked.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/%09/evil.example/",
        "/%5Cevil.example",
        "/%0A/evil.example",
        "https://evil.example/",
        "/ /evil.example",
    ],
)
def test_next_parameter_only_redirects_locally(client, target):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(f"/login?next={target}",
                           data={"username": "admin", "password": "admin-secret", "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_next_parameter_keeps_a_local_page(client):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/login?next=/admin/services%3Fx%3D1",
                           data={"username": "admin", "password": "admin-secret", "csrf_token": token})  # fmt: skip
    assert response.headers["Location"] == "/admin/services?x=1"


@pytest.mark.parametrize("path", ["/nope", "/api/nope"])
def test_unknown_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api"):
        assert response.get_json()["ok"] is False
    else:
        assert "Halaman tidak ditemukan." in response.get_data(as_text=True)


def test_the_session_cookie_is_samesite_lax_and_http_only(client):
    answer = login(client, "admin", "admin-secret")
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_every_login_and_set_up_text_has_an_indonesian_translation():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from tests.conftest import ROOT

    with open(ROOT / "server/translations/core/id/LC_MESSAGES/messages.po", "rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    method_map = [("server/templates/auth/**.html", "jinja2"), ("server/pages/auth.py", "python")]
    wanted = {
        m if isinstance(m, str) else m[0]
        for *_, m, _c, _x in extract_from_dir(str(ROOT), method_map)
    }
    assert len(wanted) > 15
    assert sorted(wanted - translated) == []


def test_the_start_page_is_indonesian_by_default_and_english_on_request(client):
    from server.app import START_PAGES

    html = client.get("/").get_data(as_text=True)
    for title in ("Sistem antrean Panggil", "Anjungan antrean", "Layar ruang tunggu",
                  "Konsol petugas", "Panggil pengunjung berikutnya", "Administrasi"):  # fmt: skip
        assert title in html
    english = client.get("/?lang=en").get_data(as_text=True)
    for _endpoint, title, text in START_PAGES:
        assert str(title) not in html and str(text) not in html
        assert str(title) in english and str(text) in english


def test_every_start_page_text_has_an_indonesian_translation():
    """The start page, the shared layout and error pages use the core catalogue alone."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import read_po

    from tests.conftest import ROOT

    with open(ROOT / "server/translations/core/id/LC_MESSAGES/messages.po", "rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    method_map = [
        ("server/templates/index.html", "jinja2"),
        ("server/templates/base.html", "jinja2"),
        ("server/templates/error.html", "jinja2"),
        ("server/app.py", "python"),
    ]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    wanted = {
        m if isinstance(m, str) else m[0]
        for *_, m, _c, _x in extract_from_dir(str(ROOT), method_map, keywords=keywords)
    }
    assert {"Start", "Browser display", "Call the next visitor"} <= wanted
    assert sorted(wanted - translated) == []
