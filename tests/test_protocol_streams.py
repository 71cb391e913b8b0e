"""The clients' sequencing rule, Python and browser, against the same recorded streams."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from panggil_protocol import stream

ROOT = Path(__file__).resolve().parent.parent
STREAMS = json.loads((ROOT / "tests" / "protocol_streams.json").read_text(encoding="utf-8"))


def message_of(step: dict) -> object:
    """The payload a step stands for: its own, or {event, seq}."""
    if "payload" in step:
        return step["payload"]
    return {"event": step["event"], "seq": step["seq"]}


def play(position: stream.Position, step: dict) -> stream.Step:
    if step["event"] == "snapshot":
        return stream.take_snapshot(position, message_of(step))
    if step["event"] == "reconnect":
        return stream.reconnected(position)
    if step["event"] == "resync":
        return stream.resync(position, step["reason"])
    return stream.receive(position, step["event"], message_of(step))


def outcome(step: stream.Step) -> dict:
    """A step in the table's words."""
    at, pending = step.position.seq, step.position.pending
    return {
        "decision": step.decision,
        "reason": step.reason,
        "ask": step.ask,
        "at": at,
        "pending": pending,
    }


@pytest.mark.parametrize("case", STREAMS["cases"], ids=[c["name"] for c in STREAMS["cases"]])
def test_recorded_stream(case):
    position = stream.Position()
    for index, expected in enumerate(case["steps"]):
        before = position
        result = play(position, expected)
        got = outcome(result)
        assert got == {key: expected[key] for key in got}, f"step {index}: {expected}"
        if result.decision == stream.IGNORE:
            assert result.position is before  # an ignored message changes nothing
        position = result.position


def test_positions_and_steps_are_frozen():
    step = stream.receive(stream.Position(1), "ticket_issued", {"seq": 2})
    with pytest.raises(AttributeError):
        step.position.seq = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        step.decision = "ignore"  # type: ignore[misc]


def test_the_stream_module_is_stdlib_only():
    code = (
        "import sys, panggil_protocol.stream; "
        "loaded = {'flask', 'socketio', 'pygame', 'requests', 'server'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_browser_module_follows_the_same_streams():
    """server/static/protocol.js under Node's own test runner, over the same table."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the browser module's stream tests need it")
    # The files, not the folder: Node 21+ takes `--test` arguments as globs and no longer searches
    # a folder argument (nodejs/node#50219), while Node 20 does not expand globs itself.
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "js").glob("*.test.js"))
    assert files, "no tests/js/*.test.js"
    result = subprocess.run(
        [node, "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("template", "page_script"),
    [
        ("admin/monitor.html", "admin.js"),  # admin.js: admin/layout.html, after the page's block
        ("console/console.html", "console.js"),
        ("tv/tv.html", "tv.js"),
        # Not the visitor pages: they follow their own ticket on /visitor, not the seq stream.
    ],
)
def test_pages_load_the_browser_module_before_their_own_script(template, page_script):
    templates = ROOT / "server" / "templates"
    text = (templates / template).read_text(encoding="utf-8")
    if template.startswith("admin/"):
        text += (templates / "admin" / "layout.html").read_text(encoding="utf-8")
    assert "filename='protocol.js'" in text
    assert text.index("filename='protocol.js'") < text.index(f"filename='{page_script}'")
