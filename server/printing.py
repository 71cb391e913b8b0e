"""Ticket slips for ESC/POS thermal printers: kiosk settings, rendering, and sending.

Rendering (`render_slip`) builds the whole slip in memory with python-escpos's Dummy printer, so it
is pure and testable; `send` then pushes those bytes to one printer (network port 9100 and USB
through python-escpos, a device file with non-blocking writes) with a timeout, and raises
PrinterError when the printer cannot take them. The kiosk
reserves the number first and cancels it when `send` fails: no ghost tickets.
"""

from __future__ import annotations

import logging
import os
import re
import select
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from babel.dates import format_date, format_time

from panggil_common.rules import CODE_RE, ZONE_NAMES

log = logging.getLogger(__name__)

T = TypeVar("T")

KIOSK_ID_RE = CODE_RE  # a kiosk id follows the rule of a service code
PRINTER_TYPES = ("network", "usb", "file", "none")
QR_MODES = ("native", "image", "none")

# Characters per line in font A, and the big number's size, for the two common paper rolls.
PAPER = {
    58: {"columns": 32, "number_size": 3, "qr_size": 5},
    80: {"columns": 48, "number_size": 4, "qr_size": 6},
}

# The slip is always printed in Indonesian, whatever language the kiosk screen shows.
SLIP_TEXT = {
    "number": "NOMOR ANTREAN",
    "ahead": "{n} orang menunggu sebelum Anda",
    "none_ahead": "Anda berikutnya",
    "priority": "PRIORITAS: {kind}",
    "scan": "Pindai untuk memantau antrean Anda",
    "keep": "Simpan tiket ini sampai dipanggil.",
}
PRIORITY_TEXT = {
    "disability": "Disabilitas",
    "elderly": "Lansia",
    "pregnant": "Ibu hamil",
    "booking": "Reservasi",
}  # a checked-in booking (server/bookings.py)

# DLE EOT n: real-time status requests that a printer answers even while it is printing.
STATUS_ONLINE = b"\x10\x04\x01"
STATUS_PAPER = b"\x10\x04\x04"
PAPER_END = 0x60  # bits 5 and 6 of the paper status: the roll is empty
PAPER_NEAR_END = 0x0C


class PrinterError(Exception):
    """The slip could not be handed to the printer; `reason` is a short machine code.

    `sent` is True when the whole slip had already gone out and only the printer's confirmation
    failed: it may well have printed, so the number must not be taken back.
    """

    def __init__(self, reason: str, detail: str = "", sent: bool = False) -> None:
        self.reason = reason
        self.detail = detail
        self.sent = sent
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class PrinterSpec:
    """Where and how one kiosk prints."""

    type: Literal["network", "usb", "file", "none"] = "none"
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    path: str | None = None
    timeout: float = 5.0
    paper_width: int = 80
    qr: Literal["native", "image", "none"] = "native"
    profile: str | None = None
    check_status: bool = True

    @property
    def enabled(self) -> bool:
        return self.type != "none"

    def describe(self) -> str:
        if self.type == "network":
            return f"network {self.host}:{self.port}"
        if self.type == "usb":
            return f"usb {self.vendor_id:04x}:{self.product_id:04x}"
        if self.type == "file":
            return f"file {self.path}"
        return "none"


@dataclass(frozen=True)
class KioskSpec:
    """One kiosk (anjungan): its name on screen, its printer, and the base URL printed in the QR."""

    id: str
    name: str
    printer: PrinterSpec
    public_url: str | None = None


@dataclass(frozen=True)
class Slip:
    """What goes on one ticket slip."""

    hall: str
    agency: str
    service: str
    number: str
    issued_at: datetime
    ahead: int
    url: str
    priority: str | None = None


# --- settings ---------------------------------------------------------------------------------

KIOSK_KEYS = {"name", "printer", "public_url"}
PRINTER_KEYS = {
    "network": {"type", "host", "port", "timeout", "paper_width", "qr", "profile", "check_status"},
    "usb": {
        "type",
        "vendor_id",
        "product_id",
        "timeout",
        "paper_width",
        "qr",
        "profile",
        "check_status",
    },
    "file": {"type", "path", "timeout", "paper_width", "qr", "profile"},
    "none": {"type"},
}


