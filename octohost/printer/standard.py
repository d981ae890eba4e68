"""The Printer: PrinterInterface over the comm layer's MachineCom.

Threads and what they may do:
- comm threads call the ``on_comm_*`` methods: these only update fields, append to deques,
  fire events (non-blocking) and post to the callback dispatcher (non-blocking);
- the state monitor (:mod:`.sampler`) samples ``get_job_status()`` at most twice a second,
  publishes current data and triggers recovery writes;
- the job tracker's I/O thread writes history, statistics and recovery files;
- one delivery thread per PrinterCallback (:mod:`.callbacks`).
Public methods validate everything before sending anything (ValueError with a message).
"""

import collections
import contextlib
import logging
import os
import re
import threading
import weakref

from octohost.comm import ports
from octohost.comm.callback import CommCallback
from octohost.comm.states import (
    CLOSED_OR_ERROR_STATES,
    ERROR_STATES,
    OPERATIONAL_STATES,
    PRINTING_STATES,
    STATE_TEXT,
    State,
)
from octohost.events import Events
from octohost.plugin.handlers import run_handlers
from octohost.util.fs import PathEscapeError, confined_path

from . import control
from .callbacks import CallbackDispatcher
from .data import contract_state, job_data, progress_data, selected_file, state_flags
from .feedback import FeedbackControls
from .hooks import CommPluginView
from .interface import InvalidFileLocation, InvalidFileType, PrinterInterface, UnknownScriptException
from .job import JobTracker
from .sampler import CurrentDataSampler
from .scripts import GcodeScripts
from .sdcard import SdCardOperations
from .temperatures import TemperatureHistory

log = logging.getLogger(__name__)

#: states in which nothing changes between events, so the state monitor may sleep
_STEADY_STATES = CLOSED_OR_ERROR_STATES | {State.OPERATIONAL}

MACHINECODE_EXTENSIONS = (".gcode", ".gco", ".g")
_FAN_COMMAND = re.compile(r"^Send: (?:N\d+ )?M10([67])(?!\d)(?:[^;*]*?S(\d+(?:\.\d+)?))?")
LOG_BACKLOG = 300
MESSAGE_BACKLOG = 300

def _default_comm_factory(*args, **kwargs):
    from octohost.comm.machine import MachineCom

    return MachineCom(*args, **kwargs)


