"""Every word the counter client shows, in Indonesian (default) and English.

Error codes are the protocol's (docs/protocol.md) plus a few of the client's own
(`disconnected`, `busy`, `not-delivered`, ...). Unknown codes fall back to the server's message.
"""

from __future__ import annotations

from collections.abc import Mapping

TEXTS: Mapping[str, Mapping[str, str]] = {
    "id": {
        # connection
        "conn.connecting": "Menyambung ke server…",
        "conn.searching": "Mencari server...",
        "conn.connected": "Tersambung",
        "conn.disconnected": "TERPUTUS dari server — menyambung ulang…",
        "conn.refused": "DITOLAK server: {reason}",
        # status view
        "title": "{counter} · {hall}",
        "current": "Sedang dilayani",
        "current.none": "Belum ada",
        "current.detail": "{service} · dipanggil {time} · panggilan ke-{calls}",
        "waiting": "Menunggu",
        "waiting.unit": "orang",
        "closed": "tutup",
        "served_today": "Dilayani hari ini",
        "skipped": "Dilewati (bisa dipanggil lagi)",
        "skipped.none": "tidak ada",
        "break": "ISTIRAHAT: {reason}",
        "break.until": "kembali {time}",
        "break.since": "sejak {time}",
        "reason.istirahat": "istirahat",
        "reason.sholat": "sholat",
        "reason.rapat": "rapat",
        "reason.lainnya": "lainnya",
        "keys": "Tombol",
        "menu.transfer": "Alihkan {ticket} ke layanan — tekan angka; tombol lain membatalkan:",
        "menu.call_back": "Panggil lagi nomor yang dilewati — tekan angka; tombol lain membatalkan:",
        "sending": "Mengirim: {action}…",
        "retrying": "Koneksi putus saat mengirim — {action} dikirim ulang (sekali) setelah tersambung…",
        # actions
        "action.next": "Panggil berikutnya",
        "action.recall": "Panggil ulang",
        "action.skip": "Lewati",
        "action.finish": "Selesai",
        "action.transfer": "Alihkan",
        "action.call_back": "Panggil nomor",
        "action.pause": "Istirahat",
        "action.pause_until": "Istirahat s.d. jam",
        "action.resume": "Lanjut melayani",
        "action.sign_in": "Masuk petugas",
        "action.sign_out": "Keluar petugas",
        # officers
        "officer": "Petugas: {name}",
        "officer.none": "Petugas: belum ada yang masuk",
        "entry.officer": "Masuk petugas — ketik nomor petugas lalu Enter (Esc batal): {digits}_",
        "entry.pin": "Petugas {officer} — ketik PIN lalu Enter (Esc batal): {masked}_",
        "entry.until": "Istirahat — kembali pukul? ketik 4 angka (1300) lalu Enter (Esc batal): {time}",
        "done.sign_in": "Masuk sebagai {name}",
        "done.sign_out": "Petugas keluar dari gerai",
        "error.bad-pin": "Nomor petugas atau PIN salah",
        "error.rate-limited": "Terlalu banyak PIN salah — coba lagi nanti",
        "error.forbidden": "Petugas ini tidak boleh masuk di gerai ini",
        "error.officer-required": "Belum ada petugas — tekan Masuk petugas dulu",
        "error.already-signed-in": "Petugas ini sudah masuk di gerai ini",
        "error.not-signed-in": "Belum ada petugas yang masuk",
        "error.officer-busy": "Petugas masih memegang nomor di gerai lain — selesaikan di sana dulu",
        # results
        "done.next": "Memanggil {number}",
        "done.next.finished": "Memanggil {number} ({finished} selesai)",
        "done.recall": "Memanggil ulang {number}",
        "done.skip": "{number} dilewati",
        "done.finish": "{number} selesai dilayani",
        "done.transfer": "{number} dialihkan ke {service}",
        "done.pause": "Istirahat dimulai ({reason})",
        "done.resume": "Kembali melayani",
        "done.replayed": " — terkirim setelah koneksi pulih, diterapkan sekali",
        "cancelled": "Dibatalkan",
        # the client's own errors
        "error.disconnected": "Terputus dari server — tombol tidak dikirim",
        "error.busy": "Perintah sebelumnya masih diproses — tombol tidak dikirim",
        "error.not-delivered": "Terputus terlalu lama — perintah mungkin tidak terkirim. "
        "Periksa nomor yang sedang dilayani setelah tersambung.",
        "error.no-skipped": "Tidak ada nomor yang dilewati",
        "error.no-target": "Tidak ada layanan lain yang buka untuk dialihkan",
        # the server's error codes
        "error.bad-request": "Permintaan tidak valid",
        "error.payload-too-large": "Data yang dikirim terlalu besar",
        "error.invalid-token": "Token gerai salah",
        "error.unknown-counter": "Gerai tidak dikenal atau tidak aktif",
        "error.unknown-service": "Layanan tidak dikenal",
        "error.unknown-ticket": "Nomor antrean tidak ditemukan hari ini",
        "error.service-closed": "Layanan sedang tutup",
        "error.no-waiting-tickets": "Tidak ada antrean menunggu",
        "error.no-current-ticket": "Belum ada nomor yang sedang dilayani",
        "error.ticket-not-callable": "Nomor ini tidak sedang menunggu atau dilewati",
        "error.service-not-served": "Gerai ini tidak melayani layanan nomor tersebut",
        "error.same-service": "Nomor sudah berada di layanan tersebut",
        "error.request-id-reused": "ID permintaan sudah dipakai untuk perintah lain",
        "error.internal-error": "Terjadi kesalahan pada server — tidak ada yang diubah",
        "error.counter-on-break": "Gerai sedang istirahat — tekan Lanjut melayani dulu",
        "error.ticket-held": "Masih ada nomor yang dilayani — selesaikan, lewati atau alihkan dulu",
        "error.not-on-break": "Gerai tidak sedang istirahat",
        "error.already-on-break": "Gerai sudah istirahat",
        "error.unknown": "Gagal: {message}",
    },
    "en": {
        "conn.connecting": "Connecting to the server…",
        "conn.searching": "Looking for the server...",
        "conn.connected": "Connected",
        "conn.disconnected": "DISCONNECTED from the server — reconnecting…",
        "conn.refused": "REFUSED by the server: {reason}",
        "title": "{counter} · {hall}",
        "current": "Now serving",
        "current.none": "Nobody",
        "current.detail": "{service} · called {time} · call #{calls}",
        "waiting": "Waiting",
        "waiting.unit": "people",
        "closed": "closed",
        "served_today": "Served today",
        "skipped": "Skipped (can be called back)",
        "skipped.none": "none",
        "break": "ON BREAK: {reason}",
        "break.until": "back at {time}",
        "break.since": "since {time}",
        "reason.istirahat": "break",
        "reason.sholat": "prayer",
        "reason.rapat": "meeting",
        "reason.lainnya": "other",
        "keys": "Keys",
        "menu.transfer": "Transfer {ticket} to a service — press a number; any other key cancels:",
        "menu.call_back": "Call back a skipped ticket — press a number; any other key cancels:",
        "sending": "Sending: {action}…",
        "retrying": "Connection lost while sending — {action} will be resent (once) when reconnected…",
        "action.next": "Call next",
        "action.recall": "Recall",
        "action.skip": "Skip",
        "action.finish": "Finish",
        "action.transfer": "Transfer",
        "action.call_back": "Call number",
        "action.pause": "Break",
        "action.pause_until": "Break until",
        "action.resume": "Resume",
        "action.sign_in": "Officer sign-in",
        "action.sign_out": "Officer sign-out",
        "officer": "Officer: {name}",
        "officer.none": "Officer: nobody signed in",
        "entry.officer": "Officer sign-in — type your officer number, then Enter (Esc cancels): {digits}_",
        "entry.pin": "Officer {officer} — type your PIN, then Enter (Esc cancels): {masked}_",
        "entry.until": "Break — back at? type 4 digits (1300), then Enter (Esc cancels): {time}",
        "done.sign_in": "Signed in as {name}",
        "done.sign_out": "Officer signed out of the counter",
        "error.bad-pin": "Wrong officer number or PIN",
        "error.rate-limited": "Too many wrong PINs — try again later",
        "error.forbidden": "This officer may not sign in at this counter",
        "error.officer-required": "No officer signed in — press Officer sign-in first",
        "error.already-signed-in": "This officer is already signed in here",
        "error.not-signed-in": "Nobody is signed in",
        "error.officer-busy": "The officer still holds a ticket at another counter — finish it there first",
        "done.next": "Calling {number}",
        "done.next.finished": "Calling {number} ({finished} finished)",
        "done.recall": "Calling {number} again",
        "done.skip": "{number} skipped",
        "done.finish": "{number} finished",
        "done.transfer": "{number} transferred to {service}",
        "done.pause": "Break started ({reason})",
        "done.resume": "Serving again",
        "done.replayed": " — delivered after the connection came back, applied once",
        "cancelled": "Cancelled",
        "error.disconnected": "Disconnected from the server — key not sent",
        "error.busy": "The previous command is still being processed — key not sent",
        "error.not-delivered": "Disconnected for too long — the command may not have been sent. "
        "Check the ticket being served once reconnected.",
        "error.no-skipped": "No skipped tickets",
        "error.no-target": "No other open service to transfer to",
        "error.bad-request": "Invalid request",
        "error.payload-too-large": "The data sent is too large",
        "error.invalid-token": "Wrong counter token",
        "error.unknown-counter": "Unknown or inactive counter",
        "error.unknown-service": "Unknown service",
        "error.unknown-ticket": "No such ticket today",
        "error.service-closed": "The service is closed",
        "error.no-waiting-tickets": "Nobody is waiting",
        "error.no-current-ticket": "No ticket is being served",
        "error.ticket-not-callable": "That ticket is not waiting or skipped",
        "error.service-not-served": "This counter does not serve that ticket's service",
        "error.same-service": "The ticket is already in that service",
        "error.request-id-reused": "Request id already used for another command",
        "error.internal-error": "Server error — nothing was changed",
        "error.counter-on-break": "The counter is on break — press Resume first",
        "error.ticket-held": "A ticket is still being served — finish, skip or transfer it first",
        "error.not-on-break": "The counter is not on break",
        "error.already-on-break": "The counter is already on break",
        "error.unknown": "Failed: {message}",
    },
}

# How keys are shown in the help line.
KEY_LABELS: Mapping[str, str] = {
    "enter": "Enter",
    "backspace": "⌫",
    "delete": "Del",
    "esc": "Esc",
    "tab": "Tab",
    "space": "Spasi",
}


class Texts:
    """Looks up and fills in the words of one language."""

    def __init__(self, language: str = "id") -> None:
        self.language = language
        self.table = TEXTS[language]

    def __call__(self, key: str, **values: object) -> str:
        return self.table[key].format(**values)

    def error(self, code: str, server_message: str | None = None) -> str:
        """The message for an error code; the server's own text when the code is new to us."""
        key = f"error.{code}"
        if key in self.table:
            return self.table[key]
        return self.table["error.unknown"].format(message=server_message or code)

    def action(self, action: str) -> str:
        return self.table[f"action.{action.split(':', 1)[0]}"]

    def reason(self, reason: object) -> str:
        """A break reason in words; one this client does not know is shown as the server sent it."""
        return self.table.get(f"reason.{reason}", str(reason or "")) or self.table["reason.lainnya"]
