"""The raw Flask-SocketIO floor for bench/bench_hall.py: the same fan-out, no queue behind it.

    _hall_floor.py PORT NUMBERS.json MAX_CONNECTIONS

A bare Flask-SocketIO app (eventlet, served by server.__main__.listen like the real server: same
TCP_NODELAY, connection limit and open files) that speaks just enough of docs/protocol.md for the
bench's clients: TVs on /display, phones on /visitor (auth `{"number", ...}`: the phone joins the
room of its number), counters on /counter. `call_next` takes the next number of NUMBERS.json and
sends the frames the real server sends for it: when the counter was serving a number, a
`ticket_finished` and the `ticket_called` to /display in one `events` frame (otherwise the
`ticket_called` alone), each of them to /counter, and the `ticket_called` to that number's room
on /visitor; `finish` sends a `ticket_finished` to /display and /counter. So the bench's clients
(the counters receive the whole stream, as consoles do) are as busy as against the server. No
database, no engine, no voice, no summaries, no authentication: what is left is the cost of
Socket.IO itself on this machine.
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

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.__main__ import listen  # noqa: E402


def create_floor(numbers: list[str]) -> Flask:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="eventlet")
    waiting = deque(numbers)
    seqs = iter(range(1, 10**9))
    serving: dict[str, str] = {}  # a counter's socket id -> the number it serves

    def finished(sid: str) -> list[dict]:
        number = serving.pop(sid, None)
        return [] if number is None else [{"event": "ticket_finished", "seq": next(seqs),
                                           "ticket": {"number": number}}]  # fmt: skip

    def send(events: list[dict]) -> None:
        if len(events) > 1:
            socketio.emit("events", {"events": events}, namespace="/display")
        elif events:
            socketio.emit(events[0]["event"], events[0], namespace="/display")
        for event in events:
            socketio.emit(event["event"], event, namespace="/counter")

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
        events = finished(request.sid)
        number = waiting.popleft()
        event = {"event": "ticket_called", "seq": next(seqs), "call": {"call_id": f"{number}#1"},
                 "ticket": {"number": number}}  # fmt: skip
        serving[request.sid] = number
        send([*events, event])
        socketio.emit("ticket_called", event, namespace="/visitor", to=number)
        return {"ok": True, "result": {"call": event["call"], "ticket": event["ticket"]}}

    @socketio.on("finish", namespace="/counter")
    def finish(_data):
        send(finished(request.sid))
        return {"ok": True, "result": {}}

    return app


if __name__ == "__main__":
    port, numbers, most = (
        int(sys.argv[1]),
        json.loads(Path(sys.argv[2]).read_text()),
        int(sys.argv[3]),
    )
    listen(create_floor(numbers), "127.0.0.1", port, "eventlet", most)()
