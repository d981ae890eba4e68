"""The 2 Hz state monitor behind ``on_printer_send_current_data``.

The comm layer never reports progress per line; this thread samples the printer's state at most
every ``interval`` seconds and publishes only when the data changed or someone asked
(:meth:`CurrentDataSampler.trigger`, e.g. on a state change). A trigger wakes the thread early
but never shortens the gap since the last publication, so the rate limit always holds. While
``active()`` says nothing runs (no job), the thread sleeps until a trigger: an idle printer
costs no periodic work.
"""

import logging
import threading
import time

log = logging.getLogger(__name__)


class CurrentDataSampler:
    def __init__(self, collect, publish, interval=0.5, tick=None, active=None):
        self._collect = collect
        self._publish = publish
        self._tick = tick
        self._active = active
        self.interval = interval
        self._cond = threading.Condition()
        self._triggered = False
        self._stopped = False
        self._last_data = None
        self._last_publish = 0.0
        self._thread = threading.Thread(target=self._run, name="octohost.printer.sampler", daemon=True)

    def start(self):
        self._thread.start()

    def trigger(self):
        """Publish soon, even if the data looks unchanged."""
        with self._cond:
            self._triggered = True
            self._cond.notify()

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(5)

    def _wait(self, seconds):
        """Sleep up to ``seconds``; False if stopped meanwhile."""
        with self._cond:
            if seconds > 0 and not self._stopped:
                self._cond.wait(seconds)
            return not self._stopped

    def _run(self):
        while True:
            with self._cond:
                if not self._triggered and not self._stopped:
                    idle = self._active is not None and not self._active()
                    self._cond.wait(None if idle else self.interval)
                if self._stopped:
                    return
            gap = self._last_publish + self.interval - time.monotonic()
            while gap > 0:
                if not self._wait(gap):
                    return
                gap = self._last_publish + self.interval - time.monotonic()
            try:
                self._step()
            except Exception:
                log.exception("state monitor step failed")

    def _step(self):
        if self._tick is not None:
            self._tick()
        with self._cond:
            forced, self._triggered = self._triggered, False
        data = self._collect()
        if forced or data != self._last_data:
            self._last_data = data
            self._last_publish = time.monotonic()
            self._publish(data)
