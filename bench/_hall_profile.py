"""Where the writer's time goes, for `bench/bench_hall.py --profile DIR`.

py-spy (`.venv/bin/pip install py-spy`) samples every thread of the writer, idle ones too, 100
times a second over the press window (speedscope JSON: the samples are in time order), and a
sitecustomize put on the writer's PYTHONPATH logs each garbage collection over 2 ms with its
monotonic start, wall and CPU time (the CPU part is the collector's own work; the rest is the OS
running other processes meanwhile). `python bench/_hall_profile.py DIR` prints what the main
thread (the eventlet hub: every request, socket and emit) did: idle in the hub's poll, or in
which functions, and its longest busy stretches with what they were doing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

GC_LOG = """\
import gc, os, time

_path = os.environ.get("HALL_GC_LOG")
if _path:
    _log, _started = open(_path, "a", buffering=1), [0.0, 0.0]

    def _gc(phase, info):
        if phase == "start":
            _started[:] = [time.monotonic(), time.thread_time()]
        elif time.monotonic() - _started[0] > 0.002:
            took = (time.monotonic() - _started[0]) * 1000
            cpu = (time.thread_time() - _started[1]) * 1000  # less than took: the OS ran others
            _log.write(f"{_started[0]} {took:.1f} gen{info['generation']} {info['collected']} "
                       f"{cpu:.1f}\\n")

    gc.callbacks.append(_gc)
"""


def profile(folder: Path, pid: int, seconds: float) -> subprocess.Popen:
    """py-spy (`pip install py-spy`) on the writer for the press window: every thread, idle too."""
    out = folder / "pyspy.json"
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                             "--duration", str(int(seconds)), "--rate", "100", "--idle", "--threads",
                             "--nonblocking", "--format", "speedscope", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


class GcLog:
    """While the writer starts: a sitecustomize that logs its garbage collections over 2 ms."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def __enter__(self) -> None:
        if self.folder:
            (self.folder / "site").mkdir(parents=True, exist_ok=True)
            (self.folder / "site" / "sitecustomize.py").write_text(GC_LOG)
            os.environ.update(
                PYTHONPATH=str(self.folder / "site"), HALL_GC_LOG=str(self.folder / "gc.log")
            )

    def __exit__(self, *exc) -> None:
        os.environ.pop("PYTHONPATH", None)
        os.environ.pop("HALL_GC_LOG", None)


def summarise(folder: Path, top: int = 25) -> str:
    data = json.loads((folder / "pyspy.json").read_text())
    frames = data["shared"]["frames"]
    # One profile per thread, named `Thread <id> ...`: the main thread's id is the process id,
    # the lowest of them.
    main = min(data["profiles"], key=lambda p: int(p["name"].split()[1]))
    names = [f"{f['name']} ({Path(f.get('file', '?')).name}:{f.get('line', '?')})" for f in frames]
    busy, total, inclusive, stretches, run = 0, 0, Counter(), [], []
    for sample in main["samples"]:
        total += 1
        stack = [names[i] for i in sample]
        leaf = stack[-1] if stack else ""
        if not stack or "do_poll" in leaf:  # the hub waiting in epoll: nothing to do
            if len(run) > 5:
                stretches.append(run)
            run = []
            continue
        busy += 1
        run.append(stack)
        for name in set(stack):
            inclusive[name] += 1
    lines = [f"{folder}: main thread busy in {busy} of {total} samples (100 a second)"]
    lines += [f"{100 * n / max(1, busy):5.1f} % {name}" for name, n in inclusive.most_common(top)]
    for run in sorted(stretches, key=len, reverse=True)[:5]:
        common = Counter(name for stack in run for name in set(stack))
        lines.append(
            f"busy stretch of {len(run) * 10} ms: "
            + "; ".join(name for name, n in common.most_common(12) if n > len(run) / 3)
        )
    gc_log = folder / "gc.log"
    if gc_log.exists():
        pauses = [line.split() for line in gc_log.read_text().splitlines()]
        longest = sorted(pauses, key=lambda w: -float(w[1]))[:5]
        lines.append(
            f"{len(pauses)} collections over 2 ms; longest (wall ms, of it CPU ms): "
            + ", ".join(f"{w[1]} ms ({w[4] if len(w) > 4 else '?'}) {w[2]}" for w in longest)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1])))
