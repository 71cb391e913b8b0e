"""Fuzz a real server process: every /api route and every socket event, 10,000 inputs each.

Counts, per endpoint and per socket event: 5xx answers, error answers that are not the protocol's
JSON (`{"ok": false, "error": <declared code>, "message": ...}`), socket events never acknowledged
and connections never answered. The server runs as `python -m server` (eventlet) on 127.0.0.1; its
routes come from app.url_map, so a new route is fuzzed too. A JSON 429 `rate-limited` is a correct
answer (ticket issuing is rate limited per address) and is counted on its own.

    .venv/bin/python bench/fuzz_api.py [--count 10000] [--write]

--write appends the figures to the "Fuzzing" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Server, bench_hall  # noqa: E402
from server import protocol  # noqa: E402

TOKEN = "bench-token-1"
ACK_TIMEOUT = 5.0
WINDOW = 32  # socket events in flight at once


# --- inputs -----------------------------------------------------------------------------------

FIELDS = ["service", "priority", "request_id", "number", "counter", "token", "display"]
GOOD = {"service": ["ktp", "sim", "KTP"], "priority": [None, "elderly", "vip", ""],
        "request_id": ["press-1", "a" * 64, "a" * 65, "x y"], "number": ["A001", "A999", "Z"],
        "counter": [1, 2, "1", 0, 1000], "token": [TOKEN, "nope", ""], "display": ["lobby", "", None]}  # fmt: skip
NASTY_TEXT = ["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "\udc00\ud800", "\u202e", "\ufeff", "🎫",
              "../../etc/passwd", "<script>", "' OR 1=1 --", "%s%n", "null", "1e999"]  # fmt: skip


def dumps(value: object, ascii_only: bool = True) -> str:
    """JSON text of a fuzzed value; nesting past json's own limit is written by hand."""
    try:
        return json.dumps(value, ensure_ascii=ascii_only)
    except RecursionError:
        return "[" * 3000 + "1" + "]" * 3000


