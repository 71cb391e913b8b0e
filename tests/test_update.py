"""`panggil-display update WHEEL` with real venvs in a temporary folder and a fake `systemctl` on
PATH (no systemd manager runs here): a good wheel is taken into use, a wheel that fails its
self-check is never switched to, and one that fails to start (or starts and then dies) is rolled
back to the previous venv, which is restarted."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from display.__main__ import main as display_main
from panggil_common import update

pytestmark = pytest.mark.slow  # each venv takes a few seconds

FAKE_SYSTEMCTL = """#!/bin/sh
# What the updater asks systemd, answered from files: `restart` runs the unit's program once.
echo "$*" >> "$FAKE_SYSTEMD/calls"
case "$1" in
restart)
    "$FAKE_ROOT/current/bin/panggil-display" --run >/dev/null 2>&1
    case $? in
        0) echo active > "$FAKE_SYSTEMD/state" ;;
        2) echo flapping > "$FAKE_SYSTEMD/state" ;;  # up for a moment, then crashing
        *) echo failed > "$FAKE_SYSTEMD/state" ;;
    esac ;;
is-active)
    state=$(cat "$FAKE_SYSTEMD/state")
    if [ "$state" = flapping ]; then echo activating > "$FAKE_SYSTEMD/state"; state=active; fi
    echo "$state"
    [ "$state" = active ] ;;
esac
"""


def make_wheel(folder: Path, version: str, *, self_check: int = 0, start: int = 0) -> Path:
    """A tiny wheel whose `panggil-display` passes or fails --self-check and starting (--run)."""
    dist = f"fakedisplay-{version}.dist-info"
    files = {
        "fakedisplay/__init__.py": "",
        "fakedisplay/__main__.py": (
            "import sys\n"
            "def main():\n"
            f"    if '--self-check' in sys.argv: return {self_check}\n"
            f"    if '--version' in sys.argv: print('panggil-display {version}'); return 0\n"
            f"    return {start}\n"
        ),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: fakedisplay\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": "[console_scripts]\npanggil-display = fakedisplay.__main__:main\n",
    }

    def digest(text: str) -> str:
        raw = hashlib.sha256(text.encode()).digest()
        return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    record = "".join(
        f"{name},{digest(text)},{len(text.encode())}\n" for name, text in files.items()
    )
    files[f"{dist}/RECORD"] = record + f"{dist}/RECORD,,\n"
    wheel = folder / f"fakedisplay-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return wheel


@pytest.fixture
def pi(tmp_path, monkeypatch):
    """An install root and a fake systemd; returns (root, systemd folder, run the CLI)."""
    root, systemd, bin_dir = tmp_path / "opt", tmp_path / "systemd", tmp_path / "bin"
    for folder in (root, systemd, bin_dir):
        folder.mkdir()
    (systemd / "state").write_text("inactive\n")
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMD", str(systemd))
    monkeypatch.setenv("FAKE_ROOT", str(root))

    def run(wheel: Path) -> int:
        return display_main(["update", str(wheel), "--root", str(root), "--config", "",
                             "--start-timeout", "2", "--settle", "1.5", "--keep", "2",
                             "--pip-option=--no-index"])  # fmt: skip

    return root, systemd, run


def running(root: Path) -> str:
    return (root / "current").resolve().name.split("-")[0]


def calls(systemd: Path) -> list[str]:
    return (systemd / "calls").read_text().splitlines()


def test_updates_restart_and_roll_back_when_the_new_version_fails(pi, tmp_path, capsys):
    root, systemd, run = pi
    assert run(make_wheel(tmp_path, "0.1.0")) == 0  # the first install
    assert running(root) == "0.1.0"
    assert (root / "current" / "bin" / "panggil-display").exists()
    first, *checks = calls(systemd)
    assert first == "restart panggil-display.service"
    assert checks and set(checks) == {"is-active panggil-display.service"}

    assert run(make_wheel(tmp_path, "0.2.0")) == 0
    assert running(root) == "0.2.0"
    assert (root / "previous").resolve().name.startswith("0.1.0-")
    assert "now runs 0.2.0" in capsys.readouterr().out

    # Installs but crashes at start: rolled back to 0.2.0, which is restarted.
    (systemd / "calls").write_text("")
    assert run(make_wheel(tmp_path, "0.3.0", start=1)) == 1
    assert running(root) == "0.2.0"
    assert (systemd / "state").read_text().strip() == "active"
    assert calls(systemd)[-1] == "restart panggil-display.service"
    assert calls(systemd).count("restart panggil-display.service") == 2
    err = capsys.readouterr().err
    assert "failed" in err and "rolled back to 0.2.0" in err
    assert not [v for v in (root / "venvs").iterdir() if v.name.startswith("0.3.0")]

    # Starts, then dies within the settle time: rolled back as well.
    assert run(make_wheel(tmp_path, "0.4.0", start=2)) == 1
    assert running(root) == "0.2.0"
    assert "stopped (activating)" in capsys.readouterr().err

    # Fails its self-check: never switched to, never restarted.
    (systemd / "calls").write_text("")
    assert run(make_wheel(tmp_path, "0.5.0", self_check=1)) == 1
    assert running(root) == "0.2.0" and calls(systemd) == []
    assert "fails its self-check" in capsys.readouterr().err

    # Not a wheel pip can install: the same.
    broken = tmp_path / "broken-0.6.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    assert run(broken) == 1
    assert running(root) == "0.2.0" and calls(systemd) == []

    # A good one after all that; old venvs are pruned to --keep, current and previous kept.
    assert run(make_wheel(tmp_path, "0.7.0")) == 0
    kept = sorted(v.name.split("-")[0] for v in (root / "venvs").iterdir())
    assert kept == ["0.2.0", "0.7.0"]
    assert running(root) == "0.7.0"


def test_a_first_install_that_fails_to_start_says_there_is_nothing_to_roll_back_to(pi, tmp_path):
    root, _systemd, _run = pi
    target = update.Target(root, "panggil-display", "panggil-display.service")
    with pytest.raises(update.UpdateError, match="nothing to roll back to"):
        update.update(target, make_wheel(tmp_path, "0.1.0", start=1), start_timeout=1, settle=0.5,
                      pip_options=["--no-index"])  # fmt: skip
