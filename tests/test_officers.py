"""Officers at counters: the pure rules (sign in, out, replace, move), what each ticket and event
records, storage across a restart, the socket and HTTP commands, PINs and their rate limit."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from server import engine, protocol
from server.engine import Officer
from server.protocol import NS_COUNTER, NS_DISPLAY, PanggilError
from tests.conftest import TOKENS
from tests.test_storage import open_hub
from tests.test_auth import login
from tests.test_engine import NOW, assert_refused, issue, make_hall

BUDI = Officer(7, "budi", "Budi Santoso")
SITI = Officer(8, "siti", "Siti Aminah")


def signed_in(hall, counter, officer):
    return engine.sign_in(hall, counter, officer, NOW).hall


# --- the pure rules -----------------------------------------------------------------------------


def test_sign_in_and_out_change_the_counter_and_say_so():
    hall = make_hall()
    outcome = engine.sign_in(hall, 1, BUDI, NOW)
    assert outcome.hall.counters[1].officer == BUDI
    [change] = outcome.changes
    assert (change.kind, change.counter, change.officer, dict(change.data)) == (
        "signed_in", 1, BUDI, {"replaced": None})  # fmt: skip
    out = engine.sign_out(outcome.hall, 1, NOW)
    assert out.hall.counters[1].officer is None
    [change] = out.changes
    assert (change.kind, change.officer, dict(change.data)) == (
        "signed_out", BUDI, {"reason": "signed-out"})  # fmt: skip


def test_signing_in_replaces_whoever_was_signed_in():
    hall = signed_in(make_hall(), 1, BUDI)
    outcome = engine.sign_in(hall, 1, SITI, NOW)
    assert outcome.hall.counters[1].officer == SITI
    assert [(c.kind, dict(c.data)) for c in outcome.changes] == [
        ("signed_in", {"replaced": "budi"})
    ]


def test_an_officer_is_at_one_counter_at_a_time():
    hall = signed_in(make_hall(), 1, BUDI)
    outcome = engine.sign_in(hall, 2, BUDI, NOW)
    assert outcome.hall.counters[1].officer is None
    assert outcome.hall.counters[2].officer == BUDI
    assert [(c.kind, c.counter, dict(c.data)) for c in outcome.changes] == [
        ("signed_out", 1, {"reason": "moved"}),
        ("signed_in", 2, {"replaced": None}),
    ]


def test_calls_finishes_skips_and_transfers_record_the_officer():
    hall = signed_in(issue(issue(issue(make_hall()))), 1, BUDI)
    call = engine.call_next(hall, 1, NOW)
    assert call.last.officer == BUDI and call.last.ticket.called_by == BUDI
    hall = signed_in(call.hall, 1, SITI)  # the next shift takes the desk mid-ticket
    recall = engine.recall(hall, 1, NOW)
    assert recall.last.officer == SITI and recall.last.ticket.called_by == SITI
    nxt = engine.call_next(recall.hall, 1, NOW)
    finished, _called = nxt.changes
    assert (finished.kind, finished.officer, finished.ticket.finished_by) == (
        "finished",
        SITI,
        SITI,
    )
    assert engine.ticket_dict(finished.ticket)["called_by"] == "siti"
    assert engine.ticket_dict(finished.ticket)["finished_by"] == "siti"
    skipped = engine.skip(nxt.hall, 1, NOW)
    assert skipped.last.officer == SITI and skipped.last.ticket.finished_by is None
    third = engine.call_next(skipped.hall, 1, NOW)
    moved = engine.transfer(third.hall, 1, "kk", NOW)
    assert moved.last.officer == SITI
    done = engine.finish(
        engine.call_ticket(moved.hall, 1, third.last.ticket.number, NOW).hall, 1, NOW
    )
    assert done.last.ticket.finished_by == SITI


def test_a_counter_without_an_officer_calls_as_before_and_records_nobody():
    outcome = engine.call_next(issue(make_hall()), 1, NOW)
    assert outcome.last.officer is None
    assert engine.ticket_dict(outcome.last.ticket)["called_by"] is None


def test_a_hall_that_requires_officers_serves_only_with_one_signed_in():
    hall = replace(issue(make_hall()), require_officer=True)
    assert_refused(hall, lambda h: engine.call_next(h, 1, NOW), "officer-required")
    called = engine.call_next(signed_in(hall, 1, BUDI), 1, NOW)
    assert called.last.officer == BUDI
    paused = engine.pause(hall, 1, "istirahat", None, NOW)  # breaks need no officer
    assert paused.hall.counters[1].state == "break"


@pytest.mark.parametrize(
    ("setup", "step", "code"),
    [
        (None, lambda h: engine.sign_out(h, 1, NOW), "not-signed-in"),
        ("budi@1", lambda h: engine.sign_in(h, 1, BUDI, NOW), "already-signed-in"),
        ("budi@1+held", lambda h: engine.sign_out(h, 1, NOW), "ticket-held"),
        ("budi@1+held", lambda h: engine.sign_in(h, 2, BUDI, NOW), "officer-busy"),
        (None, lambda h: engine.sign_in(h, 5, BUDI, NOW), "unknown-counter"),
        (None, lambda h: engine.sign_in(h, 42, BUDI, NOW), "unknown-counter"),
        ("budi@1", lambda h: engine.sign_out(h, 5, NOW), "unknown-counter"),
        ("require", lambda h: engine.call_next(h, 1, NOW), "officer-required"),
        ("require+held-away", lambda h: engine.finish(h, 1, NOW), "officer-required"),
        ("require+held-away", lambda h: engine.skip(h, 1, NOW), "officer-required"),
        ("require+held-away", lambda h: engine.recall(h, 1, NOW), "officer-required"),
        ("require+held-away", lambda h: engine.transfer(h, 1, "kk", NOW), "officer-required"),
        ("require", lambda h: engine.call_ticket(h, 1, "A001", NOW), "officer-required"),
    ],
)
def test_illegal_officer_transitions_raise_and_leave_state_untouched(setup, step, code):
    hall = issue(make_hall())
    if setup and setup.startswith("require"):
        hall = replace(hall, require_officer=True)
    if setup and "budi@1" in setup:
        hall = signed_in(hall, 1, BUDI)
    if setup and setup.endswith("+held"):
        hall = engine.call_next(hall, 1, NOW).hall
    if setup == "require+held-away":
        hall = engine.call_next(signed_in(hall, 1, BUDI), 1, NOW).hall
        hall = engine.sign_in(hall, 1, SITI, NOW).hall  # Siti replaces Budi ...
        hall = engine._put_counter(hall, replace(hall.counters[1], officer=None))  # ... and leaves
    assert_refused(hall, step, code)


def test_the_day_roll_signs_everyone_out():
    hall = signed_in(signed_in(make_hall(), 1, BUDI), 2, SITI)
    outcome = engine.close_day(hall, "2026-11-27", NOW)
    assert [c.officer for c in outcome.hall.counters.values()] == [None] * 5
    assert [(c.kind, c.counter, dict(c.data)) for c in outcome.changes] == [
        ("signed_out", 1, {"reason": "day-closed"}),
        ("signed_out", 2, {"reason": "day-closed"}),
    ]
    # Closing early keeps them: the same day goes on.
    same = engine.close_day(hall, hall.day, NOW)
    assert same.hall.counters[1].officer == BUDI


# --- through the shells -------------------------------------------------------------------------


def user_id(hub, username: str) -> int:
    return hub.read(lambda s: s.find_user(username=username))["id"]


def give_pin(hub, username: str, pin: str) -> int:
    from server.officers import hash_pin

    uid = user_id(hub, username)
    hub.write(lambda s: s.set_user_pin(uid, hash_pin(pin)))
    return uid


def emit(sc, command: str, data: dict) -> dict:
    return sc.emit(command, data, namespace=NS_COUNTER, callback=True)


def events_named(sc, name, namespace):
    return [m["args"][0] for m in sc.get_received(namespace) if m["name"] == name]


def test_keypad_sign_in_with_a_pin_reaches_every_screen_and_records_the_officer(socket_client, hub):
    uid = give_pin(hub, "petugas1", "2468")
    display = socket_client(NS_DISPLAY)
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    display.get_received(NS_DISPLAY)
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "s1", "officer": uid, "pin": "2468"})
    assert ack["ok"] is True, ack
    officer = {"username": "petugas1", "full_name": ""}
    assert ack["result"]["counter"]["officer"] == officer
    [event] = events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY)
    assert event["seq"] == ack["seq"]
    # The public namespace (TVs, phones, anyone on the Wi-Fi) learns the name, not the login.
    public = {"full_name": ""}
    assert event["counter"]["officer"] == public
    assert event["officer_change"] == {"kind": "signed_in", "officer": public, "replaced": None}
    [counter_event] = events_named(keypad, protocol.COUNTER_CHANGED, NS_COUNTER)
    assert counter_event["counter"]["officer"] == officer
    assert hub.snapshot()["counters"][0]["officer"] == officer
    # A retry is applied once.
    again = emit(keypad, protocol.SIGN_IN, {"request_id": "s1", "officer": uid, "pin": "2468"})
    assert again["replayed"] is True and again["seq"] == ack["seq"]

    hub.issue("ktp")
    display.get_received(NS_DISPLAY)
    call = emit(keypad, protocol.CALL_NEXT, {"request_id": "s2"})
    assert call["result"]["ticket"]["called_by"] == "petugas1"
    [shown] = events_named(display, protocol.TICKET_CALLED, NS_DISPLAY)
    assert "called_by" not in shown["ticket"] and "petugas1" not in repr(shown)
    done = emit(keypad, protocol.FINISH, {"request_id": "s3"})
    assert done["result"]["ticket"]["finished_by"] == "petugas1"
    rows = hub.read(lambda s: list(s.db.query(
        "SELECT kind, officer FROM events WHERE ticket IS NOT NULL AND kind != 'issued'")))  # fmt: skip
    assert rows == [{"kind": "called", "officer": uid}, {"kind": "finished", "officer": uid}]
    from server import reports

    day = reports.parse_period(hub.hall.day, hub.hall.day)
    events, names = hub.read(lambda s: s.read_report(hub.hall.day, hub.hall.day))
    report = reports.summarise(events, reports.catalogue_from_rows(names), day)
    [(officer, row)] = report.officers.items()
    assert (officer, row.served, row.calls, row.service_time.mean) == (uid, 1, 1, 0.0)

    out = emit(keypad, protocol.SIGN_OUT, {"request_id": "s4"})
    assert out["result"]["counter"]["officer"] is None
    assert (emit(keypad, protocol.SIGN_OUT, {"request_id": "s5"})["error"]) == "not-signed-in"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"officer": "USER", "pin": "1111"}, "bad-pin"),  # wrong PIN
        ({"officer": 999, "pin": "2468"}, "bad-pin"),  # no such officer number
        ({"officer": "ADMIN", "pin": "2468"}, "bad-pin"),  # a user without a PIN
        ({"officer": "USER"}, "bad-request"),  # a PIN without a number, or the other way
        ({"pin": "2468"}, "bad-request"),
        ({"officer": "USER", "pin": "12"}, "bad-request"),  # 4-8 digits
        ({"officer": "USER", "pin": "abcd"}, "bad-request"),
    ],
)
def test_wrong_pins_are_refused_and_change_nothing(socket_client, hub, payload, code):
    uid = give_pin(hub, "petugas1", "2468")
    ids = {"USER": uid, "ADMIN": user_id(hub, "admin")}
    payload = {k: ids.get(v, v) for k, v in payload.items()}
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    seq = hub.seq
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "w1", **payload})
    assert (ack["ok"], ack["error"]) == (False, code)
    assert hub.hall.counters[1].officer is None and hub.seq == seq


def test_an_officer_bound_to_another_counter_is_refused(socket_client, hub):
    uid = give_pin(hub, "petugas3", "1357")
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "f1", "officer": uid, "pin": "1357"})
    assert ack["error"] == "forbidden"


def test_wrong_pins_are_rate_limited_per_counter(socket_client, hub):
    uid = give_pin(hub, "admin", "2468")  # an admin may sign in at any counter
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    other = socket_client(NS_COUNTER, {"counter": 2, "token": TOKENS[2]})
    for i in range(5):
        ack = emit(keypad, protocol.SIGN_IN, {"request_id": f"g{i}", "officer": uid, "pin": "0000"})
        assert ack["error"] == "bad-pin"
    # Now even the right PIN waits: the guesser cannot tell it from a wrong one.
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "g9", "officer": uid, "pin": "2468"})
    assert (ack["error"], ack["retry_after"] > 0) == ("rate-limited", True)
    assert hub.hall.counters[1].officer is None
    # Another counter is not blocked by this one's failures (the officer's own limit is 10).
    ack = emit(other, protocol.SIGN_IN, {"request_id": "g10", "officer": uid, "pin": "2468"})
    assert ack["ok"] is True


def test_sign_in_over_http_needs_a_pin(client, hub):
    uid = give_pin(hub, "petugas1", "2468")
    headers = {"Authorization": f"Bearer {TOKENS[1]}"}

    def post(command, body):
        return client.post(f"/api/counters/1/{command}", json=body, headers=headers)

    r = post("sign_in", {"request_id": "h1"})
    assert (r.status_code, r.get_json()["error"]) == (400, "bad-request")
    r = post("sign_in", {"request_id": "h2", "officer": uid, "pin": "9999"})
    assert (r.status_code, r.get_json()["error"]) == (401, "bad-pin")
    r = post("sign_in", {"request_id": "h3", "officer": uid, "pin": "2468"})
    assert r.status_code == 200
    assert r.get_json()["result"]["counter"]["officer"]["username"] == "petugas1"
    r = post("sign_out", {"request_id": "h4"})
    assert r.status_code == 200 and r.get_json()["result"]["counter"]["officer"] is None


def test_the_console_signs_in_as_its_web_session_user(app, client, socket_client, hub):
    assert login(client, "petugas1", "petugas-secret").status_code == 302
    console = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    ack = emit(console, protocol.SIGN_IN, {"request_id": "c1"})
    assert ack["ok"] is True, ack
    assert hub.hall.counters[1].officer.username == "petugas1"
    # A username sent by the client is no field of the command: refused, not believed.
    ack = emit(console, protocol.SIGN_IN, {"request_id": "c2", "username": "admin"})
    assert ack["error"] == "bad-request"


def test_a_console_without_a_session_cannot_sign_in(socket_client, hub):
    device = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    ack = emit(device, protocol.SIGN_IN, {"request_id": "n1"})
    assert ack["error"] == "login-required"
    assert hub.hall.counters[1].officer is None


def test_an_officer_bound_to_counter_3_cannot_sign_in_at_counter_1_by_session(
    client, socket_client, hub
):
    login(client, "petugas3", "petugas-secret")
    device = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert emit(device, protocol.SIGN_IN, {"request_id": "n2"})["error"] == "forbidden"


def test_the_officer_survives_a_restart_and_so_do_the_ticket_records(config, clock):
    hub = open_hub(config, clock)
    uid = user_id(hub, "petugas1")
    officer = Officer(uid, "petugas1", "")
    hub.command(1, "sign_in", {"officer": officer}, "r1")
    hub.issue("ktp")
    hub.issue("ktp")
    hub.command(1, "call_next", {}, "r2")
    hub.command(1, "call_next", {}, "r3")  # finishes A001
    hub.storage.close()

    again = open_hub(config, clock)
    assert again.hall.counters[1].officer == officer
    assert again.snapshot()["counters"][0]["officer"] == {"username": "petugas1", "full_name": ""}
    held = again.hall.current(1)
    assert held.called_by == officer
    a001 = again.ticket_status(again.hall.day, "A001")["ticket"]
    assert (a001["called_by"], a001["finished_by"]) == ("petugas1", "petugas1")
    # An admin edit of the catalogue reloads the counters: the officer stays.
    again.change_hall("catalogue", lambda s: s.save_counter(again.hall.counters[2]))
    assert again.hall.counters[1].officer == officer
    with pytest.raises(PanggilError, match="already-signed-in"):
        again.command(1, "sign_in", {"officer": officer}, "r4")
    again.storage.close()


def test_a_client_cannot_hand_the_hub_an_unchecked_officer(hub):
    with pytest.raises(PanggilError, match="bad-request"):
        hub.command(1, "sign_in", {"officer": 1}, "x1")


# --- the admin's user page: the keypad PIN ------------------------------------------------------


def test_the_admin_sets_and_clears_a_keypad_pin(client, socket_client, hub):
    from tests.test_admin_pages import log_in as admin_log_in
    from tests.test_admin_pages import post

    admin_log_in(client, "admin", "admin-secret")
    uid = user_id(hub, "petugas1")
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "PIN keypad" in page and f'<strong id="officer-number">{uid}</strong>' in page
    assert "belum ada PIN" in page

    for form, field, text in (
        ({"pin": "12", "pin2": "12"}, "pin", "4 sampai 8 angka."),
        ({"pin": "12ab", "pin2": "12ab"}, "pin", "4 sampai 8 angka."),
        ({"pin": "2468", "pin2": "2469"}, "pin2", "Kedua PIN tidak sama."),
        ({"pin": "", "pin2": ""}, "pin", None),
    ):
        r = post(client, f"/admin/users/{uid}/pin", form)
        assert r.status_code == 400, field
        if text:
            assert text in r.get_data(as_text=True)
        assert hub.read(lambda s: s.find_user(user_id=uid))["pin_hash"] is None

    r = post(client, f"/admin/users/{uid}/pin", {"pin": "2468", "pin2": "2468"})
    assert r.status_code == 302
    stored = hub.read(lambda s: s.find_user(user_id=uid))["pin_hash"]
    assert stored and "2468" not in stored  # a hash, never the PIN
    assert "PIN sudah diatur" in client.get(f"/admin/users/{uid}").get_data(as_text=True)
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "a1", "officer": uid, "pin": "2468"})
    assert ack["ok"] is True
    emit(keypad, protocol.SIGN_OUT, {"request_id": "a2"})
    audit = [row["action"] for row in hub.read(lambda s: s.audit_page(None, 5))]
    assert "user.pin" in audit

    r = post(client, f"/admin/users/{uid}/pin", {"clear": "1"})
    assert r.status_code == 302
    assert hub.read(lambda s: s.find_user(user_id=uid))["pin_hash"] is None
    ack = emit(keypad, protocol.SIGN_IN, {"request_id": "a3", "officer": uid, "pin": "2468"})
    assert ack["error"] == "bad-pin"


# --- the keypad's officer entry -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "outcome", "officer", "pin"),
    [
        ("12 enter 2468 enter", "done", "12", "2468"),
        ("12 + 2468 +", "done", "12", "2468"),  # the keypad's big key works as Enter
        ("13 backspace 2 enter 24689 backspace enter", "done", "12", "2468"),
        ("12 enter 246 enter", "typing", "12", "246"),  # a PIN has 4 digits at least
        ("enter", "typing", "", ""),  # no officer number yet
        ("0 enter", "typing", "0", ""),  # no user is number 0
        ("12 enter 123456789", "typing", "12", "12345678"),  # at most 8 digits
        ("12 esc", "cancel", "12", ""),
        ("12 enter 24 *", "cancel", "12", "24"),  # any other key cancels
    ],
)
def test_the_keypad_entry_of_officer_number_and_pin(keys, outcome, officer, pin):
    from counter_client.entry import SignInEntry

    entry = SignInEntry()
    result = None
    for word in keys.split():
        for key in [word] if not word.isdigit() else list(word):
            result = entry.key(key)
            if result in ("done", "cancel"):
                break
    assert (result, entry.officer, entry.pin) == (outcome, officer, pin)


def test_the_keypad_entry_never_shows_the_pin():
    from counter_client.entry import SignInEntry
    from counter_client.texts import Texts

    entry = SignInEntry()
    for key in ["7", "enter", "2", "4", "6"]:
        entry.key(key)
    prompt = entry.prompt(Texts("id"))
    assert prompt.endswith("Petugas 7 — ketik PIN lalu Enter (Esc batal): ***_")
    assert "246" not in prompt


# --- the day report per officer -----------------------------------------------------------------


def test_the_day_report_counts_per_officer(client, hub, clock):
    from tests.test_admin_pages import log_in as admin_log_in

    budi = Officer(user_id(hub, "petugas1"), "petugas1", "")
    siti = Officer(user_id(hub, "admin"), "admin", "Admin Uji")
    for _ in range(4):
        hub.issue("ktp")
    hub.command(1, "sign_in", {"officer": budi}, "d1")
    hub.command(2, "sign_in", {"officer": siti}, "d2")
    hub.command(1, "call_next", {}, "d3")  # A001 by Budi
    clock.advance(minutes=4)
    hub.command(1, "recall", {}, "d4")
    clock.advance(minutes=2)
    hub.command(1, "finish", {}, "d5")  # served in 6 minutes
    hub.command(2, "call_next", {}, "d6")  # A002 by Siti, then skipped
    hub.command(2, "skip", {}, "d7")
    hub.command(1, "call_next", {}, "d8")  # A003 by Budi ...
    clock.advance(minutes=2)
    hub.command(1, "finish", {}, "d10")  # ... in 2 minutes
    hub.command(2, "sign_out", {}, "d11")
    hub.command(2, "call_next", {}, "d12")  # A004 with nobody signed in: counts for nobody
    hub.command(2, "finish", {}, "d13")

    admin_log_in(client, "admin", "admin-secret")
    html = client.get("/admin/day").get_data(as_text=True)
    table = html[html.index('id="officer-report"') :]
    rows = re.findall(r"<tr><td>(.*?)</tr>", table, re.S)
    cells = [re.findall(r'<td class="num">([^<]*)</td>', row) for row in rows]
    assert cells == [["3", "2", "0", "4:00"], ["1", "0", "1", "-"]]
    assert "petugas1" in rows[0] and "Admin Uji" in rows[1]
    assert "Per petugas" in html


def test_a_day_without_officers_says_so(client, hub):
    from tests.test_admin_pages import log_in as admin_log_in

    hub.issue("ktp")
    hub.command(1, "call_next", {}, "e1")
    hub.command(1, "finish", {}, "e2")
    admin_log_in(client, "admin", "admin-secret")
    html = client.get("/admin/day").get_data(as_text=True)
    assert 'id="officer-report-empty"' in html and 'id="officer-report"' not in html


def test_the_day_roll_signs_everyone_out_and_says_so(socket_client, hub, clock):
    hub.command(1, "sign_in", {"officer": Officer(user_id(hub, "petugas1"), "petugas1", "")}, "r1")
    display = socket_client(NS_DISPLAY)
    display.get_received(NS_DISPLAY)
    clock.advance(days=1)
    hub.tick()
    [event] = events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY)
    assert event["counter"]["officer"] is None
    assert event["officer_change"]["reason"] == "day-closed"
    assert hub.read(lambda s: s.load_catalogue())[2][1].officer is None


def test_a_deactivated_user_is_signed_out_even_with_a_ticket_held():
    hall = engine.call_next(signed_in(issue(make_hall()), 1, BUDI), 1, NOW).hall
    outcome = engine.sign_out_user(hall, BUDI.id, NOW)
    assert outcome.hall.counters[1].officer is None
    assert outcome.hall.current(1) is not None  # still called: the next officer finishes it
    assert [(c.kind, dict(c.data)) for c in outcome.changes] == [
        ("signed_out", {"reason": "deactivated"})
    ]
    assert_refused(outcome.hall, lambda h: engine.sign_out_user(h, BUDI.id, NOW), "not-signed-in")


def test_the_admin_deactivating_an_officer_signs_them_out(client, socket_client, hub):
    from tests.test_admin_pages import log_in as admin_log_in
    from tests.test_admin_pages import post

    uid = user_id(hub, "petugas1")
    hub.command(1, "sign_in", {"officer": Officer(uid, "petugas1", "")}, "z1")
    display = socket_client(NS_DISPLAY)
    display.get_received(NS_DISPLAY)
    admin_log_in(client, "admin", "admin-secret")
    form = {"full_name": "", "role": "officer", "counter": "1"}  # "active" unticked
    assert post(client, f"/admin/users/{uid}", form).status_code == 302
    assert hub.hall.counters[1].officer is None
    [event] = events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY)
    assert event["officer_change"]["reason"] == "deactivated"
    # Saving an inactive user again changes nothing more.
    assert post(client, f"/admin/users/{uid}", form).status_code == 302
    assert events_named(display, protocol.COUNTER_CHANGED, NS_DISPLAY) == []


def test_the_public_snapshot_names_the_officer_but_never_the_login(client, socket_client, hub):
    uid = give_pin(hub, "petugas1", "2468")
    keypad = socket_client(NS_COUNTER, {"counter": 1, "token": TOKENS[1]})
    assert emit(keypad, protocol.SIGN_IN, {"request_id": "p1", "officer": uid, "pin": "2468"})["ok"]
    hub.issue("ktp")
    assert emit(keypad, protocol.CALL_NEXT, {"request_id": "p2"})["ok"]
    display = socket_client(NS_DISPLAY)
    [snap] = events_named(display, protocol.SNAPSHOT, NS_DISPLAY)
    api = client.get("/api/snapshot").get_json()
    for public in (snap, api):
        assert public["counters"][0]["officer"] == {"full_name": ""}
        assert public["counters"][0]["current"]["number"] == "A001"
        assert "petugas1" not in repr(public)
    # The counter itself still knows who is signed in.
    emit(keypad, protocol.GET_SNAPSHOT, {})
    [own] = events_named(keypad, protocol.SNAPSHOT, NS_COUNTER)[-1:]
    assert own["me"]["officer"]["username"] == "petugas1"
