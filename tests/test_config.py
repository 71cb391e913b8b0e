"""config.yaml validation: a bad key is named, unknown keys are errors, the shipped file is valid."""

from __future__ import annotations

import pytest

from server.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT, hall_config


def test_shipped_config_is_valid():
    config = load_config(ROOT / "config.yaml", demo=True)
    assert config.server.async_mode == "eventlet"
    assert len(config.counters) >= 5 and len(config.agencies) >= 3
    assert config.path(config.server.database) == ROOT / "var" / "panggil.sqlite"


def break_config(tmp_path, path: str, value):
    raw = hall_config(tmp_path)
    *parents, key = path.split(".")
    node = raw
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(key)] = value
    else:
        node[key] = value
    return raw


@pytest.mark.parametrize(
    "path, value, named",
    [
        ("server.port", 70000, "server.port"),
        ("server.port", "lima ribu", "server.port"),
        ("server.async_mode", "gevent", "server.async_mode"),
        ("server.secret_key", "short", "server.secret_key"),
        ("server.colour", "blue", "server.colour: unknown key"),
        ("hall.timezone", "Asia/Atlantis", "hall.timezone"),
        ("hall.day_starts_at", "25:00", "hall.day_starts_at"),
        ("services.0.prefix", "a1", "services.0.prefix"),
        ("services.0.prefix", "ABC", "services.0.prefix"),
        ("services.0.hours", "16:00-07:00", "services.0"),
        ("services.0.daily_quota", 0, "services.0.daily_quota"),
        ("services.1.prefix", "A", "services.1.prefix: duplicate 'A'"),
        ("services.1.agency", "pajak", "services.1.agency: unknown agency 'pajak'"),
        ("counters.1.number", 1, "counters.1.number: duplicate 1"),
        ("counters.0.services", ["ktp", "sim"], "counters.0.services: unknown service 'sim'"),
        ("counters.0.token", "short", "counters.0.token"),
        ("users.1.counter", 42, "users.1.counter: unknown counter 42"),
        ("users.0.role", "root", "users.0.role"),
        ("extra", {"a": 1}, "extra: unknown key"),
        ("limits.trusted_addresses", ["lobby"], "limits.trusted_addresses"),
        ("limits.tickets_per_address", 0, "limits.tickets_per_address"),
        ("kiosks", {"lobi": {"printer": {"type": "serial"}}}, "kiosks.lobi.printer.type"),
        ("kiosks", {"lobi": {"colour": "red"}}, "kiosks.lobi"),
        ("hall.hours", "16:00-07:30", "hall"),
        ("hall.hours_by_day", {"jum": "07:30-11:00"}, "hall"),
        ("hall.breaks", [{"days": ["jum"], "from": "11:30", "to": "13:00", "label": "Sholat"}],
         "hall.breaks.0.days: unknown day 'jum'"),
        ("hall.breaks", [{"days": ["fri"], "from": "13:00", "to": "11:30", "label": "Sholat"}],
         "hall.breaks.0: the break ends"),
        ("hall.breaks", [{"days": ["fri"], "from": "11.3O", "to": "13:00", "label": "Sholat"}],
         "hall.breaks.0.from"),
        ("hall.breaks", [{"days": ["fri"], "from": "11:30", "to": "13:00"}], "hall.breaks.0.label"),
        ("calendar", [{"date": "2026-02-30", "label": "Libur"}], "calendar.0.date"),
        ("calendar", [{"from": "2026-12-26", "to": "2026-12-24", "label": "Natal"}],
         "calendar.0: to (2026-12-24) is before from (2026-12-26)"),
        ("calendar", [{"label": "Libur"}], "calendar.0: give date"),
        ("calendar", [{"date": "2026-12-25", "label": "Natal", "hours": "pagi"}], "calendar.0.hours"),
        ("calendar", [{"date": "2026-12-25", "label": "Natal", "tutup": True}], "calendar.0.tutup: unknown key"),
        ("agencies.0.weekdays", ["senin"], "agencies.0.weekdays: unknown day 'senin'"),
        ("services.0.cutoff_minutes", -5, "services.0.cutoff_minutes"),
    ],
)  # fmt: skip
def test_bad_values_name_their_key(tmp_path, path, value, named):
    with pytest.raises(ConfigError) as err:
        parse_config(break_config(tmp_path, path, value))
    assert named in str(err.value)


def test_the_schedule_keys_build_the_hall_schedule(tmp_path):
    raw = hall_config(
        tmp_path,
        hall={"hours": "07:30-16:00", "hours_by_day": {"sat": "", "sun": ""},
              "breaks": [{"days": ["fri"], "from": "11:30", "to": "13:00", "label": "Sholat Jumat"}]},
        calendar=[{"date": "2026-12-25", "label": "Hari Raya Natal"},
                  {"from": "2027-02-08", "to": "2027-03-08", "label": "Ramadan", "hours": "08:00-14:00"}],
    )  # fmt: skip
    raw["agencies"][1]["weekdays"] = ["mon", "wed"]
    raw["services"][0]["cutoff_minutes"] = 30
    config = parse_config(raw)
    hall = config.hall_schedule()
    assert hall.hours is not None and hall.hours[0] == ((450, 960),) and hall.hours[5] == ()
    assert [(sorted(b.days), b.start, b.end, b.label) for b in hall.breaks] == [
        ([4], 690, 780, "Sholat Jumat")
    ]
    natal, ramadan = hall.calendar
    assert (str(natal.first), str(natal.last), natal.closed) == ("2026-12-25", "2026-12-25", True)
    assert (str(ramadan.first), str(ramadan.last), ramadan.hours) == (
        "2027-02-08",
        "2027-03-08",
        ((480, 840),),
    )
    assert config.agencies[1].to_agency().weekdays == frozenset({0, 2})
    assert config.agencies[0].to_agency().weekdays is None
    assert config.services[0].to_service().cutoff == 30


def test_missing_required_key_is_named(tmp_path):
    raw = hall_config(tmp_path)
    del raw["services"][0]["prefix"]
    with pytest.raises(ConfigError, match=r"services\.0\.prefix: Field required"):
        parse_config(raw)


@pytest.mark.parametrize(
    "text, message",
    [
        ("server: [1, 2", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_unreadable_files(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_cli_overrides(tmp_path):
    config = parse_config(hall_config(tmp_path), **{"server.port": 6001, "server.host": None})
    assert config.server.port == 6001 and config.server.host == "0.0.0.0"


def test_server_refuses_to_start_on_bad_config(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "config.yaml"
    path.write_text("server:\n  secret_key: 0123456789abcdef0\n  port: -1\n")
    result = subprocess.run([sys.executable, "-m", "server", "--config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "server.port" in result.stderr
