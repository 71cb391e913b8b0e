"""Build step the wheel needs beyond pyproject.toml (all metadata lives there).

The UI catalogues are compiled here (.po -> .mo with Babel), so that an installed server never
writes into its package folder, and the chime the server serves is carried into the package as
server/chime.wav (in a checkout it stays in sounds/). An editable install skips both: a
checkout compiles its catalogues when it starts (server/i18n.py) and finds sounds/ beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        if not editable:
            # setuptools reuses build/lib: a file since deleted or moved would ship again.
            shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()
        if editable:
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        build = Path(self.build_lib)
        for po_path in sorted((ROOT / "server" / "translations").glob("*/*/LC_MESSAGES/*.po")):
            mo_path = build / po_path.relative_to(ROOT).with_suffix(".mo")
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as f:
                catalog = read_po(f)
            with mo_path.open("wb") as f:
                write_mo(f, catalog)
        shutil.copyfile(ROOT / "sounds" / "chime.wav", build / "server" / "chime.wav")


setup(cmdclass={"build_py": BuildWithCatalogues})
