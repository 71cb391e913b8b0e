"""Ticket slips: settings validation, the rendered bytes, and sending to a fake network printer."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fake_printer import closed_port, printer_fixture  # noqa: F401 - the `printer` fixture

from server import printing
from server.printing import PrinterError, Slip, parse_kiosks, parse_printer, render_slip

WIB = timezone(timedelta(hours=7))
# A visitor link with its token, as the kiosk prints it (server.ticket_links).
ROOT = Path(__file__).resolve().parent.parent
URL = "http://192.168.1.10:5000/t/2026-11-26/A012/pQ3_xY8-Zr2kLm0N"
SLIP = Slip(
    hall="Mal Pelayanan Publik Kota Uji",
    agency="Dinas Kependudukan dan Pencatatan Sipil",
    service="KTP Elektronik",
    number="A012",
    issued_at=datetime(2026, 11, 26, 9, 5, tzinfo=WIB),
    ahead=3,
    url=URL,
)


def test_slip_carries_hall_service_number_time_queue_and_native_qr():
    data = render_slip(SLIP, parse_printer({"type": "network", "host": "10.0.0.5"}))
    assert b"Mal Pelayanan Publik Kota Uji" in data
    assert b"KTP Elektronik" in data
    assert b"Dinas Kependudukan" in data
    assert b"A012" in data
    assert b"Kamis, 26 November 2026 09.05 WIB" in data
    assert b"3 orang menunggu sebelum Anda" in data
    # GS ( k, store data in the symbol (fn 80 = 'P', m = '0'), then the link itself.
    length = len(URL) + 3
    assert b"\x1d(k" + bytes([length % 256, length // 256]) + b"1P0" + URL.encode() in data
    assert b"\x1d(k\x03\x001Q0" in data  # print the stored symbol
    assert data.rstrip(b"\n").endswith(b"\x1dV\x00") or b"\x1dV" in data[-8:]  # paper cut


def test_big_number_uses_a_custom_size_for_the_roll():
    wide = render_slip(SLIP, parse_printer({"type": "file", "path": "/dev/usb/lp0"}))
    narrow = render_slip(
        SLIP, parse_printer({"type": "file", "path": "/dev/usb/lp0", "paper_width": 58})
    )
    assert re.search(rb"\x1d!\x33(\x1bE\x01)?A012", wide)  # GS ! 4x4 (then bold on)
    assert re.search(rb"\x1d!\x22(\x1bE\x01)?A012", narrow)  # GS ! 3x3 on a 58 mm roll


def test_priority_and_no_one_ahead_are_printed():
    slip = Slip(**{**SLIP.__dict__, "priority": "elderly", "ahead": 0})
    data = render_slip(slip, parse_printer({"type": "network", "host": "10.0.0.5"}))
    assert b"PRIORITAS: Lansia" in data
    assert b"Anda berikutnya" in data


def test_qr_as_image_for_printers_without_native_codes():
    data = render_slip(SLIP, parse_printer({"type": "network", "host": "10.0.0.5", "qr": "image"}))
    assert URL.encode() not in data
    assert b"\x1dv0" in data  # GS v 0: a raster bitmap
    assert b"Pindai" in data


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 26, 20, 43, tzinfo=WIB), "Kamis, 26 November 2026 20.43 WIB"),
        (
            datetime(2026, 1, 4, 7, 0, tzinfo=timezone(timedelta(hours=8))),
            "Minggu, 4 Januari 2026 07.00 WITA",
        ),
        (
            datetime(2026, 8, 17, 10, 0, tzinfo=timezone(timedelta(hours=9))),
            "Senin, 17 Agustus 2026 10.00 WIT",
        ),
    ],
)
def test_local_time_in_indonesian(moment, text):
    assert printing.format_local_time(moment) == text


def test_send_to_network_printer(printer):
    data = render_slip(SLIP, parse_printer(printer.spec))
    printing.send(data, parse_printer(printer.spec))
    (job,) = printer.wait_for(1)
    assert data in job
    assert job.startswith(printing.STATUS_PAPER)  # paper checked before the slip goes out


def test_refused_connection_raises(printer):
    spec = parse_printer({**printer.spec, "port": closed_port()})
    with pytest.raises(PrinterError) as info:
        printing.send(b"x", spec)
    assert info.value.reason == "unreachable"
    assert info.value.sent is False


def test_printer_that_drops_the_connection_raises(printer):
    printer.mode = "close"
    with pytest.raises(PrinterError) as info:
        printing.send(render_slip(SLIP, parse_printer(printer.spec)), parse_printer(printer.spec))
    # The reset may already arrive while connecting: either way the slip did not print.
    assert info.value.reason in ("connection-lost", "unreachable")


def test_a_printer_that_takes_the_slip_but_never_confirms_may_have_printed(printer):
    printer.mode = "drop-after-slip"
    spec = parse_printer(printer.spec)
    with pytest.raises(PrinterError) as info:
        printing.send(render_slip(SLIP, spec), spec)
    assert (info.value.reason, info.value.sent) == ("connection-lost", True)
    (job,) = printer.wait_for(1)
    assert b"A012" in job


def test_silent_printer_times_out(printer):
    printer.mode = "silent"
    spec = parse_printer({**printer.spec, "timeout": 0.3})
    with pytest.raises(PrinterError) as info:
        printing.send(b"x", spec)
    assert info.value.reason == "timeout"


def test_empty_roll_is_refused_before_printing(printer):
    printer.mode = "paper-out"
    spec = parse_printer(printer.spec)
    with pytest.raises(PrinterError) as info:
        printing.send(render_slip(SLIP, spec), spec)
    assert info.value.reason == "paper-out"
    assert info.value.sent is False
    (job,) = printer.wait_for(1)
    assert b"A012" not in job


def test_status_check_can_be_switched_off_for_printers_that_never_answer(printer):
    printer.mode = "silent"
    spec = parse_printer({**printer.spec, "check_status": False})
    printing.send(b"\x1b@hello", spec)
    (job,) = printer.wait_for(1)
    assert job == b"\x1b@hello"


def test_send_to_device_file(tmp_path):
    device = tmp_path / "lp0"
    device.touch()  # a device node exists; a missing one must not be created (see below)
    spec = parse_printer({"type": "file", "path": str(device)})
    printing.send(b"\x1b@slip", spec)
    assert device.read_bytes() == b"\x1b@slip"


@pytest.mark.parametrize("path", ["lp0", "no/lp0"])
def test_missing_device_file_raises_and_is_not_created(tmp_path, path):
    spec = parse_printer({"type": "file", "path": str(tmp_path / path)})
    with pytest.raises(PrinterError) as info:
        printing.send(b"x", spec)
    assert info.value.reason == "device-error"
    assert not (tmp_path / path).exists()  # an unplugged printer must not become a plain file


def test_kiosk_without_printer_cannot_send():
    with pytest.raises(PrinterError):
        printing.send(b"x", parse_printer(None))


def test_kiosks_section_parses():
    kiosks = parse_kiosks(
        {
            "lobby-1": {"name": "Anjungan Lobi", "public_url": "http://192.168.1.10:5000/",
                        "printer": {"type": "network", "host": "192.168.1.50", "paper_width": 58}},
            "lantai-2": {"printer": {"type": "usb", "vendor_id": "04b8", "product_id": 0x0E15}},
            "layar": None,
        }
    )  # fmt: skip
    lobby = kiosks["lobby-1"]
    assert lobby.name == "Anjungan Lobi"
    assert lobby.public_url == "http://192.168.1.10:5000"
    assert (lobby.printer.type, lobby.printer.port, lobby.printer.paper_width) == (
        "network",
        9100,
        58,
    )
    assert (kiosks["lantai-2"].printer.vendor_id, kiosks["lantai-2"].printer.product_id) == (
        0x04B8,
        0x0E15,
    )
    assert not kiosks["layar"].printer.enabled


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ([], "kiosks"),
        ({"Lobby 1": {}}, "kiosks.Lobby 1"),
        ({"k": {"colour": "red"}}, "kiosks.k.colour"),
        ({"k": {"name": ""}}, "kiosks.k.name"),
        ({"k": {"public_url": "192.168.1.10"}}, "kiosks.k.public_url"),
        ({"k": {"printer": {"type": "bluetooth"}}}, "kiosks.k.printer.type"),
        ({"k": {"printer": {"type": "network"}}}, "kiosks.k.printer.host"),
        ({"k": {"printer": {"type": "network", "host": "p", "port": 0}}}, "kiosks.k.printer.port"),
        ({"k": {"printer": {"type": "network", "host": "p", "port": "9100"}}}, "kiosks.k.printer.port"),
        ({"k": {"printer": {"type": "network", "host": "p", "path": "/dev/x"}}}, "kiosks.k.printer.path"),
        ({"k": {"printer": {"type": "network", "host": "p", "timeout": 0}}}, "kiosks.k.printer.timeout"),
        ({"k": {"printer": {"type": "network", "host": "p", "paper_width": 76}}}, "kiosks.k.printer.paper_width"),
        ({"k": {"printer": {"type": "network", "host": "p", "qr": "big"}}}, "kiosks.k.printer.qr"),
        ({"k": {"printer": {"type": "network", "host": "p", "profile": "nope"}}}, "kiosks.k.printer.profile"),
        ({"k": {"printer": {"type": "network", "host": "p", "check_status": "yes"}}}, "kiosks.k.printer.check_status"),
        ({"k": {"printer": {"type": "usb", "vendor_id": "zz", "product_id": 1}}}, "kiosks.k.printer.vendor_id"),
        ({"k": {"printer": {"type": "usb", "vendor_id": 1}}}, "kiosks.k.printer.product_id"),
        ({"k": {"printer": {"type": "file", "path": "lp0"}}}, "kiosks.k.printer.path"),
        ({"k": {"printer": {"type": "none", "host": "p"}}}, "kiosks.k.printer.host"),
    ],
)  # fmt: skip
def test_bad_kiosk_settings_name_the_key(raw, key):
    with pytest.raises(ValueError) as info:
        parse_kiosks(raw)
    assert str(info.value).startswith(key + ":"), str(info.value)


def test_known_profile_is_accepted():
    assert (
        parse_printer({"type": "network", "host": "p", "profile": "TM-T88V"}).profile == "TM-T88V"
    )


EVENTLET_PROBE = """
import sys, time
import eventlet
eventlet.monkey_patch()
from server import printing
from server.printing import PrinterError, parse_printer

