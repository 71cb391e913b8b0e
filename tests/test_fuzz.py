"""Property tests: no bad input gets a 5xx, every refusal is a JSON error, and changes nothing.

Every /api route of app.url_map is fuzzed (a new route is picked up, or fails with "add a value
for its URL parameter"), and every socket event on /display and /counter, with hypothesis:
wrong types, huge numbers, deep nesting, NUL bytes, lone surrogates, invalid UTF-8, junk keys.
bench/fuzz_api.py does the same at 10,000 inputs per endpoint against a real server process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import events, protocol, schemas
from server.extensions import socketio
from server.protocol import NS_COUNTER, NS_DISPLAY
from tests.conftest import TOKENS

EXAMPLES = 250
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- inputs -----------------------------------------------------------------------------------

NASTY = ["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "\u202e", "ktp", "kk", "paspor", "A001", "a" * 70,
         "elderly", "disability", "ok-1", "../../etc", "<script>", "1e999", "null", "9" * 30]  # fmt: skip
text = st.text(
    st.characters(categories=["L", "N", "P", "S", "Cc", "Cs", "Zs"]), max_size=24
) | st.sampled_from(NASTY)
numbers = (
    st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 1, 999, 1000, 2**63])
)
scalars = st.none() | st.booleans() | numbers | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)
FIELDS = ["service", "priority", "request_id", "number", "counter", "token", "display"]
good = {"service": st.sampled_from(["ktp", "kk", "paspor", "sim"]),
        "priority": st.sampled_from([None, "elderly", "pregnant", "disability", "vip"]),
        "request_id": st.text("abcXYZ019._:-", min_size=1, max_size=10),
        "number": st.sampled_from(["A001", "A002", "B001", "Z9"])}  # fmt: skip
# Payloads near the schemas (to get past the first check) and plain junk.
shaped = st.fixed_dictionaries({}, optional={f: (good.get(f, values) | values) for f in FIELDS})
payloads = shaped | st.dictionaries(text, values, max_size=5) | values


@st.composite
def deep(draw) -> str:
    depth = draw(st.integers(50, 3000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return '{"service": ' + opener * depth + "1" + closer * depth + "}"


def encode(value: object, ascii_only: bool) -> bytes:
    # Without ASCII escapes a lone surrogate becomes bytes that are not UTF-8: also worth sending.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


ODD_BODIES = [b"", b"{", b'{"service": "ktp"} x', b'{"service": 1' + b"0" * 5000 + b"}",
              b'\xef\xbb\xbf{"service": "ktp"}', b'{"service": "\\ud800"}', b"NaN"]  # fmt: skip
bodies = (
    st.builds(encode, payloads, st.booleans())
    | deep().map(str.encode)
    | st.binary(max_size=64)
    | st.sampled_from(ODD_BODIES)
)
content_types = st.sampled_from(
    ["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded", None]
)

# --- state ------------------------------------------------------------------------------------


def state(hub) -> tuple:
    """What a refused request must leave as it was: seq, the tickets table and the database files."""
    with hub.lock:
        tickets = hub.storage.db.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    digest = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = hub.storage.path.with_name(hub.storage.path.name + suffix)
        digest.update(path.read_bytes() if path.exists() else b"")
    return hub.seq, tickets, digest.hexdigest()


def assert_json_error(response) -> None:
    assert response.status_code < 500, response.get_data()[:300]
    if response.status_code >= 400:
        assert response.is_json, response.get_data()[:300]
        body = response.get_json()
        assert body["ok"] is False and isinstance(body["message"], str) and body["message"]
        assert body["error"] in protocol.ERRORS
        assert protocol.ERRORS[body["error"]][0] == response.status_code


def assert_refusal_changes_nothing(hub, before: tuple, refused: bool) -> None:
    if refused:
        assert state(hub) == before


# --- HTTP -------------------------------------------------------------------------------------

# A value for each URL parameter of an /api route: a new parameter name fails the test until added.
URL_VALUES = {
    "number": ["1", "3", "A001", "0", "99999999999999999999", "%00", "%ED%A0%80", "-1", "A" * 300],
    "command": [*protocol.COUNTER_COMMANDS, "explode", "%00", "get_snapshot"],
    "day": ["2026-11-26", "2026-11-27", "9999-99-99", "%00", "x" * 200],
    "kiosk_id": ["layar", "lobby-1", "%ED%A0%80", "A" * 100, ".."],
    "key": ["0" * 32, "nope", "%00"],
    "ext": ["wav", "mp3", "exe"],
    "code": ["K7M2QX", "ABCDEF", "k7m-2qx", "%00", "x" * 300],
    "external_id": ["siola-1", "%00", "%ED%A0%80", "x" * 300],
}


def api_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api")]
    assert rules
    for rule in rules:
        missing = set(rule.arguments) - set(URL_VALUES)
        assert not missing, f"add a value for {missing} of {rule.rule} to URL_VALUES"
    return sorted(rules, key=lambda r: r.rule)


def fill(rule, draw) -> str:
    """A concrete path for the rule, e.g. /api/counters/1/call_next."""

    def value(match: re.Match) -> str:
        converter, name = match.groups()
        values = URL_VALUES[name]
        if converter == "int":  # werkzeug would not route anything else here
            values = [v for v in values if v.isdigit()]
        return draw(st.sampled_from(values))

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule.rule)


AUTH = st.sampled_from([{"Authorization": f"Bearer {TOKENS[1]}"}] * 4 + [{}, {"Authorization": "Bearer nope"},
                        {"Authorization": f"Bearer {TOKENS[3]}"}, {"Authorization": "Basic x"}])  # fmt: skip


def test_every_api_route_is_fuzzed(app):
    methods = {m for r in api_rules(app) for m in r.methods} - {"HEAD", "OPTIONS"}
    fuzzed = {"GET", "POST", "DELETE"}
    assert methods <= fuzzed, f"fuzz {methods - fuzzed} too"


def test_api_posts_never_fail_and_refusals_change_nothing(app, client, hub):
    rules = [r for r in api_rules(app) if "POST" in r.methods]

    @SETTINGS
    @given(data=st.data(), body=bodies, content_type=content_types, headers=AUTH)
    def post(data, body, content_type, headers):
        rule = data.draw(st.sampled_from(rules))
        path = fill(rule, data.draw)
        before = state(hub)
        kwargs = {"content_type": content_type} if content_type else {}
        response = client.post(path, data=body, headers=headers, **kwargs)
        assert_json_error(response)
        assert_refusal_changes_nothing(hub, before, response.status_code >= 400)

    for _ in range(len(rules)):  # a few hundred examples per endpoint, drawn at random among them
        post()


def test_api_gets_never_fail(app, client, hub):
    rules = [r for r in api_rules(app) if "GET" in r.methods]
    hub.issue("ktp")

    @settings(SETTINGS, max_examples=200)
    @given(data=st.data(), headers=AUTH)
    def get(data, headers):
        path = fill(data.draw(st.sampled_from(rules)), data.draw)
        before = state(hub)
        response = client.get(path, headers=headers)
        assert_json_error(response)
        assert state(hub) == before

    for _ in range(len(rules)):
        get()


def test_api_deletes_never_fail_and_refusals_change_nothing(app, client, hub):
    rules = [r for r in api_rules(app) if "DELETE" in r.methods]  # the booking API's cancels

    @settings(SETTINGS, max_examples=100)
    @given(data=st.data(), headers=AUTH)
    def delete(data, headers):
        path = fill(data.draw(st.sampled_from(rules)), data.draw)
        before = state(hub)
        response = client.delete(path, headers=headers)
        assert_json_error(response)
        assert_refusal_changes_nothing(hub, before, response.status_code >= 400)

    for _ in range(len(rules)):
        delete()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "GET", "POST"])
@pytest.mark.parametrize(
    "path", ["/api/tickets", "/api/health", "/api/nope", "/api/counters/1/call_next", "/api/"]
)
def test_api_errors_are_json_for_any_method(client, hub, method, path):
    before = state(hub)
    response = client.open(path, method=method, data=b"{}", content_type="application/json")
    assert_json_error(response)
    if response.status_code == 405:
        assert response.get_json()["error"] == "method-not-allowed" and response.headers["Allow"]
    assert_refusal_changes_nothing(hub, before, response.status_code >= 400)


# --- sockets ----------------------------------------------------------------------------------

EVENTS = [
    protocol.GET_SNAPSHOT,
    *protocol.COUNTER_COMMANDS,
    "connect",
    "disconnect",
    "snapshot",
    "*",
    "",
]
event_names = st.sampled_from(EVENTS) | text
arguments = st.lists(payloads, max_size=3)


def counter_socket(socket_client):
    sc = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert sc.is_connected(NS_COUNTER)
    return sc


@pytest.mark.parametrize("namespace", [NS_DISPLAY, NS_COUNTER])
def test_every_socket_event_is_acknowledged(socket_client, hub, namespace):
    hub.issue("ktp")
    sc = counter_socket(socket_client) if namespace == NS_COUNTER else socket_client(NS_DISPLAY)

    @settings(SETTINGS, max_examples=EXAMPLES * 2)
    @given(event=event_names, args=arguments)
    def emit(event, args):
        before = state(hub)
        ack = sc.emit(event, *args, namespace=namespace, callback=True)
        assert isinstance(ack, dict), f"no acknowledgement for {event!r}"
        assert isinstance(ack.get("ok"), bool)
        if not ack["ok"]:
            assert ack["error"] in protocol.ERRORS and ack["message"]
            assert state(hub) == before
        sc.get_received(namespace)

    emit()
    assert sc.is_connected(namespace)


@pytest.mark.parametrize("command", protocol.COUNTER_COMMANDS)
def test_counter_commands_refuse_bad_payloads(socket_client, hub, command):
    hub.issue("ktp")
    sc = counter_socket(socket_client)

    @settings(SETTINGS, max_examples=60)
    @given(payload=payloads)
    def emit(payload):
        before = state(hub)
        ack = sc.emit(command, payload, namespace=NS_COUNTER, callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool)
        try:
            schemas.check(schemas.COMMANDS[command], payload)
        except protocol.PanggilError:
            assert ack == {"ok": False, "error": "bad-request", "message": ack["message"]}
            assert state(hub) == before

    emit()


auths = st.fixed_dictionaries({}, optional={"counter": st.sampled_from([1, "1", 2, 1.0, True, 10**30]) | values,
                                            "token": st.sampled_from([TOKENS[1], TOKENS[1] + "\ud800"]) | values,
                                            "display": values}) | values  # fmt: skip


@pytest.mark.parametrize("namespace", [NS_DISPLAY, NS_COUNTER])
def test_connect_with_bad_auth_is_refused_at_once(app, client, hub, namespace):
    @settings(SETTINGS, max_examples=150)
    @given(auth=auths)
    def connect(auth):
        before = (state(hub), dict(hub.displays), dict(hub.counters_online))
        sc = socketio.test_client(app, namespace=namespace, auth=auth, flask_test_client=client)
        if sc.is_connected(namespace):
            sc.disconnect(namespace)
            if namespace == NS_COUNTER:
                assert auth in (
                    {"counter": 1, "token": TOKENS[1]},
                    {"counter": "1", "token": TOKENS[1]},
                )
        else:
            assert (state(hub), hub.displays, hub.counters_online) == before

    connect()


PACKETS = st.sampled_from(["2/counter,7", "2/display,7", "0/counter,", "0/display,", "3/counter,7", "5/counter,7",
                           "2/counter,", "9", "", "2/counter,77777777777777777777777777777777777777777777777777"])  # fmt: skip
junk = st.text(max_size=40) | deep() | st.builds(lambda v: json.dumps(v), values)


@pytest.mark.parametrize("namespace", [NS_DISPLAY, NS_COUNTER])
def test_malformed_packets_write_one_log_line_and_are_answered(
    socket_client, hub, caplog, namespace
):
    sc = counter_socket(socket_client) if namespace == NS_COUNTER else socket_client(NS_DISPLAY)
    caplog.set_level(logging.INFO)

    @settings(SETTINGS, max_examples=200)
    @given(prefix=PACKETS, rest=junk)
    def send(prefix, rest):
        caplog.clear()
        before = state(hub)
        sc.acks = None
        socketio.server._handle_eio_message(sc.eio_sid, prefix + rest)  # must not raise
        assert len(caplog.records) <= 1, [r.getMessage() for r in caplog.records]
        assert state(hub) == before or prefix.startswith("2")  # a well-formed command may succeed
        if sc.acks is not None:
            assert sc.acks["args"][0]["ok"] in (True, False)
        sc.queue.clear()  # not get_received(): the test client takes any connect_error as its own

    send()


@pytest.mark.parametrize("data", [None, "", {}, [], 0, False, True, 5, 2.5, {"a": 1}, [1], ["x"]])
def test_what_engineio_parsed_as_json_is_a_malformed_packet(socket_client, hub, caplog, data):
    """Engine.IO parses a message as JSON first: "4null" reaches Socket.IO as None, "4[1]" as a list."""
    sc = counter_socket(socket_client)
    caplog.clear()
    before = state(hub)
    socketio.server._handle_eio_message(sc.eio_sid, data)
    assert len(caplog.records) <= 1 and state(hub) == before


def test_a_malformed_event_with_an_id_is_answered(socket_client):
    sc = counter_socket(socket_client)
    for raw in ['2/counter,7["call_next",{"request_id":', "2/counter,7[5]", '2/counter,7["connect",{}]',
                "2/counter,7" + "[" * 5000, '2/counter,7{"a":1}']:  # fmt: skip
        sc.acks = None
        socketio.server._handle_eio_message(sc.eio_sid, raw)
        assert sc.acks["args"][0]["error"] == "malformed-packet", raw


def test_engineio_reads_json_nested_too_deep_as_text(app):
    """Engine.IO parses websocket messages as JSON first; a RecursionError there killed the link."""
    from engineio import packet as eio_packet

    deep_text = "[" * 5000
    assert eio_packet.Packet(encoded_packet="4" + deep_text).data == deep_text
    with pytest.raises(ValueError):
        events.SafeJSON.loads(deep_text)


# --- the error codes are declared and documented ------------------------------------------------


def test_every_error_code_is_documented_and_every_documented_code_exists():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text(
        encoding="utf-8"
    )
    section = doc.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            documented[cells[0].strip("`")] = int(cells[1])
    assert set(documented) == set(protocol.ERRORS)
    assert documented == {code: status for code, (status, _) in protocol.ERRORS.items()}
