"""bench/bench_hall.py at a tiny size, so the hall benchmark cannot rot (no timing is asserted).

2 TVs, 10 phones, 2 counters pressing for 5 s against a real server process, then the same clients
against the raw Flask-SocketIO floor: every press is answered and accepted, every TV sees every
call, and every call of a followed ticket reaches that ticket's phone and no other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("hall") / "figures.json"
    args = [sys.executable, "bench/bench_hall.py", "--tvs", "2", "--phones", "10", "--counters", "2",
            "--seconds", "5", "--status-rate", "2", "--json", str(out)]  # fmt: skip
    subprocess.run(args, cwd=ROOT, check=True, timeout=240, capture_output=True)
    return json.loads(out.read_text())


@pytest.mark.parametrize("target", ["server", "floor"])
def test_every_press_answered_and_every_call_seen(figures, target):
    (hall,) = figures
    run = hall if target == "server" else hall["floor"]
    assert run["presses"] == 10  # 2 presses a second for 5 s
    assert run["answered"] == run["ok"] == run["presses"], run["errors"]
    assert run["phones_connected"] == 10 and run["refused"] == 0
    assert run["calls"] > 0 and run["tv_events"] == run["tv_expected"] == 2 * run["calls"]


@pytest.mark.parametrize("target", ["server", "floor"])
def test_each_phone_gets_its_own_calls_only(figures, target):
    (hall,) = figures
    run = hall if target == "server" else hall["floor"]
    assert run["phone_calls_expected"] > 0  # the first tickets are the phones' own
    assert run["phone_calls"] == run["phone_calls_expected"]
    assert run["phone_wrong"] == 0


def test_the_prober_loaded_status_pages_and_took_kiosk_tickets(figures):
    (hall,) = figures
    assert hall["status"] > 0 and hall["status_failed"] == 0
    assert hall["kiosk"] > 0 and hall["kiosk_failed"] == 0
