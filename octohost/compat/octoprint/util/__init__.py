"""``octoprint.util``: the helpers published plugins import (timers, text, dict merging)."""

import copy
import threading
import time

from octohost.util.merge import deep_merge, merge_into

monotonic_time = time.monotonic


def to_unicode(s_or_u, encoding="utf-8", errors="strict"):
    if isinstance(s_or_u, (bytes, bytearray)):
        return bytes(s_or_u).decode(encoding, errors=errors)
    return s_or_u


def to_bytes(s_or_u, encoding="utf-8", errors="strict"):
    if isinstance(s_or_u, str):
        return s_or_u.encode(encoding, errors=errors)
    return s_or_u


to_str = to_bytes


def dict_merge(a, b, leaf_merger=None, in_place=False):
    """``b`` merged onto (a copy of) ``a``, recursively for dicts (OctoPrint's semantics; octohost's
    deep merge unless a ``leaf_merger`` decides what two leaves make)."""
    if not isinstance(b, dict):
        return b
    if not isinstance(a, dict):
        return copy.deepcopy(b)
    if leaf_merger is None:
        return merge_into(a, b) if in_place else deep_merge(a, b)
    result = a if in_place else copy.deepcopy(a)
    for key, value in b.items():
        if key in result and isinstance(result[key], dict) and isinstance(value, dict):
            result[key] = dict_merge(result[key], value, leaf_merger=leaf_merger, in_place=True)
        elif key in result:
            result[key] = leaf_merger(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def get_formatted_timedelta(d):
    if d is None:
        return None
    hours = d.days * 24 + d.seconds // 3600
    minutes = (d.seconds % 3600) // 60
    seconds = d.seconds % 60
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


class RepeatedTimer(threading.Thread):
    """Call ``function`` every ``interval`` seconds (a number or a callable) until cancelled,
    ``condition()`` turns false or ``run_first`` ... as OctoPrint's RepeatedTimer."""

    def __init__(self, interval, function, args=None, kwargs=None, run_first=False, condition=None,
                 on_condition_false=None, on_cancelled=None, on_finish=None, daemon=True):
        super().__init__(daemon=daemon)
        self.interval = interval if callable(interval) else (lambda: interval)
        self.function = function
        self.finished = threading.Event()
        self.args = args or []
        self.kwargs = kwargs or {}
        self.run_first = run_first
        self.condition = condition or (lambda: True)
        self.on_condition_false = on_condition_false
        self.on_cancelled = on_cancelled
        self.on_finish = on_finish

    def cancel(self):
        self._finish(self.on_cancelled)

    def _finish(self, callback):
        self.finished.set()
        if callback is not None:
            callback()
        if self.on_finish is not None:
            self.on_finish()

    def run(self):
        while self.condition():
            if self.run_first:
                self.function(*self.args, **self.kwargs)
                if not self.condition():
                    break
            self.finished.wait(self.interval())
            if self.finished.is_set():
                return
            if not self.run_first:
                self.function(*self.args, **self.kwargs)
        self._finish(self.on_condition_false)


class ResettableTimer(threading.Thread):
    """Call ``function`` once after ``interval`` seconds; :meth:`reset` starts the wait again."""

    def __init__(self, interval, function, args=None, kwargs=None, on_reset=None, on_cancelled=None,
                 daemon=True):
        super().__init__(daemon=daemon)
        self._event = threading.Event()
        self._mutex = threading.Lock()
        self.is_reset = True
        self.interval = interval
        self.function = function
        self.args = args or []
        self.kwargs = kwargs or {}
        self.on_cancelled = on_cancelled
        self.on_reset = on_reset

    def run(self):
        while self.is_reset:
            with self._mutex:
                self.is_reset = False
            self._event.wait(self.interval)
        if not self._event.is_set():
            self.function(*self.args, **self.kwargs)
        with self._mutex:
            self._event.set()

    def cancel(self):
        with self._mutex:
            self._event.set()
        if self.on_cancelled is not None:
            self.on_cancelled()

    def reset(self, interval=None):
        with self._mutex:
            if interval:
                self.interval = interval
            self.is_reset = True
            self._event.set()
            self._event.clear()
        if self.on_reset is not None:
            self.on_reset()