class Fuzzer:
    """Random JSON-ish values and bodies, from one seed (a run can be repeated)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.presses = 0

    def text(self) -> str:
        r = self.r
        pick = r.random()
        if pick < 0.35:
            return r.choice(NASTY_TEXT)
        if pick < 0.45:
            return r.choice(NASTY_TEXT) * r.randint(1, 200)
        alphabet = [chr(r.randint(0, 0x2FFFF)) for _ in range(8)] + list("ktpA019-_ ")
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, 40)))

    def number(self) -> object:
        r = self.r
        return r.choice([0, -1, 1, 3, 999, 1000, 2**31, 2**63, -(2**63), 10**30, 0.5, -0.0, 1e308,
                         float("nan"), float("inf"), r.randint(-(10**9), 10**9)])  # fmt: skip

    def value(self, depth: int = 0) -> object:
        r = self.r
        pick = r.random()
        if depth > 3 or pick < 0.55:
            return r.choice([None, True, False, self.number(), self.text(), self.text()])
        if pick < 0.75:
            return [self.value(depth + 1) for _ in range(r.randint(0, 4))]
        return {self.key(): self.value(depth + 1) for _ in range(r.randint(0, 4))}

    def key(self) -> str:
        return self.r.choice(FIELDS) if self.r.random() < 0.6 else self.text()

    def near(self, base: dict) -> dict:
        """A valid payload, as is or with one field changed, dropped or added."""
        r = self.r
        out = dict(base)
        if "request_id" in out:
            self.presses += 1
            out["request_id"] = f"fuzz-{self.presses}"  # a new press, not a replay
        pick = r.random()
        if pick < 0.3 or not out:
            return out
        name = r.choice(list(out))
        if pick < 0.7:
            out[name] = self.value(1)
        elif pick < 0.85:
            del out[name]
        else:
            out[self.key()] = self.value(1)
        return out

    def payload(self, base: dict | None = None) -> object:
        """A payload near the schemas (to get past the first check), or plain junk."""
        r = self.r
        if base is not None and r.random() < 0.4:
            return self.near(base)
        pick = r.random()
        if pick < 0.6:
            out = {}
            for name in r.sample(FIELDS, r.randint(0, 4)):
                out[name] = r.choice(GOOD[name]) if r.random() < 0.5 else self.value(1)
            if r.random() < 0.2:
                out[self.text()] = self.value(1)
            return out
        if pick < 0.7:
            return self.deep()
        return self.value()

    def deep(self) -> object:
        value: object = 1
        for _ in range(self.r.randint(50, 1500)):
            value = [value] if self.r.random() < 0.5 else {"a": value}
        return value

    def body(self, base: dict | None = None) -> bytes:
        """An HTTP body: JSON (with or without ASCII escapes, so sometimes not UTF-8) or broken."""
        r = self.r
        pick = r.random()
        if pick < 0.75:
            return dumps(self.payload(base), r.random() < 0.7).encode("utf-8", "surrogatepass")
        if pick < 0.85:  # valid JSON cut or corrupted at a random place
            raw = bytearray(dumps(self.payload()).encode())
            if raw:
                raw[r.randrange(len(raw))] = r.randrange(256)
            return bytes(raw[: r.randint(0, len(raw))])
        if pick < 0.92:
            return bytes(r.randrange(256) for _ in range(r.randint(0, 64)))
        return r.choice([b"", b"{", b"NaN", b'{"service":"ktp"} x', b'{"service":' + b"1" * 5000 + b"}",
                         b"\xef\xbb\xbf{}", b'{"service":"\\ud800"}', b"[" * 100_000])  # fmt: skip

    def content_type(self) -> str | None:
        return self.r.choice(
            ["application/json"] * 8 + ["text/plain", None, "application/json; charset=latin-1"]
        )

    def auth_header(self) -> dict:
        pick = self.r.random()
        if pick < 0.8:
            return {"Authorization": f"Bearer {TOKEN}"}
        return self.r.choice([{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer"},
                              {"Authorization": "Bearer " + "x" * 5000}])  # fmt: skip


def valid_payload(target: str) -> dict:
    """What a well-behaved client sends to this route or event (the fuzzer starts from it)."""
    name = target.rsplit("/", 1)[-1]
    if name in protocol.COUNTER_COMMANDS:
        extra = {protocol.TRANSFER: {"service": "ktp"}, protocol.CALL_TICKET: {"number": "A001"}}
        return {"request_id": "x", **extra.get(name, {})}
    if name == "tickets":
        return {"service": "ktp", "priority": None}
    return {}


# --- results ----------------------------------------------------------------------------------


@dataclass
class Row:
    target: str
    inputs: int = 0
    ok: int = 0  # 2xx, or an ack with ok: true, or a connection accepted
    refused: int = 0  # 4xx JSON, an error ack, or a connection refused
    limited: int = 0  # 429 rate-limited
    server_errors: int = 0  # 5xx, or an internal-error ack
    not_json: int = 0  # an error that is not the protocol's JSON, or an ack of another shape
    unanswered: int = 0  # no ack / no connect answer within 5 s
    seconds: float = 0.0
    log_lines: int = 0  # server log lines written meanwhile (malformed packets)
    examples: list[str] = field(default_factory=list)

    def bad(self, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 3:
            self.examples.append(detail[:200])


def check_error_body(row: Row, status: int, body: object, detail: str) -> None:
    if not (isinstance(body, dict) and body.get("ok") is False and body.get("error") in protocol.ERRORS
            and isinstance(body.get("message"), str)):  # fmt: skip
        row.bad("not_json", f"{status} {detail}")
    elif status == 429:
        row.limited += 1
    else:
        row.refused += 1


# --- HTTP -------------------------------------------------------------------------------------

URL_VALUES = {
    "number": ["1", "2", "A001", "0", "99999999999999999999", "%00", "%ED%A0%80", "-1", "A" * 300],
    "command": [*protocol.COUNTER_COMMANDS, "explode", "%00", "get_snapshot"],
    "day": ["TODAY", "2026-01-01", "9999-99-99", "%00", "x" * 200],
    "kiosk_id": ["layar", "lobby-1", "%ED%A0%80", "A" * 100, ".."],
    "key": ["0" * 32, "nope", "%00"],
    "ext": ["wav", "mp3", "exe"],
}


def api_routes() -> list[tuple[str, str]]:
    """(method, rule) of every /api route, read from the app factory's url_map."""
    from server.app import create_app
    from server.config import parse_config
    from server.hub import PlainAnnouncer

    with tempfile.TemporaryDirectory() as folder:
        config = parse_config(bench_hall(Path(folder), counters=2), base_dir=Path(folder))
        app = create_app(config, announcer=PlainAnnouncer(), start_ticker=False)
        routes = sorted({(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api")
                         for m in r.methods - {"HEAD", "OPTIONS"}})  # fmt: skip
        app.extensions["panggil"].storage.close()
    return routes


def fuzz_http(
    server: Server, method: str, rule: str, count: int, fz: Fuzzer, day: str, deadline: float
) -> Row:
    row = Row(f"{method} {rule}")
    start = time.monotonic()
    http = requests.Session()

    def value(match: re.Match) -> str:
        converter, name = match.groups()
        values = [v for v in URL_VALUES[name] if converter != "int" or v.isdigit()]
        return fz.r.choice(values).replace("TODAY", day)

    for _ in range(count):
        if time.monotonic() > deadline:
            break
        path = re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)
        headers = fz.auth_header()
        body = None
        if method != "GET":
            body = fz.body(valid_payload(path))
            content_type = fz.content_type()
            if content_type:
                headers["Content-Type"] = content_type
        row.inputs += 1
        try:
            r = http.request(method, server.url + path, data=body, headers=headers, timeout=10)
        except requests.RequestException as exc:
            row.bad("unanswered", f"{path}: {exc}")
            continue
        if r.status_code >= 500:
            row.bad("server_errors", f"{r.status_code} {path} {body!r:.80}")
        elif r.status_code >= 400:
            try:
                answer = r.json()
            except ValueError:
                answer = None
            check_error_body(row, r.status_code, answer, f"{path} {r.text[:80]}")
        else:
            row.ok += 1
    row.seconds = time.monotonic() - start
    return row


