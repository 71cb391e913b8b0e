"""Several server processes on Redis: one writer, fan-out workers for TVs and phones (server/workers.py).

Real processes: Debian's redis-server on a free loopback port, the writer (`python -m server`) and
two workers (`--worker`) on one SQLite file, bare python-socketio clients as TVs, phones and
counters.
"""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests import redis_server
from tests.conftest import (
    ROOT,
    LiveServer,
    as_applied,
    free_port,
    stop_process,
    wait_healthy,
    wait_js,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not redis_server.available(),
        reason="redis-server is not installed: run `make setup` (scripts/system-deps.sh installs it)",
    ),
]

NS_DISPLAY, NS_COUNTER, NS_VISITOR = "/display", "/counter", "/visitor"
ids = itertools.count(1)


class Worker:
    """`python -m server --config C --worker --port P`: a fan-out worker beside the writer."""

    def __init__(self, writer: LiveServer, port: int | None = None) -> None:
        self.writer = writer
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = writer.config_path.parent / f"worker-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> Worker:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "--config", str(self.writer.config_path),
             "--worker", "--port", str(self.port), "--log-level", "INFO"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        process = self.process
        if wait_healthy(self.url, time.monotonic() + timeout, lambda: process.poll() is not None):
            return self
        self.stop()
        raise RuntimeError(f"worker did not start: {self.log_path.read_text()[-2000:]}")

    def health(self) -> dict:
        return requests.get(self.url + "/api/health", timeout=10).json()

    def stop(self) -> None:
        stop_process(self.process)
        if getattr(self, "_log", None):
            self._log.close()


class Hall:
    """Redis, the writer and two workers on one database."""

    def __init__(self, folder: Path) -> None:
        self.redis = redis_server.RedisServer(folder / "redis").start()
        self.writer = LiveServer(
            folder / "writer",
            server={"message_queue": self.redis.url, "visitor_summary_s": 0},
        )
        self.workers: list[Worker] = []

    def start(self) -> Hall:
        self.writer.start()
        self.workers = [Worker(self.writer).start() for _ in range(2)]
        return self

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.writer.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    made = Hall(tmp_path_factory.mktemp("workers"))
    try:
        yield made.start()
    finally:
        made.stop()


class Listener:
    """A bare python-socketio client that records every event of its namespace."""

    def __init__(self, url: str, namespace: str, auth: dict | None = None,
                 query: str = "") -> None:  # fmt: skip
        self.namespace = namespace
        self.events: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, dict]] = []
        self.errors: list = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any, namespace=namespace)
        self.sio.on("connect_error", self.errors.append, namespace=namespace)
        self.sio.connect(url + query, namespaces=[namespace], auth=auth,
                         transports=["websocket"], wait_timeout=10)  # fmt: skip

    def _any(self, event, data=None):
        for name, one in as_applied(event, data):  # an `events` frame: each of its events
            self.seen.append((name, one))
            self.events.put((name, one))

    def next(self, name: str, timeout: float = 15, where=lambda data: True) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event == name and where(data):
                return data
        raise AssertionError(f"no {name} within {timeout}s on {self.namespace}")

    def call(self, event: str, data: dict) -> dict:
        return self.sio.call(event, data, namespace=self.namespace, timeout=15)

    def close(self) -> None:
        self.sio.disconnect()


def tv(url: str) -> Listener:
    return Listener(url, NS_DISPLAY, {"display": f"tv-{next(ids)}"}, query="?lane=view")


def counter(url: str, number: int, tokens: dict) -> Listener:
    return Listener(url, NS_COUNTER, {"counter": number, "token": tokens[number]})


def press(server: LiveServer, number: int, command: str = "call_next", **args) -> dict:
    r = server.command(number, command, f"w{next(ids)}", **args)
    assert r.status_code in (200, 409), r.text
    return r.json()


def sequenced(listener: Listener) -> list[tuple[str, dict]]:
    return [(name, data) for name, data in listener.seen if isinstance(data, dict) and "seq" in data
            and name != "snapshot"]  # fmt: skip


