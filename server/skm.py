"""The satisfaction survey (Survei Kepuasan Masyarakat, Permen PANRB 14/2017): the rules, pure.

The nine elements (unsur) U1-U9 in the order of the regulation's sample questionnaire (Lampiran,
"Kuesioner"), each answered 1-4; the index (IKM) per element and overall; the grade table; the
minimum sample for the population served; and when a ticket's survey is open. No Flask, no
SQLite, no clock: the caller passes `now` and the rows.

The formula (Permen PANRB 14/2017, Lampiran, "Pengolahan Data"):
  NRR_i = the sum of the answers to element i / the number of respondents
  IKM   = 25 x (sum of NRR_i x 1/9)
Everything is kept as an exact fraction and rounded once, to two decimals (half up), at the end.
Published reports often weigh with 0.111 instead of 1/9 (so a perfect score reads 99.90): that is
early rounding, which the regulation's 1/9 does not ask for.

The order of U8 and U9: the regulation's list of elements (Bab II) names "penanganan pengaduan,
saran dan masukan" eighth and "sarana dan prasarana" ninth, but its questionnaire, and the
per-respondent tables that published reports print, ask about sarana dan prasarana as question 8
and penanganan pengaduan as question 9. The codes here follow the questionnaire (U8 sarana,
U9 pengaduan), so that a published table can be read in column by column. The IKM does not depend
on the order.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from panggil_protocol import PanggilError


@dataclass(frozen=True)
class Element:
    """One element (unsur) of the survey: its code, its name, the question and the four answers."""

    code: str
    name: str
    question: str
    answers: tuple[str, str, str, str]  # for 1, 2, 3, 4


# The regulation's words (Indonesian: they are the regulation's; the web UI translates them
# through its catalogue, see server/pages/survey.py). Source: Permen PANRB No. 14/2017, Lampiran,
# the sample questionnaire, as reproduced at https://pdfcoffee.com/permen-14-2017-okkk-pdf-free.html
# (a hall's copy of it: "Kuesioner Survei Kepuasan Masyarakat ... Kantor Camat Ulu Manna").
ELEMENTS: tuple[Element, ...] = (
    Element("U1", "Persyaratan",
            "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    Element("U2", "Sistem, Mekanisme dan Prosedur",
            "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
            ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah")),
    Element("U3", "Waktu Penyelesaian",
            "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
            ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat")),
    Element("U4", "Biaya/Tarif",
            "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
            ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")),
    Element("U5", "Produk Spesifikasi Jenis Pelayanan",
            "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum "
            "dalam standar pelayanan dengan hasil yang diberikan?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    Element("U6", "Kompetensi Pelaksana",
            "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
            ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten")),
    Element("U7", "Perilaku Pelaksana",
            "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan "
            "dan keramahan?",
            ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
             "Sangat sopan dan ramah")),
    Element("U8", "Sarana dan Prasarana",
            "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
            ("Buruk", "Cukup", "Baik", "Sangat baik")),
    Element("U9", "Penanganan Pengaduan, Saran dan Masukan",
            "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
            ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal",
             "Dikelola dengan baik")),
)  # fmt: skip
CODES = tuple(e.code for e in ELEMENTS)

# The respondent's profile, all optional (the questionnaire's "Profil"): the stored value and
# its Indonesian label. Age is asked in years on paper; here a band, so nothing narrows a person down.
SEXES = {"L": "Laki-laki", "P": "Perempuan"}
AGE_BANDS = {"<20": "< 20", "20-29": "20–29", "30-39": "30–39", "40-49": "40–49",
             "50-59": "50–59", "60+": "60 +"}  # fmt: skip
EDUCATIONS = {"SD": "SD", "SMP": "SMP", "SMA": "SMA", "S1": "S1", "S2": "S2", "S3": "S3"}
OCCUPATIONS = {"PNS": "PNS", "TNI": "TNI", "POLRI": "POLRI", "SWASTA": "Swasta",
               "WIRAUSAHA": "Wirausaha", "LAINNYA": "Lainnya"}  # fmt: skip
COMMENT_LIMIT = 500

# Grades (mutu pelayanan): the lowest two-decimal IKM of each, best first.
GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)

# The minimum sample for a population (Krejcie and Morgan, 1970, "Determining Sample Size for
# Research Activities", Educational and Psychological Measurement 30: 607-610; the table the
# regulation's Lampiran prints for the sample size): (population, sample). A population between
# two rows takes the next row up; beyond the last row the last sample holds.
# Checked against: the 1970 paper's formula, row by row (tests/test_skm.py). A copy of the
# Lampiran's own table could not be found in the stored sources searched (the regulation's text
# copies stop before it); hall reports that apply the regulation name this table for the sample,
# e.g. Inspektorat Kota Pontianak, SKM 2019 (https://inspektorat.pontianakkota.go.id/?page_id=8159:
# "Besaran sampel dan populasi dapat menggunakan tabel sampel dari Krejcie dan Morgan").
KREJCIE_MORGAN: tuple[tuple[int, int], ...] = (
    (10, 10),
    (15, 14),
    (20, 19),
    (25, 24),
    (30, 28),
    (35, 32),
    (40, 36),
    (45, 40),
    (50, 44),
    (55, 48),
    (60, 52),
    (65, 56),
    (70, 59),
    (75, 63),
    (80, 66),
    (85, 70),
    (90, 73),
    (95, 76),
    (100, 80),
    (110, 86),
    (120, 92),
    (130, 97),
    (140, 103),
    (150, 108),
    (160, 113),
    (170, 118),
    (180, 123),
    (190, 127),
    (200, 132),
    (210, 136),
    (220, 140),
    (230, 144),
    (240, 148),
    (250, 152),
    (260, 155),
    (270, 159),
    (280, 162),
    (290, 165),
    (300, 169),
    (320, 175),
    (340, 181),
    (360, 186),
    (380, 191),
    (400, 196),
    (420, 201),
    (440, 205),
    (460, 210),
    (480, 214),
    (500, 217),
    (550, 226),
    (600, 234),
    (650, 242),
    (700, 248),
    (750, 254),
    (800, 260),
    (850, 265),
    (900, 269),
    (950, 274),
    (1000, 278),
    (1100, 285),
    (1200, 291),
    (1300, 297),
    (1400, 302),
    (1500, 306),
    (1600, 310),
    (1700, 313),
    (1800, 317),
    (1900, 320),
    (2000, 322),
    (2200, 327),
    (2400, 331),
    (2600, 335),
    (2800, 338),
    (3000, 341),
    (3500, 346),
    (4000, 351),
    (4500, 354),
    (5000, 357),
    (6000, 361),
    (7000, 364),
    (8000, 367),
    (9000, 368),
    (10000, 370),
    (15000, 375),
    (20000, 377),
    (30000, 379),
    (40000, 380),
    (50000, 381),
    (75000, 382),
    (1000000, 384),
)
_POPULATIONS = [p for p, _s in KREJCIE_MORGAN]

# A survey tablet at a counter answers only for the ticket it just finished, and only this soon.
TABLET_MINUTES = 15


def two_decimals(value: Fraction) -> Decimal:
    """An exact value rounded once to two decimals, half up (82.445 -> 82.45)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def grade(ikm: Decimal) -> tuple[str, str]:
    """The grade letter and label of a two-decimal IKM.

    The table leaves gaps (88.30 < x < 88.31): grading the two-decimal value closes them, so
    88.305 is shown as 88.31 and graded A, as a reader of the shown figure would grade it.
    """
    for lowest, letter, label in GRADES:
        if ikm >= lowest:
            return letter, label
    return "D", "Tidak Baik"  # below 25.00 cannot happen with answers 1-4


