"""The server's command line: serve a hall (the default), back up or restore its database.

python -m server [serve] --config config.yaml [--demo]
python -m server [serve] --config config.yaml --worker [--port P]   (server.message_queue set)
python -m server backup [--config config.yaml] OUT.sqlite
python -m server restore [--config config.yaml] BACKUP.sqlite
"""

from __future__ import annotations

import argparse
import gc
import errno
import logging
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from panggil_common.version import version

DEFAULT_COMMAND = "serve"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, commands = build_parser()
    # No command means serve: `python -m server --config X` is how units, tests and make start it.
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help", "--version")):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return args.run(args)


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser and its command names; a new command is one `add_*` function in the tuple."""
    parser = argparse.ArgumentParser(prog="panggil-server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in (add_serve, add_backup, add_restore, add_create_admin):
        add(commands)
    return parser, set(commands.choices)


def _command(commands, name: str, run: Callable[[argparse.Namespace], int], help: str,
             log_level: str = "INFO") -> argparse.ArgumentParser:  # fmt: skip
    """A sub-parser with the options every command shares."""
    parser = commands.add_parser(name, help=help, description=help)
    parser.add_argument("--config", default="config.yaml", help="path to config.yaml")
    parser.add_argument("--database", help="override server.database")
    parser.add_argument("--log-level", default=os.environ.get("PANGGIL_LOG", log_level))
    parser.set_defaults(run=run)
    return parser


# --- serve ----------------------------------------------------------------------------------


def add_serve(commands) -> None:
    parser = _command(commands, "serve", serve_command, "serve the hall (the default command)")
    parser.add_argument("--host", help="override server.host")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument(
        "--async-mode", choices=["eventlet", "threading"], help="override server.async_mode"
    )
    parser.add_argument(
        "--demo", action="store_true", help="ignore opening hours and seed sample tickets"
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="a fan-out worker for TVs and phones beside the writer (needs server.message_queue)",
    )


def serve_command(args: argparse.Namespace) -> int:
    if _async_mode(args) == "eventlet":
        # Before Flask, pydantic, sockets or threads are imported: their locks and sockets turn green.
        import warnings

        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()

    from server.config import ConfigError, load_config
    from server.lock import DatabaseLock, DatabaseLocked

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
    if args.worker:
        return serve_worker(config)
    database = config.path(config.server.database)
    # Held until this process ends: a second server on this database stops here, before it
    # has loaded the hall and could issue a ticket number the first one has issued too.
    lock = DatabaseLock(database)
    try:
        lock.acquire()
    except DatabaseLocked as exc:
        print(f"error: the database {database} is in use by {exc.holder} (another Panggil server?). "
              "One server per database: stop that one, or give this one its own database.",
              file=sys.stderr)  # fmt: skip
        return 2
    except OSError as exc:
        print(f"error: cannot lock the database {database}: {exc.strerror or exc}", file=sys.stderr)
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
    try:
        run = listen(app, host, port, config.server.async_mode, config.server.max_connections)
    except OSError as exc:
        reason = "the address is in use (another server on this port?)" if exc.errno == errno.EADDRINUSE \
            else exc.strerror or str(exc)  # fmt: skip
        print(f"error: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 2
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    print(f"Panggil is serving {config.hall.name} on {base}/", flush=True)
    for label, path in (("Admin", "/admin"), ("Officer console", "/console"), ("Ticket kiosk", "/kiosk"),
                        ("TV display", "/tv"), ("API snapshot", "/api/snapshot")):  # fmt: skip
        print(f"  {label + ':':17} {base}{path}", flush=True)
    if args.demo:
        print(
            "  Demo users: admin / admin-panggil, petugas1 / petugas-panggil (see config.yaml)",
            flush=True,
        )
    announcement = _announce(app, config)
    _quiet_gc()
    try:
        run()
    finally:
        if announcement is not None:
            announcement.close()
    lock.release()
    return 0


def _quiet_gc() -> None:
    """Fewer, shorter collector pauses while serving: the objects made at start (modules, the
    catalogue, templates) are frozen out of every later collection, and the youngest generation
    is collected every 10,000 allocations instead of 700. Each connected phone or TV keeps a few
    dozen long-lived objects, so with hundreds of them the default thresholds ran a full
    collection every few seconds, a pause that every screen waited for (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def serve_worker(config) -> int:
    """A fan-out worker (server/workers.py): no database lock, it never writes."""
    from server.storage import StorageError
    from server.workers import WorkerError, create_worker_app

    try:
        app = create_worker_app(config)
    except WorkerError as exc:
        print(exc, file=sys.stderr)
        return 2
    except StorageError as exc:  # the writer has not created or migrated it yet: worth a retry
        print(f"error: {exc}", file=sys.stderr)
        return 1
    host, port = config.server.host, config.server.port
    try:
        run = listen(app, host, port, config.server.async_mode, config.server.max_connections)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(
        f"Panggil worker for {config.hall.name} on {host}:{port} (/display, /visitor)", flush=True
    )
    _quiet_gc()
    run()
    return 0


def _announce(app, config):
    """Announce the hall's server on the LAN (server/discovery.py), unless turned off."""
    if not config.server.announce:
        return None
    from server import discovery

    hub = app.extensions["panggil"]
    return discovery.Background(
        hall=hub.settings.get("hall.name") or config.hall.name,
        port=config.server.port,
        host=config.server.host,
        addresses=config.server.announce_addresses,
        interfaces=config.server.announce_interfaces,
    ).start()


def listen(
    app, host: str, port: int, async_mode: str, max_connections: int = 5000
) -> Callable[[], None]:
    """Bind the port (OSError when it is taken) and return the function that serves forever.

    Without SO_REUSEPORT (eventlet sets it by default): a second server on the same port must
    fail, not share the connections. With TCP_NODELAY, which accepted connections inherit:
    without it, an acknowledgement that follows a broadcast in the same burst waits for the
    client's delayed ACK (about 40 ms on Linux), and a press takes 50 ms instead of 2.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if async_mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        listener = eventlet.listen((host, port), family, reuse_port=False)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        allow_open_files(max_connections)
        # max_size: eventlet's default of 1,024 stalled a hall of phones (docs/protocol.md).
        from server.api import HTTP_SERVER_LINE_LIMIT

        # url_length_limit: eventlet's own 414 (8 KiB) has an empty body; the app answers in JSON.
        return lambda: eventlet.wsgi.server(listener, app, log_output=False, max_size=max_connections,
                                            url_length_limit=HTTP_SERVER_LINE_LIMIT)  # fmt: skip
    from werkzeug.serving import make_server

    # Bound here: werkzeug's own bind prints its message and exits with 1 when the port is taken.
    with socket.create_server((host, port), family=family, backlog=128) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = make_server(host, port, app, threaded=True, fd=sock.fileno())  # a duplicate
    return server.serve_forever


def allow_open_files(connections: int) -> int:
    """Raise the process's open-file limit to fit `connections` sockets; returns the limit now.

    A connection is a file descriptor: the usual soft limit of 1,024 would refuse phones long
    before server.max_connections. Raised up to the hard limit; below that, a warning.
    """
    import resource

    wanted = connections + 256  # the database, the log, audio files, listening sockets
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:  # the systemd unit forbids setrlimit (@resources) and sets LimitNOFILE instead
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (OSError, ValueError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        logging.getLogger(__name__).warning("open-file limit %d is below server.max_connections %d + 256: raise the "
                    "service's LimitNOFILE", soft, connections)  # fmt: skip
    return soft


# --- backup and restore ---------------------------------------------------------------------


def add_backup(commands) -> None:
    parser = _command(commands, "backup", backup_command,
                      "copy the database to OUT while the server runs (SQLite online backup)",
                      log_level="WARNING")  # fmt: skip
    parser.add_argument("out", metavar="OUT.sqlite", help="the backup file to write")


def backup_command(args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup_database

    database = _database(args)
    if database is None:
        return 2
    try:
        summary = backup_database(database, args.out)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {summary.describe()}")
    return 0


def add_restore(commands) -> None:
    parser = _command(commands, "restore", restore_command,
                      "replace the database with a backup (the server must be stopped)",
                      log_level="WARNING")  # fmt: skip
    parser.add_argument("backup", metavar="BACKUP.sqlite", help="a file written by `backup`")


def restore_command(args: argparse.Namespace) -> int:
    from server.backup import BackupError, check_database, restore_database
    from server.lock import DatabaseLocked

    database = _database(args)
    if database is None:
        return 2
    try:
        kept = restore_database(args.backup, database, now=datetime.now(UTC))
    except DatabaseLocked as exc:
        print(f"error: the database {database} is in use by {exc.holder}: stop the server first "
              "(systemctl stop panggil-server), then restore", file=sys.stderr)  # fmt: skip
        return 2
    except BackupError as exc:
        print(f"error: {exc}; the database was not changed", file=sys.stderr)
        return 1
    if kept:
        print(f"kept the previous database as {kept}")
    print(f"restored {check_database(database).describe()} from {args.backup}")
    return 0


# --- create-admin ---------------------------------------------------------------------------


def add_create_admin(commands) -> None:
    parser = _command(commands, "create-admin", create_admin_command,
                      "create the first admin of a hall, or (--reset) give a user a new password",
                      log_level="WARNING")  # fmt: skip
    parser.add_argument("--username", default="admin")
    parser.add_argument("--full-name", default="")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="give an existing user a new password and the admin role",
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def create_admin_command(args: argparse.Namespace) -> int:
    """Safe while the server runs: one SQLite transaction, and the server reads users per request."""
    from server.credentials import CredentialError, create_admin
    from server.storage import StorageError

    database = _database(args)
    if database is None:
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
        done = create_admin(database, args.username, password, datetime.now(UTC),
                            full_name=args.full_name, reset=args.reset)  # fmt: skip
    except (CredentialError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(done)
    return 0


def _database(args: argparse.Namespace) -> Path | None:
    """The database path the config names (relative to the config file), or None after an error.

    Only the path is wanted here, so the demo's published values are no reason to refuse: the
    server itself refuses them when it starts without --demo.
    """
    from server.config import ConfigError, load_config

    try:
        config = load_config(args.config, demo=True, **{"server.database": args.database})
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None
    return config.path(config.server.database)


def _async_mode(args: argparse.Namespace) -> str:
    """The async mode, read before anything else is imported (validated properly later)."""
    if args.async_mode:
        return args.async_mode
    from panggil_common.yaml_file import YamlFileError, read_mapping

    try:
        server = read_mapping(args.config).get("server")
    except YamlFileError:
        return "eventlet"  # load_config reports the real problem
    return str(server.get("async_mode", "eventlet")) if isinstance(server, dict) else "eventlet"


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
