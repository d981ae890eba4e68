"""Print-time estimation that improves as the print runs.

Early in a print the observed rate says little (heating, first layer), so a statistical figure
(the G-code analysis or the average of past prints) dominates; its weight falls linearly with
progress until ``stats_weighing_until``, after which only the observed rate counts. The observed
total is the mean of a rolling window of ``cleaned print time / progress`` samples, which
smooths out slow and fast sections. Plugins replace all this through the
``printer.estimation.factory`` hook.
"""

import collections
import logging

from octohost.plugin.handlers import run_handlers

log = logging.getLogger(__name__)

#: where a printTimeLeft figure came from
ORIGINS = ("estimate", "average", "analysis", "linear", "mixed-analysis", "mixed-average")


class PrintTimeEstimator:
    """``estimate(progress 0..1, printTime, cleanedPrintTime, statTotal, statType) -> (seconds left, origin)``."""

    def __init__(self, job_type, window=10, stats_weighing_until=0.5, stable_spread=0.05):
        self.job_type = job_type
        self._totals = collections.deque(maxlen=window)
        self._stats_weighing_until = stats_weighing_until
        self._stable_spread = stable_spread

    def _observed_total(self, progress, elapsed):
        self._totals.append(elapsed / progress)
        mean = sum(self._totals) / len(self._totals)
        full = len(self._totals) == self._totals.maxlen
        stable = full and mean > 0 and (max(self._totals) - min(self._totals)) / mean <= self._stable_spread
        return mean, stable

    def estimate(self, progress, printTime, cleanedPrintTime, statisticalTotalPrintTime, statisticalTotalPrintTimeType):
        elapsed = cleanedPrintTime if cleanedPrintTime is not None else printTime
        if not progress or progress <= 0 or elapsed is None or elapsed <= 0:
            if statisticalTotalPrintTime:
                return max(0.0, statisticalTotalPrintTime - (elapsed or 0)), statisticalTotalPrintTimeType
            return None, None
        progress = min(progress, 1.0)
        observed, stable = self._observed_total(progress, elapsed)
        if statisticalTotalPrintTime:
            weight = min(1.0, progress / self._stats_weighing_until)
            total = (1 - weight) * statisticalTotalPrintTime + weight * observed
            origin = "estimate" if weight >= 1.0 else "mixed-" + statisticalTotalPrintTimeType
        else:
            total = observed
            origin = "estimate" if stable else "linear"
        return max(0.0, total - elapsed), origin


def estimator_class(plugin_manager):
    """The first class (or factory) a ``printer.estimation.factory`` handler returns, else the default."""
    if plugin_manager is not None:
        handlers = plugin_manager.handlers("printer.estimation.factory")
        for _plugin_id, factory in run_handlers("printer.estimation.factory", handlers, lambda handler: handler()):
            if factory is not None:
                return factory
    return PrintTimeEstimator


def create_estimator(plugin_manager, job_type):
    """An estimator for a job of ``job_type`` ("local", "sdcard" or "stream")."""
    factory = estimator_class(plugin_manager)
    try:
        return factory(job_type)
    except Exception:
        log.exception("print time estimator factory %r failed; using the default", factory)
        return PrintTimeEstimator(job_type)
