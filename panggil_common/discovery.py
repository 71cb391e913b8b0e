"""Finding the Panggil server on the hall's LAN by mDNS/DNS-SD (`_panggil._tcp.local.`).

The server announces itself (server/discovery.py); a TV display or a counter keypad with no
server URL set browses for it here. What the announcement holds (the TXT record) is declared
once below, so both sides agree. Choosing among several servers is a pure function
(`choose`); `find_server` is the shell that browses, retries with back-off and reports what it
is doing through `on_status`, so each client can say it on its own screen.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SERVICE_TYPE = "_panggil._tcp.local."
# TXT keys: the server's version, the hall's name and the HTTP path the server is mounted at.
TXT_VERSION = "version"
TXT_HALL = "hall"
TXT_PATH = "path"

# What `on_status(kind, detail)` receives.
SEARCHING = "searching"  # detail: the attempt number (1, 2, ...)
NOT_FOUND = "not-found"  # detail: seconds until the next attempt
FOUND = "found"  # detail: the chosen Server


class DiscoveryStopped(Exception):
    """The search was stopped before a server was found."""


@dataclass(frozen=True)
class Server:
    """One announced server: where it is and what it says about itself."""

    name: str  # the DNS-SD instance name, e.g. "MPP Kota Bogor._panggil._tcp.local."
    host: str  # an address to reach it at
    port: int
    hall: str = ""
    version: str = ""
    path: str = "/"

    @property
    def url(self) -> str:
        """The base URL the socket and HTTP clients use, e.g. http://192.168.1.10:5000."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path.rstrip('/')}"

    def describe(self) -> str:
        """For logs and screens: "MPP Kota Bogor (http://192.168.1.10:5000)"."""
        return f"{self.hall or self.name} ({self.url})"


def instance_name(hall: str) -> str:
    """The DNS-SD instance label for a hall: its name, cut to the 63 bytes a label may hold."""
    label = " ".join(hall.replace(".", " ").split()) or "Panggil"
    while len(label.encode("utf-8")) > 63:
        label = label[:-1]
    return label


def txt_record(version: str, hall: str, path: str = "/") -> dict[str, str]:
    """The TXT properties the server announces."""
    return {TXT_VERSION: version, TXT_HALL: hall, TXT_PATH: path or "/"}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def server_from_record(
    name: str, addresses: Sequence[str], port: int | None, properties: dict[Any, Any]
) -> Server | None:
    """A Server from a resolved record (None when it has no usable address or port)."""
    if not port or not addresses:
        return None
    txt = {_text(key): _text(value) for key, value in properties.items()}
    # Prefer IPv4: a link-local IPv6 address needs a zone index that a URL cannot carry.
    ordered = sorted(addresses, key=lambda a: ipaddress.ip_address(a).version)
    path = txt.get(TXT_PATH) or "/"
    return Server(
        name=name,
        host=ordered[0],
        port=port,
        hall=txt.get(TXT_HALL, ""),
        version=txt.get(TXT_VERSION, ""),
        path=path if path.startswith("/") else "/" + path,
    )


def choose(found: Iterable[Server], hall: str = "") -> tuple[Server | None, list[Server]]:
    """The server to use and the others: the one whose hall is `hall` (case-insensitive) when
    one is named, else the first by name, so that every device of a hall picks the same one."""
    servers = sorted(found, key=lambda s: (s.name, s.host))
    if hall:
        wanted = hall.strip().casefold()
        servers_of_hall = [s for s in servers if s.hall.strip().casefold() == wanted]
        if not servers_of_hall:
            return None, servers
        chosen = servers_of_hall[0]
    else:
        if not servers:
            return None, []
        chosen = servers[0]
    return chosen, [s for s in servers if s is not chosen]


def new_zeroconf(interfaces: Sequence[str] = (), v4_only: bool = False) -> Any:
    """A Zeroconf instance with its own event loop thread.

    Made in a thread of its own: Zeroconf adopts an asyncio loop running in the calling thread
    (Playwright's, an application's), and then blocks it waiting for itself (EventLoopBlocked).
    """
    from zeroconf import InterfaceChoice, IPVersion, Zeroconf

    made: list[Any] = []
    failed: list[BaseException] = []
    # No interfaces given: every interface (zeroconf refuses None).
    chosen: Any = list(interfaces) if interfaces else InterfaceChoice.All

    def make() -> None:
        try:
            made.append(
                Zeroconf(
                    interfaces=chosen,
                    ip_version=IPVersion.V4Only if v4_only else IPVersion.All,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=make, name="zeroconf-start", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


def browse(timeout: float = 3.0, interfaces: Sequence[str] = ()) -> list[Server]:
    """Every server that answers within `timeout` seconds, on all interfaces or the given ones."""
    from zeroconf import ServiceBrowser, ServiceStateChange

    zc = new_zeroconf(interfaces, v4_only=_all_ipv4(interfaces))
    names: list[str] = []
    seen = threading.Event()

    def on_change(
        zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is not ServiceStateChange.Removed and name not in names:
            names.append(name)
            seen.set()

    browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
    try:
        deadline = time.monotonic() + timeout
        # Wait for a first answer, then a little longer for the others of a LAN with several.
        if seen.wait(timeout):
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        servers = []
        for name in list(names):
            left = max(0.5, deadline - time.monotonic())
            info = zc.get_service_info(SERVICE_TYPE, name, timeout=int(left * 1000))
            if info is None:
                continue
            server = server_from_record(
                name, info.parsed_addresses(), info.port, dict(info.properties)
            )
            if server is not None:
                servers.append(server)
        return servers
    finally:
        browser.cancel()
        zc.close()


def _all_ipv4(interfaces: Sequence[str]) -> bool:
    try:
        return bool(interfaces) and all(ipaddress.ip_address(i).version == 4 for i in interfaces)
    except ValueError:  # an interface name, not an address
        return False


def find_server(
    *,
    hall: str = "",
    timeout: float = 3.0,
    interfaces: Sequence[str] = (),
    backoff_max: float = 30.0,
    on_status: Callable[[str, Any], None] = lambda kind, detail: None,
    stop: threading.Event | None = None,
    browse_once: Callable[[float, Sequence[str]], list[Server]] = browse,
) -> Server:
    """Browse until a server is found (retrying with back-off) and return the chosen one.

    Raises DiscoveryStopped when `stop` is set first. Other servers found are logged.
    """
    stop = stop or threading.Event()
    delay = 1.0
    attempt = 0
    while not stop.is_set():
        attempt += 1
        on_status(SEARCHING, attempt)
        try:
            found = browse_once(timeout, interfaces)
        except Exception as exc:  # noqa: BLE001 - no network yet at boot: try again later
            log.warning("mDNS browse failed: %s", exc)
            found = []
        chosen, others = choose(found, hall)
        if chosen is not None:
            for other in others:
                log.info("also found Panggil server %s; not used", other.describe())
            log.info("using Panggil server %s (version %s)", chosen.describe(), chosen.version)
            on_status(FOUND, chosen)
            return chosen
        if others:
            log.warning(
                "no Panggil server of hall %r; found only %s",
                hall,
                ", ".join(s.describe() for s in others),
            )
        on_status(NOT_FOUND, delay)
        if stop.wait(delay):
            break
        delay = min(delay * 2, backoff_max)
    raise DiscoveryStopped("stopped before a server was found")
