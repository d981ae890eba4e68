"""The two sides of the comm layer's seam with the printer, as Protocols that cannot drift.

:class:`CommCallback` is what the comm layer tells the layer above it (the printer), and nothing
more; :class:`Comm` is what ``MachineCom`` offers it. ``tests/comm/test_callback.py`` holds both
to the code: every ``callback.on_comm_*`` call in ``octohost/comm`` must bind to a method here,
``MachineCom`` must have every member of :class:`Comm` with the same signature, and the printer's
implementation must match :class:`CommCallback` signature for signature (mypy also checks the
calls made from annotated functions).

The comm layer calls the callback from its own threads. Implementations must return quickly
(hand work to a queue): a slow callback slows the serial line. Methods that would fire per line
(progress, file position) do not exist on purpose; the printer samples
``MachineCom.get_job_status()`` at its own pace instead.

Scripts: MachineCom sends ``afterPrinterConnected`` itself once the handshake is done; the job
scripts (``beforePrintStarted``, ``afterPrintDone``, ...) are the printer's to send from the
job callbacks (``suppress_script`` tells it not to). ``send_script`` applies the
``comm.protocol.scripts`` hook around what ``script_renderer`` returns.

``script_renderer(name, context, comm)`` returns the lines of a GCODE script (or None when the
script is unknown); the printer supplies it, so the comm layer knows nothing about templates.
"""

from __future__ import annotations

from typing import Any, Protocol


class CommCallback(Protocol):
    """What the comm layer reports. Subclass it to inherit no-ops for what you do not need."""

    def on_comm_log(self, line: str) -> None:
        """A line for the terminal log: ``Send: ...``, ``Recv: ...`` or a note from the comm layer."""

    def on_comm_state_change(self, state: str) -> None:
        """The comm state (``octohost.comm.states.State``) changed."""

    def on_comm_error(self, message: str) -> None:
        """A human-readable error that put the comm layer into an error state."""

    def on_comm_message(self, line: str) -> None:
        """A message from the firmware worth showing (``echo:``, ``//``, M117 text)."""

    def on_comm_temperature_update(self, temperatures: dict[str, Any]) -> None:
        """``{"tool0": (actual, target), "bed": (actual, target), "chamber": ...}``; target may be None."""

    def on_comm_position_update(self, position: dict[str, Any], reason: str | None = None) -> None:
        """Parsed M114 answer: ``{"x": .., "y": .., "z": .., "e": .., "t": ..}``."""

    def on_comm_z_change(self, z: float) -> None:
        """A sent move changed Z (for layer change and ``currentZ``)."""

    def on_comm_firmware_info(self, firmware_name: str, firmware_data: dict[str, str]) -> None:
        """The parsed M115 report."""

    def on_comm_capabilities(self, capabilities: dict[str, bool]) -> None:
        """All ``Cap:`` entries of the M115 report, once complete."""

    def on_comm_file_selected(self, path: str | None, size: int | None, sd: bool, user: str | None = None) -> None:
        """A file was selected for printing (``path`` None: deselected)."""

    def on_comm_print_job_started(self, suppress_script: bool = False, user: str | None = None) -> None:
        """The job is started; the printer sends ``beforePrintStarted`` unless ``suppress_script``."""

    def on_comm_print_job_done(self, suppress_script: bool = False) -> None:
        """The last line is acknowledged (local) or the firmware said so (SD)."""

    def on_comm_print_job_failed(self, reason: str) -> None:
        """The job ended with an error; ``reason`` says why in words a person understands."""

    def on_comm_print_job_cancelling(self, firmware_error: str | None = None) -> None:
        """Cancelling began; lines in flight still get their oks."""

    def on_comm_print_job_cancelled(self, suppress_script: bool = False, user: str | None = None,
                                    reason: str | None = None) -> None:
        """The job was cancelled; ``reason`` says why when it was not a plain cancel (an emergency stop)."""

    def on_comm_print_job_paused(self, suppress_script: bool = False, user: str | None = None) -> None:
        """No job line goes out any more until resumed."""

    def on_comm_print_job_resumed(self, suppress_script: bool = False, user: str | None = None) -> None:
        """Job lines go out again."""

    def on_comm_sd_state_change(self, sd_ready: bool) -> None:
        """The SD card became usable or unusable."""

    def on_comm_sd_files(self, files: list[dict[str, Any]]) -> None:
        """Files on the SD card: list of dicts ``name``, ``size`` (None if unknown), ``display``."""

    def on_comm_file_transfer_started(self, local_path: str, remote_name: str, size: int | None,
                                      user: str | None = None) -> None:
        """An upload to the SD card began (M28)."""

    def on_comm_file_transfer_done(self, local_path: str, remote_name: str, elapsed: float) -> None:
        """The firmware saved the uploaded file."""

    def on_comm_file_transfer_failed(self, local_path: str, remote_name: str, reason: str) -> None:
        """The connection ended during an upload."""

    def on_comm_record_fileposition(self, origin: str, path: str, pos: int | None) -> None:
        """Where a job stopped (pause, cancel, error, disconnect), for print recovery."""

    def on_comm_command_suppressed(self, command: str, message: str, severity: str) -> None:
        """A command the host's rules kept from the printer (:mod:`.commandrules`; OctoPrint's
        ``CommandSuppressed`` event): ``severity`` is ``warn`` (blocked) or ``info`` (ignored)."""

    def on_comm_registered_message(self, name: str, output: str) -> None:
        """Reserved (OctoPrint's registered messages); the comm layer does not call it yet."""

    def on_comm_force_disconnect(self) -> None:
        """Reserved (OctoPrint's forced disconnect); the comm layer does not call it yet."""


