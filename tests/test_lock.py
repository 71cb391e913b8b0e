"""One server per database (server/lock.py) and one server per port, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from server.lock import DatabaseLock, DatabaseLocked, lock_path
from tests.conftest import ROOT, LiveServer


def test_a_second_lock_on_the_same_database_is_refused_and_names_the_holder(tmp_path):
    database = tmp_path / "panggil.sqlite"
    with DatabaseLock(database) as first:
        assert first.held
        assert lock_path(database).read_text().strip() == str(os.getpid())
        with pytest.raises(DatabaseLocked) as refused:
            DatabaseLock(database).acquire()
        assert refused.value.pid == os.getpid()
        assert str(database) in str(refused.value)
    # Released: the next one takes it, and the file left behind does not get in the way.
    with DatabaseLock(database):
        pass


def test_the_lock_goes_with_a_killed_process(tmp_path):
    database = tmp_path / "panggil.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from server.lock import DatabaseLock; "
         "DatabaseLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)", str(database)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseLocked) as refused:
            DatabaseLock(database).acquire()
        assert refused.value.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    with DatabaseLock(database):
        pass


def run_server(server: LiveServer, *args: str) -> subprocess.CompletedProcess:
    """A second `python -m server` on a live server's config; it is expected to exit."""
    return subprocess.run(
        [sys.executable, "-m", "server", "--config", str(server.config_path), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_a_second_server_on_the_same_database_exits(live_server_factory, async_mode):
    first = live_server_factory(async_mode).start()
    ticket = first.issue()
    # Another port, the same database: refused before the hall is loaded.
    second = run_server(
        first, "--port", str(first.port + 1 if first.port < 65535 else first.port - 1)
    )
    assert second.returncode == 2, second.stderr
    assert str(first.database) in second.stderr
    assert f"process {first.process.pid}" in second.stderr
    assert "Panggil is serving" not in second.stdout
    # The first one never noticed.
    assert first.issue()["seq"] == ticket["seq"] + 1

    first.kill()  # SIGKILL: the kernel releases the lock, no stale lock file blocks the restart
    again = LiveServer(first.database.parent, async_mode).start()  # same folder: same database
    try:
        assert again.issue()["seq"] == ticket["seq"] + 2
    finally:
        again.stop()


@pytest.mark.slow
@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_a_second_server_on_the_same_port_exits(live_server_factory, async_mode):
    first = live_server_factory(async_mode).start()
    other = live_server_factory(async_mode)  # its own database, never started
    second = run_server(other, "--port", str(first.port))
    assert second.returncode == 2, second.stderr
    assert f"cannot listen on 127.0.0.1:{first.port}" in second.stderr
    assert "address is in use" in second.stderr
    # Every request still reaches the first server (eventlet's SO_REUSEPORT would share them).
    for _ in range(5):
        assert first.get("/api/health").ok