ticks = []
def tick():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.05)
eventlet.spawn(tick)
eventlet.sleep(0.1)
spec = parse_printer({"type": sys.argv[1], "host": "127.0.0.1", "port": int(sys.argv[2]), "timeout": 1}
                     if sys.argv[1] == "network" else {"type": "file", "path": sys.argv[2], "timeout": 1})
start = time.monotonic()
try:
    printing.send(b"slip" * 40000, spec)  # more than a pipe holds
    print("printed")
except PrinterError as exc:
    during = [t for t in ticks if t > start]
    print(exc.reason, round(time.monotonic() - start, 1), len(during))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["network", "file"])
def test_a_hanging_printer_does_not_stop_the_eventlet_server(tmp_path, printer, kind):
    """A printer that never answers (network) or a device file with no room (a FIFO nobody
    reads) costs the kiosk its timeout, while every other green thread keeps running."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if kind == "network":
        printer.mode = "silent"
        target = str(printer.port)
    else:
        target = str(tmp_path / "lp0")
        os.mkfifo(target)
        reader = os.open(target, os.O_RDONLY | os.O_NONBLOCK)  # open, but never reads
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            [sys.executable, "-c", EVENTLET_PROBE, kind, target],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        if kind == "file":
            os.close(reader)
    reason, seconds, ticks = out.stdout.split()
    assert reason == "timeout", out.stderr
    assert 0.9 <= float(seconds) <= 2.5
    assert int(ticks) >= 12  # the 50 ms ticker went on while the printer hung


def test_device_file_without_a_printer_behind_it_fails_at_once(tmp_path):
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)  # like a device node whose driver has no printer: nobody at the other end
    with pytest.raises(PrinterError) as info:
        printing.send(b"x", parse_printer({"type": "file", "path": str(fifo)}))
    assert info.value.reason == "device-error"


# --- USB printers --------------------------------------------------------------------------------
# The simplest USB path is the kernel's printer driver (usblp): the printer appears as the device
# file /dev/usb/lp0 and takes raw ESC/POS bytes (type `file`). A temp file or a FIFO stands for it.

PRINTER_MESSAGE = "Printer bermasalah, silakan hubungi petugas."
INIT, FULL_CUT = b"\x1b@", b"\x1dV\x00"  # ESC @ and GS V 0


def usblp_kiosk(app, path) -> None:
    """The test hall's kiosk `lobi` printing to the device file `path`."""
    app.config["PANGGIL_KIOSKS"] = {
        "lobi": {
            "name": "Anjungan Lobi",
            "public_url": "http://192.168.1.10:5000",
            "printer": {"type": "file", "path": str(path), "timeout": 2},
        }
    }
    app.extensions.pop("panggil_kiosks", None)  # re-read the kiosks on the next request


