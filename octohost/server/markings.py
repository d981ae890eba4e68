"""Chart markings: the moments a client's temperature graph marks (connected, print start, pause, done, ...).

OctoPrint sends them as ``markings`` in every ``current`` and ``history`` push message: every
marking still inside the temperature graph's window (``temperature.cutoff`` minutes), oldest first.
They are taken from the events; a plugin may add its own with a ``ChartMarked`` event
(``{"type", "label"}``, as in OctoPrint).
"""

import threading
import time
from collections import deque

from octohost.events import Events

#: event -> (type, label), OctoPrint's
MARKED_EVENTS = {
    Events.CONNECTED: ("connected", "Connected"),
    Events.DISCONNECTED: ("disconnected", "Disconnected"),
    Events.PRINT_STARTED: ("print", "Start"),
    Events.PRINT_DONE: ("done", "Done"),
    Events.PRINT_CANCELLED: ("cancel", "Cancel"),
    Events.PRINT_PAUSED: ("pause", "Pause"),
    Events.PRINT_RESUMED: ("resume", "Resume"),
}
CHART_MARKED = "ChartMarked"
#: bounds the list whatever the window: a plugin firing ChartMarked in a loop must not grow it
MAX_MARKINGS = 500


class Markings:
    def __init__(self, window_seconds, clock=time.time):
        """``window_seconds()``: how far back markings are kept (read at each change)."""
        self._window = window_seconds
        self._clock = clock
        self._items = deque(maxlen=MAX_MARKINGS)
        self._lock = threading.Lock()

    def on_event(self, event: str, payload: object) -> None:
        if event in MARKED_EVENTS:
            kind, label = MARKED_EVENTS[event]
        elif event == CHART_MARKED and isinstance(payload, dict):
            kind, label = str(payload.get("type") or "unknown"), payload.get("label")
            label = label if isinstance(label, str) else None
        else:
            return
        now = self._clock()
        with self._lock:
            self._items.append({"type": kind, "label": label, "time": now})
            self._expire(now)

    def snapshot(self) -> list:
        with self._lock:
            self._expire(self._clock())
            return [dict(item) for item in self._items]

    def _expire(self, now):
        oldest = now - self._window()
        while self._items and self._items[0]["time"] < oldest:
            self._items.popleft()
