"""What a phone without a socket loads, and a kiosk now and then, for bench/bench_hall.py.

    _hall_probe.py URL STATUS_PER_S KIOSK_EVERY_S

Reads tokened visitor paths (`/t/<day>/<number>/<token>`) from stdin, one a line, an empty line
ends them; prints `ready` and waits for `go`. Then, until stdin closes, one thread fetches a
random ticket's status STATUS_PER_S times a second, alternating its JSON (`.../status`, what the
page re-reads) and the page itself (server/pages/visitor.py), and another takes a kiosk ticket
(`POST /api/kiosk/bench/tickets`) every KIOSK_EVERY_S seconds. Prints `status json|page <ms>
<HTTP status>` and `kiosk <ms> <HTTP status>` (status 0: no answer within 30 s).
"""

from __future__ import annotations

import random
import sys
import threading
import time

import requests

SERVICES = ("ktp", "kk", "paspor", "bpjs", "pajak-kendaraan")


def timed(out: threading.Lock, label: str, fetch) -> None:
    start = time.monotonic()
    try:
        code = fetch().status_code
    except requests.RequestException:
        code = 0
    with out:
        print(label, (time.monotonic() - start) * 1000, code, flush=True)


def every(interval: float, stop: threading.Event, step) -> None:
    due = time.monotonic()
    while not stop.is_set():
        step()
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))


def main(url: str, status_per_s: float, kiosk_every_s: float) -> None:
    paths = list(iter(sys.stdin.readline, "\n"))
    paths = [p.strip() for p in paths]
    out, stop = threading.Lock(), threading.Event()
    print("ready", flush=True)
    sys.stdin.readline()  # go
    rng = random.Random(15)
    pages, kiosk = requests.Session(), requests.Session()
    turn = iter(range(10**9))

    def status() -> None:
        path = rng.choice(paths)
        if next(turn) % 2:
            timed(out, "status page", lambda: pages.get(url + path, timeout=30))
        else:
            timed(out, "status json", lambda: pages.get(url + path + "/status", timeout=30))

    def ticket() -> None:
        body = {"service": rng.choice(SERVICES)}
        timed(
            out,
            "kiosk",
            lambda: kiosk.post(url + "/api/kiosk/bench/tickets", json=body, timeout=30),
        )

    threads = [threading.Thread(target=every, args=(1 / status_per_s, stop, status)),
               threading.Thread(target=every, args=(kiosk_every_s, stop, ticket))]  # fmt: skip
    if not paths:
        threads.pop(0)
    for thread in threads:
        thread.start()
    sys.stdin.read()  # until the benchmark closes stdin
    stop.set()
    for thread in threads:
        thread.join(35)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
