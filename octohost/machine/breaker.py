"""When to try a connection again: exponential backoff with jitter, behind a circuit breaker.

Pure and clock-free (every method takes ``now``), so the policy is tested without waiting.

- Backoff: the n-th consecutive failure waits ``initial * multiplier**(n-1)``, capped at
  ``maximum``, spread by ``±jitter`` (a fraction) so several hosts behind one USB hub or serial
  server do not retry in lockstep.
- Circuit breaker: after ``threshold`` consecutive failures the circuit opens and no attempt is
  made for ``open_seconds``; then it is half-open and one probe runs. A probe that succeeds
  closes it (and resets the backoff), one that fails opens it again for another ``open_seconds``.
  A port that flaps (opens, then drops at once) counts as failing: success is only recorded once
  the connection stayed up (the caller decides when; see :mod:`.reconnect`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


@dataclass
class Policy:
    initial: float = 1.0
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    threshold: int = 8
    open_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        get = settings.get
        return cls(initial=get("serial.reconnect.initialDelay"), maximum=get("serial.reconnect.maxDelay"),
                   multiplier=get("serial.reconnect.multiplier"), jitter=get("serial.reconnect.jitter"),
                   threshold=get("serial.reconnect.failureThreshold"),
                   open_seconds=get("serial.reconnect.openSeconds"))


class CircuitBreaker:
    def __init__(self, policy: Policy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self.state = CLOSED
        self.opened_at: float | None = None
        self._rng = rng or random.Random()

    def delay(self) -> float:
        """Seconds to wait before the next attempt after the failures so far (0 before any)."""
        policy = self.policy
        if self.failures <= 0:
            return 0.0
        base = min(policy.maximum, policy.initial * policy.multiplier ** (self.failures - 1))
        spread = base * max(0.0, min(policy.jitter, 1.0))
        return max(0.0, base + self._rng.uniform(-spread, spread))

    def next_attempt(self, last_failure: float) -> float:
        """When the next attempt may run (monotonic), given the time of the last failure."""
        if self.state == OPEN and self.opened_at is not None:
            return self.opened_at + self.policy.open_seconds
        return last_failure + self.delay()

    def allow(self, now: float) -> bool:
        """Whether an attempt may run now; an open circuit whose time is up turns half-open."""
        if self.state == OPEN:
            if self.opened_at is not None and now >= self.opened_at + self.policy.open_seconds:
                self.state = HALF_OPEN
                return True
            return False
        return True

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.state == HALF_OPEN or (self.policy.threshold and self.failures >= self.policy.threshold):
            self.state = OPEN
            self.opened_at = now

    def success(self) -> None:
        self.failures = 0
        self.state = CLOSED
        self.opened_at = None

    def reset(self) -> None:
        self.success()
