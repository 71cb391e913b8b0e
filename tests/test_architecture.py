"""The rules of docs/architecture.md that a grep can keep: SQL lives in storage, modules stay small."""

from __future__ import annotations

import re

from tests.conftest import ROOT

PACKAGES = ("server", "display", "counter_client", "panggil_protocol", "panggil_common")
SQL = re.compile(
    r"""["'](?:\s*)(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|BEGIN|COMMIT|ROLLBACK)\b"""
)


def sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_sql_lives_in_storage_only():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources()
        if path != ROOT / "server" / "storage.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SQL.search(line)
    ]
    assert found == []


def test_the_sql_check_sees_a_statement():
    assert SQL.search('rows = db.execute("SELECT * FROM tickets")')
    assert SQL.search("conn.execute('PRAGMA user_version')")
    assert not SQL.search("# select the next ticket")


def test_modules_over_400_lines_are_explained_in_the_architecture_page():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    explained = set(re.findall(r"^\| `([\w/]+\.py)` \| ~?\d+ \|", page, flags=re.M))
    long = {
        str(p.relative_to(ROOT))
        for p in sources()
        if len(p.read_text(encoding="utf-8").splitlines()) > 400
    }
    assert long - explained == set(), (
        "a module passed 400 lines: split it or say why in docs/architecture.md"
    )
