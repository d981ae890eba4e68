"""The printer's SD card: init/release, file list (M20), SD printing (M23-M27), upload (M28/M29).

What it needs of the connection is :class:`SdHost`, nothing more.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from .callback import CommCallback
from .config import CommConfig
from .job import LocalFileJob, SdJob
from .protocol import parse_file_list_entry
from .states import PRINTING_STATES, State

if TYPE_CHECKING:
    from .firmware import FirmwareReport
    from .jobcontrol import JobControl
    from .sending import Sender
    from .sendqueue import Command

log = logging.getLogger(__name__)


class SdHost(Protocol):
    """What :class:`SdCard` needs of the connection (``MachineCom``)."""

    callback: CommCallback
    config: CommConfig
    firmware: FirmwareReport
    jobs: JobControl
    sender: Sender | None

    def get_state(self) -> str: ...
    def transition(self, state: str) -> bool: ...
    def send_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool: ...
    def queue_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool: ...


def _trigger(tags: Any, method: str) -> set[str]:
    return set(tags or ()) | {f"trigger:comm.{method}"}


#: what OctoPrint adds to the commands of a pause, a resume and a cancel (the pausing-command rule
#: of :mod:`.commandrules` leaves commands tagged ``trigger:pause`` or ``trigger:cancel`` alone)
PAUSE_TAGS = frozenset({"trigger:comm.set_pause", "trigger:pause"})
RESUME_TAGS = frozenset({"trigger:comm.set_pause", "trigger:resume"})
CANCEL_TAGS = frozenset({"trigger:comm.cancel", "trigger:cancel"})


class SdCard:
    def __init__(self, comm: SdHost) -> None:
        self.comm = comm
        self.ready = False
        self.files: list[dict[str, Any]] = []
        self.listing = False
        self._entries: list[dict[str, Any]] = []
        self.autoreport = False
        self.transferring = False
        self._transfer: tuple[str, str, float, Any] | None = None  # (local path, remote name, started, job before)

    def _send(self, cmd, **kwargs):
        return self.comm.send_command(cmd, **kwargs)

    # -- commands ----------------------------------------------------------------------------------

    # each command carries ``trigger:comm.<method>`` beside the caller's tags, as OctoPrint's do

    def init(self, tags: Any = None) -> bool:
        return self._send("M21", tags=_trigger(tags, "init_sd_card"))

    def release(self, tags: Any = None) -> bool:
        ok = self._send("M22", tags=_trigger(tags, "release_sd_card"))
        if ok:
            self._set_ready(False)
        return ok

    def refresh(self, tags: Any = None) -> bool:
        return self._send("M20 L" if self.comm.firmware.has("EXTENDED_M20") else "M20",
                          tags=_trigger(tags, "refresh_sd_files"))

    def delete(self, name: str, tags: Any = None) -> bool:
        return self._send(f"M30 {name}", tags=_trigger(tags, "delete_sd_file"))

    def select(self, name: str, tags: Any, user: str | None) -> bool:
        self.comm.jobs.job = SdJob(name)
        return self._send(f"M23 {name}", tags=tags)

    def start_print(self, pos: int | None, tags: Any, user: str | None) -> bool:
        comm = self.comm
        job = comm.jobs.job
        assert job is not None  # JobControl.start checked
        job.open()
        comm.transition(State.STARTING)
        comm.callback.on_comm_print_job_started(user=user)
        if pos:
            self._send(f"M26 S{int(pos)}", tags=tags)
        self._send("M24", tags=tags)
        comm.transition(State.PRINTING)
        config = comm.config
        if config.autoreport and comm.firmware.has("AUTOREPORT_SD_STATUS"):
            self.autoreport = self._send(f"M27 S{config.sd_status_autoreport_interval}")
        return True

    def set_pause(self, paused: bool, tags: Any, user: str | None) -> bool:
        comm = self.comm
        if paused and comm.get_state() in PRINTING_STATES:
            self._send("M25", tags=set(tags or ()) | PAUSE_TAGS)
            comm.transition(State.PAUSED)
            comm.jobs.record_position("pause")
            comm.callback.on_comm_print_job_paused(user=user)
            return True
        if not paused and comm.get_state() == State.PAUSED:
            self._send("M24", tags=set(tags or ()) | RESUME_TAGS)
            comm.transition(State.PRINTING)
            comm.callback.on_comm_print_job_resumed(user=user)
            return True
        return False

    def cancel_print(self, tags: Any, firmware_error: str | None, user: str | None) -> bool:
        comm = self.comm
        comm.transition(State.CANCELLING)
        tags = set(tags or ()) | CANCEL_TAGS
        self._send("M25", tags=tags)
        self._send("M26 S0", tags=tags)
        self._stop_autoreport()
        comm.jobs.record_position("cancel")
        comm.callback.on_comm_print_job_cancelling(firmware_error=firmware_error)
        comm.transition(State.OPERATIONAL)
        comm.callback.on_comm_print_job_cancelled(user=user)
        return True

    def _stop_autoreport(self):
        if self.autoreport:
            self._send("M27 S0")
            self.autoreport = False

    def start_transfer(self, local_path: str, remote_name: str, tags: Any, user: str | None) -> bool:
        comm = self.comm
        if comm.get_state() != State.OPERATIONAL:
            return False
        job = LocalFileJob(local_path)
        self._transfer = (local_path, remote_name, time.monotonic(), comm.jobs.job)
        self.transferring = True  # from now on the firmware writes every line it gets into the file
        comm.transition(State.TRANSFERING_FILE)
        comm.queue_command(f"M28 {remote_name}", tags=tags)
        comm.callback.on_comm_file_transfer_started(local_path, remote_name, job.size, user=user)
        job.open()
        comm.jobs.job = job
        comm.jobs.active = True
        assert comm.sender is not None  # OPERATIONAL: the loops run
        comm.sender.wake.set()
        return True

    def transfer_done(self, job: LocalFileJob | SdJob) -> None:
        """The last line is acknowledged: close the file with M29; done once the firmware saved it."""
        comm = self.comm
        assert self._transfer is not None  # called only while transferring
        comm.jobs.job = self._transfer[3]
        comm.queue_command("M29")

    def _saved(self):
        comm = self.comm
        local_path, remote_name, started, _ = self._transfer
        self.transferring = False
        self._transfer = None
        comm.transition(State.OPERATIONAL)
        comm.callback.on_comm_file_transfer_done(local_path, remote_name, time.monotonic() - started)
        self.refresh()

    def abort_transfer(self, reason: str) -> None:
        """The connection ended during an upload: report it failed."""
        if self._transfer is None:
            return
        local_path, remote_name, _, previous = self._transfer
        self.transferring = False
        self._transfer = None
        self.comm.jobs.job = previous
        self.comm.jobs.active = False
        self.comm.callback.on_comm_file_transfer_failed(local_path, remote_name, reason)

    # -- what the firmware says --------------------------------------------------------------------

    def sent(self, command: Command) -> None:
        if command.gcode == "M30":
            self.refresh()

    def line(self, event: str, data: Any) -> None:
        comm = self.comm
        job = comm.jobs.job
        if event == "progress":
            if job is not None and job.sd:
                job.pos, job.size = data
        elif event == "done":
            if job is not None and job.sd and comm.get_state() in PRINTING_STATES:
                job.pos = job.size or job.pos
                self._stop_autoreport()
                comm.transition(State.FINISHING)
                comm.callback.on_comm_print_job_done()
                comm.transition(State.OPERATIONAL)
        elif event == "opened":
            name, size = data
            if job is not None and job.sd:
                job.size = size
                comm.callback.on_comm_file_selected(job.path, size, True)
        elif event == "list_begin":
            self.listing = True
            self._entries = []
        elif event == "list_end":
            self.listing = False
            self.files = self._entries
            comm.callback.on_comm_sd_files(list(self.files))
        elif event == "card_ok":
            self._set_ready(True)
            self.refresh()
        elif event in ("card_failed", "card_released"):
            self._set_ready(False)
        elif event == "saved" and self._transfer is not None:
            self._saved()

    def list_entry(self, line: str) -> None:
        self._entries.append(parse_file_list_entry(line))

    def _set_ready(self, ready):
        if ready != self.ready:
            self.ready = ready
            self.comm.callback.on_comm_sd_state_change(ready)
