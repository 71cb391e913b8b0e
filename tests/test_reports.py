"""The period report's pure core (server/reports.py) and its storage read, against hand-made
events and against a generated history whose figures the test computes on its own."""

from __future__ import annotations

import copy
import statistics
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from server import reports
from server.protocol import PanggilError
from tests.conftest import HALL, WIB, hall_config
from tests.report_history import Truth, app_with_history, nearest_rank

CATALOGUE = reports.Catalogue(
    agencies={"dukcapil": "Dukcapil", "imigrasi": "Imigrasi"},
    services={
        "ktp": reports.ServiceInfo("ktp", "KTP", "dukcapil", 30),
        "kk": reports.ServiceInfo("kk", "KK", "dukcapil", None),
        "paspor": reports.ServiceInfo("paspor", "Paspor", "imigrasi", 10),
    },
    counters={1: "Gerai 1", 2: "Gerai 2"},
    officers={7: ("budi", "Budi Santoso"), 8: ("siti", "")},
)
DAY = reports.Period(date(2026, 11, 26), date(2026, 11, 26))


class Events:
    """Hand-made event rows of 26 November 2026 (WIB), numbered in the order they are added."""

    def __init__(self) -> None:
        self.rows: list[reports.EventRow] = []

    def add(self, hhmmss: str, kind: str, ticket: str, service: str, counter=None, officer=None):
        h, m, s = (int(x) for x in hhmmss.split(":"))
        at = datetime(2026, 11, 26, h, m, s, tzinfo=WIB)
        kind_code = reports.KINDS.index(kind) if kind in reports.KINDS else 99  # recalled, ...
        day = "2026-11-26" if kind == "issued" else None
        self.rows.append((ticket, reports.EventRow(day, kind_code, int(at.timestamp() * 1000), h,
                                                   counter, service, officer)))  # fmt: skip
        return self

    def report(self, **filters) -> reports.Report:
        # As Storage.read_report gives them: grouped by ticket, each in the order added.
        rows = [row for _ticket, row in sorted(self.rows, key=lambda r: r[0])]
        return reports.summarise(rows, CATALOGUE, DAY, **filters)


# --- percentiles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([5.0], 5.0, 5.0),
        ([1.0, 2.0], 1.5, 2.0),  # rank ceil(1.8) = 2
        (list(map(float, range(1, 11))), 5.5, 9.0),  # rank ceil(9.0) = 9
        (list(map(float, range(1, 12))), 6.0, 10.0),  # rank ceil(9.9) = 10
        ([30.0, 10.0, 20.0], 20.0, 30.0),  # unsorted in, rank ceil(2.7) = 3
    ],
)
def test_median_and_nearest_rank_90th_percentile(values, median, p90):
    t = reports.times(values)
    assert (t.count, t.median, t.p90) == (len(values), median, p90)
    assert t.mean == pytest.approx(sum(values) / len(values))


def test_no_times_are_none_not_zero():
    assert reports.times([]) == reports.Times(0, None, None, None)


# --- periods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (None, "2026-11-30", "bad-date"),
        ("2026-11-01", "", "bad-date"),
        ("2026-13-01", "2026-12-01", "bad-date"),
        ("01-11-2026", "2026-12-01", "bad-date"),
        ("20261101", "20261130", "bad-date"),
        ("2026-12-02", "2026-12-01", "bad-date-range"),
        ("2025-01-01", "2026-01-02", "range-too-long"),  # 367 days
    ],
)
def test_bad_periods_are_refused_with_a_code(first, last, code):
    with pytest.raises(PanggilError) as caught:
        reports.parse_period(first, last)
    assert caught.value.code == code


def test_a_leap_year_fits_in_one_report():
    period = reports.parse_period("2024-01-01", "2024-12-31")
    assert len(period.days) == 366


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("today", "2026-12-03", "2026-12-03"),
        ("week", "2026-11-30", "2026-12-03"),  # Thursday: from Monday
        ("month", "2026-12-01", "2026-12-03"),
        ("last_month", "2026-11-01", "2026-11-30"),
    ],
)
def test_quick_ranges(name, first, last):
    period = reports.preset_period(name, date(2026, 12, 3))
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


