"""Names and error codes shared by every part of Panggil (see docs/protocol.md).

Standard library only: the server, the display and the counter client all install this package
(the server re-exports it as `server.protocol`); `panggil_protocol.stream` holds the clients'
sequencing rule.
"""

from __future__ import annotations

import re

PROTOCOL_VERSION = 1

# Socket.IO namespaces.
NS_DISPLAY = "/display"
NS_COUNTER = "/counter"
# Visitor phones: one ticket and its service's queue summary, not the hall's stream.
NS_VISITOR = "/visitor"

# Broadcast events: facts the server sends, in the past tense. Each carries a seq.
SNAPSHOT = "snapshot"
TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_FINISHED = "ticket_finished"
TICKET_SKIPPED = "ticket_skipped"
TICKET_TRANSFERRED = "ticket_transferred"
TICKET_CANCELLED = "ticket_cancelled"
TICKET_EXPIRED = "ticket_expired"
DAY_CLOSED = "day_closed"
HALL_CHANGED = "hall_changed"
COUNTER_CHANGED = "counter_changed"
# A booking cancelled (server/bookings.py): no ticket changes, but it is stored and takes a seq
# like any event (its webhook `booking.cancelled` reads the events table); screens ignore it.
BOOKING_CANCELLED = "booking_cancelled"
BROADCAST_EVENTS = (
    TICKET_ISSUED,
    TICKET_CALLED,
    TICKET_FINISHED,
    TICKET_SKIPPED,
    TICKET_TRANSFERRED,
    TICKET_CANCELLED,
    TICKET_EXPIRED,
    DAY_CLOSED,
    HALL_CHANGED,
    COUNTER_CHANGED,
    BOOKING_CANCELLED,
)
# Only on /display: the events of one change in one frame, {"events": [message, ...]} in seq
# order; a client applies each message as if it had come alone (docs/protocol.md "Events").
EVENTS = "events"
# Auxiliary event without seq.
ANNOUNCEMENT_READY = "announcement_ready"
# Auxiliary, no seq: the server's clock, every TIME_EVERY_SECONDS on /display (a Pi has no RTC).
SERVER_TIME = "time"
TIME_EVERY_SECONDS = 60

# Only on /visitor (docs/protocol.md): a phone's snapshot, its service's summary and its request.
TICKET_STATUS = "ticket_status"
QUEUE_MOVED = "queue_moved"
GET_STATUS = "get_status"

# Requests a client sends, in the imperative.
GET_SNAPSHOT = "get_snapshot"
CALL_NEXT = "call_next"
RECALL = "recall"
SKIP = "skip"
FINISH = "finish"
TRANSFER = "transfer"
CALL_TICKET = "call_ticket"
PAUSE = "pause"
RESUME = "resume"
SIGN_IN = "sign_in"
SIGN_OUT = "sign_out"
COUNTER_COMMANDS = (
    CALL_NEXT,
    RECALL,
    SKIP,
    FINISH,
    TRANSFER,
    CALL_TICKET,
    PAUSE,
    RESUME,
    SIGN_IN,
    SIGN_OUT,
)