# --- sockets ----------------------------------------------------------------------------------


class RawSocket:
    """A bare Socket.IO (Engine.IO 4) client over one websocket: packets in, packets out."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                                              timeout=ACK_TIMEOUT)  # fmt: skip
        opening = self.ws.recv()
        assert opening.startswith("0"), opening

    def send(self, sio_packet: str) -> None:
        self.ws.send("4" + sio_packet)

    def recv(self, timeout: float = ACK_TIMEOUT) -> str | None:
        """The next Socket.IO packet (pings answered on the way), or None after `timeout`."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.ws.settimeout(left)
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                return None
            if frame == "2":
                self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith("4"):
                return frame[1:]

    def connect(self, namespace: str, auth: object) -> str | None:
        """'ok', 'refused' or None (no answer)."""
        self.send(f"0{namespace},{json.dumps(auth)}")
        return self.connect_answer(namespace)

    def connect_answer(self, namespace: str) -> str | None:
        end = time.monotonic() + ACK_TIMEOUT
        while time.monotonic() < end:
            packet = self.recv(end - time.monotonic())
            if packet is None:
                return None
            if packet.startswith(f"0{namespace},"):
                return "ok"
            if packet.startswith(f"4{namespace},"):
                return "refused"
        return None

    def close(self) -> None:
        self.ws.close()


def parse_ack(packet: str, namespace: str) -> tuple[int, object] | None:
    prefix = f"3{namespace},"
    if not packet.startswith(prefix):
        return None
    match = re.match(r"(\d+)(.*)", packet[len(prefix) :], re.S)
    return (int(match.group(1)), json.loads(match.group(2))) if match else None


def fuzz_events(
    server: Server, namespace: str, event: str | None, count: int, fz: Fuzzer, deadline: float
) -> Row:
    """`count` emits of `event` (None: random unknown names) with fuzzed arguments, each with an id."""
    row = Row(f"{namespace} {event or '<unknown names>'}")
    start = time.monotonic()
    sock = RawSocket(server.url)
    auth = {"counter": 1, "token": TOKEN} if namespace == "/counter" else {"display": "fuzz"}
    assert sock.connect(namespace, auth) == "ok"
    pending: set[int] = set()

    def handle(packet: str) -> None:
        ack = parse_ack(packet, namespace)
        if ack is None or ack[0] not in pending:
            return  # a broadcast, a snapshot
        pending.discard(ack[0])
        args = ack[1]
        answer = args[0] if isinstance(args, list) and len(args) == 1 else None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            row.bad("not_json", f"ack {args!r:.120}")
        elif answer["ok"]:
            row.ok += 1
        elif answer.get("error") == "internal-error":
            row.bad("server_errors", f"ack {answer}")
        else:
            check_error_body(row, 400, answer, f"ack {answer}")

    def drain(until: int) -> None:
        """Read until fewer than `until` acks are pending; those not in within ACK_TIMEOUT are lost."""
        while pending and len(pending) >= until:
            packet = sock.recv(ACK_TIMEOUT)
            if packet is None:
                row.bad("unanswered", f"ids {sorted(pending)[:5]}...")
                row.unanswered += len(pending) - 1
                pending.clear()
                return
            handle(packet)

    for i in range(1, count + 1):
        if time.monotonic() > deadline:
            break
        name = event if event is not None else fz.text()
        base = valid_payload(name) if event is not None else None
        args = [fz.payload(base) for _ in range(fz.r.choice([0, 1, 1, 1, 1, 1, 1, 2, 3]))]
        data = dumps([name, *args])
        if len(data) > 15_000:  # over max_http_buffer_size the transport itself is closed
            data = json.dumps([name, {"request_id": "x" * 100}])
        pending.add(i)
        row.inputs += 1
        sock.send(f"2{namespace},{i}{data}")
        drain(WINDOW)
    drain(1)
    sock.close()
    row.seconds = time.monotonic() - start
    return row


