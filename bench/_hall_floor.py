"""The raw Flask-SocketIO floor for bench/bench_hall.py: the same fan-out, no queue behind it.

    _hall_floor.py PORT NUMBERS.json MAX_CONNECTIONS

A bare Flask-SocketIO app (eventlet, served by server.__main__.listen like the real server: same
TCP_NODELAY, connection limit and open files) that speaks just enough of docs/protocol.md for the
bench's clients: TVs on /display, phones on /visitor (auth `{"number", ...}`: the phone joins the
room of its number), counters on /counter. `call_next` takes the next number of NUMBERS.json,
emits one `ticket_called` to /display and one to that number's room on /visitor, and acknowledges
it; `finish` is acknowledged and emits nothing. No database, no engine, no voice, no
authentication: what is left is the cost of Socket.IO itself on this machine.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections import deque
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

from flask import Flask, jsonify  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.__main__ import listen  # noqa: E402


def create_floor(numbers: list[str]) -> Flask:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="eventlet")
    waiting = deque(numbers)
    calls = iter(range(1, 10**9))

    @app.get("/api/health")
    def health():
        return jsonify(ok=True)

    @socketio.on("connect", namespace="/display")
    def screen(_auth):
        pass  # a namespace without handlers would be refused

    @socketio.on("connect", namespace="/visitor")
    def phone(auth):
        join_room(str((auth or {}).get("number")))

    @socketio.on("call_next", namespace="/counter")
    def call_next(_data):
        if not waiting:
            return {"ok": False, "error": "no-waiting-tickets"}
        number, seq = waiting.popleft(), next(calls)
        event = {"event": "ticket_called", "seq": seq, "call": {"call_id": f"{number}#1"},
                 "ticket": {"number": number}}  # fmt: skip
        socketio.emit("ticket_called", event, namespace="/display")
        socketio.emit("ticket_called", event, namespace="/visitor", to=number)
        return {"ok": True, "result": {"call": event["call"], "ticket": event["ticket"]}}

    @socketio.on("finish", namespace="/counter")
    def finish(_data):
        return {"ok": True, "result": {}}

    return app


if __name__ == "__main__":
    port, numbers, most = (
        int(sys.argv[1]),
        json.loads(Path(sys.argv[2]).read_text()),
        int(sys.argv[3]),
    )
    listen(create_floor(numbers), "127.0.0.1", port, "eventlet", most)()
