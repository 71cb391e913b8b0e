"""The Laporan page in real Chromium, over two generated weeks: the figures the test computed on its
own, the charts, the heatmap, the printable view (print media, A4) with the hall's logo, English.

With PANGGIL_SCREENSHOTS=1 the screenshots go to docs/report.png and docs/report-print.png;
otherwise to the test's temporary folder.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.report_history import app_with_history
from tests.test_admin_pages import csrf_token, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = Path(__file__).resolve().parent.parent / "docs"
FIRST = date(2026, 11, 16)  # two weeks, Monday to Sunday
DAYS = 14
LAST = FIRST + timedelta(days=DAYS - 1)
LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<circle cx="32" cy="32" r="30" fill="#0b3d91"/><path d="M16 40 L32 14 L48 40 Z" fill="#f5b700"/>
<rect x="14" y="42" width="36" height="6" fill="#ffffff"/></svg>"""


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """The app over HTTP (in a thread) with two weeks of history and a logo; the test's records."""
    from werkzeug.serving import make_server

    tmp = tmp_path_factory.mktemp("report-browser")
    app, truths, _clock = app_with_history(tmp, FIRST, DAYS, seed=3)
    admin = app.test_client()
    log_in(admin, "admin", "admin-secret")
    response = admin.post("/admin/settings/logo", data={"csrf_token": csrf_token(admin),
                          "logo": (io.BytesIO(LOGO), "logo.svg")})  # fmt: skip
    assert response.status_code in (200, 302)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", truths
    httpd.shutdown()
    app.extensions["panggil"].storage.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if os.environ.get("PANGGIL_SCREENSHOTS") == "1" else tmp_path


def sign_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-secret")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/"))


def cells(page, table: str, name: str) -> list[str]:
    row = page.locator(
        f"#{table} tbody tr", has=page.locator("td", has_text=re.compile(f"^{name}$"))
    )
    return [t.strip() for t in row.locator("td").all_inner_texts()]


def mmss(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def test_the_report_page_shows_the_generated_weeks(hall, page, shots):
    url, truths = hall
    sign_in(page, url)
    page.click('nav.adminnav a[href="/admin/reports"]')
    assert page.inner_text("nav.adminnav a.active") == "Laporan"
    page.select_option("#range", "custom")
    page.fill("input[name=from]", str(FIRST))
    page.fill("input[name=to]", str(LAST))
    page.click("#report-filter button[type=submit]")
    page.wait_for_selector("#totals")
    assert page.inner_text("#report-period").startswith(f"{FIRST} – {LAST}")
    assert page.inner_text("[data-figure=issued]") == str(len(truths))
    assert page.inner_text("[data-figure=served]") == str(sum(1 for t in truths if t.finished))
    ktp = [t for t in truths if t.service == "ktp"]
    waits = sorted(t.wait for t in ktp if t.wait is not None)
    row = cells(page, "by-services", "KTP")
    assert row[1:4] == [str(len(ktp)), str(sum(1 for t in ktp if t.finished)),
                        str(sum(t.skipped for t in ktp))]  # fmt: skip
    assert row[6] == mmss(sum(waits) / len(waits))  # mean waiting, m:ss
    within = sum(w < 21 * 60 for w in waits)
    assert row[12] == f"{100 * within / len(waits):.1f}%"
    officer = cells(page, "by-officers", "petugas1")
    assert officer[1] == str(sum(1 for t in truths if t.finish_officer == 2))  # served
    # The heatmap: a row per day, a shaded cell per busy hour.
    assert page.locator("#heatmap tbody tr").count() == DAYS
    by_cell = Counter((t.day, t.issued_at.hour) for t in truths)
    day, hour = max(by_cell, key=by_cell.get)
    hours = [h.strip() for h in page.locator("#heatmap thead th").all_inner_texts()][1:-1]
    busiest = page.locator(
        f"#heatmap tbody tr:nth-child({(date.fromisoformat(day) - FIRST).days + 1}) td"
    )
    assert busiest.nth(hours.index(f"{hour:02d}")).inner_text() == str(by_cell[(day, hour)])
    assert "heat-9" in busiest.nth(hours.index(f"{hour:02d}")).get_attribute("class")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart polyline").count() == 5
    page.screenshot(path=str(shots / "report.png"), full_page=True)


def test_the_printable_view_is_a4_with_the_logo_and_no_navigation(hall, page, shots):
    url, truths = hall
    sign_in(page, url)
    page.goto(f"{url}/admin/reports?range=custom&from={FIRST}&to={LAST}")
    page.click("#print-view")
    page.wait_for_selector("button[data-print]")
    assert page.locator("nav.adminnav").count() == 0 and page.locator("#tokens").count() == 0
    assert page.locator("img.report-logo").is_visible()
    assert page.inner_text(".report-hall") == "MPP Uji"
    page.emulate_media(media="print")
    assert not page.locator("button[data-print]").is_visible()  # print CSS hides the buttons
    assert page.inner_text("[data-figure=issued]") == str(len(truths))
    pdf = page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    page.screenshot(path=str(shots / "report-print.png"), full_page=True)


def test_the_page_speaks_english_when_asked(hall, page):
    url, _truths = hall
    sign_in(page, url)
    page.goto(f"{url}/admin/reports?range=custom&from={FIRST}&to={LAST}&lang=en")
    assert page.inner_text("h1") == "Service report"
    assert "By service" in page.inner_text("body")
    page.goto(f"{url}/admin/reports?range=custom&from={LAST}&to={FIRST}&lang=id")
    assert "Tanggal awal sesudah tanggal akhir" in page.inner_text("#report-problem")
