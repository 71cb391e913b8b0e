"""Server CPU per press with visitor phones connected: on /display (before) and /visitor (after).

A real `python -m server` (eventlet) on 127.0.0.1; phones are bare websocket clients in separate
processes (bench/_phones.py, 50 per process), spread over three services; one counter presses
`call_next` in one service. Before this branch every phone followed the hall's whole stream on
/display; with /visitor a press reaches the one phone it calls and one summary per moved service.
Results go to docs/benchmarks.md by hand.

    .venv/bin/python bench/bench_phones.py --phones 300 --presses 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from bench_core import counter_client
from common import Server, bench_hall, machine

PHONES = Path(__file__).resolve().parent / "_phones.py"
SERVICES = ("ktp", "kk", "paspor")
PER_PROCESS = 50


def phone_hall(folder: Path) -> dict:
    raw = bench_hall(folder, counters=4)
    raw["services"] = [{"code": code, "agency": "dukcapil", "name": code.upper(), "prefix": prefix}
                       for code, prefix in zip(SERVICES, "ABC")]  # fmt: skip
    return raw


def run(mode: str, phones: int, presses: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), phone_hall(Path(tmp))) as server:
        auths = []
        with requests.Session() as http:
            for i in range(phones):
                answer = http.post(server.url + "/api/tickets", timeout=10,
                                   json={"service": SERVICES[i % len(SERVICES)]}).json()  # fmt: skip
                t = answer["ticket"]
                auths.append({"day": t["day"], "number": t["number"], "token": answer["token"]})
            for _ in range(max(0, presses - phones // len(SERVICES))):
                http.post(server.url + "/api/tickets", json={"service": "ktp"}, timeout=10)
        procs = []
        for start in range(0, phones, PER_PROCESS):
            proc = subprocess.Popen([sys.executable, str(PHONES), server.url, mode], text=True,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
            for auth in auths[start : start + PER_PROCESS]:
                proc.stdin.write(json.dumps(auth) + "\n")
            proc.stdin.write("\n")
            proc.stdin.flush()
            procs.append(proc)
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        time.sleep(2)  # connections settled, the first summaries sent
        officer = counter_client(server.url, 1)
        cpu_start = server.cpu_seconds()
        wall = time.monotonic()
        for i in range(presses):
            officer.call("call_next", {"request_id": f"p-{i}"}, namespace="/counter", timeout=10)
            time.sleep(0.1)  # ten presses a second
        time.sleep(3)  # the last coalesced summaries
        cpu_ms = (server.cpu_seconds() - cpu_start) / presses * 1000
        seconds = time.monotonic() - wall
        officer.disconnect()
        frames = calls = 0
        for proc in procs:
            proc.stdin.close()
            words = proc.stdout.readline().split()
            frames += int(words[1])
            calls += int(words[3])
            proc.wait(30)
        return {"mode": mode, "phones": phones, "presses": presses, "cpu_ms": cpu_ms,
                "frames_per_press": frames / presses, "calls": calls, "seconds": seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--modes", default="display,visitor", help="display, visitor or both")
    args = parser.parse_args()
    print(machine())
    print(
        "| phones on | phones | presses | server CPU ms/press | frames to phones per press | ticket_called frames at phones |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for mode in args.modes.split(","):
        r = run(mode, args.phones, args.presses)
        print(f"| `/{mode}` | {r['phones']} | {r['presses']} | {r['cpu_ms']:.1f} |"
              f" {r['frames_per_press']:.1f} | {r['calls']} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
