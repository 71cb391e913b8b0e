"""GPIO buttons at a counter: bounce, repeat presses and held buttons on gpiozero's mock pins; the
lgpio backend in the `counter` extra; the wiring diagram against the client's pins."""

from __future__ import annotations

import re
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from counter_client.inputs import SUGGESTED_GPIO, GpioButtons, PressFilter

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "docs" / "counter-wiring.svg"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="rig")
def rig_fixture():
    """Buttons for next (GPIO 17) and skip (GPIO 22) on mock pins, 50 ms bounce, a fake clock."""
    factory = MockFactory()
    clock = FakeClock()
    actions: list[str] = []
    buttons = GpioButtons(
        {"next": 17, "skip": 22}, actions.append, bounce_ms=50, pin_factory=factory, clock=clock
    )
    yield factory, clock, actions, buttons
    buttons.close()
    factory.reset()


def bounce(pin, clock: FakeClock, edges: int, step: float = 0.002) -> None:
    """A contact closing: low, high, low, ... a few ms apart, ending low (pressed)."""
    for i in range(edges):
        pin.drive_low() if i % 2 == 0 else pin.drive_high()
        clock.now += step


def release(pin, clock: FakeClock, edges: int = 3, step: float = 0.002) -> None:
    """A contact opening, with its own bounce, ending high (released)."""
    for i in range(edges):
        pin.drive_high() if i % 2 == 0 else pin.drive_low()
        clock.now += step


def test_a_bouncing_press_sends_one_action(rig):
    factory, clock, actions, _ = rig
    pin = factory.pin(17)
    bounce(pin, clock, edges=7)  # four closings within 12 ms
    assert pin.state == 0
    clock.now += 0.3
    release(pin, clock)
    assert actions == ["next"]


def test_two_presses_apart_send_two_actions(rig):
    factory, clock, actions, _ = rig
    pin = factory.pin(17)
    for _ in range(2):
        bounce(pin, clock, edges=5)
        clock.now += 0.2  # held for a moment
        release(pin, clock)
        clock.now += 0.3  # let go for a moment
    assert actions == ["next", "next"]


def test_a_quick_second_press_after_a_clean_release_counts(rig):
    """The filter waits for quiet, not for a fixed time after the first press."""
    factory, clock, actions, _ = rig
    pin = factory.pin(22)
    pin.drive_low()
    clock.now += 0.08
    pin.drive_high()
    clock.now += 0.06  # quiet for longer than the 50 ms bounce time
    pin.drive_low()
    assert actions == ["skip", "skip"]


def test_bounce_of_a_release_is_not_a_press(rig):
    factory, clock, actions, _ = rig
    pin = factory.pin(17)
    pin.drive_low()
    clock.now += 0.5
    release(pin, clock, edges=5)  # high, low, high, low, high: two closings while letting go
    assert actions == ["next"]


def test_each_button_filters_its_own_bounce(rig):
    factory, clock, actions, _ = rig
    next_pin, skip_pin = factory.pin(17), factory.pin(22)
    next_pin.drive_low()
    clock.now += 0.005
    skip_pin.drive_low()  # another button, 5 ms later: a press of its own
    assert actions == ["next", "skip"]


def test_a_held_button_does_not_repeat(rig):
    factory, clock, actions, buttons = rig
    for button in buttons.buttons:
        button.hold_time = 0.02  # gpiozero's hold events, if anything listened to them
    pin = factory.pin(17)
    bounce(pin, clock, edges=3)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # really held: gpiozero's hold thread gets its chance
        time.sleep(0.02)
        clock.now += 0.02
    assert buttons.buttons[0].is_held
    assert actions == ["next"]


def test_press_filter_alone():
    clock = FakeClock()
    presses = PressFilter(0.05, clock)
    assert presses.pressed()
    clock.now += 0.01
    assert not presses.pressed()
    presses.released()
    clock.now += 0.049
    assert not presses.pressed()  # still within the bounce of the release
    clock.now += 0.051
    presses.released()
    clock.now += 0.06  # quiet for longer than the bounce time: a new press
    assert presses.pressed()


