"""One server per database: an exclusive lock on a file next to the SQLite file.

Two servers on one database would both issue A001 from the same hall state. The lock is an
flock(2) on `<database>.lock`, held by the serving process for its whole life; the kernel drops
it when the process ends however it ends (SIGKILL, power cut of the process), so a stale lock
file never blocks a restart. The file holds the PID of the holder, for the error message only.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseLocked(Exception):
    """Another process holds the database's lock (a running server, or a restore)."""

    def __init__(self, database: Path, pid: int | None) -> None:
        self.database = database
        self.pid = pid
        super().__init__(f"{database} is in use by {self.holder}: one server per database")

    @property
    def holder(self) -> str:
        return f"process {self.pid}" if self.pid else "another process"


def lock_path(database: str | Path) -> Path:
    """The lock file of a database: beside it, named after it."""
    database = Path(database)
    return database.with_name(database.name + ".lock")


class DatabaseLock:
    """An exclusive, non-blocking lock on one database; release() or the process's end frees it."""

    def __init__(self, database: str | Path) -> None:
        self.database = Path(database)
        self.path = lock_path(self.database)
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        """Take the lock or raise DatabaseLocked naming the holder's PID; never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC (Python's default): a child such as a TTS helper must not inherit the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DatabaseLocked(self.database, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        give_to_folder_owner(fd, self.path.parent)
        self._fd = fd
        return self

    def release(self) -> None:
        """Free the lock; the file stays (removing it would race with a process opening it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def give_to_folder_owner(fd: int, folder: Path) -> None:
    """Run as root (a restore with sudo), hand a file to the owner of its folder, the service's
    user: a root-owned lock file or database would keep the service from opening it."""
    if os.geteuid() != 0:
        return
    owner = folder.stat()
    os.fchown(fd, owner.st_uid, owner.st_gid)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
