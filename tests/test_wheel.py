"""The server as a hall installs it: a wheel, a fresh venv, a read-only package folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import yaml

from panggil_common import version as versions
from server import i18n
from tests.conftest import ROOT, TOKENS, free_port, hall_config


def package_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below folder with its size and mtime, bytecode caches aside (Python's own)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip


def assert_wheel_holds_the_checkout(wheel: Path) -> None:
    """The server's files in the wheel: what git tracks, the compiled catalogues and the chime;
    and the rules and protocol it shares with the Pi parts."""
    shared = ("server", "panggil_common", "panggil_protocol")
    tracked = subprocess.run(["git", "ls-files", *shared], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        return  # not a git checkout: the installed server's own checks below still run
    expected = {name for name in tracked.stdout.split() if not name.endswith(".gitignore")}
    expected |= {name.removesuffix(".po") + ".mo" for name in expected if name.endswith(".po")}
    expected.add("server/chime.wav")
    with zipfile.ZipFile(wheel) as z:
        shipped = {name for name in z.namelist() if name.startswith(tuple(f"{p}/" for p in shared))}
    assert shipped == expected


def copy_translations(tmp_path: Path) -> Path:
    root = tmp_path / "translations"
    for po_path in i18n.TRANSLATIONS.glob("*/*/LC_MESSAGES/*.po"):
        target = root / po_path.relative_to(i18n.TRANSLATIONS)
        target.parent.mkdir(parents=True)
        target.write_bytes(po_path.read_bytes())
    return root


def test_matching_catalogues_are_used_as_shipped(tmp_path):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = copy_translations(tmp_path)
    for po_path in root.glob("*/*/LC_MESSAGES/*.po"):
        # As the build made them, in another minute: Babel dates the header of a .po without dates.
        with po_path.open("rb") as f:
            catalog = read_po(f)
        catalog.creation_date = catalog.revision_date = datetime(2020, 1, 1, tzinfo=UTC)
        with po_path.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)
    shipped = package_files(root)
    assert i18n.catalogue_root.__wrapped__(root) == root
    assert package_files(root) == shipped  # nothing rewritten: they say what the .po files say


def test_a_checkout_compiles_missing_or_stale_catalogues_in_place(tmp_path):
    root = copy_translations(tmp_path)
    assert i18n.catalogue_root.__wrapped__(root) == root
    core = root / "core" / "id" / "LC_MESSAGES"
    assert b"Masuk\x00" in (core / "messages.mo").read_bytes()
    po = (core / "messages.po").read_text(encoding="utf-8")
    (core / "messages.po").write_text(
        po.replace('msgstr "Masuk"', 'msgstr "Masuk ke sistem"'), encoding="utf-8"
    )
    assert i18n.catalogue_root.__wrapped__(root) == root
    assert b"Masuk ke sistem" in (core / "messages.mo").read_bytes()


def test_a_read_only_install_compiles_its_catalogues_elsewhere(tmp_path, monkeypatch):
    root = copy_translations(tmp_path)
    write = i18n._write

    def read_only(folder: Path, files: dict) -> None:
        if folder == root:  # chmod does not stop root, who runs CI containers
            raise PermissionError(13, "Permission denied")
        write(folder, files)

    monkeypatch.setattr(i18n, "_write", read_only)
    private = i18n.catalogue_root.__wrapped__(root)
    assert private != root and not private.is_relative_to(root)
    assert sorted(p.parent.parent.parent.name for p in private.glob("*/id/LC_MESSAGES/messages.mo")) == \
        sorted(p.name for p in root.iterdir())  # fmt: skip
    assert not list(root.rglob("*.mo"))


@pytest.mark.slow
def test_the_wheel_serves_the_hall_in_indonesian_from_a_read_only_install(tmp_path):
    """Builds the wheel, installs it with the server extra into a fresh venv and serves from it.

    Costs about 30 s on a warm pip cache (building the wheel ~4 s, the venv ~7 s, installing
    the dependencies ~19 s, start-up ~2 s); PIP_* settings of the environment pass through.
    """
    dist = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
                   check=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    wheel = next(dist.glob("panggil-*.whl"))
    assert_wheel_holds_the_checkout(wheel)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", f"{wheel}[server]"],
                   check=True, env=env, cwd=tmp_path, timeout=600)  # fmt: skip
    where = subprocess.run([python, "-c", "import server; print(server.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True)  # fmt: skip
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(venv), package  # not this checkout
    for part in ("templates/auth/login.html", "static/vendor/socket.io.min.js", "chime.wav",
                 "translations/core/id/LC_MESSAGES/messages.mo"):  # fmt: skip
        assert (package / part).is_file(), part

    port = free_port()
    raw = hall_config(tmp_path / "hall")
    raw["server"].update(host="127.0.0.1", port=port, async_mode="eventlet")
    raw["hall"]["enforce_hours"] = False  # a ticket at any hour of the test
    config = tmp_path / "hall" / "config.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    before = package_files(venv)  # the server's package and every dependency (espeak-ng's data...)
    subprocess.run(["chmod", "-R", "a-w", str(package)], check=True)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([python, "-m", "server", "--config", str(config)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                health = requests.get(f"{url}/api/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        assert health.ok and health.json()["ok"]
        login = requests.get(f"{url}/login", timeout=10)
        assert login.ok and "Masuk" in login.text
        assert requests.get(f"{url}/static/vendor/socket.io.min.js", timeout=10).ok
        chime = requests.get(f"{url}/api/audio/chime.wav", timeout=10)
        assert chime.ok and chime.content == (ROOT / "sounds" / "chime.wav").read_bytes()
        # A call: the offline voice speaks into the cache folder of the config, nowhere else.
        requests.post(f"{url}/api/tickets", json={"service": "ktp"}, timeout=10).raise_for_status()
        called = requests.post(f"{url}/api/counters/1/call_next", json={"request_id": "wheel-1"},
                               headers={"Authorization": f"Bearer {TOKENS[1]}"}, timeout=10)  # fmt: skip
        assert called.ok, called.text
        while not list((tmp_path / "hall" / "audio").rglob("*.wav")):
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
        subprocess.run(["chmod", "-R", "u+w", str(package)], check=True)  # pytest cleans tmp_path
    assert package_files(venv) == before  # nothing written into the install
    assert "translations compiled into" not in (tmp_path / "server.log").read_text()


# --- the Pi parts: a display wheel and a counter wheel with nothing of the server -------------


def chime_likeness(raw: bytes, chime: Path) -> tuple[float, float]:
    """How closely SDL's disk output (16-bit stereo, 44.1 kHz) follows a mono WAV: the best
    correlation over a few sample shifts, and the ratio of the lengths of their sound."""
    import array
    import math
    import wave

    with wave.open(str(chime)) as w:
        ref = array.array("h", w.readframes(w.getnframes()))
        step = 44100 // w.getframerate()
    out = array.array("h", raw)[::2]  # the left channel

    def sounding(samples) -> tuple[int, int]:
        loud = [i for i, v in enumerate(samples) if abs(v) > 200]
        return (loud[0], loud[-1]) if loud else (0, 0)

    (start, end), (ref_start, ref_end) = sounding(out), sounding(ref)
    if end == start:
        return 0.0, 0.0
    length = (end - start) / step / max(1, ref_end - ref_start)
    best = 0.0
    for shift in range(-4, 5):
        xs = [out[start + shift + i * step] for i in range(ref_end - ref_start)
              if 0 <= start + shift + i * step < len(out)]  # fmt: skip
        ys = ref[ref_start : ref_start + len(xs)]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
        spread = math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
        best = max(best, cov / spread if spread else 0.0)
    return best, length


def build_part(part: str, dist: Path, env: dict) -> Path:
    done = subprocess.run([sys.executable, str(ROOT / "deploy" / "build_wheel.py"), part, "-o", str(dist)],
                          env=env, cwd=dist.parent, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def fresh_venv(venv: Path, wheel: Path, env: dict) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)],
                   check=True, env=env, cwd=venv.parent, timeout=600)  # fmt: skip
    return python


def importable(python: Path, modules: list[str], env: dict, cwd: Path) -> list[str]:
    script = "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))"
    done = subprocess.run([python, "-c", script, *modules], env=env, cwd=cwd, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.split()


def pi_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_the_display_wheel_holds_only_the_display_and_plays_the_real_chime(tmp_path):
    """Builds the display wheel, installs it into a fresh venv (dependencies from pip's configured
    index), and plays the chime through SDL's disk driver from the installed files."""
    env = pi_env()
    wheel = build_part("display", tmp_path / "dist", env)
    assert wheel.name.startswith("panggil_display-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert {n.split("/")[0] for n in names if "dist-info" not in n} == {"display", "panggil_common", "panggil_protocol"}  # fmt: skip
    assert {"display/sounds/chime.wav", "display/fonts/DejaVuSans.ttf", "display/fonts/DejaVuSans-Bold.ttf"} <= set(names)  # fmt: skip
    python = fresh_venv(tmp_path / "venv", wheel, env)
    assert importable(python, ["server", "counter_client", "flask", "flask_socketio", "display",
                               "panggil_protocol", "pygame"], env, tmp_path) == \
        ["display", "panggil_protocol", "pygame"]  # fmt: skip
    command = tmp_path / "venv" / "bin" / "panggil-display"
    version = subprocess.run(
        [command, "--version"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert (
        version.stdout.strip() == f"panggil-display {versions.version_in(ROOT / 'pyproject.toml')}"
    )
    checked = subprocess.run(
        [command, "--self-check"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert str(tmp_path / "venv") in checked.stdout  # its own chime, not this checkout's

    out = tmp_path / "speaker.raw"
    played = subprocess.run([command, "--test-sound", "--audio-driver", "disk"], cwd=tmp_path,
                            env={**env, "SDL_DISKAUDIOFILE": str(out)}, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert played.returncode == 0, played.stderr
    assert "built-in" not in played.stderr and str(tmp_path / "venv") in played.stdout
    likeness, length = chime_likeness(out.read_bytes(), ROOT / "sounds" / "chime.wav")
    # The built-in ding-dong scores about 0.94 and is a quarter shorter.
    assert likeness > 0.999 and 0.98 < length < 1.02, (likeness, length)


@pytest.mark.slow
def test_the_counter_wheel_holds_only_the_counter_client(tmp_path):
    env = pi_env()
    wheel = build_part("counter", tmp_path / "dist", env)
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/")[0] for n in z.namelist() if "dist-info" not in n}
    assert tops == {"counter_client", "panggil_common", "panggil_protocol"}
    python = fresh_venv(tmp_path / "venv", wheel, env)
    assert importable(python, ["server", "display", "pygame", "counter_client", "gpiozero"], env,
                      tmp_path) == ["counter_client", "gpiozero"]  # fmt: skip
    command = tmp_path / "venv" / "bin" / "panggil-counter"
    version = subprocess.run(
        [command, "--version"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert (
        version.stdout.strip() == f"panggil-counter {versions.version_in(ROOT / 'pyproject.toml')}"
    )
    checked = subprocess.run([command, "--self-check", "--server", "http://127.0.0.1:9", "--counter", "1",
                              "--token", "t"], env=env, cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