def fuzz_connect(server: Server, namespace: str, count: int, fz: Fuzzer, deadline: float) -> Row:
    """`count` connection attempts with fuzzed auth on one transport; each must be answered."""
    row = Row(f"{namespace} connect (auth)")
    start = time.monotonic()
    sock = RawSocket(server.url)
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        good = {"counter": 1, "token": TOKEN} if namespace == "/counter" else {"display": "lobby"}
        auth = fz.payload(good)
        if fz.r.random() < 0.3 and isinstance(auth, dict):
            auth.update(
                counter=fz.r.choice(GOOD["counter"]),
                token=fz.r.choice([TOKEN, TOKEN + "\ud800", fz.text()]),
            )
        text = dumps(auth)
        row.inputs += 1
        sock.send(f"0{namespace},{text}")
        answer = sock.connect_answer(namespace)
        if answer is None:
            row.bad("unanswered", f"connect {text[:120]}")
            sock.close()
            sock = RawSocket(server.url)
        elif answer == "ok":
            row.ok += 1
            sock.send(f"1{namespace},")
        else:
            row.refused += 1
    sock.close()
    row.seconds = time.monotonic() - start
    return row


def fuzz_packets(server: Server, count: int, fz: Fuzzer, deadline: float, log: Path) -> Row:
    """Malformed Socket.IO packets on a connected /counter: an ack when an id is readable, one log line."""
    row = Row("malformed packets")
    start = time.monotonic()
    lines_before = len(log.read_text(errors="replace").splitlines())
    sock = RawSocket(server.url)
    assert sock.connect("/counter", {"counter": 1, "token": TOKEN}) == "ok"
    prefixes = ["2/counter,{id}", "2/counter,{id}[", "3/counter,{id}", "5/counter,{id}", "6/counter,{id}",
                "9/counter,{id}", "2/counter,{id}[\"*\"", "2/counter,{id}[\"connect\"", "2", ""]  # fmt: skip
    for i in range(1, count + 1):
        if time.monotonic() > deadline:
            break
        prefix = fz.r.choice(prefixes).format(id=i)
        rest = fz.r.choice([fz.text(), "{", "[1]", "[5,{}]", "]" * 10, "[" * 2000, '{"a":'])
        # A websocket text frame must be UTF-8 (lone surrogates travel as JSON escapes, see above).
        rest = rest.encode("utf-8", "replace").decode("utf-8")
        row.inputs += 1
        sock.send(prefix + rest)
        if prefix.startswith("2/counter,"):
            packet = sock.recv(ACK_TIMEOUT)
            while packet is not None and parse_ack(packet, "/counter") is None:
                packet = sock.recv(ACK_TIMEOUT)
            ack = parse_ack(packet, "/counter") if packet else None
            if ack is None:
                row.bad("unanswered", f"{prefix + rest:.120}")
                sock.close()
                sock = RawSocket(server.url)
                sock.connect("/counter", {"counter": 1, "token": TOKEN})
            else:
                check_error_body(row, 400, ack[1][0] if ack[1] else None, f"{prefix + rest:.80}")
        else:
            row.refused += 1
    sock.close()
    time.sleep(0.5)
    row.log_lines = len(log.read_text(errors="replace").splitlines()) - lines_before
    row.seconds = time.monotonic() - start
    return row


def traceback_lines(log_text: str) -> list[str]:
    """The log line before each traceback and the exception it ends with, counted once each."""
    lines = log_text.splitlines()
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith(" ")), i)
            key = f"{lines[i - 1][:160] if i else ''} -> {lines[end][:160]}"
            found[key] = found.get(key, 0) + 1
    return [f"{n} x {key}" for key, n in found.items()]


