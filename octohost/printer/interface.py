"""The contract between the printer layer and everything above it (server, plugins, CLI).

Method names, signatures and semantics follow OctoPrint's ``PrinterInterface`` and
``PrinterCallback`` so plugins written against OctoPrint find what they expect.
"""

import re


class UnknownScriptException(Exception):
    """No GCODE script of that name exists."""

    def __init__(self, name):
        super().__init__(f"unknown GCODE script: {name}")
        self.name = name


class InvalidFileType(ValueError):
    """The file is not machine code and cannot be printed."""


class InvalidFileLocation(ValueError):
    """The file lies outside local storage or does not exist."""


class PrinterInterface:
    """What a printer offers; :class:`octohost.printer.standard.Printer` is the implementation."""

    #: valid axis identifiers
    valid_axes = ("x", "y", "z", "e")
    #: valid heater identifiers
    valid_heater_regex = re.compile(r"^(tool\d+|bed|chamber)$")
    #: valid tool identifiers
    valid_tool_regex = re.compile(r"^(tool\d+)$")

    # -- connection ----------------------------------------------------------------------------

    @classmethod
    def get_connection_options(cls, *args, **kwargs):
        """{ports, baudrates, portPreference, baudratePreference, autoconnect}."""
        raise NotImplementedError()

    def connect(self, port=None, baudrate=None, profile=None, *args, **kwargs):
        raise NotImplementedError()

    def disconnect(self, *args, **kwargs):
        raise NotImplementedError()

    def get_transport(self, *args, **kwargs):
        raise NotImplementedError()

    def get_current_connection(self, *args, **kwargs):
        """(connection_string, port, baudrate, printer_profile); ("Closed", None, None, None) when closed."""
        raise NotImplementedError()

    def fake_ack(self, *args, **kwargs):
        raise NotImplementedError()

    # -- commands ------------------------------------------------------------------------------

    def commands(self, commands, tags=None, force=False, *args, **kwargs):
        raise NotImplementedError()

    def script(self, name, context=None, tags=None, *args, **kwargs):
        """Render and send a GCODE script; :class:`UnknownScriptException` if there is none."""
        raise NotImplementedError()

    def jog(self, axes, relative=True, speed=None, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def home(self, axes, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def extrude(self, amount, speed=None, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def change_tool(self, tool, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def set_temperature(self, heater, value, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def set_temperature_offset(self, offsets=None, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def feed_rate(self, factor, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def flow_rate(self, factor, tags=None, *args, **kwargs):
        raise NotImplementedError()

    # -- files and jobs ------------------------------------------------------------------------

    def can_modify_file(self, path, sd, *args, **kwargs):
        """False only for the file that is being printed."""
        raise NotImplementedError()

    def is_current_file(self, path, sd, *args, **kwargs):
        raise NotImplementedError()

    def select_file(self, path, sd, printAfterSelect=False, pos=None, tags=None, *args, **kwargs):
        """Raises :class:`InvalidFileType` or :class:`InvalidFileLocation` for bad paths."""
        raise NotImplementedError()

    def unselect_file(self, *args, **kwargs):
        raise NotImplementedError()

    def start_print(self, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def pause_print(self, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def resume_print(self, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def toggle_pause_print(self, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def cancel_print(self, tags=None, *args, **kwargs):
        raise NotImplementedError()

    def job_on_hold(self, blocking=True, *args, **kwargs):
        """Context manager holding back file lines; RuntimeError if not blocking and already held."""
        raise NotImplementedError()

    def set_job_on_hold(self, value, blocking=True, *args, **kwargs):
        """True if the hold flag could be set (or cleared), False if the lock was not available."""
        raise NotImplementedError()

    def log_lines(self, *lines):
        raise NotImplementedError()

    # -- state ---------------------------------------------------------------------------------

    def get_state_string(self, *args, **kwargs):
        raise NotImplementedError()

    def get_state_id(self, *args, **kwargs):
        raise NotImplementedError()

    def get_current_data(self, *args, **kwargs):
        raise NotImplementedError()

    def get_current_job(self, *args, **kwargs):
        raise NotImplementedError()

    def get_current_temperatures(self, *args, **kwargs):
        raise NotImplementedError()

    def get_temperature_history(self, *args, **kwargs):
        raise NotImplementedError()

    def is_closed_or_error(self, *args, **kwargs):
        raise NotImplementedError()

    def is_operational(self, *args, **kwargs):
        raise NotImplementedError()

    def is_printing(self, *args, **kwargs):
        raise NotImplementedError()

    def is_cancelling(self, *args, **kwargs):
        raise NotImplementedError()

    def is_pausing(self, *args, **kwargs):
        raise NotImplementedError()

    def is_paused(self, *args, **kwargs):
        raise NotImplementedError()

    def is_error(self, *args, **kwargs):
        raise NotImplementedError()

    def is_ready(self, *args, **kwargs):
        raise NotImplementedError()

    # -- callbacks -----------------------------------------------------------------------------

    def register_callback(self, callback, *args, **kwargs):
        raise NotImplementedError()

    def unregister_callback(self, callback, *args, **kwargs):
        raise NotImplementedError()

    def send_initial_callback(self, callback):
        raise NotImplementedError()


class PrinterCallback:
    """Receiver of printer updates (the push socket, plugins). No-op defaults."""

    def on_printer_add_log(self, data):
        """One communication log line."""

    def on_printer_add_message(self, data):
        """One message from the firmware."""

    def on_printer_add_temperature(self, data):
        """``{"time": ts, "tool0": {"actual", "target"}, "bed": {...}, ...}``."""

    def on_printer_received_registered_message(self, name, output):
        """Output of a registered (feedback) command."""

    def on_printer_send_initial_data(self, data):
        """``{"temps": [...], "logs": [...], "messages": [...]}`` plus the current data."""

    def on_printer_send_current_data(self, data):
        """State, job, progress, currentZ, offsets, resends; at most twice a second."""
