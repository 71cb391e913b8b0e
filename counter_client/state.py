"""What the counter knows about its hall: a snapshot plus the broadcast events after it.

Pure: no sockets, no clock. `apply_event` returns the new state and whether the client must
ask for a snapshot now (a seq gap, a closed day, a changed catalogue): panggil_protocol.stream
decides that, as for every client (docs/protocol.md, "Client sequencing").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from panggil_protocol import stream


@dataclass(frozen=True)
class ServiceInfo:
    """A service as the counter shows it."""

    code: str
    name: str
    prefix: str
    active: bool
    waiting: int


@dataclass(frozen=True)
class CounterState:
    """This counter's view of the hall; `seq` is None until the first snapshot."""

    seq: int | None = None  # the last event folded in
    day: str = ""
    hall_name: str = ""
    me: Mapping[str, Any] | None = None
    services: Mapping[str, ServiceInfo] = field(default_factory=lambda: MappingProxyType({}))
    skipped: tuple[Mapping[str, Any], ...] = ()
    # Where the client stands in the broadcast stream: past a gap it is ahead of `seq`.
    position: stream.Position = field(default_factory=stream.Position)

    @property
    def ready(self) -> bool:
        return self.seq is not None and self.me is not None

    @property
    def current(self) -> Mapping[str, Any] | None:
        return self.me.get("current") if self.me else None

    @property
    def break_info(self) -> Mapping[str, Any] | None:
        """Why (and until when) this counter is on break; None while open or from an older server."""
        if not self.me or self.me.get("state") != "break":
            return None
        info = self.me.get("break")
        return info if isinstance(info, Mapping) else MappingProxyType({})

    @property
    def my_services(self) -> list[ServiceInfo]:
        """The counter's services in its order of preference."""
        codes = self.me.get("services", []) if self.me else []
        return [self.services[c] for c in codes if c in self.services]

    def transfer_targets(self) -> list[ServiceInfo]:
        """Open services the held ticket can be sent to (not the one it is in)."""
        current = self.current
        held_in = current.get("service") if current else None
        return [s for s in self.services.values() if s.active and s.code != held_in]


def from_snapshot(snapshot: Mapping[str, Any]) -> CounterState:
    """The state a `snapshot` event describes (the /counter one, with `me` and `skipped`)."""
    services = {
        s["code"]: ServiceInfo(
            s["code"], s["name"], s["prefix"], bool(s.get("active", True)), int(s["waiting"])
        )
        for s in snapshot.get("services", [])
    }
    return CounterState(
        seq=int(snapshot["seq"]),
        day=str(snapshot.get("day", "")),
        hall_name=str(snapshot.get("hall", {}).get("name", "")),
        me=MappingProxyType(dict(snapshot["me"])) if snapshot.get("me") else None,
        services=MappingProxyType(services),
        skipped=tuple(MappingProxyType(dict(t)) for t in snapshot.get("skipped", [])),
        position=stream.Position(int(snapshot["seq"])),
    )


def apply_event(state: CounterState, event: Mapping[str, Any]) -> tuple[CounterState, bool]:
    """Fold one broadcast event in; returns (new state, must ask for a snapshot now)."""
    step = stream.receive(state.position, event.get("event"), event)
    if step.decision == stream.IGNORE:
        return state, False  # a duplicate, or no snapshot yet: the one on its way includes it
    state = replace(state, position=step.position)
    if step.reason == "gap":
        # Missed something: keep the old state until the snapshot (the events after this one,
        # in order again, are folded in meanwhile: each carries what it changed in full).
        return state, step.ask
    state = replace(state, seq=step.position.seq)
    if step.decision == stream.RESYNC:
        return state, step.ask  # a closed day or a changed hall: read everything again
    waiting = event.get("waiting") or {}
    if waiting:
        services = dict(state.services)
        for code, count in waiting.items():
            if code in services:
                services[code] = replace(services[code], waiting=int(count))
        state = replace(state, services=MappingProxyType(services))
    counter = event.get("counter")
    if (
        state.me is not None
        and isinstance(counter, Mapping)
        and counter.get("number") == state.me["number"]
    ):
        state = replace(state, me=MappingProxyType(dict(counter)))
    ticket = event.get("ticket")
    if isinstance(ticket, Mapping):
        state = replace(state, skipped=_skipped_after(state, ticket))
    return state, False


def _skipped_after(state: CounterState, ticket: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """Today's skipped tickets of this counter's services after a ticket changed."""
    others = tuple(t for t in state.skipped if t["id"] != ticket["id"])
    mine = state.me.get("services", []) if state.me else []
    if ticket.get("status") == "skipped" and ticket.get("service") in mine:
        return (*others, MappingProxyType(dict(ticket)))
    return others
