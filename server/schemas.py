"""What each request may carry: one model per HTTP body and per socket event payload.

The shells (api.py, events.py, the kiosk's take_ticket) check what arrives here before anything
reaches the Hub, so the engine only ever sees well-formed values. Every model is strict (no
"5" for 5, no list for a string), forbids unknown keys, bounds every length and number, and
refuses text with control characters (NUL included) or lone surrogates: such a string cannot be
stored by SQLite nor written into a UTF-8 response, which is what turned bad input into 500s.

A refusal is a PanggilError: `bad-json` when an HTTP body is not JSON at all (invalid UTF-8,
JSON nested deeper than the parser's limit, trailing junk), `bad-request` otherwise. The message
is Indonesian and names the field, but never repeats what was sent: a lone surrogate or a megabyte
of text must not travel back into a response or a log line.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from server import protocol
from server.protocol import PanggilError

# C0 controls, DEL and the surrogate block: never part of a name, a code or a token.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _clean(value: str) -> str:
    if _UNSAFE.search(value):
        raise ValueError("control character or lone surrogate")
    return value


def _text(limit: int, pattern: str | None = None) -> object:
    """A stripped, non-empty string of at most `limit` characters, clean of unsafe characters."""
    constraints = StringConstraints(
        strip_whitespace=True, min_length=1, max_length=limit, pattern=pattern
    )
    return Annotated[str, constraints, AfterValidator(_clean)]


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


ServiceCode = _text(40)
TicketNumber = _text(8)
RequestId = _text(64, protocol.REQUEST_ID_RE.pattern)
Token = _text(128)
DisplayName = Annotated[_text(60) | None, BeforeValidator(_blank_is_none)]  # blank: anonymous
# The Panggil version a display or counter client runs ("0.2.0"); older clients send none.
DeviceVersion = _text(40, r"^[0-9A-Za-z.+_-]+$") | None  # type: ignore[operator]
Priority = Annotated[Literal[protocol.PRIORITIES] | None, BeforeValidator(_empty_is_none)]  # type: ignore[valid-type]
ClockTime = _text(5, r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # "13:00", a return time
# A counter number as the protocol has it (1..999), or as text ("5") from a form or a URL; text that
# is not a number reaches hub.check_token, which answers unknown-counter.
CounterNumber = Annotated[int, Field(ge=1, le=999)] | _text(16)  # type: ignore[operator]


class Request(BaseModel):
    """A request's payload: strict types, no unknown keys, immutable once checked."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- HTTP bodies ------------------------------------------------------------------------------


class IssueTicket(Request):
    """POST /api/tickets: a visitor (or a script) takes a number."""

    service: ServiceCode  # type: ignore[valid-type]
    priority: Priority = None


class KioskTicket(IssueTicket):
    """POST /api/kiosk/<kiosk id>/tickets: a kiosk takes a number and prints it."""


class CancelTicket(Request):
    """POST /api/tickets/<day>/<number>/cancel: a counter withdraws a waiting ticket."""

    request_id: RequestId | None = None  # type: ignore[valid-type]


