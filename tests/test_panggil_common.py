"""The rules and the YAML loader the server, the display and the counter client share."""

from __future__ import annotations

import subprocess
import sys

import pytest

from panggil_common import rules
from panggil_common.yaml_file import YamlFileError, read_mapping, read_section
from tests.conftest import ROOT


def test_the_shared_module_needs_neither_flask_nor_pydantic():
    """A Raspberry Pi with only the `display` or `counter` extra imports it."""
    code = (
        "import sys, panggil_common.rules, panggil_common.yaml_file\n"
        "heavy = {'flask', 'pydantic', 'pygame', 'socketio', 'num2words'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (rules.CODE_RE, ["ktp", "kk-2", "0a", "a" * 40], ["", "KTP", "-ktp", "k_t", "a" * 41]),
        (rules.PREFIX_RE, ["A", "PK"], ["", "a", "ABC", "A1"]),
        (rules.USERNAME_RE, ["ani", "petugas.1", "a_b-c"], ["ab", "ani budi", "a" * 41]),
        (rules.DISPLAY_NAME_RE, ["tv-1", "Lobi.Utara"], ["", "tv 1", "a" * 61]),
    ],
)
def test_rules(rule, good, bad):
    assert all(rule.match(value) for value in good)
    assert not any(rule.match(value) for value in bad)


@pytest.mark.parametrize(
    ("zone", "name"),
    [
        ("Asia/Jakarta", "WIB"),
        ("Asia/Pontianak", "WIB"),
        ("Asia/Makassar", "WITA"),
        ("Asia/Jayapura", "WIT"),
        ("Asia/Singapore", None),
    ],
)
def test_zone_names(zone, name):
    assert rules.zone_name(zone) == name


def test_the_same_code_rule_everywhere():
    """config.yaml, the admin forms, the kiosks and the counter keypads agree on a service code."""
    from counter_client import config as counter_config
    from server import config as server_config
    from server import printing
    from server.pages import admin_forms

    assert admin_forms.CODE_RE is printing.KIOSK_ID_RE is counter_config.CODE_RE is rules.CODE_RE
    fields = server_config.ServiceEntry.model_fields
    assert fields["code"].metadata[0].pattern == rules.CODE_RE.pattern
    assert fields["prefix"].metadata[0].pattern == rules.PREFIX_RE.pattern


def test_read_mapping(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("server: {port: 5000}\n")
    assert read_mapping(path) == {"server": {"port": 5000}}
    path.write_text("")
    assert read_mapping(path) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("server: [1, 2\n", "config.yaml is not valid YAML: line 2, column 1: while parsing"),
        ("a: b: c\n", "config.yaml is not valid YAML: line 1, column 5: mapping values"),
        ("- a\n- list\n", "config.yaml: the top level must be a mapping of sections"),
    ],
)
def test_errors_name_the_file_and_the_line(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(YamlFileError) as err:
        read_mapping(path)
    assert message in str(err.value) and str(tmp_path) in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(YamlFileError, match=r"cannot read .*nope\.yaml: No such file"):
        read_mapping(tmp_path / "nope.yaml")


def test_read_section(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("display:\n  repeat: 2\ncounter:\nserver: 5\n")
    assert read_section(path, "display") == {"repeat": 2}
    assert read_section(path, "counter") == {}  # every setting commented out
    assert read_section(path, "kiosks") is None
    with pytest.raises(YamlFileError, match=r"config\.yaml: server: must be a mapping of settings"):
        read_section(path, "server")


@pytest.mark.parametrize("text", ["server: [1, 2\n", "- a\n- list\n"])
def test_every_part_reports_a_broken_file_alike(tmp_path, text):
    """The server, the display and the counter client say the same about the same file."""
    from counter_client import config as counter_config
    from display import config as display_config
    from server import config as server_config

    path = tmp_path / "config.yaml"
    path.write_text(text)
    messages = set()
    for part in (server_config, display_config, counter_config):
        with pytest.raises(part.ConfigError) as err:
            part.load_config(path)
        messages.add(str(err.value))
    assert len(messages) == 1 and str(path) in messages.pop()


def test_a_section_that_is_no_mapping_names_the_file(tmp_path):
    from counter_client import config as counter_config
    from display import config as display_config

    path = tmp_path / "config.yaml"
    path.write_text("display: 5\ncounter: [1]\n")
    for part, name in ((display_config, "display"), (counter_config, "counter")):
        with pytest.raises(part.ConfigError) as err:
            part.load_config(path)
        assert str(err.value) == f"{path}: {name}: must be a mapping of settings"
