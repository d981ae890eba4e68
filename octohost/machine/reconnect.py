"""Reconnecting by itself: who may reconnect, to what, and when (the breaker decides how soon).

The reconnector is *armed* once a connection reached the operational state (or at once for the
start-up's autoconnect, whose printer may not be switched on yet), and disarmed by a
disconnect someone asked for, by a machine problem (a halted firmware, a heater fault: those need
a person) and by ``disable``. While armed, a lost connection or a failed attempt schedules the
next attempt (:mod:`.breaker`); the owner's thread calls :meth:`due` and runs the attempt.

A connection counts as a success for the breaker only after it stayed up ``stable_seconds``:
a port that flaps (opens, answers, drops) keeps counting as failing and opens the circuit.
Pure bookkeeping; the clock is passed in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, Policy

IDLE = "idle"            # nothing to do: connected, or never connected, or disarmed
WAITING = "waiting"      # an attempt is scheduled
CONNECTING = "connecting"  # an attempt runs
CONNECTED = "connected"  # the connection is up (maybe not stable yet)


@dataclass
class Target:
    port: str | None
    baudrate: int | None
    profile: str | None = None


class Reconnector:
    def __init__(self, policy: Policy, stable_seconds: float = 10.0, enabled: bool = True) -> None:
        self.breaker = CircuitBreaker(policy)
        self.stable_seconds = stable_seconds
        self.enabled = enabled
        self.state = IDLE
        self.armed = False
        self.target: Target | None = None
        self.attempt = 0          # attempts since the connection was lost
        self.total_attempts = 0   # since start, for metrics
        self.reconnects = 0       # attempts that led to a connection, for metrics
        self._due: float | None = None
        self._connected_at: float | None = None
        self._lock = threading.RLock()

    # -- what happened ---------------------------------------------------------------------------

    def user_connect(self, target: Target, keep_trying: bool = False) -> None:
        """Someone asked for a connection: forget the past failures; arm once it is up, or at once
        with ``keep_trying`` (the start-up's autoconnect: the printer may be switched on later)."""
        with self._lock:
            self.target = target
            self.armed = self.enabled and keep_trying
            self.breaker.reset()
            self.attempt = 0
            self.state = IDLE
            self._due = None

    def connected(self, now: float, port: str | None, baudrate: int | None) -> None:
        with self._lock:
            if self.state == CONNECTING:
                self.reconnects += 1
            if self.target is None:
                self.target = Target(port, baudrate)
            else:
                self.target.port = port or self.target.port
                self.target.baudrate = baudrate or self.target.baudrate
            self.armed = self.enabled
            self.state = CONNECTED
            self._connected_at = now
            self._due = None

    def lost(self, now: float) -> bool:
        """The connection broke or an attempt failed; True if another attempt is scheduled."""
        with self._lock:
            self._connected_at = None
            if not (self.armed and self.enabled):
                self.state = IDLE
                return False
            self.breaker.failure(now)
            self.state = WAITING
            self._due = self.breaker.next_attempt(now)
            return True

    def disarm(self) -> None:
        """A disconnect someone asked for, or a problem a person must look at: no more attempts."""
        with self._lock:
            self.armed = False
            self.state = IDLE if self.state != CONNECTED else CONNECTED
            self._due = None

    def restart(self, now: float) -> None:
        """``restart``: closed circuit, an attempt right now (armed even after a disconnect)."""
        with self._lock:
            self.breaker.reset()
            self.attempt = 0
            self.armed = self.enabled or self.armed
            self.state = WAITING
            self._due = now

    def expedite(self, now: float) -> bool:
        """The missing port is back: try now instead of at the end of the delay. An open circuit
        lets this one probe through (half-open), since the port's return is news, not a retry."""
        with self._lock:
            if self.state != WAITING or self.target is None:
                return False
            if self.breaker.state == OPEN:
                self.breaker.state = HALF_OPEN
            self._due = now
            return True

    # -- the owner's thread ----------------------------------------------------------------------

    def due(self, now: float) -> Target | None:
        """The target to try now (state becomes ``connecting``), or None."""
        with self._lock:
            if self.state == CONNECTED and self._connected_at is not None \
                    and now - self._connected_at >= self.stable_seconds:
                self._connected_at = None
                self.breaker.success()
                self.attempt = 0
            if self.state != WAITING or self._due is None or now < self._due or self.target is None:
                return None
            if not self.breaker.allow(now):
                self._due = self.breaker.next_attempt(now)
                return None
            self.state = CONNECTING
            self.attempt += 1
            self.total_attempts += 1
            self._due = None
            return Target(self.target.port, self.target.baudrate, self.target.profile)

    def wait_seconds(self, now: float) -> float | None:
        """Seconds until :meth:`due` has something to do (None: nothing scheduled)."""
        with self._lock:
            waits = []
            if self.state == WAITING and self._due is not None:
                waits.append(self._due - now)
            if self.state == CONNECTED and self._connected_at is not None:
                waits.append(self._connected_at + self.stable_seconds - now)
            return max(0.0, min(waits)) if waits else None

    def info(self, now: float) -> dict[str, Any]:
        with self._lock:
            next_in = None
            if self.state == WAITING and self._due is not None:
                next_in = round(max(0.0, self._due - now), 3)
            return {"state": self.state, "attempt": self.attempt, "nextRetryIn": next_in,
                    "circuit": self.breaker.state, "armed": self.armed}

    @property
    def circuit_open(self) -> bool:
        return self.breaker.state == OPEN

    @property
    def circuit_closed(self) -> bool:
        return self.breaker.state == CLOSED