class TicketRef(Request):
    """The <day>/<number> of a ticket's URL (GET /api/tickets/..., .../cancel)."""

    day: _text(10, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # type: ignore[valid-type]
    number: _text(8, r"^[A-Za-z]{0,2}[0-9]{1,6}$")  # type: ignore[valid-type]


# --- counter commands (socket events on /counter and POST /api/counters/<n>/<command>) --------


class CounterCommand(Request):
    """A counter's press: every command carries a request id so a retry is applied once."""

    request_id: RequestId  # type: ignore[valid-type]


class CallNext(CounterCommand):
    """call_next: the next ticket of the counter's services."""


class Recall(CounterCommand):
    """recall: call the held ticket again."""


class Skip(CounterCommand):
    """skip: the held ticket did not come."""


class Finish(CounterCommand):
    """finish: the held ticket was served."""


class Transfer(CounterCommand):
    """transfer: send the held ticket to another service."""

    service: ServiceCode  # type: ignore[valid-type]


class CallTicket(CounterCommand):
    """call_ticket: call a given waiting or skipped ticket."""

    number: TicketNumber  # type: ignore[valid-type]


class Pause(CounterCommand):
    """pause: the officer takes a break, with a reason and perhaps a return time."""

    reason: Literal[protocol.BREAK_REASONS]  # type: ignore[valid-type]
    until: ClockTime | None = None  # type: ignore[valid-type]


class Resume(CounterCommand):
    """resume: the officer is back; the counter calls again."""


class SignIn(CounterCommand):
    """sign_in: an officer takes the desk. The keypad sends the officer's number (their user id)
    and PIN; the console sends neither and is signed in as its web session's user."""

    officer: Annotated[int, Field(ge=1, le=999_999_999)] | None = None
    pin: _text(8, r"^[0-9]{4,8}$") | None = None  # type: ignore[valid-type]


class SignOut(CounterCommand):
    """sign_out: the officer leaves the desk."""


COMMANDS: dict[str, type[CounterCommand]] = {
    protocol.CALL_NEXT: CallNext,
    protocol.RECALL: Recall,
    protocol.SKIP: Skip,
    protocol.FINISH: Finish,
    protocol.TRANSFER: Transfer,
    protocol.CALL_TICKET: CallTicket,
    protocol.PAUSE: Pause,
    protocol.RESUME: Resume,
    protocol.SIGN_IN: SignIn,
    protocol.SIGN_OUT: SignOut,
}


# --- socket connections and the other events --------------------------------------------------


class DisplayAuth(Request):
    """The auth object of a /display connection: an optional name the admin may have set up."""

    display: DisplayName = None  # type: ignore[valid-type]
    version: DeviceVersion = None  # type: ignore[valid-type]


class CounterAuth(Request):
    """The auth object of a /counter connection: the counter's number and its token."""

    counter: CounterNumber  # type: ignore[valid-type]
    token: Token  # type: ignore[valid-type]
    version: DeviceVersion = None  # type: ignore[valid-type]


class GetSnapshot(Request):
    """get_snapshot on either namespace: no data (null or {})."""


# --- the satisfaction survey (server/skm.py, server/pages/survey.py) ---------------------------

SurveyScore = Annotated[int, Field(ge=1, le=4)]
_UNSAFE_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # line breaks are allowed


def _clean_comment(value: str) -> str:
    if _UNSAFE_IN_TEXT.search(value):
        raise ValueError("control character or lone surrogate")
    return value


SurveyComment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_clean_comment),
]


class SurveyAnswer(Request):
    """A survey answer: the nine elements U1-U9 (1-4) in order, the optional respondent profile
    (the regulation's lists, see server/skm.py) and an optional comment of at most 500 characters."""

    answers: Annotated[list[SurveyScore], Field(min_length=9, max_length=9)]
    age: Annotated[Literal["<20", "20-29", "30-39", "40-49", "50-59", "60+"] | None,
                   BeforeValidator(_empty_is_none)] = None  # fmt: skip
    sex: Annotated[Literal["L", "P"] | None, BeforeValidator(_empty_is_none)] = None
    education: Annotated[Literal["SD", "SMP", "SMA", "S1", "S2", "S3"] | None,
                         BeforeValidator(_empty_is_none)] = None  # fmt: skip
    occupation: Annotated[Literal["PNS", "TNI", "POLRI", "SWASTA", "WIRAUSAHA", "LAINNYA"] | None,
                          BeforeValidator(_empty_is_none)] = None  # fmt: skip
    comment: Annotated[SurveyComment | None, BeforeValidator(_blank_is_none)] = None  # type: ignore[valid-type]


class SurveyFromPhone(SurveyAnswer):
    """POST /api/survey/tickets/<day>/<number>: the visitor's phone, with the ticket's token."""

    token: Token  # type: ignore[valid-type]


class SurveyFromTablet(SurveyAnswer):
    """POST /api/survey/counters/<n>: a counter's survey tablet, with its tablet token and the
    ticket it was told the counter finished."""

    token: Token  # type: ignore[valid-type]
    ticket: _text(20, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}/[A-Za-z]{0,2}[0-9]{1,6}$")  # type: ignore[valid-type]


# --- checking ---------------------------------------------------------------------------------

M = TypeVar("M", bound=Request)


def check(model: type[M], data: object) -> M:
    """`data` (already decoded, e.g. a socket event's argument) as the model, or bad-request."""
    try:
        return model.model_validate(data)
    except (ValidationError, RecursionError) as exc:
        raise refusal(model, exc) from None