def test_last_month_in_january_is_december():
    period = reports.preset_period("last_month", date(2027, 1, 15))
    assert (period.first, period.last) == (date(2026, 12, 1), date(2026, 12, 31))


# --- counting rules ----------------------------------------------------------------------------------


def test_wait_service_time_and_the_groups_they_land_in():
    ev = Events()
    ev.add("08:00:00", "issued", "A1", "ktp").add("08:10:00", "called", "A1", "ktp", 1, 7)
    ev.add("08:12:00", "recalled", "A1", "ktp", 1, 7)  # a recall does not restart the service
    ev.add("08:20:00", "finished", "A1", "ktp", 1, 7)
    ev.add("08:30:00", "issued", "C1", "paspor").add("09:05:00", "called", "C1", "paspor", 2, None)
    ev.add("09:06:00", "finished", "C1", "paspor", 2, None)
    r = ev.report()
    assert (r.total.issued, r.total.served) == (2, 2)
    assert r.services["ktp"].waits == [600.0] and r.services["ktp"].service_times == [600.0]
    assert r.services["paspor"].waits == [2100.0] and r.services["paspor"].service_times == [60.0]
    assert list(r.agencies) == ["dukcapil", "imigrasi"]
    assert r.counters[1].served == 1 and r.counters[2].served == 1
    assert list(r.officers) == [7]  # counter 2 had nobody signed in
    # Issued at 8 (both), first calls at 8 and 9, finishes at 8 and 9.
    assert r.hours[8].issued == 2 and r.hours[8].waits == [600.0]
    assert r.hours[9].waits == [2100.0] and r.hours[9].served == 1
    assert r.heatmap["2026-11-26"][8] == 2 and sum(r.heatmap["2026-11-26"]) == 2


def test_a_skip_counts_once_and_a_call_back_restarts_the_service():
    ev = Events()
    ev.add("08:00:00", "issued", "A1", "ktp").add("08:05:00", "called", "A1", "ktp", 1)
    ev.add("08:06:00", "skipped", "A1", "ktp", 1).add("08:30:00", "called", "A1", "ktp", 1)
    ev.add("08:31:00", "skipped", "A1", "ktp", 1).add("08:40:00", "called", "A1", "ktp", 1)
    ev.add("08:44:00", "finished", "A1", "ktp", 1)
    r = ev.report()
    assert r.total.skipped == 1
    assert r.total.waits == [300.0]  # the first call only
    assert r.total.service_times == [240.0]  # from the last call


def test_a_transferred_ticket_counts_where_each_event_happened():
    ev = Events()
    ev.add("08:00:00", "issued", "A1", "ktp").add("08:05:00", "called", "A1", "ktp", 1)
    ev.add("08:07:00", "transferred", "A1", "paspor", 1)
    ev.add("08:20:00", "called", "A1", "paspor", 2).add("08:25:00", "finished", "A1", "paspor", 2)
    r = ev.report()
    assert r.services["ktp"].issued == 1 and r.services["ktp"].waits == [300.0]
    assert r.services["paspor"].served == 1 and r.services["paspor"].service_times == [300.0]
    imigrasi = ev.report(agency="imigrasi")
    assert imigrasi.total.issued == 0 and imigrasi.total.served == 1


@pytest.mark.parametrize(
    ("called_at", "within"),
    [("08:30:00", True), ("08:30:59", True), ("08:31:00", False)],
)
def test_within_target_uses_whole_minutes_like_the_monitor(called_at, within):
    ev = Events().add("08:00:00", "issued", "A1", "ktp").add(called_at, "called", "A1", "ktp", 1)
    ev.add("08:00:00", "issued", "B1", "kk").add("08:50:00", "called", "B1", "kk", 1)  # no target
    r = ev.report()
    assert (r.total.within_target, r.total.with_target) == (int(within), 1)
    assert r.services["kk"].target_share is None


