"""``MachineCom``: the comm layer's facade (surface: :class:`.callback.Comm`).

It opens the transport, runs the handshake, owns the receive thread (:mod:`.receiving`) and the
send thread (:mod:`.sending`), turns received lines into state, callbacks and hook calls, and
runs jobs. Everything the printer layer needs to know arrives through ``CommCallback``.

The parts it is made of see it only through a Protocol each (``ResponsesHost``, ``JobHost``,
``SdHost``, ``SenderHost``); state changes go through :meth:`MachineCom.transition` and the
table in :mod:`.states`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from octohost.plugin.handlers import Handlers, HandlerSource, run_handlers
from octohost.util.priority import start_thread

from . import protocol
from .callback import CommCallback
from .commandrules import CommandRules
from .config import CommConfig
from .detect import candidate_baudrates, detect
from .firmware import FirmwareReport
from .jobcontrol import JobControl
from .linelimit import check_length, max_command_length, split_lines
from .phases import QUEUED, QUEUING, SENDING, SENT, Phases, no_handlers
from .protocol import gcode_and_subcode, parse_at_command
from .receiving import Receiver
from .responses import OkHandler, Responses
from .sdcard import SdCard
from .sending import Sender
from .sendqueue import Command
from .states import (
    CLOSED_OR_ERROR_STATES,
    ERROR_STATES,
    OPERATIONAL_STATES,
    PRINTING_STATES,
    STATE_TEXT,
    State,
    StateMachine,
)
from .transport import Transport, TransportError

log = logging.getLogger(__name__)

#: the error after an M112, in OctoPrint's words
EMERGENCY_STOP = "Closing serial port due to emergency stop M112."
#: opens ``(port, baudrate)`` and returns the transport; raises when it cannot
TransportFactory = Callable[[str, int], Transport]


class MachineCom:
    def __init__(self, port: str | None, baudrate: int | None, callback: CommCallback, settings: Any = None,
                 plugin_manager: HandlerSource | None = None, printer_profile: Any = None,
                 script_renderer: Callable[..., Any] | None = None, options: dict[str, Any] | None = None,
                 virtual_options: Any = None, transport_factory: TransportFactory | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.callback = callback
        self.settings = settings
        self.plugin_manager = plugin_manager
        self.printer_profile = printer_profile
        self.script_renderer = script_renderer
        self.config = CommConfig.from_settings(settings, **(options or {}))
        self.virtual_options = virtual_options
        self._open: TransportFactory = transport_factory or self._open_transport
        #: ordered handlers of a hook (the plugin manager's cached lookup; the receive loop asks per line)
        self.handlers: Callable[[str], Handlers] = (plugin_manager.handlers if plugin_manager is not None
                                                    else no_handlers)
        self.phases = Phases(self, plugin_manager)
        config = self.config
        self.rules = CommandRules(config.pausing_commands, config.blocked_commands, config.ignored_commands)
        self._pausing_by_rule = False
        self.firmware = FirmwareReport(self)
        self.sd = SdCard(self)
        self._machine = StateMachine(callback.on_comm_state_change)
        self._error: str | None = None
        self._transport: Transport | None = None
        self.sender: Sender | None = None
        self.responses: Responses | None = None
        self._receiver: Receiver | None = None
        self._threads: list[threading.Thread] = []
        self._close_lock = threading.Lock()
        self._closed = False
        self._emergency = False  # an emergency stop is under way (emergency_stop)
        self.jobs = JobControl(self)
        # what the sender asks about the job, handed over as bound methods
        self.job_source = self.jobs.source
        self.job_finished = self.jobs.finished
        self.job_complete = self.jobs.complete
        self._handshake_started = 0.0
        self._hello_due = 0.0
        self._next_temperature_poll = 0.0
        self._next_sd_poll = 0.0
        #: extra work for the next ok (the handshake); True from it means "the ok is handled"
        self.ok_handler: OkHandler | None = None

    # -- connecting ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the port and run the handshake in the background; state changes report progress."""
        thread = threading.Thread(target=self._connect, name="octohost.comm.connect", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _open_transport(self, port: str, baudrate: int) -> Transport:
        """The default transport factory: plugins' factories, ``VIRTUAL``, URLs, device paths."""
        from .transport import VIRTUAL_PORT, open_transport

        virtual_options = self.virtual_options
        if virtual_options is None and port == VIRTUAL_PORT and self.settings is not None:
            from .virtual import options_from_settings

            virtual_options = options_from_settings(self.settings)
        return open_transport(port, baudrate, self.config.receive_poll, plugin_manager=self.plugin_manager,
                              comm_instance=self, virtual_options=virtual_options,
                              low_latency=self.config.low_latency)

    def _plugin_transport(self):
        """Before detecting: the ``serial.factory`` handlers asked with port ``AUTO`` or baud rate 0,
        as OctoPrint asks them (only with the default transport factory; tests inject their own)."""
        if self._open != self._open_transport or self.plugin_manager is None:
            return None
        from .transport import plugin_transport

        self.transition(State.OPEN_SERIAL)
        return plugin_transport(self.port, self.baudrate, self.config.receive_poll, self.plugin_manager, self)

    def _connect(self):
        if self._closed:
            return
        try:
            if self.port in (None, "AUTO") or not self.baudrate:
                transport = self._plugin_transport()
                if transport is None:
                    transport = self._detect()
                if transport is None:
                    return
            else:
                self.transition(State.OPEN_SERIAL)
                transport = self._open(self.port, self.baudrate)
        except Exception as exc:
            if not isinstance(exc, TransportError):  # a TransportError says it in words (and repeats while
                log.exception("cannot open %s", self.port)  # reconnecting): no traceback for it
            with self._close_lock:
                if self._closed:
                    return  # closed while opening: the close() said how the connection ended
                self._fail(f"Could not open the port {self.port} at {self.baudrate} baud: {exc}")
            return
        with self._close_lock:  # a close() meanwhile either came first or waits for the loops to exist
            if self._closed:
                transport.close()
                self.transition(State.CLOSED)
                return
            self._start_loops(transport)

    def _start_loops(self, transport):
        self._transport = transport
        self.sender = Sender(self, transport, self.config)
        self.sender.timers = self._run_timers
        self.responses = Responses(self, self.sender)
        self._receiver = Receiver(transport, self.responses.handle_line, self.responses.check_timeout,
                                  self.connection_lost, self.responses.handle_ok)
        self.transition(State.CONNECTING)
        self._handshake_started = time.monotonic()
        self.ok_handler = self._handshake_ok
        self._send_hello()
        self._receiver.running = self.sender.running = True
        for loop, name in ((self._receiver, "receive"), (self.sender, "send")):
            thread = threading.Thread(target=loop.run, name=f"octohost.comm.{name}", daemon=True)
            loop.thread = thread
            self._threads.append(thread)
            start_thread(thread)  # at the daemon's base priority, above the web threads

    def _detect(self):
        from .ports import detection_baudrates, detection_ports

        auto_port = self.port in (None, "AUTO")
        if auto_port:
            ports = detection_ports(self.settings, self.plugin_manager) if self.settings is not None else []
        else:
            ports = [self.port]
        if self.baudrate:
            rates = [self.baudrate]
        elif self.settings is not None:
            rates = detection_baudrates(self.settings)
        else:
            rates = candidate_baudrates(self.config.additional_baudrates)

        def attempt(port, baudrate):
            self.transition(State.DETECT_SERIAL if auto_port else State.DETECT_BAUDRATE)
            self.callback.on_comm_log(f"Trying port {port} at {baudrate} baud")

        found = detect(ports, rates, self._open, self.config.hello_command, self.config.timeout_detection, attempt)
        if found is None:
            self._fail(f"No printer answered on {', '.join(ports) or 'any port'} at "
                       f"{', '.join(str(r) for r in rates)} baud. Is it connected and switched on?")
            return None
        transport, self.port, self.baudrate = found
        return transport

    def _send_hello(self) -> None:
        """Reset line numbers; repeated on silence, since a board booting after the port opened drops it."""
        assert self.sender is not None
        self._hello_due = time.monotonic() + min(2.0, self.config.timeout_connection / 3)
        self.sender.reset_line_numbers()
        # through the sending hooks, as in OctoPrint: plugins for odd firmware rewrite the hello
        hello = self.phases.sending(Command(self.config.hello_command, tags={"trigger:comm.say_hello"}))
        if hello is not None:
            self.sender.send_now(hello.cmd)

    def check_handshake(self, now: float) -> None:
        """While connecting (the receive loop asks on silence): give up after the timeout, else repeat the hello."""
        if now - self._handshake_started > self.config.timeout_connection:
            self.close_with_error(f"The printer on {self.port} did not answer within "
                                  f"{self.config.timeout_connection:g} s. Wrong port or baud rate?")
        elif now >= self._hello_due:
            self._send_hello()

    def firmware_started(self) -> None:
        """The firmware said ``start`` (it booted): greet it again, or give up a job it lost."""
        state = self.get_state()
        if state == State.CONNECTING:
            self._hello_due = time.monotonic() + 0.5  # booted just now: repeat the hello unless it is answered
        elif state in PRINTING_STATES or state == State.PAUSED:
            self.close_with_error("The printer restarted unexpectedly (it sent 'start') and lost the print; "
                                  "the connection was closed.", job_reason="The printer restarted during the print")
        elif state in OPERATIONAL_STATES:
            self.callback.on_comm_log("The printer restarted (it sent 'start'), connecting again")
            self._restart_handshake()

    def _restart_handshake(self) -> None:
        """The firmware restarted while idle: forget what it told us and greet it again."""
        self.firmware = FirmwareReport(self)
        self.transition(State.CONNECTING)
        self._handshake_started = time.monotonic()
        self.ok_handler = self._handshake_ok
        self._send_hello()

    def _handshake_ok(self, extras: dict[str, Any]) -> bool:
        assert self.sender is not None
        self.ok_handler = None
        self.sender.reset_line_numbers()
        self.sender.next_line = 1
        self.transition(State.OPERATIONAL)
        self.send_command("M115", tags={"source:connect"})
        self.send_script("afterPrinterConnected", tags={"source:connect"})
        self._next_temperature_poll = 0.0
        self.sender.wake.set()
        return True

    # -- hooks ---------------------------------------------------------------------------------------

    def call_hook(self, hook: str, /, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call every handler of ``hook`` with this comm first; yields (plugin id, result) of those that returned.

        Through :func:`octohost.plugin.handlers.run_handlers`: raising handlers are logged and skipped.
        """
        return run_handlers(hook, self.handlers(hook), lambda handler: handler(self, *args, **kwargs))

    # -- timers ------------------------------------------------------------------------------------

    def _run_timers(self) -> float:
        """Called by the send thread before it sleeps: queue due polls, return seconds to sleep."""
        state = self.get_state()
        if state not in OPERATIONAL_STATES or self.sd.transferring:
            return 0.5
        now = time.monotonic()
        waits = []
        if not self.firmware.autoreport_temperatures:
            if now >= self._next_temperature_poll:
                self.send_command("M105", cmd_type="temperature_poll", tags={"trigger:poll"})
                temperatures = self.responses.temperatures if self.responses is not None else {}
                targets = any(value[1] for value in temperatures.values() if value[1])
                interval = (self.config.timeout_temperature_target_set if targets
                            else self.config.timeout_temperature)
                self._next_temperature_poll = now + interval
            waits.append(self._next_temperature_poll - now)
        job = self.jobs.job
        if job is not None and job.sd and state in PRINTING_STATES and not self.sd.autoreport:
            if now >= self._next_sd_poll:
                self.send_command("M27", cmd_type="sd_status_poll", tags={"trigger:poll"})
                self._next_sd_poll = now + self.config.timeout_sd_status
            waits.append(self._next_sd_poll - now)
        return max(0.01, min(waits)) if waits else 5.0

    # -- hooks the sender calls ------------------------------------------------------------------

    def queue_phase(self, command: Command) -> list[Command]:
        """Run ``command`` through the queuing phase: the plugins' handlers, then the host's own rules
        (:mod:`.commandrules`) on what they leave; @ commands meet their queuing handlers here."""
        results = self.phases.queuing(command)
        watched = self.rules.watched
        kept = []
        for result in results:
            if result.gcode is None:
                parsed = parse_at_command(result.cmd)  # None unless an @ command
                if parsed is not None:
                    self.at_command(QUEUING, parsed[0], parsed[1], result)
            elif result.gcode in watched and not self.rules.apply(result, self.is_printing(), self._pause_by_rule,
                                                                    self._suppressed):
                continue
            kept.append(result)
        return kept

    def _pause_by_rule(self) -> None:
        if self._pausing_by_rule:  # a pause whose own commands lost their trigger:pause tag (a plugin's rewrite)
            return
        log.info("pausing the print: a pausing command (serial.pausingCommands) was met")
        self._pausing_by_rule = True
        try:
            self.set_pause(True)
        finally:
            self._pausing_by_rule = False

    def _suppressed(self, command: Command, message: str, severity: str) -> None:
        log.info("%s", message)
        self.callback.on_comm_log("Info: " + message)
        self.callback.on_comm_command_suppressed(command.cmd, message, severity)

    def at_command(self, phase: str, name: str, params: str, command: Command) -> None:
        self.phases.atcommand(phase, name, params, command.tags)
        if phase != QUEUING:
            return
        tags = command.tags
        if name == "pause" and "script:afterPrintPaused" not in tags:
            self.set_pause(True, tags=tags)
        elif name == "resume" and "script:beforePrintResumed" not in tags:
            self.set_pause(False, tags=tags)
        elif name in ("cancel", "abort") and "script:afterPrintCancelled" not in tags:
            self.cancel_print(tags=tags)

    def observe_sent(self, command: Command) -> None:
        if command.gcode in ("M23", "M24", "M25", "M26", "M28", "M29", "M20", "M21", "M22", "M30"):
            self.sd.sent(command)
        elif command.gcode == "M112":
            # An M112 that reached the wire another way (a line of the print file): the firmware
            # halts now, so the job ends as an emergency stop does, not as a lost connection.
            self.emergency_stop()

    # -- state -----------------------------------------------------------------------------------

    def transition(self, state: str) -> bool:
        """Change the state along the table in :mod:`.states`; a change it does not allow is refused
        and logged as an error. True if the state is ``state`` now."""
        return self._machine.transition(state)

    def get_state(self) -> str:
        return self._machine.state

    def get_state_string(self) -> str:
        state = self._machine.state
        if state in ERROR_STATES and self._error:
            return f"{STATE_TEXT[state]}: {self._error}"
        return STATE_TEXT.get(state, state)

    def get_error(self) -> str | None:
        return self._error

    def is_operational(self) -> bool:
        return self._machine.state in OPERATIONAL_STATES

    def is_printing(self) -> bool:
        return self._machine.state in PRINTING_STATES

    def is_paused(self) -> bool:
        return self._machine.state == State.PAUSED

    def is_pausing(self) -> bool:
        return self._machine.state == State.PAUSING

    def is_cancelling(self) -> bool:
        return self._machine.state == State.CANCELLING

    def is_closed_or_error(self) -> bool:
        return self._machine.state in CLOSED_OR_ERROR_STATES

    def is_error(self) -> bool:
        return self._machine.state in ERROR_STATES

    def is_sd_ready(self) -> bool:
        return self.sd.ready

    def is_streaming(self) -> bool:
        return self.sd.transferring

    @property
    def firmware_name(self) -> str | None:
        return self.firmware.name

    @property
    def firmware_info(self) -> dict[str, str]:
        return self.firmware.data

    @property
    def capabilities(self) -> dict[str, bool]:
        return self.firmware.capabilities

    def get_transport(self) -> Any:
        return self._transport

    def resend_stats(self) -> dict[str, int]:
        sender = self.sender
        if sender is None:
            return {"count": 0, "transmitted": 0, "ratio": 0}
        return {"count": sender.resent, "transmitted": sender.transmitted,
                "ratio": int(100 * sender.resent / sender.transmitted) if sender.transmitted else 0}

    def counters(self) -> dict[str, int]:
        """Totals of this connection for metrics: lines sent and resent, line errors the firmware
        reported (checksum, line number), communication timeouts."""
        sender, responses = self.sender, self.responses
        return {"sent": sender.transmitted if sender is not None else 0,
                "resent": sender.resent if sender is not None else 0,
                "lineErrors": responses.line_errors if responses is not None else 0,
                "timeouts": responses.timeouts_total if responses is not None else 0}

    def turnaround(self) -> dict[str, Any] | None:
        """The sampled ok -> next line histogram of this connection (:mod:`.turnaround`), None before one."""
        sender = self.sender
        return sender.turnaround.cumulative() if sender is not None else None

    # -- commands --------------------------------------------------------------------------------

    def send_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool:
        """Queue ``cmd`` (through the queuing phase); False if not connected or refused.

        A command with line breaks is queued as one command per line; a line too long for the
        firmware's receive buffer is logged and skipped (see :mod:`.linelimit`). M112 is always
        sent, at once (:meth:`emergency_stop`); the other ``serial.emergencyCommands`` (M108, M410)
        are sent at once, past the queue and the window, when the firmware reports EMERGENCY_PARSER.
        Refused while a file goes to the SD card: the firmware would write the command into it.
        """
        if self.sd.transferring and not any(gcode_and_subcode(line)[0] == "M112" for line in split_lines(cmd)):
            log.info("not sending %r while a file is transferred to the SD card", cmd)
            return False
        return self.queue_command(cmd, cmd_type, tags, force)

    def command_lines(self, cmd: str) -> list[str]:
        """``cmd`` as the lines the firmware will get; raises :class:`CommandTooLong` for one it cannot take."""
        lines = split_lines(cmd)
        limit = self._command_limit()
        for line in lines:
            check_length(line, limit, self.config.rx_buffer_size)
        return lines

    def _command_limit(self):
        sender = self.sender
        return max_command_length(self.config.rx_buffer_size, sender.next_line if sender is not None else 1,
                                  numbered=not self.config.never_send_checksum)

    def _fits(self, command):
        """Whether a queued command (also after the plugins' queuing phase) can reach the firmware intact."""
        return self.sender.fits(command, self._command_limit())

    def queue_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool:
        """:meth:`send_command` without the SD upload guard: for the upload's own M28/M29."""
        if self.sender is None or self._machine.state not in OPERATIONAL_STATES:
            return False
        lines = split_lines(cmd)
        if len(lines) != 1:
            # one command per line, in order; a cmd_type belongs to the first only
            return any([self.queue_command(line, cmd_type if index == 0 else None, tags, force)
                        for index, line in enumerate(lines)])
        command = Command(lines[0], cmd_type, set(tags) if tags else set())
        if command.gcode == "M112":
            return self.emergency_stop()
        if not self._fits(command):
            return False
        if command.gcode in self.config.emergency_commands and self.firmware.has("EMERGENCY_PARSER"):
            force = True  # OctoPrint's emergencyCommands: the firmware acts on it as the bytes arrive
        if force:
            self._send_forced(command)
            return True
        if cmd_type is not None and self.sender.queue.has_type(cmd_type):
            return False
        return self.sender.enqueue([result for result in self.queue_phase(command) if self._fits(result)]) > 0

    def _send_forced(self, command: Command) -> None:
        """``force=True``: past the send queue at once, but through every phase, as OctoPrint sends a
        forced command (queuing, queued, sending, sent; @ commands meet their handlers)."""
        sender = self.sender
        assert sender is not None  # (queue_command checked it)
        for queued in self.queue_phase(command):
            if not self._fits(queued):
                continue
            self.phases.notify(QUEUED, queued)
            parsed = parse_at_command(queued.cmd) if queued.gcode is None else None
            if parsed is not None:
                self.at_command(SENDING, parsed[0], parsed[1], queued)
                continue
            rewritten = self.phases.sending(queued)
            if rewritten is None or not self._fits(rewritten):
                continue
            sender.send_now(rewritten.cmd)
            self.phases.notify(SENT, rewritten)

    def emergency_stop(self) -> bool:
        """M112: on the wire ahead of everything queued, then the connection closes with an error.

        The firmware halts and answers nothing until it is reset, so a cancel (which waits for the
        oks of the lines in flight) would wait forever. As OctoPrint does, M112 goes out without and
        with line number (one of them gets through whatever the numbering), then heaters off in case
        the firmware has no emergency parser, and the port closes: state ``CLOSED_WITH_ERROR``. A
        running job ends as cancelled by the emergency stop, with nothing to resume. Reconnecting
        resets most boards. Safe from any thread; False if not connected.

        It waits for nothing: not for the send lock (a pump may be stuck in a plugin handler or the
        file reader, see :meth:`.Sender.emergency`), not for the receive thread to end (it may be
        that pump); the port closes in the background once the receive loop has stopped.
        """
        sender = self.sender
        if sender is None or self._closed:
            return False
        if self._emergency:
            return True  # another thread is stopping already
        self._emergency = True  # the firmware's "kill() called" may arrive before the port is closed
        try:
            sender.emergency("M112", ["M112", *self._heaters_off()])
        except Exception:
            log.exception("writing the emergency stop failed")
        self.callback.on_comm_log(EMERGENCY_STOP)
        if self._shutdown(background=True):
            self.sd.abort_transfer(EMERGENCY_STOP)
            self.jobs.stop_on_emergency("Cancelled by an emergency stop (M112)")
            self._fail(EMERGENCY_STOP)
        return True

    def _heaters_off(self):
        profile = self.printer_profile or {}
        count = (profile.get("extruder") or {}).get("count", 1)
        commands = [f"M104 T{tool} S0" for tool in range(count)] if count > 1 else ["M104 S0"]
        if profile.get("heatedBed", True):
            commands.append("M140 S0")
        return commands

    def send_script(self, name: str, context: dict[str, Any] | None = None, tags: Any = None) -> bool:
        """Queue the GCODE script ``name`` (rendered by ``script_renderer``, plus the scripts hook)."""
        from .scripts import script_lines

        script = script_lines(self, name, context)
        if script is None:
            return False
        lines, hook_tags = script
        script_tags = {"source:script", f"script:{name}"} | set(tags or ()) | hook_tags
        for line in lines:
            self.send_command(line, tags=script_tags)
        return True

    def handlers_changed(self) -> None:
        """Gcode phase handlers came or went (a plugin, the printer's offset rewrite): the next line sees them."""
        if self.sender is not None:
            self.sender.refresh_handlers()

    def fake_ok(self) -> None:
        if self.sender is not None:
            self.sender.acknowledge(protocol.parse_ok("ok"), oldest=True)

    # -- jobs (details in .jobcontrol and .sdcard) -----------------------------------------------

    def select_file(self, path: str, sd: bool, tags: Any = None, user: str | None = None) -> bool:
        return self.jobs.select(path, sd, tags, user)

    def unselect_file(self) -> bool:
        return self.jobs.unselect()

    def start_print(self, pos: int | None = None, tags: Any = None, user: str | None = None) -> bool:
        return self.jobs.start(pos, tags, user)

    def set_pause(self, paused: bool, tags: Any = None, user: str | None = None) -> bool:
        return self.jobs.set_pause(paused, tags, user)

    def cancel_print(self, tags: Any = None, firmware_error: str | None = None, user: str | None = None) -> bool:
        return self.jobs.cancel(tags, firmware_error, user)

    def job_on_hold(self, blocking: bool = True) -> bool:
        return self.jobs.on_hold > 0

    def set_job_on_hold(self, value: bool, blocking: bool = True) -> bool:
        return self.jobs.set_hold(value)

    def get_job_status(self) -> dict[str, Any]:
        return self.jobs.status()

    # -- SD card (details in .sdcard) ------------------------------------------------------------

    def init_sd_card(self, tags: Any = None) -> bool:
        return self.sd.init(tags)

    def release_sd_card(self, tags: Any = None) -> bool:
        return self.sd.release(tags)

    def refresh_sd_files(self, tags: Any = None) -> bool:
        return self.sd.refresh(tags)

    def start_sd_file_transfer(self, local_path: str, remote_name: str, tags: Any = None,
                               user: str | None = None) -> bool:
        return self.sd.start_transfer(local_path, remote_name, tags, user)

    def delete_sd_file(self, name: str, tags: Any = None) -> bool:
        return self.sd.delete(name, tags)

    # -- closing ---------------------------------------------------------------------------------

    def connection_lost(self, exc: BaseException) -> None:
        if self._closed:
            return
        self.close_with_error(f"Lost the connection to the printer on {self.port}: {exc}",
                              job_reason="The connection to the printer was lost during the print")

    def _fail(self, message: str) -> None:
        self._error = message
        log.error(message)
        self.callback.on_comm_error(message)
        self.transition(State.CLOSED_WITH_ERROR)

    def close_with_error(self, message: str, job_reason: str | None = None) -> None:
        """Close because something broke: a running job or upload fails with ``job_reason`` (or ``message``)."""
        if self._emergency:
            return  # emergency_stop() closes the port and says why
        if self._shutdown():
            self.sd.abort_transfer(message)
            self.jobs.end("error", job_reason or message)
            self._fail(message)

    def close(self, is_error: bool = False) -> None:
        """Disconnect; a running job ends as failed with its position recorded."""
        if self._shutdown():
            self.sd.abort_transfer("The printer was disconnected during the upload")
            self.jobs.end("disconnect", "The printer was disconnected during the print")
            self.transition(State.CLOSED_WITH_ERROR if is_error else State.CLOSED)
        self._join()

    def _shutdown(self, background: bool = False) -> bool:
        """Stop the loops and close the port, once; True for the caller that did it.

        ``background``: return at once and close the port on a thread of its own once the receive
        loop has ended (it may be busy in a plugin handler; the port must not close under its read).
        """
        with self._close_lock:
            if self._closed:
                return False
            self._closed = True
        if self.sender is not None:
            self.sender.stop()
        if background:
            thread = threading.Thread(target=self._stop_receiving_and_close, name="octohost.comm.close", daemon=True)
            self._threads.append(thread)
            thread.start()
        else:
            self._stop_receiving_and_close()
        return True

    def _stop_receiving_and_close(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
        if self._transport is not None:
            try:
                self._transport.close()
            except Exception:
                log.exception("closing the port failed")

    def _join(self, timeout: float = 5.0) -> None:
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current and thread.is_alive():
                thread.join(timeout)
