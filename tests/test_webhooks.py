"""Webhooks: the rules (signature, backoff, giving up), delivery to a real HTTP receiver on
loopback (every chosen event once, in order, signed; retried while the receiver fails), the admin
page (the secret shown once, refusals in Indonesian, pause and delete) and who may use it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server import webhooks
from server.webhooks import Dispatcher, Hook
from tests.test_admin_pages import csrf_token, log_in, quick_hashes  # noqa: F401 (a fixture)


# --- the rules ------------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed apart from Panggil: printf '1765000000.{"event":"ticket.called"}' |
    #   openssl dgst -sha256 -hmac whsec_test
    want = "607a7c6eb0d50bca83f5530d20fa6fac462d84bbc91e16e0f3cefa56fde51682"
    got = webhooks.signature("whsec_test", 1765000000, b'{"event":"ticket.called"}')
    assert got == f"t=1765000000,v1={want}"


def test_retries_double_from_15_seconds_to_at_most_an_hour():
    delays = [webhooks.retry_delay(n).total_seconds() for n in range(1, 11)]
    assert delays == [15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_hook_moves_on_when_delivered_retries_when_not_and_gives_up_at_last():
    now = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    hook = Hook(1, "http://x", "s", ("ticket.called",), cursor=10, attempts=0, next_at=None)
    assert webhooks.after_attempt(hook, 12, True, now) == webhooks.Next(12, 0, None)
    failed = webhooks.after_attempt(hook, 12, False, now)
    assert (failed.cursor, failed.attempts, failed.gave_up) == (10, 1, False)
    assert (failed.next_at - now).total_seconds() == 15
    last = Hook(1, "http://x", "s", ("ticket.called",), 10, webhooks.MAX_ATTEMPTS - 1, None)
    assert webhooks.after_attempt(last, 12, False, now) == webhooks.Next(12, 0, None, gave_up=True)


@pytest.mark.parametrize(
    "name, url, events, wrong",
    [
        ("Dasbor", "http://10.0.0.5/hook", ["ticket.called"], []),
        ("", "http://10.0.0.5/hook", ["ticket.called"], ["name"]),
        ("Dasbor", "ftp://10.0.0.5/hook", ["ticket.called"], ["url"]),
        ("Dasbor", "javascript:alert(1)", ["ticket.called"], ["url"]),
        ("Dasbor", "http://" + "a" * 500, ["ticket.called"], ["url"]),
        ("Dasbor", "https://example.org/x", [], ["events"]),
        ("Dasbor", "https://example.org/x", ["ticket.called", "ticket.stolen"], ["events"]),
    ],
)
def test_a_hook_is_checked_before_it_is_saved(name, url, events, wrong):
    assert webhooks.check_hook(name, url, events)[3] == wrong


# --- a receiver on loopback -------------------------------------------------------------------------


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each request and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the library's name)
                size = int(self.headers["Content-Length"])
                owner.requests.append(
                    {"headers": dict(self.headers), "body": self.rfile.read(size)}
                )
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/panggil"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[tuple[str, str]]:
        return [(r["headers"]["X-Panggil-Event"], json.loads(r["body"])["data"]["ticket"]["number"])
                for r in self.requests]  # fmt: skip

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def add_hook(admin, url: str, events=("ticket.issued", "ticket.called", "ticket.finished"),
             name: str = "Dasbor Pemda") -> str:  # fmt: skip
    page = admin.post("/admin/webhooks", data={"name": name, "url": url, "events": list(events),
                                               "csrf_token": csrf_token(admin)})  # fmt: skip
    assert page.status_code == 200, page.get_data(as_text=True)
    return re.search(r'<code class="token">([^<]+)</code>', page.get_data(as_text=True)).group(1)


def drain(dispatcher: Dispatcher) -> int:
    """Rounds until nothing is due; how many attempts were made."""
    made = 0
    while attempts := dispatcher.run_once():
        made += attempts
    return made


def test_every_chosen_event_reaches_the_receiver_once_in_order_and_signed(admin, hub, receiver):
    hub.issue("ktp")  # before the hook: not sent
    secret = add_hook(admin, receiver.url)
    hub.issue("ktp")
    hub.command(1, "call_next", {}, "w1")  # A001
    hub.command(1, "recall", {}, "w2")
    hub.command(1, "finish", {}, "w3")
    hub.command(1, "call_next", {}, "w4")  # A002
    hub.command(1, "skip", {}, "w5")  # not chosen
    assert drain(Dispatcher(hub)) == 5
    assert receiver.events() == [
        ("ticket.issued", "A002"),
        ("ticket.called", "A001"),
        ("ticket.called", "A001"),
        ("ticket.finished", "A001"),
        ("ticket.called", "A002"),
    ]
    deliveries = [int(r["headers"]["X-Panggil-Delivery"]) for r in receiver.requests]
    assert deliveries == sorted(set(deliveries))  # each event once, in the hall's order
    for r in receiver.requests:
        stamp, mac = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                                  r["headers"]["X-Panggil-Signature"]).groups()  # fmt: skip
        want = hmac.new(secret.encode(), stamp.encode() + b"." + r["body"], hashlib.sha256)
        assert hmac.compare_digest(mac, want.hexdigest())
        body = json.loads(r["body"])
        assert body["hall"] == "MPP Uji" and body["delivery"] == int(
            r["headers"]["X-Panggil-Delivery"]
        )
    recall = json.loads(receiver.requests[2]["body"])
    assert recall["data"]["call"]["kind"] == "recall"
    assert drain(Dispatcher(hub)) == 0  # nothing twice


def test_the_body_names_no_officer_login(admin, hub, receiver):
    from server.engine import Officer
    from tests.test_officers import user_id

    add_hook(admin, receiver.url, events=("ticket.called",))
    hub.issue("ktp")
    hub.command(
        1, "sign_in", {"officer": Officer(user_id(hub, "petugas1"), "petugas1", "Budi")}, "o1"
    )
    hub.command(1, "call_next", {}, "o2")
    drain(Dispatcher(hub))
    [request] = receiver.requests
    assert b"petugas1" not in request["body"] and b"Budi" in request["body"]


def test_a_failing_receiver_is_retried_later_and_keeps_the_order(admin, hub, receiver, clock):
    add_hook(admin, receiver.url, events=("ticket.issued",))
    receiver.status = 503
    hub.issue("ktp")
    hub.issue("ktp")
    dispatcher = Dispatcher(hub)
    assert drain(dispatcher) == 1  # A001 failed; A002 waits behind it
    assert dispatcher.run_once() == 0  # not due before 15 s
    clock.advance(seconds=15)
    assert drain(dispatcher) == 1  # the second try fails too
    receiver.status = 200
    clock.advance(seconds=29)
    assert dispatcher.run_once() == 0  # 30 s after the second failure
    clock.advance(seconds=1)
    assert drain(dispatcher) == 2  # A001 (its third try), then A002
    assert receiver.events() == [("ticket.issued", "A001")] * 3 + [("ticket.issued", "A002")]
    page = admin.get("/admin/webhooks").get_data(as_text=True)
    log = page[page.index('id="delivery-log"') :]
    assert log.count('class="failed"') == 2 and log.count('class="ok"') == 2
    assert "503" in log


def test_a_receiver_that_never_answers_is_given_up_and_the_next_event_goes(admin, hub, clock):
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x"
    add_hook(admin, dead, events=("ticket.issued", "ticket.cancelled"))
    hub.issue("ktp")
    dispatcher = Dispatcher(hub)
    tries = 0
    for n in range(1, webhooks.MAX_ATTEMPTS + 1):
        tries += drain(dispatcher)
        clock.advance(seconds=webhooks.retry_delay(n).total_seconds())
    assert tries == webhooks.MAX_ATTEMPTS
    [hook] = hub.read(lambda s: s.list_webhooks())
    assert hook["cursor"] == hub.seq and hook["attempts"] == 0  # moved past it
    hub.cancel("A001")
    assert drain(dispatcher) == 1  # the next event is tried at once


def test_a_paused_hook_sends_nothing_and_resumes_from_now(admin, hub, receiver):
    add_hook(admin, receiver.url, events=("ticket.issued",))
    [hook] = hub.read(lambda s: s.list_webhooks())
    admin.post(
        f"/admin/webhooks/{hook['id']}/active",
        data={"active": "0", "csrf_token": csrf_token(admin)},
    )
    hub.issue("ktp")  # while paused
    assert drain(Dispatcher(hub)) == 0
    admin.post(
        f"/admin/webhooks/{hook['id']}/active",
        data={"active": "1", "csrf_token": csrf_token(admin)},
    )
    hub.issue("ktp")
    drain(Dispatcher(hub))
    assert receiver.events() == [("ticket.issued", "A002")]
    admin.post(f"/admin/webhooks/{hook['id']}/delete", data={"csrf_token": csrf_token(admin)})
    assert hub.read(lambda s: s.list_webhooks()) == []
    actions = hub.read(lambda s: [r["action"] for r in s.db.query("SELECT action FROM audit_log")])
    assert [a for a in actions if a.startswith("webhook.")] == [
        "webhook.add", "webhook.pause", "webhook.resume", "webhook.delete"]  # fmt: skip


# --- the page -----------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_never_again(admin, hub):
    secret = add_hook(admin, "http://10.0.0.5/hook")
    assert secret.startswith("whsec_") and len(secret) > 40
    page = admin.get("/admin/webhooks").get_data(as_text=True)
    assert "Dasbor Pemda" in page and "http://10.0.0.5/hook" in page and secret not in page
    [stored] = hub.read(lambda s: s.list_webhooks())
    assert stored["secret"] == secret  # kept to sign with


def test_a_bad_hook_is_refused_in_indonesian_and_nothing_is_saved(admin, hub):
    page = admin.post("/admin/webhooks", data={"name": "Dasbor", "url": "ftp://x", "events": [],
                                               "csrf_token": csrf_token(admin)})  # fmt: skip
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Alamat harus diawali http:// atau https://" in html
    assert "Pilih paling sedikit satu peristiwa." in html
    assert hub.read(lambda s: s.list_webhooks()) == []


def test_only_admins_reach_the_webhooks(client):
    assert client.get("/admin/webhooks").status_code in (302, 401)
    log_in(client, "petugas1", "petugas-secret")
    assert client.get("/admin/webhooks").status_code == 403
    response = client.post("/admin/webhooks", data={"name": "x", "url": "http://a/b",
                                                    "events": ["ticket.issued"],
                                                    "csrf_token": csrf_token(client)})  # fmt: skip
    assert response.status_code == 403
