"""Queue server core: next -> call event latency at N displays, and next throughput of 20 counters.

    .venv/bin/python bench/bench_core.py [--presses 200] [--write]

A real server process on 127.0.0.1 (eventlet, the default mode; --async-mode threading to compare).
Latency: a counter presses next; each display records when the ticket_called event arrived
(time.monotonic is one clock for every process of the machine). Throughput: 20 counters press next
as fast as they can over 1,000 waiting tickets; every ticket must be called exactly once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Server, bench_hall, machine, percentile

LISTENER = Path(__file__).resolve().parent / "_listener.py"


def counter_client(url: str, number: int) -> socketio.Client:
    sio = socketio.Client(reconnection=False)
    sio.connect(url, namespaces=["/counter"], transports=["websocket"],
                auth={"counter": number, "token": f"bench-token-{number}"}, wait_timeout=20)  # fmt: skip
    return sio


def latency(server: Server, displays: int, presses: int) -> dict:
    per_process = 50
    groups = [min(per_process, displays - i) for i in range(0, displays, per_process)]
    listeners = [subprocess.Popen([sys.executable, str(LISTENER), server.url, str(n)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for n in groups]  # fmt: skip
    for proc in listeners:
        assert proc.stdout.readline().strip() == "ready"
    received: dict[str, list[float]] = {}
    lock = threading.Lock()

    def read(proc):
        for line in proc.stdout:
            call_id, at = line.split()
            with lock:
                received.setdefault(call_id, []).append(float(at))

    readers = [threading.Thread(target=read, args=(p,), daemon=True) for p in listeners]
    for t in readers:
        t.start()
    server.issue(presses)
    officer = counter_client(server.url, 1)
    pressed: dict[str, float] = {}
    cpu_start = server.cpu_seconds()
    for i in range(presses):
        t0 = time.monotonic()
        ack = officer.call(
            "call_next", {"request_id": f"lat-{displays}-{i}"}, namespace="/counter", timeout=10
        )
        pressed[ack["result"]["call"]["call_id"]] = t0
        time.sleep(0.05)  # a busy hall: 20 presses a second across all counters
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline and sum(len(v) for v in received.values()) < presses * displays
    ):
        time.sleep(0.05)
    server_cpu_ms = (server.cpu_seconds() - cpu_start) / presses * 1000
    officer.disconnect()
    for proc in listeners:
        proc.stdin.close()
        proc.wait(30)
    delays = [
        (at - pressed[cid]) * 1000
        for cid, times in received.items()
        if cid in pressed
        for at in times
    ]
    return {"displays": displays, "samples": len(delays), "expected": presses * displays,
            "p50": percentile(delays, 50), "p99": percentile(delays, 99), "max": max(delays),
            "server_cpu_ms": server_cpu_ms}  # fmt: skip


def _press_until_empty(url: str, numbers: list[int], results) -> None:
    """One process: these counters press next as fast as they can until nothing waits."""
    clients = [(n, counter_client(url, n)) for n in numbers]
    called: list[str] = []
    lock = threading.Lock()
    results.put("ready")

    def press(n: int, sio: socketio.Client) -> None:
        i = 0
        while True:
            ack = sio.call(
                "call_next", {"request_id": f"tp-{n}-{i}"}, namespace="/counter", timeout=30
            )
            i += 1
            if not ack["ok"]:
                return
            with lock:
                called.append(ack["result"]["ticket"]["number"])

    threads = [threading.Thread(target=press, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _, sio in clients:
        sio.disconnect()
    results.put(called)


def throughput(server: Server, tickets: int = 1000, counters: int = 20, processes: int = 4) -> dict:
    """Counters spread over a few processes, so the clients' own work does not cap the result."""
    import multiprocessing

    server.issue(tickets)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    groups = [list(range(1 + p, counters + 1, processes)) for p in range(processes)]
    workers = [
        ctx.Process(target=_press_until_empty, args=(server.url, g, results)) for g in groups
    ]
    start_cpu = server.cpu_seconds()
    start = time.monotonic()
    for w in workers:
        w.start()
    called: list[str] = []
    pending = len(workers) * 2
    while pending:
        item = results.get(timeout=300)
        pending -= 1
        if item != "ready":
            called.extend(item)
    elapsed = time.monotonic() - start
    server_cpu = server.cpu_seconds() - start_cpu
    for w in workers:
        w.join(30)
    counts = Counter(called)
    return {"tickets": tickets, "counters": counters, "called": len(called), "seconds": elapsed,
            "per_second": len(called) / elapsed, "double_called": sum(1 for n in counts.values() if n > 1),
            "lost": tickets - len(counts), "rss_mb": server.rss_mb(),
            "server_cpu_ms_per_call": server_cpu / max(1, len(called)) * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--async-mode", default="eventlet", choices=["eventlet", "threading"])
    parser.add_argument("--displays", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument(
        "--write", action="store_true", help="append the results to docs/benchmarks.md"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for displays in args.displays:
            folder = Path(tmp) / f"lat{displays}"
            folder.mkdir()
            with Server(folder, bench_hall(folder, async_mode=args.async_mode)) as server:
                rows.append(latency(server, displays, args.presses))
                print(rows[-1], flush=True)
        folder = Path(tmp) / "tp"
        folder.mkdir()
        with Server(folder, bench_hall(folder, async_mode=args.async_mode)) as server:
            tp = throughput(server)
            print(tp, flush=True)
    lines = [
        f"\n## Queue server core ({args.async_mode})\n",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/bench_core.py --presses {args.presses}"
        f" --async-mode {args.async_mode}`.\n",
        "Next -> `ticket_called` at every display: a real server process with the offline voice on,"
        " one counter pressing 20 times a second, displays as bare Socket.IO websocket clients (50 per"
        " process, bench/_listener.py), on the same 2 cores as the server; target p99 <= 20 ms at"
        " 100 displays. Server CPU is per press, voice synthesis included:\n",
        "| displays | events measured | p50 ms | p99 ms | max ms | server CPU ms/press |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['displays']} | {r['samples']}/{r['expected']} | {r['p50']:.1f} | {r['p99']:.1f} |"
              f" {r['max']:.1f} | {r['server_cpu_ms']:.1f} |" for r in rows]  # fmt: skip
    lines += [
        "",
        f"Throughput: {tp['counters']} counters pressing next at once over {tp['tickets']} tickets: "
        f"{tp['per_second']:.0f} calls/s ({tp['seconds']:.2f} s), double-called tickets: "
        f"**{tp['double_called']}**, lost: **{tp['lost']}**; server CPU {tp['server_cpu_ms_per_call']:.1f} ms"
        f" a call; server RSS afterwards {tp['rss_mb']:.0f} MB.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
