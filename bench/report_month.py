"""Benchmark: the period report over a month of a 60-counter hall (~90,000 tickets).

Generates November 2026 (Monday to Saturday, 25 days) of a hall with six agencies, fifteen services,
60 counters and 70 officers into a real SQLite file: each day's tickets are simulated (arrivals
peaking mid-morning, each service's counters calling the longest waiting, log-normal service
times, recalls, skips, cancellations, tickets left at closing) and written through
Storage.save_changes as the hub writes them, one transaction a day. Then it times, with a server's
app on that file (Flask test client, an admin's session):

- the summary: `GET /api/reports/summary` for the month (read + sums + JSON),
- its parts: Storage.read_report, reports.summarise, reports.report_json + JSON encoding,
- the page: `GET /admin/reports` for the month (the same figures, charts, tables, heatmap),
- the exports: the CSV and the XLSX.

Target: the summary and the page under 1 s. `--write` adds the results to docs/benchmarks.md.
Run it on a quiet machine; the tests never assert timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine  # noqa: E402
from server import engine, reports  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
FIRST = date(2026, 11, 1)
LAST = date(2026, 11, 30)
COUNTERS = 60
OFFICERS = 70
# (agency, name, [(service code, name, prefix, share of visitors, mean service minutes, target)])
AGENCIES = [
    ("dukcapil", "Dukcapil", [("ktp", "KTP-el", "A", 0.20, 6, 30), ("kk", "Kartu Keluarga", "B", 0.12, 7, 30),
                              ("akta", "Akta Kelahiran", "C", 0.08, 8, 45)]),
    ("imigrasi", "Imigrasi", [("paspor", "Paspor", "D", 0.12, 12, 60), ("paspor-ambil", "Ambil Paspor", "E", 0.05, 3, 20)]),
    ("samsat", "Samsat", [("pkb", "Pajak Kendaraan", "F", 0.14, 5, 20), ("bbn", "Balik Nama", "G", 0.04, 10, 45)]),
    ("bpjs", "BPJS Kesehatan", [("bpjs-daftar", "Pendaftaran", "H", 0.06, 8, 30), ("bpjs-ubah", "Perubahan Data", "J", 0.04, 6, 30)]),
    ("dpmptsp", "DPMPTSP", [("nib", "NIB / OSS", "K", 0.05, 15, 60), ("pbg", "PBG", "L", 0.02, 20, None),
                            ("konsultasi", "Konsultasi", "M", 0.03, 12, None)]),
    ("polres", "Polres", [("skck", "SKCK", "N", 0.03, 9, 30), ("sim", "Perpanjangan SIM", "P", 0.015, 10, 45),
                          ("lapor", "Laporan Kehilangan", "Q", 0.005, 12, None)]),
]  # fmt: skip
TICKETS_PER_DAY = 3600  # x 25 days = 90,000


def config(folder: Path) -> dict:
    services = [s for _a, _n, ss in AGENCIES for s in ss]
    # Counters in proportion to the work each service brings (visitors x service time), one at least.
    work = [share * minutes for _c, _n, _p, share, minutes, _t in services]
    alloc = [max(1, round(w / sum(work) * COUNTERS)) for w in work]
    while sum(alloc) != COUNTERS:
        busiest = max(range(len(alloc)), key=lambda i: work[i] / alloc[i])
        quietest = min(range(len(alloc)), key=lambda i: work[i] / alloc[i] if alloc[i] > 1 else 1e9)
        if sum(alloc) < COUNTERS:
            alloc[busiest] += 1
        else:
            alloc[quietest] -= 1
    counters, number = [], 1
    for (code, *_rest), count in zip(services, alloc):
        for _ in range(count):
            counters.append({"number": number, "name": f"Gerai {number}", "services": [code],
                             "token": f"bench-token-{number}"})  # fmt: skip
            number += 1
    return {
        "server": {"secret_key": "bench-secret-key-0123456789-abcdefghijk", "async_mode": "threading",
                   "database": str(folder / "month.sqlite")},
        "hall": {"name": "MPP Kota Bench", "timezone": "Asia/Jakarta", "enforce_hours": False},
        "voice": {"engine": "espeak", "enabled": False, "cache_dir": str(folder / "audio")},
        "agencies": [{"code": a, "name": n} for a, n, _s in AGENCIES],
        "services": [{"code": c, "agency": a, "name": n, "prefix": p, **({"target_wait": t} if t else {})}
                     for a, _n, ss in AGENCIES for c, n, p, _sh, _m, t in ss],
        "counters": counters,
        "users": [{"username": "admin", "password": "bench-admin-secret", "role": "admin"}],
    }  # fmt: skip


def arrival_minute(rng: random.Random) -> float:
    """Minutes after 08:00 of an arrival: busiest 09:00-11:00, quieter after lunch, none after 15:00."""
    while True:
        minute = rng.gauss(150, 110)
        if 0 <= minute < 420:
            return minute


def simulate_day(day: date, rng: random.Random, counters_of: dict, officers: list, minutes: dict):
    """One day's changes in time order: (at, kind, ticket, counter, officer) per change."""
    opening = datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB)
    shares = [(s[0], s[3]) for _a, _n, ss in AGENCIES for s in ss]
    codes, weights = zip(*shares)
    arrivals = sorted(
        arrival_minute(rng) for _ in range(int(TICKETS_PER_DAY * rng.uniform(0.9, 1.1)))
    )
    prefixes = {s[0]: s[2] for _a, _n, ss in AGENCIES for s in ss}
    seqs: dict[str, int] = {}
    queues: dict[str, list] = {code: [] for code in codes}
    changes = []
    for order, minute in enumerate(arrivals, start=1):
        code = rng.choices(codes, weights)[0]
        seqs[code] = seqs.get(code, 0) + 1
        number = f"{prefixes[code]}{seqs[code]:03d}"
        at = opening + timedelta(minutes=minute)
        ticket = engine.Ticket(f"{day}/{number}", day.isoformat(), number, prefixes[code], seqs[code],
                               code, code, None, "waiting", at, order)  # fmt: skip
        changes.append((at, "issued", ticket, None, None))
        queues[code].append(ticket)
    closing = opening + timedelta(hours=8, minutes=30)
    for code, queue in queues.items():
        free = {c: opening for c in counters_of[code]}
        for ticket in queue:
            if rng.random() < 0.03:  # walked away before being called
                at = ticket.issued_at + timedelta(minutes=rng.uniform(5, 60))
                changes.append((at, "cancelled", replace(ticket, status="cancelled"), None, None))
                continue
            counter = min(free, key=lambda c: free[c])
            call = max(ticket.issued_at, free[counter]) + timedelta(seconds=rng.uniform(5, 40))
            officer = officers[(counter + day.toordinal()) % len(officers)]
            if call >= closing:  # still waiting at closing: expires
                changes.append((closing, "expired", replace(ticket, status="expired"), None, None))
                continue
            called = replace(ticket, status="called", called_at=call, counter=counter, calls=1,
                             called_by=officer)  # fmt: skip
            changes.append((call, "called", called, counter, officer))
            at = call
            if rng.random() < 0.10:
                at = call + timedelta(seconds=rng.uniform(30, 90))
                changes.append((at, "recalled", replace(called, calls=2), counter, officer))
            if rng.random() < 0.04:  # nobody came
                at += timedelta(seconds=rng.uniform(30, 90))
                changes.append((at, "skipped", replace(called, status="skipped"), counter, officer))
                changes.append((closing, "expired", replace(called, status="expired"), None, None))
                free[counter] = at
                continue
            mean = minutes[code] * 0.65  # the table's minutes are a slow day's
            service = rng.lognormvariate(math.log(mean) - 0.18, 0.6)
            done = call + timedelta(minutes=service)
            changes.append((done, "finished", replace(called, status="done", finished_at=done,
                                                      finished_by=officer), counter, officer))  # fmt: skip
            free[counter] = done + timedelta(seconds=rng.uniform(10, 60))
    changes.sort(key=lambda c: c[0])
    return changes