def test_every_tv_gets_every_call_once_in_seq_order(hall):
    """TVs on both workers and on the writer: the same calls, each once, seq gap-free."""
    writer = hall.writer
    tvs = [tv(w.url) for w in hall.workers] + [tv(writer.url)]
    starts = [t.next("snapshot")["seq"] for t in tvs]
    for _ in range(30):
        writer.issue("ktp")
    for _ in range(15):
        writer.issue("paspor")

    def presses(number: int) -> None:
        for _ in range(16):
            press(writer, number)

    threads = [threading.Thread(target=presses, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    last = writer.get("/api/health").json()["seq"]
    for t in tvs:
        t.next("ticket_called", where=lambda d: d["seq"] == last)  # the last event is a call
    calls = []
    for t, start in zip(tvs, starts):
        seqs = [data["seq"] for _name, data in sequenced(t)]
        assert seqs == list(range(start + 1, last + 1))  # strictly increasing, no gap, no repeat
        calls.append([d["call"]["call_id"] for name, d in sequenced(t) if name == "ticket_called"])
    assert calls[0] == calls[1] == calls[2]
    assert len(calls[0]) == len(set(calls[0])) == 45
    # The workers' TVs were served by the workers, not the writer.
    assert sum(w.health()["displays"] for w in hall.workers) >= 2
    for t in tvs:
        t.close()


def test_two_counters_pressing_together_never_double_call(hall):
    writer = hall.writer
    for _ in range(24):
        writer.issue("ktp")
    one, two = counter(writer.url, 1, writer.tokens), counter(writer.url, 2, writer.tokens)
    watcher = tv(hall.workers[0].url)
    called: list[str] = []
    lock = threading.Lock()

    def presses(client: Listener) -> None:
        for _ in range(14):
            ack = client.call("call_next", {"request_id": f"d{next(ids)}"})
            if ack["ok"]:
                with lock:
                    called.append(ack["result"]["ticket"]["id"])

    threads = [threading.Thread(target=presses, args=(c,)) for c in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(called) >= 24 and len(called) == len(set(called))
    last = writer.get("/api/health").json()["seq"]
    watcher.next("ticket_called", where=lambda d: d["seq"] == last)
    on_tv = [d["call"]["ticket"]["id"] for n, d in sequenced(watcher) if n == "ticket_called"]
    assert sorted(on_tv) == sorted(called)
    for c in (one, two, watcher):
        c.close()


def test_a_snapshot_from_a_worker_right_after_a_press_includes_it(hall):
    writer = hall.writer
    for _ in range(3):
        ticket = writer.issue("paspor")
        answer = press(writer, 3)
        assert answer["ok"]
        for worker in hall.workers:
            fresh = tv(worker.url)
            snapshot = fresh.next("snapshot")
            assert snapshot["seq"] >= answer["seq"]
            assert snapshot["recent_calls"][0]["ticket"]["id"] == answer["result"]["ticket"]["id"]
            fresh.close()
    assert ticket["service"] == "paspor"


def test_a_phone_on_a_worker_follows_its_ticket_and_its_service(hall):
    writer, worker = hall.writer, hall.workers[1]
    press(writer, 1, "finish")
    press(writer, 2, "finish")
    first = writer.issue("ktp")
    made = writer.post("/api/tickets", {"service": "ktp"}).json()
    mine = made["ticket"]
    other = writer.issue("paspor")
    phone = Listener(worker.url, NS_VISITOR, {"day": mine["day"], "number": mine["number"],
                                               "token": made["token"]}, query="?lane=view")  # fmt: skip
    status = phone.next("ticket_status")
    assert status["ticket"]["id"] == mine["id"]
    assert worker.health()["phones"] == 1

    # Someone else is called: the phone learns its queue moved, not the other call.
    while press(writer, 1)["result"]["ticket"]["id"] != first["id"]:
        pass
    moved = phone.next("queue_moved", where=lambda d: d["service"] == "ktp")
    while True:  # counter 2 calls until it reaches mine
        if press(writer, 2)["result"]["ticket"]["id"] == mine["id"]:
            break
    called = phone.next("ticket_called")
    assert called["call"]["ticket"]["id"] == mine["id"]

    # Sent on to the passport queue: the phone now gets that queue's summaries.
    assert press(writer, 2, "transfer", service="paspor")["ok"]
    transferred = phone.next("ticket_transferred")
    assert transferred["ticket"]["id"] == mine["id"]
    writer.issue("ktp")  # the old queue moves: not this phone's business any more
    writer.issue("paspor")
    # Events go through one Redis channel in order: once the passport issue's summary is here,
    # the one of the identity-card issue before it would have been too.
    phone.next(
        "queue_moved",
        where=lambda d: d["service"] == "paspor" and d["seq"] > transferred["seq"] + 1,
    )
    assert moved["seq"] < called["seq"]
    names = {name for name, _ in phone.seen}
    tickets = {
        d["ticket"]["id"] for n, d in phone.seen if n.startswith("ticket_") and "ticket" in d
    }
    assert tickets == {mine["id"]} and other["id"] not in tickets
    assert "ticket_issued" not in names
    after = [d for n, d in phone.seen if n == "queue_moved" and d["seq"] >= transferred["seq"]]
    assert len(after) >= 2 and {d["service"] for d in after} == {"paspor"}
    phone.close()


def test_a_typed_in_number_on_a_worker_hears_its_call(hall):
    """No token: the number's page on a worker gets that number's call, as the TV shows it."""
    writer = hall.writer
    press(writer, 3, "finish")
    ticket = writer.issue("paspor")
    page = Listener(hall.workers[0].url, NS_VISITOR, {"day": ticket["day"], "number": ticket["number"]},
                    query="?lane=view")  # fmt: skip
    assert page.next("ticket_status")["called"] is False
    while press(writer, 3)["result"]["ticket"]["id"] != ticket["id"]:
        pass
    called = page.next("ticket_called")
    assert set(called) == {"event", "seq", "at", "call"}
    assert called["call"]["ticket"]["id"] == ticket["id"]
    assert [n for n, _ in page.seen] == ["ticket_status", "ticket_called"]
    page.close()


def test_a_counter_is_refused_by_a_worker(hall):
    worker, writer = hall.workers[0], hall.writer
    refused = socketio.Client(reconnection=False)
    errors: list = []
    refused.on("connect_error", errors.append, namespace=NS_COUNTER)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(worker.url, namespaces=[NS_COUNTER], transports=["websocket"],
                        auth={"counter": 1, "token": writer.tokens[1]}, wait_timeout=10)  # fmt: skip
    assert errors and errors[0]["data"]["error"] == "writer-only"
    assert worker.health()["role"] == "worker"
    assert requests.get(worker.url + "/api/snapshot", timeout=10).status_code == 404
    assert requests.post(worker.url + "/api/tickets", json={"service": "ktp"}, timeout=10).status_code in (404, 405)  # fmt: skip


def test_a_worker_without_a_message_queue_stops_with_a_config_error(tmp_path):
    alone = LiveServer(tmp_path / "alone")
    done = subprocess.run(
        [sys.executable, "-m", "server", "--config", str(alone.config_path), "--worker",
         "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "server.message_queue" in done.stderr


NGINX = "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx with deploy/nginx-panggil.conf (its ports replaced), as this user, in a folder."""

    def __init__(self, folder: Path, writer: LiveServer, workers: list[Worker]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        site = (ROOT / "deploy" / "nginx-panggil.conf").read_text(encoding="utf-8")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        site = site.replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{writer.port};")
        lines = []
        for line in site.splitlines():
            for n, worker in enumerate(workers, start=1):
                line = line.replace(f"server 127.0.0.1:500{n};", f"server 127.0.0.1:{worker.port};")
            if "server 127.0.0.1:500" not in line:  # the workers this test does not run
                lines.append(line)
        (folder / "panggil.conf").write_text("\n".join(lines), encoding="utf-8")
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n access_log off;\n client_body_temp_path {folder}/body;\n"
            f" proxy_temp_path {folder}/proxy;\n fastcgi_temp_path {folder}/fastcgi;\n"
            f" uwsgi_temp_path {folder}/uwsgi;\n scgi_temp_path {folder}/scgi;\n"
            f" include {folder}/panggil.conf;\n}}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> Nginx:
        command = [NGINX, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen([*command, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        if wait_healthy(self.url, time.monotonic() + timeout):
            return self
        self.stop()
        raise RuntimeError(f"nginx did not start: {(self.folder / 'error.log').read_text()}")

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture(scope="module")
def proxy(hall, tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed: run `make setup` (scripts/system-deps.sh)")
    made = Nginx(tmp_path_factory.mktemp("nginx"), hall.writer, hall.workers)
    try:
        yield made.start()
    finally:
        made.stop()


def view_displays(hall: Hall) -> tuple[int, int]:
    """Displays connected to the workers, and to the writer."""
    on_workers = sum(w.health()["displays"] for w in hall.workers)
    return on_workers, hall.writer.get("/api/health").json()["displays"]


def test_one_port_through_nginx_counters_to_the_writer_tvs_to_a_worker(hall, proxy):
    assert requests.get(proxy.url + "/api/health", timeout=10).json()["role"] == "writer"
    before = [w.health()["displays"] for w in hall.workers]
    writer_before = hall.writer.get("/api/health").json()["displays"]
    screen = tv(proxy.url)  # lane=view
    screen.next("snapshot")
    desk = counter(proxy.url, 3, hall.writer.tokens)  # refused with writer-only on a worker
    desk.next("snapshot")
    hall.writer.issue("paspor")
    answer = desk.call("call_next", {"request_id": f"n{next(ids)}"})
    assert answer["ok"]
    called = screen.next("ticket_called")
    assert called["seq"] == answer["seq"]
    after = [w.health()["displays"] for w in hall.workers]
    assert sum(after) == sum(before) + 1  # the TV landed on a worker...
    assert hall.writer.get("/api/health").json()["displays"] == writer_before  # ...not here
    # Long-polling too (no WebSocket): every request of the session reaches the same worker.
    polling = socketio.Client(reconnection=False)
    polling.connect(proxy.url + "?lane=view", namespaces=[NS_DISPLAY], transports=["polling"],
                    auth={"display": "polling-tv"}, wait_timeout=10)  # fmt: skip
    assert polling.call("get_snapshot", {}, namespace=NS_DISPLAY, timeout=10)["ok"]
    assert sum(w.health()["displays"] for w in hall.workers) == sum(before) + 2
    polling.disconnect()
    screen.close()
    desk.close()


@pytest.mark.browser
def test_the_tv_page_through_nginx_watches_from_a_worker(hall, proxy, page):
    workers_before, writer_before = view_displays(hall)
    page.goto(proxy.url + "/tv?name=tv-proxy")
    wait_js(page, "() => window.panggilTv && window.panggilTv.state.seq !== null")
    assert view_displays(hall) == (workers_before + 1, writer_before)
    hall.writer.issue("paspor")
    answer = press(hall.writer, 3)
    number = answer["result"]["ticket"]["number"]
    wait_js(page, "(n) => document.getElementById('latest-number').textContent === n", number)
    page.screenshot(path=str(proxy.folder / "tv-through-nginx.png"))


@pytest.mark.parametrize(
    "url, wanted",
    [
        ("http://10.0.0.5:5000", "http://10.0.0.5:5000?lane=view"),
        ("https://antrean.example/", "https://antrean.example/?lane=view"),
        ("http://h?lane=view", "http://h?lane=view"),
        ("http://h?x=1", "http://h?x=1&lane=view"),
    ],
)
def test_the_pi_display_asks_for_the_view_lane(url, wanted):
    from display.client import view_lane

    assert view_lane(url) == wanted


def test_redis_stopping_mid_day_delays_the_workers_screens_never_a_press(tmp_path):
    """Redis down: presses still commit and are answered; health says so; then broadcasts resume."""
    alone = Hall(tmp_path).start()
    try:
        writer, worker = alone.writer, alone.workers[0]
        screen = tv(worker.url)
        screen.next("snapshot")
        alone.redis.stop()
        writer.issue("paspor")
        answer = press(writer, 3)  # requests' timeout: a hang fails here
        assert answer["ok"]
        assert writer.get("/api/health").json()["message_queue"] == "down"
        down = requests.get(worker.url + "/api/health", timeout=10)
        assert down.status_code == 503 and down.json()["message_queue"] == "down"

        alone.redis.start()
        for _attempt in range(20):  # the workers resubscribe with a back-off of 1, 2, 4... s
            writer.issue("paspor")
            number = press(writer, 3)["result"]["ticket"]["number"]
            try:
                screen.next("ticket_called", timeout=3,
                            where=lambda d, n=number: d["call"]["ticket"]["number"] == n)  # fmt: skip
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("broadcasts did not resume after Redis came back")
        assert writer.get("/api/health").json()["message_queue"] == "up"
        assert worker.health()["message_queue"] == "up"
        screen.close()
    finally:
        alone.stop()


HAPROXY = "/usr/sbin/haproxy"


@pytest.mark.skipif(not Path(HAPROXY).exists(), reason="haproxy is not installed (optional)")
def test_one_port_through_haproxy_too(hall, tmp_path):
    """deploy/haproxy.cfg: the same routing, sticky by cookie (long-polling proves it)."""
    port = free_port()
    cfg = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    cfg = cfg.replace("bind :80", f"bind 127.0.0.1:{port}")
    cfg = cfg.replace("127.0.0.1:5000", f"127.0.0.1:{hall.writer.port}")
    lines = []
    for line in cfg.splitlines():
        for n, worker in enumerate(hall.workers, start=1):
            line = line.replace(f"127.0.0.1:500{n} ", f"127.0.0.1:{worker.port} ")
        if "127.0.0.1:500" not in line:
            lines.append(line)
    (tmp_path / "haproxy.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(url + "/api/health", timeout=1).json()["role"] == "writer":
                    break
            except (requests.ConnectionError, ValueError):
                time.sleep(0.1)
        workers_before, writer_before = view_displays(hall)
        polling = socketio.Client(reconnection=False)
        polling.connect(url + "?lane=view", namespaces=[NS_DISPLAY], transports=["polling"],
                        auth={"display": "haproxy-tv"}, wait_timeout=10)  # fmt: skip
        for _ in range(3):  # each a separate HTTP request of the one session
            assert polling.call("get_snapshot", {}, namespace=NS_DISPLAY, timeout=10)["ok"]
        assert view_displays(hall) == (workers_before + 1, writer_before)
        desk = counter(url, 3, hall.writer.tokens)
        desk.next("snapshot")
        polling.disconnect()
        desk.close()
    finally:
        process.terminate()
        process.wait(10)
