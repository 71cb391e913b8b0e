"""The SKM survey's shells: storage (one answer per ticket), the phone and tablet endpoints, the
figures of GET /api/reports/skm (computed again here, independently), the admin page and its CSV."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from server import survey
from server.storage import MIGRATIONS, Storage, SurveyAlreadyAnswered
from server.ticket_links import ticket_token
from tests.conftest import TOKENS

ROOT = Path(__file__).resolve().parent.parent
GOOD = [4, 3, 3, 4, 3, 3, 4, 2, 3]


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    from argon2 import PasswordHasher

    from server import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def log_in(client, username: str, password: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302


def served(hub, service: str = "ktp", counter: int = 1) -> dict:
    """Issue a ticket of `service`, call and finish it at `counter`; the done ticket."""
    ticket = hub.issue(service)["result"]["ticket"]
    hub.command(
        counter,
        "call_ticket",
        {"number": ticket["number"]},
        f"c-{ticket['day']}-{ticket['number']}",
    )
    result = hub.command(counter, "finish", {}, f"f-{ticket['day']}-{ticket['number']}")
    return result["result"]["ticket"]


def phone_post(client, ticket: dict, answers=GOOD, token: str | None = None, **extra):
    token = token or ticket_token(client.application.secret_key, ticket["id"])
    return client.post(f"/api/survey/tickets/{ticket['day']}/{ticket['number']}",
                       json={"token": token, "answers": answers, **extra})  # fmt: skip


def tablet_token(client, counter: int = 1) -> str:
    return survey.tablet_token(client.application.secret_key, counter, TOKENS[counter])


def tablet_post(client, counter: int, ticket_id: str, answers=GOOD, token: str | None = None):
    return client.post(f"/api/survey/counters/{counter}", json={
        "token": token or tablet_token(client, counter), "ticket": ticket_id, "answers": answers})  # fmt: skip


# --- storage ---------------------------------------------------------------------------------------


def test_the_survey_table_is_a_new_migration_with_one_answer_per_ticket(hub):
    storage = hub.storage
    assert storage.schema_version == len(MIGRATIONS)
    # A migration of its own, appended (the period reports' and the device versions' came after it).
    survey = [i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE survey_answers" in m]
    assert len(survey) == 1 and survey[0] > 0
    columns = [r[1] for r in storage.db.execute("PRAGMA table_info(survey_answers)").fetchall()]
    # Nothing identifying beyond the profile the regulation asks for, and the ticket's own facts.
    assert columns == ["id", "ticket", "day", "service", "agency", "counter", "officer", "channel",
                       "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "age", "sex",
                       "education", "occupation", "comment", "answered_at"]  # fmt: skip
    ticket = served(hub)
    row = {"ticket": ticket["id"], "day": ticket["day"], "service": "ktp", "channel": "phone",
           **{f"u{i}": 3 for i in range(1, 10)}, "answered_at": "2026-11-26T09:00:00+07:00"}  # fmt: skip
    with storage.transaction():
        storage.add_survey_answer(row)
    with pytest.raises(SurveyAlreadyAnswered), storage.transaction():
        storage.add_survey_answer(row)
    assert storage.survey_answered(ticket["id"])
    assert len(storage.survey_answers(ticket["day"], ticket["day"])) == 1


@pytest.mark.parametrize(
    "bad", [{"u1": 5}, {"u9": 0}, {"channel": "email"}, {"comment": "x" * 501}]
)
def test_the_database_refuses_answers_out_of_range(hub, bad):
    ticket = served(hub)
    row = {"ticket": ticket["id"], "day": ticket["day"], "service": "ktp", "channel": "phone",
           **{f"u{i}": 3 for i in range(1, 10)}, "answered_at": "2026-11-26T09:00:00+07:00", **bad}  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError), hub.storage.transaction():
        hub.storage.add_survey_answer(row)
    assert not hub.storage.survey_answered(ticket["id"])


def test_an_older_database_gains_the_survey_table(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:-1]:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.close()
    storage = Storage(path)
    assert storage.schema_version == len(MIGRATIONS)
    assert storage.survey_answers("2026-01-01", "2026-12-31") == []
    storage.close()


# --- the phone ---------------------------------------------------------------------------------------


def test_a_visitor_rates_a_served_ticket_once_from_the_phone(client, hub):
    ticket = served(hub)
    response = phone_post(client, ticket, comment="  Petugas ramah  ", sex="P", age="30-39",
                          education="S1", occupation="SWASTA")  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"ok": True, "ticket": ticket["id"]}
    [row] = hub.storage.survey_answers(ticket["day"], ticket["day"])
    assert [row[f"u{i}"] for i in range(1, 10)] == GOOD
    assert (row["service"], row["agency"], row["counter"], row["channel"]) == (
        "ktp",
        "dukcapil",
        1,
        "phone",
    )
    assert (row["sex"], row["age"], row["education"], row["occupation"]) == (
        "P",
        "30-39",
        "S1",
        "SWASTA",
    )
    assert row["comment"] == "Petugas ramah"
    again = phone_post(client, ticket)
    assert again.status_code == 409 and again.get_json()["error"] == "survey-already-answered"
    assert len(hub.storage.survey_answers(ticket["day"], ticket["day"])) == 1


def test_the_survey_records_the_officer_who_finished_the_ticket(client, hub):
    user = hub.read(lambda s: s.find_user(username="petugas1"))
    from server.engine import Officer

    hub.command(1, "sign_in", {"officer": Officer(user["id"], "petugas1", "")}, "in-1")
    ticket = served(hub)
    assert phone_post(client, ticket).status_code == 201
    [row] = hub.storage.survey_answers(ticket["day"], ticket["day"])
    assert row["officer"] == user["id"]


def test_the_phone_cannot_rate_a_ticket_not_yet_served(client, hub):
    waiting = hub.issue("ktp")["result"]["ticket"]
    response = phone_post(client, waiting)
    assert response.status_code == 409 and response.get_json()["error"] == "survey-not-open"
    hub.command(1, "call_next", {}, "call-1")
    called = phone_post(client, waiting)
    assert called.status_code == 409 and called.get_json()["error"] == "survey-not-open"
    assert hub.storage.survey_answers(waiting["day"], waiting["day"]) == []


def test_the_phone_cannot_rate_with_a_wrong_token(client, hub):
    ticket = served(hub)
    other = served(hub)
    wrong = ticket_token(client.application.secret_key, other["id"])
    response = phone_post(client, ticket, token=wrong)
    assert response.status_code == 404 and response.get_json()["error"] == "unknown-ticket"
    assert hub.storage.survey_answers(ticket["day"], ticket["day"]) == []


def test_the_survey_closes_with_the_service_day(client, hub, clock):
    ticket = served(hub)
    clock.advance(days=1)
    hub.tick()  # the day rolls
    response = phone_post(client, ticket)
    assert response.status_code == 409 and response.get_json()["error"] == "survey-not-open"


@pytest.mark.parametrize(
    "body",
    [
        {"answers": [4] * 8},
        {"answers": [4] * 8 + [5]},
        {"answers": [4] * 8 + ["4"]},
        {"answers": GOOD, "sex": "X"},
        {"answers": GOOD, "age": "33"},
        {"answers": GOOD, "comment": "x" * 501},
        {"answers": GOOD, "comment": "a\x00b"},
        {"answers": GOOD, "name": "Budi"},  # nothing identifying beyond the profile
    ],
)
def test_bad_answers_are_refused(client, hub, body):
    ticket = served(hub)
    token = ticket_token(client.application.secret_key, ticket["id"])
    response = client.post(f"/api/survey/tickets/{ticket['day']}/{ticket['number']}",
                           json={"token": token, **body})  # fmt: skip
    assert response.status_code == 400 and response.get_json()["error"] == "bad-request"
    assert not hub.storage.survey_answered(ticket["id"])


def test_the_visitor_page_offers_the_survey_once_served(client, hub):
    ticket = hub.issue("ktp")["result"]["ticket"]
    token = ticket_token(client.application.secret_key, ticket["id"])
    url = f"/t/{ticket['day']}/{ticket['number']}/{token}"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="survey-link"\s+hidden', page)
    hub.command(1, "call_next", {}, "c1")
    hub.command(1, "finish", {}, "f1")
    page = client.get(url).get_data(as_text=True)
    assert "Beri penilaian" in page and not re.search(r'id="survey-link"\s+hidden', page)
    assert f'href="{url}/survey"' in page
    form = client.get(url + "/survey").get_data(as_text=True)
    assert "Survei Kepuasan Masyarakat" in form and "Sangat sopan dan ramah" in form
    assert '"state": "open"' in form
    assert phone_post(client, ticket).status_code == 201
    assert '"state": "answered"' in client.get(url + "/survey").get_data(as_text=True)
    assert (
        client.get(f"/t/{ticket['day']}/{ticket['number']}/wrongtoken12345/survey").status_code
        == 404
    )


def test_the_survey_form_speaks_english_too(client, hub):
    ticket = served(hub)
    token = ticket_token(client.application.secret_key, ticket["id"])
    form = client.get(f"/t/{ticket['day']}/{ticket['number']}/{token}/survey?lang=en")
    text = form.get_data(as_text=True)
    assert "Satisfaction survey" in text and "Very polite and friendly" in text


# --- the tablet ---------------------------------------------------------------------------------------


def test_the_tablet_rates_only_the_ticket_its_counter_finished_last(client, hub, clock):
    first = served(hub, counter=1)
    second = served(hub, counter=1)
    elsewhere = served(hub, "paspor", counter=3)
    older = tablet_post(client, 1, first["id"])
    assert older.status_code == 409 and older.get_json()["error"] == "survey-not-open"
    other_counter = tablet_post(client, 1, elsewhere["id"])
    assert other_counter.status_code == 409
    wrong_token = tablet_post(client, 1, second["id"], token=tablet_token(client, 2))
    assert wrong_token.status_code == 401 and wrong_token.get_json()["error"] == "invalid-token"
    device_token = tablet_post(client, 1, second["id"], token=TOKENS[1])  # not the tablet's
    assert device_token.status_code == 401
    ok = tablet_post(client, 1, second["id"])
    assert ok.status_code == 201, ok.get_json()
    again = tablet_post(client, 1, second["id"])
    assert again.status_code == 409 and again.get_json()["error"] == "survey-already-answered"
    [row] = hub.storage.survey_answers(second["day"], second["day"])
    assert (row["ticket"], row["channel"], row["counter"]) == (second["id"], "tablet", 1)


def test_the_tablet_window_closes_after_15_minutes(client, hub, clock):
    ticket = served(hub, counter=1)
    clock.advance(minutes=16)
    response = tablet_post(client, 1, ticket["id"])
    assert response.status_code == 409 and response.get_json()["error"] == "survey-not-open"


def test_the_tablet_page_needs_its_token(client, hub):
    assert client.get(f"/survey/1/{tablet_token(client, 1)}").status_code == 200
    assert client.get(f"/survey/1/{tablet_token(client, 2)}").status_code == 404
    assert client.get(f"/survey/1/{TOKENS[1]}").status_code == 404
    assert client.get(f"/survey/9/{tablet_token(client, 1)}").status_code == 404
    page = client.get(f"/survey/1/{tablet_token(client, 1)}").get_data(as_text=True)
    assert TOKENS[1] not in page  # the device token never reaches the tablet


# --- the figures -------------------------------------------------------------------------------------

# Answers per service for a period: (service, counter, nine answers).
ANSWERS = [
    ("ktp", 1, [4, 4, 3, 4, 3, 4, 4, 3, 3]),
    ("ktp", 1, [3, 3, 3, 4, 3, 3, 3, 2, 3]),
    ("ktp", 2, [2, 3, 2, 4, 3, 3, 4, 3, 2]),
    ("kk", 1, [4, 4, 4, 4, 4, 4, 4, 4, 4]),
    ("paspor", 3, [3, 2, 2, 3, 3, 3, 3, 3, 3]),
    ("paspor", 3, [1, 2, 2, 2, 3, 2, 3, 2, 1]),
]


def expected(rows: list[list[int]]) -> dict:
    """The regulation's arithmetic done again, for the test: NRR, 25 x NRR, IKM (two decimals)."""
    n = len(rows)
    nrr = [Fraction(sum(r[i] for r in rows), n) for i in range(9)]
    ikm = 25 * sum(nrr) / 9

    def half_up(value: Fraction) -> float:
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    return {"respondents": n, "ikm": half_up(ikm), "nrr": [float(x) for x in nrr],
            "element_ikm": [half_up(25 * x) for x in nrr]}  # fmt: skip


