"""Counter client settings: the `counter:` section of a YAML file, then CLI flags on top.

Every setting is declared once in SETTINGS with its default and help text; unknown keys are
errors that name the key. Standard library and PyYAML only: a Raspberry Pi at a counter installs
the `counter` extra, not Flask or pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from panggil_common.rules import CODE_RE
from panggil_common.yaml_file import YamlFileError, read_mapping, section_of


class ConfigError(Exception):
    """The counter settings are unreadable or a key has a bad value; the message names the key."""


# What a key or a button can do. `transfer` and `call_back` open a numbered menu on the status
# view; `transfer:<service code>` sends the held ticket straight to that service (for a button).
# `pause` starts a break with `pause_reason`, `pause:<reason>` with that reason; `pause_until` asks
# for the return time first (four digits, 1300 for 13.00, then Enter); `resume` ends it.
# `sign_in` asks for the officer's number and PIN on the status view; `sign_out` signs them out.
ACTIONS = ("next", "recall", "skip", "finish", "transfer", "call_back", "pause", "pause_until",
           "resume", "sign_in", "sign_out")  # fmt: skip
TRANSFER_PREFIX = "transfer:"
PAUSE_PREFIX = "pause:"
BREAK_REASONS = ("istirahat", "sholat", "rapat", "lainnya")

# Names for keys that are not a single printable character.
KEY_NAMES = ("enter", "backspace", "delete", "esc", "tab", "space")

# A USB numeric keypad: the big keys do the frequent things. "," is there because a keypad
# under an Indonesian layout sends a comma for its decimal key; "0" sits next to it.
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType({
    "enter": "next",
    "+": "next",
    ".": "recall",
    ",": "recall",
    "0": "recall",
    "-": "skip",
    "*": "finish",
    "/": "transfer",
    "backspace": "call_back",
    "7": "pause",
    "8": "pause_until",
    "9": "resume",
    "1": "sign_in",
    "3": "sign_out",
})  # fmt: skip

LANGUAGES = ("id", "en")


@dataclass(frozen=True)
class Setting:
    """One setting: its default, its type and what it is for (shown by --help and in docs)."""

    default: Any
    kind: type
    help: str
    minimum: float | None = None
    maximum: float | None = None


SETTINGS: Mapping[str, Setting] = MappingProxyType({
    "pairing": Setting(None, str, "the pairing line from the admin's counter page (sets server, number and token)"),
    "server": Setting("", str, "URL of the Panggil server on the hall's LAN; empty: find it by mDNS"),
    "hall": Setting("", str, "several servers on the LAN: use the one of this hall name (else the first)"),
    "discovery_interfaces": Setting("", str, "addresses of the interfaces to look for the server on, comma-separated; empty: all"),
    "number": Setting(None, int, "this counter's number (gerai)", 1, 999),
    "token": Setting(None, str, "this counter's token, as set by the admin"),
    "language": Setting("id", str, "language of the status view: id (Indonesian) or en"),
    "keys": Setting(DEFAULT_KEYS, dict, "key -> action map; replaces the default numeric-keypad map"),
    "gpio": Setting(MappingProxyType({}), dict, "action -> GPIO pin (BCM number or gpiozero pin name)"),
    "pause_reason": Setting("istirahat", str, "reason the `pause` key sends: istirahat, sholat, rapat or lainnya"),
    "keyboard": Setting(True, bool, "read keys from the terminal (or from stdin when it is not one)"),
    "debounce_ms": Setting(300, int, "ignore a repeat of the same action within this many ms", 0, 5000),
    "gpio_bounce_ms": Setting(50, int, "electrical bounce time of the GPIO buttons in ms", 1, 1000),
    "ack_timeout_s": Setting(4.0, float, "seconds to wait for the server to answer a press", 0.2, 60),
    "retry_window_s": Setting(20.0, float, "seconds a lost press is retried (same request id) after a drop", 0, 600),
    "reconnect_max_s": Setting(5.0, float, "longest pause between reconnection attempts", 0.1, 60),
})  # fmt: skip


@dataclass(frozen=True)
class CounterConfig:
    """The validated settings of one counter client."""

    number: int
    token: str
    server: str = SETTINGS["server"].default
    hall: str = ""
    discovery_interfaces: str = ""
    language: str = "id"
    keys: Mapping[str, str] = field(default_factory=lambda: DEFAULT_KEYS)
    gpio: Mapping[str, int | str] = field(default_factory=lambda: MappingProxyType({}))
    pause_reason: str = "istirahat"
    keyboard: bool = True
    debounce_ms: int = 300
    gpio_bounce_ms: int = 50
    ack_timeout_s: float = 4.0
    retry_window_s: float = 20.0
    reconnect_max_s: float = 5.0


PAIRING_PREFIX = "panggil:counter?"
PAIRED_KEYS = ("server", "number", "token")


def parse_pairing(text: str) -> dict[str, Any]:
    """server, number and token from a pairing line: panggil:counter?server=...&counter=5&token=..."""
    where = "config error: counter.pairing"
    text = text.strip()
    if not text.startswith(PAIRING_PREFIX):
        raise ConfigError(
            f"{where}: must start with {PAIRING_PREFIX} (copy it from the admin's counter page)"
        )
    try:
        query = parse_qs(text.removeprefix(PAIRING_PREFIX), strict_parsing=True)
    except ValueError:
        raise ConfigError(f"{where}: not a pairing line") from None
    values = {}
    for key, name in (("server", "server"), ("counter", "number"), ("token", "token")):
        found = query.get(key, [])
        if len(found) != 1:
            raise ConfigError(f"{where}: needs exactly one {key}=")
        values[name] = found[0]
    return values


def load_config(
    path: str | Path | None, pairing: str | None = None, **overrides: Any
) -> CounterConfig:
    """Read the `counter:` section of a YAML file (if given), then a pairing line and CLI flags."""
    raw: dict = {}
    if path is not None:
        raw = _read_section(Path(path), overrides.get("number"))
    if pairing is not None:  # a newer pairing replaces what the file says about the link
        raw = {k: v for k, v in raw.items() if k not in (*PAIRED_KEYS, "pairing")}
        raw["pairing"] = pairing
    for key, value in overrides.items():
        if value is not None:
            raw[key] = value
    return parse_config(raw)


def _read_section(path: Path, number: object) -> dict:
    try:
        document = read_mapping(path)
        if "counter" in document:
            return section_of(document, "counter", path)
    except YamlFileError as exc:
        raise ConfigError(str(exc)) from None
    # The server's own config.yaml has no `counter:` section (the server refuses unknown sections),
    # so on the server's machine (`make counter`) take the URL and a token from its catalogue.
    return _from_server_config(document, number)


def _from_server_config(document: dict, number: object) -> dict:
    counters = document.get("counters")
    if not isinstance(counters, list) or not counters:
        return {}
    wanted = (
        counters[0]
        if number is None
        else next(
            (c for c in counters if isinstance(c, dict) and str(c.get("number")) == str(number)),
            None,
        )
    )
    if not isinstance(wanted, dict):
        return {}
    raw: dict = {"number": wanted.get("number")}
    if wanted.get("token"):
        raw["token"] = wanted["token"]
    server = document.get("server") if isinstance(document.get("server"), dict) else {}
    raw["server"] = f"http://127.0.0.1:{server.get('port', 5000)}"
    return raw


def parse_config(raw: Mapping[str, Any]) -> CounterConfig:
    """Validate a `counter:` mapping; raise ConfigError naming the first bad key."""
    raw = dict(raw)
    if raw.get("pairing") is not None:
        if not isinstance(raw["pairing"], str):
            raise ConfigError("config error: counter.pairing: must be str")
        paired = parse_pairing(raw.pop("pairing"))
        raw = {**paired, **raw}  # a server, number or token given beside it wins
    raw.pop("pairing", None)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SETTINGS:
            raise ConfigError(f"config error: counter.{key}: unknown key")
        values[key] = _check(key, value)
    for key in ("number", "token"):
        if values.get(key) is None:
            flag = "--counter" if key == "number" else f"--{key}"
            raise ConfigError(f"config error: counter.{key}: required (or pass {flag} or --pair)")
    return CounterConfig(**values)


def _check(key: str, value: Any) -> Any:
    setting = SETTINGS[key]
    where = f"config error: counter.{key}"
    if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if setting.kind is int and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, setting.kind) or (
        setting.kind is not bool and isinstance(value, bool)
    ):
        raise ConfigError(f"{where}: must be {setting.kind.__name__}, not {value!r}")
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where}: must be at least {setting.minimum:g}")
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where}: must be at most {setting.maximum:g}")
    if key == "server" and value and not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{where}: must be an http:// URL such as http://192.168.1.10:5000")
    if key == "server":
        return value.rstrip("/")
    if key == "token" and not value.strip():
        raise ConfigError(f"{where}: must not be empty")
    if key == "language" and value not in LANGUAGES:
        raise ConfigError(f"{where}: must be one of {', '.join(LANGUAGES)}")
    if key == "pause_reason" and value not in BREAK_REASONS:
        raise ConfigError(f"{where}: must be one of {', '.join(BREAK_REASONS)}")
    if key == "keys":
        return MappingProxyType(
            {_key_name(k): _action(f"counter.keys.{k}", a) for k, a in value.items()}
        )
    if key == "gpio":
        pins = {_action("counter.gpio", a): _pin(a, p) for a, p in value.items()}
        seen: dict[int | str, str] = {}
        for action, pin in pins.items():
            if pin in seen:
                raise ConfigError(f"{where}.{action}: pin {pin} is already used by {seen[pin]}")
            seen[pin] = action
        return MappingProxyType(pins)
    return value


def _key_name(key: object) -> str:
    """A key as the keyboard reader names it: one character, or one of KEY_NAMES."""
    name = str(key)
    if len(name) == 1 and name.isprintable():
        return name
    if name.lower() in KEY_NAMES:
        return name.lower()
    raise ConfigError(
        f"config error: counter.keys.{name}: unknown key name (use one character or one of {', '.join(KEY_NAMES)})"
    )


def _action(where: str, action: object) -> str:
    if isinstance(action, str) and action in ACTIONS:
        return action
    if isinstance(action, str) and action.startswith(TRANSFER_PREFIX):
        code = action.removeprefix(TRANSFER_PREFIX)
        if CODE_RE.match(code):
            return action
    if isinstance(action, str) and action.removeprefix(PAUSE_PREFIX) in BREAK_REASONS:
        return action
    choices = ", ".join(ACTIONS)
    raise ConfigError(
        f"config error: {where}: unknown action {action!r} (one of {choices},"
        f" transfer:<service> or pause:<{'|'.join(BREAK_REASONS)}>)"
    )


def _pin(action: str, pin: object) -> int | str:
    if isinstance(pin, int) and not isinstance(pin, bool) and 0 <= pin <= 53:
        return pin
    if isinstance(pin, str) and re.fullmatch(r"(GPIO|BCM|BOARD|J8:)?\d{1,2}", pin.strip().upper()):
        return pin.strip().upper()
    raise ConfigError(
        f"config error: counter.gpio.{action}: bad pin {pin!r} (a BCM number such as 17)"
    )
