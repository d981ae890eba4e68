"""Print recovery: where the current job stands, persisted so a crash cannot lose it.

``BASEDIR/data/print_recovery.yaml`` holds the file, origin and last byte position the printer
acknowledged. It is replaced atomically, so after a SIGKILL or power cut it holds either the
previous or the new record; it is removed when a job ends cleanly (done or cancelled).
:class:`RecoveryWriter` does the writing on its own thread, newest record first.
"""

import functools
import logging
import os
import threading
import time

import yaml

from octohost.util.fs import atomic_write
from octohost.util.shared_file import SharedFile

log = logging.getLogger(__name__)

FILENAME = "print_recovery.yaml"
_UNREAD = object()  # no stamp equals it: the first read goes to the file


class PrintRecovery:
    """The record on disk, and in memory as this process last wrote or read it.

    Reading answers from memory while the file is the one this process knows (one ``stat``, so a
    record another process wrote is still seen): ``GET /api/job`` asks on every poll, on the
    server's event loop when no job runs. Writes hold ``_lock``; reads take none, so they never
    wait for a write on disk.
    """

    def __init__(self, folder):
        self.path = os.path.join(folder, FILENAME)
        self._file = SharedFile(self.path)
        self._lock = threading.Lock()
        self._last = None
        self._known = (_UNREAD, None)  # (the file's stamp, its record): replaced whole, read without the lock

    @classmethod
    def for_settings(cls, settings):
        return cls(settings.folder("data"))

    def record(self, path, origin, pos, reason=None):
        """Persist the position; skipped when nothing but the time would change."""
        key = (path, origin, pos, reason)
        with self._lock:
            if key == self._last:
                return False
            data = {"path": path, "origin": origin, "pos": int(pos or 0), "date": time.time()}
            if reason:
                data["reason"] = reason
            atomic_write(self.path, yaml.safe_dump(data, default_flow_style=False, sort_keys=True))
            self._known = (self._file.stamp(), data)
            self._last = key
            return True

    def clear(self):
        with self._lock:
            self._last = None
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self._known = (None, None)

    def get_recovery_data(self):
        """{path, origin, pos, date[, reason]} of the job that did not end, or None (a copy)."""
        stamp = self._file.stamp()
        seen, data = self._known
        if stamp != seen:
            data = self._read()
            self._known = (stamp, data)
        return dict(data) if data is not None else None

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except (FileNotFoundError, yaml.YAMLError):
            return None
        if not isinstance(data, dict) or "path" not in data or "pos" not in data:
            return None
        return data


class RecoveryWriter:
    """Writes the newest recovery record of a :class:`PrintRecovery` on a thread of its own.

    While a job prints, positions arrive often (every state-monitor tick). Only the newest waits
    to be written, so a slow disk never builds a backlog and no serial or state thread ever waits
    for it; routine positions are written at most every ``interval`` seconds, which bounds the
    writes to an SD card. ``urgent`` records (a pause, cancel or error) and clearing (a job that
    ended cleanly) are written at once. The newest request always wins: a clear is never undone
    by an older position still waiting.
    """

    def __init__(self, recovery, interval=1.0):
        self._recovery = recovery
        self._interval = interval
        self._cond = threading.Condition()
        self._pending = None  # the newest write not done yet (a callable)
        self._urgent = False
        self._busy = False
        self._closed = False
        self._last_write = 0.0
        self._thread = threading.Thread(target=self._run, name="octohost.printer.recovery", daemon=True)
        self._thread.start()

    def record(self, path, origin, pos, reason=None, urgent=False):
        self._post(functools.partial(self._recovery.record, path, origin, pos, reason), urgent)

    def clear(self):
        self._post(self._recovery.clear, True)

    def _post(self, operation, urgent):
        with self._cond:
            if self._closed:
                operation()  # after close (shutdown): write it here rather than lose it
                return
            self._pending = operation
            self._urgent = self._urgent or urgent
            self._cond.notify_all()

    def flush(self, timeout=5.0):
        """Write what waits now and wait until it is on disk; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._pending is not None:
                self._urgent = True
                self._cond.notify_all()
            while self._pending is not None or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self):
        """Write what waits, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(10)

    def _run(self):
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._pending is None:
                    return
                if not (self._urgent or self._closed):
                    wait = self._last_write + self._interval - time.monotonic()
                    if wait > 0:
                        self._cond.wait(wait)
                        continue
                operation, self._pending, self._urgent = self._pending, None, False
                self._busy = True
            try:
                operation()
            except Exception:
                log.exception("writing the print recovery data failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._last_write = time.monotonic()
                    self._cond.notify_all()
