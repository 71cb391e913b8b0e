"""Hall benchmark (issue 15): TVs, visitor phones and counters pressing, against a real server.

    .venv/bin/python bench/bench_hall.py --phones 500,1000,2000,5000 --seconds 60
    .venv/bin/python bench/bench_hall.py --phones 0 --tvs 100 --no-probe --pin   # 100 TVs vs the floor
    .venv/bin/python bench/bench_hall.py --phones 5000 --workers 2       # needs redis-server

A real `python -m server --config C` (eventlet, offline voice on) on a temporary SQLite file, with
the demo hall's agencies and services (config.yaml, without quotas; hours not enforced) and 20
counters, 4 per service. Before the run N tickets are taken through the kiosk API
(`POST /api/kiosk/bench/tickets`), round robin over the services, so the queue is realistic,
while the counters are connected, as in a hall at work: the voice prepares each ticket's call at
the counters that can call it, and the run starts when that is done (a call is then a cache hit,
its clip named in ticket_called; the prober's kiosk tickets are prepared during the run). Then:

- TVs on /display (bench/_listener.py, 50 per process), stamping every `ticket_called`;
- N phones on /visitor (bench/_hall_phones.py, 250 per process), each following its own ticket;
- 20 counters on /counter (bench/_hall_counters.py, two processes) pressing call_next, call_next,
  finish, ... RATE times a second in all for SECONDS;
- a prober (bench/_hall_probe.py) loading visitor status pages and JSON (what a phone without a
  socket loads) and taking a kiosk ticket now and then.

Every client stamps with time.monotonic (one clock for every process of the machine). A call's
arrival at a TV or phone is the kernel's stamp of the frame leaving on the loopback interface
(bench/_wire.py, root or CAP_NET_RAW): what a screen of its own on the LAN gets. The TVs and phones
also stamp when they woke for it (the "woke" columns), which adds each bench client's wait for one
of the two cores the server, the counters and every other client share; without the wire watcher
the main columns are those (the table says which). The same
clients then run against the raw Flask-SocketIO floor (bench/_hall_floor.py: one ticket_called
to every TV and one to the called phone, nothing else) with the same numbers of TVs and phones.

`--pin` (one process): the server and the floor run on the first core and every client on the
others, so that the clients' work does not stretch the server's (in a hall the TVs, phones and
counters are devices of their own). It isolates what the server adds over the floor (the 100-TV
comparison), but gives the server one core where a hall's machine has several: its voice and
summaries then compete with its screens (1,000 phones: TV p99 46-70 ms pinned, 30 ms not).

`server.max_connections` is raised to phones + 1,000 (at least the default 5,000) so that 5,000
phones, the TVs, counters and the prober fit; `server.device_reserve` stays at its default (200).

`--workers K` (issue 15 item 3): a redis-server on a free loopback port (Debian's package:
`apt-get install -y redis-server`), the writer (`server.message_queue: redis://...`) and K
`python -m server --config C --worker --port P` fan-out workers; TVs and phones are spread over
the workers' ports directly (no reverse proxy in the bench), counters, status pages and the kiosk
go to the writer. Server CPU and RSS are then the sum of writer, workers and redis.

`--write` appends the tables to docs/benchmarks.md ("Hall benchmark (issue 15)"). `make bench`
runs it with the defaults (500 phones, 20 s); the full sizes take flags.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml
from _hall_profile import GcLog, profile
from bench_core import counter_client
from common import ROOT, Server, bench_hall, free_port, machine, percentile

HERE = Path(__file__).resolve().parent
TVS_PER_PROCESS = 50
PHONES_PER_PROCESS = 250
COUNTER_PROCESSES = 2


# --- the hall and its processes ---------------------------------------------------------------


def hall_config(folder: Path, counters: int, phones: int) -> dict:
    """The demo hall's services (no quotas, hours not enforced), `counters` counters round robin."""
    raw = bench_hall(folder, counters)
    demo = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["agencies"] = [{"code": a["code"], "name": a["name"]} for a in demo["agencies"]]
    raw["services"] = [{key: s[key] for key in ("code", "agency", "name", "prefix")}
                       for s in demo["services"]]  # fmt: skip
    codes = [s["code"] for s in raw["services"]]
    for counter in raw["counters"]:
        counter["services"] = [codes[(counter["number"] - 1) % len(codes)]]
    # 5,000 phones plus the hall's devices: above the default of 5,000 (docs/protocol.md).
    raw["server"]["max_connections"] = max(5000, phones + 1000)
    return raw


