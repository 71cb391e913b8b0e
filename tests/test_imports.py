"""The import graph: no module imports one that imports it back (no cycles, no late imports)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGES = ("server", "display", "counter_client", "panggil_common")


def module_imports() -> dict[str, set[str]]:
    """Each module of ours -> the modules of ours it imports at its top level.

    Imports inside functions are left out: they run after every module has loaded.
    """
    paths = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        graph[name] = {other for other in found if other in paths and other != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        for other in sorted(graph[name]):
            if other in path:
                return [*path[path.index(other) :], other]
            if other not in done and (cycle := visit(other, [*path, other])):
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        if name not in done and (cycle := visit(name, [name])):
            return cycle
    return None


def test_no_import_cycles():
    assert find_cycle(module_imports()) is None


def test_the_cycle_finder_finds_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_the_admin_views_import_what_they_share_not_the_admin_package():
    graph = module_imports()
    assert "server.pages.admin" not in set().union(
        *(graph[name] for name in graph if name.startswith("server.pages.admin_"))
    )
    assert "noqa: E402" not in (ROOT / "server/pages/admin.py").read_text(encoding="utf-8")
