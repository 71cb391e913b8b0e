"""Rate limits: tickets per address, failed logins that cannot lock the real admin out, timing."""

from __future__ import annotations

import pytest

from server.ratelimit import LoginLimiter, SlidingWindow, TicketLimiter
from tests.conftest import hall_config
from tests.test_auth import login


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sliding_window_forgets_old_hits_and_bounds_its_keys():
    ticks = Ticks()
    window = SlidingWindow(60, ticks, max_keys=3)
    for _ in range(3):
        window.add("a")
    assert window.count("a") == 3 and window.retry_after("a") == 60
    ticks.now += 30
    window.add("a")
    ticks.now += 31
    assert window.count("a") == 1
    for key in "bcde":
        window.add(key)
    assert window.count("a") == 0 and window.count("e") == 1  # the oldest key made room


def test_failures_for_one_account_do_not_lock_it_from_another_address():
    ticks = Ticks()
    limiter = LoginLimiter(per_address=10, per_account=5, per_user=50, window=300, clock=ticks)
    for _ in range(5):
        limiter.fail("10.0.0.66", "admin")
    assert limiter.blocked("10.0.0.66", "admin") > 0  # the guesser waits
    assert limiter.blocked("10.0.0.66", "petugas1") == 0  # another account from there: not yet
    assert limiter.blocked("10.0.0.5", "admin") == 0  # the real admin at the front desk: never
    ticks.now += 301
    assert limiter.blocked("10.0.0.66", "admin") == 0


def test_one_address_trying_many_accounts_is_stopped():
    limiter = LoginLimiter(per_address=10, per_account=5, per_user=50, window=300, clock=Ticks())
    for i in range(10):
        limiter.fail("10.0.0.66", f"user{i}")
    assert limiter.blocked("10.0.0.66", "someone-else") > 0
    assert limiter.blocked("10.0.0.67", "someone-else") == 0


def test_a_guesser_changing_address_is_stopped_but_known_addresses_still_get_in():
    limiter = LoginLimiter(per_address=10, per_account=5, per_user=50, window=300, clock=Ticks())
    limiter.succeed("10.0.0.5", "admin")  # the admin's own desk, earlier today
    for i in range(50):
        limiter.fail(f"10.0.1.{i}", "admin")
    assert limiter.blocked("10.0.2.1", "admin") > 0  # a new address waits
    assert limiter.blocked("10.0.0.5", "admin") == 0  # the desk it logged in from does not


def test_tickets_per_address_and_trusted_kiosks():
    limiter = TicketLimiter(2, 300, trusted=["10.1.0.0/24"], clock=Ticks())
    limiter.take("10.0.0.9")
    limiter.give_back("10.0.0.9")  # a refused ticket does not count
    limiter.take("10.0.0.9")
    limiter.take("10.0.0.9")
    with pytest.raises(Exception) as err:
        limiter.take("10.0.0.9")
    assert err.value.code == "rate-limited" and err.value.details["retry_after"] == 300
    for _ in range(10):
        limiter.take("10.1.0.20")  # a kiosk of the hall


# --- through the app -------------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path, clock):
    """The test hall without trusted addresses and with three tickets per address."""
    from server.app import create_app
    from server.config import parse_config

    raw = hall_config(tmp_path, limits={"trusted_addresses": [], "tickets_per_address": 3})
    raw["kiosks"] = {"lobi": {"name": "Anjungan Lobi"}}
    app = create_app(parse_config(raw, base_dir=tmp_path), clock=clock, start_ticker=False)
    app.config["TESTING"] = True
    yield app
    app.extensions["panggil"].storage.close()


def test_one_client_cannot_empty_a_quota(limited):
    hub = limited.extensions["panggil"]
    client = limited.test_client()
    assert client.post("/api/tickets", json={"service": "nope"}).status_code == 404  # not counted
    for _ in range(3):
        assert client.post("/api/tickets", json={"service": "ktp"}).status_code == 201
    seq = hub.seq
    refused = client.post("/api/tickets", json={"service": "ktp"})
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["ok"] is False and body["error"] == "rate-limited"
    assert "Coba lagi dalam 5 menit" in body["message"]
    assert refused.headers["Retry-After"] == "300" and body["retry_after"] == 300
    kiosk = client.post(
        "/api/kiosk/lobi/tickets", json={"service": "ktp"}
    )  # same address, other door
    assert kiosk.status_code == 429 and kiosk.get_json()["error"] == "rate-limited"
    assert hub.seq == seq  # nothing issued
    other = limited.test_client()
    answer = other.post(
        "/api/tickets", json={"service": "ktp"}, environ_base={"REMOTE_ADDR": "10.0.0.8"}
    )
    assert answer.status_code == 201  # another visitor's phone


def test_login_checks_a_hash_whether_or_not_the_user_exists(client, monkeypatch):
    """An unknown name costs the same Argon2 check as a known one: no user enumeration by timing."""
    from server import passwords

    checked = []

    def counting(hash_, password):
        checked.append(hash_)
        return passwords.check_password(hash_, password)

    monkeypatch.setattr("server.pages.auth.check_password", counting)
    assert login(client, "nobody-here", "wrong-password").status_code == 401
    assert login(client, "admin", "wrong-password").status_code == 401
    assert len(checked) == 2 and checked[0] != checked[1]
    assert checked[0] == passwords.dummy_hash()


def test_an_inactive_user_is_checked_like_any_other(client, hub, monkeypatch):
    from server import passwords

    hub.write(lambda s: s.db.execute("UPDATE users SET active = 0 WHERE username = 'petugas1'"))
    checked = []
    monkeypatch.setattr("server.pages.auth.check_password",
                        lambda h, p: checked.append(h) or passwords.check_password(h, p))  # fmt: skip
    assert login(client, "petugas1", "petugas-secret").status_code == 401
    assert len(checked) == 1


def test_the_real_admin_logs_in_while_another_address_is_locked_out(app):
    attacker = app.test_client()
    for _ in range(5):
        login(attacker, "admin", "guess")
    assert login(attacker, "admin", "admin-secret").status_code == 429
    desk = app.test_client()
    desk.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    assert login(desk, "admin", "admin-secret").status_code == 302