@pytest.fixture
def answered(client, hub):
    for service, counter, answers in ANSWERS:
        ticket = served(hub, service, counter)
        assert phone_post(client, ticket, answers, comment=f"komentar {service}").status_code == 201
    served(hub, "ktp", 2)  # served but not rated: counts in the population only
    return hub.hall.day


def test_the_skm_api_needs_an_admin(client, hub, answered):
    url = f"/api/reports/skm?from={answered}&to={answered}"
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "login-required"
    log_in(client, "petugas1", "petugas-secret")
    officer = client.get(url)
    assert officer.status_code == 403 and officer.get_json()["error"] == "forbidden"


def test_the_skm_api_figures(client, hub, answered):
    log_in(client, "admin", "admin-secret")
    body = client.get(f"/api/reports/skm?from={answered}&to={answered}").get_json()
    assert body["ok"] is True
    whole = expected([a for _s, _c, a in ANSWERS])
    assert body["respondents"] == 6 and body["population"] == 7
    assert body["ikm"] == whole["ikm"]
    assert [e["ikm"] for e in body["elements"]] == whole["element_ikm"]
    assert [e["nrr"] for e in body["elements"]] == pytest.approx(whole["nrr"], abs=1e-4)
    assert [e["code"] for e in body["elements"]] == [
        "U1",
        "U2",
        "U3",
        "U4",
        "U5",
        "U6",
        "U7",
        "U8",
        "U9",
    ]
    assert body["minimum_sample"] == 7 and body["enough"] is False  # 7 served: all of them
    letter = ("A" if whole["ikm"] >= 88.31 else "B" if whole["ikm"] >= 76.61
              else "C" if whole["ikm"] >= 65 else "D")  # fmt: skip
    assert body["grade"] == letter
    by_service = {s["service"]: s for s in body["by_service"]}
    for code in ("ktp", "kk", "paspor"):
        mine = expected([a for s, _c, a in ANSWERS if s == code])
        assert by_service[code]["ikm"] == mine["ikm"]
        assert by_service[code]["respondents"] == mine["respondents"]
    assert by_service["ktp"]["population"] == 4
    by_agency = {a["agency"]: a for a in body["by_agency"]}
    assert (
        by_agency["dukcapil"]["ikm"]
        == expected([a for s, _c, a in ANSWERS if s != "paspor"])["ikm"]
    )
    assert by_agency["imigrasi"]["grade"] in ("C", "D")
    assert len(body["comments"]) == 6


