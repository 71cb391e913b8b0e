"""The calls the server puts on the wire to TVs and phones, stamped by the kernel (bench_hall).

    _wire.py PORT[,PORT...]

The bench's TVs and phones share the machine's two cores with the server and the counters: the
moment a bench client wakes for a frame includes its wait for a core while the server is still
busy with the same press. A real TV or phone is a device of its own, on the LAN. So this process
watches the loopback interface (an AF_PACKET socket: root or CAP_NET_RAW) and takes the kernel's
stamp of every packet the server sends from PORT (SO_TIMESTAMPNS: the moment the server's write
reached the interface, however late this process reads it). It prints `ready` (or `unavailable
<reason>` and exits), then one line per call in a server-to-client frame:

    tv <call_id> <monotonic> <client port>                 (a /display frame)
    phone <ticket number> <call_id> <monotonic> <client port>   (a /visitor frame)

until stdin closes; then `wire <packets> <calls>`. Server-to-client WebSocket frames are unmasked;
on loopback (MTU 65,536) a call's frame is whole in one packet.
"""

from __future__ import annotations

import json
import selectors
import socket
import statistics
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux
ETHERNET = 14  # loopback packets carry a zeroed Ethernet header
DISPLAY, VISITOR = b'42/display,["', b'42/visitor,["'


def clock_offset() -> float:
    """CLOCK_REALTIME (the kernel's stamps) minus time.monotonic (every bench process's clock)."""
    return statistics.median(time.time() - time.monotonic() for _ in range(9))


def tcp_payload(packet: bytes, ports: set[int]) -> tuple[bytes, int] | None:
    """The TCP payload of an IPv4 packet sent from one of `ports`, and the receiver's port."""
    ip = packet[ETHERNET:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP:
        return None
    tcp = ip[(ip[0] & 0x0F) * 4 :]
    source, destination = struct.unpack("!HH", tcp[:4])
    if source not in ports:
        return None
    payload = tcp[(tcp[12] >> 4) * 4 :]
    return (payload, destination) if payload else None


def text_frames(payload: bytes) -> list[bytes]:
    """The whole unmasked WebSocket text frames at the start of a TCP payload."""
    frames, at = [], 0
    while at + 2 <= len(payload):
        first, second = payload[at], payload[at + 1]
        length, start = second & 0x7F, at + 2
        if length == 126:
            (length,), start = struct.unpack("!H", payload[start : start + 2]), start + 2
        elif length == 127:
            (length,), start = struct.unpack("!Q", payload[start : start + 8]), start + 8
        if second & 0x80 or start + length > len(payload):
            break  # masked (client to server) or cut: not a frame this watcher reads
        if first & 0x0F == 1:
            frames.append(payload[start : start + length])
        at = start + length
    return frames


def calls(frame: bytes) -> list[tuple[str, str, str]]:
    """(kind, ticket number, call_id) of every ticket_called in a frame, as the clients read it."""
    if frame.startswith(DISPLAY):
        name, data = json.loads(frame[len(DISPLAY) - 2 :])
        events = data["events"] if name == "events" else [data] if name == "ticket_called" else []
        return [("tv", e["ticket"]["number"], e["call"]["call_id"]) for e in events
                if e.get("event") == "ticket_called"]  # fmt: skip
    if frame.startswith(VISITOR + b'ticket_called"'):
        data = json.loads(frame[len(VISITOR) - 2 :])[1]
        return [("phone", data["ticket"]["number"], data["call"]["call_id"])]
    return []


def main(ports: set[int]) -> None:
    try:
        sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sniffer.bind(("lo", 0))
    except (OSError, AttributeError) as exc:  # not root, or not Linux
        print("unavailable", type(exc).__name__, flush=True)
        return
    sniffer.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sniffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024 * 1024)
    offset, space = clock_offset(), socket.CMSG_SPACE(16)
    selector = selectors.DefaultSelector()
    selector.register(sniffer, selectors.EVENT_READ, "wire")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    print("ready", flush=True)
    packets = seen = 0
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                print("wire", packets, seen, flush=True)
                return
            packet, ancillary, _flags, address = sniffer.recvmsg(65600, space)
            if address[2] != PACKET_OUTGOING:  # loopback shows each packet twice
                continue
            found = tcp_payload(packet, ports)
            if found is None:
                continue
            packets += 1
            stamp = next(struct.unpack("qq", d[:16]) for level, kind, d in ancillary
                         if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS)  # fmt: skip
            at = stamp[0] + stamp[1] / 1e9 - offset
            for frame in text_frames(found[0]):
                for kind, number, call_id in calls(frame):
                    seen += 1
                    who = [number] if kind == "phone" else []
                    print(kind, *who, call_id, at, found[1], flush=True)


if __name__ == "__main__":
    main({int(p) for p in sys.argv[1].split(",")})
