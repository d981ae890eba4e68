"""The printer's SD card as the Printer offers it: files, selection support, uploads.

Uploads go through the ``printer.sdcardupload`` hook when a plugin takes them, else MachineCom
streams the file with M28/M29. :class:`SdCardOperations` is mixed into the Printer and relies
on its ``_comm``, ``_fire``, ``_sampler`` and ``_plugin_manager``.
"""

import logging
import os
import re

from octohost.events import Events
from octohost.plugin.handlers import run_handlers

from .control import trigger
from .interface import InvalidFileLocation

log = logging.getLogger(__name__)


def free_remote_name(filename, taken):
    """An 8.3 upper-case name for ``filename`` not in ``taken`` (firmware SD libraries need 8.3)."""
    base, ext = os.path.splitext(os.path.basename(filename))
    base = re.sub(r"[^A-Z0-9]", "", base.upper()) or "FILE"
    ext = (re.sub(r"[^A-Z0-9]", "", ext.upper())[:3]) or "GCO"
    taken = {name.upper() for name in taken}
    candidate = f"{base[:8]}.{ext}"
    counter = 1
    while candidate in taken:
        suffix = f"~{counter}"
        candidate = f"{base[:8 - len(suffix)]}{suffix}.{ext}"
        counter += 1
        if counter > 9999:
            raise ValueError(f"no free SD card name for {filename!r}")
    return candidate


def upload_via_hooks(plugin_manager, printer, filename, path, started, succeeded, failed):
    """The remote name from the first ``printer.sdcardupload`` handler that takes the upload, or None."""
    handlers = plugin_manager.handlers("printer.sdcardupload")
    for _plugin_id, remote in run_handlers("printer.sdcardupload", handlers,
                                           lambda handler: handler(printer, filename, path, started, succeeded,
                                                                   failed)):
        if remote:
            return remote
    return None


class SdCardOperations:
    _sd_ready = False
    _sd_files = ()
    _transfer_callbacks = (None, None)

    def get_sd_files(self, *args, **kwargs):
        """[{name, size, display}] as the firmware last listed them."""
        return [dict(entry) for entry in self._sd_files]

    def is_sd_ready(self, *args, **kwargs):
        return self._sd_ready

    def refresh_sd_files(self, *args, tags=None, **kwargs):
        comm = self._comm
        if comm is not None and self._sd_ready:
            comm.refresh_sd_files(tags=trigger(tags, "refresh_sd_files"))

    def init_sd_card(self, *args, tags=None, **kwargs):
        comm = self._comm
        if comm is not None:
            comm.init_sd_card(tags=trigger(tags, "init_sd_card"))

    def release_sd_card(self, *args, tags=None, **kwargs):
        comm = self._comm
        if comm is not None:
            comm.release_sd_card(tags=trigger(tags, "release_sd_card"))

    def delete_sd_file(self, filename, *args, tags=None, **kwargs):
        comm = self._comm
        if comm is None or not self._sd_ready:
            return False
        if not self.can_modify_file(filename, True):
            raise ValueError(f"{filename} is being printed")
        comm.delete_sd_file(filename, tags=trigger(tags, "delete_sd_file"))
        return True

    def _get_free_remote_name(self, filename):
        return free_remote_name(filename, [entry["name"] for entry in self._sd_files])

    def add_sd_file(self, filename, path, on_success=None, on_failure=None, *args, tags=None, **kwargs):
        """Upload local file ``path`` as ``filename``; returns the remote name.

        ``on_success(local, remote, elapsed)`` and ``on_failure(local, remote, detail)`` are
        called when the transfer ends.
        """
        comm = self._comm
        if comm is None or not comm.is_operational() or comm.is_printing() or comm.is_paused() or not self._sd_ready:
            raise RuntimeError("the printer is not ready for an SD card upload")
        if not os.path.isfile(path):
            raise InvalidFileLocation(f"no such file: {path}")

        def started(local, remote):
            self._fire(Events.TRANSFER_STARTED, {"local": local, "remote": remote})

        def succeeded(local, remote, elapsed):
            self._fire(Events.TRANSFER_DONE, {"local": local, "remote": remote, "time": elapsed})
            if on_success:
                on_success(local, remote, elapsed)

        def failed(local, remote, elapsed):
            self._fire(Events.TRANSFER_FAILED, {"local": local, "remote": remote, "time": elapsed})
            if on_failure:
                on_failure(local, remote, elapsed)

        remote = upload_via_hooks(self._plugin_manager, self, filename, path, started, succeeded, failed)
        if remote:
            return remote
        self._transfer_callbacks = (on_success, on_failure)
        remote = self._get_free_remote_name(filename)
        comm.start_sd_file_transfer(path, remote, tags=trigger(tags, "add_sd_file"))
        return remote

    # -- CommCallback part (comm threads) ------------------------------------------------------

    def on_comm_sd_state_change(self, sd_ready):
        self._sd_ready = sd_ready
        if not sd_ready:
            self._sd_files = ()
        self._fire(Events.PRINTER_SD_CARD_READY if sd_ready else Events.UPDATED_FILES,
                   {"ready": True} if sd_ready else {"type": "printables"})
        self._sampler.trigger()

    def on_comm_sd_files(self, files):
        self._sd_files = tuple(dict(entry) for entry in files)
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    def on_comm_file_transfer_started(self, local_path, remote_name, size, user=None):
        self._fire(Events.TRANSFER_STARTED,
                   {"local": os.path.basename(local_path), "remote": remote_name, "size": size})
        self._sampler.trigger()

    def on_comm_file_transfer_done(self, local_path, remote_name, elapsed):
        self._fire(Events.TRANSFER_DONE,
                   {"local": os.path.basename(local_path), "remote": remote_name, "time": elapsed})
        on_success, self._transfer_callbacks = self._transfer_callbacks[0], (None, None)
        if on_success:
            on_success(local_path, remote_name, elapsed)
        self._sampler.trigger()

    def on_comm_file_transfer_failed(self, local_path, remote_name, reason):
        self._fire(Events.TRANSFER_FAILED,
                   {"local": os.path.basename(local_path), "remote": remote_name, "reason": reason})
        on_failure, self._transfer_callbacks = self._transfer_callbacks[1], (None, None)
        if on_failure:
            on_failure(local_path, remote_name, reason)
        self._sampler.trigger()
