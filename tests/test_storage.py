"""Storage on real SQLite files: migrations, all-or-nothing writes, restart and SIGKILL recovery."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from server.protocol import PanggilError
from server.hub import Hub, utc_now
from server.storage import MIGRATIONS, Storage, StorageError
from tests.conftest import ROOT


def open_hub(config, clock, broadcast=None) -> Hub:
    hub = Hub(Storage(config.path(config.server.database)), clock=clock, broadcast=broadcast,
              enforce_hours=False)  # fmt: skip
    hub.seed(config)
    hub.load()
    return hub


def test_pragmas_and_schema(tmp_path):
    storage = Storage(tmp_path / "a.sqlite")
    assert storage.schema_version == len(MIGRATIONS)
    assert storage.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert storage.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert storage.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    storage.close()
    assert Storage(tmp_path / "a.sqlite").schema_version == len(MIGRATIONS)  # migrations run once


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer than this program"):
        Storage(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        Storage(path)


def test_foreign_keys_are_enforced(tmp_path):
    storage = Storage(tmp_path / "fk.sqlite")
    with pytest.raises(sqlite3.IntegrityError), storage.transaction():
        storage.db.execute(
            "INSERT INTO services (code, agency, name, prefix) VALUES ('x', 'nope', 'X', 'X')"
        )
    assert storage.db["services"].count == 0


def test_restart_restores_the_day(config, clock):
    hub = open_hub(config, clock)
    for _ in range(3):
        hub.issue("ktp")
    hub.command(1, "call_next", {}, "r1")
    hub.command(2, "call_next", {}, "r2")
    hub.command(2, "skip", {}, "r3")
    seq = hub.seq
    hub.storage.close()

    again = open_hub(config, clock)
    assert again.seq == seq
    assert again.hall.current(1).number == "A001"
    assert again.hall.find("A002").status == "skipped"
    assert again.hall.find("A003").status == "waiting"
    assert again.issue("ktp")["result"]["ticket"]["number"] == "A004"
    assert [c["ticket"]["number"] for c in again.snapshot()["recent_calls"]] == ["A002", "A001"]
    # A retried press after the restart is still applied once.
    assert again.command(1, "call_next", {}, "r1")["replayed"] is True


def test_the_schedule_is_seeded_once_and_survives_a_restart(tmp_path, clock):
    from datetime import date

    from server.config import parse_config
    from server.schedule import CalendarEntry, HallBreak
    from tests.conftest import hall_config

    raw = hall_config(
        tmp_path,
        hall={"hours": "07:30-16:00", "hours_by_day": {"sat": "", "sun": ""},
              "breaks": [{"days": ["fri"], "from": "11:30", "to": "13:00", "label": "Sholat Jumat"}]},
        calendar=[{"date": "2026-12-25", "label": "Hari Raya Natal"}],
    )  # fmt: skip
    raw["agencies"][1]["weekdays"] = ["mon", "tue"]
    raw["services"][2]["cutoff_minutes"] = 45
    config = parse_config(raw)
    hub = open_hub(config, clock)
    assert hub.hall.schedule == config.hall_schedule()
    assert hub.hall.agencies["imigrasi"].weekdays == frozenset({0, 1})
    assert hub.hall.services["paspor"].cutoff == 45
    # An admin's edits: the DB rules from now on, config.yaml's schedule is not seeded again.
    ramadan = CalendarEntry(date(2027, 2, 8), date(2027, 3, 8), "Ramadan", ((480, 840),))
    hub.change_hall("schedule", lambda s: (
        s.save_hall_breaks([HallBreak(frozenset({4}), 690, 790, "Jumatan")]),
        s.add_calendar_entry(ramadan),
        s.save_hall_hours(None)))  # fmt: skip
    edited = hub.hall.schedule
    assert edited.hours is None and edited.calendar[-1] == ramadan
    hub.storage.close()

    again = open_hub(config, clock)
    assert again.hall.schedule == edited
    assert again.hall.agencies["imigrasi"].weekdays == frozenset({0, 1})
    assert again.hall.services["paspor"].cutoff == 45


def test_a_database_from_before_schedules_gets_the_config_schedule(tmp_path, clock):
    from server.config import parse_config
    from tests.conftest import hall_config

    plain = parse_config(hall_config(tmp_path))
    open_hub(plain, clock).storage.close()
    with sqlite3.connect(plain.path(plain.server.database)) as conn:  # as an older version left it
        conn.execute("DELETE FROM settings WHERE key IN ('hall.hours', 'hall.breaks')")
    config = parse_config(
        hall_config(tmp_path, calendar=[{"date": "2026-12-25", "label": "Natal"}])
    )
    hub = open_hub(config, clock)
    assert [e.label for e in hub.hall.schedule.calendar] == ["Natal"]
    hub.storage.close()
    again = open_hub(config, clock)  # seeded once: not a second copy
    assert [e.label for e in again.hall.schedule.calendar] == ["Natal"]


def test_after_a_restart_today_s_ended_tickets_are_known(config, clock):
    hub = open_hub(config, clock)
    for _ in range(3):
        hub.issue("ktp")
    hub.command(1, "call_next", {}, "r1")
    hub.command(1, "finish", {}, "r2")
    hub.cancel("A002")
    hub.close_day()
    hub.storage.close()

    again = open_hub(config, clock)
    assert again.hall.ended == {"A001", "A002", "A003"}
    with pytest.raises(PanggilError, match="ticket-not-callable"):
        again.command(2, "call_ticket", {"number": "A001"}, "r3")


def test_after_a_restart_a_retry_and_the_snapshot_still_carry_the_announcement(config, clock):
    hub = open_hub(config, clock)
    hub.issue("ktp")
    first = hub.command(1, "call_next", {}, "r1")
    assert first["result"]["call"]["announcement"]["text"]
    hub.storage.close()

    again = open_hub(config, clock)
    replayed = again.command(1, "call_next", {}, "r1")
    assert replayed.pop("replayed") is True
    assert replayed == first
    recent = again.snapshot()["recent_calls"]
    assert recent[0]["announcement"] == first["result"]["call"]["announcement"]


def test_a_failed_write_of_the_announcement_keeps_the_call(config, clock, monkeypatch):
    """The call is committed and sent before its announcement is stored: it stands."""
    sent = []
    hub = open_hub(config, clock, broadcast=lambda name, message: sent.append(name))
    hub.issue("ktp")

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(hub.storage, "save_request_response", broken)
    answer = hub.command(1, "call_next", {}, "r1")
    assert answer["result"]["call"]["announcement"]["text"] and sent[-1] == "ticket_called"
    assert hub.hall.current(1).number == "A001"
    monkeypatch.undo()
    replayed = hub.command(1, "call_next", {}, "r1")
    assert replayed["replayed"] is True and replayed["result"]["ticket"]["number"] == "A001"


def test_failed_write_changes_nothing_and_broadcasts_nothing(config, clock, monkeypatch):
    sent = []
    hub = open_hub(config, clock, broadcast=lambda name, message: sent.append(name))
    hub.issue("ktp")
    before = (
        hub.hall,
        hub.seq,
        hub.storage.db["tickets"].count,
        hub.storage.db["events"].count,
        len(sent),
    )

    original = hub.storage.save_request

    def broken(*args, **kwargs):
        original(*args, **kwargs)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(hub.storage, "save_request", broken)
    with pytest.raises(PanggilError, match="internal-error"):
        hub.command(1, "call_next", {}, "boom")
    after = (
        hub.hall,
        hub.seq,
        hub.storage.db["tickets"].count,
        hub.storage.db["events"].count,
        len(sent),
    )
    assert after == before
    assert hub.storage.db.execute("SELECT status FROM tickets").fetchone()[0] == "waiting"
    monkeypatch.undo()
    assert hub.command(1, "call_next", {}, "boom")["result"]["ticket"]["number"] == "A001"


def test_day_rolls_over_at_the_boundary_and_history_is_kept(config, clock):
    sent = []
    hub = open_hub(config, clock, broadcast=lambda name, message: sent.append(message))
    hub.issue("ktp")
    hub.issue("ktp")
    hub.command(1, "call_next", {}, "r1")
    clock.advance(hours=15)  # 00:00 WIB on Friday
    hub.tick()
    assert hub.hall.day == "2026-11-27"
    assert [m["event"] for m in sent[-3:]] == ["ticket_expired", "ticket_expired", "day_closed"]
    assert sent[-1]["expired"] == 2
    rows = dict(
        hub.storage.db.execute(
            "SELECT number, status FROM tickets WHERE day = '2026-11-26'"
        ).fetchall()
    )
    assert rows == {"A001": "expired", "A002": "expired"}
    assert hub.issue("ktp")["result"]["ticket"]["id"] == "2026-11-27/A001"
    closed = hub.storage.db.execute(
        "SELECT closed_at FROM days WHERE day = '2026-11-26'"
    ).fetchone()[0]
    assert closed is not None


def test_a_clock_set_back_does_not_reopen_a_past_day(config, clock):
    hub = open_hub(config, clock)
    clock.advance(days=1)
    hub.tick()
    clock.advance(days=-1)
    hub.tick()
    assert hub.hall.day == "2026-11-27"


def test_admin_closes_the_day_early(config, clock):
    hub = open_hub(config, clock)
    hub.issue("ktp")
    hub.close_day()
    assert hub.hall.tickets == {}
    assert hub.issue("ktp")["result"]["ticket"]["number"] == "A002"


KILLER = textwrap.dedent(
    """
    import sys
    from server.config import load_config
    from server.hub import Hub, utc_now
    from server.storage import Storage
    config = load_config(sys.argv[1])
    hub = Hub(Storage(config.path(config.server.database)), enforce_hours=False)
    hub.seed(config)
    hub.load()
    for i in range(100000):
        number = hub.issue("ktp")["result"]["ticket"]["number"]
        print(number, flush=True)  # acknowledged only after the commit
    """
)


def test_acknowledged_tickets_survive_sigkill(tmp_path):
    import yaml

    from tests.conftest import hall_config

    raw = hall_config(tmp_path)
    raw["services"][0].pop("hours")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    process = subprocess.Popen([sys.executable, "-c", KILLER, str(config_path)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    acknowledged = []
    for line in process.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) == 40:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(10)
    acknowledged += [line.strip() for line in process.stdout if line.strip()]

    from server.config import load_config

    config = load_config(config_path)
    hub = open_hub(config, utc_now)
    stored = {r["number"] for r in hub.storage.db.query("SELECT number FROM tickets")}
    assert set(acknowledged) <= stored
    assert len(stored) >= 40
    # Numbers go on without a gap or a duplicate after the crash.
    seqs = sorted(int(n[1:]) for n in stored)
    assert seqs == list(range(1, len(seqs) + 1))
    assert hub.storage.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_quota_after_restart_does_not_count_cancelled_tickets(config, clock):
    hub = open_hub(config, clock)
    for _ in range(3):
        hub.issue("kk")  # quota 3
    hub.cancel("B003")
    hub.storage.close()
    again = open_hub(config, clock)
    assert again.issue("kk")["result"]["ticket"]["number"] == "B004"
    with pytest.raises(PanggilError, match="quota-reached"):
        again.issue("kk")


def test_display_rows_round_trip(tmp_path):
    storage = Storage(tmp_path / "d.sqlite")
    with storage.transaction():
        storage.add_display("lobi", [1, 2], None)
        storage.add_display("atas", None, ["ktp"])
    assert storage.display_exists("lobi") and not storage.display_exists("nope")
    assert [d["name"] for d in storage.list_displays()] == ["atas", "lobi"]
    assert storage.find_display("lobi")["counters"] == [1, 2]
    assert storage.find_display("lobi")["services"] is None
    assert storage.find_display("nope") is None
    with storage.transaction():
        storage.update_display("lobi", None, ["kk"])
        storage.mark_display_seen("lobi", "2026-11-26T09:00:00+07:00", "10.0.0.5")
        storage.mark_display_seen("nope", "2026-11-26T09:00:00+07:00", None)  # no row: nothing
        storage.delete_display("atas")
    found = storage.find_display("lobi")
    assert (found["counters"], found["services"]) == (None, ["kk"])
    assert (found["last_seen"], found["address"]) == ("2026-11-26T09:00:00+07:00", "10.0.0.5")
    assert [d["name"] for d in storage.list_displays()] == ["lobi"]


def test_catalogue_questions(tmp_path):
    from server import engine

    storage = Storage(tmp_path / "c.sqlite")
    with storage.transaction():
        storage.save_agency(engine.Agency("dukcapil", "Dukcapil"))
        storage.save_agency(engine.Agency("spare", "Spare"))
        storage.save_service(engine.Service(code="ktp", name="KTP", agency="dukcapil", prefix="A"))
        storage.save_counter(engine.Counter(number=1, name="Gerai 1", spoken_name="gerai satu",
                                            services=("ktp",)), token="t1")  # fmt: skip
        storage.delete_agency("spare")
        storage.save_setting("hall.logo", "x")
        storage.save_setting("hall.logo_url", "/media/x")
        storage.save_setting("hall.name", "MPP")
        storage.delete_settings("hall.logo", "hall.logo_url")
    assert storage.agency_exists("dukcapil") and not storage.agency_exists("spare")
    assert storage.service_exists("ktp") and not storage.service_exists("kk")
    assert storage.service_using_prefix("A", other_than="kk") == "KTP"
    assert storage.service_using_prefix("A", other_than="ktp") is None
    assert storage.counter_exists(1) and not storage.counter_exists(2)
    assert storage.load_settings() == {"hall.name": "MPP"}


def test_user_updates_and_audit_pages(tmp_path, clock):
    storage = Storage(tmp_path / "u.sqlite")
    with storage.transaction():
        uid = storage.add_user("siti", "hash-1", "officer", clock())
        storage.update_user(uid, full_name="Siti A.", role="admin", counter=None, active=False)
        storage.replace_password(uid, "hash-2")
        for i in range(5):
            storage.add_audit(clock(), "siti", "test", str(i), {"i": i})
    user = storage.find_user(user_id=uid)
    assert (user["full_name"], user["role"], user["active"]) == ("Siti A.", "admin", 0)
    assert user["password_hash"] == "hash-2"  # and still inactive: replace_password keeps it
    page = storage.audit_page(None, 3)
    assert [r["target"] for r in page] == ["4", "3", "2"] and page[0]["detail"] == {"i": 4}
    assert [r["target"] for r in storage.audit_page(page[-1]["id"], 3)] == ["1", "0"]


def test_day_history_reads(config, clock):
    hub = open_hub(config, clock)
    hub.issue("ktp")
    hub.command(1, "call_next", {}, "r1")
    clock.advance(minutes=5)
    hub.command(1, "finish", {}, "r2")
    storage = hub.storage
    assert storage.recent_days() == ["2026-11-26"]
    kinds = sorted(e["kind"] for e in storage.ticket_events("2026-11-26"))  # no order promised
    assert kinds == ["called", "finished", "issued"]
    data = storage.finished_event_data("ktp", "2026-11-19", 10)
    assert len(data) == 1 and json.loads(data[0])["ticket"]["number"] == "A001"
    assert storage.finished_event_data("kk", "2026-11-19", 10) == []
    assert storage.finished_event_data("ktp", "2026-11-27", 10) == []