CALL_KINDS = ("call", "recall")
PRIORITIES = ("disability", "elderly", "pregnant")
COUNTER_STATES = ("open", "break")
BREAK_REASONS = ("istirahat", "sholat", "rapat", "lainnya")
TICKET_STATUSES = ("waiting", "called", "done", "skipped", "cancelled", "expired")

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# code -> (HTTP status, Indonesian message). The UI may translate by code.
ERRORS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Permintaan tidak valid."),
    "bad-json": (400, "Isi permintaan bukan JSON yang valid."),
    "csrf-failed": (400, "Formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."),
    "payload-too-large": (413, "Data yang dikirim terlalu besar."),
    "unsupported-media-type": (415, "Isi permintaan harus JSON (Content-Type: application/json)."),
    "not-found": (404, "Alamat tidak ditemukan."),
    "method-not-allowed": (405, "Metode HTTP ini tidak berlaku untuk alamat tersebut."),
    "range-not-satisfiable": (416, "Rentang data yang diminta tidak tersedia."),
    "rate-limited": (429, "Terlalu banyak permintaan. Silakan coba lagi sebentar lagi."),
    "login-required": (401, "Silakan masuk terlebih dahulu."),
    "forbidden": (403, "Akses ditolak."),
    "invalid-token": (401, "Token gerai salah atau tidak ada."),
    "unknown-counter": (404, "Gerai tidak dikenal."),
    "unknown-service": (404, "Layanan tidak dikenal."),
    "unknown-ticket": (404, "Nomor antrean tidak ditemukan hari ini."),
    "service-closed": (409, "Layanan sedang tutup."),
    "outside-hours": (409, "Di luar jam layanan."),
    "quota-reached": (409, "Kuota harian layanan ini sudah habis."),
    "priority-not-allowed": (409, "Layanan ini tidak menerima antrean prioritas."),
    "no-waiting-tickets": (409, "Tidak ada antrean menunggu."),
    "no-current-ticket": (409, "Belum ada nomor yang sedang dilayani."),
    "ticket-not-callable": (409, "Nomor ini tidak sedang menunggu atau dilewati."),
    "service-not-served": (409, "Gerai ini tidak melayani layanan nomor tersebut."),
    "same-service": (409, "Nomor sudah berada di layanan tersebut."),
    "officer-required": (409, "Petugas belum masuk di gerai ini. Masuk dahulu untuk melayani."),
    "already-signed-in": (409, "Petugas ini sudah masuk di gerai ini."),
    "not-signed-in": (409, "Belum ada petugas yang masuk di gerai ini."),
    "officer-busy": (
        409,
        "Petugas masih memegang nomor di gerai lain. Selesaikan, lewati atau alihkan di sana dahulu.",
    ),
    "bad-pin": (401, "Nomor petugas atau PIN salah."),
    "counter-on-break": (409, "Gerai sedang istirahat. Lanjutkan layanan dahulu."),
    "ticket-held": (
        409,
        "Gerai masih memegang nomor yang dipanggil. Selesaikan, lewati atau alihkan dahulu.",
    ),
    "not-on-break": (409, "Gerai tidak sedang istirahat."),
    "already-on-break": (409, "Gerai sudah sedang istirahat."),
    "hall-on-break": (
        409,
        "Mal sedang istirahat; pemanggilan dilanjutkan setelah istirahat selesai.",
    ),
    "request-id-reused": (409, "ID permintaan sudah dipakai untuk perintah lain."),
    "unknown-command": (404, "Perintah tidak dikenal."),
    "malformed-packet": (400, "Paket Socket.IO rusak."),
    "unknown-kiosk": (404, "Anjungan tidak dikenal."),
    "printer-error": (503, "Printer bermasalah, silakan hubungi petugas."),
    "unknown-audio": (404, "Rekaman suara tidak ditemukan."),
    "internal-error": (500, "Terjadi kesalahan pada server. Tidak ada yang diubah."),
    # The satisfaction survey (server/skm.py).
    "survey-not-open": (
        409,
        "Survei untuk nomor ini belum atau tidak lagi dibuka: hanya nomor yang sudah selesai "
        "dilayani hari ini.",
    ),
    "survey-already-answered": (409, "Nomor ini sudah memberi penilaian. Terima kasih."),
    # Period reports (GET /api/reports/...).
    "bad-date": (400, "Tanggal harus berbentuk TTTT-BB-HH, misalnya 2026-12-01."),
    "bad-date-range": (400, "Tanggal awal laporan sesudah tanggal akhirnya."),
    "range-too-long": (400, "Rentang laporan paling lama 366 hari."),
    "unknown-agency": (400, "Instansi tidak dikenal."),
    "invalid-report-token": (401, "Token laporan salah atau sudah dicabut."),
    "already-holding": (409, "Anda sudah memegang nomor untuk layanan ini."),
    "phone-tickets-off": (403, "Pengambilan nomor lewat HP tidak dibuka di mal ini."),
    "device-required": (400, "Buka lagi halaman ambil nomor dari kode QR di pintu masuk."),
    # Visitor phones (/visitor).
    "ticket-ended": (
        410,
        "Nomor antrean ini dari hari layanan yang sudah berakhir; tidak ada lagi yang diikuti.",
    ),
    "too-many-phones": (
        503,
        "Jaringan mal sedang penuh; halaman ini diperbarui setiap 30 detik.",
    ),
    # Several server processes (docs/install.md "A big hall").
    "writer-only": (
        421,
        "Proses server ini hanya melayani layar dan ponsel; loket tersambung ke server utama.",
    ),
    # Pairing a Pi with the admin page's code (POST /api/pair, server/pairing.py).
    "unknown-pairing-code": (404, "Kode pemasangan salah atau sudah dipakai."),
    "pairing-code-expired": (
        410,
        "Kode pemasangan sudah kedaluwarsa. Buat kode baru di halaman admin.",
    ),
    # Bookings (reservasi) and their check-in.
    "unknown-booking": (404, "Kode reservasi tidak ditemukan. Periksa kembali kodenya."),
    "no-bookings": (409, "Layanan ini tidak menerima reservasi."),
    "booking-closed": (
        409,
        "Sesi ini tidak dapat dipesan (sudah lewat, di luar hari buka, atau terlalu jauh).",
    ),
    "session-full": (409, "Kuota sesi ini sudah penuh. Silakan pilih sesi lain."),
    "booking-too-early": (
        409,
        "Check-in reservasi ini belum dibuka. Silakan datang mendekati jam sesi Anda.",
    ),
    "booking-expired": (
        409,
        "Reservasi ini sudah kedaluwarsa atau bukan untuk hari ini. Silakan ambil nomor antrean biasa.",
    ),
    "booking-checked-in": (409, "Reservasi ini sudah check-in."),
    "invalid-booking-token": (401, "Token API reservasi salah atau tidak ada."),
    "booking-cancelled": (
        409,
        "Reservasi ini sudah dibatalkan. Silakan ambil nomor antrean biasa atau pesan sesi lain.",
    ),
    "booking-not-cancellable": (
        409,
        "Reservasi yang sudah check-in atau kedaluwarsa tidak dapat dibatalkan.",
    ),
    # Issue 17: outbound SMS/WhatsApp notices (server/notices.py).
    "bad-phone": (
        400,
        "Nomor HP tidak valid. Masukkan nomor seluler Indonesia, misalnya 0812 3456 7890.",
    ),
    "notices-off": (403, "Pemberitahuan lewat WhatsApp/SMS tidak aktif di tempat ini."),
    # Issue 18: hostile addresses, a full disk.
    "uri-too-long": (414, "Alamat yang diminta terlalu panjang."),
    "storage-full": (
        503,
        "Penyimpanan server penuh: perubahan tidak dapat disimpan dan tidak ada yang diubah. "
        "Hubungi admin.",
    ),
}


class PanggilError(Exception):
    """A failure with a machine code and a human message; state is left unchanged."""

    def __init__(self, code: str, message: str | None = None, **details: object) -> None:
        if code not in ERRORS:
            raise ValueError(f"undeclared error code {code!r}")
        self.code = code
        self.message = message or ERRORS[code][1]
        self.details = details
        super().__init__(f"{code}: {self.message}")

    @property
    def http_status(self) -> int:
        return ERRORS[self.code][0]

    def to_dict(self) -> dict:
        body: dict = {"ok": False, "error": self.code, "message": self.message}
        body.update(self.details)
        return body


def unbatch(data: object) -> list[dict]:
    """The messages of an `events` frame, in order, that carry an event name (a client applies
    each as if it had come alone); anything malformed is left out."""
    items = data.get("events") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [m for m in items if isinstance(m, dict) and isinstance(m.get("event"), str)]
