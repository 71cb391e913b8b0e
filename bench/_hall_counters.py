"""Counters pressing on a shared schedule, for bench/bench_hall.py.

    _hall_counters.py URL FIRST,SECOND,... COUNTERS RATE SECONDS

Connects the listed counters on /counter (python-socketio, bench tokens: bench_core.counter_client)
and prints `ready`; then waits for `go <monotonic start>` on stdin. Press k of the hall is due at
start + k / RATE and belongs to counter k % COUNTERS + 1, so COUNTERS counters in several of these
processes press RATE times a second in all. A counter's presses go call_next, call_next, finish,
call_next, ... Each press runs in its own thread (a slow answer does not delay the next press) and
prints `press <counter> <command> <sent> <answered> <ok> <call_id or error> <number or ->`
(monotonic seconds, answered `nan` when no answer came); `done` at the end.
"""

from __future__ import annotations

import sys
import threading
import time

from bench_core import counter_client

PATTERN = ("call_next", "call_next", "finish")
ANSWER_TIMEOUT = 30


def press(sio, counter: int, command: str, request_id: str, out: threading.Lock) -> None:
    sent = time.monotonic()
    try:
        ack = sio.call(command, {"request_id": request_id}, namespace="/counter",
                       timeout=ANSWER_TIMEOUT)  # fmt: skip
        answered = time.monotonic()
    except Exception as exc:  # a timeout or a lost connection: not answered
        ack, answered = {"ok": False, "error": type(exc).__name__}, float("nan")
    if ack.get("ok"):
        result = ack.get("result") or {}
        call, ticket = result.get("call"), result.get("ticket")
        detail = (
            f"{call['call_id'] if call else '-'} {ticket['number'] if call and ticket else '-'}"
        )
    else:
        detail = f"{ack.get('error')} -"
    with out:
        print("press", counter, command, sent, answered, int(bool(ack.get("ok"))), detail,
              flush=True)  # fmt: skip


def main(url: str, mine: list[int], counters: int, rate: float, seconds: float) -> None:
    clients = {n: counter_client(url, n) for n in mine}
    print("ready", flush=True)
    start = float(sys.stdin.readline().split()[1])
    out = threading.Lock()
    threads = []
    for k in range(int(seconds * rate)):
        counter = k % counters + 1
        if counter not in clients:
            continue
        time.sleep(max(0.0, start + k / rate - time.monotonic()))
        command = PATTERN[(k // counters) % len(PATTERN)]
        thread = threading.Thread(target=press, args=(clients[counter], counter, command,
                                                      f"hall-{k}", out))  # fmt: skip
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(ANSWER_TIMEOUT + 5)
    for sio in clients.values():
        sio.disconnect()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], [int(n) for n in sys.argv[2].split(",")], int(sys.argv[3]),
         float(sys.argv[4]), float(sys.argv[5]))  # fmt: skip
