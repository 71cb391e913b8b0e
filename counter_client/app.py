"""The counter program's loop: keys and buttons in, presses out, the status view redrawn.

The loop blocks on one queue and redraws only after something happened; the keyboard, GPIO and
socket threads only put items on that queue. A press runs on a short-lived worker thread so the
view can say "sending…" meanwhile; the client refuses a second press while one is in flight.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from counter_client.client import PAUSE, RESUME, CounterClient, PressResult
from counter_client.entry import ReturnTimeEntry, SignInEntry
from counter_client.config import PAUSE_PREFIX, TRANSFER_PREFIX
from counter_client.texts import Texts
from counter_client.view import Screen, TerminalView
import panggil_protocol as protocol
from panggil_common.sdnotify import Watchdog

log = logging.getLogger(__name__)

MENU_SIZE = 9  # one digit per choice

SIMPLE_COMMANDS = {"next": protocol.CALL_NEXT, "recall": protocol.RECALL, "skip": protocol.SKIP,
                   "finish": protocol.FINISH}  # fmt: skip


SIGNAL_CHECK_SECONDS = 1.0


class App:
    """Turns keys and buttons into presses and keeps the status view current."""

    def __init__(
        self,
        client: CounterClient,
        view: TerminalView,
        texts: Texts,
        keys: Mapping[str, str],
        pause_reason: str = "istirahat",
    ) -> None:
        self.client = client
        self.pause_reason = pause_reason
        self.last_pause_reason = pause_reason
        self.view = view
        self.texts = texts
        self.keys = keys
        # A SimpleQueue: `stop` runs in the SIGTERM handler, which may interrupt the main thread
        # inside a put; SimpleQueue.put is reentrant, a Queue's lock is not.
        self.events: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self.message = ""
        self.message_is_error = False
        # An open menu: its title and its choices as (label, command, args).
        self.menu: tuple[str, list[tuple[str, str, dict]]] | None = None
        # The officer number and PIN being typed after the sign-in key, if any.
        self.entry: SignInEntry | ReturnTimeEntry | None = None
        self.presses_started = 0

    # --- called from other threads --------------------------------------------------------------

    def post_key(self, key: str) -> None:
        self.events.put(("key", key))

    def post_action(self, action: str) -> None:
        self.events.put(("action", action))

    def post_change(self) -> None:
        self.events.put(("change", None))

    def stop(self) -> None:
        self.events.put(None)

    # --- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        self.redraw()
        watchdog = Watchdog()  # systemd's: the loop wakes at least every SIGNAL_CHECK_SECONDS
        watchdog.ready()
        while True:
            watchdog.alive()
            try:
                # Not a bare get(): Linux may deliver SIGTERM to a socket thread, and Python runs
                # the handler (which puts the stop) only when the main thread wakes up.
                item = self.events.get(timeout=SIGNAL_CHECK_SECONDS)
            except queue.Empty:
                continue
            if item is None:
                return
            kind, value = item
            try:
                if kind == "key":
                    self.handle_key(value)
                elif kind == "action":
                    self.handle_action(value)
                elif kind == "result":
                    self.handle_result(value)
            except Exception:  # one bad event must not stop the counter
                log.exception("handling %s %r failed", kind, value)
            if self.events.empty():  # a burst of events is drawn once
                try:
                    self.redraw()
                except Exception:  # keep taking presses even if the view cannot draw something
                    log.exception("status view failed to draw")

    def redraw(self) -> None:
        c = self.client
        title, items = (
            (self.menu[0], tuple(label for label, _, _ in self.menu[1]))
            if self.menu
            else (None, ())
        )
        if self.entry is not None:
            title = self.entry.prompt(self.texts)
        self.view.draw(Screen(
            state=c.state, connection=c.connection, refusal=c.refusal, pending=c.pending, retrying=c.retrying,
            server=urlsplit(c.server_url).netloc,
            message=self.message, message_is_error=self.message_is_error, menu_title=title, menu_items=items,
            keys=self.keys,
        ))  # fmt: skip

    # --- keys, actions, results ------------------------------------------------------------------

    def handle_key(self, key: str) -> None:
        if self.entry is not None:
            outcome = self.entry.key(key)
            if outcome == "cancel":
                self.entry = None
                self.say(self.texts("cancelled"))
            elif outcome == "done":
                command, args = self.entry.request()
                self.entry = None
                self.send(command, args)
            return
        if self.menu is not None:
            _, choices = self.menu
            self.menu = None
            if key.isdigit() and 1 <= int(key) <= len(choices):
                _, command, args = choices[int(key) - 1]
                self.send(command, args)
            else:
                self.say(self.texts("cancelled"))
            return
        action = self.keys.get(key)
        if action is None:
            log.debug("key %r has no action", key)
            return
        self.handle_action(action)

    def handle_action(self, action: str) -> None:
        if action in SIMPLE_COMMANDS:
            self.send(SIMPLE_COMMANDS[action], {})
        elif action.startswith(TRANSFER_PREFIX):
            self.send(protocol.TRANSFER, {"service": action.removeprefix(TRANSFER_PREFIX)})
        elif action == "pause" or action.startswith(PAUSE_PREFIX):
            reason = action.removeprefix(PAUSE_PREFIX) if action != "pause" else self.pause_reason
            self.last_pause_reason = reason  # for the answer: an ack need not repeat it
            self.send(PAUSE, {"reason": reason})
        elif action == "pause_until":  # the return time first, then the break
            if self._usable():
                self.last_pause_reason = self.pause_reason
                self.entry = ReturnTimeEntry(self.pause_reason)
        elif action == "resume":
            self.send(RESUME, {})
        elif action == "sign_in":
            if self._usable():
                self.entry = SignInEntry()
        elif action == "sign_out":
            self.send(protocol.SIGN_OUT, {})
        elif action == "transfer":
            self.open_transfer_menu()
        elif action == "call_back":
            self.open_call_back_menu()
        else:
            log.warning("unknown action %r", action)

    def open_transfer_menu(self) -> None:
        state = self.client.state
        if not self._usable():
            return
        if state.current is None:
            self.say(self.texts.error("no-current-ticket"), error=True)
            return
        targets = state.transfer_targets()[:MENU_SIZE]
        if not targets:
            self.say(self.texts("error.no-target"), error=True)
            return
        choices = [
            (f"{s.name} ({s.code})", protocol.TRANSFER, {"service": s.code}) for s in targets
        ]
        self.menu = (self.texts("menu.transfer", ticket=state.current["number"]), choices)

    def open_call_back_menu(self) -> None:
        if not self._usable():
            return
        # The most recently skipped are the likeliest to be back at the desk.
        skipped = list(self.client.state.skipped)[-MENU_SIZE:]
        if not skipped:
            self.say(self.texts("error.no-skipped"), error=True)
            return
        choices = [(t["number"], protocol.CALL_TICKET, {"number": t["number"]}) for t in skipped]
        self.menu = (self.texts("menu.call_back"), choices)

    def _usable(self) -> bool:
        """Menus need a live link: refuse visibly, as a press would be."""
        if not self.client.connected:
            self.say(self.texts.error("disconnected"), error=True)
            return False
        return True

    def send(self, command: str, args: dict) -> None:
        self.presses_started += 1
        threading.Thread(
            target=self._press, args=(command, args), name=f"press-{command}", daemon=True
        ).start()

    def _press(self, command: str, args: dict) -> None:
        try:
            result = self.client.press(command, **args)
        except Exception:
            log.exception("press %s failed", command)
            result = PressResult(command, False, "internal-error")
        self.events.put(("result", result))

    def handle_result(self, result: PressResult) -> None:
        if result.error == "debounced":
            return  # a bounce or a held key: the first press already shows its outcome
        if not result.ok:
            self.say(self.texts.error(result.error or "internal-error", result.message), error=True)
            return
        self.say(self.describe(result))

    def describe(self, result: PressResult) -> str:
        r = result.result or {}
        number = (r.get("ticket") or {}).get("number", "?")
        if result.command == PAUSE:
            brk = (r.get("counter") or {}).get("break") or {}
            reason = brk.get("reason") or self.last_pause_reason
            text = self.texts("done.pause", reason=self.texts.reason(reason))
        elif result.command == RESUME:
            text = self.texts("done.resume")
        elif result.command in (protocol.SIGN_IN, protocol.SIGN_OUT):
            officer = (r.get("counter") or {}).get("officer") or {}
            name = officer.get("full_name") or officer.get("username") or "?"
            text = self.texts(f"done.{result.command}", name=name)
        elif result.command in (protocol.CALL_NEXT, protocol.CALL_TICKET):
            finished = r.get("finished")
            text = (self.texts("done.next.finished", number=number, finished=finished["number"]) if finished
                    else self.texts("done.next", number=number))  # fmt: skip
        elif result.command == protocol.TRANSFER:
            code = (r.get("ticket") or {}).get("service", "")
            service = self.client.state.services.get(code)
            text = self.texts(
                "done.transfer", number=number, service=service.name if service else code
            )
        else:
            text = self.texts(f"done.{result.command}", number=number)
        return text + (self.texts("done.replayed") if result.replayed else "")

    def say(self, text: str, error: bool = False) -> None:
        self.message = text
        self.message_is_error = error
