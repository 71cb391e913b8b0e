"""The survey's shell: store an answer under the hub's lock, and read the figures for a period.

The rules (which ticket may be rated, the formula, the grades, the minimum sample) are the pure
core in server/skm.py; the SQL is in server/storage.py. An answer is written in one transaction
under the hub's lock: the checks (done, today, not answered, the tablet's last ticket) and the
insert see the same database, and the UNIQUE constraint on the ticket holds even so.

A survey tablet at a counter holds the counter's *tablet token*: an HMAC of the counter's number
and device token with the server's key. It can rate only the ticket its counter finished last
(skm.check_tablet), not call or finish anything: the device token itself never reaches the tablet.
Regenerating the counter's device token changes the tablet token too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from server import engine, skm
from server.hub import Hub
from server.protocol import PanggilError
from server.storage import SURVEY_COLUMNS, Storage, SurveyAlreadyAnswered

TOKEN_LENGTH = 16
PURPOSE = b"panggil-survey-tablet:"
# The longest period a report reads at once (a year and a day: a leap year's whole year).
MAX_DAYS = 366


def tablet_token(secret_key: str | bytes, counter: int, device_token: str) -> str:
    """The token of a counter's survey tablet (shown on the admin's SKM page)."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    message = PURPOSE + f"{counter}:{device_token}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def check_tablet_token(hub: Hub, secret_key: str | bytes, counter: int, token: object) -> None:
    """Raise invalid-token unless `token` is the counter's tablet token (constant time)."""
    device = hub.tokens.get(counter)
    if device is None or not isinstance(token, str) or not 0 < len(token) <= 64:
        raise PanggilError("invalid-token")
    expected = tablet_token(secret_key, counter, device)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise PanggilError("invalid-token")


def record(
    hub: Hub, ticket_id: str, answer: Mapping, channel: str, counter: int | None = None
) -> dict:
    """Store one answer for a ticket; `counter` is the tablet's counter (None: the phone).

    `answer` has `answers` (nine 1-4) and the optional profile and comment, already checked by
    server/schemas.py. Returns what was stored (without the comment).
    """
    answers = skm.check_answers(answer["answers"])

    def work(storage: Storage) -> dict:
        now = hub.now()
        ticket = storage.find_ticket(ticket_id, hub.tz)
        if ticket is None:
            raise PanggilError("unknown-ticket")
        found = engine.ticket_dict(ticket)
        skm.check_open(found, hub.hall.day, storage.survey_answered(ticket_id))
        if counter is not None:
            skm.check_tablet(found, storage.last_finished_ticket(hub.hall.day, counter), now)
        service = hub.hall.services.get(ticket.service)
        row = {
            "ticket": ticket.id,
            "day": ticket.day,
            "service": ticket.service,
            "agency": service.agency if service else None,
            "counter": ticket.counter,
            "officer": ticket.finished_by.id if ticket.finished_by else None,
            "channel": channel,
            **dict(zip(SURVEY_COLUMNS, answers)),
            "age": answer.get("age"),
            "sex": answer.get("sex"),
            "education": answer.get("education"),
            "occupation": answer.get("occupation"),
            "comment": answer.get("comment"),
            "answered_at": now.isoformat(timespec="seconds"),
        }
        try:
            storage.add_survey_answer(row)
        except SurveyAlreadyAnswered:
            raise PanggilError("survey-already-answered") from None
        return row

    row = hub.write(work)
    return {k: v for k, v in row.items() if k != "comment"}


def answered(hub: Hub, ticket_id: str) -> bool:
    return bool(hub.read(lambda s: s.survey_answered(ticket_id)))


# --- the figures ------------------------------------------------------------------------------


