"""The counter's status view: plain text, redrawn only when what it shows has changed.

`render` is pure (a Screen in, text out); TerminalView writes it to a terminal (clearing it first)
or, when the output is a pipe or a log, appends it with a separator line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from counter_client.state import CounterState
from counter_client.texts import KEY_LABELS, Texts

log = logging.getLogger(__name__)

WIDTH = 64
CLEAR = "\x1b[H\x1b[2J"


@dataclass(frozen=True)
class Screen:
    """Everything the status view shows at one moment."""

    state: CounterState
    connection: str = "connecting"
    server: str = ""  # the server in use (typed or found on the LAN), once known
    refusal: str | None = None
    pending: str | None = None
    retrying: bool = False
    message: str = ""
    message_is_error: bool = False
    menu_title: str | None = None
    menu_items: tuple[str, ...] = ()
    keys: Mapping[str, str] = field(default_factory=dict)


def render(screen: Screen, texts: Texts, width: int = WIDTH) -> str:
    state = screen.state
    me = state.me or {}
    lines = [_two_columns(texts("title", counter=me.get("name", "—"), hall=state.hall_name),
                          _connection(screen, texts), width)]  # fmt: skip
    lines.append("=" * width)
    officer = me.get("officer")
    if isinstance(officer, Mapping):
        name = officer.get("full_name") or officer.get("username") or "?"
        lines.append(texts("officer", name=name))
    elif state.me is not None:
        lines.append(texts("officer.none"))
    if state.break_info is not None:
        lines.append(_break_line(state.break_info, texts))

    current = state.current
    lines.append(f"{texts('current')}:  {current['number'] if current else texts('current.none')}")
    if current:
        service = state.services.get(current.get("service", ""))
        lines.append("  " + texts("current.detail", service=service.name if service else current.get("service"),
                                  time=_clock(current.get("called_at"), texts), calls=current.get("calls", 1)))  # fmt: skip
    waiting = " · ".join(
        f"{s.name} {s.waiting} {texts('waiting.unit')}"
        + ("" if s.active else f" ({texts('closed')})")
        for s in state.my_services
    )
    lines.append(f"{texts('waiting')}:  {waiting or '—'}")
    lines.append(f"{texts('served_today')}:  {me.get('served_today', 0)}")
    skipped = ", ".join(t["number"] for t in state.skipped) or texts("skipped.none")
    lines.append(f"{texts('skipped')}:  {skipped}")
    lines.append("-" * width)

    if screen.menu_title:
        lines.append(screen.menu_title)
        lines.extend(f"  {i}  {item}" for i, item in enumerate(screen.menu_items, start=1))
    elif screen.pending:
        key = "retrying" if screen.retrying else "sending"
        lines.append("… " + texts(key, action=texts.action(_action_of(screen.pending))))
    elif screen.message:
        lines.append(("✗ " if screen.message_is_error else "✓ ") + screen.message)
    else:
        lines.append("")
    lines.append("-" * width)
    lines.extend(_wrap_items(f"{texts('keys')}:", _key_help(screen.keys, texts), width))
    return "\n".join(lines)


def _break_line(info: Mapping, texts: Texts) -> str:
    """ "ISTIRAHAT: sholat · kembali 13.00 · sejak 12.00" (the return time only when given)."""
    parts = [texts("break", reason=texts.reason(info.get("reason")))]
    until = info.get("until")
    if isinstance(until, str) and len(until) == 5 and until[2] == ":":
        shown = until.replace(":", ".") if texts.language == "id" else until
        parts.append(texts("break.until", time=shown))
    if info.get("since"):
        parts.append(texts("break.since", time=_clock(info.get("since"), texts)))
    return " · ".join(parts)


def _connection(screen: Screen, texts: Texts) -> str:
    if screen.connection == "refused" and screen.refusal:
        return texts("conn.refused", reason=texts.error(screen.refusal))
    shown = texts(f"conn.{screen.connection}")
    if screen.server and screen.connection != "searching":
        shown += " · " + screen.server
    return shown


def _two_columns(left: str, right: str, width: int) -> str:
    gap = width - len(left) - len(right)
    return f"{left}{' ' * gap}{right}" if gap >= 2 else f"{left}\n{right}"


def _clock(value: object, texts: Texts) -> str:
    """A local time as people write it: 09.12 in Indonesian, 09:12 in English."""
    if not isinstance(value, str):
        return "—"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return "—"
    return at.strftime("%H.%M" if texts.language == "id" else "%H:%M")


_COMMAND_ACTIONS = {"call_next": "next", "recall": "recall", "skip": "skip", "finish": "finish",
                    "transfer": "transfer", "call_ticket": "call_back"}  # fmt: skip


def _action_of(command: str) -> str:
    return _COMMAND_ACTIONS.get(command, command)


def _wrap_items(label: str, items: list[str], width: int) -> list[str]:
    """Items joined by " · ", broken between items (never inside one) to fit the width."""
    lines: list[str] = []
    current = label
    for index, item in enumerate(items):
        joined = f"{current} {item}" if index == 0 else f"{current} · {item}"
        if index == 0 or len(joined) <= width:
            current = joined
        else:
            lines.append(current)
            current = f"  {item}"
    lines.append(current)
    return lines


def _key_help(keys: Mapping[str, str], texts: Texts) -> list[str]:
    by_action: dict[str, list[str]] = {}
    for key, action in keys.items():
        by_action.setdefault(action, []).append(KEY_LABELS.get(key, key))
    parts = []
    for action, labels in by_action.items():
        name = texts.action(action)
        if action.startswith(("transfer:", "pause:")):
            name += " " + action.split(":", 1)[1]
        parts.append(f"{'/'.join(labels)} {name}")
    return parts


class TerminalView:
    """Draws screens to a stream; skips a draw when the text is the same as the last one."""

    def __init__(self, stream: TextIO, texts: Texts, width: int = WIDTH) -> None:
        self.stream = stream
        self.texts = texts
        self.width = width
        self.is_terminal = stream.isatty()
        self._last: str | None = None

    def draw(self, screen: Screen) -> bool:
        text = render(screen, self.texts, self.width)
        if text == self._last:
            return False
        self._last = text
        try:
            if self.is_terminal:
                self.stream.write(CLEAR + text + "\n")
            else:
                self.stream.write(text + "\n" + "~" * self.width + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not stop the counter
            log.warning("status view could not be written", exc_info=True)
        return True

    @property
    def last(self) -> str | None:
        return self._last
