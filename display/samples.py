"""Protocol-shaped example payloads (docs/protocol.md) for demos, screenshots, tests and benchmarks.

`python -m display.samples > state.json` writes the demo hall used for the screenshots in docs/
(the same document as display/sample_state.json); `python -m display.samples break` the hall
with counters on break (docs/display-break.png); `hall-break` and `closed` the hall on its
Friday prayer break and after closing (docs/screenshots/display-hall-break.png, display-closed.png).
"""

from __future__ import annotations

import array
import json
import sys
import wave
from pathlib import Path
from typing import Any

DAY = "2026-11-26"

SERVICES = {
    "ktp": ("KTP Elektronik", "dukcapil", "A"),
    "kk": ("Kartu Keluarga", "dukcapil", "B"),
    "paspor": ("Paspor", "imigrasi", "C"),
    "bpjs": ("Layanan Peserta BPJS", "bpjs", "D"),
    "pajak-kendaraan": ("Pajak Kendaraan", "samsat", "PK"),
}
COUNTERS = {
    1: ("Gerai 1", "gerai satu", ["ktp", "kk"]),
    2: ("Gerai 2", "gerai dua", ["ktp", "kk"]),
    3: ("Gerai 3 Imigrasi", "gerai tiga", ["paspor"]),
    4: ("Gerai 4 BPJS", "gerai empat", ["bpjs"]),
    5: ("Gerai 5 SAMSAT", "gerai lima", ["pajak-kendaraan"]),
}


OPEN = {"state": "open", "reason": "open", "label": None, "until": None}
PRAYER = {
    "state": "break",
    "reason": "hall-break",
    "label": "Sholat Jumat",
    "until": "2026-11-27T13:00:00+07:00",
}
CLOSED = {
    "state": "closed",
    "reason": "after-closing",
    "label": None,
    "until": "2026-11-30T07:30:00+07:00",
}


def at(clock: str) -> str:
    """An ISO time on the demo day in WIB, from "20:43:02"."""
    return f"{DAY}T{clock}+07:00"


def service_of(number: str) -> str:
    prefix = number.rstrip("0123456789")
    return next(code for code, (_, _, p) in SERVICES.items() if p == prefix)


def ticket(number: str, counter: int | None = None, status: str = "called", calls: int = 1) -> dict:
    service = service_of(number)
    return {
        "id": f"{DAY}/{number}", "number": number, "prefix": SERVICES[service][2],
        "seq": int(number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), "day": DAY, "service": service,
        "origin_service": service, "priority": None, "status": status,
        "issued_at": at("08:00:00"), "called_at": at("08:10:00"), "finished_at": None,
        "counter": counter, "calls": calls,
    }  # fmt: skip


def counter(
    number: int,
    current: str | None = None,
    status: str = "called",
    on_break: tuple[str, str | None] | None = None,
) -> dict:
    """A counter object; `on_break` is (reason, until "HH:MM" or None)."""
    name, spoken, services = COUNTERS[number]
    brk = (
        {"reason": on_break[0], "until": on_break[1], "since": at("12:00:00")} if on_break else None
    )
    return {
        "number": number, "name": name, "spoken_name": spoken, "services": list(services),
        "active": True, "current": ticket(current, number, status) if current else None,
        "served_today": 10 + number, "state": "break" if on_break else "open", "break": brk,
    }  # fmt: skip


def call(
    number: str,
    counter_number: int,
    clock: str = "20:43:02",
    n: int = 1,
    *,
    audio_url: str | None = None,
    status: str | None = None,
) -> dict:
    service = service_of(number)
    name, agency, prefix = SERVICES[service]
    counter_name, spoken, _ = COUNTERS[counter_number]
    return {
        "call_id": f"{DAY}/{number}#{n}",
        "kind": "call" if n == 1 else "recall",
        "at": at(clock),
        "ticket": {"id": f"{DAY}/{number}", "number": number, "prefix": prefix,
                   "seq": int(number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), "priority": None},
        "service": {"code": service, "name": name, "agency": agency},
        "counter": {"number": counter_number, "name": counter_name, "spoken_name": spoken},
        "announcement": {
            "text": f"Nomor antrean {number}, silakan ke {spoken}.",
            "audio_url": audio_url,
            "status": status or ("ready" if audio_url else "none"),
        },
    }  # fmt: skip


def snapshot(
    seq: int = 40,
    current: dict[int, str | None] | None = None,
    recent: list[tuple[str, int, str]] | None = None,
    running_text: str = "Selamat datang di Mal Pelayanan Publik. Siapkan dokumen Anda sebelum dipanggil.",
    breaks: dict[int, tuple[str, str | None]] | None = None,
    hall_status: dict | None = None,
) -> dict:
    """A /display snapshot of the demo hall; `recent` is newest first as (number, counter, time).

    `breaks` puts counters on break: {number: (reason, until "HH:MM" or None)}; `hall_status`
    replaces the open hall's status.
    """
    breaks = breaks or {}
    if current is None:
        current = {1: "A011", 2: "B007", 3: "C004", 4: "D015", 5: None}
    if recent is None:
        recent = [
            ("A011", 1, "20:41:30"), ("D015", 4, "20:40:55"), ("C004", 3, "20:39:10"),
            ("B007", 2, "20:38:02"), ("A010", 2, "20:35:40"), ("PK003", 5, "20:33:12"),
            ("A009", 1, "20:31:00"),
        ]  # fmt: skip
    return {
        "seq": seq,
        "day": DAY,
        "now": at("20:43:00"),
        "hall": {
            "name": "Mal Pelayanan Publik Kota Contoh",
            "timezone": "Asia/Jakarta",
            "running_text": running_text,
            "logo_url": None,
        },
        "services": [
            {
                "code": code,
                "name": name,
                "agency": agency,
                "prefix": prefix,
                "active": True,
                "waiting": 3,
                "priority_waiting": 0,
            }
            for code, (name, agency, prefix) in SERVICES.items()
        ],
        "agencies": [{"code": "dukcapil", "name": "Dinas Kependudukan dan Pencatatan Sipil"}],
        "counters": [
            counter(number, current.get(number), on_break=breaks.get(number)) for number in COUNTERS
        ],
        "recent_calls": [call(number, where, clock) for number, where, clock in recent],
        "hall_status": hall_status or OPEN,
    }