def period(first: str | None, last: str | None) -> tuple[str, str]:
    """A report's period as two ISO days, or bad-request (first after last, over MAX_DAYS)."""
    try:
        start = date.fromisoformat(first or "")
        end = date.fromisoformat(last or "")
    except ValueError:
        raise PanggilError(
            "bad-request", "Kolom 'from' dan 'to' wajib diisi dengan tanggal YYYY-MM-DD."
        ) from None
    if end < start or (end - start).days >= MAX_DAYS:
        raise PanggilError(
            "bad-request", f"Periode tidak valid: 'from' sebelum 'to', paling lama {MAX_DAYS} hari."
        )
    return start.isoformat(), end.isoformat()


def result_dict(result: skm.Result, population: int) -> dict:
    """One group's figures as the API and the admin page show them."""
    minimum = skm.minimum_sample(population)
    return {
        "ikm": float(result.ikm) if result.ikm is not None else None,
        "grade": result.grade,
        "grade_label": result.grade_label,
        "respondents": result.respondents,
        "population": population,
        "minimum_sample": minimum,
        "enough": result.respondents >= minimum and result.respondents > 0,
        "elements": [
            {"code": e.code, "name": e.name, "nrr": round(float(e.nrr), 4),
             "ikm": float(e.ikm), "grade": e.grade, "grade_label": e.grade_label}
            for e in result.elements
        ],
    }  # fmt: skip


def _answers(rows: Iterable[Mapping]) -> list[tuple[int, ...]]:
    return [tuple(r[c] for c in SURVEY_COLUMNS) for r in rows]


def report(hub: Hub, first: str, last: str, service: str | None = None,
           agency: str | None = None) -> dict:  # fmt: skip
    """The figures for the days first..last: the whole (filtered) set, per agency, per service,
    with the free comments (newest first)."""
    rows, finished = hub.read(
        lambda s: (s.survey_answers(first, last), s.finished_per_service(first, last))
    )
    services = hub.hall.services
    agencies = hub.hall.agencies

    def agency_of(code: str, stored: str | None = None) -> str:
        found = services.get(code)
        return found.agency if found else (stored or "")

    def wanted(code: str, stored_agency: str | None = None) -> bool:
        return (service is None or code == service) and (
            agency is None or agency_of(code, stored_agency) == agency
        )

    rows = [r for r in rows if wanted(r["service"], r["agency"])]
    finished = {code: n for code, n in finished.items() if wanted(code)}
    whole = result_dict(skm.compute(_answers(rows)), sum(finished.values()))
    by_service = []
    for code in sorted(
        set(finished) | {r["service"] for r in rows}, key=_catalogue_order(services)
    ):
        mine = [r for r in rows if r["service"] == code]
        found = services.get(code)
        by_service.append({
            "service": code, "name": found.name if found else code, "agency": agency_of(code),
            **result_dict(skm.compute(_answers(mine)), finished.get(code, 0)),
        })  # fmt: skip
    by_agency = []
    for code in sorted({s["agency"] for s in by_service}, key=_catalogue_order(agencies)):
        mine = [r for r in rows if agency_of(r["service"], r["agency"]) == code]
        population = sum(n for s, n in finished.items() if agency_of(s) == code)
        found_agency = agencies.get(code)
        by_agency.append({
            "agency": code, "name": found_agency.name if found_agency else code,
            **result_dict(skm.compute(_answers(mine)), population),
        })  # fmt: skip
    comments = [
        {"day": r["day"], "service": r["service"], "answered_at": r["answered_at"],
         "comment": r["comment"]}
        for r in reversed(rows) if r["comment"]
    ]  # fmt: skip
    return {"from": first, "to": last, "service": service, "agency": agency, **whole,
            "by_agency": by_agency, "by_service": by_service, "comments": comments}  # fmt: skip


def _catalogue_order(catalogue: Mapping) -> Callable[[str], tuple[int, str]]:
    """A sort key: the catalogue's order first, then any code it no longer has, by name."""
    order = {code: i for i, code in enumerate(catalogue)}
    return lambda code: (order.get(code, len(order)), code)
