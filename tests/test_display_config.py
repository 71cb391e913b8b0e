"""Display settings: one declaration, YAML `display:` section, command-line options, errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from display.config import (
    SETTINGS,
    ConfigError,
    DisplayConfig,
    add_arguments,
    config_from_args,
    load_config,
)

ROOT = Path(__file__).parent.parent


def parse(*argv: str) -> DisplayConfig:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    add_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_defaults():
    config = load_config()
    assert config.size == (1920, 1080)
    assert config.server_url == ""  # found on the LAN by mDNS
    assert config.counters == () and config.repeat == 1 and config.language == "id"
    assert Path(config.chime) == ROOT / "sounds" / "chime.wav"


def test_yaml_section_then_options(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "server: {port: 5000}\n"  # other sections belong to other parts and are left alone
        "display:\n  server_url: http://10.0.0.2:5000\n  counters: [3, 4]\n"
        "  services: [paspor]\n  portrait: true\n  repeat: 2\n  language: en\n"
    )
    config = parse("--config", str(path), "--repeat", "3", "--resolution", "1280x720")
    assert config.server_url == "http://10.0.0.2:5000"
    assert config.counters == (3, 4) and config.services == ("paspor",)
    assert config.repeat == 3 and config.language == "en"
    assert config.size == (720, 1280)  # portrait swaps


def test_command_line_lists_and_flags():
    config = parse("--server", "http://h:1", "--counters", "1, 2,5", "--no-audio", "--fullscreen")
    assert config.server_url == "http://h:1"
    assert config.counters == (1, 2, 5) and not config.audio and config.fullscreen


def test_the_project_config_yaml_loads():
    load_config(ROOT / "config.yaml")


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("colour: red", "display.colour"),
        ("repeat: 0", "display.repeat"),
        ("repeat: two", "display.repeat"),
        ("repeat: true", "display.repeat"),
        ("volume: 1.5", "display.volume"),
        ("counters: [one]", "display.counters"),
        ("counters: 5", "display.counters"),
        ("portrait: maybe", "display.portrait"),
        ("resolution: big", "display.resolution"),
        ("language: fr", "display.language"),
        ("server_url: 10.0.0.2", "display.server_url"),
        ("recent_calls: 50", "display.recent_calls"),
    ],
)
def test_bad_settings_name_their_key(tmp_path, section, key):
    path = tmp_path / "config.yaml"
    path.write_text(f"display:\n  {section}\n")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path)


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "display.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in doc]
    assert not missing, f"settings missing from docs/display.md: {missing}"


def test_the_audio_output_settings_reach_sdl(tmp_path):
    from display.audio import sdl_audio_environment

    path = tmp_path / "display.yaml"
    path.write_text("display:\n  audio_driver: alsa\n  audio_device: plughw:CARD=vc4hdmi0\n")
    config = load_config(path)
    assert sdl_audio_environment(config.audio_driver, config.audio_device) == {
        "SDL_AUDIODRIVER": "alsa",
        "AUDIODEV": "plughw:CARD=vc4hdmi0",
    }
    defaults = load_config(None)
    assert sdl_audio_environment(defaults.audio_driver, defaults.audio_device) == {}  # SDL's own
