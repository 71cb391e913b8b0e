"""The admin forms' validation: pure functions, no Flask, no database."""

from __future__ import annotations

import pytest

from server.engine import Agency, Counter, Service
from server.pages.admin_forms import (
    FormError,
    changes,
    hours_fields,
    template_problem,
    validate_agency,
    validate_counter,
    validate_display,
    validate_logo,
    validate_password,
    validate_service,  # fmt: skip
    validate_settings,
    validate_user,
)

AGENCIES = {"dukcapil": Agency("dukcapil", "Dukcapil")}
SERVICES = {
    "ktp": Service("ktp", "KTP", "dukcapil", "A"),
    "kk": Service("kk", "KK", "dukcapil", "B"),
}
COUNTERS = {1: Counter(1, "Gerai 1", "gerai satu", ("ktp",))}
ADMIN = {"id": 1, "username": "admin", "role": "admin", "active": 1}
OFFICER = {"id": 2, "username": "petugas1", "role": "officer", "active": 1}


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(FormError) as info:
        call(*args, **kwargs)
    return {field: problem.message for field, problem in info.value.errors.items()}


def test_agency_code_is_set_once_and_unique():
    assert validate_agency(
        {"code": " BPJS ", "name": "BPJS  Kesehatan"}, agencies=AGENCIES
    ) == Agency("bpjs", "BPJS Kesehatan")
    assert (
        validate_agency(
            {"code": "x", "name": "Dukcapil Kota"}, agencies=AGENCIES, editing="dukcapil"
        ).code
        == "dukcapil"
    )
    assert refused(validate_agency, {"code": "dukcapil", "name": ""}, agencies=AGENCIES) == {
        "code": "This code is already used.",
        "name": "Required.",
    }


def service_form(**fields) -> dict:
    return {"code": "paspor", "agency": "dukcapil", "name": "Paspor", "prefix": "C", "active": "on",
            "priority_allowed": "on", **fields}  # fmt: skip


def test_service_with_breaks_and_friday_override():
    form = service_form(hours="07:30-12:00, 13:00-16:00", hours_fri="07:30-11:30,13:30-16:00",
                        hours_sun="tutup", hours_sat="-", daily_quota="150")  # fmt: skip
    service = validate_service(form, agencies=AGENCIES, services=SERVICES)
    assert service.prefix == "C" and service.daily_quota == 150 and service.active
    assert service.hours[0] == ((450, 720), (780, 960))
    assert service.hours[4] == ((450, 690), (810, 960))
    assert service.hours[5] == () and service.hours[6] == ()
    # and back into the form: usual hours, the days that differ
    fields = hours_fields(service.hours)
    assert fields["hours"] == "07:30-12:00,13:00-16:00"
    assert fields["hours_fri"] == "07:30-11:30,13:30-16:00"
    assert fields["hours_sat"] == fields["hours_sun"] == "-"
    assert fields["hours_mon"] == ""


def test_service_without_hours_is_always_open_and_unticked_boxes_are_false():
    service = validate_service({"code": "x", "agency": "dukcapil", "name": "X", "prefix": "xy"},
                               agencies=AGENCIES, services=SERVICES)  # fmt: skip
    assert service.hours is None and service.prefix == "XY"
    assert not service.active and not service.priority_allowed
    assert hours_fields(None)["hours"] == ""


def test_service_closed_every_day_round_trips():
    closed = {f"hours_{d}": "-" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    service = validate_service(service_form(**closed), agencies=AGENCIES, services=SERVICES)
    assert service.hours == ((),) * 7
    assert hours_fields(service.hours) == {"hours": "", **closed}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": ""}, "code", "Required."),
        ({"code": "KTP Baru"}, "code", "Use lowercase letters"),
        ({"code": "ktp"}, "code", "This code is already used."),
        ({"agency": "nope"}, "agency", "Unknown agency."),
        ({"prefix": "A"}, "prefix", "Prefix %(prefix)s is already used by %(service)s."),
        ({"prefix": "a"}, "prefix", "Prefix %(prefix)s is already used by %(service)s."),
        ({"prefix": "A1"}, "prefix", "One or two capital letters (A-Z)."),
        ({"prefix": ""}, "prefix", "Required."),
        ({"daily_quota": "0"}, "daily_quota", "A whole number from %(low)d to %(high)d."),
        ({"daily_quota": "banyak"}, "daily_quota", "A whole number from %(low)d to %(high)d."),
        ({"hours": "pagi"}, "hours", "Write hours like 07:30-12:00,13:00-16:00."),
        ({"hours": "16:00-07:30"}, "hours", "%(part)s ends before it starts."),
        ({"hours": "07:00-12:00,11:00-15:00"}, "hours", "The time ranges overlap."),
        ({"hours": "07:00-25:00"}, "hours", "%(part)s is not a time of day."),
        ({"hours_fri": "07:00-11:00"}, "hours", "Fill in the usual hours first."),
        (
            {"hours": "07:00-15:00", "hours_fri": "x"},
            "hours_fri",
            "Write hours like 07:30-12:00,13:00-16:00.",
        ),
        ({"name": "x" * 121}, "name", "At most %(limit)d characters."),
    ],
)
def test_service_refusals(fields, field, message):
    errors = refused(validate_service, service_form(**fields), agencies=AGENCIES, services=SERVICES)
    assert errors[field].startswith(message)


