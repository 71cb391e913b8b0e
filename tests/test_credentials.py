"""Demo credentials stay in the demo: generated session key, refused demo values, the first admin."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
import yaml

from server import credentials
from server.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT, hall_config


def make_app(config, clock, demo=False):
    from server.app import create_app

    app = create_app(config, clock=clock, start_ticker=False, demo=demo)
    app.config["TESTING"] = True
    return app


def csrf(client, path):
    import re

    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# --- the session key ----------------------------------------------------------------------------


def test_a_missing_secret_key_is_generated_once_into_the_data_folder(tmp_path, clock):
    raw = hall_config(tmp_path)
    del raw["server"]["secret_key"]
    config = parse_config(raw, base_dir=tmp_path)
    app = make_app(config, clock)
    key_file = tmp_path / credentials.SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip() and len(app.secret_key) >= 48
    app.extensions["panggil"].storage.close()
    again = make_app(config, clock)  # a restart keeps the sessions valid
    assert again.secret_key == app.secret_key
    again.extensions["panggil"].storage.close()


def test_a_key_file_readable_by_others_is_tightened(tmp_path):
    path = tmp_path / credentials.SECRET_FILE
    path.write_text("x" * 64)
    os.chmod(path, 0o644)
    assert credentials.load_secret_key(tmp_path) == "x" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_short_key_file_is_refused(tmp_path):
    (tmp_path / credentials.SECRET_FILE).write_text("short")
    with pytest.raises(credentials.CredentialError, match="too short"):
        credentials.load_secret_key(tmp_path)


# --- demo values ---------------------------------------------------------------------------------


def test_the_shipped_config_is_refused_without_demo_naming_each_key():
    with pytest.raises(ConfigError) as err:
        load_config(ROOT / "config.yaml")
    message = str(err.value)
    for key in ("users.0.password", "users.1.password", "counters.0.token", "counters.4.token"):
        assert key in message
    assert "--demo" in message


@pytest.mark.parametrize(
    "path, value",
    [
        ("server.secret_key", "change-me-demo-secret-key-0123456789"),
        ("users.0.password", "admin-panggil"),
        ("counters.2.token", "demo-counter-3"),
    ],
)
def test_each_demo_value_is_named_outside_demo_and_accepted_in_it(tmp_path, path, value):
    from tests.test_config import break_config

    raw = break_config(tmp_path, path, value)
    with pytest.raises(ConfigError, match=path.replace(".", r"\.")):
        parse_config(raw)
    parse_config(raw, demo=True)


def test_a_production_start_with_the_shipped_config_exits_with_the_keys_named(tmp_path):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["server"]["database"] = str(tmp_path / "hall.sqlite")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "server", "--config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "users.0.password" in result.stderr and "counters.0.token" in result.stderr
    assert not (tmp_path / "hall.sqlite").exists()  # refused before anything was written


def test_a_database_made_by_the_demo_is_refused_without_demo(tmp_path, clock):
    raw = hall_config(tmp_path)
    demo = make_app(parse_config(raw, base_dir=tmp_path, demo=True), clock, demo=True)
    demo.extensions["panggil"].storage.close()
    with pytest.raises(credentials.CredentialError, match="--demo"):
        make_app(parse_config(raw, base_dir=tmp_path), clock)
    again = make_app(
        parse_config(raw, base_dir=tmp_path, demo=True), clock, demo=True
    )  # still a demo
    again.extensions["panggil"].storage.close()


def test_an_old_demo_database_is_found_by_its_credentials(tmp_path, clock):
    """A demo database from before the demo marker: its users still open with the demo password."""
    raw = hall_config(tmp_path)
    raw["users"][0]["password"] = "admin-panggil"
    raw["counters"][1]["token"] = "demo-counter-2"
    old = make_app(parse_config(raw, base_dir=tmp_path, demo=True), clock, demo=True)
    storage = old.extensions["panggil"].storage
    storage.db.execute("DELETE FROM settings WHERE key = ?", [credentials.DEMO_SETTING])
    storage.db.conn.commit()
    storage.close()
    with pytest.raises(credentials.CredentialError) as err:
        make_app(parse_config(hall_config(tmp_path), base_dir=tmp_path), clock)
    assert "user admin (demo password)" in str(err.value) and "counter 2" in str(err.value)


# --- the first admin -----------------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path, clock, caplog):
    """A production hall with no users at all: the set-up code is in the log."""
    raw = hall_config(tmp_path)
    raw["users"] = []
    with caplog.at_level("WARNING", logger="server.app"):
        app = make_app(parse_config(raw, base_dir=tmp_path), clock)
    yield app
    app.extensions["panggil"].storage.close()


def test_a_fresh_hall_prints_a_one_time_code_and_login_leads_to_set_up(fresh, caplog):
    code = fresh.extensions["panggil_setup"].code
    logged = " ".join(r.getMessage() for r in caplog.get_records("setup"))
    assert code in logged and "create-admin" in logged
    client = fresh.test_client()
    page = client.get("/login")
    assert page.status_code == 302 and page.headers["Location"].endswith("/setup")
    form = client.get("/setup")
    assert "Kode penyiapan" in form.get_data(as_text=True)
    assert (
        form.headers["Cache-Control"] == "no-store"
        and "script-src 'self'" in form.headers["Content-Security-Policy"]
    )
    assert client.get("/admin/").status_code in (302, 401)  # still nobody may enter


def setup_form(client, code, **over):
    form = {"code": code, "username": "kepala", "full_name": "Kepala MPP",
            "password": "kata-sandi-kuat-1", "password2": "kata-sandi-kuat-1", **over}  # fmt: skip
    form["csrf_token"] = csrf(client, "/setup")
    return client.post("/setup", data=form)


def test_the_set_up_code_creates_one_admin_once(fresh):
    hub = fresh.extensions["panggil"]
    client = fresh.test_client()
    code = fresh.extensions["panggil_setup"].code
    wrong = setup_form(client, "AAAAA-AAAAA")
    assert wrong.status_code == 403 and "Kode penyiapan salah" in wrong.get_data(as_text=True)
    demo_pw = setup_form(client, code, password="admin-panggil", password2="admin-panggil")
    assert demo_pw.status_code == 400
    assert hub.read(lambda s: s.list_users()) == []  # refused input changed nothing
    done = setup_form(client, code.lower().replace("-", " "))  # as typed off a screen
    assert done.status_code == 302
    users = hub.read(lambda s: s.list_users())
    assert [(u["username"], u["role"]) for u in users] == [("kepala", "admin")]
    assert client.get("/admin/").status_code == 200  # logged in as the new admin
    other = fresh.test_client()
    assert other.get("/setup").status_code == 302  # the code is spent
    assert other.post("/setup", data={"code": code}).status_code in (302, 400)
    assert len(hub.read(lambda s: s.list_users())) == 1


def test_guessing_the_set_up_code_is_rate_limited(fresh):
    client = fresh.test_client()
    code = fresh.extensions["panggil_setup"].code
    for _ in range(5):  # limits.login_failures_per_account
        assert setup_form(client, "BBBBB-BBBBB").status_code == 403
    assert setup_form(client, code).status_code == 429  # even the right code waits now
    assert fresh.extensions["panggil"].read(lambda s: s.list_users()) == []


def test_a_hall_with_an_admin_gets_no_set_up_code(app):
    assert app.extensions["panggil_setup"] is None
    assert app.test_client().get("/setup").status_code == 302


def run_create_admin(config_path, *args, password="kata-sandi-kuat-2"):
    return subprocess.run([sys.executable, "-m", "server", "create-admin", "--config", str(config_path),
                           "--password-stdin", *args], input=password + "\n", cwd=ROOT,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_create_admin_from_the_shell_then_log_in(tmp_path, clock):
    raw = hall_config(tmp_path)
    raw["users"] = []
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    made = run_create_admin(path, "--username", "kepala")
    assert made.returncode == 0, made.stderr
    again = run_create_admin(path, "--username", "kepala")
    assert again.returncode == 2 and "--reset" in again.stderr
    weak = run_create_admin(path, "--username", "kedua", password="pendek")
    assert weak.returncode == 2 and "password" in weak.stderr
    reset = run_create_admin(path, "--username", "kepala", "--reset", password="kata-sandi-baru-3")
    assert reset.returncode == 0, reset.stderr

    from tests.test_auth import login

    app = make_app(parse_config(raw, base_dir=tmp_path), clock)
    assert app.extensions["panggil_setup"] is None
    client = app.test_client()
    assert login(client, "kepala", "kata-sandi-kuat-2").status_code == 401
    assert login(client, "kepala", "kata-sandi-baru-3").status_code == 302
    app.extensions["panggil"].storage.close()


@pytest.mark.slow
def test_a_real_production_start_generates_its_key_and_offers_the_first_admin(tmp_path):
    """A real `python -m server` process on a fresh production config: no key, no users."""
    import re
    import time

    import requests

    from tests.conftest import LiveServer

    server = LiveServer(tmp_path, users=[])
    raw = yaml.safe_load(server.config_path.read_text(encoding="utf-8"))
    del raw["server"]["secret_key"]
    server.config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    server.start()
    try:
        key_file = server.database.parent / credentials.SECRET_FILE
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        deadline = time.monotonic() + 10
        while not (found := re.search(r"one-time code (\w{5}-\w{5})", server.log_path.read_text())):
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.1)
        session = requests.Session()
        first = session.get(server.url + "/login", timeout=10)
        assert first.url.endswith("/setup") and "Kode penyiapan" in first.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', first.text).group(1)
        form = {"csrf_token": token, "code": found.group(1), "username": "kepala", "full_name": "",
                "password": "kata-sandi-kuat-1", "password2": "kata-sandi-kuat-1"}  # fmt: skip
        made = session.post(server.url + "/setup", data=form, timeout=30)
        assert made.ok and made.url.endswith("/admin/"), made.text[:500]
        outsider = requests.get(server.url + "/admin/", timeout=10)
        assert outsider.url.endswith("/login?next=/admin/?") or "/login" in outsider.url
    finally:
        server.stop()
