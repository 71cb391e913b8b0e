"""Time from Announcer.announce() to the audio being ready to serve, warm (cached) and cold
(offline voice), in threading and eventlet modes.

    .venv/bin/python bench/bench_voice.py [--n 200] [--write]

--write appends a "## Voice" section to docs/benchmarks.md. Each mode runs in its own process,
because eventlet has to monkey-patch before anything else is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_call(i: int) -> dict:
    counter = 1 + i % 60
    return {
        "call_id": f"2026-11-26/A{i:03d}#1",
        "kind": "call",
        "ticket": {"number": f"A{i % 1000:03d}" if i < 1000 else f"B{i % 1000:03d}"},
        "counter": {"number": counter, "name": f"Gerai {counter}"},
    }


def measure(mode: str, n: int) -> dict:
    """Runs inside the child process for one async mode."""
    if mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
        spawn = eventlet.spawn
    else:
        import threading

        def spawn(fn):
            threading.Thread(target=fn, daemon=True).start()

    import threading

    from server.tts import EspeakEngine
    from server.voice import Announcer

    start = time.perf_counter()
    EspeakEngine().synthesize("siap")
    first_load = time.perf_counter() - start

    ready: dict[str, threading.Event] = {}
    done_at: dict[str, float] = {}

    def notify(note: dict) -> None:
        done_at[note["call_id"]] = time.perf_counter()
        ready[note["call_id"]].set()

    with tempfile.TemporaryDirectory() as cache:
        announcer = Announcer(
            {"engine": "espeak", "prepare_recall": False}, Path(cache), notify, spawn
        )
        time.sleep(0.2)  # let the warm-up job finish, as in a running server
        cold, warm = [], []
        for i in range(n):
            call = make_call(i)
            ready[call["call_id"]] = threading.Event()
            start = time.perf_counter()
            answer = announcer.announce(call)
            assert answer["status"] == "pending", answer
            assert ready[call["call_id"]].wait(10), "no announcement_ready"
            cold.append(done_at[call["call_id"]] - start)
        urls = []
        for i in range(n):
            start = time.perf_counter()
            answer = announcer.announce(make_call(i))
            warm.append(time.perf_counter() - start)
            assert answer["status"] == "ready", answer
            urls.append(answer["audio_url"])
        status = announcer.status()
        fetch = measure_fetch(Path(cache), urls)

    def ms(xs, p):
        return round(percentile(xs, p) * 1000, 2)

    return {
        "mode": mode,
        "n": n,
        "warm_p50": ms(warm, 50),
        "warm_p95": ms(warm, 95),
        "cold_p50": ms(cold, 50),
        "cold_p95": ms(cold, 95),
        "cold_mean": round(statistics.mean(cold) * 1000, 2),
        "first_load_ms": round(first_load * 1000, 1),
        "fetch_p50": ms(fetch, 50),
        "fetch_p95": ms(fetch, 95),
        "synthesized": status["synthesized"],
    }


def measure_fetch(cache: Path, urls: list[str]) -> list[float]:
    """Serving each ready clip over HTTP (Flask's test client, no sockets)."""
    from flask import Flask

    from server.audio import audio_bp

    app = Flask(__name__)
    app.config["PANGGIL_AUDIO_DIR"] = str(cache)
    app.register_blueprint(audio_bp)
    client = app.test_client()
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200 and body
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="calls per measurement")
    parser.add_argument("--mode", choices=("threading", "eventlet"), help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.n)))
        return 0

    results = []
    for mode in ("threading", "eventlet"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--n", str(args.n)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    uname = subprocess.run(
        ["uname", "-a"], check=True, capture_output=True, text=True
    ).stdout.strip()
    nproc = subprocess.run(["nproc"], check=True, capture_output=True, text=True).stdout.strip()
    lines = [
        "## Voice",
        "",
        "`bench/bench_voice.py`: time from `Announcer.announce(call)` to the audio being ready",
        f"to serve, for {results[0]['n']} different calls (60 counters) in each async mode.",
        "",
        "- Warm: the clip is in the cache; `announce` answers `ready` (its own duration).",
        "- Cold: empty cache, preferred engine espeak (the offline voice); from `announce` to the",
        "  `notify` carrying the URL (background synthesis, WAV written to the cache). Measured",
        "  after the start-up warm-up: the first synthesis in a process also loads espeak-ng",
        f"  ({results[0]['first_load_ms']} ms in this run, up to ~90 ms seen on a first start),",
        "  which the Announcer does in the background when it is created.",
        "- Fetch: then serving that clip through `audio_bp` (Flask test client, no sockets).",
        "",
        f"- Machine: `{uname}`, nproc {nproc}, Python {platform.python_version()}",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "| async mode | warm p50 | warm p95 | cold p50 | cold p95 | fetch p50 | fetch p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['mode']} | {r['warm_p50']} ms | {r['warm_p95']} ms | {r['cold_p50']} ms "
            f"| {r['cold_p95']} ms | {r['fetch_p50']} ms | {r['fetch_p95']} ms |"
        )
    lines += ["", "Targets: warm <= 20 ms, cold <= 150 ms (p95 both).", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = ROOT / "docs" / "benchmarks.md"
        with path.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
