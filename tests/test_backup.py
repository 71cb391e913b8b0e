"""Backup and restore of the hall's database (server/backup.py and its CLI), with real processes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.backup import BackupError, backup_database, check_database, restore_database
from server.lock import DatabaseLock, DatabaseLocked
from tests.conftest import ROOT, LiveServer

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args[:1], "--config", str(config), *args[1:]],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip


def tickets_in(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM tickets")}
    finally:
        conn.close()


@pytest.fixture
def database(hub, config):
    """The test hall's database with three tickets, as the running app left it (WAL mode)."""
    for _ in range(3):
        hub.issue("ktp", None)
    return config.path(config.server.database)


def test_backup_is_one_checked_file_with_every_ticket(database, hub, tmp_path):
    summary = backup_database(database, tmp_path / "out" / "backup.sqlite")
    assert summary.tickets == 3 and summary.schema >= 2
    assert str(tmp_path / "out" / "backup.sqlite") in summary.describe()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["backup.sqlite"]  # no -wal
    assert tickets_in(summary.path) == set(hub.hall.tickets)


def test_restore_swaps_the_file_and_keeps_the_old_one(database, hub, tmp_path):
    backup_database(database, tmp_path / "backup.sqlite")
    hub.issue("ktp", None)  # after the backup: gone after the restore, kept aside
    after = set(hub.hall.tickets)
    hub.storage.close()
    kept = restore_database(tmp_path / "backup.sqlite", database, now=NOW)
    assert kept == database.with_name("panggil.sqlite.before-restore-20261126T020000Z")
    assert tickets_in(kept) == after
    assert len(tickets_in(database)) == 3
    assert not database.with_name("panggil.sqlite-wal").exists()
    assert check_database(database).tickets == 3


def damage(path: Path) -> None:
    """Overwrite the middle of the file: pages that integrity_check reads."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


def newer_schema(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def other_database(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text)")
    conn.close()


@pytest.mark.parametrize("spoil, message", [
    (lambda p: p.write_text("not a database at all"), "is not a SQLite database"),
    (lambda p: p.write_bytes(p.read_bytes()[:1000]), "backup.sqlite"),
    (damage, "backup.sqlite"),
    (newer_schema, "has schema 99, newer than this program"),
    (other_database, "is not a Panggil database"),
])  # fmt: skip
def test_a_bad_backup_is_refused_and_the_database_is_untouched(
    database, hub, tmp_path, spoil, message
):
    backup = backup_database(database, tmp_path / "backup.sqlite").path
    spoil(backup)
    hub.storage.close()
    before = database.read_bytes()
    with pytest.raises(BackupError, match=message):
        restore_database(backup, database, now=NOW)
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.glob("panggil.sqlite*")) == [
        "panggil.sqlite", "panggil.sqlite.lock"]  # fmt: skip


def test_restore_is_refused_while_the_lock_is_held(database, tmp_path):
    backup = backup_database(database, tmp_path / "backup.sqlite").path
    with DatabaseLock(database), pytest.raises(DatabaseLocked):
        restore_database(backup, database, now=NOW)


def test_the_cli_refuses_a_file_that_is_not_a_backup(tmp_path):
    server = LiveServer(tmp_path / "hall")  # only its config; never started
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + bytes(2000))
    done = cli(server.config_path, "restore", str(junk))
    assert done.returncode == 1
    assert f"{junk} is not a SQLite database; the database was not changed" in done.stderr
    assert not server.database.exists()


@pytest.mark.slow
def test_backup_while_serving_then_restore(tmp_path):
    """A backup taken while a real server issues tickets holds every acknowledged ticket;
    restore is refused while the server runs; after a restore the server serves the backup."""
    server = LiveServer(tmp_path / "hall").start()
    acknowledged: list[tuple[float, dict]] = []
    stop = threading.Event()

    def issue_tickets() -> None:
        while not stop.is_set():
            ticket = server.issue()
            acknowledged.append((time.monotonic(), ticket))

    writer = threading.Thread(target=issue_tickets)
    writer.start()
    try:
        while len(acknowledged) < 20:
            time.sleep(0.05)
        started = time.monotonic()
        done = cli(server.config_path, "backup", str(tmp_path / "backup.sqlite"))
        finished = len(acknowledged)
        while len(acknowledged) < finished + 5:  # a few more after the backup
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join(30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'backup.sqlite'} (")
    before = {t["id"] for at, t in acknowledged if at < started}
    in_backup = tickets_in(tmp_path / "backup.sqlite")
    assert before <= in_backup
    assert check_database(tmp_path / "backup.sqlite").tickets == len(in_backup)
    later = [t for t in acknowledged if t[1]["id"] not in in_backup]
    assert later, "the writer went on issuing after the backup"

    refused = cli(server.config_path, "restore", str(tmp_path / "backup.sqlite"))
    assert refused.returncode == 2
    assert f"in use by process {server.process.pid}" in refused.stderr
    assert "stop the server first" in refused.stderr

    server.stop()
    restored = cli(server.config_path, "restore", str(tmp_path / "backup.sqlite"))
    assert restored.returncode == 0, restored.stderr
    assert "kept the previous database as" in restored.stdout
    assert len(list(server.database.parent.glob("panggil.sqlite.before-restore-*"))) == 1

    again = LiveServer(tmp_path / "hall").start()
    try:
        last = max((t for _, t in acknowledged if t["id"] in in_backup), key=lambda t: t["seq"])
        device = {"Authorization": f"Bearer {again.tokens[1]}"}
        assert again.get(f"/api/tickets/{last['day']}/{last['number']}", headers=device).ok
        gone = later[0][1]
        assert (
            again.get(f"/api/tickets/{gone['day']}/{gone['number']}", headers=device).status_code
            == 404
        )
        assert again.issue()["seq"] == last["seq"] + 1
    finally:
        again.stop()


def test_restore_keeps_the_raw_files_of_a_damaged_database(database, hub, tmp_path):
    backup = backup_database(database, tmp_path / "backup.sqlite").path
    hub.storage.close()
    shutil.copyfile(database, tmp_path / "good")
    database.write_bytes(b"SQLite format 3\x00" + bytes(100))  # a header and nothing else
    kept = restore_database(backup, database, now=NOW)
    assert kept.read_bytes() == b"SQLite format 3\x00" + bytes(100)
    assert check_database(database).tickets == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand files to another user")
def test_a_restore_run_as_root_leaves_the_files_to_the_service_user(database, hub, tmp_path):
    backup = backup_database(database, tmp_path / "backup.sqlite").path
    hub.storage.close()
    os.chown(database.parent, 4242, 4242)  # the folder of the service's user (StateDirectory)
    kept = restore_database(backup, database, now=NOW)
    for path in (database, kept, database.with_name("panggil.sqlite.lock")):
        assert (path.stat().st_uid, path.stat().st_gid) == (4242, 4242), path
