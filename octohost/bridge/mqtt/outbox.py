"""The event queue: sequence numbers, a bounded offline buffer and in-order delivery at QoS 1.

Every event gets the next ``seq`` when it is queued, so a subscriber that sees a jump knows it
missed something. Events wait here while the broker is away; when more than ``capacity`` wait,
the oldest is dropped and counted (one warning per thousand drops), which shows as a gap in
``seq``. At most ``window`` events are handed to the MQTT client at a time; the client keeps those
across reconnects and sends them again until the broker acknowledges them, so nothing handed
over is lost, and order is kept because nothing newer is handed over while the broker is away.
``put`` never blocks for long: it is called from the event bus's thread and printer callbacks.

Whoever queues an event hands it to the client at once when the window has room and nobody else
is handing one over (the common case): a command's ACCEPTED, queued on the client's network
thread, then leaves with that thread's next write instead of waking the pump thread first (on a
busy machine each wake-up is a wait for a core). The pump thread hands over the rest: what
waited for the broker or for the window.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .topics import encode

log = logging.getLogger(__name__)

#: seconds an acknowledgement of an id not (yet) recorded is kept
EARLY_ACK_SECONDS = 30.0
#: a publish function: (payload) -> message id the client will acknowledge, or None if it refused
Send = Callable[[bytes], "int | None"]


class EventOutbox:
    def __init__(self, capacity: int = 10000, window: int = 20) -> None:
        self.capacity = capacity
        self.window = window
        self._cond = threading.Condition()
        self._pending: collections.deque[tuple[int, bytes]] = collections.deque()  # (seq, payload)
        self._inflight: dict[int, int] = {}  # message id -> seq
        self._early: dict[int, float] = {}
        self._sending = False  # someone is handing the head over (outside the lock)
        self._send: Send | None = None  # the pump's send function, once it runs
        self._seq = 0
        self._connected = False
        self._closed = False
        self.dropped = 0
        self.delivered = 0

    def put(self, event: str, source: str, state: str | None, data: dict[str, Any] | None = None,
            **extra: Any) -> int:
        """Queue one event; returns its ``seq``."""
        with self._cond:
            self._seq += 1
            seq = self._seq
            payload = {"ts": round(time.time(), 3), "seq": seq, "event": event, "source": source, "state": state,
                       "data": data or {}}
            payload.update(extra)
            self._pending.append((seq, encode(payload)))
            if len(self._pending) > self.capacity:
                # the head may be in the client's hands right now (see pump): drop the next instead
                del self._pending[1 if self._sending else 0]
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("MQTT event buffer full (%d events): dropped the oldest, %d dropped so far",
                                self.capacity, self.dropped)
            self._cond.notify_all()
        self._hand_over()
        return seq

    def set_connected(self, connected: bool) -> None:
        with self._cond:
            self._connected = connected
            self._cond.notify_all()

    def acknowledged(self, mid: int) -> None:
        """The broker acknowledged message ``mid`` (the client's on_publish)."""
        with self._cond:
            if self._inflight.pop(mid, None) is not None:
                self.delivered += 1
                self._cond.notify_all()
            else:  # not recorded yet, or not an event (telemetry, status): forgotten after a while
                now = time.monotonic()
                self._early[mid] = now
                if len(self._early) > 256:
                    self._early = {m: t for m, t in self._early.items() if now - t < EARLY_ACK_SECONDS}

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def queued(self) -> int:
        """Events not yet acknowledged by the broker."""
        with self._cond:
            return len(self._pending) + len(self._inflight)

    @property
    def last_seq(self) -> int:
        with self._cond:
            return self._seq

    def wait_drained(self, timeout: float) -> bool:
        """Until every queued event is acknowledged (a clean shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._connected:
                    return False
                self._cond.wait(remaining)
            return True

    def wait_acknowledged(self, seq: int, timeout: float) -> bool:
        """Until the broker acknowledged event ``seq`` (or it was dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(s == seq for s, _ in self._pending) or seq in self._inflight.values():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def pump(self, send: Send) -> None:
        """Hand events to ``send`` in order while connected, ``window`` at a time; returns on close.

        ``send`` runs outside the lock: the client calls :meth:`acknowledged` holding its own
        lock, which ``send`` takes too. An acknowledgement that overtakes the recording of its
        message id is kept in ``_early`` until then.
        """
        with self._cond:
            self._send = send
        while True:
            with self._cond:
                while not self._closed and not self._can_hand_over():
                    self._cond.wait()
                if self._closed:
                    return
            self._hand_over()

    def _can_hand_over(self) -> bool:
        return (self._send is not None and not self._sending and self._connected and bool(self._pending)
                and len(self._inflight) < self.window)

    def _hand_over(self) -> None:
        """Hand the head of the queue to the client while the window has room; one thread at a time
        (``_sending``), so the head stays first until it is handed over and order is kept."""
        while True:
            with self._cond:
                if self._closed or not self._can_hand_over():
                    return
                seq, payload = self._pending[0]
                send = self._send
                self._sending = True
            assert send is not None
            try:
                mid = send(payload)
            except Exception:  # never into the caller (the event bus, a printer callback)
                log.exception("MQTT bridge: handing an event to the client failed")
                mid = None
            with self._cond:
                self._sending = False
                if mid is None:  # refused outright: keep it first in line until reconnected
                    self._connected = False
                else:
                    self._pending.popleft()
                    if self._early.pop(mid, None) is not None:
                        self.delivered += 1
                    else:
                        self._inflight[mid] = seq
                self._cond.notify_all()
            if mid is None:
                return
