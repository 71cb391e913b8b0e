"""The announcement text: numbers, letters, templates, and the voice settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server import announce
from server.announce import TextSettings, announcement_text, say_number, say_ticket, spell_letters
from server.voice import VOICE_SETTINGS, validate_voice_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "voice.md"


def make_call(number="A012", kind="call", counter=None, service=None) -> dict:
    return {
        "call_id": f"2026-11-26/{number}#1",
        "kind": kind,
        "ticket": {
            "id": f"2026-11-26/{number}",
            "number": number,
            "prefix": number.rstrip("0123456789"),
        },
        "service": service or {"code": "ktp", "name": "KTP Elektronik", "agency": "dukcapil"},
        "counter": counter or {"number": 5, "name": "Gerai 5", "spoken_name": "gerai lima"},
    }


# Written out by hand from shared/DOMAIN.md rather than derived from num2words, so a change in
# the library's output shows up here.
@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "nol"),
        (5, "lima"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (21, "dua puluh satu"),
        (99, "sembilan puluh sembilan"),
        (100, "seratus"),
        (101, "seratus satu"),
        (105, "seratus lima"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (999, "sembilan ratus sembilan puluh sembilan"),
        (1000, "seribu"),
    ],
)
def test_numbers_are_said_in_words_without_leading_zeros(number, words):
    assert say_number(f"{number:03d}") == words
    assert say_ticket(f"B{number:03d}") == f"be {words}"


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [
        ("012", "nol satu dua"),
        ("000", "nol nol nol"),
        ("999", "sembilan sembilan sembilan"),
        ("1000", "satu nol nol nol"),
        ("345678", "tiga empat lima enam tujuh delapan"),
    ],
)
def test_digit_by_digit_mode(digits, spoken):
    assert say_number(digits, "digits") == spoken


LETTERS = {
    "A": "A", "B": "be", "C": "ce", "D": "de", "E": "E", "F": "ef", "G": "ge", "H": "ha",
    "I": "I", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en", "O": "O", "P": "pe",
    "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "U", "V": "ve", "W": "we", "X": "eks",
    "Y": "ye", "Z": "zet",
}  # fmt: skip


@pytest.mark.parametrize(("letter", "name"), sorted(LETTERS.items()))
def test_every_letter_is_sent_by_its_indonesian_name(letter, name):
    assert spell_letters(letter) == name
    assert say_ticket(f"{letter}007") == f"{name} tujuh"


def test_every_letter_of_the_alphabet_is_covered():
    assert sorted(announce.LETTER_NAMES) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("PK012", "pe ka dua belas"),
        ("AB1", "A be satu"),
        ("QX100", "ki eks seratus"),
        ("pk5", "pe ka lima"),
    ],
)
def test_two_letter_prefixes(number, spoken):
    assert say_ticket(number) == spoken


@pytest.mark.parametrize("bad", ["", "A", "ABC12", "A-12", "12A", "Ä12", "A١٢"])
def test_malformed_ticket_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        say_ticket(bad)


def test_default_first_call_text():
    assert announcement_text(make_call(), TextSettings()) == (
        "Nomor antrean A dua belas, silakan ke gerai lima."
    )


def test_recall_has_its_own_opening():
    text = announcement_text(make_call(kind="recall"), TextSettings())
    assert text == "Panggilan ulang, nomor antrean A dua belas, silakan ke gerai lima."


def test_recall_opening_is_configurable():
    settings = TextSettings(recall_template="Sekali lagi, {ticket}, ke {counter}.")
    assert announcement_text(make_call(kind="recall"), settings) == (
        "Sekali lagi, A dua belas, ke gerai lima."
    )
    # The first call is untouched by the recall template.
    assert announcement_text(make_call(kind="call"), settings).startswith("Nomor antrean A")


def test_digit_mode_in_the_full_sentence():
    settings = TextSettings(number_mode="digits")
    assert announcement_text(make_call("PK012"), settings) == (
        "Nomor antrean pe ka nol satu dua, silakan ke gerai lima."
    )


def test_counter_without_spoken_name_falls_back_to_gerai_and_its_number():
    call = make_call(counter={"number": 12, "name": "Gerai 12", "spoken_name": ""})
    assert announcement_text(call, TextSettings()).endswith("silakan ke gerai dua belas.")


def test_counter_spoken_name_is_used_verbatim():
    call = make_call(counter={"number": 3, "name": "Loket 3", "spoken_name": "loket imigrasi"})
    assert announcement_text(call, TextSettings()).endswith("silakan ke loket imigrasi.")


def test_service_and_agency_fields():
    settings = TextSettings(template="Nomor {ticket}, layanan {service}, {agency}, ke {counter}.")
    service = {
        "code": "ktp",
        "name": "KTP Elektronik",
        "spoken_name": "ka te pe elektronik",
        "agency": "dukcapil",
        "agency_name": "Dinas Kependudukan",
    }
    assert announcement_text(make_call(service=service), settings) == (
        "Nomor A dua belas, layanan ka te pe elektronik, Dinas Kependudukan, ke gerai lima."
    )


def test_an_empty_optional_field_leaves_no_stray_punctuation():
    settings = TextSettings(template="Nomor {ticket}, {service}, ke {counter}.")
    call = make_call(service={"code": "x"})
    assert announcement_text(call, settings) == "Nomor A dua belas, ke gerai lima."


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("Nomor {tiket} ke {counter}.", "{tiket}"),
        ("Nomor {ticket} ke {loket}.", "{loket}"),
        ("{ticket.__class__}", "{ticket.__class__}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
    ],
)
def test_unknown_template_field_names_the_field(template, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        announce.check_template(template)


def test_template_with_format_spec_or_broken_braces_is_refused():
    with pytest.raises(ValueError, match="format spec"):
        announce.check_template("{ticket:>10}")
    with pytest.raises(ValueError, match="malformed"):
        announce.check_template("Nomor {ticket")


@pytest.mark.parametrize(
    ("template", "code", "field"),
    [
        ("Nomor {ticket", "malformed", None),
        ("Nomor {tiket}", "unknown-field", "tiket"),
        ("{ticket:>3} {loket}", "unknown-field", "loket"),
        ("Nomor {ticket!r}", "format-spec", "ticket"),
        ("Silakan ke {counter}", "no-ticket", None),
    ],
)
def test_a_refused_template_says_why_in_a_code(template, code, field):
    with pytest.raises(announce.TemplateError) as err:
        announce.check_template(template, require_ticket=True)
    assert (err.value.code, err.value.field) == (code, field)


def test_config_templates_need_not_say_the_number():
    announce.check_template("Silakan ke {counter}")  # as before: only the admin form insists


@pytest.mark.parametrize(
    ("kind", "counter", "text"),
    [
        ("call", {"number": 5, "name": "Gerai 5", "spoken_name": "gerai lima"},
         "Nomor antrean A012, silakan ke gerai lima."),
        ("recall", {"number": 5, "name": "Gerai 5", "spoken_name": ""},
         "Panggilan ulang, nomor antrean A012, silakan ke Gerai 5."),
    ],
)  # fmt: skip
def test_plain_text_is_the_default_sentence_as_written(kind, counter, text):
    call = make_call(kind=kind, counter=counter)
    assert announce.plain_text(call) == text
    from server.hub import PlainAnnouncer

    assert PlainAnnouncer().announce(call)["text"] == text


def test_the_defaults_live_here():
    from server.pages.admin_settings import VOICE_DEFAULTS

    fields = ("template", "recall_template", "number_mode")
    defaults = {k: VOICE_SETTINGS[k].default for k in fields}
    assert defaults == {"template": announce.DEFAULT_TEMPLATE,
                        "recall_template": announce.DEFAULT_RECALL_TEMPLATE,
                        "number_mode": announce.DEFAULT_NUMBER_MODE}  # fmt: skip
    assert {k: VOICE_DEFAULTS[k] for k in defaults} == defaults
    assert TextSettings() == TextSettings(**defaults)


def test_texts_for_ticket_gives_one_sentence_per_counter():
    counters = [
        {"number": 1, "spoken_name": "gerai satu"},
        {"number": 2, "spoken_name": "gerai dua"},
        {"number": 2, "spoken_name": "gerai dua"},  # listed twice: said once
    ]
    assert announce.texts_for_ticket("A7", counters, TextSettings()) == [
        "Nomor antrean A tujuh, silakan ke gerai satu.",
        "Nomor antrean A tujuh, silakan ke gerai dua.",
    ]


# --- settings -----------------------------------------------------------------------------------


def test_defaults_are_complete_and_valid():
    settings = validate_voice_settings({})
    assert set(settings) == set(VOICE_SETTINGS)
    assert settings["template"] == "Nomor antrean {ticket}, silakan ke {counter}."
    assert settings["engine"] == "gtts" and settings["number_mode"] == "words"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"template": "Nomor {nomor}"}, "voice.template: unknown field {nomor}"),
        ({"recall_template": "Lagi {x}"}, "voice.recall_template: unknown field {x}"),
        ({"engine": "festival"}, "voice.engine: 'festival'"),
        ({"voice": "xx"}, "voice.voice: espeak-ng has no voice 'xx'"),
        ({"voice": "id+nosuchvariant"}, "voice.voice"),
        ({"number_mode": "roman"}, "voice.number_mode"),
        ({"repeat": True}, "voice.repeat: must be a number"),
        ({"repeat": 9}, "voice.repeat: 9 is outside 1-3"),
        ({"repeat": 1.5}, "voice.repeat: must be a whole number"),
        ({"deadline_s": "2"}, "voice.deadline_s: must be a number"),
        ({"enabled": "yes"}, "voice.enabled"),
        ({"gtts_tld": "evil.example/x"}, "voice.gtts_tld"),
        ({"tempalte": "x"}, "voice.tempalte: unknown setting"),
    ],
)
def test_bad_settings_name_their_key(given, message):
    with pytest.raises(ValueError) as info:
        validate_voice_settings(given)
    assert str(info.value).startswith(message)


def test_valid_settings_are_normalised():
    settings = validate_voice_settings({"voice": "id+f3", "repeat": 2.0, "deadline_s": 1})
    assert settings["repeat"] == 2 and isinstance(settings["repeat"], int)
    assert settings["deadline_s"] == 1.0 and isinstance(settings["deadline_s"], float)
    assert settings["voice"] == "id+f3"


def test_every_setting_is_documented_with_its_default():
    text = DOCS.read_text(encoding="utf-8")
    for key, setting in VOICE_SETTINGS.items():
        row = re.search(rf"^\| `{key}` \|(.*)$", text, re.MULTILINE)
        assert row, f"voice.{key} is missing from docs/voice.md"
        default = (
            str(setting.default).lower()
            if isinstance(setting.default, bool)
            else str(setting.default)
        )
        assert default in row.group(1), f"docs/voice.md does not give the default of voice.{key}"


@pytest.mark.parametrize(
    "call, text",
    [
        ({"ticket": {"number": "A012"}, "counter": {"name": "Gerai 5"}}, "A012 Gerai 5"),
        ({"ticket": {"number": "A012"}}, "A012"),
        ({}, "-"),
    ],
)
def test_the_fallback_text_is_what_the_screen_shows_and_never_empty(call, text):
    assert announce.fallback_text(call) == text
