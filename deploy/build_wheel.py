#!/usr/bin/env python3
"""Build the wheel of one part of Panggil: the server, the TV display or the counter client.

    python deploy/build_wheel.py display [-o dist]      # dist/panggil_display-X.Y.Z-py3-none-any.whl
    python deploy/build_wheel.py counter [-o dist]      # dist/panggil_counter-X.Y.Z-...
    python deploy/build_wheel.py server  [-o dist]      # dist/panggil-X.Y.Z-... (as `pip wheel .`)

Why separate wheels, and not one wheel whose display merely avoids importing the server: a Pi must
hold no server code at all (nothing to patch, nothing to leak, a smaller install), and a wheel is
the unit pip installs. The display and counter wheels are made from the same checkout and the same
pyproject.toml (its version, its `display`/`counter` extra as their dependencies), by copying their
packages, plus panggil_common and panggil_protocol, into a scratch folder with a small generated
pyproject.toml: no second list of files or dependencies to keep in step by hand. The display wheel
also carries the chime (display/sounds/chime.wav) and the DejaVu fonts (display/fonts/, with their
licence), so an installed display needs nothing from a checkout or from Debian's font packages.
Standard library only (Python 3.11+).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_LICENCE = Path("/usr/share/doc/fonts-dejavu-core/copyright")
SHARED = ("panggil_common", "panggil_protocol")
PARTS = {
    # part: (distribution name, its package, the extra it depends on, its command)
    "display": ("panggil-display", "display", "display", "panggil-display"),
    "counter": ("panggil-counter", "counter_client", "counter", "panggil-counter"),
}


class BuildError(Exception):
    """A part cannot be built (a file it must carry is missing, pip failed)."""


def project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["project"]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def stage(part: str, folder: Path) -> Path:
    """Copy one part's packages and files into `folder` with a pyproject.toml; returns folder."""
    name, package, extra, command = PARTS[part]
    meta = project()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".gitignore")
    packages = []
    for top in (package, *SHARED):
        shutil.copytree(ROOT / top, folder / top, ignore=ignore)
        inits = sorted((folder / top).rglob("__init__.py"))
        packages += [".".join(init.parent.relative_to(folder).parts) for init in inits]
    package_data = ["*.json"]
    # The install script takes the unit, the settings template and the guide from the wheel.
    files = folder / package / "deploy"
    files.mkdir()
    for file in (f"panggil-{part}.service", f"{part}.yaml", f"install-{part}.sh"):
        shutil.copyfile(ROOT / "deploy" / file, files / file)
    shutil.copyfile(ROOT / "docs" / f"{part}.md", files / f"{part}.md")
    packages.append(f"{package}.deploy")
    if part == "display":
        sounds = folder / package / "sounds"
        sounds.mkdir()
        shutil.copyfile(ROOT / "sounds" / "chime.wav", sounds / "chime.wav")
        fonts = folder / package / "fonts"
        fonts.mkdir()
        for font in FONTS:
            if not (FONT_DIR / font).is_file():
                raise BuildError(f"{FONT_DIR / font} is missing: apt-get install fonts-dejavu-core")
            shutil.copyfile(FONT_DIR / font, fonts / font)
        if FONT_LICENCE.is_file():
            shutil.copyfile(FONT_LICENCE, fonts / "LICENSE-DejaVu.txt")
        # Data folders named as packages of their own: setuptools then ships them without a warning.
        packages += [f"{package}.sounds", f"{package}.fonts"]
        data_lines = f'"{package}.sounds" = ["*.wav"]\n"{package}.fonts" = ["*.ttf", "*.txt"]\n'
    else:
        data_lines = ""
    data_lines += f'"{package}.deploy" = ["*.service", "*.yaml", "*.sh", "*.md"]\n'
    dependencies = [*meta.get("dependencies", []), *meta["optional-dependencies"][extra]]
    (folder / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{meta["version"]}"
description = "{meta["description"]}: the {part} part"
requires-python = "{meta["requires-python"]}"
license = {{ text = "{meta["license"]["text"]}" }}
dependencies = {_toml_list(dependencies)}

[project.scripts]
{command} = "{package}.__main__:main"

[tool.setuptools]
packages = {_toml_list(packages)}

[tool.setuptools.package-data]
{package} = {_toml_list(package_data)}
{data_lines}""",
        encoding="utf-8",
    )
    return folder


def build(part: str, out: Path, pip_options: tuple[str, ...] = ()) -> Path:
    """Build the part's wheel into `out` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"panggil-{part}-") as scratch:
        source = ROOT if part == "server" else stage(part, Path(scratch) / "src")
        before = set(out.glob("*.whl"))
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *pip_options,
             "-w", str(out), str(source)],
            cwd=scratch,
        )  # fmt: skip
        if done.returncode != 0:
            raise BuildError(f"pip wheel failed for the {part} part")
    name = "panggil" if part == "server" else PARTS[part][0].replace("-", "_")
    wheels = sorted(out.glob(f"{name}-{project()['version']}-*.whl"))
    if not wheels:
        raise BuildError(f"no {name} wheel in {out}: {sorted(set(out.glob('*.whl')) - before)}")
    return wheels[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["server", *PARTS])
    parser.add_argument("-o", "--out", default=str(ROOT / "dist"), help="folder for the wheel")
    parser.add_argument("--no-build-isolation", action="store_true",
                        help="build with this Python's setuptools (offline)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        wheel = build(args.part, Path(args.out),
                      ("--no-build-isolation",) if args.no_build_isolation else ())  # fmt: skip
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