class Comm(Protocol):
    """What ``MachineCom`` offers the printer.

    Construction: ``MachineCom(port, baudrate, callback, settings=None, plugin_manager=None,
    printer_profile=None, script_renderer=None, options=None, virtual_options=None,
    transport_factory=None)``: ``options`` overrides ``serial.*`` settings for this connection
    (names of ``octohost.comm.config.CommConfig``, e.g. ``{"window": "rx-bytes"}``),
    ``virtual_options`` is a ``VirtualOptions`` for port ``VIRTUAL``, ``transport_factory(port,
    baudrate)`` opens the transport instead of ``octohost.comm.transport.open_transport``.
    ``select_file``, ``start_print``, ``set_pause``, ``cancel_print`` and ``start_sd_file_transfer``
    take ``user``, handed back in the callbacks.
    """

    port: str | None
    baudrate: int | None
    #: ``sender.acked_lines``: job lines the printer acknowledged (progress without a callback per line)
    sender: Any

    # connection
    def connect(self) -> None: ...
    def close(self, is_error: bool = False) -> None: ...

    # state
    def get_state(self) -> str: ...
    def get_state_string(self) -> str: ...
    def get_error(self) -> str | None: ...
    def is_operational(self) -> bool: ...
    def is_printing(self) -> bool: ...
    def is_paused(self) -> bool: ...
    def is_pausing(self) -> bool: ...
    def is_cancelling(self) -> bool: ...
    def is_closed_or_error(self) -> bool: ...
    def is_error(self) -> bool: ...
    def is_sd_ready(self) -> bool: ...
    def is_streaming(self) -> bool: ...

    @property
    def firmware_name(self) -> str | None: ...
    @property
    def firmware_info(self) -> dict[str, str]: ...
    @property
    def capabilities(self) -> dict[str, bool]: ...

    def get_transport(self) -> Any: ...
    def resend_stats(self) -> dict[str, int]: ...
    def counters(self) -> dict[str, int]: ...
    def turnaround(self) -> dict[str, Any] | None: ...

    # commands
    def send_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool:
        """Queue ``cmd``; False if not connected or refused (also while a file goes to the SD card:
        the firmware would write the command into it). M112 is never refused nor queued: it goes
        out at once, ahead of everything, whatever plugins or transfers are doing."""
        ...

    def command_lines(self, cmd: str) -> list[str]:
        """``cmd`` as the lines the firmware will get; raises ``linelimit.CommandTooLong`` for one it cannot take."""
        ...

    def send_script(self, name: str, context: dict[str, Any] | None = None, tags: Any = None) -> bool: ...
    def fake_ok(self) -> None: ...
    def handlers_changed(self) -> None:
        """Gcode phase handlers came or went (e.g. a temperature offset was set): from the next line on."""
        ...

    # jobs
    def select_file(self, path: str, sd: bool, tags: Any = None, user: str | None = None) -> bool: ...
    def unselect_file(self) -> bool: ...
    def start_print(self, pos: int | None = None, tags: Any = None, user: str | None = None) -> bool: ...
    def set_pause(self, paused: bool, tags: Any = None, user: str | None = None) -> bool: ...
    def cancel_print(self, tags: Any = None, firmware_error: str | None = None, user: str | None = None) -> bool: ...
    def job_on_hold(self, blocking: bool = True) -> bool: ...
    def set_job_on_hold(self, value: bool, blocking: bool = True) -> bool: ...

    def get_job_status(self) -> dict[str, Any]:
        """dict(path, sd, size, filepos, acked_filepos, progress, print_time)."""
        ...

    # SD card
    def init_sd_card(self, tags: Any = None) -> bool: ...
    def release_sd_card(self, tags: Any = None) -> bool: ...
    def refresh_sd_files(self, tags: Any = None) -> bool: ...
    def start_sd_file_transfer(self, local_path: str, remote_name: str, tags: Any = None,
                               user: str | None = None) -> bool: ...
    def delete_sd_file(self, name: str, tags: Any = None) -> bool: ...
