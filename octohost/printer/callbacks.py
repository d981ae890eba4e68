"""Fan-out from the printer to its PrinterCallbacks without ever blocking the caller.

Every registered callback gets its own worker thread and its own bounded queue, so a slow
callback (a stalled websocket, a sluggish plugin) only delays itself: the others, and the comm
threads that post, never wait for it. Log lines, messages and temperatures queue in order (a
callback that falls more than ``backlog`` items behind loses the oldest); current-data updates
are coalesced into one slot per callback, so a slow receiver gets the newest state, not a
backlog of stale ones.
"""

import collections
import logging
import threading
import time

log = logging.getLogger(__name__)


class _Worker:
    def __init__(self, callback, backlog):
        self.callback = callback
        self._items = collections.deque(maxlen=backlog)
        self._current = None
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name=f"octohost.printer.callback.{type(callback).__name__}",
                                        daemon=True)
        self._thread.start()

    def post(self, method, *args):
        with self._cond:
            self._items.append((method, args))
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
        """Everything queued so far (one lock round trip for a burst of lines), or None when stopped."""
        with self._cond:
            while not self._stopped and not self._items and self._current is None:
                self._busy = False
                self._cond.wait()
            if self._stopped:
                return None
            self._busy = True
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