def take_number(client):
    return client.post("/api/kiosk/lobi/tickets", json={"service": "ktp", "priority": None})


def ticket_status(hub, ticket_id: str) -> str:
    return hub.storage.db.execute(
        "SELECT status FROM tickets WHERE id = ?", [ticket_id]
    ).fetchone()[0]


@pytest.mark.parametrize("device", ["file", "fifo"])
def test_kiosk_prints_escpos_to_a_usblp_device_file(app, client, hub, tmp_path, device):
    """A regular file, or a FIFO with a reader behind it (a character device with a printer)."""
    path = tmp_path / "lp0"
    if device == "file":
        path.touch()
    else:
        os.mkfifo(path)
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # the printer, before the kiosk writes
    usblp_kiosk(app, path)
    try:
        r = take_number(client)
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        assert body["printed"] is True and body["ticket"]["number"] == "A001"
        data = path.read_bytes() if device == "file" else os.read(reader, 1 << 16)
    finally:
        if device == "fifo":
            os.close(reader)
    assert data.startswith(INIT)
    assert b"NOMOR ANTREAN" in data and b"A001" in data
    assert b"1P0" + body["visitor_url"].encode() in data  # the native QR code's data
    assert data.endswith(FULL_CUT)
    assert ticket_status(hub, body["ticket"]["id"]) == "waiting"


