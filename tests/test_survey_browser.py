"""The SKM survey in Chromium: the counter's tablet opens for the ticket its counter just finished
and sends the rating; the visitor's phone offers the survey once served; the admin reads the IKM.
Takes screenshots: into docs/ with PANGGIL_SCREENSHOTS=docs (then look at them), else into the
test's temporary folder."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from conftest import HALL, TOKENS, wait_js

from server import survey

ROOT = Path(__file__).resolve().parent.parent
TABLET = {"width": 800, "height": 1280}
PHONE = {"width": 360, "height": 740}
SECRET = HALL["server"]["secret_key"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def shots(tmp_path) -> Path:
    chosen = os.environ.get("PANGGIL_SCREENSHOTS")
    return ROOT / chosen if chosen else tmp_path


def serve(server, counter: int, tag: str, service: str = "ktp") -> dict:
    """Issue a ticket, call and finish it at the counter; the answer of the ticket's issue."""
    ticket = server.post("/api/tickets", {"service": service}).json()
    number = ticket["ticket"]["number"]
    assert server.command(counter, "call_ticket", f"{tag}-c", number=number).ok
    assert server.command(counter, "finish", f"{tag}-f").ok
    return ticket


def answer(page, values: list[int]) -> None:
    for code, value in zip(("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"), values):
        page.click(f"fieldset[data-code={code}] .s-v{value}")


def test_the_tablet_opens_for_the_ticket_its_counter_finished_and_sends_the_rating(
    browser, live_server, shots
):
    token = survey.tablet_token(SECRET, 1, TOKENS[1])
    tablet = browser.new_page(viewport=TABLET, has_touch=True)
    tablet.goto(f"{live_server.url}/survey/1/{token}")
    wait_js(tablet, "document.getElementById('survey').classList.contains('s-live')")
    assert tablet.is_visible("#idle") and not tablet.is_visible("#form")
    serve(live_server, 3, "other", "paspor")  # another counter: the tablet stays idle
    first = serve(live_server, 1, "t1")
    wait_js(tablet, "!document.getElementById('form').hidden")
    assert first["ticket"]["number"] in tablet.text_content("#for-ticket")
    assert "Sangat sopan dan ramah" in tablet.text_content("#form")
    assert not tablet.is_visible("#idle")
    # The next visitor at counter 1 replaces the form: it is for the ticket finished last.
    second = serve(live_server, 1, "t2")
    wait_js(tablet, "document.getElementById('for-ticket').textContent.includes(arguments[0])"
            .replace("arguments[0]", repr(second["ticket"]["number"])))  # fmt: skip
    answer(tablet, [4, 3, 3, 4, 3, 3])  # three left unanswered
    tablet.click("#send")
    assert "3" in tablet.text_content("#problem")
    assert tablet.is_visible("#form")
    answer(tablet, [4, 3, 3, 4, 3, 3, 4, 2, 3])
    assert tablet.text_content("#problem") == ""  # all answered now
    tablet.fill("textarea[name=comment]", "Antrean tertib, ruang tunggu agak panas.")
    tablet.evaluate("window.scrollTo(0, 0)")
    tablet.screenshot(path=str(shots / "skm-tablet.png"))
    tablet.click("#send")
    wait_js(tablet, "!document.getElementById('thanks').hidden")
    assert "Terima kasih" in tablet.text_content("#thanks")
    # Stored: the phone of the same ticket is now told it was rated.
    again = live_server.post(
        f"/api/survey/tickets/{second['ticket']['day']}/{second['ticket']['number']}",
        {"token": second["token"], "answers": [4] * 9},
    )
    assert again.status_code == 409 and again.json()["error"] == "survey-already-answered"
    # The first ticket was never rated: the tablet cannot rate it any more, the phone still can.
    late = live_server.post("/api/survey/counters/1", {"token": token, "ticket": first["ticket"]["id"],
                                                       "answers": [4] * 9})  # fmt: skip
    assert late.status_code == 409 and late.json()["error"] == "survey-not-open"
    tablet.close()


