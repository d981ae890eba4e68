"""Running a print job from a local file: select, start, pause, resume, cancel, hold, progress.

The job's lines are pulled by the sender (:meth:`JobControl.source`) only while the job is
active and not on hold, so pausing is "stop handing out lines", nothing more. Jobs on the
printer's SD card are handed to :mod:`.sdcard`. What it needs of the connection is
:class:`JobHost`, nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .callback import CommCallback
from .job import LocalFileJob, SdJob
from .states import PRINTING_STATES, State

if TYPE_CHECKING:
    from .sdcard import SdCard
    from .sending import Sender

_RUNNING = PRINTING_STATES | {State.PAUSED}


class JobHost(Protocol):
    """What :class:`JobControl` needs of the connection (``MachineCom``)."""

    callback: CommCallback
    sd: SdCard
    sender: Sender | None

    def get_state(self) -> str: ...
    def transition(self, state: str) -> bool: ...


class JobControl:
    def __init__(self, comm: JobHost) -> None:
        self.comm = comm
        self.job: LocalFileJob | SdJob | None = None
        self.active = False
        self.on_hold = 0
        self.cancelling = False  # a cancel waits for the oks of the lines in flight (see cancel)

    # -- what the sender asks ----------------------------------------------------------------------

    def source(self) -> LocalFileJob | SdJob | None:
        """The job to pull lines from now, or None (no job, paused, cancelled, on hold)."""
        return self.job if self.active and not self.on_hold else None

    def finished(self) -> bool:
        """Whether :meth:`complete` is due once nothing is in flight: the file is sent, or a cancel waits."""
        if self.cancelling:
            return True
        job = self.job
        return job is not None and self.active and job.finished and not job.sd

    def complete(self) -> None:
        """The last line is acknowledged (called by the sender, with its lock held)."""
        if self.cancelling:
            self.cancelling = False
            self._finish_cancel()
            return
        comm = self.comm
        job, self.active = self.job, False
        if job is None:
            return
        job.close()
        if comm.sd.transferring:
            comm.sd.transfer_done(job)
            return
        comm.transition(State.FINISHING)
        comm.callback.on_comm_print_job_done()
        if comm.get_state() == State.FINISHING:
            comm.transition(State.OPERATIONAL)

    # -- what the printer asks ---------------------------------------------------------------------

    def select(self, path: str, sd: bool, tags: Any, user: str | None) -> bool:
        comm = self.comm
        if comm.get_state() in _RUNNING:
            return False
        if sd:
            return comm.sd.select(path, tags, user)
        self.job = LocalFileJob(path)
        comm.callback.on_comm_file_selected(path, self.job.size, False, user=user)
        return True

    def unselect(self) -> bool:
        comm = self.comm
        if comm.get_state() in _RUNNING:
            return False
        self.job = None
        comm.callback.on_comm_file_selected(None, None, False)
        return True

    def start(self, pos: int | None, tags: Any, user: str | None) -> bool:
        comm = self.comm
        job = self.job
        if job is None or comm.get_state() != State.OPERATIONAL:
            return False
        if isinstance(job, SdJob):
            return comm.sd.start_print(pos, tags, user)
        if job.started_at is not None:
            job.close()
            job = self.job = LocalFileJob(job.path, start_pos=pos)
        else:
            job.start_pos = pos or 0
        job.open()
        sender = comm.sender
        assert sender is not None  # OPERATIONAL: the loops run
        sender.job_lines_sent = 0
        sender.sent_filepos = sender.acked_filepos = job.start_pos or None
        comm.transition(State.STARTING)
        comm.callback.on_comm_print_job_started(user=user)
        comm.transition(State.PRINTING)
        self.active = True
        sender.wake.set()
        return True

    def set_pause(self, paused: bool, tags: Any, user: str | None) -> bool:
        job = self.job
        if job is None:
            return False
        if job.sd:
            return self.comm.sd.set_pause(paused, tags, user)
        sender = self.comm.sender
        if sender is None:  # never connected: nothing runs that could pause
            return False
        with sender.lock:  # no job line slips out after this returns
            return self._set_local_pause(paused, user)

    def _set_local_pause(self, paused, user):
        comm = self.comm
        state = comm.get_state()
        if paused and state in (State.PRINTING, State.STARTING, State.RESUMING):
            self.active = False
            comm.transition(State.PAUSED)
            self.record_position("pause")
            comm.callback.on_comm_print_job_paused(user=user)
            return True
        if not paused and state == State.PAUSED:
            comm.transition(State.RESUMING)
            comm.callback.on_comm_print_job_resumed(user=user)
            comm.transition(State.PRINTING)
            self.active = True
            comm.sender.wake.set()
            return True
        return False

    def cancel(self, tags: Any, firmware_error: str | None, user: str | None) -> bool:
        comm = self.comm
        job = self.job
        if job is None or comm.get_state() not in _RUNNING:
            return False
        if job.sd:
            return comm.sd.cancel_print(tags, firmware_error, user)
        sender = comm.sender
        assert sender is not None  # a job runs: the loops run
        # Under the send lock, oks are settled either before the look at what is in flight or after
        # ``cancelling`` is set, never in between: the last ok cannot slip through unseen. The sender
        # ends the cancel once nothing is in flight (finished/complete), as it ends a finished job.
        with sender.lock:
            self.active = False
            sender.drop_job_lines()
            comm.transition(State.CANCELLING)
            self.record_position("cancel")
            comm.callback.on_comm_print_job_cancelling(firmware_error=firmware_error)
            if sender.in_flight():
                self.cancelling = True  # the lines in flight still get their oks
            else:
                self._finish_cancel()
        return True

    def _finish_cancel(self):
        if self.job is not None:
            self.job.close()
        self.comm.transition(State.OPERATIONAL)
        self.comm.callback.on_comm_print_job_cancelled()

    def set_hold(self, value: bool) -> bool:
        """Hold back job lines (not commands) while ``value``; nests like a counter."""
        self.on_hold = max(0, self.on_hold + (1 if value else -1))
        if not self.on_hold and self.comm.sender is not None:
            self.comm.sender.wake.set()
        return True

    def status(self) -> dict[str, Any]:
        job = self.job
        if job is None:
            return {"path": None, "sd": False, "size": None, "filepos": None, "acked_filepos": None,
                    "progress": None, "print_time": None}
        sender = self.comm.sender
        filepos: int | None
        acked: int | None
        if job.sd:
            filepos = acked = job.pos
        else:
            filepos = sender.sent_filepos if sender is not None else None
            acked = sender.acked_filepos if sender is not None else None
        progress = (acked or 0) / job.size if job.size else None
        return {"path": job.path, "sd": job.sd, "size": job.size, "filepos": filepos, "acked_filepos": acked,
                "progress": progress, "print_time": job.print_time}

    def record_position(self, origin: str) -> None:
        """Pause and cancel keep what was sent (the printer runs it); errors only what was acknowledged."""
        job = self.job
        if job is None or job.started_at is None:
            return
        sender = self.comm.sender
        pos: int | None
        if isinstance(job, SdJob):
            pos = job.pos
        elif sender is None:
            pos = job.start_pos
        else:
            pos = sender.sent_filepos if origin in ("pause", "cancel") else sender.acked_filepos
            if pos is None:
                pos = job.start_pos
        self.comm.callback.on_comm_record_fileposition(origin, job.path, pos)

    def stop_on_emergency(self, reason: str) -> None:
        """An emergency stop ended the running job on purpose: it is cancelled, nothing to resume."""
        job = self.job
        if job is None or not (self.active or self.comm.get_state() in _RUNNING):
            return
        self.active = self.cancelling = False
        job.close()
        callback = self.comm.callback
        callback.on_comm_print_job_cancelling()
        callback.on_comm_print_job_cancelled(suppress_script=True, reason=reason)

    def end(self, origin: str, reason: str) -> None:
        """The connection ends under a running job: record where, report it failed."""
        if self.job is not None and (self.active or self.comm.get_state() in _RUNNING):
            self.record_position(origin)
            self.active = self.cancelling = False
            self.job.close()
            self.comm.callback.on_comm_print_job_failed(reason)
