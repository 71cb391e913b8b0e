"""The production install files in deploy/: the systemd units, the config template, the script."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import ROOT, LiveServer

DEPLOY = ROOT / "deploy"
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


def systemd_analyze(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing (Debian package systemd)")
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60)


UNITS = ("panggil-server.service", "panggil-backup.service", "panggil-display.service",
         "panggil-counter.service", "panggil-worker@.service")  # fmt: skip
# What the install scripts put there; offline, systemd-analyze verify misses them.
INSTALLED_PROGRAMS = ("/opt/panggil/venv/bin/python", "/opt/panggil-display/current/bin/panggil-display",
                      "/opt/panggil-counter/current/bin/panggil-counter")  # fmt: skip


@pytest.mark.parametrize("unit", UNITS)
def test_the_units_are_sandboxed(unit):
    """The issue asks below 5 for each; with systemd 252 we measured 1.1 (server), 0.6 (backup),
    1.5 (display), 1.5 (counter) and 1.1 (a fan-out worker, docs/install.md "A big hall")."""
    done = systemd_analyze("security", "--offline=yes", "--no-pager", str(DEPLOY / unit))
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) < 5


def test_the_units_have_no_mistakes():
    done = systemd_analyze("verify", *(str(DEPLOY / n) for n in (*UNITS, "panggil-backup.timer")))
    problems = [line for line in done.stderr.splitlines()
                if line and not any(program in line for program in INSTALLED_PROGRAMS)]  # fmt: skip
    assert not problems, done.stderr


@pytest.mark.parametrize("unit", ["panggil-display.service", "panggil-counter.service"])
def test_the_pi_units_restart_watch_and_log_to_the_journal_only(unit):
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    assert settings["Restart"] == ["always"] and settings["Type"] == ["notify"]
    assert settings["WatchdogSec"] and settings["NotifyAccess"] == ["main"]
    assert settings["StandardError"] == ["journal"]
    assert "--log-file" not in text  # nothing that grows for ever
    assert settings["ExecStart"][0].startswith(f"/opt/{unit.removesuffix('.service')}/current/bin/")
    assert any("setterm --blank 0" in command for command in settings["ExecStartPre"])


def test_systemd_notifications_reach_the_socket(tmp_path):
    import socket

    from panggil_common.sdnotify import Watchdog, send

    assert send("READY=1", {}) is False  # no systemd: nothing to do
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(5)
        now = [100.0]
        dog = Watchdog(
            {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"}, clock=lambda: now[0]
        )
        dog.ready()
        for step in (0.0, 5.0, 10.0, 15.0, 29.0, 31.0):  # due every 15 s, half of WatchdogSec
            now[0] = 100.0 + step
            dog.alive()
        received = [systemd.recv(64).decode() for _ in range(4)]
        systemd.setblocking(False)
        with pytest.raises(BlockingIOError):
            systemd.recv(64)
    assert received == ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]
    assert Watchdog({"NOTIFY_SOCKET": str(path)}).interval is None  # no WatchdogSec: no pings


def test_the_config_template_is_valid_and_holds_no_secret():
    from server.config import parse_config

    raw = yaml.safe_load((DEPLOY / "server.yaml").read_text(encoding="utf-8"))
    assert "secret_key" not in raw["server"]
    assert "users" not in raw
    assert all("token" not in counter for counter in raw["counters"])
    config = parse_config(raw)  # valid as it is: the server generates its own secret key
    assert config.server.database == "/var/lib/panggil/panggil.sqlite"
    assert config.voice["cache_dir"].startswith("/var/cache/panggil/")


@pytest.mark.parametrize(
    "script", ["install-server.sh", "install-display.sh", "install-counter.sh"]
)
def test_the_install_scripts_parse(script):
    subprocess.run(["bash", "-n", str(DEPLOY / script)], check=True)


@pytest.mark.slow
def test_the_server_runs_without_writable_executable_memory(tmp_path, monkeypatch):
    """What MemoryDenyWriteExecute=yes enforces, through the kernel's own switch (Linux 6.3+):
    eventlet, greenlet, Argon2 and espeak-ng's ctypes callback must all work under it."""
    probe = subprocess.run([sys.executable, "-c", "import ctypes, sys; libc = ctypes.CDLL(None); "
                            f"sys.exit(libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0))"])  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3 or later)")
    # sys.executable is what LiveServer starts: a wrapper that switches MDWE on (children and
    # exec inherit it: the wrapper's own check is that W+X memory is refused), then execs Python.
    wrapper = tmp_path / "python-mdwe"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import ctypes, os, sys\n"
        f"assert ctypes.CDLL(None).prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) == 0\n"
        "import mmap\n"
        "try:\n"
        "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        "    sys.exit('MDWE is not in force')\n"
        "except PermissionError:\n"
        "    pass\n"
        f"os.execv({sys.executable!r}, [{sys.executable!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    server = LiveServer(tmp_path / "hall").start()  # Argon2 hashed the users as it started
    try:
        ticket = server.issue()
        called = server.command(1, "call_next", "mdwe-1")
        assert called.ok and called.json()["result"]["ticket"]["id"] == ticket["id"]
        deadline = time.monotonic() + 10
        while not list((tmp_path / "hall" / "audio").rglob("*.wav")):
            assert time.monotonic() < deadline, (
                "espeak-ng made no clip: " + server.log_path.read_text()[-2000:]
            )
            time.sleep(0.1)
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()