def parse_kiosks(raw: Mapping | None, where: str = "kiosks") -> dict[str, KioskSpec]:
    """Validate the `kiosks:` section (kiosk id -> settings); ValueError names the bad key."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping of kiosk id -> settings")
    kiosks = {}
    for kiosk_id, entry in raw.items():
        key = f"{where}.{kiosk_id}"
        if not isinstance(kiosk_id, str) or not KIOSK_ID_RE.match(kiosk_id):
            raise ValueError(f"{key}: a kiosk id is 1-40 characters a-z, 0-9 and -")
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise ValueError(f"{key}: must be a mapping")
        _no_unknown(entry, KIOSK_KEYS, key)
        name = entry.get("name", kiosk_id)
        if not isinstance(name, str) or not 1 <= len(name) <= 60:
            raise ValueError(f"{key}.name: must be text of 1-60 characters")
        public_url = entry.get("public_url")
        if public_url is not None and (
            not isinstance(public_url, str) or not re.match(r"^https?://[^\s/]+", public_url)
        ):
            raise ValueError(f"{key}.public_url: must be an address like http://192.168.1.10:5000")
        printer = parse_printer(entry.get("printer"), f"{key}.printer")
        kiosks[kiosk_id] = KioskSpec(
            kiosk_id, name, printer, public_url.rstrip("/") if public_url else None
        )
    return kiosks


def parse_printer(raw: Mapping | None, where: str = "printer") -> PrinterSpec:
    """Validate one printer spec, e.g. {"type": "network", "host": "192.168.1.50"}."""
    if raw is None:
        return PrinterSpec()
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping with a type ({', '.join(PRINTER_TYPES)})")
    kind = raw.get("type")
    if kind not in PRINTER_TYPES:
        raise ValueError(f"{where}.type: must be one of {', '.join(PRINTER_TYPES)}")
    _no_unknown(raw, PRINTER_KEYS[kind], where)
    values: dict = {"type": kind}
    if kind == "network":
        host = raw.get("host")
        if not isinstance(host, str) or not re.match(r"^[A-Za-z0-9.:-]{1,253}$", host):
            raise ValueError(f"{where}.host: must be the printer's IP address or host name")
        values["host"] = host
        values["port"] = _int(raw, "port", 9100, 1, 65535, where)
    elif kind == "usb":
        values["vendor_id"] = _usb_id(raw, "vendor_id", where)
        values["product_id"] = _usb_id(raw, "product_id", where)
        # Without pyusb every slip would fail and every number be cancelled: refuse at start.
        if not usb_library_installed():
            raise ValueError(f"{where}.type: {USB_LIBRARY_MISSING}")
    elif kind == "file":
        path = raw.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"{where}.path: must be an absolute device path like /dev/usb/lp0")
        values["path"] = path
    if kind == "none":
        return PrinterSpec()
    timeout = raw.get("timeout", 5.0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0.2 <= timeout <= 60
    ):
        raise ValueError(f"{where}.timeout: must be a number of seconds from 0.2 to 60")
    values["timeout"] = float(timeout)
    paper = raw.get("paper_width", 80)
    if paper not in PAPER:
        raise ValueError(f"{where}.paper_width: must be 58 or 80 (mm)")
    values["paper_width"] = paper
    qr = raw.get("qr", "native")
    if qr not in QR_MODES:
        raise ValueError(f"{where}.qr: must be one of {', '.join(QR_MODES)}")
    values["qr"] = qr
    profile = raw.get("profile")
    if profile is not None:
        _check_profile(profile, f"{where}.profile")
        values["profile"] = profile
    check = raw.get("check_status", kind != "file")
    if not isinstance(check, bool):
        raise ValueError(f"{where}.check_status: must be true or false")
    values["check_status"] = check
    return PrinterSpec(**values)


def _no_unknown(entry: Mapping, allowed: set[str], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise ValueError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _int(raw: Mapping, key: str, default: int, low: int, high: int, where: str) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}.{key}: must be a whole number from {low} to {high}")
    return value


def _usb_id(raw: Mapping, key: str, where: str) -> int:
    """USB ids as written on the device (0x04b8 or "04b8") or as plain numbers."""
    value = raw.get(key)
    if isinstance(value, str):
        try:
            value = int(value, 16)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 0xFFFF:
        raise ValueError(f"{where}.{key}: must be a USB id like 0x04b8 (see lsusb)")
    return value


USB_LIBRARY_MISSING = (
    "a usb printer needs pyusb: pip install 'panggil[server,printer-usb]', "
    "or print through the kernel's driver with type: file and path: /dev/usb/lp0"
)
LIBUSB_MISSING = "libusb-1.0 is not installed (sudo apt-get install libusb-1.0-0)"


def usb_library_installed() -> bool:
    """Whether pyusb (the `printer-usb` extra) is importable, which a `usb` printer needs."""
    try:
        import usb.core  # noqa: F401
    except ImportError:
        return False
    return True


def _check_profile(profile: object, where: str) -> None:
    from escpos.capabilities import get_profile

    try:
        if not isinstance(profile, str):
            raise ValueError
        get_profile(profile)
    except Exception:
        raise ValueError(f"{where}: unknown python-escpos printer profile {profile!r}") from None


# --- rendering --------------------------------------------------------------------------------


def format_local_time(moment: datetime) -> str:
    """'Kamis, 26 November 2026 09.05 WIB': the way Indonesian screens and slips show a time."""
    offset = moment.utcoffset() or timedelta(0)
    hours = offset.total_seconds() / 3600
    zone = ZONE_NAMES.get(int(hours)) if hours.is_integer() else None
    zone = zone or "UTC" + format(hours, "+g")
    day = format_date(moment, "EEEE, d MMMM y", locale="id")
    return f"{day} {format_time(moment, 'HH.mm', locale='id')} {zone}"


def render_slip(slip: Slip, printer: PrinterSpec) -> bytes:
    """The ESC/POS bytes of one slip (no I/O): hall, service, big number, time, queue, QR code."""
    from escpos.printer import Dummy

    paper = PAPER[printer.paper_width]
    columns = paper["columns"]
    p = Dummy(profile=printer.profile) if printer.profile else Dummy()
    p.hw("INIT")
    p.set(align="center", bold=True, normal_textsize=True)
    for line in textwrap.wrap(slip.hall, columns) or [""]:
        p.textln(line)
    p.set(bold=False)
    p.textln("-" * columns)
    for line in textwrap.wrap(slip.agency, columns):
        p.textln(line)
    p.set(bold=True)
    for line in textwrap.wrap(slip.service, columns // 2):
        p.set(double_width=True, double_height=True)
        p.textln(line)
    p.set(normal_textsize=True, bold=False)
    p.ln()
    p.textln(SLIP_TEXT["number"])
    size = paper["number_size"]
    p.set(custom_size=True, width=size, height=size, bold=True)
    p.textln(slip.number)
    p.set(normal_textsize=True, bold=False)
    if slip.priority:
        p.set(invert=True, bold=True)
        p.textln(
            " "
            + SLIP_TEXT["priority"].format(kind=PRIORITY_TEXT.get(slip.priority, slip.priority))
            + " "
        )
        p.set(invert=False, bold=False)
    p.ln()
    p.textln(format_local_time(slip.issued_at))
    p.textln(SLIP_TEXT["ahead"].format(n=slip.ahead) if slip.ahead else SLIP_TEXT["none_ahead"])
    if printer.qr != "none" and slip.url:
        p.ln()
        if printer.qr == "native":
            # ESC a (centre) applies to the native code; python-escpos refuses center=True for it.
            p.qr(slip.url, size=paper["qr_size"], native=True)
        else:
            p.image(_qr_image(slip.url, paper["qr_size"]), center=True)
        p.textln(SLIP_TEXT["scan"])
    p.ln()
    p.textln(SLIP_TEXT["keep"])
    p.cut()
    return p.output


def _qr_image(url: str, scale: int):
    """The visitor link as a bitmap (for printers without native QR support)."""
    import io

    import segno
    from PIL import Image

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


# --- sending ----------------------------------------------------------------------------------


def send(data: bytes, printer: PrinterSpec) -> None:
    """Hand the slip's bytes to the printer, or raise PrinterError (never block past the timeout)."""
    if not printer.enabled:
        raise PrinterError("no-printer", "this kiosk has no printer")
    if printer.type == "network":
        # The socket has a timeout, and under eventlet it is green: other requests go on meanwhile.
        _send_network(data, printer)
    elif printer.type == "usb":
        _off_the_loop(lambda: _send_usb(data, printer), printer.timeout * 3)
    else:
        _send_file(data, printer)
    log.info("slip of %d bytes sent to %s", len(data), printer.describe())


