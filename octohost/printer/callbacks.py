"""Fan-out from the printer to its PrinterCallbacks without ever blocking the caller.

Every registered callback gets its own worker thread and its own bounded queue, so a slow
callback (a stalled websocket, a sluggish plugin) only delays itself: the others, and the comm
threads that post, never wait for it. Log lines, messages and temperatures queue in order (a
callback that falls more than ``backlog`` items behind loses the oldest); current-data updates
are coalesced into one slot per callback, so a slow receiver gets the newest state, not a
backlog of stale ones.

Terminal lines come two per printed line and nobody needs them at once (the push socket sends
them on its half-second tick), so they are posted *lazily* (:meth:`CallbackDispatcher.post_lazy`):
queued in order with everything else, but a worker wakes for them at most every
``LAZY_SECONDS`` instead of once a line. Woken once a line, the push hub's worker cost a thread
wake-up and an interpreter-lock hand-off per printed line, taken from the receive thread's turn
(1.02 wake-ups and 50 µs of CPU a line in the daemon; lazily 0.05 and 7 µs). Anything posted the
usual way delivers the lazy lines before it, in order.
"""

import collections
import logging
import threading
import time

log = logging.getLogger(__name__)

#: how long a lazily posted item may wait for its worker (the push socket's tick is 0.5 s)
LAZY_SECONDS = 0.1


class _Worker:
    def __init__(self, callback, backlog):
        self.callback = callback
        self._items = collections.deque(maxlen=backlog)
        self._current = None
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = False
        self._urgent = False  # an item posted the usual way waits: deliver now
        self._due: float | None = None  # when the oldest lazily posted item must be delivered
        self._thread = threading.Thread(target=self._run, name=f"octohost.printer.callback.{type(callback).__name__}",
                                        daemon=True)
        self._thread.start()

    def post(self, method, *args):
        with self._cond:
            self._items.append((method, args))
            self._urgent = True
            self._cond.notify()

    def post_lazy(self, method, *args):
        with self._cond:
            self._items.append((method, args))
            if self._due is None:  # the first since the last batch tells the worker its deadline
                self._due = time.monotonic() + LAZY_SECONDS
                self._cond.notify()

    def post_current(self, data):
        with self._cond:
            self._current = data
            self._cond.notify()

    def idle(self):
        with self._cond:
            return not self._items and self._current is None and not self._busy

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def join(self, timeout):
        self._thread.join(timeout)

    def _next_batch(self):
        """Everything queued so far (one lock round trip for a burst of lines), or None when stopped.

        Lazily posted items alone wait until their deadline; anything else takes them along at once.
        """
        with self._cond:
            while not self._stopped and not self._urgent and self._current is None:
                if self._items and self._due is not None:
                    wait = self._due - time.monotonic()
                    if wait <= 0:
                        break
                else:
                    wait = None
                self._busy = False
                self._cond.wait(wait)
            if self._stopped:
                return None
            self._busy = True
            self._urgent = False
            self._due = None
            batch = list(self._items)
            self._items.clear()
            if self._current is not None:
                batch.append(("on_printer_send_current_data", (self._current,)))
                self._current = None
            return batch

    def _run(self):
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            for method, args in batch:
                try:
                    getattr(self.callback, method)(*args)
                except Exception:
                    log.exception("printer callback %r raised in %s", self.callback, method)


class CallbackDispatcher:
    """Thread-safe registry of PrinterCallbacks with per-callback delivery threads."""

    def __init__(self, backlog=2000):
        self._backlog = backlog
        self._workers = {}
        self._snapshot = ()  # replaced, never mutated: posting reads it without the lock
        self._lock = threading.Lock()

    def register(self, callback, initial_data=None):
        """Add ``callback``; ``initial_data`` (if given) is the first thing it receives."""
        with self._lock:
            if id(callback) in self._workers:
                return
            worker = _Worker(callback, self._backlog)
            if initial_data is not None:
                worker.post("on_printer_send_initial_data", initial_data)
            self._workers[id(callback)] = worker
            self._snapshot = tuple(self._workers.values())

    def unregister(self, callback):
        with self._lock:
            worker = self._workers.pop(id(callback), None)
            self._snapshot = tuple(self._workers.values())
        if worker is not None:
            worker.stop()

    def post(self, method, *args):
        for worker in self._snapshot:
            worker.post(method, *args)

    def post_lazy(self, method, *args):
        """Like :meth:`post`, for items that may wait up to ``LAZY_SECONDS`` (terminal lines)."""
        for worker in self._snapshot:
            worker.post_lazy(method, *args)

    def post_current(self, data):
        for worker in self._snapshot:
            worker.post_current(data)

    def post_to(self, callback, method, *args):
        with self._lock:
            worker = self._workers.get(id(callback))
        if worker is not None:
            worker.post(method, *args)

    def wait_idle(self, timeout=5.0):
        """Block until every callback has received everything posted (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(worker.idle() for worker in self._snapshot):
                return True
            time.sleep(0.01)
        return False

    def close(self):
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
            self._snapshot = ()
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(2)