def test_cancelled_and_expired_and_filters():
    ev = Events()
    ev.add("08:00:00", "issued", "A1", "ktp").add("08:01:00", "cancelled", "A1", "ktp")
    ev.add("08:00:00", "issued", "C1", "paspor").add("16:00:00", "expired", "C1", "paspor")
    r = ev.report()
    assert (r.total.cancelled, r.total.expired) == (1, 1)
    assert ev.report(service="ktp").total.expired == 0
    assert ev.report(agency="imigrasi").total.expired == 1


@pytest.mark.parametrize(("filters", "code"), [({"agency": "bpjs"}, "unknown-agency"),
                                               ({"service": "sim"}, "unknown-service")])  # fmt: skip
def test_unknown_filters_are_refused(filters, code):
    with pytest.raises(PanggilError) as caught:
        Events().report(**filters)
    assert caught.value.code == code


def test_every_day_of_the_period_has_a_trend_row():
    period = reports.Period(date(2026, 11, 25), date(2026, 11, 27))
    r = reports.summarise(
        [Events().add("08:00:00", "issued", "A1", "ktp").rows[0][1]], CATALOGUE, period
    )
    assert list(r.days) == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert [f.issued for f in r.days.values()] == [0, 1, 0]
    assert list(r.heatmap) == list(r.days)


def test_json_has_seconds_and_the_share():
    ev = Events().add("08:00:00", "issued", "A1", "ktp").add("08:10:00", "called", "A1", "ktp", 1)
    body = reports.report_json(ev.report(), "Asia/Jakarta")
    assert body["from"] == body["to"] == "2026-11-26"
    assert body["total"]["wait"] == {"count": 1, "mean": 600.0, "median": 600.0, "p90": 600.0}
    assert body["total"]["within_target"] == {"count": 1, "of": 1, "share": 1.0}
    assert body["by_service"][0]["target_wait"] == 30
    assert body["heatmap"] == {"hours": [8], "days": [{"day": "2026-11-26", "issued": [1]}]}


# --- a generated history through the hub and storage -----------------------------------------------

FIRST = date(2026, 11, 23)  # Monday
DAYS = 5


def history_config(tmp_path) -> dict:
    services = copy.deepcopy(HALL["services"])
    services[0]["target_wait"] = 20  # ktp
    return hall_config(tmp_path, hall={"enforce_hours": False}, services=services)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Five days of the test hall (~400 tickets): the app and what the test did to each ticket."""
    app, truths, _clock = app_with_history(tmp_path_factory.mktemp("history"), FIRST, DAYS)
    hub = app.extensions["panggil"]
    yield app, truths
    hub.storage.close()


def summary_of(app, first: date, last: date, **filters) -> reports.Report:
    hub = app.extensions["panggil"]
    events, rows = hub.storage.read_report(first.isoformat(), last.isoformat())
    period = reports.Period(first, last)
    return reports.summarise(events, reports.catalogue_from_rows(rows), period, **filters)


def expected(truths: list[Truth], *, service=None, counter=None, officer=None) -> dict:
    """The figures of one group, from the test's own records."""
    issued = [
        t for t in truths if service in (None, t.service) and counter is None and officer is None
    ]
    called = [t for t in truths if t.first_call and service in (None, t.service)
              and counter in (None, t.first_counter) and officer in (None, t.first_officer)]  # fmt: skip
    done = [t for t in truths if t.finished and service in (None, t.service)
            and counter in (None, t.finish_counter) and officer in (None, t.finish_officer)]  # fmt: skip
    skipped = [t for t in truths if t.skipped and service in (None, t.service)
               and counter in (None, t.skip_counter) and officer in (None, t.skip_officer)]  # fmt: skip
    waits = [t.wait for t in called]
    services = [t.service_time for t in done]
    ktp_calls = [t for t in called if t.service == "ktp"]
    return {
        "issued": len(issued),
        "served": len(done),
        "skipped": len(skipped),
        "cancelled": sum(t.cancelled for t in issued),
        "expired": sum(t.expired for t in issued),
        "wait": (statistics.fmean(waits), statistics.median(waits), nearest_rank(waits, 90)),
        "service": (
            statistics.fmean(services),
            statistics.median(services),
            nearest_rank(services, 90),
        ),
        "within": (sum(t.wait < 21 * 60 for t in ktp_calls), len(ktp_calls)),
    }


