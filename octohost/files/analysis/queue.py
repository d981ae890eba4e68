"""Analysis queues: one background thread per file type works through queued files in order.

A queue is what the ``filemanager.analysis.factory`` hook replaces: a factory is called with
the finished callback and returns an :class:`AbstractAnalysisQueue`; subclasses implement
:meth:`~AbstractAnalysisQueue._do_analysis` (and :meth:`~AbstractAnalysisQueue._do_abort` if the
analysis can be interrupted). High-priority entries go before the others; a file that changes or
goes away while queued or being analysed is dequeued by the manager.
"""

import collections
import heapq
import itertools
import logging
import threading

log = logging.getLogger(__name__)

QueueEntry = collections.namedtuple(
    "QueueEntry", "name path type location absolute_path printer_profile analysis")


class AnalysisAborted(Exception):
    """The running analysis was stopped; counts as a failure unless the queue asked for the stop."""


class AbstractAnalysisQueue:
    """The thread and ordering; subclasses supply the analysis itself.

    ``finished_callback(entry, outcome)`` gets an :class:`AnalysisOutcome`, or None when the
    analysis failed.
    ``on_started(entry)``, when set by the manager, is called as an analysis begins.
    """

    def __init__(self, finished_callback):
        self._finished_callback = finished_callback
        self.on_started = None
        self._heap = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._current = None
        self._aborted = False
        self._paused = False
        self._stopped = False
        self._thread = None

    # -- what the manager calls ----------------------------------------------------------------

    def enqueue(self, entry, high_priority=False):
        with self._condition:
            if self._stopped:
                return
            self._remove_queued(entry)
            heapq.heappush(self._heap, (0 if high_priority else 1, next(self._sequence), entry, high_priority))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=f"octohost.analysis.{type(self).__name__}",
                                                daemon=True)
                self._thread.start()
            self._condition.notify_all()

    def dequeue(self, entry):
        """Forget ``entry`` (matched by location and path); aborts it if it is running."""
        with self._condition:
            self._remove_queued(entry)
            current = self._current
            if current is not None and (current.location, current.path) == (entry.location, entry.path):
                self._abort_current()

    def pause(self):
        """Let the running analysis finish, start no new one until :meth:`resume` (e.g. while printing)."""
        with self._condition:
            self._paused = True

    def resume(self):
        with self._condition:
            self._paused = False
            self._condition.notify_all()

    def is_busy(self):
        with self._condition:
            return self._current is not None or bool(self._heap)

    def shutdown(self, timeout=10.0):
        with self._condition:
            self._stopped = True
            self._heap.clear()
            if self._current is not None:
                self._abort_current()
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._do_shutdown()

    # -- for subclasses ------------------------------------------------------------------------

    def _do_analysis(self, entry, high_priority=False):
        """Analyse ``entry`` and return the result dict; raise AnalysisAborted when aborted."""
        raise NotImplementedError

    def _do_abort(self):
        """Interrupt the running :meth:`_do_analysis` (called from another thread)."""

    def _do_shutdown(self):
        """Release resources (worker processes) after the thread stopped."""

    # -- internals -----------------------------------------------------------------------------

    def _remove_queued(self, entry):
        key = (entry.location, entry.path)
        kept = [item for item in self._heap if (item[2].location, item[2].path) != key]
        if len(kept) != len(self._heap):
            self._heap = kept
            heapq.heapify(self._heap)

    def _abort_current(self):
        self._aborted = True
        try:
            self._do_abort()
        except Exception:
            log.exception("aborting the analysis of %s failed", self._current.path)

    def _work(self):
        while True:
            with self._condition:
                while not self._stopped and (self._paused or not self._heap):
                    self._condition.wait()
                if self._stopped:
                    return
                _, _, entry, high_priority = heapq.heappop(self._heap)
                self._current = entry
                self._aborted = False
            try:
                if self.on_started is not None:
                    self.on_started(entry)
                result = AnalysisOutcome.wrap(self._do_analysis(entry, high_priority=high_priority))
            except AnalysisAborted:
                log.warning("analysis of %s stopped before it finished", entry.path)
                result = None
            except Exception:
                log.exception("analysis of %s failed", entry.path)
                result = None
            with self._condition:
                aborted = self._aborted
                self._current = None
            if aborted:
                log.info("analysis of %s aborted", entry.path)
                continue
            try:
                self._finished_callback(entry, result)
            except Exception:
                log.exception("analysis finished callback for %s failed", entry.path)


class AnalysisOutcome:
    """What an analysis produced: the ``gcodeAnalysis`` dict plus optional side results.

    Queues from plugins may return a plain dict from ``_do_analysis``; it becomes ``analysis``.
    ``stamp`` is ``[size, mtime_ns]`` of the file as analysed, so a result for an older version
    of a file is recognised and dropped.
    """

    __slots__ = ("analysis", "slicer", "thumbnails", "hash", "stamp")

    def __init__(self, analysis, slicer=None, thumbnails=(), hash=None, stamp=None):
        self.analysis = analysis
        self.slicer = slicer
        self.thumbnails = list(thumbnails)
        self.hash = hash
        self.stamp = list(stamp) if stamp is not None else None

    @classmethod
    def wrap(cls, result):
        if result is None or isinstance(result, cls):
            return result
        if isinstance(result, dict):
            return cls(result)
        raise TypeError(f"an analysis must return a dict or AnalysisOutcome, not {type(result).__name__}")
