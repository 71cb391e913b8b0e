"""GET /api/reports/summary: its figures against the test's own, who may read it (an admin's
session or a report token, which opens nothing else), its refusals, and that it changes nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from server.protocol import ERRORS, NS_COUNTER
from tests.report_history import app_with_history, nearest_rank
from tests.test_admin_pages import csrf_token, log_in

FIRST = date(2026, 11, 23)
LAST = FIRST + timedelta(days=2)
RANGE = f"from={FIRST}&to={LAST}"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Three days of the test hall driven through the hub; the app and the test's own records."""
    app, truths, _clock = app_with_history(tmp_path_factory.mktemp("api-history"), FIRST, 3, 11)
    yield app, truths
    app.extensions["panggil"].storage.close()


@pytest.fixture
def admin(history):
    client = history[0].test_client()
    log_in(client, "admin", "admin-secret")
    return client


def make_token(admin, name: str = "dasbor pemkot") -> str:
    page = admin.post("/admin/reports/tokens", data={"name": name, "csrf_token": csrf_token(admin)})
    assert page.status_code == 200
    return re.search(r'<code class="token">([^<]+)</code>', page.get_data(as_text=True)).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_summary_carries_the_test_s_own_figures(history, admin):
    _app, truths = history
    body = admin.get(f"/api/reports/summary?{RANGE}").get_json()
    assert body["ok"] is True and (body["from"], body["to"]) == (str(FIRST), str(LAST))
    total = body["total"]
    waits = [t.wait for t in truths if t.wait is not None]
    assert total["issued"] == len(truths)
    assert total["served"] == sum(1 for t in truths if t.finished)
    assert total["skipped"] == sum(t.skipped for t in truths)
    assert total["cancelled"] == sum(t.cancelled for t in truths)
    assert total["expired"] == sum(t.expired for t in truths)
    assert total["wait"]["count"] == len(waits)
    assert total["wait"]["mean"] == pytest.approx(sum(waits) / len(waits), abs=0.05)
    assert total["wait"]["p90"] == pytest.approx(nearest_rank(waits, 90), abs=0.05)
    ktp = [t.wait for t in truths if t.wait is not None and t.service == "ktp"]
    within = sum(w < 21 * 60 for w in ktp)  # target 20 min: 20:59 is still within
    assert total["within_target"]["count"] == within and total["within_target"]["of"] == len(ktp)
    assert [s["service"] for s in body["by_service"]] == ["ktp", "kk", "paspor"]
    paspor = next(s for s in body["by_service"] if s["service"] == "paspor")
    assert paspor["issued"] == sum(t.service == "paspor" for t in truths)
    assert [d["day"] for d in body["by_day"]] == [str(FIRST + timedelta(days=n)) for n in range(3)]
    heat = body["heatmap"]
    assert sum(sum(d["issued"]) for d in heat["days"]) == len(truths)
    assert {o["username"] for o in body["by_officer"]} == {"petugas1", "petugas3"}


def test_the_agency_filter(history, admin):
    _app, truths = history
    body = admin.get(f"/api/reports/summary?{RANGE}&agency=imigrasi").get_json()
    assert body["agency"] == "imigrasi"
    assert body["total"]["issued"] == sum(t.service == "paspor" for t in truths)
    assert [a["agency"] for a in body["by_agency"]] == ["imigrasi"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=2026-11-23", 400, "bad-date"),
        ("from=23-11-2026&to=2026-11-25", 400, "bad-date"),
        ("from=2026-11-31&to=2026-12-01", 400, "bad-date"),
        ("from=2026-11-25&to=2026-11-23", 400, "bad-date-range"),
        ("from=2025-11-23&to=2026-11-25", 400, "range-too-long"),
        (f"{RANGE}&agency=bpjs", 400, "unknown-agency"),
        (f"{RANGE}&service=sim", 404, "unknown-service"),
    ],
)
def test_bad_requests_get_a_code(admin, query, status, code):
    response = admin.get(f"/api/reports/summary?{query}")
    assert response.status_code == status == ERRORS[code][0]
    assert response.get_json() == {"ok": False, "error": code, "message": ERRORS[code][1]}


