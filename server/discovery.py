"""The server announces itself on the hall's LAN by mDNS/DNS-SD, so that Pis find it unasked.

One `_panggil._tcp.local.` service named after the hall, with the version, the hall's name and
the HTTP path in its TXT record (panggil_common/discovery.py declares both sides). Which
addresses are announced and on which interfaces is set by `server.announce_addresses` and
`server.announce_interfaces`; `server.announce: false` turns it off. A failure to announce is
logged and the server serves on: a typed URL still works.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from panggil_common.discovery import SERVICE_TYPE, instance_name, new_zeroconf, txt_record

log = logging.getLogger(__name__)

_ANY = ("0.0.0.0", "::", "")


def version() -> str:
    """The installed Panggil version (the one in pyproject.toml)."""
    try:
        return metadata.version("panggil")
    except metadata.PackageNotFoundError:
        return "0"


def announced_addresses(
    host: str, addresses: Sequence[str], interfaces: Sequence[str]
) -> list[str]:
    """The addresses to put in the record, first of all the configured ones.

    Else the listening address when the server listens on one; else the addresses of the
    interfaces announced on; else every non-loopback address of the machine.
    """
    if addresses:
        return list(addresses)
    if host not in _ANY:
        return [host]
    chosen = [i for i in interfaces if _is_address(i)]
    if chosen:
        return chosen
    from zeroconf import get_all_addresses

    found = [a for a in get_all_addresses() if not ipaddress.ip_address(a).is_loopback]
    return found or ["127.0.0.1"]


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class Announcement:
    """The registered service; `close()` withdraws it (a goodbye packet) at shutdown."""

    def __init__(self, zeroconf: Any, info: Any) -> None:
        self._zeroconf = zeroconf
        self.info = info

    @property
    def name(self) -> str:
        return str(self.info.name)

    def close(self) -> None:
        try:
            self._zeroconf.unregister_service(self.info)
        finally:
            self._zeroconf.close()


def announce(
    *,
    hall: str,
    port: int,
    host: str = "0.0.0.0",
    addresses: Sequence[str] = (),
    interfaces: Sequence[str] = (),
    path: str = "/",
) -> Announcement | None:
    """Register the hall's server; None (logged) when the LAN cannot be reached."""
    try:
        from zeroconf import NonUniqueNameException, ServiceInfo
    except ImportError:
        log.warning("zeroconf is not installed: the server is not announced on the LAN")
        return None
    chosen = announced_addresses(host, addresses, interfaces)
    v4_only = all(ipaddress.ip_address(a).version == 4 for a in chosen) and all(
        not _is_address(i) or ipaddress.ip_address(i).version == 4 for i in interfaces
    )
    label = instance_name(hall)
    host_label = "panggil-" + (socket.gethostname().split(".")[0] or "server")
    try:
        zeroconf = new_zeroconf(interfaces, v4_only=v4_only)
    except OSError as exc:
        log.warning("mDNS not started (%s): the server is not announced on the LAN", exc)
        return None
    info = ServiceInfo(
        SERVICE_TYPE,
        f"{label}.{SERVICE_TYPE}",
        port=port,
        parsed_addresses=chosen,
        properties=txt_record(version(), hall, path),
        server=f"{host_label}.local.",
    )
    try:
        # Another server of the same name on the LAN: zeroconf renames this one ("... (2)").
        zeroconf.register_service(info, allow_name_change=True)
    except (OSError, NonUniqueNameException) as exc:
        log.warning("mDNS announcement failed (%s): the server is not announced", exc)
        zeroconf.close()
        return None
    log.info(
        "announced %r on the LAN (%s) at %s port %d",
        info.name,
        SERVICE_TYPE,
        ", ".join(chosen),
        port,
    )
    return Announcement(zeroconf, info)


class Background:
    """Announces in a thread of its own: probing the name takes about a second, and the server
    answers its first requests meanwhile."""

    def __init__(self, **settings: Any) -> None:
        self._settings = settings
        self._done = threading.Event()
        self.announcement: Announcement | None = None
        self._thread = threading.Thread(target=self._run, name="mdns-announce", daemon=True)

    def start(self) -> Background:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.announcement = announce(**self._settings)
        except Exception:
            log.exception("mDNS announcement failed; the server is not announced")
        finally:
            self._done.set()

    def close(self) -> None:
        self._done.wait(5)
        if self.announcement is not None:
            self.announcement.close()
