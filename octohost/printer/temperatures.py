"""Temperature history: the last ``cutoff`` minutes of readings, for graphs and initial data."""

import collections
import threading
import time


class TemperatureHistory:
    def __init__(self, cutoff_minutes=30):
        self._cutoff = cutoff_minutes * 60.0
        self._entries = collections.deque()
        self._lock = threading.Lock()

    def set_cutoff(self, minutes):
        with self._lock:
            self._cutoff = minutes * 60.0

    def add(self, temperatures, timestamp=None):
        """Store ``{"tool0": {"actual", "target"}, ...}``; returns the stored entry with its time."""
        entry = {"time": int(timestamp if timestamp is not None else time.time())}
        entry.update(temperatures)
        with self._lock:
            self._entries.append(entry)
            oldest = entry["time"] - self._cutoff
            while self._entries and self._entries[0]["time"] < oldest:
                self._entries.popleft()
        return entry

    def latest(self):
        with self._lock:
            return dict(self._entries[-1]) if self._entries else None

    def as_list(self):
        with self._lock:
            return list(self._entries)
