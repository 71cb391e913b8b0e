"""Many light display clients in one process; prints `call_id monotonic_time` for each call.

A python-socketio client costs about a millisecond of Python per message, so 100 of them on a
2-core machine measure their own backlog rather than the server. These are bare Socket.IO clients
over websocket-client sockets, read with one selector; a frame is stamped when the selector wakes
for it (time.monotonic is one clock for every process).
"""

from __future__ import annotations

import json
import selectors
import sys
import time

import websocket


def open_display(url: str) -> websocket.WebSocket:
    ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=20)  # fmt: skip
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40/display,")  # Socket.IO connect to the display namespace
    while not ws.recv().startswith("40/display,"):
        pass
    return ws


def main(url: str, count: int) -> None:
    sockets = [open_display(url) for _ in range(count)]
    selector = selectors.DefaultSelector()
    for ws in sockets:
        ws.sock.setblocking(True)
        selector.register(ws.sock, selectors.EVENT_READ, ws)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready", flush=True)
    while True:
        ready = selector.select()
        # One stamp per wake-up: a frame counts as arrived when the kernel said so, not after
        # this single thread has parsed the frames of the 49 sockets before it.
        now = time.monotonic()
        for key, _ in ready:
            ws = key.data
            if ws is None:  # stdin closed: the benchmark is done
                for w in sockets:
                    w.close()
                return
            message = ws.recv()
            if message == "2":  # Engine.IO ping
                ws.send("3")
            elif message.startswith('42/display,["ticket_called"'):
                data = json.loads(message[len("42/display,") :])[1]
                print(data["call"]["call_id"], now, flush=True)
            elif message.startswith('42/display,["events"'):  # one press's events, one frame
                for data in json.loads(message[len("42/display,") :])[1]["events"]:
                    if data.get("event") == "ticket_called":
                        print(data["call"]["call_id"], now, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