def test_the_phone_offers_the_survey_once_served_and_the_admin_reads_the_ikm(
    browser, live_server, shots
):
    issued = live_server.post("/api/tickets", {"service": "ktp"}).json()
    ticket = issued["ticket"]
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(issued["visitor_url"])
    wait_js(phone, "document.getElementById('ticket').classList.contains('v-live')")
    assert not phone.is_visible("#survey-link")
    assert live_server.command(1, "call_next", "p-c").ok
    assert live_server.command(1, "finish", "p-f").ok
    wait_js(phone, "!document.getElementById('survey-link').hidden")
    phone.click("#survey-link a")
    phone.wait_for_selector("#form:not([hidden])")
    assert ticket["number"] in phone.text_content("#for-ticket")
    answer(phone, [3, 3, 4, 4, 3, 4, 4, 3, 3])
    phone.click(".s-profile summary")
    phone.click("fieldset[data-field=sex] label:has(input[value=L])")
    phone.click("fieldset[data-field=education] label:has(input[value=SMA])")
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(shots / "skm-phone.png"))
    phone.click("#send")
    wait_js(phone, "!document.getElementById('thanks').hidden")
    assert "Terima kasih" in phone.text_content("#thanks")
    phone.reload()
    assert "sudah memberi penilaian" in phone.text_content("#closed")
    phone.close()

    # A few more answers, then the admin's page.
    for i, values in enumerate([[4, 4, 3, 4, 3, 4, 4, 3, 3], [2, 3, 3, 4, 3, 3, 3, 2, 2]]):
        more = serve(live_server, 1, f"m{i}")
        t = more["ticket"]
        r = live_server.post(f"/api/survey/tickets/{t['day']}/{t['number']}",
                             {"token": more["token"], "answers": values,
                              "comment": "Petugas ramah dan cepat." if i == 0 else None})  # fmt: skip
        assert r.status_code == 201, r.text
    paspor = serve(live_server, 3, "pp", "paspor")
    t = paspor["ticket"]
    assert live_server.post(f"/api/survey/tickets/{t['day']}/{t['number']}",
                            {"token": paspor["token"], "answers": [3, 2, 3, 3, 3, 3, 4, 3, 2],
                             "comment": "Mohon tambah kursi di ruang tunggu."}).status_code == 201  # fmt: skip
    serve(live_server, 2, "unrated")
    admin = browser.new_page(viewport={"width": 1280, "height": 1400})
    admin.goto(live_server.url + "/login")
    admin.fill("#username", "admin")
    admin.fill("#password", "admin-secret")
    admin.click("button[type=submit]")
    admin.wait_for_load_state()
    admin.goto(live_server.url + "/admin/skm")
    assert admin.text_content("#skm-respondents").strip() == "4"
    # 25 x (sum of the four respondents' NRRs) / 9, worked out by hand: sums per element
    # (12, 12, 13, 15, 12, 14, 15, 11, 10) = 114 over 4 respondents -> 25 x 28.5 / 9 = 79.17.
    assert admin.text_content("#skm-ikm").strip() == "79.17"
    assert admin.is_visible("#skm-too-few")
    assert "Mohon tambah kursi" in admin.text_content("#skm-comments")
    # Each counter's tablet address is also a QR code: read the drawn pixels back, as a camera would.
    import zxingcpp
    from PIL import Image

    rows = admin.query_selector_all("#skm-tablets tbody tr")
    assert len(rows) == len(TOKENS)
    for row in rows:
        address = row.query_selector("code").text_content()
        picture = Image.open(io.BytesIO(row.query_selector(".skm-qr").screenshot()))
        assert [found.text for found in zxingcpp.read_barcodes(picture)] == [address]
    admin.screenshot(path=str(shots / "skm-admin.png"), full_page=True)
    admin.close()
