"""The life of one print job above the comm layer: events, history, statistics, recovery, estimates.

Comm callbacks run on the serial threads, so everything here that touches the disk goes to
background threads: history rows and file statistics to one I/O thread in order, the recovery
file to its own :class:`~.recovery.RecoveryWriter`; the callbacks themselves only update fields
and queue work. Recovery is written at once on every state change and stop (pause, cancel,
error), and while printing the state monitor's tick (every 0.5 s) hands it the position the
printer acknowledged, written when it moved, at most every ``recovery_interval`` seconds. A host
killed mid-print thus resumes at most about ``0.5 + recovery_interval`` seconds of printing
(plus one fsync) before the last acknowledged line, and never after it.
"""

import concurrent.futures
import logging
import threading
import time

from octohost.events import Events

from .estimation import create_estimator
from .recovery import RecoveryWriter

log = logging.getLogger(__name__)


class JobTracker:
    def __init__(self, event_bus, plugin_manager, history=None, recovery=None, file_manager=None,
                 profile_getter=None, recovery_interval=0.5):
        self._event_bus = event_bus
        self._plugin_manager = plugin_manager
        self._history = history
        self._recovery = recovery
        self._file_manager = file_manager
        self._profile_getter = profile_getter or (lambda: None)
        self._recovery_writer = RecoveryWriter(recovery, recovery_interval) if recovery is not None else None
        self._io = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="octohost.printer.io")
        self._lock = threading.Lock()
        self.file = None
        self.details = {}
        self.active = False
        self.user = None
        self._started_at = None
        self._history_id = None
        self._estimator = None
        self._estimate = (None, None)
        self._stopped_pos = None
        self._stop_cause = None  # why the job stands still (pause), kept in the routine recovery records
        self._recovery_due = False

    # -- helpers -------------------------------------------------------------------------------

    def _fire(self, event, payload):
        if self._event_bus is not None:
            self._event_bus.fire(event, payload)

    def submit(self, fn, *args, **kwargs):
        """Run ``fn`` on the printer's background thread, after everything queued before it."""

        def run():
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("printer background task %s failed", getattr(fn, "__name__", fn))

        try:
            self._io.submit(run)
        except RuntimeError:
            log.warning("printer I/O thread already closed; dropped %s", getattr(fn, "__name__", fn))

    def payload(self, **extra):
        file = self.file or {}
        data = {"name": file.get("name"), "path": file.get("path"), "origin": file.get("origin"),
                "size": file.get("size")}
        if self.user:
            data["user"] = self.user
            data["owner"] = self.user
        data.update(extra)
        return data

    def elapsed(self):
        return time.monotonic() - self._started_at if self._started_at is not None else None

    def _local_path(self):
        file = self.file or {}
        return file.get("path") if file.get("origin") == "local" else None

    # -- selection -----------------------------------------------------------------------------

    def select(self, file, details=None, user=None):
        """A file was selected: ``file`` from :func:`selected_file`, ``details`` its analysis/statistics,
        ``user`` who selected it (the job's user, as in OctoPrint, until someone else starts it)."""
        with self._lock:
            self.file = file
            self.details = details or {}
            self.user = user if file is not None else None
        if file is None:
            self._fire(Events.FILE_DESELECTED, {})
        else:
            self._fire(Events.FILE_SELECTED, {"name": file["name"], "path": file["path"], "origin": file["origin"],
                                              "size": file["size"]})

    def refresh_details(self, details):
        with self._lock:
            self.details = details or {}

    def statistical_total(self):
        """(seconds, "average" | "analysis") from past prints or the analysis, or (None, None)."""
        details = self.details
        profile = self._profile_getter() or {}
        averages = (details.get("statistics") or {}).get("averagePrintTime") or {}
        if profile.get("id") in averages:
            return averages[profile["id"]], "average"
        estimated = (details.get("gcodeAnalysis") or {}).get("estimatedPrintTime")
        if estimated:
            return estimated, "analysis"
        return None, None

    # -- lifecycle (called from comm threads: no I/O here) -------------------------------------

    def started(self, user=None):
        with self._lock:
            self.active = True
            self.user = user = user or self.user
            self._started_at = time.monotonic()
            self._estimate = (None, None)
            self._stopped_pos = None
            self._stop_cause = None
            origin = (self.file or {}).get("origin", "local")
            self._estimator = create_estimator(self._plugin_manager, "sdcard" if origin == "sdcard" else "local")
            self._recovery_due = True
            file = dict(self.file or {})
        self._fire(Events.PRINT_STARTED, self.payload())
        if self._history is not None and file.get("path"):
            length = self._filament_length()
            self.submit(self._history_start, file["path"], file["origin"], file.get("name"), length, user)

    def _filament_length(self):
        filament = (self.details.get("gcodeAnalysis") or {}).get("filament") or {}
        lengths = [tool.get("length") for tool in filament.values() if isinstance(tool, dict) and tool.get("length")]
        return sum(lengths) if lengths else None

    def _history_start(self, path, origin, name, length, user):
        self._history_id = self._history.start(path, origin, name=name, filament_length=length, user=user)

    def _history_finish(self, result, reason):
        if self._history is not None and self._history_id is not None:
            self._history.finish(self._history_id, result, reason=reason)
            self._history_id = None

    def _ended(self, event, result, success, reason=None, keep_recovery=False, pos=None):
        with self._lock:
            if not self.active:
                return
            self.active = False
            elapsed = self.elapsed()
            self._started_at = None
            self._estimator = None
            local_path = self._local_path()
            file = dict(self.file or {})
        extra = {"time": elapsed}
        if reason:
            extra["reason"] = reason
        self._fire(event, self.payload(**extra))
        if self._history is not None:
            self.submit(self._history_finish, result, reason)
        if self._file_manager is not None and local_path:
            profile = self._profile_getter()
            self.submit(self._file_manager.record_print, local_path, success, elapsed, printer_profile=profile)
        if self._recovery_writer is not None:
            if keep_recovery and file.get("path"):
                self._recovery_writer.record(file["path"], file["origin"], pos, reason, urgent=True)
            else:
                self._recovery_writer.clear()

    def done(self):
        self._ended(Events.PRINT_DONE, "done", True)

    def cancelled(self, reason=None):
        """Cancelled by someone (``reason``: how, when not a plain cancel); nothing to resume."""
        self._ended(Events.PRINT_CANCELLED, "cancelled", False, reason=reason)

    def failed(self, reason, pos=None):
        """The job ended with an error; recovery keeps the position the comm layer reported, else ``pos``."""
        stopped = self._stopped_pos
        self._ended(Events.PRINT_FAILED, "failed", False, reason=reason or "unknown error", keep_recovery=True,
                    pos=stopped if stopped is not None else pos)

    def paused(self, user=None):
        with self._lock:
            self._recovery_due = True
        self._fire(Events.PRINT_PAUSED, self.payload(**({"user": user} if user else {})))

    def resumed(self, user=None):
        with self._lock:
            self._recovery_due = True
            self._stop_cause = None
        self._fire(Events.PRINT_RESUMED, self.payload(**({"user": user} if user else {})))

    def state_changed(self):
        with self._lock:
            self._recovery_due = True

    def record_position(self, cause, path, pos):
        """The comm layer reports where a job stopped and why (pause, cancel, error, disconnect)."""
        self._stopped_pos = pos
        self._stop_cause = cause
        file = self.file or {}
        if self._recovery_writer is None or not file.get("path"):
            return
        self._recovery_writer.record(file["path"], file["origin"], pos, cause, urgent=True)

    # -- sampling (state monitor thread) -------------------------------------------------------

    def tick(self, status):
        """Hand the acknowledged position to the recovery writer; ``status`` is ``get_job_status()`` or None.

        Never the sent position (``filepos``): the printer may not have those lines. Until the first
        ok of a job started at 0, ``acked_filepos`` is None, and 0 is where it would resume.
        """
        if self._recovery_writer is None or status is None:
            return
        with self._lock:  # under the lock, so a job's end (clear) always comes after its last position
            if not self.active or not self.file or not self.file.get("path"):
                return
            urgent, self._recovery_due = self._recovery_due, False
            self._recovery_writer.record(self.file["path"], self.file["origin"], status.get("acked_filepos") or 0,
                                         self._stop_cause, urgent=urgent)

    def estimate(self, progress, print_time):
        """(printTimeLeft, printTimeLeftOrigin), recomputed from the state monitor thread."""
        estimator = self._estimator
        if estimator is None or print_time is None:
            return self._estimate
        total, kind = self.statistical_total()
        try:
            self._estimate = estimator.estimate(progress, print_time, print_time, total, kind)
        except Exception:
            log.exception("print time estimator %r failed", estimator)
        return self._estimate

    def last_estimate(self):
        return self._estimate

    def flush(self, timeout=5.0):
        """Wait for queued history/recovery writes (tests, shutdown)."""
        if self._recovery_writer is not None and not self._recovery_writer.flush(timeout):
            return False
        done = threading.Event()
        try:
            self._io.submit(done.set)
        except RuntimeError:
            return True
        return done.wait(timeout)

    def close(self):
        self._io.shutdown(wait=True)
        if self._recovery_writer is not None:
            self._recovery_writer.close()
