"""Reading a YAML settings file: one loader and one error style for every part of Panggil.

Each error names the file and, where it can, the line or the key; a part turns YamlFileError into
its own ConfigError.
"""

from __future__ import annotations

from pathlib import Path

import yaml


class YamlFileError(Exception):
    """A settings file is unreadable, not YAML, or not shaped as expected; the message names it."""


def read_mapping(path: str | Path) -> dict:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            document = yaml.safe_load(f)
    except OSError as exc:
        raise YamlFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{path} is not valid YAML: {_describe(exc)}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise YamlFileError(f"{path}: the top level must be a mapping of sections")
    return document


def read_section(path: str | Path, name: str) -> dict | None:
    """The `name:` section of a YAML file, or None when the file has none.

    A section with nothing under it (every setting commented out) is an empty mapping.
    """
    document = read_mapping(path)
    if name not in document:
        return None
    return section_of(document, name, path)


def section_of(document: dict, name: str, path: str | Path) -> dict:
    """`document[name]` as a mapping of settings (empty when missing or blank)."""
    section = document.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise YamlFileError(f"{path}: {name}: must be a mapping of settings")
    return dict(section)


def _describe(exc: yaml.YAMLError) -> str:
    # PyYAML's own text names the stream ("<unicode string>" or the file) and spreads over lines.
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    context = f"{context}, " if context else ""
    return f"line {mark.line + 1}, column {mark.column + 1}: {context}{problem}"