def test_service_edit_keeps_its_own_prefix_and_code():
    service = validate_service(service_form(code="ignored", prefix="A", name="KTP-el"), agencies=AGENCIES,
                               services=SERVICES, editing="ktp")  # fmt: skip
    assert service.code == "ktp" and service.prefix == "A"


def test_every_problem_is_reported_at_once():
    errors = refused(
        validate_service, {"code": "", "prefix": "1"}, agencies=AGENCIES, services=SERVICES
    )
    assert set(errors) == {"code", "agency", "name", "prefix"}


def test_counter_services_follow_the_chosen_order():
    counter = validate_counter(
        {
            "number": "5",
            "name": "Gerai 5",
            "services": ["ktp", "kk"],
            "order_kk": "1",
            "order_ktp": "2",
            "active": "on",
        },
        services=SERVICES,
        counters=COUNTERS,
    )
    assert counter == Counter(5, "Gerai 5", "gerai 5", ("kk", "ktp"), True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"number": "1"}, "number", "Counter %(number)d already exists."),
        ({"number": "1000"}, "number", "A whole number from %(low)d to %(high)d."),
        ({"services": []}, "services", "Choose at least one service."),
        ({"services": ["nope"]}, "services", "Unknown service."),
        ({"name": ""}, "name", "Required."),
    ],
)
def test_counter_refusals(fields, field, message):
    form = {"number": "7", "name": "Gerai 7", "services": ["ktp"], **fields}
    assert refused(validate_counter, form, services=SERVICES, counters=COUNTERS)[field] == message


def test_display_empty_choice_means_everything_and_names_are_checked():
    clean = validate_display({"name": "lobby-1"}, counters=COUNTERS, services=SERVICES, displays=[])
    assert clean == {"name": "lobby-1", "counters": None, "services": None}
    clean = validate_display({"name": "x", "counters": ["1"], "services": ["kk"]}, counters=COUNTERS,
                             services=SERVICES, displays=[])  # fmt: skip
    assert clean["counters"] == [1] and clean["services"] == ["kk"]
    errors = refused(validate_display, {"name": "lobby 1", "counters": ["9"]}, counters=COUNTERS,
                     services=SERVICES, displays=[])  # fmt: skip
    assert set(errors) == {"name", "counters"}
    assert "name" in refused(validate_display, {"name": "lobby"}, counters=COUNTERS, services=SERVICES,
                             displays=["lobby"])  # fmt: skip


def test_new_user_needs_a_matching_password_and_a_free_username():
    form = {"username": "petugas2", "role": "officer", "counter": "1", "password": "rahasia-123",
            "password2": "rahasia-123"}  # fmt: skip
    clean = validate_user(form, users=[ADMIN, OFFICER], counters=COUNTERS)
    assert clean["counter"] == 1 and clean["active"] is True
    errors = refused(validate_user, {**form, "username": "PETUGAS1", "password2": "lain", "role": "boss"},
                     users=[ADMIN, OFFICER], counters=COUNTERS)  # fmt: skip
    assert errors == {"username": "This username is already taken.", "password2": "The two passwords differ.",
                      "role": "Choose one of the options."}  # fmt: skip
    assert refused(validate_password, {"password": "pendek", "password2": "pendek"})[
        "password"
    ].startswith("From")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("sembilan9", "From %(low)d to %(high)d characters."),  # 9: under the first admin's floor
        ("x" * 201, "From %(low)d to %(high)d characters."),
        ("admin-panggil", "This is the demo's published password: choose another."),
        ("petugas-panggil", "This is the demo's published password: choose another."),
        ("rahasia\x00panjang", "The password contains characters that cannot be stored."),
    ],
)
def test_a_password_follows_the_one_rule_of_panggil_common(password, message):
    errors = refused(validate_password, {"password": password, "password2": password})
    assert errors == {"password": message}
    assert validate_password({"password": "sepuluh-10", "password2": "sepuluh-10"}) == "sepuluh-10"