class Child(Server):
    """A process of the bench other than the writer (a worker, redis, the floor), stopped on exit."""

    def __init__(self, folder: Path, name: str, args: list[str], url: str,
                 ready: Callable[[], bool]) -> None:  # fmt: skip
        self.folder, self.name, self.args, self.url, self.ready = folder, name, args, url, ready
        self.process = None

    def __enter__(self) -> Child:
        with open(self.folder / f"{self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, stdout=log, stderr=log, preexec_fn=self.pin
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.ready():
                    return self
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"{self.name} did not start; see {self.folder / self.name}.log")


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: requests.get(url, timeout=1).ok


def redis_ping(port: int) -> Callable[[], bool]:
    def ping() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    return ping


def floor(folder: Path, numbers: list[str], connections: int) -> Child:
    (folder / "numbers.json").write_text(json.dumps(numbers))
    port = free_port()
    args = [sys.executable, str(HERE / "_hall_floor.py"), str(port), str(folder / "numbers.json"),
            str(connections)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    return Child(folder, "floor", args, url, http_ok(url + "/api/health"))


def redis(folder: Path) -> Child:
    if not shutil.which("redis-server"):
        raise SystemExit("--workers needs Debian's redis-server: apt-get install -y redis-server")
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no"]  # fmt: skip
    return Child(folder, "redis", args, f"redis://127.0.0.1:{port}/0", redis_ping(port))


def worker(folder: Path, config: Path, index: int) -> Child:
    """A fan-out worker: /display and /visitor only, on the writer's database (workers branch)."""
    port = free_port()
    args = [sys.executable, "-m", "server", "--config", str(config), "--worker", "--port", str(port),
            "--log-level", "WARNING"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    return Child(folder, f"worker{index}", args, url,
                 http_ok(url + "/socket.io/?EIO=4&transport=polling"))  # fmt: skip


def take_tickets(url: str, count: int) -> list[dict]:
    """`count` kiosk tickets round robin over the services: `{day, number, token, path}` each."""
    services = [
        s["code"] for s in requests.get(url + "/api/services", timeout=10).json()["services"]
    ]

    def take(i: int) -> dict:
        with requests.Session() as http:
            answer = http.post(url + "/api/kiosk/bench/tickets", json={"service": services[i % len(services)]},
                               timeout=60)  # fmt: skip
            answer.raise_for_status()
        body = answer.json()
        return {"day": body["ticket"]["day"], "number": body["ticket"]["number"],
                "token": body["token"], "path": urlsplit(body["visitor_url"]).path}  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(take, range(count)))


@contextmanager
def signed_in(url: str, counters: int) -> Iterator[None]:
    """The hall's counters connected meanwhile: a ticket taken then has its call prepared at each
    counter that can call it (server/hub.py `_prepare_voice`), as in a hall at work."""
    clients = [counter_client(url, n) for n in range(1, counters + 1)]
    try:
        yield
    finally:
        for sio in clients:
            sio.disconnect()


def settled(folder: Path, quiet: float = 1.5, limit: float = 120.0) -> None:
    """Wait until the voice has prepared what it was given: no new clip for `quiet` seconds."""
    count, since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        now = len(list(folder.glob("*"))) if folder.exists() else 0
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.25)


# --- one run of the clients ------------------------------------------------------------------


def spawn(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=HERE, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)  # fmt: skip