def replace(ticket, **changes):
    from dataclasses import replace as dc_replace

    return dc_replace(ticket, **changes)


def payload(kind: str, ticket: engine.Ticket, counter: int | None) -> dict:
    """An event payload about as big as the hub's (the ticket; a call adds its announcement)."""
    body: dict = {"ticket": {"id": ticket.id, "number": ticket.number, "service": ticket.service,
                             "status": ticket.status, "issued_at": ticket.issued_at.isoformat(),
                             "counter": counter, "calls": ticket.calls}}  # fmt: skip
    if kind in ("called", "recalled"):
        body["call"] = {"call_id": f"{ticket.id}#{ticket.calls}", "counter": {"number": counter},
                        "announcement": {"text": f"Nomor antrean {ticket.number}, silakan ke gerai {counter}.",
                                         "audio_url": f"/api/audio/{'0' * 40}.mp3"}}  # fmt: skip
    return body


def generate(app) -> int:
    hub = app.extensions["panggil"]
    storage = hub.storage
    stamp = datetime(2026, 10, 31, 12, 0, tzinfo=WIB)
    with storage.transaction():
        for n in range(1, OFFICERS + 1):
            storage.add_user(
                f"petugas{n:02d}", "not-a-hash", "officer", stamp, full_name=f"Petugas {n:02d}"
            )
    officers = [o for o in storage.officers().values() if o.username.startswith("petugas")]
    counters_of: dict[str, list[int]] = {}
    for number, counter in hub.hall.counters.items():
        for code in counter.services:
            counters_of.setdefault(code, []).append(number)
    minutes = {s[0]: s[4] for _a, _n, ss in AGENCIES for s in ss}
    rng = random.Random(2026)
    total = 0
    day = FIRST
    while day <= LAST:
        if day.weekday() != 6:  # closed on Sundays
            changes = simulate_day(day, rng, counters_of, officers, minutes)
            opening = datetime(day.year, day.month, day.day, 7, 30, tzinfo=WIB)
            with storage.transaction():
                storage.open_day(day.isoformat(), opening)
                storage.save_changes(
                    [engine.Change(kind, t, at, counter, officer=officer)
                     for at, kind, t, counter, officer in changes],
                    [payload(kind, t, counter) for _at, kind, t, counter, _o in changes],
                    hub.hall,
                )  # fmt: skip
                storage.close_day(day.isoformat(), opening + timedelta(hours=10))
            total += sum(1 for c in changes if c[1] == "issued")
        day += timedelta(days=1)
    return total


