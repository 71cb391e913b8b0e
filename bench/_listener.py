"""A process holding several display clients; prints `call_id monotonic_time` for each call it gets.

Used by bench_core.py so that 100 displays do not share one Python interpreter (and its GIL).
"""

from __future__ import annotations

import sys
import threading
import time

import socketio


def main(url: str, count: int) -> None:
    lock = threading.Lock()
    clients = []

    def listener():
        sio = socketio.Client(reconnection=False)

        @sio.on("ticket_called", namespace="/display")
        def _called(data):
            now = time.monotonic()
            with lock:
                print(data["call"]["call_id"], now, flush=True)

        sio.connect(url, namespaces=["/display"], transports=["websocket"], wait_timeout=20)
        return sio

    for _ in range(count):
        clients.append(listener())
    print("ready", flush=True)
    sys.stdin.readline()  # until the benchmark closes our stdin
    for sio in clients:
        sio.disconnect()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
