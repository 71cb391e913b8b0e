"""Shared pieces of the benchmarks: a server process on 127.0.0.1, percentiles, the machine."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
VOICE = os.environ.get("BENCH_VOICE", "1") == "1"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"{today}, {platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_hall(folder: Path, counters: int = 20, async_mode: str = "eventlet") -> dict:
    """A hall of one always-open service served by `counters` counters."""
    return {
        "server": {"host": "127.0.0.1", "port": free_port(), "async_mode": async_mode,
                   "secret_key": "bench-secret-key-0123456789-abcdefghijk", "database": str(folder / "bench.sqlite")},
        "hall": {"name": "MPP Bench", "enforce_hours": False},
        "limits": {"trusted_addresses": ["127.0.0.0/8"]},  # the bench issues many tickets from here
        "voice": {"engine": "espeak", "cache_dir": str(folder / "audio"), "enabled": VOICE},
        "agencies": [{"code": "dukcapil", "name": "Dukcapil"}],
        "services": [{"code": "ktp", "agency": "dukcapil", "name": "KTP", "prefix": "A"}],
        "counters": [{"number": n, "name": f"Gerai {n}", "services": ["ktp"], "token": f"bench-token-{n}"}
                     for n in range(1, counters + 1)],
    }  # fmt: skip


class Server:
    """`python -m server` in its own process, stopped on exit.

    `cpus` (class-wide, None: any): the cores the server processes run on, set by a benchmark
    that keeps its clients on the other cores (bench/bench_hall.py `--pin`).
    """

    cpus: set[int] | None = None

    def pin(self) -> None:
        """In the child, before it runs: keep the server process on `cpus` (threads inherit it)."""
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)

    def __init__(self, folder: Path, raw: dict) -> None:
        self.folder = folder
        self.raw = raw
        self.url = f"http://127.0.0.1:{raw['server']['port']}"
        self.config = folder / "config.yaml"
        self.config.write_text(yaml.safe_dump(raw))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "server", "--config", str(self.config),
                                         "--log-level", "WARNING"], cwd=ROOT, stdout=log, stderr=log,
                                        preexec_fn=self.pin)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not start; see " + str(self.folder / "server.log"))

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    def issue(self, count: int, service: str = "ktp") -> None:
        with requests.Session() as http:
            for _ in range(count):
                http.post(
                    self.url + "/api/tickets", json={"service": service}, timeout=10
                ).raise_for_status()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")
