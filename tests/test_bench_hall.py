"""bench/bench_hall.py at a tiny size, so the hall benchmark cannot rot (no timing is asserted).

2 TVs, 10 phones, 2 counters pressing for 5 s against a real server process, then the same clients
against the raw Flask-SocketIO floor: every press is answered and accepted, every TV sees every
call, and every call of a followed ticket reaches that ticket's phone and no other. The same
with `--workers 2` (a writer and two fan-out workers on a redis-server), when Redis is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import redis_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run_bench(folder: Path, *extra: str) -> list[dict]:
    out = folder / "figures.json"
    args = [sys.executable, "bench/bench_hall.py", "--tvs", "2", "--phones", "10", "--counters", "2",
            "--seconds", "5", "--status-rate", "2", "--json", str(out), *extra]  # fmt: skip
    subprocess.run(args, cwd=ROOT, check=True, timeout=240, capture_output=True)
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> list[dict]:
    return run_bench(tmp_path_factory.mktemp("hall"))


@pytest.fixture(scope="module")
def worker_figures(tmp_path_factory) -> list[dict]:
    if not redis_server.available():
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    return run_bench(tmp_path_factory.mktemp("workers"), "--workers", "2", "--no-floor")


@pytest.fixture(params=["server", "floor", "workers"])
def run(request) -> dict:
    """One run's figures: the server, the floor of the same bench run, or writer + 2 workers."""
    if request.param == "workers":
        (hall,) = request.getfixturevalue("worker_figures")
        assert hall["mode"] == "2 workers + Redis"
        return hall
    (hall,) = request.getfixturevalue("figures")
    return hall if request.param == "server" else hall["floor"]


def test_every_press_answered_and_every_call_seen(run):
    assert run["presses"] == 10  # 2 presses a second for 5 s
    assert run["answered"] == run["ok"] == run["presses"], run["errors"]
    assert run["phones_connected"] == 10 and run["refused"] == 0
    assert run["calls"] > 0 and run["tv_events"] == run["tv_expected"] == 2 * run["calls"]


def test_each_phone_gets_its_own_calls_only(run):
    assert run["phone_calls_expected"] > 0  # the first tickets are the phones' own
    assert run["phone_calls"] == run["phone_calls_expected"]
    assert run["phone_wrong"] == 0


@pytest.mark.parametrize("which", ["figures", "worker_figures"])
def test_the_prober_loaded_status_pages_and_took_kiosk_tickets(request, which):
    (hall,) = request.getfixturevalue(which)
    assert hall["status"] > 0 and hall["status_failed"] == 0
    assert hall["kiosk"] > 0 and hall["kiosk_failed"] == 0


def test_the_wire_watcher_saw_every_call_go_to_every_tv(run):
    """bench/_wire.py stamps each call's frame as it leaves for a TV: one per call and TV."""
    if run["stamped"] != "wire":
        pytest.skip(
            "no AF_PACKET socket on this machine (root or CAP_NET_RAW): clients' stamps only"
        )
    assert run["tv_wire_frames"] == run["tv_expected"]
    assert run["tv_p99"] <= run["tv_max"] and run["tv_woke_p99"] is not None