def timed(work, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU: this process's, which a busy machine's
    other work does not inflate as much; the work is one thread, reading from the page cache)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="add the results to docs/benchmarks.md"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep the generated month in this folder (and reuse it)"
    )
    args = parser.parse_args()

    from server.app import create_app
    from server.config import parse_config

    folder = args.keep or Path(tempfile.mkdtemp(prefix="panggil-report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    reuse = (folder / "month.sqlite").exists()
    clock = lambda: datetime(2026, 12, 1, 8, 0, tzinfo=WIB)  # noqa: E731 -- the day after the month
    app = create_app(parse_config(config(folder), base_dir=folder), clock=clock, start_ticker=False)
    started = time.perf_counter()
    tickets = 0 if reuse else generate(app)
    generation_s = time.perf_counter() - started
    hub = app.extensions["panggil"]
    events = len(hub.storage.read_report(str(FIRST), str(LAST))[0])  # ticket events
    size_mb = Path(hub.storage.path).stat().st_size / 1e6

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post(
        "/login", data={"username": "admin", "password": "bench-admin-secret", "csrf_token": token}
    )
    query = f"from={FIRST}&to={LAST}"

    def summary():
        response = client.get(f"/api/reports/summary?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    def page_render():
        response = client.get(f"/admin/reports?range=custom&{query}")
        assert response.status_code == 200

    def export(kind: str):
        response = client.get(f"/admin/reports/laporan.{kind}?range=custom&{query}")
        assert response.status_code == 200

    period = reports.Period(FIRST, LAST)
    rows_holder: dict = {}

    def read():
        rows_holder["events"], rows_holder["catalogue"] = hub.storage.read_report(
            str(FIRST), str(LAST)
        )

    def compute():
        catalogue = reports.catalogue_from_rows(rows_holder["catalogue"])
        rows_holder["report"] = reports.summarise(rows_holder["events"], catalogue, period)

    def compute_and_encode():  # a fresh report: its times are sorted when first asked for
        compute()
        json.dumps(reports.report_json(rows_holder["report"], "Asia/Jakarta"))

    load_before = os.getloadavg()[0]
    summary()  # warm: templates, imports, the page cache of SQLite
    page_render()
    results = {
        "summary (GET /api/reports/summary)": timed(summary, args.runs),
        "  read (Storage.read_report)": timed(read, args.runs),
        "  compute (reports.summarise)": timed(compute, args.runs),
        "  compute + JSON (+ report_json, dumps)": timed(compute_and_encode, args.runs),
        "page (GET /admin/reports)": timed(page_render, args.runs),
        "CSV export": timed(lambda: export("csv"), args.runs),
        "XLSX export": timed(lambda: export("xlsx"), args.runs),
    }
    load_after = os.getloadavg()[0]
    body = rows_holder["report"]
    tickets = body.total.issued
    made = (
        "reused from --keep"
        if reuse
        else f"generated through `Storage.save_changes` in {generation_s:.0f} s"
    )
    lines = [
        f"`bench/report_month.py`, {machine()}.",
        "",
        f"November 2026 of a hall with 60 counters, 15 services of 6 agencies and 70 officers: "
        f"{tickets:,} tickets and {events:,} counted events (recalls and transfers are not read) over 25 days in a {size_mb:.0f} MB SQLite file "
        f"({made}). Served "
        f"{body.total.served:,}, mean wait {body.total.wait.mean / 60:.1f} min. Each figure is the median "
        f"of {args.runs} runs after one warm-up (max in brackets), through Flask's test client with an "
        f"admin's session. Load average {load_before:.1f} at the start and {load_after:.1f} at the end "
        f"(other work shared the machine; the CPU column is this process's own time):",
        "",
        "| measure | wall median ms | (max) | CPU median ms | target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, (wall, cpu) in results.items():
        target = "< 1000 ms" if name.startswith(("summary", "page")) else ""
        lines.append(f"| {name} | {statistics.median(wall):.0f} | ({max(wall):.0f}) | "
                     f"{statistics.median(cpu):.0f} | {target} |")  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.write:
        docs = ROOT / "docs" / "benchmarks.md"
        content = docs.read_text(encoding="utf-8")
        heading = "## Period report (a month, 60 counters)"
        stamp = datetime.now(WIB).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")
        section = f"### {stamp}\n\n{text}\n"
        if heading not in content:
            content = content.rstrip("\n") + f"\n\n{heading}\n\n{section}"
        else:
            head, _sep, rest = content.partition(heading)
            content = f"{head}{heading}\n\n{section}\n{rest.lstrip()}"
        docs.write_text(content, encoding="utf-8")
    hub.storage.close()
    if not args.keep:
        for path in folder.glob("*"):
            if path.is_file():
                path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
