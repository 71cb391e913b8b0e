"""Update a Pi's display or counter client to a new wheel, and roll back if it fails to start.

    sudo panggil-display update panggil_display-0.2.0-py3-none-any.whl
    sudo panggil-counter update panggil_counter-0.2.0-py3-none-any.whl

Each install lives in a venv of its own under ROOT/venvs/, and the systemd unit starts
ROOT/current/bin/<command>, `current` being a symlink. An update:
1. makes a new venv and installs the wheel into it (pip's `--find-links ROOT/wheels` finds the
   pygame the installer built against the Pi's SDL2, so no rebuild); a failure there leaves the
   running install alone;
2. runs `<command> --self-check --config CONFIG` from the new venv (imports, chime, fonts,
   settings): a failure there too leaves the running install alone;
3. points `current` at the new venv (`previous` at the old one) and restarts the unit;
4. health: the unit must become active within `--start-timeout` seconds and then stay active for
   `--settle` seconds (with Restart=always a crashing client shows as "activating"; with
   Type=notify it is active only once it said READY=1);
5. if not, `current` goes back to the old venv, the unit is restarted on it, and the command
   exits 1 naming the problem. The failed venv is removed; the newest `--keep` venvs are kept.

Standard library only: it runs from the installed part's own venv.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PARTS = {
    # part: (command, unit, install root, config file)
    "display": (
        "panggil-display",
        "panggil-display.service",
        "/opt/panggil-display",
        "/etc/panggil/display.yaml",
    ),
    "counter": (
        "panggil-counter",
        "panggil-counter.service",
        "/opt/panggil-counter",
        "/etc/panggil/counter.yaml",
    ),
}


class UpdateError(Exception):
    """The new wheel was not taken into use; the message says why and what runs now."""


@dataclass(frozen=True)
class Target:
    """Where one part is installed and how it is started."""

    root: Path
    command: str
    unit: str
    config: str | None = None
    python: str = sys.executable
    systemctl: str = "systemctl"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def previous(self) -> Path:
        return self.root / "previous"

    @property
    def venvs(self) -> Path:
        return self.root / "venvs"


def _run(args: Sequence[str | Path], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a command to its end; one that hangs past `timeout` counts as failed (exit 124)."""
    command = [str(a) for a in args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", f"timed out after {timeout:g} s")


def _point(link: Path, target: Path) -> None:
    """Make `link` a symlink to `target` in one step (a rename), never missing in between."""
    temporary = link.with_name(f".{link.name}.new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)


def install_venv(target: Target, wheel: Path, pip_options: Sequence[str] = ()) -> Path:
    """A new venv under ROOT/venvs with the wheel installed and self-checked; raises UpdateError."""
    target.venvs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    venv = target.venvs / f"{wheel.name.split('-')[1]}-{stamp}"
    suffix = 1
    while venv.exists():
        suffix += 1
        venv = target.venvs / f"{wheel.name.split('-')[1]}-{stamp}-{suffix}"
    try:
        made = _run([target.python, "-m", "venv", venv])
        if made.returncode != 0:
            raise UpdateError(f"cannot make a venv in {venv}: {made.stderr.strip()}")
        links = target.root / "wheels"
        find = ["--find-links", str(links)] if links.is_dir() else []
        # Long: a dependency without a wheel for this Pi is compiled.
        pip = _run([venv / "bin" / "python", "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", *find, *pip_options, wheel], timeout=3600)  # fmt: skip
        if pip.returncode != 0:
            raise UpdateError(f"pip could not install {wheel.name}: {pip.stderr.strip()[-2000:]}")
        check: list[str | Path] = [venv / "bin" / target.command, "--self-check"]
        if target.config:
            check += ["--config", target.config]
        checked = _run(check, timeout=120)
        if checked.returncode != 0:
            raise UpdateError(
                f"{wheel.name} fails its self-check: {(checked.stderr or checked.stdout).strip()}"
            )
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    return venv


def unit_state(target: Target) -> str:
    """`systemctl is-active` of the unit: active, activating, failed, inactive..."""
    return (
        _run([target.systemctl, "is-active", target.unit], timeout=30).stdout.strip() or "unknown"
    )


def healthy(
    target: Target,
    start_timeout: float,
    settle: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[bool, str]:
    """Whether the unit became active within start_timeout and then stayed so for settle seconds."""
    deadline = clock() + start_timeout
    state = unit_state(target)
    while state != "active":
        if clock() >= deadline or state == "failed":
            return False, f"{target.unit} is {state}, not active, after the restart"
        sleep(0.5)
        state = unit_state(target)
    until = clock() + settle
    while clock() < until:
        sleep(min(1.0, max(0.0, until - clock())))
        state = unit_state(target)
        if state != "active":
            return False, f"{target.unit} stopped ({state}) within {settle:g} s of starting"
    return True, "active"


def prune(target: Target, keep: int) -> None:
    """Remove all but the newest `keep` venvs; never the current or the previous one."""
    in_use = {p.resolve() for p in (target.current, target.previous) if p.is_symlink()}
    venvs = sorted(
        (p for p in target.venvs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for old in venvs[: max(0, len(venvs) - keep)]:
        if old.resolve() not in in_use:
            shutil.rmtree(old, ignore_errors=True)


def update(
    target: Target,
    wheel: Path,
    *,
    pip_options: Sequence[str] = (),
    start_timeout: float = 30.0,
    settle: float = 20.0,
    keep: int = 3,
) -> Path:
    """Install `wheel` as the running version, or leave or put back the old one; see the module."""
    if not wheel.is_file():
        raise UpdateError(f"no such wheel: {wheel}")
    old = target.current.resolve() if target.current.is_symlink() else None
    new = install_venv(target, wheel.resolve(), pip_options)
    _point(target.current, new)
    if old is not None:
        _point(target.previous, old)
    restarted = _run([target.systemctl, "restart", target.unit], timeout=120)
    ok, why = (
        healthy(target, start_timeout, settle)
        if restarted.returncode == 0
        else (False, f"systemctl restart failed: {restarted.stderr.strip()}")
    )
    if ok:
        prune(target, keep)
        return new
    if old is None:
        raise UpdateError(f"{why}; nothing to roll back to (journalctl -u {target.unit})")
    _point(target.current, old)
    _run([target.systemctl, "restart", target.unit], timeout=120)
    shutil.rmtree(new, ignore_errors=True)
    raise UpdateError(f"{why}; rolled back to {old.name} (journalctl -u {target.unit})")


def main(argv: Sequence[str], part: str) -> int:
    """`panggil-display update WHEEL [options]` and the same for panggil-counter."""
    command, unit, root, config = PARTS[part]
    parser = argparse.ArgumentParser(prog=f"{command} update", description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help=f"the new {command} wheel")
    parser.add_argument("--root", default=root, help=f"install folder (default {root})")
    parser.add_argument("--unit", default=unit, help=f"systemd unit (default {unit})")
    parser.add_argument("--config", default=config, help=f"settings for --self-check (default {config})")  # fmt: skip
    parser.add_argument("--start-timeout", type=float, default=30.0,
                        help="seconds the unit may take to become active (default 30)")  # fmt: skip
    parser.add_argument("--settle", type=float, default=20.0,
                        help="seconds it must then stay active (default 20)")  # fmt: skip
    parser.add_argument("--keep", type=int, default=3, help="venvs to keep (default 3)")
    parser.add_argument("--pip-option", action="append", default=[], dest="pip_options",
                        help="passed to pip install, e.g. --pip-option=--no-index")  # fmt: skip
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = Target(Path(args.root), command, args.unit, args.config or None)
    try:
        new = update(target, args.wheel, pip_options=args.pip_options,
                     start_timeout=args.start_timeout, settle=args.settle, keep=args.keep)  # fmt: skip
    except UpdateError as exc:
        print(f"update failed: {exc}", file=sys.stderr)
        return 1
    print(f"{command} now runs {new.name} ({args.unit} active)")
    return 0
