"""Authorization over every state-changing route and every counter socket event.

Each POST/PUT/PATCH/DELETE rule of app.url_map is tried without credentials (no session, no or a
wrong bearer token, an officer on admin pages, another counter's token): each must be refused
(401, 403, a redirect to the login page, or the CSRF 400) and change nothing. The routes anyone
may use are listed in OPEN: a new route fails this test until someone decides which it is.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from server import protocol, schemas
from server.protocol import NS_COUNTER, NS_DISPLAY
from tests.conftest import TOKENS
from tests.test_admin_pages import csrf_token, log_in

# Anyone may take a number (API and kiosk) and try to log in; everything else needs credentials.
OPEN = {"api.issue_ticket", "kiosk.take_ticket", "auth.login"}
# Bookings (docs/kiosk.md): anyone may book (rate-limited) and check in with a booking's code.
OPEN |= {"booking.book", "kiosk.check_in"}
# A visitor cancels a booking with its code (the key to its page), rate-limited per address.
OPEN |= {"booking.visitor_cancel"}
# Bearer-token routes of the JSON API; the cancel route takes any counter's token (docs/protocol.md).
BEARER = {"api.counter_command", "api.cancel_ticket"}
ANY_COUNTER = {"api.cancel_ticket"}
# The console's booking check-in takes any counter's token; the booking import a token of its own.
BEARER |= {"booking.counter_check_in", "booking.import_booking"}
ANY_COUNTER |= {"booking.counter_check_in", "booking.import_booking"}
TOKEN_ERRORS = {"booking.import_booking": "invalid-booking-token"}
# The booking system cancels with the same token as it books with.
BEARER |= {"booking.api_cancel", "booking.api_cancel_external"}
ANY_COUNTER |= {"booking.api_cancel", "booking.api_cancel_external"}
TOKEN_ERRORS |= {"booking.api_cancel": "invalid-booking-token",
                 "booking.api_cancel_external": "invalid-booking-token"}  # fmt: skip
# Routes whose credential is a token in the JSON body: the SKM survey's answers (a ticket's
# visitor token, a counter's tablet token; docs/protocol.md, "The satisfaction survey").
BODY_TOKEN = {"survey_api.answer_from_phone", "survey_api.answer_from_tablet"}
# A Pi's pairing: the credential is the one-use code from the admin's page (server/pairing.py).
PAIRING_CODE = {"pairing.pair"}
# A visitor's number for notices: the credential is the ticket's token in the address (notices.py).
URL_TOKEN = {"visitor_contact.set_contact"}

URL_VALUES = {"code": "ktp", "number": "1", "name": "lobby", "user_id": "2", "command": protocol.CALL_NEXT,
              "day": "2026-11-26", "kiosk_id": "layar", "external_id": "siola-1"}  # fmt: skip
URL_VALUES["token"] = "AAAAAAAAAAAAAAAA"  # a wrong ticket token
FORM = {"name": "Diubah", "code": "baru", "prefix": "Z", "agency": "dukcapil", "services": "ktp",
        "username": "penyusup", "password": "sandi-rahasia-1", "role": "admin", "active": "on",
        "running_text": "diubah"}  # fmt: skip
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def state(hub) -> tuple:
    """Everything a refused request must leave alone: seq, live state and the database files."""
    digest = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = hub.storage.path.with_name(hub.storage.path.name + suffix)
        digest.update(path.read_bytes() if path.exists() else b"")
    return hub.seq, hub.hall, dict(hub.tokens), digest.hexdigest()


def write_rules(app) -> list:
    rules = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & set(WRITES)):
            missing = set(rule.arguments) - set(URL_VALUES)
            assert not missing, f"add a value for {missing} of {rule.rule} to URL_VALUES"
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: URL_VALUES[m.group(1)], rule.rule)
            rules.append((rule.endpoint, method, path))
    return sorted(rules)


@pytest.fixture
def busy_hub(hub):
    """A hall where every command could do something: tickets waiting, one called at counter 1."""
    for _ in range(3):
        hub.issue("ktp")
    hub.command(1, protocol.CALL_NEXT, {}, "authz-setup")
    return hub


def api_body(endpoint: str, path: str) -> dict:
    if endpoint == "api.counter_command":
        command = path.rsplit("/", 1)[1]
        extra = {"service": "kk", "number": "A002"}
        return {
            "request_id": "authz-1",
            **{k: extra[k] for k in schemas.COMMANDS[command].model_fields if k in extra},
        }
    return {}


def assert_refused(response, *, csrf_ok: bool) -> None:
    status = response.status_code
    if status == 302:
        assert "/login" in response.headers["Location"], response.headers["Location"]
        return
    allowed = {401, 403} | (set() if csrf_ok else {400})
    assert status in allowed, (status, response.get_data(as_text=True)[:300])
    if status == 400:  # only the CSRF check may answer 400 here, not a form that was read
        assert "kedaluwarsa" in response.get_data(as_text=True) or response.is_json


def test_open_routes_are_the_listed_ones(app):
    endpoints = {endpoint for endpoint, _, _ in write_rules(app)}
    assert endpoints >= OPEN | BEARER, "a listed route no longer exists: update OPEN or BEARER"


def test_every_write_route_is_refused_without_credentials(app, client, busy_hub):
    for endpoint, method, path in write_rules(app):
        if endpoint in OPEN:
            continue
        before = state(busy_hub)
        if endpoint in BEARER:
            body = api_body(endpoint, path)
            headers = [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer"},
                       {"Authorization": f"Basic {TOKENS[1]}"}]  # fmt: skip
            if endpoint not in ANY_COUNTER:
                headers.append({"Authorization": f"Bearer {TOKENS[2]}"})  # another counter's token
            for header in headers:
                response = client.open(path, method=method, json=body, headers=header)
                assert response.status_code == 401, (endpoint, header, response.get_json())
                assert response.get_json()["error"] == TOKEN_ERRORS.get(endpoint, "invalid-token")
                assert state(busy_hub) == before, (endpoint, header)
            continue
        if endpoint in BODY_TOKEN:
            answers = {"answers": [4] * 9, "ticket": "2026-11-26/A001"}
            if endpoint == "survey_api.answer_from_phone":
                del answers["ticket"]
            for token in (None, "nope", TOKENS[1]):  # a device token is not a survey credential
                body = answers if token is None else {**answers, "token": token}
                response = client.open(path, method=method, json=body)
                assert response.status_code in (400, 401, 404), (endpoint, response.get_json())
                assert state(busy_hub) == before, endpoint
            continue
        if endpoint in URL_TOKEN:
            for body in ({"phone": "081234567890"}, {"phone": None}):
                response = client.open(path.replace("/1/", "/A001/"), method=method, json=body)
                assert response.status_code == 404, (endpoint, response.get_json())
                assert state(busy_hub) == before, endpoint
            continue
        if endpoint in PAIRING_CODE:
            for body in ({"kind": "counter"}, {"code": "123456", "kind": "counter"},
                         {"code": TOKENS[1], "kind": "counter"}):  # fmt: skip
                response = client.open(path, method=method, json=body)
                assert response.status_code in (400, 404), (endpoint, response.get_json())
                assert state(busy_hub) == before, endpoint
            continue
        # A session route: no CSRF token, then a valid CSRF token but nobody logged in.
        response = client.open(path, method=method, data=FORM)
        assert_refused(response, csrf_ok=False)
        response = client.open(path, method=method, data={**FORM, "csrf_token": csrf_token(client)})
        assert_refused(response, csrf_ok=True)
        assert state(busy_hub) == before, (endpoint, method, path)


def test_a_session_does_not_replace_the_bearer_token(app, client, busy_hub):
    log_in(client, "admin", "admin-secret")
    before = state(busy_hub)
    for endpoint, method, path in write_rules(app):
        if endpoint in BEARER:
            response = client.open(path, method=method, json=api_body(endpoint, path))
            assert response.status_code == 401, endpoint
    assert state(busy_hub) == before


def test_officers_cannot_use_admin_routes(app, client, busy_hub):
    log_in(client, "petugas1", "petugas-secret")
    before = state(busy_hub)
    admin_routes = [(e, m, p) for e, m, p in write_rules(app) if p.startswith("/admin")]
    assert admin_routes
    for endpoint, method, path in admin_routes:
        response = client.open(path, method=method, data={**FORM, "csrf_token": csrf_token(client)})
        assert response.status_code == 403, (endpoint, response.status_code)
        assert state(busy_hub) == before, endpoint


def test_admins_pass_the_same_checks(app, client, hub):
    """The control: the requests above are refused for their credentials, not for their paths."""
    log_in(client, "admin", "admin-secret")
    for endpoint, method, path in write_rules(app):
        if endpoint in BEARER or endpoint in OPEN or not path.startswith("/admin"):
            continue
        response = client.open(path, method=method, data={**FORM, "csrf_token": csrf_token(client)})
        assert response.status_code not in (401, 403), endpoint
        assert "/login" not in response.headers.get("Location", ""), endpoint


# --- sockets ----------------------------------------------------------------------------------

COUNTER_EVENTS = [*protocol.COUNTER_COMMANDS, protocol.GET_SNAPSHOT]


def command_payload(event: str) -> dict:
    if event == protocol.GET_SNAPSHOT:
        return {}
    extra = {"service": "kk", "number": "A002"}
    fields = schemas.COMMANDS[event].model_fields
    return {"request_id": f"authz-{event}", **{k: v for k, v in extra.items() if k in fields}}


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"counter": 1}, {"counter": 1, "token": "nope"}, {"counter": 1, "token": TOKENS[2]},
     {"counter": 2, "token": TOKENS[1]}, {"counter": 1, "token": TOKENS[1] + "x"}, {"token": TOKENS[1]}],
)  # fmt: skip
def test_counter_socket_refuses_connections_without_its_token(socket_client, busy_hub, auth):
    before = state(busy_hub)
    sc = socket_client(NS_COUNTER, auth)
    assert not sc.is_connected(NS_COUNTER)
    assert busy_hub.counters_online == {}
    assert state(busy_hub) == before


@pytest.mark.parametrize("event", protocol.COUNTER_COMMANDS)
def test_counter_commands_from_a_display_are_refused(socket_client, busy_hub, event):
    display = socket_client(NS_DISPLAY)
    before = state(busy_hub)
    ack = display.emit(event, command_payload(event), namespace=NS_DISPLAY, callback=True)
    assert ack["ok"] is False and ack["error"] == "unknown-command"
    assert state(busy_hub) == before


@pytest.mark.parametrize("event", COUNTER_EVENTS)
def test_a_counter_acts_only_on_itself(socket_client, busy_hub, event):
    """Counter 3 (paspor) connected with its own token cannot touch counter 1's ticket."""
    other = socket_client(NS_COUNTER, {"counter": 3, "token": TOKENS[3]})
    assert other.is_connected(NS_COUNTER)
    held = busy_hub.hall.current(1)
    before = state(busy_hub)
    ack = other.emit(event, command_payload(event), namespace=NS_COUNTER, callback=True)
    assert isinstance(ack, dict)
    assert busy_hub.hall.current(1) == held
    if event != protocol.GET_SNAPSHOT:
        assert ack["ok"] is False and state(busy_hub) == before