def test_the_skm_api_filters_by_service_and_agency(client, hub, answered):
    log_in(client, "admin", "admin-secret")
    ktp = client.get(f"/api/reports/skm?from={answered}&to={answered}&service=ktp").get_json()
    assert ktp["ikm"] == expected([a for s, _c, a in ANSWERS if s == "ktp"])["ikm"]
    assert (ktp["respondents"], ktp["population"]) == (3, 4)
    imigrasi = client.get(
        f"/api/reports/skm?from={answered}&to={answered}&agency=imigrasi"
    ).get_json()
    assert imigrasi["ikm"] == expected([a for s, _c, a in ANSWERS if s == "paspor"])["ikm"]
    assert [s["service"] for s in imigrasi["by_service"]] == ["paspor"]
    empty = client.get("/api/reports/skm?from=2026-10-01&to=2026-10-31").get_json()
    assert (empty["ikm"], empty["grade"], empty["respondents"], empty["population"]) == (
        None,
        None,
        0,
        0,
    )


@pytest.mark.parametrize(
    "query", ["", "?from=2026-11-01", "?from=2026-11-30&to=2026-11-01", "?from=2025-01-01&to=2026-11-30",
              "?from=26-11-2026&to=2026-11-30"],
)  # fmt: skip
def test_the_skm_api_refuses_a_bad_period(client, hub, query):
    log_in(client, "admin", "admin-secret")
    response = client.get("/api/reports/skm" + query)
    assert response.status_code == 400 and response.get_json()["error"] == "bad-request"