def test_who_may_read(history):
    app, _truths = history
    anonymous = app.test_client()
    r = anonymous.get(f"/api/reports/summary?{RANGE}")
    assert (r.status_code, r.get_json()["error"]) == (401, "login-required")
    officer = app.test_client()
    log_in(officer, "petugas1", "petugas-secret")
    r = officer.get(f"/api/reports/summary?{RANGE}")
    assert (r.status_code, r.get_json()["error"]) == (403, "forbidden")
    r = anonymous.get(f"/api/reports/summary?{RANGE}", headers=bearer("token-counter-1"))
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-report-token")
    assert r.headers["Cache-Control"] == "no-store"


def test_a_report_token_opens_the_report_api_and_nothing_else(history, admin):
    app, _truths = history
    token = make_token(admin)
    outsider = app.test_client()
    r = outsider.get(f"/api/reports/summary?{RANGE}", headers=bearer(token))
    assert r.status_code == 200 and r.get_json()["total"]["issued"] > 0
    # The SKM half of the report API takes it too (one rule: report_api.check_reader).
    r = outsider.get(f"/api/reports/skm?{RANGE}", headers=bearer(token))
    assert r.status_code == 200 and r.get_json()["ok"] is True, r.get_json()
    r = outsider.get(f"/api/reports/skm?{RANGE}", headers=bearer("token-counter-1"))
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-report-token")
    # Nothing else takes it: admin pages, the exports, the console, counter and ticket API.
    for path in ("/admin/", "/admin/reports", f"/admin/reports/laporan.csv?{RANGE}", "/console/"):
        r = outsider.get(path, headers=bearer(token))
        assert r.status_code == 302 and "/login" in r.headers["Location"], path
    r = outsider.get("/api/counters/1", headers=bearer(token))
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-token")
    r = outsider.post("/api/counters/1/call_next", json={"request_id": "x1"}, headers=bearer(token))
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-token")
    r = outsider.get(f"/api/tickets/{FIRST}/A001", headers=bearer(token))
    assert r.status_code == 401
    from server.extensions import socketio

    counter = socketio.test_client(app, namespace=NS_COUNTER,
                                   auth={"counter": 1, "token": "token-counter-1"})  # fmt: skip
    assert counter.is_connected(NS_COUNTER)  # the counter's own token does connect
    counter.disconnect(NS_COUNTER)
    sc = socketio.test_client(app, namespace=NS_COUNTER, auth={"counter": 1, "token": token})
    assert not sc.is_connected(NS_COUNTER)


def test_tokens_are_stored_hashed_and_revoked_tokens_are_refused(history, admin):
    app, _truths = history
    token = make_token(admin, "untuk dicabut")
    hub = app.extensions["panggil"]
    database = hub.storage.path.read_bytes() + hub.storage.path.with_name(
        hub.storage.path.name + "-wal").read_bytes()  # fmt: skip
    assert token.encode() not in database
    tokens = hub.read(lambda s: s.list_report_tokens())
    mine = next(t for t in tokens if t["name"] == "untuk dicabut")
    r = admin.post(f"/admin/reports/tokens/{mine['id']}/revoke",
                   data={"csrf_token": csrf_token(admin)})  # fmt: skip
    assert r.status_code == 302
    r = app.test_client().get(f"/api/reports/summary?{RANGE}", headers=bearer(token))
    assert (r.status_code, r.get_json()["error"]) == (401, "invalid-report-token")
    actions = hub.read(lambda s: [a["action"] for a in s.audit_page(None, 20)])
    assert "report_token.add" in actions and "report_token.revoke" in actions


def test_a_report_changes_no_queue_state(history, admin):
    app, _truths = history
    hub = app.extensions["panggil"]
    before = (hub.seq, hub.hall, hub.read(lambda s: s.last_seq()))
    for _ in range(2):
        assert admin.get(f"/api/reports/summary?{RANGE}").status_code == 200
        assert admin.get(f"/admin/reports?range=custom&{RANGE}").status_code == 200
    assert (hub.seq, hub.hall, hub.read(lambda s: s.last_seq())) == before
