"""Command line: `python -m display --server http://host:5000 [--config config.yaml]`.

`--screenshot out.png` renders one frame and exits: the live screen (connect, take the snapshot)
or, with `--state state.json`, a given snapshot plus events. See docs/display.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from panggil_common.version import version

from .audio import sdl_audio_environment
from .config import ConfigError, DisplayConfig, add_arguments, config_from_args

log = logging.getLogger("display")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m display", description="Panggil TV display")
    parser.add_argument("--config", help="YAML file whose `display:` section holds the settings")
    parser.add_argument(
        "--pair",
        metavar="CODE",
        help="the 6-digit pairing code from the admin's display page: writes this display's "
        "settings into --config, then starts",
    )
    parser.add_argument("--screenshot", metavar="PNG", help="render one frame to PNG and exit")
    parser.add_argument(
        "--state", metavar="JSON",
        help='with --screenshot: render {"snapshot", "events", "now", "disconnected_since"} instead of the live server',
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"panggil-display {version()}")
    parser.add_argument("--test-sound", action="store_true",
                        help="play the chime once on the configured audio output and exit")  # fmt: skip
    parser.add_argument("--self-check", action="store_true",
                        help="check that this installation can run (settings, modules, chime, fonts) and exit")  # fmt: skip
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["update"]:
        # `panggil-display update WHEEL`: a new venv, a restart, a rollback if it fails to start.
        from panggil_common.update import main as update

        return update(argv[1:], part="display")
    args = build_parser().parse_args(argv)
    if args.pair:
        code = pair(args)
        if code:
            return code
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.state and not args.screenshot:
        print("error: --state needs --screenshot", file=sys.stderr)
        return 2
    os.environ.update(sdl_audio_environment(config.audio_driver, config.audio_device))
    if args.self_check:
        return self_check(config)
    if args.test_sound:
        return test_sound(config)
    if args.screenshot:
        try:
            screenshot(config, Path(args.screenshot), Path(args.state) if args.state else None)
        except (OSError, ValueError, TimeoutError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    return run(config)


def self_check(config: DisplayConfig) -> int:
    """Import everything the display runs and find its chime and fonts (the updater's health check)."""
    import importlib

    problems = []
    for module in ("pygame", "socketio", "requests", "display.app", "display.render"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - each problem is reported, none stops the check
            problems.append(f"cannot import {module}: {exc}")
    from .render import FONT_FILES

    wanted = [*FONT_FILES.values(), *([Path(config.chime).expanduser()] if config.chime else [])]
    problems += [f"missing {path}" for path in wanted if not path.is_file()]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"panggil-display {version()}: ok (chime {config.chime})")
    return 1 if problems else 0


def test_sound(config: DisplayConfig) -> int:
    """Play the configured chime once, to the end, on the configured output."""
    from .audio import AudioError, PygamePlayer

    try:
        player = PygamePlayer(volume=config.volume)
        player.play(player.load(Path(config.chime).expanduser()))
    except AudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        import pygame

        pygame.mixer.quit()  # flushes the output (SDL's disk driver writes its file then)
    print(f"played {config.chime}")
    return 0


def pair(args: argparse.Namespace) -> int:
    """Trade a pairing code for this display's settings and write them to --config (0: done)."""
    from panggil_common.pairing import pair_command

    return pair_command("display", args.pair, args.config, args.server_url or "")


def run(config: DisplayConfig) -> int:
    import pygame

    from .app import QUIT, DisplayApp

    app = DisplayApp(config)
    # systemd stops the service with SIGTERM: leave through the loop, disconnecting cleanly.
    signal.signal(signal.SIGTERM, lambda *_: app.post(QUIT, None))
    app.start()
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
        pygame.quit()
    return 0


def screenshot(config: DisplayConfig, target: Path, state_file: Path | None) -> None:
    """Render the live screen (or the state in `state_file`) to a PNG."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from .render import Renderer

    pygame.font.init()
    if state_file is not None:
        state, now = state_from_file(config, state_file)
    else:
        state, now = live_state(config)
    surface = pygame.Surface(config.size)
    renderer = Renderer(config.size, language=config.language, recent_count=config.recent_calls)
    if config.logo:
        renderer.set_logo(pygame.image.load(config.logo))
    renderer.draw(surface, state, now)
    target.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(target))
    log.info("wrote %s (%dx%d)", target, *config.size)


def _parse_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} needs an offset, e.g. +07:00")
    return moment


def state_from_file(config: DisplayConfig, path: Path) -> tuple[Any, datetime]:
    """Reduce the snapshot and events of a JSON file into a screen state, as the live loop would."""
    from .app import initial_state_for, utc_now
    from .state import apply_event, apply_snapshot, set_connected, tick

    document = json.loads(path.read_text(encoding="utf-8"))
    now = _parse_time(document["now"]) if document.get("now") else utc_now()
    state = initial_state_for(config)
    state = set_connected(state, True, now).state
    outcome = apply_snapshot(state, document.get("snapshot"), now)
    state = outcome.state
    for problem in outcome.problems:
        log.warning("%s", problem)
    for item in document.get("events", []):
        at = _parse_time(item["at"]) if isinstance(item, dict) and item.get("at") else now
        name = item.get("event") if isinstance(item, dict) else None
        outcome = apply_event(state, name, item, min(at, now))
        for problem in outcome.problems:
            log.warning("%s", problem)
        state = outcome.state
    if document.get("disconnected_since"):
        state = set_connected(state, False, _parse_time(document["disconnected_since"])).state
    return tick(state, now).state, now


def live_state(config: DisplayConfig, timeout: float = 10.0) -> tuple[Any, datetime]:
    """Connect to the server, take its snapshot and return the state built from it."""
    from .app import initial_state_for, utc_now
    from .client import SNAPSHOT, DisplayClient
    from .state import apply_snapshot, set_connected

    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
    url = config.server_url or found_server_url(config, timeout)
    client = DisplayClient(
        url, config.name or "screenshot", lambda kind, data: inbox.put((kind, data))
    ).start()
    try:
        deadline = datetime.now().timestamp() + timeout
        while True:
            left = deadline - datetime.now().timestamp()
            if left <= 0:
                raise TimeoutError(f"no snapshot from {url} within {timeout:.0f} s")
            try:
                kind, data = inbox.get(timeout=left)
            except queue.Empty:
                continue
            if kind == SNAPSHOT:
                now = utc_now()
                state = set_connected(initial_state_for(config), True, now).state
                return apply_snapshot(state, data, now).state, now
    finally:
        client.stop()


def found_server_url(config: DisplayConfig, timeout: float) -> str:
    """The URL of the server found on the LAN within `timeout` seconds (TimeoutError if none)."""
    import threading

    from panggil_common import discovery

    stop = threading.Event()
    timer = threading.Timer(timeout, stop.set)
    timer.start()
    try:
        return discovery.find_server(
            hall=config.hall,
            timeout=config.discovery_timeout,
            interfaces=config.discovery_interfaces,
            stop=stop,
        ).url
    except discovery.DiscoveryStopped:
        raise TimeoutError(f"no Panggil server found on the LAN within {timeout:.0f} s") from None
    finally:
        timer.cancel()


if __name__ == "__main__":
    sys.exit(main())
