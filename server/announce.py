"""The Indonesian text of a call announcement, built from a template.

Pure: no I/O, no clock. Every Indonesian word the voice speaks lives here (besides the templates an
admin writes), so the rest of the voice code stays in English. The sentences' defaults and the
rules a template must follow live here too: config.yaml, the voice module and the admin form all
ask this module.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from num2words import num2words

DEFAULT_TEMPLATE = "Nomor antrean {ticket}, silakan ke {counter}."
DEFAULT_RECALL_TEMPLATE = "Panggilan ulang, nomor antrean {ticket}, silakan ke {counter}."

# The fields a template may use; anything else is a configuration error naming the field.
TEMPLATE_FIELDS = ("ticket", "counter", "service", "agency")

NUMBER_MODES = ("words", "digits")
DEFAULT_NUMBER_MODE = "words"

# Synthesisers misread bare letters ("A" as the English article), so a prefix is sent as the
# Indonesian name of each letter (shared/DOMAIN.md).
LETTER_NAMES: dict[str, str] = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge",
    "H": "ha", "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en",
    "O": "o", "P": "pe", "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u",
    "V": "ve", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
}  # fmt: skip

DIGIT_NAMES = (
    "nol",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
)

# Used when a counter has no spoken name: "gerai" + its number in words.
COUNTER_WORD = "gerai"

# Spoken (and thrown away) at start-up to load the offline voice's data.
WARM_UP_TEXT = "siap"

# The HTTP message for an unknown audio key (see server/audio.py), kept with the other Indonesian.
UNKNOWN_AUDIO_MESSAGE = "Rekaman suara tidak ditemukan."

_TICKET_RE = re.compile(r"^([A-Za-z]{0,2})([0-9]+)$")


@dataclass(frozen=True)
class TextSettings:
    """What shapes the announcement text (a subset of the `voice` settings)."""

    template: str = DEFAULT_TEMPLATE
    recall_template: str = DEFAULT_RECALL_TEMPLATE
    number_mode: str = DEFAULT_NUMBER_MODE


class TemplateError(ValueError):
    """A template no sentence can be made from; `code` says why, `field` names the field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code  # malformed, unknown-field, format-spec or no-ticket
        self.field = field


def check_template(template: str, *, require_ticket: bool = False) -> None:
    """Raise TemplateError (a ValueError) naming the first field a template may not use.

    Only bare names are allowed: attribute access or indexing (`{ticket.__class__}`) would let a
    template read Python objects, and format specs have no use on spoken words. The admin form
    also requires {ticket} (a sentence without the number is surely a slip); config.yaml never
    has, so it stays optional there.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError("malformed", f"malformed template: {exc}") from None
    used = [(field, spec, conversion) for _literal, field, spec, conversion in parsed
            if field is not None]  # fmt: skip
    for field, _spec, _conversion in used:
        if field not in TEMPLATE_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            raise TemplateError(
                "unknown-field", f"unknown field {{{field}}} (allowed: {allowed})", field
            )
    for field, spec, conversion in used:
        if spec or conversion:
            raise TemplateError(
                "format-spec", f"field {{{field}}} takes no format spec or conversion", field
            )
    if require_ticket and "ticket" not in {field for field, _spec, _conversion in used}:
        raise TemplateError("no-ticket", "the sentence must say the number: put {ticket} in it")


def spell_letters(prefix: str) -> str:
    """Spell a ticket prefix by Indonesian letter names: "PK" -> "pe ka", "A" -> "A"."""
    names = []
    for letter in prefix.upper():
        if letter not in LETTER_NAMES:
            raise ValueError(f"not a letter A-Z: {letter!r}")
        name = LETTER_NAMES[letter]
        # A vowel's name is the vowel itself; written as a capital it reads the same and the text
        # matches what the screen shows ("Nomor antrean A dua belas").
        names.append(letter if name == letter.lower() else name)
    return " ".join(names)


def say_number(digits: str, number_mode: str = DEFAULT_NUMBER_MODE) -> str:
    """Say a run of digits: as a number without leading zeros ("012" -> "dua belas") or digit by
    digit ("012" -> "nol satu dua")."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not a number: {digits!r}")
    if number_mode == "digits":
        return " ".join(DIGIT_NAMES[int(d)] for d in digits)
    if number_mode == "words":
        return num2words(int(digits), lang="id")
    raise ValueError(f"unknown number mode {number_mode!r} (use one of {', '.join(NUMBER_MODES)})")


