"""What the comm layer tells the layer above it (the printer), and nothing more.

The comm layer calls these methods from its own threads. Implementations must return quickly
(hand work to a queue): a slow callback slows the serial line. Methods that would fire per line
(progress, file position) do not exist on purpose; the printer samples
``MachineCom.get_job_status()`` at its own pace instead.

The ``MachineCom`` facade (``octohost.comm.machine``) offers the printer this surface:

- ``MachineCom(port, baudrate, callback, settings, plugin_manager, printer_profile=None,
  script_renderer=None)``; ``connect()`` opens in the background; ``close(is_error=False)``.
- state: ``get_state()``, ``get_state_string()``, ``get_error()``, ``is_operational()``,
  ``is_printing()``, ``is_paused()``, ``is_pausing()``, ``is_cancelling()``,
  ``is_closed_or_error()``, ``is_error()``, ``is_sd_ready()``, ``is_streaming()`` (SD upload);
  ``port``, ``baudrate``, ``firmware_name``, ``firmware_info``, ``capabilities``.
- commands: ``send_command(cmd, cmd_type=None, tags=None, force=False)``,
  ``send_script(name, context=None, tags=None)`` (through ``script_renderer``),
  ``fake_ok()``.
- jobs: ``select_file(path, sd, tags=None)``, ``unselect_file()``, ``start_print(pos=None,
  tags=None)``, ``set_pause(paused, tags=None)``, ``cancel_print(tags=None)``,
  ``job_on_hold(blocking=True)``, ``set_job_on_hold(value, blocking=True)``,
  ``get_job_status()`` -> dict(path, sd, size, filepos, acked_filepos, progress, print_time).
- SD card: ``init_sd_card()``, ``release_sd_card()``, ``refresh_sd_files()``,
  ``start_sd_file_transfer(local_path, remote_name, tags=None)``, ``delete_sd_file(name)``.
- ``get_transport()``, ``resend_stats()`` -> dict(count, transmitted, ratio).

Additions beyond that surface: ``MachineCom(..., options=None, virtual_options=None)``:
``options`` overrides ``serial.*`` settings for this connection (names of
``octohost.comm.config.CommConfig``, e.g. ``{"window": "rx-bytes"}``), ``virtual_options`` is a
``VirtualOptions`` for port ``VIRTUAL``. ``select_file``, ``start_print``, ``set_pause``,
``cancel_print`` and ``start_sd_file_transfer`` also take ``user=None``, handed back in the callbacks.
``send_command`` returns False while a file is transferred to the SD card (the firmware would
write the command into the file). ``sender.acked_lines`` counts acknowledged job lines (progress).

Scripts: MachineCom sends ``afterPrinterConnected`` itself once the handshake is done; the job
scripts (``beforePrintStarted``, ``afterPrintDone``, ...) are the printer's to send from the
job callbacks (``suppress_script`` tells it not to). ``send_script`` applies the
``comm.protocol.scripts`` hook around what ``script_renderer`` returns.

``script_renderer(name, context, comm)`` returns the lines of a GCODE script (or None when the
script is unknown); the printer supplies it, so the comm layer knows nothing about templates.
"""


class CommCallback:
    """No-op base; the printer overrides what it needs."""

    def on_comm_log(self, line):
        """A line for the terminal log: ``Send: ...``, ``Recv: ...`` or a note from the comm layer."""

    def on_comm_state_change(self, state):
        """The comm state (``octohost.comm.states.State``) changed."""

    def on_comm_error(self, message):
        """A human-readable error that put the comm layer into an error state."""

    def on_comm_message(self, line):
        """A message from the firmware worth showing (``echo:``, ``//``, M117 text)."""

    def on_comm_temperature_update(self, temperatures):
        """``{"tool0": (actual, target), "bed": (actual, target), "chamber": ...}``; target may be None."""

    def on_comm_position_update(self, position, reason=None):
        """Parsed M114 answer: ``{"x": .., "y": .., "z": .., "e": .., "t": ..}``."""

    def on_comm_z_change(self, z):
        """A sent move changed Z (for layer change and ``currentZ``)."""

    def on_comm_firmware_info(self, firmware_name, firmware_data):
        """The parsed M115 report."""

    def on_comm_capabilities(self, capabilities):
        """All ``Cap:`` entries of the M115 report, once complete."""

    def on_comm_file_selected(self, path, size, sd, user=None):
        """A file was selected for printing (``path`` None: deselected)."""

    def on_comm_print_job_started(self, suppress_script=False, user=None):
        pass

    def on_comm_print_job_done(self, suppress_script=False):
        pass

    def on_comm_print_job_failed(self, reason):
        """The job ended with an error; ``reason`` says why in words a person understands."""

    def on_comm_print_job_cancelling(self, firmware_error=None):
        pass

    def on_comm_print_job_cancelled(self, suppress_script=False, user=None, reason=None):
        """The job was cancelled; ``reason`` says why when it was not a plain cancel (an emergency stop)."""

    def on_comm_print_job_paused(self, suppress_script=False, user=None):
        pass

    def on_comm_print_job_resumed(self, suppress_script=False, user=None):
        pass

    def on_comm_sd_state_change(self, sd_ready):
        pass

    def on_comm_sd_files(self, files):
        """Files on the SD card: list of dicts ``name``, ``size`` (None if unknown), ``display``."""

    def on_comm_file_transfer_started(self, local_path, remote_name, size, user=None):
        pass

    def on_comm_file_transfer_done(self, local_path, remote_name, elapsed):
        pass

    def on_comm_file_transfer_failed(self, local_path, remote_name, reason):
        pass

    def on_comm_record_fileposition(self, origin, path, pos):
        """Where a job stopped (pause, cancel, error, disconnect), for print recovery."""

    def on_comm_registered_message(self, name, output):
        pass

    def on_comm_force_disconnect(self):
        pass
