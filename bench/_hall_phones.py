"""Visitor phones that stamp their own calls, for bench/bench_hall.py.

The phones of bench/_phones.py (bare Socket.IO over websocket-client, `open_phone`, one selector
per process), each following its own ticket on /visitor. One JSON auth per line on stdin, an empty
line ends them. Prints `ready <opened> <refused> <failed>` (refused: the server answered
`connect_error`, e.g. too-many-phones; failed: no connection at all), then for every
`ticket_called` a phone receives `call <its number> <the event's number> <call_id> <monotonic>`,
stamped when the selector woke for it as bench/_listener.py does. When stdin closes it prints
`frames <received> dropped <connections the server closed>` and exits.
"""

from __future__ import annotations

import json
import selectors
import sys
import time

import websocket
from _phones import open_phone

PREFIX = "42/visitor,"


def main(url: str) -> None:
    auths = [json.loads(line) for line in iter(sys.stdin.readline, "\n")]
    phones: list[tuple[websocket.WebSocket, str]] = []
    refused = failed = 0
    for auth in auths:
        try:
            phones.append((open_phone(url, "/visitor", auth), auth["number"]))
        except RuntimeError:
            refused += 1
        except (OSError, websocket.WebSocketException):
            failed += 1
    selector = selectors.DefaultSelector()
    for ws, number in phones:
        selector.register(ws.sock, selectors.EVENT_READ, (ws, number))
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print(f"ready {len(phones)} {refused} {failed}", flush=True)
    frames = dropped = 0
    while True:
        ready = selector.select()
        now = time.monotonic()  # one stamp per wake-up, as in bench/_listener.py
        for key, _ in ready:
            if key.data is None:  # stdin closed: the benchmark is done
                sys.stdin.read()
                print(f"frames {frames} dropped {dropped}", flush=True)
                for ws, _number in phones:
                    ws.close()
                return
            ws, number = key.data
            try:
                message = ws.recv()
            except (OSError, websocket.WebSocketException):
                selector.unregister(ws.sock)
                dropped += 1
                continue
            if message == "2":  # Engine.IO ping
                ws.send("3")
                continue
            frames += 1
            if message.startswith(PREFIX + '["ticket_called"'):
                data = json.loads(message[len(PREFIX) :])[1]
                print("call", number, data["ticket"]["number"], data["call"]["call_id"], now,
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
