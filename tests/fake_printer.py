"""A fake ESC/POS network printer: a real TCP listener on 127.0.0.1 that keeps what it receives.

It answers the real-time status requests (DLE EOT 1 and DLE EOT 4) like an Epson printer, and can
misbehave on purpose: close every connection at once, never answer, or report an empty roll.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

ONLINE = b"\x10\x04\x01"
PAPER = b"\x10\x04\x04"
STATUS_OK = 0x12  # the two fixed bits of every status byte, nothing wrong
STATUS_PAPER_END = 0x72


class FakePrinter:
    """Listens on 127.0.0.1:<port>; `mode` is ok, close, silent, paper-out or drop-after-slip
    (it may change live)."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.jobs: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._stop = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> dict:
        return {"type": "network", "host": "127.0.0.1", "port": self.port, "timeout": 1}

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(self.jobs)

    def wait_for(self, count: int, timeout: float = 5) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.jobs) >= count and all(self.jobs):
                    return list(self.jobs)
            time.sleep(0.02)
        raise AssertionError(f"printer got {len(self.jobs)} jobs, wanted {count}")

    def close(self) -> None:
        self._stop = True
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        mode = self.mode
        with conn:
            if mode == "close":
                # Reset rather than a polite FIN, like a printer that crashed or was unplugged.
                conn.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                return
            buffer = b""
            scanned = 0
            dropped = False
            conn.settimeout(10)
            while not dropped:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buffer += chunk
                # Answer each status request as it arrives (the client waits for the answer).
                while True:
                    online = buffer.find(ONLINE, scanned)
                    paper = buffer.find(PAPER, scanned)
                    found = [i for i in (online, paper) if i >= 0]
                    if not found:
                        scanned = max(scanned, len(buffer) - 2)
                        break
                    at = min(found)
                    scanned = at + 3
                    if mode == "silent":
                        continue
                    if mode == "drop-after-slip" and at == online:
                        dropped = True  # took the slip, then went away without confirming it
                        break
                    if at == paper:
                        conn.sendall(
                            bytes([STATUS_PAPER_END if mode == "paper-out" else STATUS_OK])
                        )
                    else:
                        conn.sendall(bytes([STATUS_OK]))
            with self._lock:
                self.jobs.append(buffer)


@pytest.fixture(name="printer")
def printer_fixture():
    """The `printer` fixture: a fake network printer for one test (import it to use it)."""
    fake = FakePrinter()
    yield fake
    fake.close()


def closed_port() -> int:
    """A local port where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
