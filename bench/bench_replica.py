"""A fan-out worker's replica (server/workers.py): what a reload costs on a busy day.

    .venv/bin/python bench/bench_replica.py [--tickets 2000] [--presses 50]

In one process: the writer's hub issues `--tickets` tickets on one day and 20 counters call most of
them; then a ReplicaHub on the same file (read-only) reloads after each of `--presses` more
presses. Reported: a reload (a commit happened), a check that finds nothing new (PRAGMA
data_version only), and the writer's own press for scale.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import bench_hall, machine, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--presses", type=int, default=50)
    args = parser.parse_args()

    from server.app import create_app
    from server.config import parse_config
    from server.hub import PlainAnnouncer
    from server.storage import ReadOnlyStorage
    from server.workers import ReplicaHub

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = bench_hall(folder)
        raw["server"]["async_mode"] = "threading"
        raw["voice"]["enabled"] = False
        config = parse_config(raw, base_dir=folder)
        app = create_app(config, announcer=PlainAnnouncer(), start_ticker=False, demo=True)
        hub = app.extensions["panggil"]
        for _ in range(args.tickets):
            hub.issue("ktp")
        calls = args.tickets - 2 * args.presses - 100  # leave enough waiting for the timed presses
        for n in range(calls):
            hub.command(1 + n % 20, "call_next", {}, f"setup-{n}")
        replica = ReplicaHub(ReadOnlyStorage(config.path(config.server.database)),
                             timezone_name=config.hall.timezone)  # fmt: skip
        replica.refresh()
        reloads, checks, presses = [], [], []
        for n in range(args.presses):
            started = time.perf_counter()
            hub.command(1 + n % 20, "call_next", {}, f"timed-{n}")
            presses.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert replica.refresh()
            reloads.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert not replica.refresh()
            checks.append(time.perf_counter() - started)
            assert replica.seq == hub.seq and replica.hall.tickets == hub.hall.tickets
        day_tickets = replica.read(
            lambda s: s.db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        )
        print(f"{machine()}")
        print(f"day with {day_tickets} tickets, {len(replica.hall.tickets)} in the live state")
        for label, values in (("reload after a commit", reloads), ("check, nothing new", checks),
                              ("writer's press (for scale)", presses)):  # fmt: skip
            ms = [v * 1000 for v in values]
            print(
                f"{label:28} median {percentile(ms, 50):7.2f} ms   p95 {percentile(ms, 95):7.2f} ms"
            )


if __name__ == "__main__":
    main()
