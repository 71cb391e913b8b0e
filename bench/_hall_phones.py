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


def answer(key: selectors.SelectorKey, selector: selectors.BaseSelector) -> str | None:
    """Read one frame and answer a ping; None (and forgotten) when the server closed the socket."""
    ws = key.data[0]
    try:
        message = ws.recv()
        if message == "2":  # Engine.IO ping
            ws.send("3")
        return message
    except (OSError, websocket.WebSocketException):
        selector.unregister(key.fileobj)
        return None


def main(url: str) -> None:
    auths = [json.loads(line) for line in iter(sys.stdin.readline, "\n")]
    phones: list[tuple[websocket.WebSocket, str]] = []
    refused = failed = 0
    selector = selectors.DefaultSelector()
    frames = dropped = 0
    for auth in auths:
        try:
            ws = open_phone(url, "/visitor", auth)
        except RuntimeError:
            refused += 1
            continue
        except (OSError, websocket.WebSocketException):
            failed += 1
            continue
        phones.append((ws, auth["number"]))
        selector.register(ws.sock, selectors.EVENT_READ, (ws, auth["number"]))
        # Opening a few hundred phones can take longer than the server's ping timeout (45 s):
        # the phones already open answer their pings meanwhile.
        for key, _ in selector.select(0):
            if answer(key, selector) is None:
                dropped += 1
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print(f"ready {len(phones)} {refused} {failed}", flush=True)
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
            message = answer(key, selector)
            if message is None:
                dropped += 1
            elif message != "2":
                frames += 1
            if message and message.startswith(PREFIX + '["ticket_called"'):
                data = json.loads(message[len(PREFIX) :])[1]
                print("call", key.data[1], data["ticket"]["number"], data["call"]["call_id"], now,
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
