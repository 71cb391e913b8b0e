"""Start a counter client: python -m counter_client --config counter.yaml [--counter 5 --token ...]."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys

from panggil_common.version import version

from counter_client.config import SETTINGS, ConfigError, load_config
from panggil_common.pairing import is_pairing_code, pair_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="panggil-counter", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument(
        "--config", help="YAML file with a `counter:` section (or the server's config.yaml)"
    )
    parser.add_argument(
        "--pair",
        metavar="CODE",
        help="the 6-digit pairing code from the admin's counter page (writes --config), or "
        + SETTINGS["pairing"].help
        + " (panggil:counter?...)",
    )
    parser.add_argument("--server", help=SETTINGS["server"].help)
    parser.add_argument("--counter", dest="number", type=int, help=SETTINGS["number"].help)
    parser.add_argument("--token", help=SETTINGS["token"].help)
    parser.add_argument("--language", choices=["id", "en"], help=SETTINGS["language"].help)
    parser.add_argument("--debounce-ms", type=int, help=SETTINGS["debounce_ms"].help)
    parser.add_argument("--no-keyboard", dest="keyboard", action="store_const", const=False,
                        help="do not read keys (GPIO buttons only)")  # fmt: skip
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    parser.add_argument(
        "--log-file",
        help="write logs here instead of stderr (keeps the status view clean); it is rotated at "
        "1 MB, one old copy kept. Under systemd leave it out: stderr goes to the journal",
    )
    parser.add_argument("--self-check", action="store_true",
                        help="check that this installation can run (settings, modules) and exit")  # fmt: skip
    return parser


LOG_FILE_BYTES = 1_000_000


def log_handlers(log_file: str | None) -> list[logging.Handler] | None:
    """A bounded log file (1 MB and one old copy), or None: stderr, which systemd sends to the journal.

    The plain file it used to be grew for as long as the counter ran.
    """
    if not log_file:
        return None
    return [logging.handlers.RotatingFileHandler(log_file, maxBytes=LOG_FILE_BYTES, backupCount=1)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["update"]:
        # `panggil-counter update WHEEL`: a new venv, a restart, a rollback if it fails to start.
        from panggil_common.update import main as update

        return update(argv[1:], part="counter")
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        handlers=log_handlers(args.log_file),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.pair and is_pairing_code(args.pair):
        # A 6-digit code from the admin's page: trade it for this counter's settings, write
        # them to --config, and start with them.
        paired = pair_command("counter", args.pair, args.config, args.server or "")
        if paired:
            return paired
        args.pair = None
    overrides = {
        k: getattr(args, k)
        for k in ("server", "number", "token", "language", "debounce_ms", "keyboard")
    }
    try:
        config = load_config(args.config, pairing=args.pair, **overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    if args.self_check:
        return self_check()

    from counter_client.app import App
    from counter_client.client import CounterClient
    from counter_client.inputs import GpioButtons, KeyboardReader
    from counter_client.texts import Texts
    from counter_client.view import TerminalView

    texts = Texts(config.language)
    view = TerminalView(sys.stdout, texts)
    client = CounterClient(
        config.server,
        config.number,
        config.token,
        ack_timeout=config.ack_timeout_s,
        retry_window=config.retry_window_s,
        debounce_ms=config.debounce_ms,
        reconnect_max=config.reconnect_max_s,
        hall=config.hall,
        discovery_interfaces=tuple(filter(None, config.discovery_interfaces.split(","))),
    )
    app = App(client, view, texts, config.keys, pause_reason=config.pause_reason)
    client.on_change = app.post_change

    buttons = None
    if config.gpio:
        from gpiozero.exc import GPIOZeroError

        try:
            buttons = GpioButtons(config.gpio, app.post_action, config.gpio_bounce_ms)
        except (GPIOZeroError, OSError, RuntimeError) as exc:  # no GPIO chip, pin in use, ...
            print(f"error: GPIO buttons could not be set up: {exc}", file=sys.stderr)
            return 2
    keyboard = KeyboardReader(sys.stdin.fileno(), app.post_key).start() if config.keyboard else None

    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    client.start()
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        if keyboard is not None:
            keyboard.restore()
        if buttons is not None:
            buttons.close()
        client.stop()
    return 0


def self_check() -> int:
    """Import everything the counter client runs (the updater's health check); settings are checked."""
    import importlib

    problems = []
    for module in (
        "socketio",
        "requests",
        "gpiozero",
        "counter_client.app",
        "counter_client.inputs",
    ):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - each problem is reported, none stops the check
            problems.append(f"cannot import {module}: {exc}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"panggil-counter {version()}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
