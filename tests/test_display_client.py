"""The Pi display's socket layer (display/client.py): what it posts to the screen model."""

from __future__ import annotations

import panggil_protocol as protocol
from display.client import EVENT, SNAPSHOT, DisplayClient


def posted_by(*received) -> list:
    posted: list = []
    client = DisplayClient(
        "http://127.0.0.1:9", "tv-1", lambda kind, data: posted.append((kind, data))
    )
    for event, data in received:
        client._on_event(event, data)
    return posted


def test_an_events_frame_is_posted_as_its_events_in_order():
    finished = {"event": protocol.TICKET_FINISHED, "seq": 5}
    called = {"event": protocol.TICKET_CALLED, "seq": 6}
    posted = posted_by(
        (protocol.EVENTS, {"events": [finished, "garbage", {"seq": 7}, called]}),
        (protocol.TICKET_ISSUED, {"event": protocol.TICKET_ISSUED, "seq": 7}),
    )
    assert posted == [
        (EVENT, (protocol.TICKET_FINISHED, finished)),
        (EVENT, (protocol.TICKET_CALLED, called)),
        (EVENT, (protocol.TICKET_ISSUED, {"event": protocol.TICKET_ISSUED, "seq": 7})),
    ]


def test_a_malformed_events_frame_posts_nothing_and_a_snapshot_stays_a_snapshot():
    assert posted_by((protocol.EVENTS, None), (protocol.EVENTS, {"events": "x"})) == []
    assert posted_by((protocol.SNAPSHOT, {"seq": 1})) == [(SNAPSHOT, {"seq": 1})]