def groups(total: int, per_process: int, at_least: int) -> list[int]:
    """`total` split into about equal groups of at most `per_process`, at least `at_least` of them."""
    count = max(at_least, math.ceil(total / per_process)) if total else 0
    return [n for n in (total // count + (i < total % count) for i in range(count)) if n]


def run_clients(fanout: list[str], writer: str, tickets: list[dict], args, phones: int,
                processes: list[Server], probe: bool) -> dict:  # fmt: skip
    """TVs and phones on the `fanout` URLs, counters and the prober on `writer`; the figures."""
    lines: list[tuple[str, list[str]]] = []

    def read(kind: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            lines.append((kind, line.split()))

    wire = spawn([str(HERE / "_wire.py"), ",".join(str(urlsplit(u).port) for u in fanout)])
    if wire.stdout.readline().strip() != "ready":
        wire.wait(10)
        wire = None  # no AF_PACKET socket here: the clients' own stamps only
    tvs = [spawn([str(HERE / "_listener.py"), fanout[i % len(fanout)], str(n)])
           for i, n in enumerate(groups(args.tvs, TVS_PER_PROCESS, len(fanout)))]  # fmt: skip
    for proc in tvs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a TV process did not connect")
    phone_procs, start = [], 0
    for i, n in enumerate(groups(phones, PHONES_PER_PROCESS, len(fanout))):
        proc = spawn([str(HERE / "_hall_phones.py"), fanout[i % len(fanout)]])
        for t in tickets[start : start + n]:
            proc.stdin.write(
                json.dumps({"day": t["day"], "number": t["number"], "token": t["token"]}) + "\n"
            )
        proc.stdin.write("\n")
        proc.stdin.flush()
        phone_procs.append(proc)
        start += n
    opened = refused = failed = 0
    for proc in phone_procs:
        words = proc.stdout.readline().split()
        opened, refused, failed = (
            opened + int(words[1]),
            refused + int(words[2]),
            failed + int(words[3]),
        )
    numbers = [str(n) for n in range(1, args.counters + 1)]
    counters = [spawn([str(HERE / "_hall_counters.py"), writer, ",".join(numbers[p::COUNTER_PROCESSES]),
                       str(args.counters), str(args.rate), str(args.seconds)])
                for p in range(min(COUNTER_PROCESSES, args.counters))]  # fmt: skip
    prober = []
    if probe and not args.no_probe:
        prober = [
            spawn(
                [str(HERE / "_hall_probe.py"), writer, str(args.status_rate), str(args.kiosk_every)]
            )
        ]
        prober[0].stdin.write("".join(t["path"] + "\n" for t in tickets[:phones]) + "\n")
        prober[0].stdin.flush()
    for proc in counters + prober:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a counter or the prober did not start")
    readers = [threading.Thread(target=read, args=(kind, p), daemon=True)
               for kind, procs in (("tv", tvs), ("phone", phone_procs), ("counter", counters), ("probe", prober),
                                   ("wire", [wire] if wire else []))
               for p in procs]  # fmt: skip
    for thread in readers:
        thread.start()
    time.sleep(2)  # connections settled, the first queue summaries sent
    load = os.getloadavg()[0]
    cpu_each = [p.cpu_seconds() for p in processes]
    go = time.monotonic() + 0.5
    profiler = (
        profile(args.profile, processes[0].process.pid, args.seconds)
        if probe and args.profile
        else None
    )
    for proc in counters + prober:
        proc.stdin.write(f"go {go}\n")
        proc.stdin.flush()
    for proc in counters:
        proc.wait(args.seconds + 120)
    time.sleep(2)  # the last events reach the screens
    window = time.monotonic() - go
    cpu_each = [p.cpu_seconds() - before for p, before in zip(processes, cpu_each, strict=True)]
    cpu = sum(cpu_each)
    rss = sum(p.rss_mb() for p in processes)
    others = tvs + phone_procs + prober + ([wire] if wire else [])
    for proc in others:
        proc.stdin.close()
    for proc in others:
        proc.wait(60)
    for thread in readers:
        thread.join(5)
    if profiler:
        profiler.wait(60)
    if args.stamps:  # every client's stamps, for a look at single calls
        args.stamps.mkdir(parents=True, exist_ok=True)
        (args.stamps / ("server.json" if probe else "floor.json")).write_text(json.dumps(lines))
    return figures(lines, tickets[:phones], args.tvs, opened, refused + failed,
                   {"cpu": cpu, "window": window, "rss": rss, "load": load,
                    "cpu_each": [round(100 * c / window, 1) for c in cpu_each]})  # fmt: skip


def figures(lines, followed: list[dict], tvs: int, opened: int, refused: int, server: dict) -> dict:
    presses = [w for kind, w in lines if kind == "counter" and w[0] == "press"]
    pressed = {w[6]: float(w[3]) for w in presses if w[5] == "1" and w[2] == "call_next"}
    called = {w[7]: w[6] for w in presses if w[5] == "1" and w[2] == "call_next"}  # number -> call
    tv_woke = [
        (float(w[1]) - pressed[w[0]]) * 1000
        for kind, w in lines
        if kind == "tv" and w[0] in pressed
    ]
    phone_calls = [w for kind, w in lines if kind == "phone" and w[0] == "call"]
    phone_woke = [
        (float(w[4]) - pressed[w[3]]) * 1000
        for w in phone_calls
        if w[1] == w[2] and w[3] in pressed
    ]
    # On the wire (bench/_wire.py): `tv call_id at port`, `phone number call_id at port`.
    wire = [w for kind, w in lines if kind == "wire" and w[0] in ("tv", "phone")]
    tv_wire = [
        (float(w[2]) - pressed[w[1]]) * 1000 for w in wire if w[0] == "tv" and w[1] in pressed
    ]
    phone_wire = [
        (float(w[3]) - pressed[w[2]]) * 1000 for w in wire if w[0] == "phone" and w[2] in pressed
    ]
    tv, phone = (tv_wire, phone_wire) if wire else (tv_woke, phone_woke)
    following = {t["number"] for t in followed}
    status = [w for kind, w in lines if kind == "probe" and w[0] == "status"]
    kiosk = [w for kind, w in lines if kind == "probe" and w[0] == "kiosk"]
    frames = [w for kind, w in lines if kind == "phone" and w[0] == "frames"]

    def pct(values: list[float], p: float) -> float | None:
        return round(percentile(values, p), 1) if values else None

    return {
        "tvs": tvs, "phones": len(followed), "phones_connected": opened, "refused": refused,
        "dropped": sum(int(w[3]) for w in frames),
        "presses": len(presses), "answered": sum(1 for w in presses if w[4] != "nan"),
        "ok": sum(1 for w in presses if w[5] == "1"),
        "errors": dict(Counter(w[6] for w in presses if w[5] != "1")),
        "calls": len(pressed), "tv_events": len(tv_woke), "tv_expected": len(pressed) * tvs,
        "stamped": "wire" if wire else "woke", "tv_wire_frames": len(tv_wire),
        "tv_p50": pct(tv, 50), "tv_p95": pct(tv, 95), "tv_p99": pct(tv, 99), "tv_max": pct(tv, 100),
        "tv_woke_p50": pct(tv_woke, 50), "tv_woke_p99": pct(tv_woke, 99),
        "phone_calls_expected": sum(1 for number in called if number in following),
        "phone_calls": len(phone_woke), "phone_wrong": sum(1 for w in phone_calls if w[1] != w[2]),
        "phone_p50": pct(phone, 50), "phone_p99": pct(phone, 99), "phone_woke_p99": pct(phone_woke, 99),
        "status": len(status), "status_failed": sum(1 for w in status if w[3] != "200"),
        "status_p50": pct([float(w[2]) for w in status], 50), "status_p99": pct([float(w[2]) for w in status], 99),
        "kiosk": len(kiosk), "kiosk_failed": sum(1 for w in kiosk if w[2] != "201"),
        "kiosk_p99": pct([float(w[1]) for w in kiosk], 99),
        "cpu_ms_per_press": round(server["cpu"] / max(1, len(presses)) * 1000, 1),
        "cpu_percent": round(100 * server["cpu"] / server["window"], 1),
        "rss_mb": round(server["rss"]), "load": round(server["load"], 1),
        "cpu_percent_each": server["cpu_each"],  # writer (or floor), workers, redis
    }  # fmt: skip


# --- one size, one mode ------------------------------------------------------------------------


def run(args, phones: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = hall_config(folder, args.counters, phones)
        with ExitStack() as stack:
            queue = stack.enter_context(redis(folder)) if args.workers else None
            if queue is not None:
                raw["server"]["message_queue"] = queue.url
            with GcLog(args.profile):  # the writer only, not its clients
                writer = stack.enter_context(Server(folder, raw))
            with signed_in(writer.url, args.counters):
                tickets = take_tickets(writer.url, max(phones, int(args.seconds * args.rate) + 50))
                settled(folder / "audio")
            workers = [
                stack.enter_context(worker(folder, writer.config, i)) for i in range(args.workers)
            ]
            fanout = [w.url for w in workers] or [writer.url]
            processes = [writer, *workers] + ([queue] if queue else [])
            result = run_clients(fanout, writer.url, tickets, args, phones, processes, probe=True)
        result["mode"] = f"{args.workers} workers + Redis" if args.workers else "one process"
        result["server_cpus"] = sorted(Server.cpus) if Server.cpus else None
        if not args.no_floor:
            with floor(
                folder, [t["number"] for t in tickets], raw["server"]["max_connections"]
            ) as f:
                result["floor"] = run_clients(
                    [f.url], f.url, tickets, args, phones, [f], probe=False
                )
    return result


# --- the report --------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def table(results: list[dict]) -> list[str]:
    lines = [
        "| mode | TVs | phones (connected) | refused | presses ok/sent | TV p50 / p95 / p99 / max ms "
        "| phone p50 / p99 ms (got/expected, wrong) | status p50 / p99 ms (failed) | kiosk p99 ms (failed) "
        "| server CPU ms/press (% of a core) | RSS MB | floor TV p50 / p99 ms | floor phone p99 ms "
        "| TV p99 / floor | TV p50 / p99 woke ms (floor) | phone p99 woke ms | load |",
        "|---|---:|---:|---:|---:|---|---|---|---|---|---:|---|---:|---:|---|---:|---:|",
    ]
    for r in results:
        f = r.get("floor") or {}
        lines.append(
            f"| {r['mode']} | {r['tvs']} | {r['phones']} ({r['phones_connected']}) | {r['refused']} "
            f"| {r['ok']}/{r['presses']} | {ms(r['tv_p50'])} / {ms(r['tv_p95'])} / {ms(r['tv_p99'])} / "
            f"{ms(r['tv_max'])} ({r['stamped']}) | {ms(r['phone_p50'])} / {ms(r['phone_p99'])} ({r['phone_calls']}/"
            f"{r['phone_calls_expected']}, {r['phone_wrong']}) | {ms(r['status_p50'])} / {ms(r['status_p99'])}"
            f" ({r['status_failed']}) | {ms(r['kiosk_p99'])} ({r['kiosk_failed']}) | {r['cpu_ms_per_press']}"
            f" ({r['cpu_percent']} %) | {r['rss_mb']} | {ms(f.get('tv_p50'))} / {ms(f.get('tv_p99'))} "
            f"| {ms(f.get('phone_p99'))} | {ratio(r['tv_p99'], f.get('tv_p99'))} "
            f"| {ms(r['tv_woke_p50'])} / {ms(r['tv_woke_p99'])} ({ms(f.get('tv_woke_p50'))} / "
            f"{ms(f.get('tv_woke_p99'))}) | {ms(r['phone_woke_p99'])} | {r['load']} |"
        )
    return lines


def report(results: list[dict], command: str) -> str:
    pinned = (
        f"the server (and the floor) on core {min(Server.cpus)}, the clients on the others"
        if Server.cpus
        else "server and clients on any core"
    )
    lines = [
        f"\n### Hall benchmark (issue 15), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `{command}`\n",
        f"Machine: {machine()}; {pinned}; load average (1 min) at each run's start in the last"
        " column (the machine is shared with other engineers' work).\n",
        *table(results),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--phones", default="500", help="comma list of phone counts, e.g. 500,1000,2000,5000"
    )
    parser.add_argument("--tvs", type=int, default=20)
    parser.add_argument("--counters", type=int, default=20)
    parser.add_argument(
        "--rate", type=float, default=2.0, help="presses a second, all counters together"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the counters press")
    parser.add_argument(
        "--workers", type=int, default=0, help="fan-out workers on Redis (0: one process)"
    )
    parser.add_argument("--status-rate", type=float, default=4.0, help="status loads a second")
    parser.add_argument(
        "--kiosk-every", type=float, default=3.0, help="seconds between kiosk tickets"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the raw Flask-SocketIO floor")
    parser.add_argument("--no-probe", action="store_true",
                        help="no status pages nor kiosk tickets: the server gets what the floor gets")  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, help="py-spy and GC pauses of the writer into this folder"
    )
    parser.add_argument("--stamps", type=Path, help="every client's output lines into this folder")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--write", action="store_true", help="append the tables to docs/benchmarks.md"
    )
    parser.add_argument("--pin", action="store_true",
                        help="one process: the server on the first core, the clients on the others")  # fmt: skip
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and not args.workers and len(cpus) > 1:
        # The clients' work must not stretch the server's: the server (and the floor) get the
        # first core, this process and every client it starts the others.
        Server.cpus = {cpus[0]}
        os.sched_setaffinity(0, cpus[1:])
    command = "bench/bench_hall.py " + " ".join(sys.argv[1:]).replace(" --write", "")
    results = []
    for phones in [int(n) for n in args.phones.split(",")]:
        results.append(run(args, phones))
        print(json.dumps(results[-1]), flush=True)
    text = report(results, command)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.write:
        with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
