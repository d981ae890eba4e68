"""Print recovery: where the current job stands, persisted so a crash cannot lose it.

``BASEDIR/data/print_recovery.yaml`` holds the file, origin and last byte position the printer
acknowledged. It is replaced atomically, so after a SIGKILL or power cut it holds either the
previous or the new record; it is removed when a job ends cleanly (done or cancelled).
"""

import os
import threading
import time

import yaml

from octohost.util.fs import atomic_write

FILENAME = "print_recovery.yaml"


class PrintRecovery:
    def __init__(self, folder):
        self.path = os.path.join(folder, FILENAME)
        self._lock = threading.Lock()
        self._last = None

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
            self._last = key
            return True

    def clear(self):
        with self._lock:
            self._last = None
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def get_recovery_data(self):
        """{path, origin, pos, date[, reason]} of the job that did not end, or None."""
        try:
            with open(self.path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except (FileNotFoundError, yaml.YAMLError):
            return None
        if not isinstance(data, dict) or "path" not in data or "pos" not in data:
            return None
        return data
