"""Connection health: when the printer was last heard from.

The printer layer reports what it hears anyway and rarely (temperature reports, firmware
messages), so keeping this costs nothing per line. ``lastCommunication`` is a wall-clock time
(seconds since the epoch) or None before anything was heard.
"""

from __future__ import annotations

import time


class Health:
    def __init__(self) -> None:
        self.last_communication: float | None = None

    def heard(self, when: float | None = None) -> None:
        self.last_communication = when if when is not None else time.time()

    def silent_for(self, now: float | None = None) -> float | None:
        """Seconds since the printer was last heard, None if never."""
        if self.last_communication is None:
            return None
        return max(0.0, (now if now is not None else time.time()) - self.last_communication)