def say_ticket(number: str, number_mode: str = DEFAULT_NUMBER_MODE) -> str:
    """Say a ticket number: "A012" -> "A dua belas", "PK7" -> "pe ka tujuh"."""
    match = _TICKET_RE.match(number.strip())
    if not match:
        raise ValueError(f"not a ticket number: {number!r}")
    prefix, digits = match.groups()
    spoken_digits = say_number(digits, number_mode)
    return f"{spell_letters(prefix)} {spoken_digits}" if prefix else spoken_digits


def say_counter(counter: dict) -> str:
    """The counter's spoken name, or "gerai" and its number in words when it has none."""
    spoken = (counter.get("spoken_name") or "").strip()
    if spoken:
        return spoken
    return f"{COUNTER_WORD} {num2words(int(counter['number']), lang='id')}"


def announcement_text(call: dict, settings: TextSettings) -> str:
    """The sentence to speak for a call object of docs/protocol.md."""
    service = call.get("service") or {}
    template = settings.recall_template if call.get("kind") == "recall" else settings.template
    fields = {
        "ticket": say_ticket(call["ticket"]["number"], settings.number_mode),
        "counter": say_counter(call["counter"]),
        # A catalogue may give a spoken form; acronyms such as "KTP" are read badly otherwise.
        "service": service.get("spoken_name") or service.get("name") or "",
        "agency": service.get("agency_spoken_name")
        or service.get("agency_name")
        or service.get("agency")
        or "",
    }
    return _tidy(template.format(**fields))


def plain_text(call: dict) -> str:
    """The sentence shown when no voice engine is configured: the default template, with the
    number as written ("A012") and the counter's name, since nobody hears it."""
    template = DEFAULT_RECALL_TEMPLATE if call["kind"] == "recall" else DEFAULT_TEMPLATE
    counter = call["counter"]["spoken_name"] or call["counter"]["name"]
    return template.format(ticket=call["ticket"]["number"], counter=counter, service="", agency="")


def fallback_text(call: dict) -> str:
    """Last resort when the template cannot be filled: what the screen shows, never empty."""
    ticket = (call.get("ticket") or {}).get("number") or ""
    counter = (call.get("counter") or {}).get("name") or ""
    return f"{ticket} {counter}".strip() or "-"


def texts_for_ticket(
    ticket_number: str,
    counters: list[dict],
    settings: TextSettings,
    service: dict | None = None,
    kinds: tuple[str, ...] = ("call",),
) -> list[str]:
    """Every text a ticket may be announced with, one per counter (and kind), for synthesis ahead
    of time."""
    texts: list[str] = []
    for counter in counters:
        for kind in kinds:
            call = {
                "kind": kind,
                "ticket": {"number": ticket_number},
                "counter": counter,
                "service": service or {},
            }
            text = announcement_text(call, settings)
            if text not in texts:
                texts.append(text)
    return texts


def _tidy(text: str) -> str:
    # A control character stored in a name (a NUL ends espeak-ng's C string: the rest of the
    # sentence would never be spoken) is a space.
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]", " ", text)
    # An empty optional field ({service} with no service) must not leave ", ," or double spaces.
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.!?])", r"\1", text)
    text = re.sub(r",(\s*,)+", ",", text)
    return text.strip()


# --- outbound notices (server/notices.py): short SMS/WhatsApp texts from the hall's own data ---


def notice_almost(hall: str, number: str, ahead: int, service: str) -> str:
    """The "almost your turn" message a visitor's phone receives."""
    if ahead <= 0:
        return f"{hall}: nomor {number}, giliran Anda berikutnya ({service}). Mohon menuju ruang tunggu."
    return (
        f"{hall}: nomor {number}, {ahead} orang lagi sebelum giliran Anda ({service}). "
        "Mohon menuju ruang tunggu."
    )


def notice_called(hall: str, number: str, counter: str) -> str:
    """The message sent when the visitor's number is called."""
    return f"{hall}: nomor {number} dipanggil ke {counter}."


def notice_test(hall: str) -> str:
    """The admin's test message to the gateway."""
    return f"{hall}: pesan uji pemberitahuan antrean. Gateway WhatsApp/SMS berfungsi."
