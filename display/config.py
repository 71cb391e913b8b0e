"""Settings of a TV display: the `display:` section of a YAML file, then command-line options.

Every setting is declared once below, with its default and help text; the YAML keys, the
command-line options and the table in docs/display.md all come from that one declaration.
Standard library and PyYAML only: a Raspberry Pi installs just the `display` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panggil_common.yaml_file import YamlFileError, read_section

from .texts import LANGUAGES

REPO_ROOT = Path(__file__).resolve().parent.parent
# The display wheel carries the chime inside the package (deploy/build_wheel.py); a checkout
# keeps it in sounds/.
PACKAGED_CHIME = Path(__file__).resolve().parent / "sounds" / "chime.wav"
DEFAULT_CHIME = PACKAGED_CHIME if PACKAGED_CHIME.is_file() else REPO_ROOT / "sounds" / "chime.wav"
_RESOLUTION_RE = re.compile(r"^(\d{3,5})x(\d{3,5})$")


class ConfigError(Exception):
    """A setting is unknown or has a bad value; the message names the key."""


def _setting(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class DisplayConfig:
    """What one TV display connects to, shows and says."""

    server_url: str = _setting(
        "", "Base URL of the Panggil server; empty: find it on the LAN (mDNS, _panggil._tcp)."
    )
    hall: str = _setting(
        "", "Found several servers on the LAN: use the one of this hall name (else the first)."
    )
    discovery_interfaces: tuple[str, ...] = _setting(
        (), "Addresses of the interfaces to look for the server on; empty means all."
    )
    discovery_timeout: float = _setting(
        3.0, "Seconds one look for the server on the LAN waits for answers.", min=0.5
    )
    name: str = _setting("", "Name this display reports to the server (default: the host name).")
    counters: tuple[int, ...] = _setting(
        (), "Show only these counter numbers (a floor or zone); empty means all."
    )
    services: tuple[str, ...] = _setting(
        (), "Show only counters serving these service codes; empty means all."
    )
    resolution: str = _setting("1920x1080", "Screen size WIDTHxHEIGHT in landscape.")
    portrait: bool = _setting(False, "The TV is mounted upright: swap width and height.")
    fullscreen: bool = _setting(False, "Take the whole screen (use on the Raspberry Pi).")
    language: str = _setting("id", "Language of the screen text: id or en.")
    timezone: str = _setting(
        "Asia/Jakarta", "Time zone for the clock until the server's snapshot names the hall's."
    )
    logo: str = _setting("", "Path of a logo image (PNG) shown next to the hall name.")
    audio: bool = _setting(True, "Play the chime and the spoken announcements.")
    audio_driver: str = _setting(
        "",
        "SDL audio driver, e.g. alsa, pipewire or pulseaudio (default: SDL_AUDIODRIVER or SDL's choice).",
    )
    audio_device: str = _setting(
        "",
        "ALSA device for the sound, e.g. hw:1,0 or plughw:CARD=vc4hdmi0 (default: the system's).",
    )
    audio_cache_dir: str = _setting(
        "~/.cache/panggil/display-audio", "Where fetched announcement audio is kept."
    )
    chime: str = _setting(str(DEFAULT_CHIME), "Chime played before each announcement (WAV/OGG).")
    repeat: int = _setting(1, "How many times the announcement is spoken after the chime.", min=1)
    volume: float = _setting(1.0, "Playback volume from 0.0 to 1.0.", min=0.0, max=1.0)
    audio_wait: float = _setting(
        8.0, "Seconds to wait for announcement audio that is still being made.", min=0.0
    )
    highlight_seconds: float = _setting(10.0, "Seconds the latest call stays highlighted.", min=0.0)
    recent_calls: int = _setting(6, "How many recent calls the list shows.", min=1, max=20)
    stale_after: float = _setting(
        60.0, "Seconds without the server after which numbers are marked as not live.", min=0.0
    )
    reconnect_delay_max: float = _setting(
        15.0, "Longest wait in seconds between reconnection attempts.", min=1.0
    )
    log_level: str = _setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.")

    @property
    def size(self) -> tuple[int, int]:
        """Screen size in pixels, already swapped for portrait."""
        width, height = parse_resolution(self.resolution)
        return (height, width) if self.portrait else (width, height)


SETTINGS = tuple(dataclasses.fields(DisplayConfig))


def parse_resolution(value: str) -> tuple[int, int]:
    """Width and height from "1920x1080"."""
    match = _RESOLUTION_RE.match(value.strip())
    if not match:
        raise ConfigError(f"display.resolution: expected WIDTHxHEIGHT, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def _coerce(setting: dataclasses.Field, value: Any) -> Any:
    """Check and convert one value, naming the key on error."""
    key = f"display.{setting.name}"
    kind = setting.type
    try:
        if kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1"):
                return True
            if isinstance(value, str) and value.lower() in ("false", "no", "off", "0"):
                return False
            if not isinstance(value, bool):
                raise TypeError("expected true or false")
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise TypeError("expected a whole number")
            number: int | float = int(value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise TypeError("expected a number")
            number = float(value)
        elif kind == "str":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise TypeError("expected text")
            return str(value)
        else:  # tuples of int or str: a YAML list or "1,2,3" from the command line
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)):
                raise TypeError("expected a list")
            items = [item.strip() if isinstance(item, str) else item for item in items]
            items = [item for item in items if item != ""]
            if "int" in kind:
                if any(isinstance(item, bool) for item in items):
                    raise TypeError("expected whole numbers")
                return tuple(int(item) for item in items)
            return tuple(str(item) for item in items)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc} (got {value!r})") from None
    low, high = setting.metadata.get("min"), setting.metadata.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"{key}: {number} is outside {low}..{high}")
    return number


def _validate(config: DisplayConfig) -> DisplayConfig:
    parse_resolution(config.resolution)
    if config.language not in LANGUAGES:
        raise ConfigError(f"display.language: expected one of {', '.join(LANGUAGES)}")
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"display.log_level: unknown level {config.log_level!r}")
    if config.server_url and not re.match(r"^https?://", config.server_url):
        raise ConfigError(
            f"display.server_url: expected http://host:port, got {config.server_url!r}"
        )
    return config


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> DisplayConfig:
    """Settings from the `display:` section of a YAML file, then `overrides` (e.g. options)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(read_section(path, "display") or {})
        except YamlFileError as exc:
            raise ConfigError(str(exc)) from None
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    by_name = {setting.name: setting for setting in SETTINGS}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ConfigError(f"display.{unknown[0]}: unknown setting")
    coerced = {key: _coerce(by_name[key], value) for key, value in values.items()}
    return _validate(DisplayConfig(**coerced))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One command-line option per setting: `--server-url`, `--repeat`, `--portrait`..."""
    for setting in SETTINGS:
        flag = "--" + setting.name.replace("_", "-")
        help_text = f"{setting.metadata['help']} (default: {setting.default!r})"
        if setting.type == "bool":
            parser.add_argument(
                flag,
                dest=setting.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        else:
            parser.add_argument(flag, dest=setting.name, default=None, help=help_text)
    # The short spelling the README and the systemd unit use.
    parser.add_argument("--server", dest="server_url", default=None, help=argparse.SUPPRESS)


def config_from_args(args: argparse.Namespace) -> DisplayConfig:
    """The settings for parsed options: `--config FILE` first, then each option given."""
    overrides = {setting.name: getattr(args, setting.name, None) for setting in SETTINGS}
    return load_config(getattr(args, "config", None), overrides)