def test_a_bouncing_gpio_press_reaches_the_server_as_one_command(tmp_path):
    """Through the app with its stub client: a bouncing Next button is one call_next."""
    from counter_client.state import from_snapshot
    from test_counter_client import make_app, snapshot

    app, client = make_app(tmp_path, from_snapshot(snapshot()))
    factory = MockFactory()
    clock = FakeClock()
    buttons = GpioButtons(
        {"next": 17}, app.post_action, bounce_ms=50, pin_factory=factory, clock=clock
    )
    try:
        bounce(factory.pin(17), clock, edges=9)
        posted = []
        while not app.events.empty():
            posted.append(app.events.get())
        assert posted == [("action", "next")]
        app.handle_action("next")
        deadline = time.monotonic() + 2
        while app.presses_started > len(client.presses) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert app.presses_started == 1
        assert client.presses == [("call_next", {})]
    finally:
        buttons.close()
        factory.reset()


# --- the pin backend -------------------------------------------------------------------------


def test_lgpio_is_in_the_counter_extra_for_linux():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (lgpio,) = [d for d in extras["counter"] if d.startswith("lgpio")]
    assert "sys_platform == 'linux'" in lgpio
    assert "lgpio" not in " ".join(extras["display"] + extras["server"])


def test_gpiozero_tries_lgpio_first():
    """gpiozero picks the first backend that loads; on a Pi that is lgpio, from the extra."""
    import inspect

    from gpiozero.devices import Device

    source = inspect.getsource(Device._default_pin_factory)
    names = re.findall(r"'(\w+)':\s+'gpiozero\.pins\.", source)
    assert names[0] == "lgpio"
    import lgpio  # noqa: F401 - installed by the counter extra


# --- the wiring diagram ----------------------------------------------------------------------


def header_pins() -> dict[int, str]:
    """Physical pin number -> function on the Pi's 40-pin header (J8), from gpiozero's board data."""
    board = MockFactory().board_info
    return {pin.number: pin.name for pin in board.headers["J8"].pins.values()}


def svg_pins() -> list[ET.Element]:
    tree = ET.parse(SVG)
    return [e for e in tree.iter() if e.get("data-bcm") is not None]


def test_wiring_diagram_draws_every_suggested_pin_at_its_header_position():
    header = header_pins()
    drawn = {int(e.get("data-bcm")): e for e in svg_pins()}
    for action, bcm in SUGGESTED_GPIO.items():
        assert bcm in drawn, f"GPIO{bcm} ({action}) is missing from {SVG.name}"
        element = drawn[bcm]
        physical = int(element.get("data-pin"))
        assert header[physical] == f"GPIO{bcm}", (action, bcm, physical)
        ground = int(element.get("data-ground"))
        assert header[ground] == "GND", (action, ground)
        assert element.get("data-action") == action
        text = " ".join(t.strip() for t in element.itertext())
        assert f"GPIO{bcm}" in text and str(physical) in text, text
    assert set(drawn) == set(SUGGESTED_GPIO.values())  # nothing drawn that the client lacks


def test_wiring_diagram_header_matches_the_pi():
    """Each of the 40 header pins is drawn with its real function (3V3, 5V, GND, GPIOn)."""
    header = header_pins()
    tree = ET.parse(SVG)
    labels = {
        int(e.get("data-header-pin")): e.get("data-function")
        for e in tree.iter()
        if e.get("data-header-pin") is not None
    }
    assert sorted(labels) == list(range(1, 41))
    for number, function in labels.items():
        assert function == header[number], number


def test_counter_docs_table_matches_the_suggested_pins():
    docs = (ROOT / "docs" / "counter.md").read_text()
    header = header_pins()
    for action, bcm in SUGGESTED_GPIO.items():
        physical = next(n for n, f in header.items() if f == f"GPIO{bcm}")
        row = re.search(rf"^\| `{action}[^|]*` \| {bcm} \| {physical} \| (\d+) \|", docs, re.M)
        assert row, f"docs/counter.md has no wiring row for {action} on GPIO{bcm}"
        assert header[int(row.group(1))] == "GND"
    assert "counter-wiring.svg" in docs