def _send_network(data: bytes, printer: PrinterSpec) -> None:
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import Network

    device = Network(printer.host, printer.port, timeout=printer.timeout)
    sent = False
    try:
        device.open()
        if printer.check_status:
            _check_paper(device)
        device._raw(data)
        sent = True
        if printer.check_status:
            # The answer comes after the slip has reached the printer's buffer: it proves the
            # printer took it (a printer that dropped the connection answers nothing).
            _status(device, STATUS_ONLINE)
    except PrinterError as exc:
        exc.sent = sent
        raise
    except DeviceNotFoundError as exc:
        raise PrinterError("unreachable", str(exc).splitlines()[-1].rstrip(")")) from None
    except TimeoutError:
        raise PrinterError("timeout", f"no answer within {printer.timeout:g} s", sent) from None
    except OSError as exc:
        raise PrinterError("connection-lost", str(exc), sent) from None
    finally:
        _close(device)


def _send_usb(data: bytes, printer: PrinterSpec) -> None:
    from escpos.printer import Usb

    # pyusb counts its timeout in milliseconds.
    device = Usb(printer.vendor_id, printer.product_id, timeout=int(printer.timeout * 1000))
    try:
        device.open()
        if printer.check_status:
            _check_paper(device)
        device._raw(data)
    except PrinterError:
        raise
    except Exception as exc:  # pyusb raises its own USBError, DeviceNotFoundError, ...
        if type(exc).__name__ == "NoBackendError":  # pyusb without the C library
            raise PrinterError("usb-error", LIBUSB_MISSING) from None
        raise PrinterError(
            "usb-error", str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
        ) from None
    finally:
        _close(device)


