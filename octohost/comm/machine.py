"""``MachineCom``: the comm layer's facade and state machine (surface: see ``callback.py``).

It opens the transport, runs the handshake, owns the receive thread (:mod:`.receiving`) and the
send thread (:mod:`.sending`), turns received lines into state, callbacks and hook calls, and
runs jobs. Everything the printer layer needs to know arrives through ``CommCallback``.
"""

import logging
import threading
import time

from octohost.logs import serial_log

from . import protocol
from .config import CommConfig
from .detect import candidate_baudrates, detect
from .firmware import FirmwareReport
from .job import LocalFileJob
from .phases import QUEUING, Phases, warn_if_slow
from .protocol import parse_at_command
from .receiving import Receiver
from .sdcard import SdCard
from .sending import ResendError, Sender
from .sendqueue import Command
from .states import (CLOSED_OR_ERROR_STATES, ERROR_STATES, OPERATIONAL_STATES, PRINTING_STATES, STATE_TEXT,
                     State)

log = logging.getLogger(__name__)

_TEMPERATURE_NAMES = {"B": "bed", "C": "chamber"}


class MachineCom:
    def __init__(self, port, baudrate, callback, settings=None, plugin_manager=None, printer_profile=None,
                 script_renderer=None, options=None, virtual_options=None):
        self.port = port
        self.baudrate = baudrate
        self.callback = callback
        self.settings = settings
        self.plugin_manager = plugin_manager
        self.printer_profile = printer_profile
        self.script_renderer = script_renderer
        self.config = CommConfig.from_settings(settings, **(options or {}))
        self.virtual_options = virtual_options
        self.phases = Phases(self, plugin_manager)
        self.firmware = FirmwareReport(self)
        self.sd = SdCard(self)
        self._handlers = plugin_manager.handlers if plugin_manager is not None else (lambda name: ())
        self._state = State.NONE
        self._error = None
        self._transport = None
        self.sender = None
        self._receiver = None
        self._threads = []
        self._close_lock = threading.Lock()
        self._closed = False
        self._job = None
        self._job_active = False
        self._job_on_hold = 0
        self._hold_lock = threading.Condition()
        self._last_progress = time.monotonic()
        self._timeouts = 0
        self._resend_ok_due = None
        self._busy_seen = False
        self._handshake_started = None
        self._hello_due = 0.0
        self._next_temperature_poll = 0.0
        self._next_sd_poll = 0.0
        self._temperatures = {}
        self._on_ok = None  # extra work for the next ok (handshake, capability report, cancel)

    # -- connecting ------------------------------------------------------------------------------

    def connect(self):
        """Open the port and run the handshake in the background; state changes report progress."""
        thread = threading.Thread(target=self._connect, name="octohost.comm.connect", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _open(self, port, baudrate):
        from .transport import VIRTUAL_PORT, open_transport

        virtual_options = self.virtual_options
        if virtual_options is None and port == VIRTUAL_PORT and self.settings is not None:
            from .virtual import options_from_settings

            virtual_options = options_from_settings(self.settings)
        return open_transport(port, baudrate, self.config.receive_poll, plugin_manager=self.plugin_manager,
                              comm_instance=self, virtual_options=virtual_options)

    def _connect(self):
        try:
            if self.port in (None, "AUTO") or not self.baudrate:
                transport = self._detect()
                if transport is None:
                    return
            else:
                self._set_state(State.OPEN_SERIAL)
                transport = self._open(self.port, self.baudrate)
        except Exception as exc:
            log.exception("cannot open %s", self.port)
            self._fail(f"Could not open the port {self.port} at {self.baudrate} baud: {exc}")
            return
        if self._closed:
            transport.close()
            return
        self._transport = transport
        self.sender = Sender(self, transport, self.config)
        self.sender.timers = self._run_timers
        self._receiver = Receiver(transport, self.handle_line, self._check_timeout, self.connection_lost)
        self._set_state(State.CONNECTING)
        self._handshake_started = time.monotonic()
        self._on_ok = self._handshake_ok
        self._send_hello()
        self._receiver.running = self.sender.running = True
        for target, name in ((self._receiver.run, "receive"), (self.sender.run, "send")):
            thread = threading.Thread(target=target, name=f"octohost.comm.{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

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
            self._set_state(State.DETECT_SERIAL if auto_port else State.DETECT_BAUDRATE)
            self.callback.on_comm_log(f"Trying port {port} at {baudrate} baud")

        found = detect(ports, rates, self._open, self.config.hello_command, self.config.timeout_detection, attempt)
        if found is None:
            self._fail(f"No printer answered on {', '.join(ports) or 'any port'} at "
                       f"{', '.join(str(r) for r in rates)} baud. Is it connected and switched on?")
            return None
        transport, self.port, self.baudrate = found
        return transport

    def _send_hello(self):
        """Reset line numbers; repeated on silence, since a board booting after the port opened drops it."""
        self._hello_due = time.monotonic() + min(2.0, self.config.timeout_connection / 3)
        self.sender.reset_line_numbers()
        self.sender.send_now(self.config.hello_command)

    def _handshake_ok(self, extras):
        self._on_ok = None
        self.sender.reset_line_numbers()
        self.sender.next_line = 1
        self._set_state(State.OPERATIONAL)
        self.send_command("M115", tags={"source:connect"})
        self.send_script("afterPrinterConnected", tags={"source:connect"})
        self._next_temperature_poll = 0.0
        self.sender.wake.set()
        return True

    # -- received lines --------------------------------------------------------------------------

    def handle_line(self, line):
        """Everything the firmware says comes through here, on the receive thread."""
        handlers = self._handlers("comm.protocol.gcode.received")
        if handlers:
            line = self._received_hooks(handlers, line)
            if not line:
                return
        elif not line:
            return
        self.callback.on_comm_log("Recv: " + line)
        if serial_log.enabled:
            serial_log.write("<<<", line)
        if line.startswith("ok"):
            self._last_progress = time.monotonic()
            self._timeouts = 0
            self._resend_ok_due = None
            extras = protocol.parse_ok(line)
            if self.firmware.pending:
                self.firmware.report_complete()
            if self._on_ok is not None and self._on_ok(extras):
                return
            if extras and "temperatures" in extras:
                self._temperatures_received(extras["temperatures"])
            self.sender.acknowledge(extras)
            return
        kind, data = protocol.classify(line)
        getattr(self, "_on_" + kind)(data)
        if self._state in OPERATIONAL_STATES:
            self._check_timeout()

    def call_hook(self, hook, /, *args, **kwargs):
        """Call every handler of ``hook``; yields (plugin id, result) of those that returned.

        Raising handlers are logged with their plugin id and skipped, slow ones named in a warning.
        """
        for plugin_id, handler in self._handlers(hook):
            started = time.perf_counter()
            try:
                result = handler(self, *args, **kwargs)
            except Exception:
                log.exception("plugin %s raised in the %s hook; skipped", plugin_id, hook)
                continue
            finally:
                warn_if_slow(plugin_id, hook, started)
            yield plugin_id, result

    def _received_hooks(self, handlers, line):
        for plugin_id, handler in handlers:
            started = time.perf_counter()
            try:
                line = handler(self, line)
            except Exception:
                log.exception("plugin %s raised in the gcode received hook; skipped", plugin_id)
                continue
            finally:
                warn_if_slow(plugin_id, "comm.protocol.gcode.received", started)
            if line is None:
                return ""
        return line

    def _on_temperature(self, temperatures):
        if self.sender is not None and self.sender.window.has_long_running():
            self._last_progress = time.monotonic()
        self._temperatures_received(temperatures)

    def _temperatures_received(self, parsed):
        for plugin_id, handler in self._handlers("comm.protocol.temperatures.received"):
            started = time.perf_counter()
            try:
                parsed = handler(self, dict(parsed))
            except Exception:
                log.exception("plugin %s raised in the temperatures received hook; skipped", plugin_id)
                continue
            finally:
                warn_if_slow(plugin_id, "comm.protocol.temperatures.received", started)
            if not parsed:
                return
        result = {}
        for key, value in parsed.items():
            name = _TEMPERATURE_NAMES.get(key) or ("tool" + key[1:] if key.startswith("T") else None)
            if name is not None:
                result[name] = value
        self._temperatures = result
        self.callback.on_comm_temperature_update(result)

    def _on_resend(self, number):
        self._resend_ok_due = time.monotonic() + self.config.timeout_resend_ok
        try:
            self.sender.resend_requested(number)
        except ResendError as exc:
            self._error_close(f"Communication with the printer broke down: {exc}.")

    def _on_error(self, error):
        if error.resend_related:
            return
        if error.sd_related or "unknown command" in error.message.lower():
            self.callback.on_comm_message(error.message)
            return
        for plugin_id, handled in self.call_hook("comm.protocol.gcode.error", error.message):
            if handled:
                log.info("firmware error %r handled by plugin %s", error.message, plugin_id)
                return
        mode = self.config.firmware_errors
        if mode == "ignore":
            self.callback.on_comm_message("Error: " + error.message)
        elif mode == "disconnect" or self._state not in PRINTING_STATES | {State.PAUSED}:
            if mode == "disconnect":
                self._error_close(f"The printer reported an error: {error.message}")
            else:
                self.callback.on_comm_message("Error: " + error.message)
        else:
            self.cancel_print(firmware_error=error.message)

    def _on_busy(self, line):
        self._busy_seen = True
        self._last_progress = time.monotonic()

    def _on_action(self, parsed):
        action, name, params = parsed
        for _ in self.call_hook("comm.protocol.action", "// action:" + action, action, name=name, params=params):
            pass
        if name == "pause":
            self.set_pause(True, tags={"source:action"})
        elif name == "resume":
            self.set_pause(False, tags={"source:action"})
        elif name == "cancel":
            self.cancel_print(tags={"source:action"})
        elif name == "disconnect":
            threading.Thread(target=self.close, daemon=True).start()
        self.callback.on_comm_message("// action:" + action)

    def _on_firmware_info(self, parsed):
        self.firmware.info(*parsed)

    def _on_capability(self, parsed):
        self.firmware.capability(*parsed)

    def _on_start(self, line):
        if self._state == State.CONNECTING:
            self._hello_due = time.monotonic() + 0.5  # booted just now: repeat the hello unless it is answered
        elif self._state in OPERATIONAL_STATES:
            self._error_close("The printer restarted unexpectedly (it sent 'start'); "
                              "it lost its state, so the connection was closed.",
                              job_reason="The printer restarted during the print")

    def _on_sd(self, event):
        self.sd.line(*event)

    def _on_position(self, position):
        self.callback.on_comm_position_update(position)

    def _on_message(self, line):
        if self.sd.listing:
            self.sd.list_entry(line)
        elif line.startswith(("echo:", "//")):
            self.callback.on_comm_message(line)

    def _on_wait(self, line):
        pass

    def _on_empty(self, line):
        pass

    # -- timeouts and timers ---------------------------------------------------------------------

    def _check_timeout(self):
        sender = self.sender
        now = time.monotonic()
        if self._state == State.CONNECTING:
            if now - self._handshake_started > self.config.timeout_connection:
                self._error_close(f"The printer on {self.port} did not answer within "
                                  f"{self.config.timeout_connection:g} s. Wrong port or baud rate?")
            elif now >= self._hello_due:
                self._send_hello()
            return
        if sender is None or not sender.window.in_flight or self._state not in OPERATIONAL_STATES:
            return
        if self._resend_ok_due is not None and now > self._resend_ok_due:
            self._resend_ok_due = None  # some firmware sends no ok after "Resend:": act as if it had
            self.callback.on_comm_log("No ok after the resend request, continuing without it")
            sender.acknowledge(protocol.parse_ok("ok"))
            return
        timeout = self.config.timeout_communication_busy if self._busy_seen else self.config.timeout_communication
        if now - max(self._last_progress, sender.idle_since) < timeout:
            return
        self._last_progress = now
        self._timeouts += 1
        if sender.window.has_long_running():
            limit = self.config.max_timeouts_long
        elif self._state in PRINTING_STATES:
            limit = self.config.max_timeouts_printing
        else:
            limit = self.config.max_timeouts_idle
        if limit and self._timeouts > limit:
            self._error_close(f"The printer stopped answering: no response for {timeout:g} s, "
                              f"{self._timeouts} times in a row. Is it still connected and switched on?")
            return
        self.callback.on_comm_log(f"Communication timeout ({timeout:g} s without an ok), asking the printer with M105")
        sender.timed_out()

    def _run_timers(self):
        """Called by the send thread before it sleeps: queue due polls, return seconds to sleep."""
        if self._state not in OPERATIONAL_STATES:
            return 0.5
        now = time.monotonic()
        waits = []
        if not self.firmware.autoreport_temperatures:
            if now >= self._next_temperature_poll:
                self.send_command("M105", cmd_type="temperature_poll", tags={"trigger:poll"})
                targets = any(value[1] for value in self._temperatures.values() if value[1])
                interval = (self.config.timeout_temperature_target_set if targets
                            else self.config.timeout_temperature)
                self._next_temperature_poll = now + interval
            waits.append(self._next_temperature_poll - now)
        if self._job is not None and self._job.sd and self._state in PRINTING_STATES and not self.sd.autoreport:
            if now >= self._next_sd_poll:
                self.send_command("M27", cmd_type="sd_status_poll", tags={"trigger:poll"})
                self._next_sd_poll = now + self.config.timeout_sd_status
            waits.append(self._next_sd_poll - now)
        return max(0.01, min(waits)) if waits else 5.0

    # -- hooks the sender calls ------------------------------------------------------------------

    def job_source(self):
        return self._job if self._job_active and not self._job_on_hold else None

    def job_finished(self):
        job = self._job
        return job is not None and self._job_active and job.finished and not job.sd

    def job_complete(self):
        job, self._job_active = self._job, False
        if job is None:
            return
        job.close()
        if self.sd.transferring:
            self.sd.transfer_done(job)
            return
        self._set_state(State.FINISHING)
        self.callback.on_comm_print_job_done()
        if self._state == State.FINISHING:
            self._set_state(State.OPERATIONAL)

    def queue_phase(self, command):
        """Run ``command`` through the queuing phase; @ commands meet their queuing handlers here."""
        results = self.phases.queuing(command)
        for result in results:
            if result.gcode is None and result.cmd.startswith("@"):
                name, params = parse_at_command(result.cmd)
                self.at_command(QUEUING, name, params, result)
        return results

    def at_command(self, phase, name, params, command):
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

    def observe_sent(self, command):
        if command.gcode in ("M23", "M24", "M25", "M26", "M28", "M29", "M20", "M21", "M22", "M30"):
            self.sd.sent(command)

    # -- state -----------------------------------------------------------------------------------

    def _set_state(self, state):
        if state == self._state:
            return
        log.info("comm state: %s -> %s", self._state, state)
        self._state = state
        self.callback.on_comm_state_change(state)

    def get_state(self):
        return self._state

    def get_state_string(self):
        if self._state in ERROR_STATES and self._error:
            return f"{STATE_TEXT[self._state]}: {self._error}"
        return STATE_TEXT.get(self._state, self._state)

    def get_error(self):
        return self._error

    def is_operational(self):
        return self._state in OPERATIONAL_STATES

    def is_printing(self):
        return self._state in PRINTING_STATES

    def is_paused(self):
        return self._state == State.PAUSED

    def is_pausing(self):
        return self._state == State.PAUSING

    def is_cancelling(self):
        return self._state == State.CANCELLING

    def is_closed_or_error(self):
        return self._state in CLOSED_OR_ERROR_STATES

    def is_error(self):
        return self._state in ERROR_STATES

    def is_sd_ready(self):
        return self.sd.ready

    def is_streaming(self):
        return self.sd.transferring

    @property
    def firmware_name(self):
        return self.firmware.name

    @property
    def firmware_info(self):
        return self.firmware.data

    @property
    def capabilities(self):
        return self.firmware.capabilities

    def get_transport(self):
        return self._transport

    def resend_stats(self):
        sender = self.sender
        if sender is None:
            return {"count": 0, "transmitted": 0, "ratio": 0}
        return {"count": sender.resent, "transmitted": sender.transmitted,
                "ratio": int(100 * sender.resent / sender.transmitted) if sender.transmitted else 0}

    # -- commands --------------------------------------------------------------------------------

    def send_command(self, cmd, cmd_type=None, tags=None, force=False):
        """Queue ``cmd`` (through the queuing phase); False if not connected or refused."""
        if self.sender is None or self._state not in OPERATIONAL_STATES:
            return False
        cmd = cmd.strip()
        if not cmd:
            return False
        command = Command(cmd, cmd_type, set(tags) if tags else set())
        if force or command.gcode == "M112":
            self.sender.send_now(cmd)
            return True
        if cmd_type is not None and self.sender.queue.has_type(cmd_type):
            return False
        return self.sender.enqueue(self.queue_phase(command)) > 0

    def send_script(self, name, context=None, tags=None):
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

    def fake_ok(self):
        if self.sender is not None:
            self.sender.acknowledge(protocol.parse_ok("ok"))

    # -- jobs ------------------------------------------------------------------------------------

    def select_file(self, path, sd, tags=None, user=None):
        if self.is_printing() or self.is_paused():
            return False
        if sd:
            return self.sd.select(path, tags, user)
        self._job = LocalFileJob(path)
        self.callback.on_comm_file_selected(path, self._job.size, False, user=user)
        return True

    def unselect_file(self):
        if self.is_printing() or self.is_paused():
            return False
        self._job = None
        self.callback.on_comm_file_selected(None, None, False)
        return True

    def start_print(self, pos=None, tags=None, user=None):
        job = self._job
        if job is None or self._state != State.OPERATIONAL:
            return False
        if job.sd:
            return self.sd.start_print(pos, tags, user)
        if job.started_at is not None:
            job.close()
            job = self._job = LocalFileJob(job.path, start_pos=pos)
        else:
            job.start_pos = pos or 0
        job.open()
        sender = self.sender
        sender.job_lines_sent = 0
        sender.sent_filepos = sender.acked_filepos = job.start_pos or None
        self._set_state(State.STARTING)
        self.callback.on_comm_print_job_started(user=user)
        self._set_state(State.PRINTING)
        self._job_active = True
        self.sender.wake.set()
        return True

    def set_pause(self, paused, tags=None, user=None):
        job = self._job
        if job is None:
            return False
        if job.sd:
            return self.sd.set_pause(paused, tags, user)
        with self.sender.lock:  # no job line slips out after this returns
            return self._set_local_pause(paused, user)

    def _set_local_pause(self, paused, user):
        if paused and self._state in (State.PRINTING, State.STARTING, State.RESUMING):
            self._job_active = False
            self._set_state(State.PAUSED)
            self._record_position("pause")
            self.callback.on_comm_print_job_paused(user=user)
            return True
        if not paused and self._state == State.PAUSED:
            self._set_state(State.RESUMING)
            self.callback.on_comm_print_job_resumed(user=user)
            self._set_state(State.PRINTING)
            self._job_active = True
            self.sender.wake.set()
            return True
        return False

    def cancel_print(self, tags=None, firmware_error=None, user=None):
        job = self._job
        if job is None or self._state not in PRINTING_STATES | {State.PAUSED}:
            return False
        if job.sd:
            return self.sd.cancel_print(tags, firmware_error, user)
        self._job_active = False
        self.sender.drop_job_lines()
        self._set_state(State.CANCELLING)
        self._record_position("cancel")
        self.callback.on_comm_print_job_cancelling(firmware_error=firmware_error)
        if self.sender.in_flight():
            self._on_ok = self._cancel_ok
        else:
            self._finish_cancel()
        return True

    def _cancel_ok(self, extras):
        self.sender.acknowledge(extras)
        if not self.sender.in_flight():
            self._on_ok = None
            self._finish_cancel()
        return True

    def _finish_cancel(self):
        if self._job is not None:
            self._job.close()
        self._set_state(State.OPERATIONAL)
        self.callback.on_comm_print_job_cancelled()

    def job_on_hold(self, blocking=True):
        return self._job_on_hold > 0

    def set_job_on_hold(self, value, blocking=True):
        """Hold back job lines (not commands) while ``value``; nests like a counter."""
        self._job_on_hold = max(0, self._job_on_hold + (1 if value else -1))
        if not self._job_on_hold and self.sender is not None:
            self.sender.wake.set()
        return True

    def get_job_status(self):
        job = self._job
        if job is None:
            return {"path": None, "sd": False, "size": None, "filepos": None, "acked_filepos": None,
                    "progress": None, "print_time": None}
        if job.sd:
            filepos = acked = job.pos
        else:
            filepos = self.sender.sent_filepos if self.sender is not None else None
            acked = self.sender.acked_filepos if self.sender is not None else None
        progress = (acked or 0) / job.size if job.size else None
        return {"path": job.path, "sd": job.sd, "size": job.size, "filepos": filepos, "acked_filepos": acked,
                "progress": progress, "print_time": job.print_time}

    def _record_position(self, origin):
        """Pause and cancel keep what was sent (the printer runs it); errors only what was acknowledged."""
        job = self._job
        if job is None or job.started_at is None:
            return
        sender = self.sender
        if job.sd:
            pos = job.pos
        elif sender is None:
            pos = None
        else:
            pos = sender.sent_filepos if origin in ("pause", "cancel") else sender.acked_filepos
        if pos is None:
            pos = job.start_pos if not job.sd else 0
        self.callback.on_comm_record_fileposition(origin, job.path, pos)

    # -- SD card (details in .sdcard) ------------------------------------------------------------

    def init_sd_card(self):
        return self.sd.init()

    def release_sd_card(self):
        return self.sd.release()

    def refresh_sd_files(self):
        return self.sd.refresh()

    def start_sd_file_transfer(self, local_path, remote_name, tags=None, user=None):
        return self.sd.start_transfer(local_path, remote_name, tags, user)

    def delete_sd_file(self, name):
        return self.sd.delete(name)

    # -- closing ---------------------------------------------------------------------------------

    def connection_lost(self, exc):
        if self._closed:
            return
        self._error_close(f"Lost the connection to the printer on {self.port}: {exc}",
                          job_reason="The connection to the printer was lost during the print")

    def _fail(self, message):
        self._error = message
        log.error(message)
        self.callback.on_comm_error(message)
        self._set_state(State.CLOSED_WITH_ERROR)

    def _error_close(self, message, job_reason=None):
        if self._shutdown():
            self._end_job("error", job_reason or message)
            self._fail(message)

    def close(self, is_error=False):
        """Disconnect; a running job ends as failed with its position recorded."""
        if self._shutdown():
            self._end_job("disconnect", "The printer was disconnected during the print")
            self._set_state(State.CLOSED_WITH_ERROR if is_error else State.CLOSED)
        self._join()

    def _end_job(self, origin, reason):
        if self._job is not None and (self._job_active or self._state in PRINTING_STATES | {State.PAUSED}):
            self._record_position(origin)
            self._job_active = False
            self._job.close()
            self.callback.on_comm_print_job_failed(reason)

    def _shutdown(self):
        """Stop the loops and close the port, once; True for the caller that did it."""
        with self._close_lock:
            if self._closed:
                return False
            self._closed = True
        if self._receiver is not None:
            self._receiver.stop()
        if self.sender is not None:
            self.sender.stop()
        if self._transport is not None:
            try:
                self._transport.close()
            except Exception:
                log.exception("closing the port failed")
        return True

    def _join(self, timeout=5.0):
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current and thread.is_alive():
                thread.join(timeout)
