"""Backing up and restoring the hall's database.

A backup goes through SQLite's online backup API: it copies one consistent snapshot (one read
transaction) while the server keeps issuing tickets, so every ticket acknowledged before the
backup began is in it. The copy is a single self-contained file (journal mode DELETE).

A restore refuses while a server holds the database's lock (server/lock.py) and holds that lock
itself, checks the backup (a SQLite file, integrity ok, a Panggil schema not newer than this
program), keeps the replaced database aside as `<database>.before-restore-<UTC time>`, and
swaps the new file in with one rename.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from server.lock import DatabaseLock, give_to_folder_owner
from server.storage import (
    MIGRATIONS,
    file_schema_version,
    integrity_problems,
    table_names,
    ticket_totals,
    use_rollback_journal,
    wait_when_busy,
)

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup cannot be written, or a file is not a usable backup; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What a database file holds, for the operator to read."""

    path: Path
    size: int
    schema: int
    tickets: int
    last_day: str | None

    def describe(self) -> str:
        day = f", last day {self.last_day}" if self.last_day else ""
        return (f"{self.path} ({self.size} bytes, schema {self.schema}, "
                f"{self.tickets} tickets{day})")  # fmt: skip


def backup_database(database: str | Path, out: str | Path) -> Summary:
    """Copy a live database to `out` (written beside it, then renamed into place)."""
    database, out = Path(database), Path(out)
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    if out.resolve() == database.resolve():
        raise BackupError("the backup must not be the database itself")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    _remove(partial)
    try:
        # Read-only: a backup never creates, migrates or checkpoints the server's database.
        with _connect(database, read_only=True) as source, _connect(partial) as target:
            wait_when_busy(source)
            source.backup(target)  # pages=-1: the whole file in one step, one snapshot
            use_rollback_journal(target)
        summary = check_database(partial)
        _fsync(partial)
        os.replace(partial, out)
        _fsync(out.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {database}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        _remove(partial)
    log.info("backed up %s to %s", database, out)
    return Summary(out, summary.size, summary.schema, summary.tickets, summary.last_day)


def check_database(path: str | Path, name: str | Path | None = None) -> Summary:
    """Raise BackupError unless `path` is a sound Panggil database this program can open.

    `name` is the file the operator knows, when `path` is a working copy of it.
    """
    path = Path(path)
    _check_header(path)
    shown = name or path
    try:
        with _connect(path, read_only=True) as conn:
            problems = integrity_problems(conn)
            if problems:
                raise BackupError(f"{shown} is damaged: {'; '.join(problems[:3])}")
            schema = file_schema_version(conn)
            tables = table_names(conn)
            if schema < 1 or "tickets" not in tables:
                raise BackupError(f"{shown} is not a Panggil database (no tickets table)")
            if schema > len(MIGRATIONS):
                raise BackupError(f"{shown} has schema {schema}, newer than this program "
                                  f"({len(MIGRATIONS)}): upgrade Panggil first")  # fmt: skip
            tickets, last_day = ticket_totals(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{shown} is not a usable SQLite database: {exc}") from None
    return Summary(path, path.stat().st_size, schema, tickets, last_day)


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database")


def restore_database(backup: str | Path, database: str | Path, now: datetime) -> Path | None:
    """Replace `database` with a checked copy of `backup`; returns where the old one was kept.

    Raises DatabaseLocked while a server runs on the database, BackupError for a bad backup;
    in both cases the database is untouched.
    """
    backup, database = Path(backup), Path(database)
    with DatabaseLock(database):
        _check_header(backup)
        incoming = database.with_name(f".{database.name}.restoring")
        _remove(incoming)
        try:
            shutil.copyfile(backup, incoming)
            # Checked on a private copy, never opened in place: a backup copied by hand may be
            # in WAL mode, and SQLite would leave -wal/-shm files beside it.
            with _connect(incoming) as conn:
                use_rollback_journal(conn)
            check_database(incoming, name=backup)
            _fsync(incoming)
            _give_to_folder_owner(incoming)
            kept = _keep_aside(database, now)
            os.replace(incoming, database)
            # A -wal beside the new file would be replayed into it: the old one's are gone.
            for suffix in SIDE_FILES:
                _remove(database.with_name(database.name + suffix))
            _fsync(database.parent)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot restore {backup}: {exc}") from None
        except OSError as exc:
            raise BackupError(f"cannot restore into {database}: {exc.strerror or exc}") from None
        finally:
            _remove(incoming)
    log.info("restored %s from %s (previous database kept as %s)", database, backup, kept)
    return kept


def _keep_aside(database: Path, now: datetime) -> Path | None:
    """Copy the database about to be replaced, with what its -wal holds, to a dated file."""
    if not database.exists():
        return None
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    try:
        backup_database(database, kept)
    except BackupError as exc:
        # A damaged database is a reason to restore: keep its raw files as they are.
        log.warning("copying %s through SQLite failed (%s): keeping the raw files", database, exc)
        shutil.copyfile(database, kept)
        for suffix in SIDE_FILES:
            side = database.with_name(database.name + suffix)
            if side.exists():
                shutil.copyfile(side, kept.with_name(kept.name + suffix))
    _give_to_folder_owner(kept)
    return kept


def _give_to_folder_owner(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        give_to_folder_owner(fd, path.parent)
    finally:
        os.close(fd)


def _connect(path: Path, read_only: bool = False) -> contextlib.closing[sqlite3.Connection]:
    """A connection closed on leaving the block (sqlite3's own `with` only commits)."""
    if read_only:
        return contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))
    return contextlib.closing(sqlite3.connect(path))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
