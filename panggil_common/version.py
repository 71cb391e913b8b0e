"""The one version of Panggil: pyproject.toml's, as the installed distribution reports it.

The server, the display and the counter client ship as separate wheels (`panggil`,
`panggil-display`, `panggil-counter`: deploy/build_wheel.py) built from one pyproject.toml, so all
three carry the same number. A checkout that was never installed reads pyproject.toml itself.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTIONS = ("panggil", "panggil-display", "panggil-counter")
UNKNOWN = "0+unknown"
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_VERSION_LINE = re.compile(r'^version\s*=\s*"([^"]+)"', re.MULTILINE)


@cache
def version() -> str:
    """This installation's version, e.g. "0.1.0"."""
    for name in DISTRIBUTIONS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return version_in(_PYPROJECT)


def version_in(pyproject: Path) -> str:
    """The `version = "..."` of a pyproject.toml, or UNKNOWN when there is none."""
    try:
        found = _VERSION_LINE.search(pyproject.read_text(encoding="utf-8"))
    except OSError:
        return UNKNOWN
    return found.group(1) if found else UNKNOWN


def release(text: str | None) -> tuple[int, ...] | None:
    """The release numbers of a version ("0.10.2rc1" -> (0, 10, 2)), None if it has none."""
    found = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text or "")
    if not found:
        return None
    numbers = [int(part) for part in found.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()  # 1.0 == 1.0.0
    return tuple(numbers)


def is_older(device: str | None, server: str) -> bool:
    """True when a device reports a release before the server's; unknown versions are not."""
    if server == UNKNOWN:
        return False
    mine, theirs = release(server), release(device)
    return mine is not None and theirs is not None and theirs < mine