def test_the_admin_skm_page_and_csv(client, hub, answered):
    log_in(client, "admin", "admin-secret")
    page = client.get(f"/admin/skm?from={answered}&to={answered}").get_data(as_text=True)
    whole = expected([a for _s, _c, a in ANSWERS])
    assert f"{whole['ikm']:.2f}" in page
    assert "Responden belum cukup" in page  # 6 of 7
    assert "komentar paspor" in page
    assert tablet_token(client, 1) in page and TOKENS[1] not in page
    response = client.get(f"/admin/skm.csv?from={answered}&to={answered}")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["dari", "sampai", "kelompok"]
    hall = [r for r in rows if r[2] == "hall" and r[8] == "IKM"]
    assert hall[0][10] == f"{whole['ikm']:.2f}"
    ktp_u1 = [r for r in rows if r[2] == "service" and r[3] == "ktp" and r[8] == "U1"]
    assert ktp_u1[0][9] == "3.0000"  # (4 + 3 + 2) / 3


def svg_qr_text(svg: str) -> list[str]:
    """Read a QR code drawn as segno's inline SVG back to its text: the dark modules are
    horizontal strokes ("M x y", "h n", "m dx dy", y at the row's middle). The modules are painted
    into a picture and a real decoder (zxing-cpp) reads it, as a tablet's camera would."""
    import zxingcpp
    from PIL import Image

    size = int(re.search(r'd="M0 0h(\d+)v', svg).group(1))
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)
    image = Image.new("L", (size * 4, size * 4), 255)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            row = int(y)
            for col in range(int(x), int(x + values[0])):
                image.paste(0, (col * 4, row * 4, col * 4 + 4, row * 4 + 4))
            x += values[0]
    return [found.text for found in zxingcpp.read_barcodes(image)]