def got(f: reports.Figures, with_issued: bool = True) -> dict:
    w, s = f.wait, f.service_time
    return {
        "issued": f.issued,
        "served": f.served,
        "skipped": f.skipped,
        "cancelled": f.cancelled,
        "expired": f.expired,
        "wait": (pytest.approx(w.mean), w.median, w.p90),
        "service": (pytest.approx(s.mean), s.median, s.p90),
        "within": (f.within_target, f.with_target),
    }


def test_the_generated_history_is_a_real_one(history):
    _app, truths = history
    assert len(truths) > 300
    assert {t.day for t in truths} == {(FIRST + timedelta(days=n)).isoformat() for n in range(DAYS)}
    assert sum(t.skipped for t in truths) > 5 and sum(t.cancelled for t in truths) > 3
    assert (
        sum(t.expired for t in truths) > 0 and sum(t.wait > 21 * 60 for t in truths if t.wait) > 5
    )


def test_totals_and_services_match_the_test_s_own_figures(history):
    app, truths = history
    r = summary_of(app, FIRST, FIRST + timedelta(days=DAYS - 1))
    assert got(r.total) == expected(truths)
    for code in ("ktp", "kk", "paspor"):
        assert got(r.services[code]) == expected(truths, service=code), code
    dukcapil = [t for t in truths if t.service in ("ktp", "kk")]
    assert got(r.agencies["dukcapil"]) == expected(dukcapil)


@pytest.mark.parametrize("counter", [1, 2, 3])
def test_counters_match(history, counter):
    app, truths = history
    r = summary_of(app, FIRST, FIRST + timedelta(days=DAYS - 1))
    assert got(r.counters[counter]) == expected(truths, counter=counter)


@pytest.mark.parametrize("officer", [2, 3])
def test_officers_match_and_nobody_counts_for_counter_2(history, officer):
    app, truths = history
    r = summary_of(app, FIRST, FIRST + timedelta(days=DAYS - 1))
    assert got(r.officers[officer]) == expected(truths, officer=officer)
    assert set(r.officers) == {2, 3}


def test_days_hours_and_heatmap_match(history):
    app, truths = history
    r = summary_of(app, FIRST, FIRST + timedelta(days=DAYS - 1))
    by_day = Counter(t.day for t in truths)
    assert {d: f.issued for d, f in r.days.items()} == dict(by_day)
    served_by_hour = Counter(t.finished.hour for t in truths if t.finished)
    assert {h: f.served for h, f in r.hours.items() if f.served} == dict(served_by_hour)
    cells = Counter((t.day, t.issued_at.hour) for t in truths)
    assert {(d, h): n for d, row in r.heatmap.items() for h, n in enumerate(row) if n} == dict(
        cells
    )


def test_a_period_inside_the_history_and_a_filter(history):
    app, truths = history
    tuesday = FIRST + timedelta(days=1)
    r = summary_of(app, tuesday, tuesday + timedelta(days=1), agency="imigrasi")
    mine = [
        t
        for t in truths
        if t.day in (tuesday.isoformat(), (tuesday + timedelta(days=1)).isoformat())
    ]
    assert got(r.total) == expected([t for t in mine if t.service == "paspor"])
    assert list(r.services) == ["paspor"] and list(r.agencies) == ["imigrasi"]
