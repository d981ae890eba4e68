"""The contract between the printer layer and everything above it (server, plugins, CLI).

Method names, signatures and semantics follow OctoPrint's ``PrinterInterface`` and
``PrinterCallback`` so plugins written against OctoPrint find what they expect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from typing import Any, TypeAlias

#: command tags (``source:api``, ``trigger:...``) that travel with a command through the phases
Tags: TypeAlias = AbstractSet[str] | None
#: a printer profile as :mod:`octohost.printer.profiles` stores it
Profile: TypeAlias = dict[str, Any]


class UnknownScriptException(Exception):
    """No GCODE script of that name exists."""

    def __init__(self, name: str) -> None:
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
    def get_connection_options(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """{ports, baudrates, portPreference, baudratePreference, autoconnect}."""
        raise NotImplementedError()

    def connect(self, port: str | None = None, baudrate: int | None = None, profile: str | None = None,
                *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def get_transport(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError()

    def get_current_connection(self, *args: Any,
                               **kwargs: Any) -> tuple[str, str | None, int | None, Profile | None]:
        """(connection_string, port, baudrate, printer_profile); ("Closed", None, None, None) when closed."""
        raise NotImplementedError()

    def fake_ack(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    # -- commands ------------------------------------------------------------------------------

    def commands(self, commands: str | Sequence[str], tags: Tags = None, force: bool = False, *args: Any,
                 **kwargs: Any) -> None:
        raise NotImplementedError()

    def script(self, name: str, context: Mapping[str, Any] | None = None, tags: Tags = None, *args: Any,
               **kwargs: Any) -> None:
        """Render and send a GCODE script; :class:`UnknownScriptException` if there is none."""
        raise NotImplementedError()

    def jog(self, axes: Mapping[str, float], relative: bool = True, speed: float | bool | None = None,
            tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def home(self, axes: str | Sequence[str], tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def extrude(self, amount: float, speed: float | None = None, tags: Tags = None, *args: Any,
                **kwargs: Any) -> None:
        raise NotImplementedError()

    def change_tool(self, tool: str, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def set_temperature(self, heater: str, value: float, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def set_temperature_offset(self, offsets: Mapping[str, float] | None = None, tags: Tags = None, *args: Any,
                               **kwargs: Any) -> None:
        raise NotImplementedError()

    def feed_rate(self, factor: float, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def flow_rate(self, factor: float, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    # -- files and jobs ------------------------------------------------------------------------

    def can_modify_file(self, path: str, sd: bool, *args: Any, **kwargs: Any) -> bool:
        """False only for the file that is being printed."""
        raise NotImplementedError()

    def is_current_file(self, path: str, sd: bool, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def select_file(self, path: str, sd: bool, printAfterSelect: bool = False, pos: int | None = None,
                    tags: Tags = None, *args: Any, **kwargs: Any) -> bool:
        """Raises :class:`InvalidFileType` or :class:`InvalidFileLocation` for bad paths."""
        raise NotImplementedError()

    def unselect_file(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def start_print(self, tags: Tags = None, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def pause_print(self, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def resume_print(self, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def toggle_pause_print(self, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def cancel_print(self, tags: Tags = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def job_on_hold(self, blocking: bool = True, *args: Any, **kwargs: Any) -> AbstractContextManager[None]:
        """Context manager holding back file lines; RuntimeError if not blocking and already held."""
        raise NotImplementedError()

    def set_job_on_hold(self, value: bool, blocking: bool = True, *args: Any, **kwargs: Any) -> bool:
        """True if the hold flag could be set (or cleared), False if the lock was not available."""
        raise NotImplementedError()

    def log_lines(self, *lines: str) -> None:
        raise NotImplementedError()

    # -- state ---------------------------------------------------------------------------------

    def get_state_string(self, *args: Any, **kwargs: Any) -> str:
        raise NotImplementedError()

    def get_state_id(self, *args: Any, **kwargs: Any) -> str:
        raise NotImplementedError()

    def get_current_data(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError()

    def get_current_job(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError()

    def get_current_temperatures(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError()

    def get_temperature_history(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise NotImplementedError()

    def is_closed_or_error(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_operational(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_printing(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_cancelling(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_pausing(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_paused(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_error(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    def is_ready(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError()

    # -- callbacks -----------------------------------------------------------------------------

    def register_callback(self, callback: PrinterCallback, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def unregister_callback(self, callback: PrinterCallback, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError()

    def send_initial_callback(self, callback: PrinterCallback) -> None:
        raise NotImplementedError()


class PrinterCallback:
    """Receiver of printer updates (the push socket, plugins). No-op defaults."""

    def on_printer_add_log(self, data: str) -> None:
        """One communication log line."""

    def on_printer_add_message(self, data: str) -> None:
        """One message from the firmware."""

    def on_printer_add_temperature(self, data: dict[str, Any]) -> None:
        """``{"time": ts, "tool0": {"actual", "target"}, "bed": {...}, ...}``."""

    def on_printer_received_registered_message(self, name: str, output: Any) -> None:
        """Output of a registered (feedback) command."""

    def on_printer_send_initial_data(self, data: dict[str, Any]) -> None:
        """``{"temps": [...], "logs": [...], "messages": [...]}`` plus the current data."""

    def on_printer_send_current_data(self, data: dict[str, Any]) -> None:
        """State, job, progress, currentZ, offsets, resends; at most twice a second."""
