"""The machine's error list: the latest errors with their time and code, bounded.

A flapping port can produce an error every second for days; the list keeps the newest
``limit`` and counts the rest, so memory stays flat and the UI still sees that more happened.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

DEFAULT_LIMIT = 50
#: longest message kept; firmware lines and exception texts can be long
MAX_MESSAGE = 500


class ErrorLog:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()
        self.dropped = 0

    def add(self, code: int, message: str, when: float | None = None) -> dict[str, Any]:
        entry = {"time": when if when is not None else time.time(), "code": int(code),
                 "message": str(message)[:MAX_MESSAGE]}
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def entries(self) -> list[dict[str, Any]]:
        """Oldest first, as copies."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def last(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._entries[-1]) if self._entries else None