def _send_file(data: bytes, printer: PrinterSpec) -> None:
    """Write to a device file (/dev/usb/lp0) without ever blocking past the timeout.

    python-escpos's File printer opens and writes in blocking mode, and a printer that is off or
    out of paper can hold such a write for ever. Non-blocking I/O with select() waits at most the
    timeout, and under eventlet select() is green: nothing else stops meanwhile.
    """
    deadline = time.monotonic() + printer.timeout
    try:
        fd = os.open(printer.path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise PrinterError("device-error", f"{printer.path}: {exc.strerror}") from None
    try:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PrinterError(
                    "timeout", f"no room in {printer.path} within {printer.timeout:g} s"
                )
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                continue
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
    except OSError as exc:
        raise PrinterError("device-error", f"{printer.path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _status(device, request: bytes) -> int:
    device._raw(request)
    answer = device._read()
    if not answer:
        raise PrinterError("connection-lost", "the printer closed the connection")
    return answer[-1]


def _check_paper(device) -> None:
    status = _status(device, STATUS_PAPER)
    if status & PAPER_END == PAPER_END:
        raise PrinterError("paper-out", "the paper roll is empty")
    if status & PAPER_NEAR_END == PAPER_NEAR_END:
        log.warning("printer paper is running low")


def _close(device) -> None:
    try:
        device.close()
    except Exception:  # closing a broken connection must not hide the real error
        log.debug("closing printer failed", exc_info=True)


def _off_the_loop(job: Callable[[], T], timeout: float) -> T:
    """Run a blocking driver call (pyusb) where it cannot freeze the server.

    Under eventlet a C call would stop every green thread, so it goes to eventlet's OS-thread pool;
    in threading mode a helper thread. Either way the kiosk gets an answer within `timeout`.
    """
    if _eventlet_patched():
        from eventlet import Timeout, tpool

        try:
            with Timeout(timeout):
                return tpool.execute(job)
        except Timeout:
            raise PrinterError("timeout", f"no answer within {timeout:g} s") from None
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = job()
        except BaseException as exc:  # handed over to the waiting thread
            result["error"] = exc

    worker = threading.Thread(target=run, name="printer", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise PrinterError("timeout", f"no answer within {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")  # type: ignore[return-value]


def _eventlet_patched() -> bool:
    if "eventlet" not in sys.modules:
        return False
    from eventlet import patcher

    return patcher.is_monkey_patched("thread")
