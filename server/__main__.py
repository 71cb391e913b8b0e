"""Start the server: python -m server --config config.yaml [--demo]."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["create-admin"]:
        return create_admin(argv[1:])
    parser = argparse.ArgumentParser(prog="panggil-server", description=__doc__)
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml")
    parser.add_argument("--host", help="override server.host")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument("--database", help="override server.database")
    parser.add_argument("--async-mode", choices=["eventlet", "threading"], help="override server.async_mode")
    parser.add_argument("--demo", action="store_true", help="ignore opening hours and seed sample tickets")
    parser.add_argument("--log-level", default=os.environ.get("PANGGIL_LOG", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if _async_mode(args) == "eventlet":
        # Before Flask, pydantic, sockets or threads are imported: their locks and sockets turn green.
        import warnings

        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()

    from server.config import ConfigError, load_config

    overrides = {"server.host": args.host, "server.port": args.port, "server.database": args.database,
                 "server.async_mode": args.async_mode}  # fmt: skip
    if args.demo:
        overrides["hall.enforce_hours"] = False
    try:
        config = load_config(args.config, demo=args.demo, **overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    if config.server.async_mode != _async_mode(args):
        print("config error: server.async_mode changed while starting", file=sys.stderr)
        return 2
    from server.app import create_app
    from server.credentials import CredentialError
    from server.storage import StorageError

    try:
        app = create_app(config, demo=args.demo)
    except (StorageError, CredentialError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.demo:
        _seed_demo_tickets(app)
    host, port = config.server.host, config.server.port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    print(f"Panggil is serving {config.hall.name} on {base}/", flush=True)
    for label, path in (("Admin", "/admin"), ("Officer console", "/console"), ("Ticket kiosk", "/kiosk"),
                        ("TV display", "/tv"), ("API snapshot", "/api/snapshot")):  # fmt: skip
        print(f"  {label + ':':17} {base}{path}", flush=True)
    if args.demo:
        print("  Demo users: admin / admin-panggil, petugas1 / petugas-panggil (see config.yaml)", flush=True)
    serve(app, host, port, config.server.async_mode)
    return 0


def create_admin(argv: list[str]) -> int:
    """python -m server create-admin: the first admin of a real hall, or a forgotten password."""
    parser = argparse.ArgumentParser(prog="panggil-server create-admin", description=create_admin.__doc__)
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml")
    parser.add_argument("--database", help="override server.database")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--full-name", default="")
    parser.add_argument("--reset", action="store_true", help="give an existing user a new password and the admin role")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    from datetime import UTC, datetime

    from server.config import ConfigError, load_config
    from server.credentials import CredentialError, create_admin as create
    from server.storage import StorageError

    try:
        config = load_config(args.config, **{"server.database": args.database})
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass(f"New password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    try:
        done = create(config.path(config.server.database), args.username, password, datetime.now(UTC),
                      full_name=args.full_name, reset=args.reset)  # fmt: skip
    except (CredentialError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(done)
    return 0


def serve(app, host: str, port: int, async_mode: str) -> None:
    """Listen with TCP_NODELAY, which accepted connections inherit.

    Without it, an acknowledgement that follows a broadcast in the same burst waits for the
    client's delayed ACK (about 40 ms on Linux): a press would take 50 ms instead of 2.
    """
    if async_mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        listener = eventlet.listen((host, port))
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        eventlet.wsgi.server(listener, app, log_output=False)
    else:
        from werkzeug.serving import make_server

        server = make_server(host, port, app, threaded=True)
        server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.serve_forever()


def _async_mode(args: argparse.Namespace) -> str:
    """The async mode, read before anything else is imported (validated properly later)."""
    if args.async_mode:
        return args.async_mode
    import yaml

    try:
        with open(args.config, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
        return str(raw.get("server", {}).get("async_mode", "eventlet"))
    except (OSError, yaml.YAMLError, AttributeError):
        return "eventlet"  # load_config reports the real problem


def _seed_demo_tickets(app) -> None:
    """A demo hall looks alive: a few waiting tickets in each service on a fresh day."""
    hub = app.extensions["panggil"]
    if hub.hall.last_seq:
        return
    for code in list(hub.hall.services)[:4]:
        for priority in (None, None, "elderly"):
            hub.issue(code, priority)


if __name__ == "__main__":
    sys.exit(main())