# --- main -------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = "| target | inputs | ok | refused (JSON) | 429 | 5xx | not JSON | unanswered | s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    body = "".join(f"| `{r.target}` | {r.inputs} | {r.ok} | {r.refused} | {r.limited} | **{r.server_errors}** | "
                   f"**{r.not_json}** | **{r.unanswered}** | {r.seconds:.0f} |\n" for r in rows)  # fmt: skip
    return head + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--count", type=int, default=10_000, help="inputs per endpoint and per event"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--max-minutes", type=float, default=45, help="stop after this long whatever is left"
    )
    parser.add_argument(
        "--write", action="store_true", help="append the results to docs/benchmarks.md"
    )
    args = parser.parse_args()
    fz = Fuzzer(args.seed)
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    rows: list[Row] = []
    routes = api_routes()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = bench_hall(folder, counters=2)
        raw["voice"]["enabled"] = False  # fuzzing the input, not the voice
        with Server(folder, raw) as server:
            day = requests.get(server.url + "/api/health", timeout=5).json()["day"]
            for method, rule in routes:
                rows.append(fuzz_http(server, method, rule, args.count, fz, day, deadline))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            socket_targets = [("/display", protocol.GET_SNAPSHOT), ("/display", None),
                              *(("/counter", c) for c in (*protocol.COUNTER_COMMANDS, protocol.GET_SNAPSHOT)),
                              ("/counter", None)]  # fmt: skip
            for namespace, event in socket_targets:
                rows.append(fuzz_events(server, namespace, event, args.count, fz, deadline))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            for namespace in ("/display", "/counter"):
                rows.append(fuzz_connect(server, namespace, args.count, fz, deadline))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            packets = fuzz_packets(server, args.count, fz, deadline, folder / "server.log")
            rows.append(packets)
            alive = requests.get(server.url + "/api/health", timeout=5).ok
            log_text = (folder / "server.log").read_text(errors="replace")
            tracebacks = log_text.count("Traceback")
            for line in traceback_lines(log_text):
                print("server traceback:", line)
    seconds = time.monotonic() - started
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    totals = {
        k: sum(getattr(r, k) for r in rows)
        for k in ("inputs", "server_errors", "not_json", "unanswered", "limited")
    }
    summary = (f"{totals['inputs']} inputs in {seconds:.0f} s: **{totals['server_errors']}** 5xx, "
               f"**{totals['not_json']}** errors not in the protocol's JSON, **{totals['unanswered']}** "
               f"events or connections unanswered, {totals['limited']} rate-limited (429); "
               f"{packets.log_lines} server log lines for {packets.inputs} malformed packets "
               f"({tracebacks} tracebacks in the whole log); server alive at the end: {alive}.")  # fmt: skip
    print()
    print(table(rows))
    print(summary)
    for r in rows:
        for example in r.examples:
            print(f"  {r.target}: {example}")
    if args.write:
        write(rows, summary, uname, args)
    return 0 if totals["server_errors"] == totals["not_json"] == totals["unanswered"] == 0 else 1


def write(rows: list[Row], summary: str, uname: str, args: argparse.Namespace) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if "\n## Fuzzing\n" not in text:
        text = text.rstrip("\n") + (
            "\n\n## Fuzzing\n\n"
            "`bench/fuzz_api.py`: fuzzed inputs against a real `python -m server` (eventlet) on 127.0.0.1, "
            "for every `/api` route of `app.url_map` (bodies: wrong types, huge numbers, deep nesting, NUL "
            "bytes, lone surrogates, invalid UTF-8, broken JSON, odd content types; URL parts; right and "
            "wrong bearer tokens) and every socket event on `/display` and `/counter` (raw Socket.IO "
            "packets with an ack id, 0-3 fuzzed arguments), connection attempts with fuzzed auth, and "
            "malformed packets. *ok* is a 2xx or an `ok: true` ack; *refused* a protocol JSON error; "
            "*not JSON* an error in any other shape; *unanswered* no ack or connect answer within 5 s. "
            "A JSON 429 `rate-limited` is a correct answer and counted on its own.\n"
        )
    text += (f"\n### {when}, {args.count} inputs per target (seed {args.seed})\n\n"
             f"Machine: `{uname}`.\n\n{table(rows)}\n{summary}\n")  # fmt: skip
    doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