def unwritable_device(kind: str, tmp_path):
    path = tmp_path / "lp0"
    if kind == "missing":  # the printer is unplugged: the kernel removed /dev/usb/lp0
        return path
    if kind == "no-printer":  # a device node with nobody behind it
        os.mkfifo(path)
        return path
    if kind == "refuses-writes":  # every write fails (ENOSPC), like a printer in error
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full on this system")
        return Path("/dev/full")
    if kind == "read-only":  # the service's user may not write it (no udev rule yet)
        if os.geteuid() == 0:
            pytest.skip("root may write a read-only file")
        path.touch(mode=0o444)
        return path
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "no-printer", "refuses-writes", "read-only"])
def test_unusable_usblp_device_gives_the_printer_error_and_cancels(
    app, client, hub, tmp_path, kind
):
    usblp_kiosk(app, unwritable_device(kind, tmp_path))
    r = take_number(client)
    assert r.status_code == 503
    assert r.get_json() == {"ok": False, "error": "printer-error", "message": PRINTER_MESSAGE}
    assert ticket_status(hub, "2026-11-26/A001") == "cancelled"
    assert hub.hall.waiting_count("ktp") == 0

    # The printer is plugged back in: the next visitor gets a slip (numbers are never reused).
    fixed = tmp_path / "lp1"
    fixed.touch()
    usblp_kiosk(app, fixed)
    r = take_number(client)
    assert r.status_code == 201 and r.get_json()["ticket"]["number"] == "A002"
    assert b"A002" in fixed.read_bytes()


def test_usb_printer_without_pyusb_is_refused_at_start(monkeypatch):
    """Without the `printer-usb` extra every slip would fail: the settings say so instead."""
    for name in ("usb", "usb.core"):
        monkeypatch.setitem(sys.modules, name, None)  # `import usb.core` raises ImportError
    with pytest.raises(ValueError) as info:
        parse_kiosks(
            {"lantai-2": {"printer": {"type": "usb", "vendor_id": "0416", "product_id": "5011"}}}
        )
    message = str(info.value)
    assert message.startswith("kiosks.lantai-2.printer.type:")
    assert "printer-usb" in message and "/dev/usb/lp0" in message
    # The device-file path needs nothing more.
    assert parse_kiosks({"k": {"printer": {"type": "file", "path": "/dev/usb/lp0"}}})["k"].printer


def test_unplugged_usb_printer_raises_a_printer_error():
    """pyusb finds no such device (or no libusb): a PrinterError, never a hang or a crash."""
    spec = parse_printer({"type": "usb", "vendor_id": "0416", "product_id": "5011", "timeout": 1})
    with pytest.raises(PrinterError) as info:
        printing.send(b"\x1b@slip", spec)
    assert info.value.reason == "usb-error"
    assert info.value.detail


def test_printer_usb_extra_brings_pyusb():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(d.replace(" ", "").startswith("python-escpos[usb]") for d in extras["printer-usb"])
    assert not any("usb" in d for d in extras["server"])  # a network-printer hall needs no libusb


def test_udev_rule_gives_the_panggil_user_the_printer():
    rules = [
        line
        for line in (ROOT / "deploy" / "99-panggil-printer.rules").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert rules
    for rule in rules:
        pairs = re.findall(r'([A-Z]+(?:\{\w+\})?)(==|\+=|=)"([^"]*)"', rule)
        assert ", ".join(f'{k}{op}"{v}"' for k, op, v in pairs) == rule.strip(), rule
        keys = {k: v for k, op, v in pairs}
        assert keys.get("GROUP") == "panggil" and keys.get("MODE") == "0660", rule
        assert re.fullmatch(r"[0-9a-f]{4}", keys.get("ATTRS{idVendor}", "")), rule
        assert re.fullmatch(r"[0-9a-f]{4}", keys.get("ATTRS{idProduct}", "")), rule
    assert {rule.split('"')[1] for rule in rules} == {"usb", "usbmisc"}  # libusb and usblp
    kiosk_docs = (ROOT / "docs" / "kiosk.md").read_text()
    assert "99-panggil-printer.rules" in kiosk_docs and "lsusb" in kiosk_docs
