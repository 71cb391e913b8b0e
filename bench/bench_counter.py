"""Counter press latency: press -> acknowledgement, and press -> `ticket_called` on a display.

Starts a real `python -m server` process on 127.0.0.1 with a throw-away hall, connects the
counter client (counter_client.client.CounterClient, the code a Raspberry Pi runs) and python-socketio
display clients on /display, and presses `call_next` in bounded loops. Three scenarios per async mode:
one counter alone; many counters pressing at random while many displays listen; and the same counters
pressing back to back (saturation). `make bench` runs it with --write (appends to docs/benchmarks.md).

    .venv/bin/python bench/bench_counter.py [--presses 300] [--modes eventlet threading] [--write]

Stops by itself: every loop is bounded in count and time. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Server, bench_hall, percentile  # noqa: E402 - after the sys.path line

sys.path.insert(0, str(ROOT))
from counter_client.client import CounterClient  # noqa: E402

log = logging.getLogger("bench_counter")

TIME_LIMIT_S = 120  # per scenario, whatever happens


class Display:
    """A /display client that notes when each call arrived."""

    def __init__(self, url: str, name: str) -> None:
        self.arrived: dict[str, float] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("ticket_called", self._called, namespace="/display")
        self.sio.connect(
            url, namespaces=["/display"], transports=["websocket"], auth={"display": name}
        )

    def _called(self, event: dict) -> None:
        self.arrived[event["call"]["call_id"]] = time.perf_counter()

    def close(self) -> None:
        self.sio.disconnect()


def press_loop(
    client: CounterClient,
    presses: int,
    deadline: float,
    out: list[tuple[float, float, str]],
    mean_interval: float = 0.0,
) -> None:
    """Press `presses` times: back to back, or after random pauses (an open loop, like officers)."""
    rng = random.Random(client.number)
    for _ in range(presses):
        if mean_interval:
            time.sleep(rng.expovariate(1 / mean_interval))
        if time.monotonic() > deadline:
            return
        start = time.perf_counter()
        result = client.press("call_next")
        acked = time.perf_counter()
        if not result.ok:
            raise RuntimeError(f"press failed: {result}")
        out.append((start, acked, result.result["call"]["call_id"]))


def listen(url: str, count: int) -> int:
    """Helper process: `count` displays that only receive, so that the server fans out to them."""
    screens = [Display(url, f"load-{i}") for i in range(count)]
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the bench closes our stdin
    finally:
        for screen in screens:
            screen.close()
    return 0


def scenario(
    name: str,
    async_mode: str,
    counters: int,
    displays: int,
    presses: int,
    mean_interval: float = 0.0,
) -> dict:
    """Every counter presses `presses` times at once; returns latencies in ms.

    One display is watched in this process; the other displays-1 listen from a helper process so
    that this process's own work (and the GIL) does not become what is measured.
    """
    with tempfile.TemporaryDirectory(prefix="panggil-bench-") as tmp, \
            Server(Path(tmp), bench_hall(Path(tmp), counters, async_mode)) as server:  # fmt: skip
        watcher: Display | None = None
        helper: subprocess.Popen | None = None
        clients: list[CounterClient] = []
        try:
            server.issue(counters * presses)  # one shared queue: every counter calls from it
            watcher = Display(server.url, "bench-watcher")
            if displays > 1:
                helper = subprocess.Popen(
                    [sys.executable, __file__, "--listen", server.url, str(displays - 1)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                if helper.stdout.readline().strip() != "ready":
                    raise RuntimeError("display helper did not start")
            for i in range(counters):
                client = CounterClient(
                    server.url, i + 1, f"bench-token-{i + 1}", debounce_ms=0, ack_timeout=10
                )
                client.start()
                clients.append(client)
            for client in clients:
                if not client.wait_ready(15):
                    raise RuntimeError("counter client did not connect")
            deadline = time.monotonic() + TIME_LIMIT_S
            results: list[list[tuple[float, float, str]]] = [[] for _ in clients]
            threads = [threading.Thread(target=press_loop, args=(c, presses, deadline, r, mean_interval))
                       for c, r in zip(clients, results)]  # fmt: skip
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIME_LIMIT_S + 10)
            elapsed = time.perf_counter() - started
            time.sleep(0.5)  # the last events are on their way
            acks = [(acked - start) * 1000 for r in results for start, acked, _ in r]
            shown = [(watcher.arrived[cid] - start) * 1000 for r in results for start, _, cid in r
                     if cid in watcher.arrived]  # fmt: skip
            missing = sum(len(r) for r in results) - len(shown)
            return {"name": name, "mode": async_mode, "counters": counters, "displays": displays,
                    "presses": len(acks), "elapsed": elapsed, "ack": acks, "shown": shown,
                    "missing": missing}  # fmt: skip
        finally:
            for client in clients:
                client.stop()
            if watcher is not None:
                watcher.close()
            if helper is not None:
                helper.stdin.close()
                try:
                    helper.wait(10)
                except subprocess.TimeoutExpired:
                    helper.kill()


def row(result: dict) -> str:
    ack, shown = result["ack"], result["shown"]
    rate = result["presses"] / result["elapsed"] if result["elapsed"] else 0
    return (f"| {result['name']} | {result['mode']} | {result['counters']} | {result['displays']} | {result['presses']} | "
            f"{statistics.median(ack):.1f} | {percentile(ack, 99):.1f} | {max(ack):.1f} | "
            f"{statistics.median(shown):.1f} | {percentile(shown, 99):.1f} | {max(shown):.1f} | "
            f"{result['missing']} | {rate:.0f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presses", type=int, default=300, help="presses by the lone counter (default 300)"
    )
    parser.add_argument(
        "--counters", type=int, default=20, help="counters in the busy scenarios (default 20)"
    )
    parser.add_argument(
        "--displays", type=int, default=20, help="displays in the busy scenarios (default 20)"
    )
    parser.add_argument(
        "--hall-seconds", type=float, default=30, help="length of the hall scenario (default 30)"
    )
    parser.add_argument(
        "--hall-interval",
        type=float,
        default=4.0,
        help="mean seconds between two presses of one counter in the hall scenario (default 4)",
    )
    parser.add_argument(
        "--saturation-presses", type=int, default=20, help="back-to-back presses per counter"
    )
    parser.add_argument(
        "--modes", nargs="+", default=["eventlet", "threading"], choices=["eventlet", "threading"]
    )
    parser.add_argument(
        "--write", action="store_true", help="append the results to docs/benchmarks.md"
    )
    parser.add_argument("--listen", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.listen:
        return listen(args.listen[0], int(args.listen[1]))

    hall_presses = max(1, int(args.hall_seconds / args.hall_interval))
    # Lines go out as they are measured (a stopped run keeps what it has); --write appends them.
    out = open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") if args.write else None  # noqa: SIM115

    def emit(text: str) -> None:
        print(text, flush=True)
        if out is not None:
            out.write(text + "\n")
            out.flush()

    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rate = args.counters / args.hall_interval
    emit(f"\n## Counter clients\n\n`bench/bench_counter.py`, {when}. Machine: `{uname}`, nproc {os.cpu_count()}, "
         f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start.\n\n"
         "A press is `call_next` sent by `counter_client.client.CounterClient` (the code a Raspberry Pi "
         "runs: fresh request id, Socket.IO `emit` with an acknowledgement) to a real server process on "
         "127.0.0.1 (offline espeak voice on); *ack* is press -> acknowledgement, *display* is press -> "
         "`ticket_called` at a python-socketio client on `/display`, in milliseconds. Each `call_next` also "
         "finishes the ticket held before (two events, one SQLite transaction with `synchronous=FULL`), and "
         "every event goes to every display and counter.\n\n"
         "- *lone*: one counter presses back to back (the latency floor).\n"
         f"- *hall*: {args.counters} counters press at random (exponential pauses, mean "
         f"{args.hall_interval:g} s each, so about {rate:g} presses/s in the hall) while {args.displays} "
         "displays listen. A busy hall (3,000 tickets a day) sees well under one press a second.\n"
         "- *saturation*: the same counters press back to back: the throughput ceiling, and the "
         "latency when presses queue behind each other at the one writer.\n")  # fmt: skip
    emit("| scenario | async mode | counters | displays | presses | ack p50 | ack p99 | ack max | display p50 | "
         "display p99 | display max | not seen | presses/s |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    try:
        for mode in args.modes:
            emit(row(scenario("lone", mode, 1, 1, args.presses)))
            emit(
                row(
                    scenario(
                        "hall", mode, args.counters, args.displays, hall_presses, args.hall_interval
                    )
                )
            )
            emit(
                row(
                    scenario(
                        "saturation", mode, args.counters, args.displays, args.saturation_presses
                    )
                )
            )
    finally:
        if out is not None:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