def test_every_server_hall_and_limits_setting_is_in_the_install_guide():
    from server.config import HallSection, LimitsSection, ServerSection

    guide = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    for section, model in (
        ("server", ServerSection),
        ("hall", HallSection),
        ("limits", LimitsSection),
    ):
        for key in model.model_fields:
            assert f"{section}.{key}" in guide, f"{section}.{key} is not in docs/install.md"


FAKES = {
    # The system commands the install script uses, answered in a scratch folder; every call is logged.
    "apt-get": "exit 0",
    "useradd": "exit 0",
    "usermod": "exit 0",
    "systemctl": """case "$1" in
restart)
    if "$PANGGIL_ROOT/current/bin/panggil-display" --self-check --config "$PANGGIL_ETC/display.yaml"; then
        echo active > "$FAKE_LOG.state"; else echo failed > "$FAKE_LOG.state"; fi ;;
is-active) cat "$FAKE_LOG.state"; grep -qx active "$FAKE_LOG.state" ;;
esac""",
}


@pytest.mark.slow
def test_the_display_installer_puts_only_the_wheel_on_the_pi_and_upgrades_through_update(tmp_path):
    """deploy/install-display.sh as root on a scratch "Pi": fake apt-get, useradd and systemctl,
    a real venv from the real display wheel; then a second run, which is an upgrade."""
    from tests.test_wheel import build_part, importable, pi_env

    env = pi_env()
    wheel = build_part("display", tmp_path / "dist", env)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for name, body in FAKES.items():
        (fakes / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "$FAKE_LOG"\n{body}\n')
        (fakes / name).chmod(0o755)
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "cmdline.txt").write_text(
        "console=serial0,115200 console=tty1 root=PARTUUID=1 rootwait\n"
    )
    (boot / "config.txt").write_text("[all]\ndtoverlay=vc4-fkms-v3d\n")
    root, etc, units, log = (
        tmp_path / "opt",
        tmp_path / "etc",
        tmp_path / "units",
        tmp_path / "calls",
    )
    units.mkdir()
    env.update(PATH=f"{fakes}:{env['PATH']}", FAKE_LOG=str(log), PANGGIL_ROOT=str(root),
               PANGGIL_ETC=str(etc), PANGGIL_UNITS=str(units), PANGGIL_BOOT_DIRS=str(boot),
               PANGGIL_PYGAME_WHEEL="1", SDL_VIDEODRIVER="dummy")  # fmt: skip
    script = [str(DEPLOY / "install-display.sh"), str(wheel)]
    if os.geteuid() != 0:
        pytest.skip("the install script runs as root")
    first = subprocess.run([*script, "http://10.0.0.5:5000", "lobby-9"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=900)  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    venv = (root / "current").resolve()
    assert venv.parent == root / "venvs" and venv.name.startswith(wheel.name.split("-")[1])
    assert importable(venv / "bin" / "python", ["server", "display"], env, tmp_path) == ["display"]
    settings = yaml.safe_load((etc / "display.yaml").read_text())["display"]
    assert settings["server_url"] == "http://10.0.0.5:5000" and settings["name"] == "lobby-9"
    assert (units / "panggil-display.service").read_text() == (
        DEPLOY / "panggil-display.service"
    ).read_text()
    assert (root / "docs" / "display.md").is_file()
    assert "consoleblank=0" in (boot / "cmdline.txt").read_text()
    assert "\ndtoverlay=vc4-kms-v3d" in (boot / "config.txt").read_text()
    calls = log.read_text().splitlines()
    assert "systemctl enable panggil-display.service" in calls
    assert calls[-1] == "systemctl restart panggil-display.service"
    assert (tmp_path / "calls.state").read_text().strip() == "active"

    # Run again (a newer wheel, here the same one): an upgrade into a new venv, through `update`.
    (etc / "display.yaml").write_text((etc / "display.yaml").read_text() + "  repeat: 1\n")
    again = subprocess.run(
        script, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "now runs" in again.stdout
    assert (root / "current").resolve() != venv and (root / "previous").resolve() == venv
    assert "repeat: 1" in (etc / "display.yaml").read_text()  # the settings are the admin's


def test_the_counter_log_file_stays_bounded(tmp_path):
    from counter_client.__main__ import LOG_FILE_BYTES, log_handlers

    assert log_handlers(None) is None  # stderr: the journal under systemd
    (handler,) = log_handlers(str(tmp_path / "counter.log"))
    log = logging.getLogger("test-counter-log")
    log.propagate = False
    log.addHandler(handler)
    try:
        for n in range(3 * LOG_FILE_BYTES // 100):
            log.warning("press %06d %s", n, "x" * 80)
    finally:
        log.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["counter.log", "counter.log.1"]
    assert all((tmp_path / f).stat().st_size <= LOG_FILE_BYTES for f in files)


def notifications(command: list[str], tmp_path, env: dict, wanted: int = 3) -> list[str]:
    """Start a Pi part under a fake systemd notify socket and collect what it sends, then stop it."""
    import socket

    path = tmp_path / "notify"
    received: list[str] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(20)
        process = subprocess.Popen(command, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, env={**os.environ, **env, "NOTIFY_SOCKET": str(path),
                                                                "WATCHDOG_USEC": "1000000"})  # fmt: skip
        try:
            while len(received) < wanted:
                try:
                    received.append(systemd.recv(64).decode())
                except TimeoutError:
                    break
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=20)
    assert len(received) == wanted, err.decode()[-2000:]
    return received


@pytest.mark.slow
def test_the_display_tells_systemd_it_is_ready_and_alive(tmp_path):
    received = notifications([sys.executable, "-m", "display", "--server-url", "http://127.0.0.1:9",
                              "--no-audio", "--resolution", "640x360"], tmp_path,
                             {"SDL_VIDEODRIVER": "dummy", "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert received == ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]


@pytest.mark.slow
def test_the_counter_client_tells_systemd_it_is_ready_and_alive(tmp_path):
    received = notifications([sys.executable, "-m", "counter_client", "--server", "http://127.0.0.1:9",
                              "--counter", "1", "--token", "t", "--no-keyboard"], tmp_path,
                             {"PYTHONPATH": str(ROOT)})  # fmt: skip
    assert received == ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]