@pytest.mark.parametrize(
    ("editing", "me", "form", "field", "message"),
    [
        (ADMIN, ADMIN, {"role": "admin"}, "active", "You cannot deactivate yourself."),
        (
            ADMIN,
            ADMIN,
            {"role": "officer", "active": "on"},
            "role",
            "You cannot remove your own admin role.",
        ),
        (
            ADMIN,
            None,
            {"role": "officer", "active": "on"},
            "role",
            "At least one active admin must remain.",
        ),
        (ADMIN, OFFICER, {"role": "admin"}, "role", "At least one active admin must remain."),
    ],
)
def test_the_hall_always_keeps_an_admin(editing, me, form, field, message):
    errors = refused(
        validate_user, form, users=[ADMIN, OFFICER], counters=COUNTERS, editing=editing, me=me
    )
    assert errors[field] == message


def test_an_admin_may_demote_another_admin_when_one_remains():
    other = {"id": 3, "username": "admin2", "role": "admin", "active": 1}
    clean = validate_user({"role": "officer", "active": "on"}, users=[ADMIN, other], counters=COUNTERS,
                          editing=other, me=ADMIN)  # fmt: skip
    assert clean["role"] == "officer"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Nomor antrean {ticket}, silakan ke {counter}.", None),
        ("Nomor {ticket}, layanan {service}, {agency}", None),
        ("Silakan ke {counter}", "The sentence must say the number: put {ticket} in it."),
        ("Nomor {tiket}", "Unknown field {%(field)s}; use %(allowed)s."),
        ("Nomor {ticket.__class__}", "Unknown field {%(field)s}; use %(allowed)s."),
        ("Nomor {ticket", "Unbalanced braces; fields are written like {ticket}."),
        ("Nomor {ticket:>3}", "Write {%(field)s} as it is, without : or ! after the name."),
    ],
)
def test_announcement_templates(template, problem):
    found = template_problem(template)
    assert (found.message if found else None) == problem


def test_settings_keep_voice_keys_this_form_does_not_edit():
    form = {
        "name": "MPP Kota",
        "running_text": "Selamat datang",
        "template": "Nomor {ticket} ke {counter}",
        "recall_template": "Sekali lagi, {ticket}",
        "number_mode": "digits",
        "engine": "espeak",
        "repeat": "2",
    }
    clean = validate_settings(form, {"voice": "id+f3", "repeat": 1})
    assert clean["voice"] == {"voice": "id+f3", "template": "Nomor {ticket} ke {counter}",
                              "recall_template": "Sekali lagi, {ticket}", "number_mode": "digits",
                              "engine": "espeak", "repeat": 2}  # fmt: skip
    errors = refused(validate_settings, {**form, "name": "", "engine": "siri", "repeat": "5"})
    assert set(errors) == {"name", "engine", "repeat"}


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20


@pytest.mark.parametrize(
    ("name", "data", "result"),
    [
        ("logo.png", PNG, "png"),
        ("logo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 20, "jpeg"),
        ("logo.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "svg"),
        (
            "logo.svg",
            b'<svg onload="alert(1)"></svg>',
            "The SVG file contains scripts; choose another file.",
        ),
        (
            "logo.svg",
            b"<svg><script>alert(1)</script></svg>",
            "The SVG file contains scripts; choose another file.",
        ),
        ("logo.gif", b"GIF89a....", "Choose a PNG, JPEG or SVG file."),
        ("logo.png", b"", "Choose a PNG, JPEG or SVG file."),
        ("logo.png", PNG + b"\0" * 600_000, "The file is larger than %(kb)d KB."),
    ],
)
def test_logo_files(name, data, result):
    try:
        assert validate_logo(name, data) == result
    except FormError as exc:
        assert exc.errors["logo"].message == result


def test_changes_lists_old_and_new_values():
    assert changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": [2, 3], "c": [None, 4]}
