"""The `queue_moved` summary's compacted queue (server/queue_moved.py compact/expand/ahead): exact,
in call order, small at a thousand waiting; the phone's JS (server/static/queue_places.js) counts
the same places on the same table (tests/queue_places.json, tests/js/queue_places.test.js)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine import NOW, make_hall

from server import engine, queue_moved
from server.queue_moved import ahead, compact, expand

ROOT = Path(__file__).resolve().parent.parent
TABLE = json.loads((ROOT / "tests" / "queue_places.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_the_table(case):
    numbers, items = case["numbers"], case["items"]
    assert compact(numbers) == items
    assert expand(items) == numbers
    assert [ahead(items, n) for n in numbers] == list(range(len(numbers)))
    assert [ahead(items, n) for n in case["absent"]] == [None] * len(case["absent"])


@pytest.mark.parametrize(
    ("numbers", "items"),
    [
        (["A001", "A002", "A003"], ["A001..A003"]),
        (["A001", "A002"], ["A001", "A002"]),  # a run of two is no shorter as a range
        (["A998", "A999", "A1000", "A1001"], ["A998", "A999", "A1000", "A1001"]),
        (["A997", "A998", "A999", "A1000"], ["A997..A999", "A1000"]),  # the width changes
        (["A009", "A010", "A011"], ["A009..A011"]),  # the same width: a carry is fine
        ([f"A{n:04d}" for n in range(200, 1200)], ["A0200..A1199"]),  # four digits throughout
        (["A010", "B011", "C012"], ["A010", "B011", "C012"]),
        (["B003", "A001", "A002", "A003", "B004"], ["B003", "A001..A003", "B004"]),
        (["A003", "A002", "A001"], ["A003", "A002", "A001"]),
        (["A001", "A001", "A002"], ["A001", "A001", "A002"]),  # not a queue, still kept exact
    ],
)  # fmt: skip
def test_runs(numbers, items):
    assert compact(numbers) == items
    assert expand(items) == numbers


def test_the_width_change_is_no_run_because_numbers_keep_three_digits_at_least():
    """engine.format_number pads to three digits and no further: A999 is followed by A1000."""
    assert [engine.format_number("A", n) for n in (7, 999, 1000)] == ["A007", "A999", "A1000"]
    assert compact([engine.format_number("A", n) for n in range(995, 1005)]) == [
        "A995..A999",
        "A1000..A1004",
    ]


# Numbers as the engine makes them (and transfers mix into a service), and zero-padded to other
# widths too: lists with runs, gaps, other prefixes and widths, in any order, each number once.
prefixes = st.sampled_from(["A", "B", "AB"])
seqs = st.integers(min_value=0, max_value=1200)
widths = st.sampled_from([3, 3, 3, 1, 4])


def padded(prefix: str, seq: int, width: int) -> str:
    return engine.format_number(prefix, seq) if width == 3 else f"{prefix}{seq:0{width}d}"


numbers = st.builds(padded, prefixes, seqs, widths)
runs = st.builds(
    lambda prefix, start, length, width: [
        padded(prefix, s, width) for s in range(start, start + length)
    ],
    prefixes,
    seqs,
    st.integers(min_value=1, max_value=30),
    widths,
)
queues = st.lists(st.one_of(runs, numbers.map(lambda n: [n])), max_size=20).map(
    lambda parts: list(dict.fromkeys(n for part in parts for n in part))
)


@given(queues)
def test_round_trip_and_places(numbers):
    items = compact(numbers)
    assert expand(items) == numbers
    assert len(items) <= len(numbers)
    assert [ahead(items, n) for n in numbers] == list(range(len(numbers)))
    assert all(".." not in i or len(expand([i])) >= 3 for i in items)


@given(queues, st.text(alphabet=string.ascii_uppercase[:3] + string.digits, max_size=6))
def test_a_number_not_in_the_queue_has_no_place(numbers, other):
    if other not in numbers:
        assert ahead(compact(numbers), other) is None


def waiting_hall():
    """1,000 waiting for ktp, with what breaks runs: priority tickets, a transfer in, a cancel;
    the numbers grow past A999."""
    hall = make_hall()
    for n in range(1200):
        hall = engine.issue_ticket(hall, "ktp", NOW).hall
        if n == 599:
            hall = engine.issue_ticket(hall, "paspor", NOW).hall  # C001, between A600 and A601
    hall = engine.call_next(hall, 3, NOW).hall
    hall = engine.transfer(hall, 3, "ktp", NOW).hall  # C001 keeps its place in ktp
    for _ in range(200):  # A001..A200 called (A200 still at counter 1)
        hall = engine.call_next(hall, 1, NOW).hall
    hall = engine.cancel_ticket(hall, "A500", NOW).hall
    for _ in range(2):
        hall = engine.issue_ticket(hall, "ktp", NOW, "elderly").hall
    return hall


def test_the_summary_is_exact_and_small_at_a_thousand_waiting():
    hall = waiting_hall()
    summary = queue_moved.summary(hall, "ktp", 1, 95.0)  # the example in docs/protocol.md
    waiting = sorted(
        (t for t in hall.tickets.values() if t.status == "waiting" and t.service == "ktp"),
        key=engine.call_order,
    )
    numbers = [t.number for t in waiting]
    assert summary["waiting"] == len(numbers) > 1000
    assert summary["queue"] == [
        "A1201",
        "A1202",
        "A201..A499",
        "A501..A600",
        "C001",
        "A601..A999",
        "A1000..A1200",
    ]
    assert expand(summary["queue"]) == numbers
    for ticket in waiting:  # every phone counts what the server's own page says
        assert ahead(summary["queue"], ticket.number) == hall.ahead_of(ticket)
    # The JSON bytes to each phone, before (every number) and after: about 8 KB against 100.
    before = len(json.dumps({**summary, "queue": numbers}))
    after = len(json.dumps(summary))
    assert before > 8000 and after < 200, (before, after)
