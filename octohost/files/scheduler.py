"""Which files wait for analysis, in which queue, and who hears about the results.

One queue per file type (the leaf of the type path), created on first use from the factories:
the built-in G-code queue unless disabled, merged with what ``filemanager.analysis.factory``
handlers return. A path is pending from :meth:`AnalysisScheduler.enqueue` until its result was
handed to ``on_finished`` (or it was dequeued), so :meth:`~AnalysisScheduler.wait` can tell
"done" from "still coming".
"""

import functools
import logging
import threading
import time

from octohost.plugin.handlers import run_handlers

from .analysis.process import GcodeAnalysisQueue

log = logging.getLogger(__name__)


def analysis_factories(settings, plugin_manager=None):
    """``{leaf type: factory(finished_callback) -> queue}`` from the settings and the plugins."""
    factories = {}
    if settings.get("files.analysis.enabled"):
        factories["gcode"] = functools.partial(
            GcodeAnalysisQueue,
            acceleration=settings.get("files.analysis.acceleration"),
            filament_diameter=settings.get("files.analysis.filamentDiameter"))
    if plugin_manager is not None:
        handlers = plugin_manager.handlers("filemanager.analysis.factory")
        for _identifier, result in run_handlers("filemanager.analysis.factory", handlers, lambda handler: handler()):
            if isinstance(result, dict):
                factories.update({k: v for k, v in result.items() if callable(v)})
    return factories


class AnalysisScheduler:
    """Pending analyses by path; ``on_started(entry)`` and ``on_finished(entry, outcome, stamp)``
    are called from the queue threads (``outcome`` None: the analysis failed)."""

    def __init__(self, factories, on_started, on_finished):
        self._factories = factories
        self._on_started = on_started
        self._on_finished = on_finished
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._queues = {}
        self._pending = {}  # path -> (QueueEntry, stamp of the file when queued)
        self._paused = False
        self._closed = False

    def handles(self, type_path):
        return bool(type_path) and type_path[-1] in self._factories and not self._closed

    def _queue(self, leaf):
        queue = self._queues.get(leaf)
        if queue is None:
            queue = self._factories[leaf](self._finished)
            queue.on_started = self._on_started
            if self._paused:
                queue.pause()
            self._queues[leaf] = queue
        return queue

    def enqueue(self, entry, stamp, high_priority=False):
        """Queue ``entry`` (replacing an older entry of the same path); False if nothing handles it."""
        with self._lock:
            if self._closed or entry.type not in self._factories:
                return False
            self.dequeue(entry.path)
            self._pending[entry.path] = (entry, stamp)
            self._queue(entry.type).enqueue(entry, high_priority=high_priority)
            return True

    def dequeue(self, path):
        """Forget the analysis of ``path`` (aborting it if it runs); True if there was one."""
        with self._lock:
            pending = self._pending.pop(path, None)
            if pending is None:
                return False
            queue = self._queues.get(pending[0].type)
            if queue is not None:
                queue.dequeue(pending[0])
            self._changed.notify_all()
            return True

    def dequeue_below(self, folder):
        prefix = folder + "/" if folder else ""
        with self._lock:
            for path in [p for p in self._pending if p.startswith(prefix)]:
                self.dequeue(path)

    def is_pending(self, path=None):
        with self._lock:
            return bool(self._pending) if path is None else path in self._pending

    def wait(self, path, timeout):
        """Block until ``path`` is no longer pending; False if the timeout came first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while path in self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def pause(self):
        with self._lock:
            self._paused = True
            for queue in self._queues.values():
                queue.pause()

    def resume(self):
        with self._lock:
            self._paused = False
            for queue in self._queues.values():
                queue.resume()

    def _finished(self, entry, outcome):
        with self._lock:
            pending = self._pending.get(entry.path)
            if pending is None or pending[0] is not entry:
                return
        try:
            self._on_finished(entry, outcome, pending[1])
        finally:
            with self._lock:
                if self._pending.get(entry.path, (None,))[0] is entry:
                    del self._pending[entry.path]
                self._changed.notify_all()

    def shutdown(self, timeout=10.0):
        with self._lock:
            self._closed = True
            queues = list(self._queues.values())
            self._queues.clear()
            self._pending.clear()
            self._changed.notify_all()
        for queue in queues:
            queue.shutdown(timeout)