def check_json(model: type[M], raw: bytes) -> M:
    """An HTTP body (bytes) as the model: bad-json if it is not JSON, bad-request otherwise.

    Parsed by pydantic's own JSON reader, which bounds nesting depth and rejects invalid UTF-8 and
    lone surrogate escapes, instead of the standard library's, whose RecursionError on deep
    nesting escaped Flask's get_json(silent=True) as a 500.
    """
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors(include_input=False)):
            raise PanggilError("bad-json") from None
        raise refusal(model, exc) from None


def refusal(model: type[Request], exc: Exception) -> PanggilError:
    """The bad-request error for a failed check, naming the field but never echoing the input."""
    errors = exc.errors(include_input=False) if isinstance(exc, ValidationError) else []
    if not errors or not errors[0]["loc"]:
        return PanggilError("bad-request", "Isi permintaan harus berupa objek JSON.")
    first = errors[0]
    field = first["loc"][0]
    if first["type"] == "extra_forbidden" or field not in model.model_fields:
        allowed = ", ".join(model.model_fields) or "tidak ada"
        return PanggilError(
            "bad-request", f"Ada kolom yang tidak dikenal (kolom yang boleh: {allowed})."
        )
    if first["type"] == "missing":
        return PanggilError("bad-request", f"Kolom '{field}' wajib diisi.")
    return PanggilError("bad-request", f"Kolom '{field}' tidak valid.")


# --- visitor phones (/visitor, server/visitor_events.py) ----------------------------------------


class VisitorAuth(Request):
    """The auth object of a /visitor connection: the slip's ticket and its token (the QR's URL).

    Without a token: a typed-in number's page, told only what the TV shows (its calls)."""

    day: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    number: Annotated[str, Field(pattern=r"^[A-Za-z]{1,2}\d{3,6}$")]
    token: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class GetStatus(Request):
    """get_status on /visitor: no data (null or {})."""


# --- pairing a device (POST /api/pair, server/pairing.py) ----------------------------------------


class PairRequest(Request):
    """POST /api/pair: a Pi trades the code shown on the admin's page for its settings."""

    code: Annotated[str, Field(pattern=r"^\d{6}$")]
    kind: Literal["counter", "display"]


# --- bookings (server/bookings.py, server/pages/booking.py) ---------------------------------------

OptionalText = Annotated[_text(80) | None, BeforeValidator(_blank_is_none)]  # type: ignore[operator]
Phone = Annotated[_text(20, r"^\+?[0-9 ]{6,19}$") | None, BeforeValidator(_blank_is_none)]  # type: ignore[operator]
IdLast4 = Annotated[_text(4, r"^[0-9]{4}$") | None, BeforeValidator(_blank_is_none)]  # type: ignore[operator]


class NewBooking(Request):
    """POST /api/reservasi (the public booking page): a session of a service on a day.

    Of an ID number only its last four digits are accepted (`id_last4`): never a whole NIK.
    """

    service: ServiceCode  # type: ignore[valid-type]
    day: _text(10, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # type: ignore[valid-type]
    session: _text(11, r"^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$")  # type: ignore[valid-type]
    name: OptionalText = None
    phone: Phone = None
    id_last4: IdLast4 = None
    notify: bool = False  # consent: the phone gets SMS/WhatsApp notices once checked in


class ImportBooking(NewBooking):
    """POST /api/bookings (an external booking system, bearer token): idempotent by external_id."""

    external_id: _text(64, r"^[A-Za-z0-9._:/-]+$")  # type: ignore[valid-type]


class CheckIn(Request):
    """POST /api/kiosk/<kiosk id>/checkin and the console's check-in: a typed or scanned code."""

    code: _text(200)  # type: ignore[valid-type]


class CancelBooking(Request):
    """POST /api/reservasi/<code>/cancel (the visitor's page): the same code again, as JSON."""

    code: _text(200)  # type: ignore[valid-type]


# --- outbound notices (server/pages/visitor_contact.py) --------------------------------------------


class TicketContact(Request):
    """POST /t/<day>/<number>/<token>/contact as JSON: a mobile number, or null to remove it."""

    phone: Annotated[_text(30) | None, BeforeValidator(_blank_is_none)]  # type: ignore[operator]
