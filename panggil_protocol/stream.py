"""How a client follows the broadcast stream: apply, ignore or resync each message, by its seq.

The one rule every client follows (docs/protocol.md, "Client sequencing"); the browser pages
follow the same rule in server/static/protocol.js, and both are tested against the recorded
streams in tests/protocol_streams.json. Pure: no sockets, no clock. What a client draws from a
message is its own business; this module only says where the message stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from panggil_protocol import DAY_CLOSED, HALL_CHANGED

Decision = Literal["apply", "ignore", "resync"]
APPLY: Decision = "apply"  # the next message in order: take it
IGNORE: Decision = "ignore"  # a duplicate, an old seq, no seq, or no snapshot to place it on yet
RESYNC: Decision = "resync"  # the client's view is no longer whole: a snapshot must replace it

# Events after which the protocol asks clients to re-read the whole snapshot.
RESYNC_EVENTS = frozenset({DAY_CLOSED, HALL_CHANGED})


@dataclass(frozen=True)
class Position:
    """Where a client stands in the stream: the last seq taken, and whether a snapshot is due."""

    seq: int | None = None  # None until the first snapshot
    pending: bool = False  # a snapshot was asked for (or a reconnect brings one): do not ask again


@dataclass(frozen=True)
class Step:
    """What one message means for the client, and where the client stands after it."""

    position: Position
    decision: Decision
    reason: str  # snapshot, in-order, duplicate, no-seq, no-snapshot, gap, day_closed, ...
    ask: bool = False  # emit `get_snapshot` now (a resync not already pending)


def is_seq(value: Any) -> TypeGuard[int]:
    """A seq is an integer; `true` and `41.0` are not."""
    return isinstance(value, int) and not isinstance(value, bool)


def take_snapshot(position: Position, snapshot: Any) -> Step:
    """A snapshot replaces everything: the client stands at its seq, nothing pending."""
    seq = snapshot.get("seq") if isinstance(snapshot, Mapping) else None
    if not is_seq(seq):
        return Step(position, IGNORE, "no-seq")
    return Step(Position(seq), APPLY, "snapshot")


def receive(position: Position, name: Any, message: Any) -> Step:
    """Place one broadcast message (its event name and payload) in the stream."""
    seq = message.get("seq") if isinstance(message, Mapping) else None
    if not is_seq(seq):
        return Step(position, IGNORE, "no-seq")
    if position.seq is None:
        return Step(position, IGNORE, "no-snapshot")  # the snapshot on its way includes it
    if seq <= position.seq:
        return Step(position, IGNORE, "duplicate")
    if seq > position.seq + 1:
        reason = "gap"
    elif name in RESYNC_EVENTS:
        reason = name
    else:
        return Step(Position(seq, position.pending), APPLY, "in-order")
    # The seq is taken either way: a snapshot asked for now is built after this message was sent,
    # so it covers it, and later messages are in order again. Ask only once until it arrives.
    return Step(Position(seq, pending=True), RESYNC, reason, ask=not position.pending)


def reconnected(position: Position) -> Step:
    """The socket (re)connected: the server sends a snapshot on every connect, so none is asked."""
    return Step(Position(position.seq, pending=True), RESYNC, "reconnect")


def resync(position: Position, reason: str) -> Step:
    """The client itself cannot trust its view (a message it could not apply): ask once."""
    return Step(Position(position.seq, pending=True), RESYNC, reason, ask=not position.pending)
