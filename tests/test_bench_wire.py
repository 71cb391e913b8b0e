"""bench/_wire.py's reading of what the server sends: TCP payloads, WebSocket frames, calls.

The packets are built here byte by byte as Linux hands them to an AF_PACKET socket on the
loopback interface (a zeroed Ethernet header, IPv4, TCP), so the parsing is checked without root.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import _wire  # noqa: E402


def frame(text: str, masked: bool = False) -> bytes:
    data = text.encode()
    size = len(data)
    mask = 0x80 if masked else 0
    if size < 126:
        head = bytes([0x81, mask | size])
    elif size < 65536:
        head = bytes([0x81, mask | 126]) + struct.pack("!H", size)
    else:
        head = bytes([0x81, mask | 127]) + struct.pack("!Q", size)
    return head + (b"\0\0\0\0" if masked else b"") + data


def packet(payload: bytes, source: int = 5000, destination: int = 40000) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", source, destination, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    ip = bytes([0x45, 0]) + struct.pack("!H", 20 + len(tcp) + len(payload)) + bytes(5)
    ip += bytes([6]) + bytes(10)  # protocol TCP, checksum and addresses left zero
    return bytes(14) + ip + tcp + payload


def called(call_id: str, number: str) -> dict:
    return {"event": "ticket_called", "seq": 3, "ticket": {"number": number},
            "call": {"call_id": call_id}}  # fmt: skip


def test_a_call_to_a_tv_in_an_events_frame_and_a_phone_call():
    events = {"events": [{"event": "ticket_finished", "seq": 2}, called("d/A001#1", "A001")]}
    tv = frame('42/display,["events",' + json.dumps(events) + "]")
    phone = frame('42/visitor,["ticket_called",' + json.dumps(called("d/A002#1", "A002")) + "]")
    payload, port = _wire.tcp_payload(packet(tv + phone), {5000})
    assert port == 40000
    found = [c for f in _wire.text_frames(payload) for c in _wire.calls(f)]
    assert found == [("tv", "A001", "d/A001#1"), ("phone", "A002", "d/A002#1")]


@pytest.mark.parametrize("size", [10, 300, 70000])
def test_frame_lengths_of_each_encoding(size):
    text = (
        '42/display,["ticket_called",' + json.dumps({**called("x", "B1"), "pad": "p" * size}) + "]"
    )
    assert _wire.text_frames(frame(text)) == [text.encode()]


def test_other_ports_masked_and_cut_frames_are_left_alone():
    text = '42/display,["ticket_called",' + json.dumps(called("x", "C1")) + "]"
    assert _wire.tcp_payload(packet(frame(text), source=6000), {5000}) is None
    assert _wire.tcp_payload(packet(b""), {5000}) is None  # an ACK
    assert _wire.text_frames(frame(text, masked=True)) == []  # a client's frame
    assert _wire.text_frames(frame(text)[:-5]) == []  # the rest in the next packet
    assert _wire.calls(b'42/display,["time",{"now":"x"}]') == []
    assert _wire.calls(b'42/visitor,["queue_moved",{}]') == []