@dataclass(frozen=True)
class ElementResult:
    code: str
    name: str
    nrr: Fraction  # mean answer, 1-4
    ikm: Decimal  # 25 x NRR, two decimals
    grade: str
    grade_label: str


@dataclass(frozen=True)
class Result:
    """The survey's figures for one group of answers (a hall, an agency, a service)."""

    respondents: int
    elements: tuple[ElementResult, ...]
    ikm: Decimal | None  # None: nobody answered
    grade: str | None
    grade_label: str | None


def compute(answers: Iterable[Sequence[int]]) -> Result:
    """NRR per element, the IKM and the grade from each respondent's nine answers (1-4)."""
    sums = [0] * len(ELEMENTS)
    n = 0
    for row in answers:
        if len(row) != len(ELEMENTS) or any(a not in (1, 2, 3, 4) for a in row):
            raise ValueError("each respondent has nine answers from 1 to 4")
        n += 1
        for i, a in enumerate(row):
            sums[i] += a
    if n == 0:
        return Result(0, (), None, None, None)
    nrrs = [Fraction(s, n) for s in sums]
    elements = []
    for element, nrr in zip(ELEMENTS, nrrs):
        value = two_decimals(25 * nrr)
        elements.append(ElementResult(element.code, element.name, nrr, value, *grade(value)))
    ikm = two_decimals(25 * sum((nrr * Fraction(1, 9) for nrr in nrrs), Fraction(0)))
    return Result(n, tuple(elements), ikm, *grade(ikm))


def minimum_sample(population: int) -> int:
    """The regulation's minimum number of respondents for the number of people served.

    The next row up of the table; never more than the population itself (a day with 3 visitors
    cannot give 10 answers: all of them is the most there is).
    """
    if population <= 0:
        return 0
    index = bisect.bisect_left(_POPULATIONS, population)
    sample = KREJCIE_MORGAN[min(index, len(KREJCIE_MORGAN) - 1)][1]
    return min(sample, population)


# --- when a ticket's survey is open -------------------------------------------------------------


def check_open(ticket: Mapping, today: str, answered: bool) -> None:
    """Raise unless the ticket may be rated now: served (done), on the current service day, and
    not rated before. The window is the service day: the hall's day roll closes it."""
    if ticket.get("status") != "done" or ticket.get("day") != today:
        raise PanggilError("survey-not-open")
    if answered:
        raise PanggilError("survey-already-answered")


def check_tablet(ticket: Mapping, last_finished: str | None, now: datetime) -> None:
    """Raise unless a counter's tablet may rate this ticket: the one the counter finished last,
    finished at most TABLET_MINUTES ago. A tablet is not a way to rate any ticket of the day."""
    finished_at = ticket.get("finished_at")
    if ticket.get("id") != last_finished or not finished_at:
        raise PanggilError("survey-not-open")
    if now - datetime.fromisoformat(finished_at) > timedelta(minutes=TABLET_MINUTES):
        raise PanggilError("survey-not-open")


def check_answers(answers: Sequence[int]) -> tuple[int, ...]:
    """Nine answers from 1 to 4, in element order, or bad-request."""
    if len(answers) != len(ELEMENTS) or any(
        isinstance(a, bool) or a not in (1, 2, 3, 4) for a in answers
    ):
        raise PanggilError("bad-request", "Isi kesembilan unsur dengan nilai 1 sampai 4.")
    return tuple(answers)