class _ClassOrInstanceMethod:
    """A method that also answers on the class: OctoPrint declares ``get_connection_options`` a
    classmethod and calls ``printer.__class__.get_connection_options()`` (so do plugins); the
    options need the settings, so on the class it answers for the printer built last."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance, owner):
        if instance is None:
            running = owner._built_last()
            if running is None:
                raise RuntimeError(f"{owner.__name__}.get_connection_options(): no printer has been built yet")
            instance = running
        return self.function.__get__(instance, owner)


class Printer(SdCardOperations, PrinterInterface, CommCallback):
    _last = None  # weak reference to the printer built last (see _ClassOrInstanceMethod)

    @classmethod
    def _built_last(cls):
        return Printer._last() if Printer._last is not None else None

    def __init__(self, settings, plugin_manager, event_bus, printer_profile_manager, file_manager=None,
                 history=None, recovery=None, comm_factory=None, update_interval=0.5):
        self._settings = settings
        self._plugin_manager = plugin_manager
        self._event_bus = event_bus
        self._profiles = printer_profile_manager
        self._file_manager = file_manager
        self._comm_factory = comm_factory or _default_comm_factory
        self._comm = None
        self._machine = None
        self._comm_lock = threading.RLock()
        self._hold_lock = threading.RLock()
        self._state = State.NONE
        self._error = None
        self._profile = None

        self._feedback = None
        self._feedback_lock = threading.Lock()  # controls may change from two requests at once
        settings.subscribe("controls", lambda key, value: self._load_feedback())
        self._temperatures = TemperatureHistory(settings.get("temperature.cutoff"))
        settings.subscribe("temperature.cutoff",
                           lambda key, value: self._temperatures.set_cutoff(settings.get("temperature.cutoff")))
        self._logs = collections.deque(maxlen=LOG_BACKLOG)
        self._messages = collections.deque(maxlen=MESSAGE_BACKLOG)
        self._current_z = None
        self._position = None
        self._fan_speed = None
        self._firmware = None
        self._last_status = None
        self._capabilities = {}
        self._tool = 0
        self._pending_details = None
        self._start_after_sd_select = None
        #: how the last job ended ("done", "cancelled") until the next starts or a file is selected:
        #: OctoPrint reports a finished job at 100% (the file's tail after its last command is never
        #: sent) and a cancelled one with no progress
        self._job_end = None

        self._offsets = {}
        self._rewriter = control.TemperatureOffsetRewriter()
        self.scripts = GcodeScripts(settings, plugin_manager, context_provider=self._script_context)
        self.history = history
        self.recovery = recovery
        self._job = JobTracker(event_bus, plugin_manager, history=history, recovery=recovery,
                               file_manager=file_manager, profile_getter=self._current_profile)
        if event_bus is not None:
            event_bus.subscribe(Events.METADATA_ANALYSIS_FINISHED, self._on_analysis_finished)
        self._dispatcher = CallbackDispatcher()
        self._sampler = CurrentDataSampler(self._sample, self._dispatcher.post_current, interval=update_interval,
                                           tick=self._tick, active=self._busy)
        self._sampler.start()
        self._load_feedback()
        Printer._last = weakref.ref(self)

    def _load_feedback(self):
        """Custom controls with a regex and a template get a feedback callback (:mod:`.feedback`);
        with none, none is registered, so received lines cost nothing more."""
        with self._feedback_lock:
            controls = self._settings.get("controls")
            feedback = FeedbackControls(controls if isinstance(controls, list) else [], self._fire)
            old, self._feedback = self._feedback, feedback if feedback else None
            if old is not None:
                self._dispatcher.unregister(old)
            if self._feedback is not None:
                self._dispatcher.register(self._feedback)

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self):
        """Disconnect, stop every thread the printer started and close its history database."""
        self.disconnect()
        if self._event_bus is not None:
            self._event_bus.unsubscribe(Events.METADATA_ANALYSIS_FINISHED, self._on_analysis_finished)
        self._sampler.stop()
        self._dispatcher.close()
        self._job.close()
        if self.history is not None:
            self.history.close()

    def attach_machine(self, machine):
        """The machine layer (:mod:`octohost.machine`): its driver registry opens the port
        (``machine.open_transport(comm, port, baudrate)``), and it hears firmware messages and
        temperature reports (``machine.firmware_message(line)``, ``machine.heard()``)."""
        self._machine = machine

    def _fire(self, event, payload=None):
        if self._event_bus is not None:
            self._event_bus.fire(event, payload)

    def _current_profile(self):
        return self._profile or self._profiles.get_current_or_default()

    # -- connection ----------------------------------------------------------------------------

    @_ClassOrInstanceMethod
    def get_connection_options(self, *args, **kwargs):
        return {
            "ports": ports.list_ports(self._settings, self._plugin_manager),
            "baudrates": ports.baudrates(self._settings),
            "portPreference": self._settings.get("serial.port"),
            "baudratePreference": self._settings.get("serial.baudrate"),
            "printerProfiles": [{"id": p["id"], "name": p["name"]} for p in self._profiles.get_all().values()],
            "printerProfilePreference": self._profiles.get_default_id(),
            "autoconnect": self._settings.get("serial.autoconnect"),
        }

    def connect(self, port=None, baudrate=None, profile=None, *args, **kwargs):
        """Connect in the background; a ``printer.handle_connect`` handler returning True stops it."""
        if baudrate is not None and (isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate < 0):
            raise ValueError(f"baudrate must be a non-negative integer, got {baudrate!r}")
        if profile is not None and not self._profiles.exists(profile):
            raise ValueError(f"unknown printer profile {profile!r}")
        stopper, _ = self._plugin_manager.call_until("printer.handle_connect", lambda result: result is True,
                                                     port=port, baudrate=baudrate, profile=profile)
        if stopper is not None:
            log.info("plugin %s stopped the connect", stopper)
            return False
        self.disconnect()
        port = port or self._settings.get("serial.port")
        baudrate = baudrate if baudrate is not None else self._settings.get("serial.baudrate")
        profile_id = profile or self._profiles.get_default_id()
        self._profiles.select(profile_id)
        self._profile = self._profiles.get(profile_id)
        self._error = None
        self._fire(Events.CONNECTING, {"port": port, "baudrate": baudrate, "profile": profile_id})
        view = CommPluginView(self._plugin_manager, self._queuing_rewrite, lambda: bool(self._rewriter.offsets))
        extra = {}
        machine = self._machine
        if machine is not None:
            created = []
            extra["transport_factory"] = lambda port, baudrate: machine.open_transport(created[0], port, baudrate)
        with self._comm_lock:
            self._comm = self._comm_factory(port, baudrate, self, self._settings, view,
                                            printer_profile=self._profile, script_renderer=self.scripts, **extra)
            if machine is not None:
                created.append(self._comm)
            self._comm.connect()
        return True

    def disconnect(self, *args, **kwargs):
        with self._comm_lock:
            comm, self._comm = self._comm, None
        if comm is None:
            return
        self._fire(Events.DISCONNECTING)
        comm.close()
        self._profiles.deselect()
        self._profile = None
        self._set_state(State.CLOSED)
        self._sampler.trigger()

    def get_transport(self, *args, **kwargs):
        comm = self._comm
        return comm.get_transport() if comm is not None else None

    def get_current_connection(self, *args, **kwargs):
        comm = self._comm
        if self.is_error():  # as OctoPrint, and as /api/job tells it: "Offline after error: ..."
            return self.get_state_string(), getattr(comm, "port", None), getattr(comm, "baudrate", None), None
        if comm is None or self.is_closed_or_error():
            return "Closed", None, None, None
        return self.get_state_string(), comm.port, comm.baudrate, self._current_profile()

    def fake_ack(self, *args, **kwargs):
        comm = self._comm
        if comm is not None:
            comm.fake_ok()

    # -- commands ------------------------------------------------------------------------------

    def commands(self, commands, tags=None, force=False, *args, **kwargs):
        if isinstance(commands, str):
            commands = [commands]
        if not isinstance(commands, (list, tuple)) or not all(isinstance(c, str) for c in commands):
            raise ValueError(f"commands must be a string or a list of strings, got {commands!r}")
        comm = self._comm
        if comm is None:
            return
        # one command per line; all checked before any is sent (CommandTooLong is a ValueError)
        lines = [line for command in commands for line in comm.command_lines(command)]
        tags = control.trigger(tags, "commands")
        for line in lines:
            comm.send_command(line, tags=tags, force=force)

    def script(self, name, context=None, tags=None, *args, **kwargs):
        if not self.scripts.exists(name):
            raise UnknownScriptException(name)
        if context is not None and not isinstance(context, dict):
            raise ValueError(f"context must be a mapping, got {context!r}")
        comm = self._comm
        if comm is not None:
            comm.send_script(name, context=context, tags=control.trigger(tags, "script"))

    def jog(self, axes, relative=True, speed=None, tags=None, *args, **kwargs):
        self.commands(control.jog(axes, relative, speed, self._current_profile()), tags=control.trigger(tags, "jog"))

    def home(self, axes, tags=None, *args, **kwargs):
        self.commands(control.home(axes), tags=control.trigger(tags, "home"))

    def extrude(self, amount, speed=None, tags=None, *args, **kwargs):
        self.commands(control.extrude(amount, speed, self._current_profile()), tags=control.trigger(tags, "extrude"))

    def change_tool(self, tool, tags=None, *args, **kwargs):
        """Switch tools between the beforeToolChange and afterToolChange scripts."""
        commands = control.change_tool(tool, self._current_profile())
        comm = self._comm
        if comm is None:
            return
        context = {"tool": {"old": self._tool, "new": int(tool[4:])}}
        tags = control.trigger(tags, "change_tool")
        comm.send_script("beforeToolChange", context=context, tags=tags)
        self.commands(commands, tags=tags)
        comm.send_script("afterToolChange", context=context, tags=tags)
        old, self._tool = self._tool, int(tool[4:])
        self._fire(Events.TOOL_CHANGE, {"old": old, "new": self._tool})

    def set_temperature(self, heater, value, tags=None, *args, **kwargs):
        self.commands(control.set_temperature(heater, value, self._current_profile()),
                      tags=control.trigger(tags, "set_temperature"))

    def set_temperature_offset(self, offsets=None, tags=None, *args, **kwargs):
        """Merge ``offsets`` into the active ones (0 ends a heater's offset). The state data lists
        every heater given so far, 0 included, as OctoPrint's does; the rewriter only the others."""
        validated = control.temperature_offsets(offsets or {}, self._current_profile())
        merged = dict(self._offsets)
        merged.update(validated)
        self._offsets = merged
        self._rewriter.offsets = {heater: offset for heater, offset in merged.items() if offset}
        comm = self._comm
        if comm is not None:
            comm.handlers_changed()  # the rewrite comes or goes with the offsets: from the next line on
        self._sampler.trigger()

    def feed_rate(self, factor, tags=None, *args, **kwargs):
        self.commands(control.feed_rate(factor), tags=control.trigger(tags, "feed_rate"))

    def flow_rate(self, factor, tags=None, *args, **kwargs):
        self.commands(control.flow_rate(factor), tags=control.trigger(tags, "flow_rate"))

    def _queuing_rewrite(self, comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None):
        if tags and "source:file" in tags:
            return self._rewriter.rewrite(cmd)
        return None

    def log_lines(self, *lines):
        for line in lines:
            self.on_comm_log(line)

    # -- files and jobs ------------------------------------------------------------------------

    def _uploads(self):
        return os.path.realpath(self._settings.folder("uploads"))

    def _resolve_local(self, path):
        """(absolute path, path relative to uploads) of a printable local file, or raise."""
        if not isinstance(path, str) or not path:
            raise InvalidFileLocation(f"invalid path {path!r}")
        root = self._uploads()
        if os.path.isabs(path):
            absolute = os.path.realpath(path)
            if not absolute.startswith(root + os.sep):
                raise InvalidFileLocation(f"{path} is not inside the uploads folder")
            relative = os.path.relpath(absolute, root).replace(os.sep, "/")
        else:
            try:
                absolute = confined_path(root, path)
            except PathEscapeError as exc:
                raise InvalidFileLocation(str(exc)) from None
            relative = os.path.relpath(absolute, root).replace(os.sep, "/")
        if not os.path.isfile(absolute):
            raise InvalidFileLocation(f"no such file: {relative}")
        name = os.path.basename(absolute)
        valid = (self._file_manager.valid_extension(name) if self._file_manager is not None
                 else name.lower().endswith(MACHINECODE_EXTENSIONS))
        if not valid:
            raise InvalidFileType(f"{relative} is not a machine code file")
        return absolute, relative

    def _details(self, relative):
        if self._file_manager is None:
            try:
                return {"date": int(os.path.getmtime(os.path.join(self._uploads(), relative)))}
            except OSError:
                return {}
        try:
            entry = self._file_manager.get_file(relative) or {}
        except Exception:
            log.exception("cannot read details of %s", relative)
            return {}
        return {key: entry.get(key) for key in ("gcodeAnalysis", "statistics", "prints", "display", "date")}

    def select_file(self, path, sd, printAfterSelect=False, pos=None, tags=None, *args, user=None, **kwargs):
        """Select (and optionally start) a file; False if the printer is not ready for it."""
        if pos is not None and (isinstance(pos, bool) or not isinstance(pos, int) or pos < 0):
            raise ValueError(f"pos must be a non-negative integer, got {pos!r}")
        if sd:
            if not isinstance(path, str) or not path or "/" in path.strip("/"):
                raise InvalidFileLocation(f"invalid SD card file name {path!r}")
            target, relative = path.strip("/"), path.strip("/")
        else:
            target, relative = self._resolve_local(path)
        comm = self._comm
        if comm is None or not comm.is_operational() or comm.is_printing() or comm.is_paused():
            return False
        if sd:
            self._start_after_sd_select = {"pos": pos, "tags": tags, "user": user} if printAfterSelect else None
        else:
            self._pending_details = (target, self._details(relative))
        comm.select_file(target, bool(sd), tags=control.trigger(tags, "select_file"), user=user)
        if printAfterSelect and not sd:
            return self.start_print(pos=pos, tags=tags, user=user)
        return True

    def unselect_file(self, *args, **kwargs):
        comm = self._comm
        if comm is not None and not comm.is_printing() and not comm.is_paused():
            comm.unselect_file()

    def start_print(self, tags=None, *args, pos=None, user=None, **kwargs):
        comm = self._comm
        if comm is None or not comm.is_operational() or comm.is_printing() or comm.is_paused():
            return False
        if self._job.file is None:
            return False
        return comm.start_print(pos=pos, tags=control.trigger(tags, "start_print"), user=user) is not False

    def pause_print(self, tags=None, *args, **kwargs):
        comm = self._comm
        if comm is not None and comm.is_printing() and not comm.is_paused():
            comm.set_pause(True, tags=control.trigger(tags, "pause_print"))

    def resume_print(self, tags=None, *args, **kwargs):
        comm = self._comm
        if comm is not None and comm.is_paused():
            comm.set_pause(False, tags=control.trigger(tags, "resume_print"))

    def toggle_pause_print(self, tags=None, *args, **kwargs):
        if self.is_paused():
            self.resume_print(tags=tags)
        else:
            self.pause_print(tags=tags)

    def cancel_print(self, tags=None, *args, **kwargs):
        comm = self._comm
        if comm is not None and (comm.is_printing() or comm.is_paused()):
            comm.cancel_print(tags=control.trigger(tags, "cancel_print"))

    @contextlib.contextmanager
    def job_on_hold(self, blocking=True, *args, **kwargs):
        """Hold back file lines for the duration; one holder at a time (RuntimeError if not blocking)."""
        comm = self._require_comm()
        if not self._hold_lock.acquire(blocking=blocking):
            raise RuntimeError("the job is already held by someone else")
        try:
            comm.set_job_on_hold(True)
            try:
                yield
            finally:
                comm.set_job_on_hold(False)
        finally:
            self._hold_lock.release()

    def set_job_on_hold(self, value, blocking=True, *args, **kwargs):
        """Count a hold up or down; False if another thread holds the job and ``blocking`` is False."""
        comm = self._require_comm()
        if not self._hold_lock.acquire(blocking=blocking):
            return False
        try:
            return comm.set_job_on_hold(bool(value))
        finally:
            self._hold_lock.release()

    def _require_comm(self):
        comm = self._comm
        if comm is None:
            raise RuntimeError("not connected to a printer")
        return comm

    def is_current_file(self, path, sd, *args, **kwargs):
        file = self._job.file
        return bool(file) and file["origin"] == ("sdcard" if sd else "local") and file["path"] == path

    def can_modify_file(self, path, sd, *args, **kwargs):
        return not (self.is_current_file(path, sd) and (self.is_printing() or self.is_paused()))

    def get_recovery_data(self):
        return self.recovery.get_recovery_data() if self.recovery is not None else None

    # -- state ---------------------------------------------------------------------------------

    def _comm_state(self):
        comm = self._comm
        return comm.get_state() if comm is not None else self._state

    def get_state_id(self, *args, **kwargs):
        return contract_state(self._comm_state())

    def get_state_string(self, *args, **kwargs):
        comm = self._comm
        if comm is not None:
            return comm.get_state_string()
        if self._state in ERROR_STATES and self._error:
            return f"{STATE_TEXT[self._state]}: {self._error}"
        return STATE_TEXT.get(self._state, "Unknown State")

    def is_closed_or_error(self, *args, **kwargs):
        return self._comm_state() in CLOSED_OR_ERROR_STATES

    def is_operational(self, *args, **kwargs):
        return self._comm_state() in OPERATIONAL_STATES

    def is_printing(self, *args, **kwargs):
        return self._comm_state() in PRINTING_STATES

    def is_cancelling(self, *args, **kwargs):
        return self._comm_state() == State.CANCELLING

    def is_pausing(self, *args, **kwargs):
        return self._comm_state() == State.PAUSING

    def is_paused(self, *args, **kwargs):
        return self._comm_state() == State.PAUSED

    def is_error(self, *args, **kwargs):
        return self._comm_state() in ERROR_STATES

    def is_ready(self, *args, **kwargs):
        return self._comm_state() == State.OPERATIONAL

    def get_current_job(self, *args, **kwargs):
        return job_data(self._job.file, self._job.details, (self._current_profile() or {}).get("id"), self._job.user)

    def _progress(self, status, estimate):
        if self._job.file is None or (self._job_end == "cancelled" and not self._job.active):
            status = None
        elif self._job_end == "done" and not self._job.active and status:
            size = status.get("size") or self._job.file.get("size")
            done = progress_data(status, size, status.get("print_time"), (0, None))
            return dict(done, completion=100.0, filepos=size)
        if self._job.active:
            return progress_data(status, self._job.file.get("size"), self._job.elapsed(), estimate)
        return progress_data(status, (self._job.file or {}).get("size"), (status or {}).get("print_time"),
                             (None, None))

    def _plugin_data(self, initial):
        data = {}
        handlers = self._plugin_manager.handlers("printer.additional_state_data")
        for plugin_id, result in run_handlers("printer.additional_state_data", handlers,
                                              lambda handler: handler(initial=initial)):
            if result is not None:
                data[plugin_id] = result
        return data

    def _resends(self):
        comm = self._comm
        if comm is None:
            return {"count": 0, "transmitted": 0, "ratio": 0}
        return comm.resend_stats()

    def get_comm_counters(self):
        """Totals of the current connection (sent, resent, lineErrors, timeouts) for metrics; None when closed."""
        comm = self._comm
        return comm.counters() if comm is not None else None

    def get_turnaround_histogram(self):
        """The current connection's sampled ok -> next line histogram (octohost.comm.turnaround), or None."""
        comm = self._comm
        return comm.turnaround() if comm is not None else None

    def _build_data(self, status, estimate, initial=False):
        state = self._comm_state()
        data = {
            "state": {"text": self.get_state_string(), "flags": state_flags(state, self._sd_ready),
                      "error": self._error or ""},
            "job": self.get_current_job(),
            "progress": self._progress(status, estimate),
            "currentZ": self._current_z,
            "offsets": dict(self._offsets),
            "resends": self._resends(),
        }
        plugins = self._plugin_data(initial)
        if plugins:
            data["plugins"] = plugins
        return data

    def _job_status(self):
        comm = self._comm
        if comm is None or self._job.file is None:
            return None
        try:
            return comm.get_job_status()
        except Exception:
            log.exception("get_job_status failed")
            return None

    def _tick(self):
        self._last_status = self._job_status()
        self._job.tick(self._last_status)

    def _busy(self):
        """Something runs whose progress changes without events (a job, an SD upload): sample it."""
        return self._job.active or self._comm_state() not in _STEADY_STATES

    def _sample(self):
        status = self._last_status
        progress = None
        if status and status.get("size"):
            progress = (status.get("filepos") or 0) / status["size"]
        estimate = self._job.estimate(progress, self._job.elapsed()) if self._job.active else (None, None)
        return self._build_data(status, estimate)

    def get_current_data(self, *args, **kwargs):
        return self._build_data(self._job_status(), self._job.last_estimate())

    def get_current_temperatures(self, *args, **kwargs):
        latest = self._temperatures.latest() or {}
        latest.pop("time", None)
        for heater, offset in self._offsets.items():
            if heater in latest:
                latest[heater] = dict(latest[heater], offset=offset)
        return latest

    def get_temperature_history(self, *args, **kwargs):
        return self._temperatures.as_list()

    # -- callbacks -----------------------------------------------------------------------------

    def _initial_data(self):
        data = self._build_data(self._job_status(), self._job.last_estimate(), initial=True)
        data.update({"temps": self._temperatures.as_list(), "logs": list(self._logs),
                     "messages": list(self._messages)})
        return data

    def register_callback(self, callback, *args, **kwargs):
        self._dispatcher.register(callback, initial_data=self._initial_data())

    def unregister_callback(self, callback, *args, **kwargs):
        self._dispatcher.unregister(callback)

    def send_initial_callback(self, callback):
        self._dispatcher.post_to(callback, "on_printer_send_initial_data", self._initial_data())

    def wait_for_callbacks(self, timeout=5.0):
        """Until every callback has what was posted so far (tests, shutdown)."""
        return self._dispatcher.wait_idle(timeout)

    def flush(self, timeout=5.0):
        """Until queued history/recovery/statistics writes are on disk."""
        return self._job.flush(timeout)

    def _script_context(self):
        return {"printer_profile": self._current_profile(), "last_position": self._position,
                "last_temperature": {k: v for k, v in (self._temperatures.latest() or {}).items() if k != "time"},
                "last_fanspeed": self._fan_speed}

    # -- CommCallback (comm threads: no blocking work) -----------------------------------------

    def _set_state(self, state):
        old, self._state = self._state, state
        if old == state:
            return
        self._fire(Events.PRINTER_STATE_CHANGED, {"state_id": contract_state(state),
                                                   "state_string": STATE_TEXT.get(state, state)})
        if state == State.OPERATIONAL and old not in OPERATIONAL_STATES:
            comm = self._comm
            self._fire(Events.CONNECTED,
                       {"port": getattr(comm, "port", None), "baudrate": getattr(comm, "baudrate", None)})
        if state in CLOSED_OR_ERROR_STATES and old not in CLOSED_OR_ERROR_STATES and old != State.NONE:
            self._fire(Events.DISCONNECTED)
        self._job.state_changed()
        self._sampler.trigger()

    def on_comm_log(self, line):
        self._logs.append(line)
        if "M10" in line:
            self._track_fan(line)
        self._dispatcher.post_lazy("on_printer_add_log", line)

    def _track_fan(self, line):
        """``last_fanspeed`` for scripts, from the ``Send:`` log line (the one per-line view we get)."""
        match = _FAN_COMMAND.match(line)
        if match is not None:
            self._fan_speed = 0 if match.group(1) == "7" else int(float(match.group(2) or 255))

    def on_comm_state_change(self, state):
        self._set_state(state)

    def on_comm_error(self, message):
        self._error = message
        self._fire(Events.ERROR, {"error": message})

    def on_comm_message(self, line):
        self._messages.append(line)
        machine = self._machine
        if machine is not None:
            machine.firmware_message(line)
        self._dispatcher.post("on_printer_add_message", line)

    def on_comm_temperature_update(self, temperatures):
        data = {heater: {"actual": values[0], "target": values[1]} for heater, values in temperatures.items()}
        entry = self._temperatures.add(data)
        machine = self._machine
        if machine is not None:
            machine.heard()
        self._dispatcher.post("on_printer_add_temperature", entry)

    def on_comm_position_update(self, position, reason=None):
        self._position = dict(position)
        self._fire(Events.POSITION_UPDATE, dict(position, reason=reason))

    def on_comm_z_change(self, z):
        old, self._current_z = self._current_z, z
        self._fire(Events.Z_CHANGE, {"new": z, "old": old})

    def on_comm_firmware_info(self, firmware_name, firmware_data):
        self._firmware = (firmware_name, firmware_data)
        self._fire(Events.FIRMWARE_DATA, {"name": firmware_name, "data": firmware_data})

    def on_comm_file_selected(self, path, size, sd, user=None):
        self._job_end = None
        if path is None:
            self._job.select(None)
            self._sampler.trigger()
            return
        details = {}
        if sd:
            relative, origin = path, "sdcard"
            listed = next((entry for entry in self._sd_files if entry["name"] == path), {})
            details = {"display": listed.get("display")}
        else:
            pending = self._pending_details
            if pending and pending[0] == path:
                details = pending[1]
            root = self._uploads()
            relative = os.path.relpath(path, root).replace(os.sep, "/") if path.startswith(root + os.sep) else path
            origin = "local"
        self._job.select(selected_file(relative, origin, size=size, display=details.get("display"),
                                       date=details.get("date")), details, user=user)
        self._sampler.trigger()
        start, self._start_after_sd_select = self._start_after_sd_select, None
        if sd and start is not None:
            self._job.submit(self.start_print, **start)

    def _on_analysis_finished(self, event, payload):
        file = self._job.file
        if file and file["origin"] == "local" and (payload or {}).get("path") == file["path"]:
            self._job.refresh_details(self._details(file["path"]))
            self._sampler.trigger()

    def _job_script(self, name, suppress):
        """The job's standard scripts: MachineCom leaves them to us (queueing only, safe on its threads)."""
        comm = self._comm
        if comm is not None and not suppress:
            comm.send_script(name)

    def on_comm_print_job_started(self, suppress_script=False, user=None):
        self._rewriter.reset()
        self._job_end = None
        self._job.started(user=user)
        self._job_script("beforePrintStarted", suppress_script)
        self._sampler.trigger()

    def on_comm_print_job_done(self, suppress_script=False):
        self._job_end = "done"
        self._job.done()
        self._job_script("afterPrintDone", suppress_script)
        self._sampler.trigger()

    def on_comm_print_job_failed(self, reason):
        status = self._last_status or {}
        self._job.failed(reason, pos=status.get("acked_filepos"))
        self._sampler.trigger()

    def on_comm_print_job_cancelling(self, firmware_error=None):
        extra = {"firmwareError": firmware_error} if firmware_error else {}
        self._fire(Events.PRINT_CANCELLING, self._job.payload(**extra))

    def on_comm_print_job_cancelled(self, suppress_script=False, user=None, reason=None):
        self._job_end = "cancelled"
        self._job.cancelled(reason)
        self._job_script("afterPrintCancelled", suppress_script)
        self._sampler.trigger()

    def on_comm_print_job_paused(self, suppress_script=False, user=None):
        self._job.paused(user=user)
        self._job_script("afterPrintPaused", suppress_script)
        self._sampler.trigger()

    def on_comm_print_job_resumed(self, suppress_script=False, user=None):
        self._job.resumed(user=user)
        self._job_script("beforePrintResumed", suppress_script)
        self._sampler.trigger()

    def on_comm_record_fileposition(self, origin, path, pos):
        self._job.record_position(origin, path, pos)

    def on_comm_command_suppressed(self, command, message, severity):
        self._fire(Events.COMMAND_SUPPRESSED, {"command": command, "message": message, "severity": severity})

    def on_comm_registered_message(self, name, output):
        self._dispatcher.post("on_printer_received_registered_message", name, output)

    def on_comm_force_disconnect(self):
        self._job.submit(self.disconnect)

    def on_comm_capabilities(self, capabilities):
        self._capabilities = dict(capabilities)

    def get_firmware_info(self):
        """{name, data, capabilities} from the firmware's M115 report, or None before it arrived."""
        if self._firmware is None:
            return None
        name, data = self._firmware
        return {"name": name, "data": dict(data or {}), "capabilities": dict(self._capabilities)}
