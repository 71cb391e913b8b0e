"""Many light visitor phones in one process (bench/bench_phones.py); counts what each receives.

Like bench/_listener.py: bare Socket.IO clients over websocket-client sockets, read with one
selector. Mode `display`: phones as they were before /visitor (every one on /display, anonymous).
Mode `visitor`: each phone on /visitor with its ticket's auth, one JSON object per line on stdin
before the run. When stdin closes the process prints `frames <n> calls <n>` and exits.
"""

from __future__ import annotations

import json
import selectors
import sys

import websocket


def open_phone(url: str, namespace: str, auth: dict | None) -> websocket.WebSocket:
    ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=30)  # fmt: skip
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send(f"40{namespace}," + (json.dumps(auth) if auth else ""))
    while True:
        answer = ws.recv()
        if answer.startswith(f"40{namespace},"):
            return ws
        if answer.startswith(f"44{namespace},"):
            raise RuntimeError("refused: " + answer)


def main(url: str, mode: str) -> None:
    namespace = "/display" if mode == "display" else "/visitor"
    auths = [json.loads(line) for line in iter(sys.stdin.readline, "\n")]
    sockets = [open_phone(url, namespace, a if mode == "visitor" else None) for a in auths]
    selector = selectors.DefaultSelector()
    for ws in sockets:
        selector.register(ws.sock, selectors.EVENT_READ, ws)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print("ready", flush=True)
    frames = calls = 0
    while True:
        for key, _ in selector.select():
            ws = key.data
            if ws is None:
                sys.stdin.read()
                print(f"frames {frames} calls {calls}", flush=True)
                for w in sockets:
                    w.close()
                return
            message = ws.recv()
            if message == "2":  # Engine.IO ping
                ws.send("3")
                continue
            frames += 1
            if message.startswith(f'42{namespace},["ticket_called"'):
                calls += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
