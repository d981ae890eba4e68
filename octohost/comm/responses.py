"""What the firmware says: received lines turned into flow control, state, callbacks and hooks.

:meth:`Responses.handle_line` runs on the receive thread for every line; ``ok`` is tested first
and goes straight to the sender, which writes the next line before this returns. The same
object watches the silence (:meth:`Responses.check_timeout`): no ``ok`` for too long means a
tickle, too many in a row an error state.

What it needs of the connection is :class:`ResponsesHost`, nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from octohost.logs import serial_log
from octohost.plugin.handlers import Handlers, run_handlers

from . import protocol
from .callback import CommCallback
from .config import CommConfig
from .sending import ResendError, Sender
from .states import OPERATIONAL_STATES, PRINTING_STATES, State

if TYPE_CHECKING:
    from .firmware import FirmwareReport
    from .sdcard import SdCard

log = logging.getLogger(__name__)

_TEMPERATURE_NAMES = {"B": "bed", "C": "chamber"}
_OK = protocol.parse_ok("ok")
RECEIVED_HOOK = "comm.protocol.gcode.received"
TEMPERATURES_HOOK = "comm.protocol.temperatures.received"

#: takes the next ok's extras before flow control does; True means "handled, do not acknowledge"
OkHandler = Callable[[dict[str, Any]], bool]


class ResponsesHost(Protocol):
    """What :class:`Responses` needs of the connection (``MachineCom``)."""

    callback: CommCallback
    config: CommConfig
    firmware: FirmwareReport
    sd: SdCard
    #: read for every ok: extra work for the next one (the handshake), else None
    ok_handler: OkHandler | None

    def handlers(self, name: str) -> Handlers: ...
    def call_hook(self, hook: str, /, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]: ...
    def get_state(self) -> str: ...
    def check_handshake(self, now: float) -> None: ...
    def firmware_started(self) -> None: ...
    def close_with_error(self, message: str, job_reason: str | None = None) -> None: ...
    def close(self, is_error: bool = False) -> None: ...
    def set_pause(self, paused: bool, tags: Any = None, user: str | None = None) -> bool: ...
    def cancel_print(self, tags: Any = None, firmware_error: str | None = None, user: str | None = None) -> bool: ...
    def send_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool: ...


class Responses:
    """The receive side of one connection of ``comm`` over ``sender``."""

    def __init__(self, comm: ResponsesHost, sender: Sender) -> None:
        self.comm = comm
        self.sender = sender
        self.callback = comm.callback
        self.config = comm.config
        self.temperatures: dict[str, Any] = {}
        self.last_progress = time.monotonic()
        self.timeouts = 0
        #: totals for the connection's metrics, counted on the rare paths only (errors, timeouts)
        self.line_errors = 0
        self.timeouts_total = 0
        self.resend_ok_due: float | None = None
        self.busy_seen = False  # the firmware sent keepalives: silence means a lost ok sooner (check_timeout)
        self._keepalive_interval_sent = False

    def handle_line(self, line: str) -> None:
        """Everything the firmware says comes through here, on the receive thread."""
        comm = self.comm
        handlers = comm.handlers("comm.protocol.gcode.received")  # == RECEIVED_HOOK; a constant, per line
        if handlers:
            line = self._received_hooks(handlers, line)
            if not line:
                return
        elif not line:
            return
        if line.startswith("ok"):
            self._ok(line)
            return
        self._log(line)
        kind, data = protocol.classify(line)
        getattr(self, "_on_" + kind)(data)
        if comm.get_state() in OPERATIONAL_STATES:
            self.check_timeout()

    def handle_ok(self) -> None:
        """A plain ``ok``, as :meth:`handle_line` takes it, by the shortest way: most lines of a print.

        Received-line handlers, a firmware report or the handshake waiting for an ok take the
        general way, so they see it as they see every line.
        """
        comm = self.comm
        if comm.ok_handler is not None or comm.firmware.pending or comm.handlers(RECEIVED_HOOK):
            self.handle_line("ok")
            return
        self.sender.acknowledge(_OK, received="ok")  # logs the ok after the write, before its log
        self._progress()

    def _ok(self, line):
        """Flow control first: an ok writes the next line before anything else happens.

        Also ``ok N.. P.. B..``; only an ok with temperatures, or one the handshake or a firmware
        report waits for, is handled (and logged) before the write.
        """
        comm = self.comm
        extras = protocol.parse_ok(line)
        temperatures = extras.get("temperatures")
        if temperatures is not None or comm.firmware.pending or comm.ok_handler is not None:
            self._log(line)
            if comm.firmware.pending:
                comm.firmware.report_complete()
            if temperatures is not None:
                self.sender.window.typed_oks = True  # so a tickle's answer can be told from a job line's
                self._temperatures_received(temperatures)
            ok_handler = comm.ok_handler
            if ok_handler is not None and ok_handler(extras):
                self._progress()
                return
            self.sender.acknowledge(extras)
        else:
            self.sender.acknowledge(extras, received=line)  # logs the ok after the write, before its log
        self._progress()

    def _progress(self):
        self.last_progress = time.monotonic()
        self.timeouts = 0
        self.resend_ok_due = None

    def _log(self, line):
        self.callback.on_comm_log("Recv: " + line)
        if serial_log.enabled:
            serial_log.write("<<<", line)

    def _received_hooks(self, handlers: Handlers, line: str) -> str:
        """Each handler gets what the previous one returned; None drops the line."""
        comm = self.comm
        current = [line]  # what the next handler gets
        for _, result in run_handlers(RECEIVED_HOOK, handlers, lambda handler: handler(comm, current[0])):
            if result is None:
                return ""
            current[0] = result
        return current[0]

    def _on_temperature(self, temperatures):
        if self.sender.window.has_long_running():
            self.last_progress = time.monotonic()
        self._temperatures_received(temperatures)

    def _temperatures_received(self, parsed: dict[str, Any]) -> None:
        comm = self.comm
        handlers = comm.handlers(TEMPERATURES_HOOK)
        if handlers:  # each handler gets a copy of what the previous one returned; nothing left drops it
            current = [parsed]
            for _, returned in run_handlers(TEMPERATURES_HOOK, handlers,
                                            lambda handler: handler(comm, dict(current[0]))):
                if not returned:
                    return
                current[0] = returned
            parsed = current[0]
        result = {}
        for key, value in parsed.items():
            name = _TEMPERATURE_NAMES.get(key) or ("tool" + key[1:] if key.startswith("T") else None)
            if name is not None:
                result[name] = value
        self.temperatures = result
        self.callback.on_comm_temperature_update(result)

    def _on_resend(self, number):
        self.resend_ok_due = time.monotonic() + self.config.timeout_resend_ok
        try:
            self.sender.resend_requested(number)
        except ResendError as exc:
            self.comm.close_with_error(f"Communication with the printer broke down: {exc}.")

    def _on_error(self, error):
        comm = self.comm
        if error.resend_related:
            self.line_errors += 1
            if error.last_line is not None:
                self.sender.settle_through(error.last_line)
            return
        if error.sd_related or "unknown command" in error.message.lower():
            self.callback.on_comm_message(error.message)
            return
        for plugin_id, handled in comm.call_hook("comm.protocol.gcode.error", error.message):
            if handled:
                log.info("firmware error %r handled by plugin %s", error.message, plugin_id)
                return
        mode = self.config.firmware_errors
        if mode != "ignore" and "kill() called" in error.message.lower():
            # the firmware halted (M112 in a file, a safety stop): it answers nothing until reset, so a
            # cancel would wait for oks forever; as OctoPrint does, this error always closes the port
            comm.close_with_error(f"The printer halted: {error.message}",
                                  job_reason=f"The printer halted during the print: {error.message}")
        elif mode == "disconnect":
            comm.close_with_error(f"The printer reported an error: {error.message}")
        elif mode == "cancel" and comm.get_state() in PRINTING_STATES | {State.PAUSED}:
            comm.cancel_print(firmware_error=error.message)
        else:
            self.callback.on_comm_message("Error: " + error.message)

    def _on_busy(self, line):
        """A keepalive (``busy: processing``, ``busy: paused for user``): alive, but no ok; nothing is settled.

        Marlin says it every M113 interval (2 s by default) while a command holds its queue. Once
        it has, a silence longer than ``communicationBusy`` can only be a lost ok, so
        :meth:`check_timeout` stops waiting the whole ``communication`` timeout for it. As in
        OctoPrint, a firmware with the BUSY_PROTOCOL capability is asked (M113) for keepalives a
        second inside that timeout.
        """
        self.last_progress = time.monotonic()
        if not self.busy_seen:
            self.busy_seen = True
            config = self.config
            self.callback.on_comm_log(
                f"The printer sends keepalives ({line}): from now on a lost ok is noticed after "
                f"{config.timeout_communication_busy:g} s instead of {config.timeout_communication:g} s")
        if not self._keepalive_interval_sent and self.comm.firmware.has("BUSY_PROTOCOL"):
            interval = max(1, int(self.config.timeout_communication_busy) - 1)
            self._keepalive_interval_sent = self.comm.send_command(
                f"M113 S{interval}", tags={"trigger:comm.set_busy_protocol_interval"})

    def _on_action(self, parsed):
        comm = self.comm
        action, name, params = parsed
        for _ in comm.call_hook("comm.protocol.action", "// action:" + action, action, name=name, params=params):
            pass
        if name == "pause":
            comm.set_pause(True, tags={"source:action"})
        elif name == "resume":
            comm.set_pause(False, tags={"source:action"})
        elif name == "cancel":
            comm.cancel_print(tags={"source:action"})
        elif name == "disconnect":
            threading.Thread(target=comm.close, name="octohost.comm.close", daemon=True).start()
        self.callback.on_comm_message("// action:" + action)

    def _on_firmware_info(self, parsed):
        self.comm.firmware.info(*parsed)

    def _on_capability(self, parsed):
        self.comm.firmware.capability(*parsed)

    def _on_start(self, line):
        # A restarted firmware forgets M113 and may send no keepalives any more: until it sends one
        # again, a silence is judged by the plain communication timeout.
        self.busy_seen = False
        self._keepalive_interval_sent = False
        self.comm.firmware_started()

    def _on_sd(self, event):
        self.comm.sd.line(*event)

    def _on_position(self, position):
        self.callback.on_comm_position_update(position)

    def _on_message(self, line):
        sd = self.comm.sd
        if sd.listing:
            sd.list_entry(line)
        elif line.startswith(("echo:", "//")):
            self.callback.on_comm_message(line)

    def _on_wait(self, line):
        pass

    def _on_empty(self, line):
        pass

    # -- silence ---------------------------------------------------------------------------------

    def check_timeout(self) -> None:
        """Called on idle reads and non-ok lines: handshake retries, lost oks, a dead printer."""
        comm = self.comm
        sender = self.sender
        config = self.config
        now = time.monotonic()
        state = comm.get_state()
        if state == State.CONNECTING:
            comm.check_handshake(now)
            return
        if not sender.window.in_flight or state not in OPERATIONAL_STATES:
            return
        if self.resend_ok_due is not None and now > self.resend_ok_due:
            self.resend_ok_due = None  # some firmware sends no ok after "Resend:": act as if it had
            self.callback.on_comm_log("No ok after the resend request, continuing without it")
            sender.acknowledge(_OK)
            return
        timeout = config.timeout_communication_busy if self.busy_seen else config.timeout_communication
        if now - max(self.last_progress, sender.idle_since) < timeout:
            return
        self.last_progress = now
        self.timeouts += 1
        self.timeouts_total += 1
        if sender.window.has_long_running():
            limit = config.max_timeouts_long
        elif state in PRINTING_STATES:
            limit = config.max_timeouts_printing
        else:
            limit = config.max_timeouts_idle
        if limit and self.timeouts > limit:
            comm.close_with_error(f"The printer stopped answering: no response for {timeout:g} s, "
                              f"{self.timeouts} times in a row. Is it still connected and switched on?")
            return
        self.callback.on_comm_log(f"Communication timeout ({timeout:g} s without an ok), asking the printer with M105")
        sender.timed_out()
