"""A Pi's side of pairing: trade the admin page's 6-digit code for this device's settings at
`POST /api/pair` (server/pairing.py) and write them into the device's YAML file.

Standard library and PyYAML only: the display and the counter keypad share it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

from panggil_common.yaml_file import YamlFileError, read_mapping

CODE_RE = re.compile(r"^\d{6}$")
PAIR_PREFIX = "panggil:pair?"


class PairingError(Exception):
    """The code was refused (wrong, used, expired, too many tries) or the server not reached."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_pair_argument(text: str) -> tuple[str, str]:
    """The code and the server URL ("" when not given) from `--pair`: "123456", "123 456" or
    the admin page's pairing text "panggil:pair?server=...&code=..."."""
    text = text.strip()
    if text.startswith(PAIR_PREFIX):
        query = parse_qs(text.removeprefix(PAIR_PREFIX))
        code = (query.get("code") or [""])[0]
        server = (query.get("server") or [""])[0]
    else:
        code, server = text.replace(" ", "").replace("-", ""), ""
    if not CODE_RE.match(code):
        raise PairingError("bad-code", f"a pairing code is 6 digits, got {text!r}")
    return code, server.rstrip("/")


def is_pairing_code(text: str) -> bool:
    """True for a 6-digit code or the admin's "panggil:pair?..." text (not a counter's older
    "panggil:counter?..." pairing line)."""
    try:
        parse_pair_argument(text)
    except PairingError:
        return False
    return True


def exchange(server_url: str, code: str, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    """The server's answer for a code: {"kind", "hall", "settings": {...}}."""
    body = json.dumps({"code": code, "kind": kind}).encode()
    request = urllib.request.Request(
        server_url.rstrip("/") + "/api/pair",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            refusal = json.loads(exc.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            refusal = {}
        raise PairingError(
            str(refusal.get("error") or exc.code), str(refusal.get("message") or exc.reason)
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PairingError("unreachable", f"{server_url}: {exc}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("settings"), dict):
        raise PairingError("bad-answer", f"{server_url} answered {answer!r}")
    return answer


def write_settings(path: str | Path, section: str, values: dict[str, Any]) -> None:
    """Set `values` in the `section:` of a YAML file (made if missing), keeping everything else.

    Written whole to a temporary file and renamed, readable by its owner only: it may hold a
    counter's token.
    """
    path = Path(path)
    document: dict = {}
    if path.exists():
        try:
            document = read_mapping(path)
        except YamlFileError as exc:
            raise PairingError("bad-config", str(exc)) from None
    current = document.get(section)
    document[section] = {**(current if isinstance(current, dict) else {}), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            yaml.safe_dump(document, out, allow_unicode=True, sort_keys=False)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pair_device(
    kind: str,
    argument: str,
    config_path: str | Path,
    *,
    server: str = "",
    say: Any = print,
    searching_text: str = "Mencari server...",
    discovery_timeout: float = 60.0,
) -> dict[str, Any]:
    """Pair this device: find the server (the one given, else the pairing text's, else by mDNS),
    trade the code, write the settings into `config_path`'s `kind` section; returns what was
    written. A server found by mDNS is not written: the device keeps finding it, wherever the
    server moves, and the hall's name written beside it picks the right one."""
    import threading

    from panggil_common import discovery

    code, from_text = parse_pair_argument(argument)
    section: dict = {}
    if Path(config_path).exists():
        try:
            found_section = read_mapping(Path(config_path)).get(kind)
        except YamlFileError as exc:
            raise PairingError("bad-config", str(exc)) from None
        section = found_section if isinstance(found_section, dict) else {}
    url = server or from_text or str(section.get("server") or section.get("server_url") or "")
    typed = bool(url)
    if not url:
        say(searching_text)
        stop = threading.Event()
        timer = threading.Timer(discovery_timeout, stop.set)
        timer.start()
        interfaces = section.get("discovery_interfaces") or ()
        if isinstance(interfaces, str):
            interfaces = [i for i in interfaces.split(",") if i.strip()]
        try:
            url = discovery.find_server(
                hall=str(section.get("hall") or ""), interfaces=tuple(interfaces), stop=stop
            ).url
        except discovery.DiscoveryStopped:
            raise PairingError("not-found", "no Panggil server found on the LAN") from None
        finally:
            timer.cancel()
    answer = exchange(url, code, kind)
    values = dict(answer["settings"])
    if answer.get("hall"):
        values["hall"] = str(answer["hall"])
    if typed:
        values["server_url" if kind == "display" else "server"] = url
    write_settings(config_path, kind, values)
    return {**values, "server_in_use": url}


def pair_command(kind: str, code: str, config: str | None, server: str = "") -> int:
    """`--pair CODE` of panggil-display and panggil-counter: trade the code for the device's
    settings, write them to --config and say so; the exit code (0: paired)."""
    if not config:
        print("error: --pair CODE needs --config FILE to write the settings to", file=sys.stderr)
        return 2
    try:
        paired = pair_device(kind, code, config, server=server)
    except PairingError as exc:
        print(f"error: pairing failed: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    who = f"counter {paired['number']}" if kind == "counter" else f"display {paired['name']!r}"
    print(f"paired: {who} of {paired.get('hall', '?')} (server {paired['server_in_use']}), "
          f"settings written to {config}", flush=True)  # fmt: skip
    return 0
