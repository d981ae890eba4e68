"""A histogram of the host's ok -> next line turnaround, sampled so it costs nothing per line.

The sender times one ``ok`` in :data:`SAMPLE_EVERY`: from handling it to the next line written (the
host's own share of the turnaround; the wire and the operating system's wake-ups come on top).
The other oks cost one decrement. Only the thread holding the sender's lock observes, so there is
no lock here; readers take a copy (:meth:`Histogram.cumulative`).
"""

from __future__ import annotations

import bisect

SAMPLE_EVERY = 16
#: bucket upper bounds in seconds (Prometheus ``le``), the last one open
BOUNDS = (0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1)


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BOUNDS) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BOUNDS, seconds)] += 1
        self.sum += seconds

    def cumulative(self) -> dict[str, object]:
        """``{"buckets": [(le, cumulative count), ..., ("+Inf", total)], "sum": seconds}``."""
        counts = list(self.counts)
        buckets: list[tuple[str, int]] = []
        total = 0
        for bound, count in zip(BOUNDS + (None,), counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound is None else repr(bound), total))
        return {"buckets": buckets, "sum": self.sum}
