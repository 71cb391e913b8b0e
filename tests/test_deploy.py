"""The production install files in deploy/: the systemd units, the config template, the script."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "unit, highest",
    [
        ("panggil-server.service", 2.0),
        ("panggil-backup.service", 1.0),
        ("panggil-worker@.service", 2.0),  # a fan-out worker (docs/install.md "A big hall")
    ],
)
def test_the_units_are_sandboxed(unit, highest):
    done = systemd_analyze("security", "--offline=yes", "--no-pager", str(DEPLOY / unit))
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= highest  # the issue asks below 5; we measured 1.1 and 0.6


def test_the_units_have_no_mistakes():
    units = [
        str(DEPLOY / n)
        for n in (
            "panggil-server.service",
            "panggil-backup.service",
            "panggil-backup.timer",
            "panggil-worker@.service",
        )
    ]
    done = systemd_analyze("verify", *units)
    # Offline, the only complaint may be the venv that exists once the install script has run.
    problems = [
        line
        for line in done.stderr.splitlines()
        if line and "/opt/panggil/venv/bin/python" not in line
    ]
    assert not problems, done.stderr


def test_the_config_template_is_valid_and_holds_no_secret():
    from server.config import parse_config

    raw = yaml.safe_load((DEPLOY / "server.yaml").read_text(encoding="utf-8"))
    assert "secret_key" not in raw["server"]
    assert "users" not in raw
    assert all("token" not in counter for counter in raw["counters"])
    config = parse_config(raw)  # valid as it is: the server generates its own secret key
    assert config.server.database == "/var/lib/panggil/panggil.sqlite"
    assert config.voice["cache_dir"].startswith("/var/cache/panggil/")


def test_the_install_script_parses():
    subprocess.run(["bash", "-n", str(DEPLOY / "install-server.sh")], check=True)


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