def test_the_skm_page_shows_each_tablet_address_as_a_qr_code_that_reads_back(client, hub):
    log_in(client, "admin", "admin-secret")
    page = client.get("/admin/skm").get_data(as_text=True)
    table = page.split('id="skm-tablets"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-counter="(\d+)">(.*?)</tr>', table, re.S)
    assert [int(number) for number, _row in rows] == sorted(TOKENS)  # one per paired counter
    for number, row in rows:
        address = re.search(r"<code>([^<]+)</code>", row).group(1)
        assert address.endswith(f"/survey/{number}/{tablet_token(client, int(number))}")
        assert address.startswith("http://")
        svg = re.search(r'<div class="qr skm-qr"[^>]*>(<svg.*?</svg>)</div>', row, re.S).group(1)
        assert svg_qr_text(svg) == [address]


def test_an_officer_cannot_open_the_skm_page(client, hub):
    log_in(client, "petugas1", "petugas-secret")
    assert client.get("/admin/skm").status_code == 403


# --- the words -----------------------------------------------------------------------------------------


def test_every_survey_text_has_an_indonesian_translation_and_the_regulations_words():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from server import skm

    with open(ROOT / "server/translations/survey/id/LC_MESSAGES/messages.po", "rb") as f:
        catalog = {m.id: m.string for m in read_po(f) if m.id and m.string}
    method_map = [
        ("server/templates/survey/**.html", "jinja2"),
        ("server/pages/survey.py", "python"),
    ]
    keywords = {"_": None, "_l": None, "gettext": None}
    wanted = {m[2] for m in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    assert len(wanted) > 60
    assert sorted(wanted - set(catalog)) == []
    from server.pages.survey import ELEMENT_TEXTS

    for element in skm.ELEMENTS:
        name, question, answers = ELEMENT_TEXTS[element.code]
        assert catalog[name._args[0]] == element.name
        assert catalog[question._args[0]] == element.question
        assert [catalog[a._args[0]] for a in answers] == list(element.answers)


def test_the_skm_report_is_a_tab_of_laporan(client):
    """One "Laporan" menu entry; Ringkasan and SKM are its tabs, on both pages."""
    log_in(client, "admin", "admin-secret")
    for path, current in (("/admin/reports", "Ringkasan"), ("/admin/skm", "SKM")):
        page = client.get(path).get_data(as_text=True)
        tabs = page.split('class="report-tabs"', 1)[1].split("</nav>", 1)[0]
        assert re.findall(r">([^<]+)</a>", tabs) == ["Ringkasan", "SKM"], path
        assert re.search(rf'aria-current="page">{current}</a>', tabs), path
        nav = page.split('class="adminnav"', 1)[1].split("</nav>", 1)[0]
        assert re.search(r'class="active"[^>]*>Laporan</a>', nav), path
        assert ">SKM<" not in nav and ">Hari layanan<" in nav