def called_event(
    seq: int, number: str, counter_number: int, clock: str = "20:43:02", n: int = 1, **kw: Any
) -> dict:
    """A `ticket_called` broadcast event."""
    return {
        "seq": seq, "at": at(clock), "event": "ticket_called",
        "call": call(number, counter_number, clock, n, **kw),
        "ticket": ticket(number, counter_number, calls=n),
        "counter": counter(counter_number, number),
        "waiting": {service_of(number): 5},
    }  # fmt: skip


def finished_event(seq: int, number: str, counter_number: int, clock: str = "20:44:00") -> dict:
    """A `ticket_finished` broadcast event: the counter keeps the ticket as done."""
    return {
        "seq": seq, "at": at(clock), "event": "ticket_finished",
        "ticket": ticket(number, counter_number, status="done"),
        "counter": counter(counter_number, number, status="done"),
        "waiting": {service_of(number): 5},
    }  # fmt: skip


def counter_changed_event(
    seq: int,
    counter_number: int,
    on_break: tuple[str, str | None] | None,
    clock: str = "20:45:00",
) -> dict:
    """A `counter_changed` broadcast event: a break started (reason, until) or ended (None)."""
    return {
        "seq": seq, "at": at(clock), "event": "counter_changed",
        "counter": counter(counter_number, on_break=on_break),
    }  # fmt: skip


def demo_document() -> dict:
    """The state file behind docs/display-*.png: a snapshot and one fresh call of A012."""
    return {
        "now": at("20:43:05"),
        "snapshot": snapshot(),
        "events": [called_event(41, "A012", 1)],
    }


def square_wav(path: Path, amplitude: int = 4000, seconds: float = 0.3, rate: int = 44100) -> Path:
    """A mono 16-bit square wave whose peak is exactly `amplitude` (tests tell sounds apart by it)."""
    half_period = 50
    samples = array.array(
        "h",
        (amplitude if (i // half_period) % 2 else -amplitude for i in range(int(rate * seconds))),
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def break_document() -> dict:
    """The state file behind docs/display-break.png: the demo hall with two counters on break."""
    document = demo_document()
    document["snapshot"] = snapshot(
        current={1: "A011", 2: "B007", 3: None, 4: "D015", 5: None},
        breaks={3: ("istirahat", "13:00"), 5: ("sholat", None)},
    )
    return document


def hall_status_event(seq: int, status: dict, when: str = "2026-11-27T11:30:02+07:00") -> dict:
    """A `hall_changed` broadcast event: the hall's status changed with the clock."""
    return {"seq": seq, "at": when, "event": "hall_changed", "what": "status", "status": status}


def _on_friday(document: dict) -> dict:
    """The demo document moved to Friday 27 November (the day of the Friday prayer break)."""
    return json.loads(json.dumps(document).replace(DAY, "2026-11-27"))


FRIDAY_MORNING = [
    ("A024", 1, "11:28:40"), ("D019", 4, "11:27:55"), ("C008", 3, "11:26:10"),
    ("B012", 2, "11:24:02"), ("A023", 2, "11:21:40"), ("PK006", 5, "11:18:12"),
]  # fmt: skip


def hall_break_document() -> dict:
    """The state file behind docs/screenshots/display-hall-break.png: Friday prayer, 12.05."""
    return _on_friday(
        {
            "now": at("12:05:00"),
            "snapshot": {
                **snapshot(
                    seq=120,
                    current={1: None, 2: None, 3: None, 4: None, 5: None},
                    recent=FRIDAY_MORNING,
                    hall_status=PRAYER,
                ),
                "now": at("12:05:00"),
            },
            "events": [],
        }
    )


def closed_document() -> dict:
    """The state file behind docs/screenshots/display-closed.png: after closing, the backlog
    is still called (and announced)."""
    recent = [("A041", 1, "16:12:40"), ("B019", 2, "16:10:02"), ("C013", 3, "16:06:10")]
    return _on_friday(
        {
            "now": at("16:20:05"),
            "snapshot": {
                **snapshot(
                    seq=300,
                    current={1: "A041", 2: "B019", 3: "C013", 4: None, 5: None},
                    recent=recent,
                    hall_status=CLOSED,
                ),
                "now": at("16:20:00"),
            },
            "events": [called_event(301, "A042", 1, clock="16:20:02")],
        }
    )


DOCUMENTS = {
    "break": break_document,
    "hall-break": hall_break_document,
    "closed": closed_document,
}


if __name__ == "__main__":
    # `python -m display.samples break` writes the hall with counters on break, and so on.
    document = DOCUMENTS.get(sys.argv[1] if sys.argv[1:] else "", demo_document)()
    json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
