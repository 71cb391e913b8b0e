"""The report API (`GET /api/reports/summary`): the Laporan page's figures as JSON, and who may read it.

An admin's session opens it, and so does a read-only report token (`Authorization: Bearer <token>`)
that an admin made on the Laporan page: the token opens this API and nothing else. Only the
token's SHA-256 is stored: the token is 32 random bytes, so no slow hash is needed to keep a
stolen database from giving it away.

A report reads on a connection of its own (Storage.read_report) and computes outside every lock;
under eventlet the read and the sums run in a real thread (eventlet.tpool), so the TVs and counters
go on being served while a month is summed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from flask import Blueprint, current_app, jsonify, request

from server import reports
from server.hub import Hub
from server.pages.auth import current_user
from server.protocol import PanggilError
from server.tts import run_blocking

log = logging.getLogger(__name__)

bp = Blueprint("report_api", __name__, url_prefix="/api/reports")


def hub() -> Hub:
    return current_app.extensions["panggil"]


def new_token() -> tuple[str, str]:
    """A new report token and the hash that is stored for it."""
    token = "lap_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_reader() -> None:
    """Let an admin's session or a report token through; raise the protocol's refusal otherwise."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header.removeprefix("Bearer ").strip()
        h = hub()
        token_id = h.read(lambda s: s.find_report_token(hash_token(token))) if token else None
        if token_id is None:
            raise PanggilError("invalid-report-token")
        h.write(lambda s: s.mark_report_token_used(token_id, h.now()))
        return
    user = current_user()
    if user is None:
        raise PanggilError("login-required")
    if user["role"] != "admin":
        raise PanggilError("forbidden")


def load_report(
    period: reports.Period, agency: str | None = None, service: str | None = None
) -> reports.Report:
    """Read the period's events in one read transaction and sum them, holding no lock."""
    h = hub()
    first, last = period.first.isoformat(), period.last.isoformat()

    def work() -> reports.Report:
        if h.storage.reads_apart:
            events, rows = h.storage.read_report(first, last)
        else:
            events, rows = h.read(lambda s: s.read_report(first, last))
        catalogue = reports.catalogue_from_rows(rows)
        return reports.summarise(events, catalogue, period, agency=agency, service=service)

    return run_blocking(work)  # a real thread under eventlet: the hub keeps serving


def filters() -> tuple[reports.Period, str | None, str | None]:
    """The request's period and filters (`from`, `to`, `agency`, `service`), checked."""
    period = reports.parse_period(request.args.get("from"), request.args.get("to"))
    return period, request.args.get("agency") or None, request.args.get("service") or None


@bp.get("/summary")
def summary():
    """Every figure of the Laporan page for a period (docs/protocol.md, "Reports")."""
    check_reader()
    period, agency, service = filters()
    report = load_report(period, agency, service)
    return jsonify(ok=True, **reports.report_json(report, hub().tz.key))
