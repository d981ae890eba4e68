"""The normalized machine status that subscribers get (push socket, telemetry bridges, plugins).

One :class:`Snapshot` per publication, on the event bus as ``MachineSnapshot`` (payload:
:meth:`Snapshot.as_dict`) and to callables registered with :meth:`Publisher.subscribe`. It is
published on every status change and at least once a second while connected. Fields:

- ``time``: wall clock, seconds since the epoch
- ``state``: the PrinterInterface state id (``OPERATIONAL``, ``PRINTING``, ``CLOSED_WITH_ERROR``, ...)
  and ``stateText``, as ``/api/connection`` words it
- ``status``: ``{code, text, label, color}`` (:mod:`.status`) and ``statusText``
- ``progress``: ``{completion, filepos, printTime, printTimeLeft}`` (None while no job)
- ``temperatures``: ``{heater: {actual, target}}``
- ``job``: ``{name, path, origin, size, user}`` of the selected file, or None
- ``errors``: the latest errors, ``[{time, code, message}]`` (oldest first, at most 10)
- ``connection``: ``{state, attempt, nextRetryIn, circuit, lastCommunication}``
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: errors carried in a snapshot (the full list is at GET /api/machine)
SNAPSHOT_ERRORS = 10


@dataclass(frozen=True)
class Snapshot:
    time: float
    state: str
    stateText: str
    status: dict[str, Any]
    statusText: str
    progress: dict[str, Any] | None
    temperatures: dict[str, dict[str, Any]]
    job: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    connection: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict of fresh containers (cheaper than ``dataclasses.asdict``'s deep copy)."""
        return {"time": self.time, "state": self.state, "stateText": self.stateText, "status": dict(self.status),
                "statusText": self.statusText, "progress": dict(self.progress) if self.progress else None,
                "temperatures": {heater: dict(values) for heater, values in self.temperatures.items()},
                "job": dict(self.job) if self.job else None, "errors": [dict(error) for error in self.errors],
                "connection": dict(self.connection)}


Subscriber = Callable[[Snapshot], object]


class Publisher:
    """Subscribers of snapshots; a subscriber that raises is logged and keeps its place."""

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()
        self.last: Snapshot | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(snapshot)`` on every publication; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers += (callback,)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    def publish(self, snapshot: Snapshot) -> None:
        self.last = snapshot
        for callback in self._subscribers:
            try:
                callback(snapshot)
            except Exception:
                log.exception("snapshot subscriber %r raised", callback)
