"""Service-level targets: waits against each service's target wait, pure and through every shell."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server import engine, payloads, targets
from server.engine import Agency, Counter, Hall, Service

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=WIB)  # a Thursday


def make_hall(ktp_target: int | None = 30, kk_target: int | None = None) -> Hall:
    services = {
        "ktp": Service("ktp", "KTP", "dukcapil", "A", target_wait=ktp_target),
        "kk": Service("kk", "KK", "dukcapil", "B", target_wait=kk_target),
    }
    return Hall(
        day="2026-11-26",
        agencies=engine.frozen_map({"dukcapil": Agency("dukcapil", "Dukcapil")}),
        services=engine.frozen_map(services),
        counters=engine.frozen_map({1: Counter(1, "Gerai 1", "gerai satu", ("ktp", "kk"))}),
        enforce_hours=False,
    )


def issue(hall: Hall, minute: int, service: str = "ktp", priority: str | None = None) -> Hall:
    """A ticket taken `minute` minutes after 09:00."""
    return engine.issue_ticket(hall, service, T0 + timedelta(minutes=minute), priority).hall


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("target", "issued", "now", "minutes", "past"),
    [
        (None, [0], 120, 120, False),  # no target: never past it
        (30, [], 45, None, False),  # nobody waiting
        (30, [0], 30, 30, False),  # exactly at the target: still within it
        (30, [0], 30.99, 30, False),  # 30 whole minutes: still within it
        (30, [0], 31, 31, True),  # the first whole minute past it
        (30, [0, 20], 42, 42, True),  # the oldest decides; the newer one is within
        (1, [0], 0.5, 0, False),  # a fresh ticket
    ],
)
def test_a_service_against_its_target(target, issued, now, minutes, past):
    hall = make_hall(ktp_target=target)
    for minute in issued:
        hall = issue(hall, minute)
    wait = targets.service_wait(hall, hall.services["ktp"], at(now))
    assert wait.target_wait == target
    assert wait.waiting == len(issued)
    assert (wait.oldest.minutes if wait.oldest else None) == minutes
    assert wait.past_target is past


def test_each_ticket_is_judged_and_counted_oldest_first():
    hall = make_hall()
    for minute in (0, 5, 20, 40):
        hall = issue(hall, minute)
    hall = issue(hall, 1, "kk")  # another queue, no target
    waits = targets.service_waits(hall, at(45))
    ktp = waits["ktp"]
    assert [(t.ticket.number, t.minutes, t.past_target) for t in ktp.tickets] == [
        ("A001", 45, True), ("A002", 40, True), ("A003", 25, False), ("A004", 5, False),
    ]  # fmt: skip
    assert ktp.past_target_count == 2
    assert (waits["kk"].waiting, waits["kk"].past_target_count, waits["kk"].past_target) == (
        1,
        0,
        False,
    )


def test_priority_does_not_change_who_waited_longest():
    hall = issue(issue(make_hall(), 0), 10, priority="elderly")
    wait = targets.service_wait(hall, hall.services["ktp"], at(35))
    assert wait.oldest.ticket.number == "A001"
    assert [t.past_target for t in wait.tickets] == [True, False]


def test_called_and_skipped_tickets_are_not_waiting():
    hall = issue(issue(issue(make_hall(), 0), 1), 2)
    hall = engine.call_next(hall, 1, at(3)).hall  # A001 at the desk
    hall = engine.skip(hall, 1, at(4)).hall  # A001 did not come
    hall = engine.call_next(hall, 1, at(5)).hall  # A002 at the desk
    wait = targets.service_wait(hall, hall.services["ktp"], at(50))
    assert [t.ticket.number for t in wait.tickets] == ["A003"]


def test_a_transferred_ticket_has_waited_since_it_was_taken():
    """The visitor waits since the number was taken: a transfer does not restart the wait."""
    hall = issue(make_hall(ktp_target=None, kk_target=30), 0)  # A001 at 09:00
    hall = engine.call_next(hall, 1, at(25)).hall
    hall = engine.transfer(hall, 1, "kk", at(28)).hall  # sent on to KK at 09:28
    hall = issue(hall, 29, "kk")  # B001 at 09:29
    wait = targets.service_wait(hall, hall.services["kk"], at(35))
    assert [(t.ticket.number, t.minutes, t.past_target) for t in wait.tickets] == [
        ("A001", 35, True),
        ("B001", 6, False),
    ]
    assert payloads.service_info(hall, hall.services["kk"])["oldest_waiting_since"] == (
        "2026-11-26T09:00:00+07:00"
    )


def test_a_clock_behind_the_ticket_never_gives_a_negative_wait():
    assert targets.wait_minutes(at(10), at(9)) == 0


# --- the protocol's fields ------------------------------------------------------------------------


def test_service_objects_carry_the_target_and_the_oldest_wait():
    hall = issue(issue(make_hall(), 3), 7)
    ktp = payloads.service_info(hall, hall.services["ktp"])
    kk = payloads.service_info(hall, hall.services["kk"])
    assert (ktp["target_wait"], ktp["oldest_waiting_since"]) == (30, "2026-11-26T09:03:00+07:00")
    assert (kk["target_wait"], kk["oldest_waiting_since"]) == (None, None)


def test_events_carry_the_oldest_wait_of_the_queues_they_change():
    hall = issue(issue(make_hall(), 0), 5)
    called = engine.call_next(hall, 1, at(10))
    (payload,) = [payloads.event_payload(c, called.hall) for c in called.changes]
    assert payload["waiting"] == {"ktp": 1}
    assert payload["oldest_waiting_since"] == {"ktp": "2026-11-26T09:05:00+07:00"}
    emptied = engine.call_next(called.hall, 1, at(11))
    payload = payloads.event_payload(emptied.changes[-1], emptied.hall)
    assert payload["oldest_waiting_since"] == {"ktp": None}


# --- config, storage, admin form -----------------------------------------------------------------


def test_the_config_seeds_the_target_and_the_database_keeps_it(tmp_path):
    from server.config import parse_config
    from server.storage import Storage
    from tests.conftest import hall_config

    raw = hall_config(tmp_path)
    raw["services"][0]["target_wait"] = 30
    config = parse_config(raw, base_dir=tmp_path)
    assert [s.to_service().target_wait for s in config.services] == [30, None, None]
    storage = Storage(tmp_path / "t.sqlite")
    with storage.transaction():
        storage.save_agency(Agency("dukcapil", "Dukcapil"))
        for s in config.services[:2]:
            storage.save_service(s.to_service())
    _, services, _ = storage.load_catalogue()
    assert (services["ktp"].target_wait, services["kk"].target_wait) == (30, None)
    with storage.transaction():
        storage.save_service(engine.replace(services["ktp"], target_wait=None))
    assert storage.load_catalogue()[1]["ktp"].target_wait is None


@pytest.mark.parametrize("value", [0, 601, "half an hour"])
def test_the_config_refuses_a_bad_target(tmp_path, value):
    from server.config import ConfigError, parse_config
    from tests.conftest import hall_config

    raw = hall_config(tmp_path)
    raw["services"][0]["target_wait"] = value
    with pytest.raises(ConfigError, match=r"services\.0\.target_wait"):
        parse_config(raw, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "target", "problem"),
    [
        ("", None, None),
        ("30", 30, None),
        (" 1 ", 1, None),
        ("600", 600, None),
        ("0", None, "A whole number from %(low)d to %(high)d."),
        ("601", None, "A whole number from %(low)d to %(high)d."),
        ("setengah jam", None, "A whole number from %(low)d to %(high)d."),
        ("-5", None, "A whole number from %(low)d to %(high)d."),
    ],
)
def test_the_service_form_takes_a_target_of_1_to_600_minutes_or_none(text, target, problem):
    from server.pages.admin_forms import FormError, validate_service

    form = {"code": "paspor", "agency": "dukcapil", "name": "Paspor", "prefix": "C",
            "target_wait": text}  # fmt: skip
    agencies = {"dukcapil": Agency("dukcapil", "Dukcapil")}
    if problem is None:
        assert validate_service(form, agencies=agencies, services={}).target_wait == target
        return
    with pytest.raises(FormError) as err:
        validate_service(form, agencies=agencies, services={})
    assert err.value.errors["target_wait"].message == problem
    assert err.value.errors["target_wait"].params == {"low": 1, "high": 600}


def test_the_admin_sets_a_target_and_every_screen_gets_it(client, hub, socket_client):
    from tests.test_admin_pages import log_in, post

    log_in(client, "admin", "admin-secret")
    page = client.get("/admin/services/ktp").get_data(as_text=True)
    assert "Target waktu tunggu (menit)" in page
    form = {"name": "KTP", "agency": "dukcapil", "prefix": "A",
            "hours": "07:30-16:00", "active": "on", "priority_allowed": "on"}  # fmt: skip
    refused = post(client, "/admin/services/ktp", {**form, "target_wait": "0"})
    assert "Bilangan bulat dari 1 sampai 600." in refused.get_data(as_text=True)
    assert hub.hall.services["ktp"].target_wait is None
    saved = post(client, "/admin/services/ktp", {**form, "target_wait": "30"})
    assert saved.status_code == 302
    assert hub.hall.services["ktp"].target_wait == 30
    listing = client.get("/admin/services").get_data(as_text=True)
    assert "30 menit" in listing

    display = socket_client("/display")
    snap = next(m["args"][0] for m in display.get_received("/display") if m["name"] == "snapshot")
    ktp = next(s for s in snap["services"] if s["code"] == "ktp")
    assert (ktp["target_wait"], ktp["oldest_waiting_since"]) == (30, None)


def test_the_monitor_lists_the_longest_waits(client, hub, clock):
    from tests.test_admin_pages import log_in

    hub.change_hall("catalogue", lambda s: s.save_service(
        engine.replace(hub.hall.services["ktp"], target_wait=30)))  # fmt: skip
    hub.issue("ktp")
    clock.advance(minutes=20)
    hub.issue("ktp")
    hub.issue("kk")
    clock.advance(minutes=15)
    assert client.get("/admin/waiting.json").status_code in (302, 401, 403)  # admins only
    log_in(client, "admin", "admin-secret")
    body = client.get("/admin/waiting.json").get_json()
    assert body["now"] == "2026-11-26T09:35:00+07:00"
    ktp = next(s for s in body["services"] if s["code"] == "ktp")
    assert (ktp["target_wait"], ktp["waiting"], ktp["past_target"]) == (30, 2, 1)
    assert ktp["tickets"] == [
        {"number": "A001", "priority": None, "waiting_since": "2026-11-26T09:00:00+07:00",
         "minutes": 35, "past_target": True},
        {"number": "A002", "priority": None, "waiting_since": "2026-11-26T09:20:00+07:00",
         "minutes": 15, "past_target": False},
    ]  # fmt: skip
    kk = next(s for s in body["services"] if s["code"] == "kk")
    assert (kk["target_wait"], kk["past_target"]) == (None, 0)
