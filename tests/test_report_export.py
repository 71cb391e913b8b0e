"""The report's CSV and XLSX, read back (csv module, openpyxl) and compared with figures the test
computes on its own from a month of tickets it generated."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tests.report_history import app_with_history
from tests.test_admin_pages import log_in
from tests.test_reports import expected

# A generated month (issue 14's done-when): every day of November 2026 through the real hub.
DAYS = 30
FIRST = date(2026, 11, 1)
LAST = FIRST + timedelta(days=DAYS - 1)
QUERY = f"range=custom&from={FIRST}&to={LAST}"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export-history")
    app, truths, _clock = app_with_history(tmp, FIRST, DAYS, seed=5)
    yield app, truths
    app.extensions["panggil"].storage.close()


@pytest.fixture
def admin(history):
    client = history[0].test_client()
    log_in(client, "admin", "admin-secret")
    return client


def decimal(text: str) -> float | None:
    """A CSV number as Excel in Indonesian writes it: 12,5."""
    return None if text == "" else float(text.replace(",", "."))


def minutes_of(triple) -> tuple:
    return tuple(v / 60 for v in triple)


def test_csv_is_utf8_with_bom_semicolons_and_indonesian_headers(history, admin):
    _app, truths = history
    response = admin.get(f"/admin/reports/laporan.csv?{QUERY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="laporan-{FIRST}_{LAST}.csv"' in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["kelompok", "kode", "nama", "diambil", "dilayani"]
    assert rows[0][8:11] == [
        "tunggu rata-rata (menit)",
        "tunggu median (menit)",
        "tunggu P90 (menit)",
    ]
    table = {(r[0], r[1]): r for r in rows[1:]}
    for (grouping, code), want in [
        (("Jumlah", ""), expected(truths)),
        (("Layanan", "ktp"), expected(truths, service="ktp")),
        (("Layanan", "paspor"), expected(truths, service="paspor")),
        (("Gerai", "2"), expected(truths, counter=2)),
        (("Petugas", "3"), expected(truths, officer=3)),
    ]:
        row = table[(grouping, code)]
        counts = [int(v) for v in row[3:8]]
        assert counts == [want[k] for k in ("issued", "served", "skipped", "cancelled", "expired")]
        waits = [decimal(v) for v in row[8:11]]
        assert waits == pytest.approx(minutes_of(want["wait"]), abs=0.005)  # two decimals
        services = [decimal(v) for v in row[11:14]]
        assert services == pytest.approx(minutes_of(want["service"]), abs=0.005)
    within, of = expected(truths)["within"]
    assert decimal(table[("Jumlah", "")][14]) == pytest.approx(100 * within / of, abs=0.05)
    assert table[("Layanan", "kk")][14] == ""  # no target: no share
    days = [r for r in rows[1:] if r[0] == "Hari"]
    assert [r[1] for r in days] == [str(FIRST + timedelta(days=n)) for n in range(DAYS)]
    assert sum(int(r[3]) for r in days) == len(truths)


def test_xlsx_has_a_sheet_per_grouping_with_numbers(history, admin):
    _app, truths = history
    response = admin.get(f"/admin/reports/laporan.xlsx?{QUERY}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Ringkasan", "Instansi", "Layanan", "Gerai", "Petugas", "Jam", "Hari",
                               "Antrean per hari dan jam"]  # fmt: skip
    summary = book["Ringkasan"]
    assert summary["A1"].value == "Mal pelayanan" and summary["B1"].value == "MPP Uji"
    assert summary["B2"].value == f"{FIRST} - {LAST}"
    services = {row[0]: row for row in book["Layanan"].iter_rows(min_row=2, values_only=True)}
    for code in ("ktp", "kk", "paspor"):
        want = expected(truths, service=code)
        row = services[code]
        assert list(row[2:7]) == [want[k] for k in ("issued", "served", "skipped", "cancelled",
                                                    "expired")]  # fmt: skip
        assert all(isinstance(v, int) for v in row[2:7])
        assert row[7:10] == pytest.approx(minutes_of(want["wait"]))  # minutes, full precision
        assert row[10:13] == pytest.approx(minutes_of(want["service"]))
    ktp_within, ktp_of = expected(truths, service="ktp")["within"]
    assert services["ktp"][13] == pytest.approx(ktp_within / ktp_of)
    assert book["Layanan"].cell(2, 14).number_format == "0.0%"
    assert book["Layanan"].cell(2, 8).number_format == "0.0"
    counters = {row[0]: row for row in book["Gerai"].iter_rows(min_row=2, values_only=True)}
    assert counters["1"][3] == expected(truths, counter=1)["served"]
    heat = list(book["Antrean per hari dan jam"].iter_rows(values_only=True))
    assert heat[0][0] == "Tanggal" and len(heat) == 1 + DAYS
    assert sum(r[-1] for r in heat[1:]) == len(truths)
    by_hour = {}
    for t in truths:
        key = (t.day, f"{t.issued_at.hour:02d}")
        by_hour[key] = by_hour.get(key, 0) + 1
    hours = heat[0][1:-1]
    cells = {(r[0], h): n for r in heat[1:] for h, n in zip(hours, r[1:-1]) if n}
    assert cells == by_hour


def test_exports_refuse_a_bad_range(admin):
    response = admin.get("/admin/reports/laporan.csv?range=custom&from=2026-12-02&to=2026-12-01")
    assert response.status_code == 400
    assert "Tanggal awal sesudah tanggal akhir" in response.get_data(as_text=True)


def test_exports_follow_the_english_page(admin):
    response = admin.get(f"/admin/reports/laporan.csv?{QUERY}&lang=en")
    header = response.data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("grouping;code;name;issued;served")


def test_the_month_in_the_api_and_on_the_page_agrees_with_the_test_s_own_figures(history, admin):
    """The same generated month through GET /api/reports/summary and the Laporan page."""
    _app, truths = history
    mine = expected(truths)
    body = admin.get(f"/api/reports/summary?from={FIRST}&to={LAST}").get_json()
    total = body["total"]
    assert (total["issued"], total["served"], total["skipped"], total["cancelled"],
            total["expired"]) == (mine["issued"], mine["served"], mine["skipped"],
                                  mine["cancelled"], mine["expired"])  # fmt: skip
    assert total["wait"]["mean"] == pytest.approx(mine["wait"][0], abs=0.05)
    assert (total["wait"]["median"], total["wait"]["p90"]) == pytest.approx(
        mine["wait"][1:], abs=0.05
    )
    assert total["service_time"]["p90"] == pytest.approx(mine["service"][2], abs=0.05)
    assert (total["within_target"]["count"], total["within_target"]["of"]) == mine["within"]
    assert len(body["by_day"]) == DAYS
    page = admin.get(f"/admin/reports?{QUERY}").get_data(as_text=True)
    assert page.count("<tr") > DAYS  # the heatmap has a row per day
    issued_tile = f">{mine['issued']}<"
    assert issued_tile in page.replace(".", "")  # 2.371 on an Indonesian page
