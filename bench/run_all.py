"""Run every benchmark and append its results to docs/benchmarks.md (`make bench`).

Run it on a quiet machine: the numbers are for people, the tests never assert them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in [*sorted(HERE.glob("bench_*.py")), HERE / "report_month.py"]:
        print(f"== {script.name}", flush=True)
        if (
            subprocess.run([sys.executable, str(script), "--write"], cwd=HERE.parent).returncode
            != 0
        ):
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
