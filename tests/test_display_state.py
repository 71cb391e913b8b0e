"""The display's screen model: snapshot + events -> screen state, as pure functions."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from display import samples, texts
from display.state import (
    ScreenState,
    Zone,
    apply_event,
    apply_snapshot,
    initial_state,
    set_connected,
    tick,
)

T0 = datetime(2026, 11, 26, 13, 43, tzinfo=UTC)  # 20.43 WIB


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def live(zone: Zone | None = None, **snapshot_args) -> ScreenState:
    """A connected display that has taken the demo snapshot (seq 40)."""
    state = set_connected(initial_state(zone or Zone()), True, T0).state
    outcome = apply_snapshot(state, samples.snapshot(**snapshot_args), T0)
    assert outcome.problems == ()
    return outcome.state


def test_snapshot_fills_the_screen_and_announces_nothing():
    outcome = apply_snapshot(initial_state(), samples.snapshot(), T0)
    state = outcome.state
    assert state.seq == 40
    assert state.hall_name == "Mal Pelayanan Publik Kota Contoh"
    assert state.running_text.startswith("Selamat datang")
    assert [(c.number, c.current) for c in state.counters] == [
        (1, "A011"), (2, "B007"), (3, "C004"), (4, "D015"), (5, None),
    ]  # fmt: skip
    assert [c.number for c in state.recent][:3] == ["A011", "D015", "C004"]
    # Calls from a snapshot were missed while away: shown, never spoken, never flashed.
    assert outcome.announce == ()
    assert not state.highlighted
    assert state.connected and not state.needs_resync


def test_a_call_updates_counter_list_and_highlight_and_is_announced():
    state = live()
    outcome = apply_event(state, "ticket_called", samples.called_event(41, "A012", 1), later(1))
    new = outcome.state
    assert new.seq == 41
    assert new.latest.number == "A012" and new.latest.counter_name == "Gerai 1"
    assert new.latest.service_name == "KTP Elektronik"
    assert new.counters[0].current == "A012"
    assert new.highlighted and new.highlight_until == later(1 + state.highlight_seconds)
    assert [call.call_id for call in outcome.announce] == ["2026-11-26/A012#1"]
    assert outcome.problems == () and not outcome.resync
    # The input state is untouched (frozen, and never mutated).
    assert state.seq == 40 and state.counters[0].current == "A011"


def test_highlight_ends_on_the_tick_after_it_expires():
    state = apply_event(live(), "ticket_called", samples.called_event(41, "A012", 1), T0).state
    assert tick(state, later(9.9)).state.highlighted
    expired = tick(state, later(10)).state
    assert not expired.highlighted and expired.latest.number == "A012"
    # Nothing to change: the very same object comes back, so the shell can skip work.
    assert tick(expired, later(11)).state is expired


def test_recall_is_a_new_call_and_is_announced_and_highlighted_again():
    state = apply_event(live(), "ticket_called", samples.called_event(41, "A012", 1), T0).state
    state = tick(state, later(30)).state
    outcome = apply_event(
        state, "ticket_called", samples.called_event(42, "A012", 1, n=2), later(31)
    )
    assert [call.kind for call in outcome.announce] == ["recall"]
    assert outcome.state.highlighted
    # One row per ticket: the recall replaces the first call at the top.
    assert [c.call_id for c in outcome.state.recent[:2]] == [
        "2026-11-26/A012#2",
        "2026-11-26/A011#1",
    ]


def test_recall_of_an_older_number_moves_it_to_the_top_without_a_second_row():
    state = live()
    before = [c.number for c in state.recent]
    assert before[:3] == ["A011", "D015", "C004"]
    outcome = apply_event(state, "ticket_called", samples.called_event(41, "C004", 3, n=2), T0)
    numbers = [c.number for c in outcome.state.recent]
    assert numbers == ["C004", "A011", "D015", *before[3:]]
    assert outcome.state.latest.kind == "recall"


def test_snapshot_shows_one_row_per_ticket_the_newest_call():
    # The server's snapshot lists every call, recalls included, newest first.
    snapshot = samples.snapshot()
    snapshot["recent_calls"].insert(0, samples.call("D015", 4, "20:42:00", n=2))
    state = apply_snapshot(initial_state(), snapshot, T0).state
    numbers = [c.number for c in state.recent]
    assert numbers[:3] == ["D015", "A011", "C004"]
    assert len(numbers) == len(set(numbers))
    assert state.latest.call_id == "2026-11-26/D015#2"


def test_finished_ticket_leaves_the_counter_idle():
    state = apply_event(live(), "ticket_called", samples.called_event(41, "A012", 1), T0).state
    state = apply_event(
        state, "ticket_finished", samples.finished_event(42, "A012", 1), later(5)
    ).state
    assert state.counters[0].current is None
    assert state.latest.number == "A012"  # the list of calls is history, it keeps it


@pytest.mark.parametrize("seq", [40, 39, 1])
def test_duplicate_or_old_seq_is_ignored(seq):
    state = live()
    outcome = apply_event(state, "ticket_called", samples.called_event(seq, "A012", 1), T0)
    assert outcome.duplicate and outcome.state is state and outcome.announce == ()


def test_the_same_event_twice_is_applied_once():
    event = samples.called_event(41, "A012", 1)
    first = apply_event(live(), "ticket_called", event, T0)
    second = apply_event(first.state, "ticket_called", copy.deepcopy(event), later(1))
    assert second.duplicate and second.announce == () and second.state is first.state


def test_gap_asks_for_a_resync_once_and_a_snapshot_clears_it():
    state = live()
    gap = apply_event(state, "ticket_called", samples.called_event(43, "A012", 1), T0)
    assert gap.resync and gap.state.needs_resync
    # The event itself is complete, so it is still shown and spoken right away.
    assert gap.state.latest.number == "A012" and len(gap.announce) == 1
    assert any("jumped" in problem for problem in gap.problems)
    # While the resync is pending, more events do not ask again.
    more = apply_event(gap.state, "ticket_called", samples.called_event(44, "B008", 2), later(1))
    assert not more.resync and more.state.needs_resync and more.state.seq == 44
    fresh = apply_snapshot(more.state, samples.snapshot(seq=44, current={2: "B008"}), later(2))
    assert not fresh.state.needs_resync and fresh.state.seq == 44 and fresh.announce == ()


@pytest.mark.parametrize("event", ["day_closed", "hall_changed"])
def test_day_closed_and_hall_changed_ask_for_a_snapshot(event):
    outcome = apply_event(
        live(),
        event,
        {
            "seq": 41,
            "at": samples.at("20:44:00"),
            "event": event,
            "day": samples.DAY,
            "expired": 3,
            "what": "settings",
        },
        T0,
    )
    assert outcome.resync and outcome.state.needs_resync and outcome.state.seq == 41


def test_events_before_the_first_snapshot_are_ignored():
    state = set_connected(initial_state(), True, T0).state
    outcome = apply_event(state, "ticket_called", samples.called_event(41, "A012", 1), T0)
    assert outcome.state is state and outcome.announce == () and outcome.problems


def _broken(mutate):
    event = samples.called_event(41, "A012", 1)
    mutate(event)
    return event


@pytest.mark.parametrize(
    ("name", "payload", "consumes_seq"),
    [
        ("ticket_called", None, False),
        ("ticket_called", ["not", "an", "object"], False),
        ("ticket_called", "text", False),
        ("ticket_called", _broken(lambda e: e.pop("seq")), False),
        ("ticket_called", _broken(lambda e: e.update(seq="41")), False),
        ("ticket_called", _broken(lambda e: e.update(seq=True)), False),
        ("ticket_called", _broken(lambda e: e.update(seq=41.0)), False),
        ("ticket_called", _broken(lambda e: e.pop("call")), True),
        ("ticket_called", _broken(lambda e: e.update(call="A012")), True),
        ("ticket_called", _broken(lambda e: e["call"]["ticket"].update(number=12)), True),
        ("ticket_called", _broken(lambda e: e["call"]["counter"].pop("number")), True),
        ("ticket_called", _broken(lambda e: e["call"]["counter"].update(number=True)), True),
        ("ticket_called", _broken(lambda e: e.update(counter=[1])), True),
        ("ticket_called", _broken(lambda e: e["counter"].update(services="ktp")), True),
        ("ticket_called", _broken(lambda e: e["counter"]["current"].update(number=None)), True),
        ("ticket_exploded", _broken(lambda e: None), True),
        (None, _broken(lambda e: None), True),
        (42, _broken(lambda e: None), True),
    ],
)
def test_bad_events_are_reported_never_raised(name, payload, consumes_seq):
    state = live()
    outcome = apply_event(state, name, payload, T0)
    assert outcome.problems, "a bad event must be reported"
    assert outcome.announce == ()
    assert outcome.state.recent == state.recent and outcome.state.counters == state.counters
    if consumes_seq:
        # The seq is taken so later events do not look like a gap...
        assert outcome.state.seq == 41
    else:
        assert outcome.state is state


def test_a_broken_event_with_a_good_seq_triggers_a_resync():
    outcome = apply_event(live(), "ticket_called", _broken(lambda e: e.pop("call")), T0)
    # ...but what it carried is lost to us, so the screen fetches the truth.
    assert outcome.resync and outcome.state.needs_resync


def test_random_junk_never_raises():
    rng = random.Random(4)
    atoms = [None, True, 0, -1, 41, 10**20, 1.5, "", "x", "ticket_called", [], {}, [1, "a"]]

    def junk(depth: int):
        if depth > 2 or rng.random() < 0.4:
            return rng.choice(atoms)
        if rng.random() < 0.5:
            return [junk(depth + 1) for _ in range(rng.randint(0, 3))]
        keys = ["seq", "call", "counter", "ticket", "number", "name", "current", "services", "x"]
        return {rng.choice(keys): junk(depth + 1) for _ in range(rng.randint(0, 5))}

    state = live()
    for _ in range(2000):
        name = rng.choice(
            ["ticket_called", "ticket_finished", "announcement_ready", "snapshot", "?"]
        )
        outcome = apply_event(state, name, junk(0), T0)
        assert isinstance(outcome.state, ScreenState)
        outcome = apply_snapshot(state, junk(0), T0)
        assert isinstance(outcome.state, ScreenState)
        # Mutate real events too: drop or retype one field somewhere inside.
        event = samples.called_event(state.seq + 1, "A012", 1)
        target = rng.choice([event, event["call"], event["counter"], event["call"]["ticket"]])
        target[rng.choice(list(target))] = rng.choice(atoms)
        state = apply_event(state, "ticket_called", event, T0).state


def test_bad_snapshot_is_ignored_and_bad_items_are_skipped():
    state = live()
    outcome = apply_snapshot(state, {"hall": {}}, T0)
    assert outcome.state is state and outcome.problems
    snapshot = samples.snapshot(seq=50)
    snapshot["counters"][2] = {"number": "three"}
    snapshot["recent_calls"].insert(0, {"call_id": 7})
    outcome = apply_snapshot(state, snapshot, T0)
    assert outcome.state.seq == 50 and len(outcome.problems) == 2
    assert [c.number for c in outcome.state.counters] == [1, 2, 4, 5]
    assert outcome.state.latest.number == "A011"


def test_disconnect_marks_numbers_stale_only_after_a_while():
    state = set_connected(live(), False, later(0)).state
    assert not state.connected and not state.stale
    assert not tick(state, later(59)).state.stale
    stale = tick(state, later(60)).state
    assert stale.stale and stale.disconnected_since == T0
    # Failed reconnection attempts do not move the start of the outage.
    again = set_connected(stale, False, later(90)).state
    assert again.disconnected_since == T0 and again.stale


def test_reconnect_resyncs_from_the_snapshot_without_replaying_calls():
    state = apply_event(live(), "ticket_called", samples.called_event(41, "A012", 1), T0).state
    state = tick(set_connected(state, False, later(20)).state, later(200)).state
    assert state.stale
    # While away, B008 and C005 were called: the snapshot shows them but must not speak them.
    state = set_connected(state, True, later(201)).state
    snapshot = samples.snapshot(
        seq=47,
        current={1: "A012", 2: "B008", 3: "C005"},
        recent=[("C005", 3, "20:45:00"), ("B008", 2, "20:44:00"), ("A012", 1, "20:43:02")],
    )
    outcome = apply_snapshot(state, snapshot, later(202))
    assert outcome.announce == ()
    assert not outcome.state.stale and outcome.state.connected and outcome.state.seq == 47
    assert outcome.state.latest.number == "C005" and not outcome.state.highlighted
    # And the next live call is spoken again.
    follow = apply_event(
        outcome.state, "ticket_called", samples.called_event(48, "A013", 1), later(203)
    )
    assert [c.number for c in follow.announce] == ["A013"] and not follow.resync


def test_quick_reconnect_keeps_the_highlight_of_the_same_call():
    state = apply_event(live(), "ticket_called", samples.called_event(41, "A012", 1), T0).state
    state = set_connected(state, False, later(1)).state
    snapshot = samples.snapshot(seq=41, current={1: "A012"}, recent=[("A012", 1, "20:43:02")])
    snapshot["recent_calls"][0] = samples.call("A012", 1)
    state = apply_snapshot(set_connected(state, True, later(2)).state, snapshot, later(2)).state
    assert state.highlighted and state.latest.number == "A012"


@pytest.mark.parametrize(
    ("zone", "counters", "announced"),
    [
        (Zone(), [1, 2, 3, 4, 5], ["A012", "C005"]),
        (Zone(counters=frozenset({3, 4})), [3, 4], ["C005"]),
        (Zone(services=frozenset({"ktp"})), [1, 2], ["A012"]),
        (Zone(counters=frozenset({5})), [5], []),
    ],
)
def test_zone_filter_limits_counters_calls_and_announcements(zone, counters, announced):
    state = live(zone)
    assert [c.number for c in state.counters] == counters
    spoken = []
    for seq, (number, counter) in enumerate([("A012", 1), ("C005", 3)], start=41):
        outcome = apply_event(
            state, "ticket_called", samples.called_event(seq, number, counter), T0
        )
        state = outcome.state
        spoken += [call.number for call in outcome.announce]
    assert spoken == announced
    assert all(zone.has_call(call) for call in state.recent)


@pytest.mark.parametrize(
    ("own", "admin", "counters"),
    [
        (Zone(), None, [1, 2, 3, 4, 5]),
        (Zone(), {"name": "lobby-2", "counters": None, "services": None}, [1, 2, 3, 4, 5]),
        (Zone(), {"name": "lobby-2", "counters": [3, 4], "services": None}, [3, 4]),
        (Zone(), {"name": "lobby-2", "counters": None, "services": ["ktp"]}, [1, 2]),
        # The display's own setting wins over the admin's.
        (Zone(counters=frozenset({5})), {"name": "x", "counters": [3, 4], "services": None}, [5]),
        # Bad settings from the network: ignored (and reported), everything shown.
        (Zone(), {"name": "x", "counters": ["three"], "services": None}, [1, 2, 3, 4, 5]),
        (Zone(), {"name": "x", "counters": 3}, [1, 2, 3, 4, 5]),
        (Zone(), "lobby", [1, 2, 3, 4, 5]),
    ],
)
def test_admin_zone_from_the_snapshot(own, admin, counters):
    snapshot = samples.snapshot()
    if admin is not None:
        snapshot["display"] = admin
    outcome = apply_snapshot(initial_state(own), snapshot, T0)
    assert [c.number for c in outcome.state.counters] == counters
    assert all(outcome.state.zone.has_call(call) for call in outcome.state.recent)
    bad = isinstance(admin, str) or (
        isinstance(admin, dict) and admin.get("counters") in (["three"], 3)
    )
    assert bool(outcome.problems) == bad
    # Calls outside the zone in effect are neither shown nor spoken.
    event = apply_event(outcome.state, "ticket_called", samples.called_event(41, "C005", 3), T0)
    assert bool(event.announce) == (3 in counters)


def test_announcement_ready_without_audio_means_chime_and_text():
    event = samples.called_event(41, "A012", 1, status="pending")
    state = apply_event(live(), "ticket_called", event, T0).state
    ready = {"call_id": "2026-11-26/A012#1", "audio_url": None, "text": "Nomor A012"}
    outcome = apply_event(state, "announcement_ready", ready, later(1))
    assert outcome.audio_ready == (("2026-11-26/A012#1", None),) and outcome.problems == ()
    assert outcome.state.latest.audio_status == "none"


def test_announcement_ready_fills_the_audio_url():
    event = samples.called_event(41, "A012", 1, status="pending")
    state = apply_event(live(), "ticket_called", event, T0).state
    assert state.latest.audio_status == "pending" and state.latest.audio_url is None
    ready = {"call_id": "2026-11-26/A012#1", "audio_url": "/api/audio/k1.mp3", "text": "Nomor A012"}
    outcome = apply_event(state, "announcement_ready", ready, later(1))
    assert outcome.audio_ready == (("2026-11-26/A012#1", "/api/audio/k1.mp3"),)
    assert outcome.state.latest.audio_url == "/api/audio/k1.mp3"
    assert outcome.state.latest.audio_status == "ready"
    assert outcome.state.seq == 41  # auxiliary events carry no seq


@pytest.mark.parametrize(
    "payload", [None, {}, {"call_id": 1, "audio_url": "/a"}, {"call_id": "x", "audio_url": 5}]
)
def test_bad_announcement_ready_is_reported(payload):
    state = live()
    outcome = apply_event(state, "announcement_ready", payload, T0)
    assert outcome.state is state and outcome.problems and outcome.audio_ready == ()


def test_state_is_frozen():
    state = live()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.seq = 1  # type: ignore[misc]


def test_state_module_is_pure():
    code = (
        "import sys, display.state; "
        "loaded = {'pygame', 'socketio', 'requests', 'flask'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    source = (Path(__file__).parent.parent / "display" / "state.py").read_text()
    assert "datetime.now" not in source and "time.time" not in source


def test_sample_state_file_matches_the_samples_module():
    path = Path(__file__).parent.parent / "display" / "sample_state.json"
    assert json.loads(path.read_text(encoding="utf-8")) == samples.demo_document()


# --- counter breaks (counter_changed, issue 13) ------------------------------------------------


def test_snapshot_shows_counters_on_break_with_reason_and_return_time():
    state = live(breaks={3: ("istirahat", "13:00"), 5: ("sholat", None)})
    shown = {c.number: (c.on_break, c.break_reason, c.break_until) for c in state.counters}
    assert shown == {
        1: (False, "", None),
        2: (False, "", None),
        3: (True, "istirahat", "13:00"),
        4: (False, "", None),
        5: (True, "sholat", None),
    }


def test_counter_without_state_field_is_open():
    """An older server sends no `state`/`break`: every counter is open."""
    snapshot = samples.snapshot()
    for item in snapshot["counters"]:
        del item["state"], item["break"]
    state = apply_snapshot(initial_state(), snapshot, T0).state
    assert not any(c.on_break for c in state.counters)


def test_counter_changed_starts_and_ends_a_break_live_and_announces_nothing():
    state = live()
    outcome = apply_event(
        state, "counter_changed", samples.counter_changed_event(41, 2, ("rapat", "14:30")), T0
    )
    assert outcome.problems == () and outcome.announce == () and not outcome.resync
    tile = outcome.state.counters[1]
    assert (tile.number, tile.on_break, tile.break_reason, tile.break_until) == (
        2, True, "rapat", "14:30",
    )  # fmt: skip
    assert outcome.state.seq == 41
    back = apply_event(
        outcome.state, "counter_changed", samples.counter_changed_event(42, 2, None), later(60)
    ).state
    assert not back.counters[1].on_break and back.seq == 42


@pytest.mark.parametrize(
    "brk, expected",
    [
        ({"reason": "tidur", "until": "13:00"}, ("lainnya", "13:00")),  # unknown reason
        ({"reason": "sholat", "until": "1 pm"}, ("sholat", None)),  # bad time dropped
        ({"reason": "sholat", "until": "24:00"}, ("sholat", None)),
        (None, ("lainnya", None)),  # on break, no details
        ({"reason": 5, "until": 1300}, ("lainnya", None)),  # wrong types
        ("istirahat", ("lainnya", None)),
    ],
)
def test_odd_break_details_still_show_the_break(brk, expected):
    event = samples.counter_changed_event(41, 2, ("istirahat", None))
    event["counter"]["break"] = brk
    outcome = apply_event(live(), "counter_changed", event, T0)
    tile = outcome.state.counters[1]
    assert tile.on_break and (tile.break_reason, tile.break_until) == expected


def test_counter_changed_outside_the_zone_is_not_shown():
    state = live(Zone(counters=frozenset({1})))
    outcome = apply_event(
        state, "counter_changed", samples.counter_changed_event(41, 2, ("istirahat", None)), T0
    )
    assert [c.number for c in outcome.state.counters] == [1]
    assert outcome.state.seq == 41


def test_malformed_counter_changed_asks_for_a_resync():
    event = samples.counter_changed_event(41, 2, ("istirahat", None))
    event["counter"]["state"] = 7
    outcome = apply_event(live(), "counter_changed", event, T0)
    assert outcome.resync and outcome.problems
    assert not outcome.state.counters[1].on_break


@pytest.mark.parametrize(
    "language, reason, until, label",
    [
        ("id", "istirahat", "13:00", "Istirahat · kembali 13.00"),
        ("id", "sholat", None, "Istirahat (sholat)"),
        ("id", "rapat", "14:30", "Istirahat (rapat) · kembali 14.30"),
        ("id", "lainnya", None, "Istirahat"),
        ("en", "istirahat", "13:00", "On break · back at 13.00"),
        ("en", "sholat", None, "On break (prayer)"),
    ],
)
def test_break_label(language, reason, until, label):
    assert texts.break_label(language, reason, until) == label


# --- the hall's break and closing (issue 13 item 2) -------------------------------------------


def on_break() -> ScreenState:
    """A display that took a snapshot during the Friday prayer break."""
    state = set_connected(initial_state(), True, T0).state
    outcome = apply_snapshot(state, samples.snapshot(hall_status=samples.PRAYER), T0)
    assert outcome.problems == ()
    return outcome.state


def test_the_snapshot_s_hall_status_is_read():
    status = on_break().hall_status
    assert (status.state, status.reason, status.label) == ("break", "hall-break", "Sholat Jumat")
    assert status.until == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 13.00 WIB
    assert on_break().hall_status.on_break and not live().hall_status.on_break
    closed = apply_snapshot(live(), samples.snapshot(hall_status=samples.CLOSED), T0).state
    assert closed.hall_status.state == "closed" and not closed.hall_status.on_break


@pytest.mark.parametrize(
    "status",
    [
        "break",
        {"state": "pause"},
        {"reason": "hall-break"},
        {"state": "break", "until": "13:00"},  # not an ISO datetime
        {"state": "break", "until": "2026-11-27T13:00:00"},  # no offset
        {"state": "break", "label": 7},
    ],
)
def test_a_bad_hall_status_is_reported_and_the_hall_taken_as_open(status):
    snapshot = {**samples.snapshot(), "hall_status": status}
    outcome = apply_snapshot(on_break(), snapshot, T0)
    assert outcome.state.seq == 40 and outcome.state.hall_status.state == "open"
    assert len(outcome.problems) == 1 and "hall_status" in outcome.problems[0]


def test_an_older_server_without_hall_status_is_open():
    snapshot = samples.snapshot()
    del snapshot["hall_status"]
    outcome = apply_snapshot(on_break(), snapshot, T0)
    assert outcome.problems == () and outcome.state.hall_status.state == "open"


def test_a_call_during_the_hall_break_is_listed_but_not_announced_nor_highlighted():
    outcome = apply_event(on_break(), "ticket_called", samples.called_event(41, "A012", 1), T0)
    assert outcome.announce == ()
    assert outcome.state.recent[0].number == "A012" and not outcome.state.highlighted
    assert outcome.state.counters[0].current == "A012"


def test_hall_changed_status_applies_at_once_and_still_asks_for_the_snapshot():
    state = live()
    started = apply_event(state, "hall_changed", samples.hall_status_event(41, samples.PRAYER), T0)
    assert started.state.hall_status.label == "Sholat Jumat" and started.resync
    silent = apply_event(started.state, "ticket_called", samples.called_event(42, "A012", 1), T0)
    assert silent.announce == ()
    opened = dict(samples.OPEN, until="2026-11-27T16:00:00+07:00")
    ended = apply_event(silent.state, "hall_changed", samples.hall_status_event(43, opened), T0)
    assert ended.state.hall_status.state == "open"
    again = apply_event(ended.state, "ticket_called", samples.called_event(44, "A013", 1), T0)
    assert [c.number for c in again.announce] == ["A013"] and again.state.highlighted


def test_a_settings_hall_changed_keeps_the_hall_status():
    event = {"seq": 41, "at": samples.at("20:44:00"), "event": "hall_changed", "what": "settings"}
    assert apply_event(on_break(), "hall_changed", event, T0).state.hall_status.on_break


def test_a_closed_hall_still_announces_the_backlog():
    state = apply_snapshot(live(), samples.snapshot(hall_status=samples.CLOSED), T0).state
    outcome = apply_event(state, "ticket_called", samples.called_event(41, "A012", 1), T0)
    assert [c.number for c in outcome.announce] == ["A012"] and outcome.state.highlighted
