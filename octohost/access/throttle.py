"""Back-off after failed password checks, so that guessing a password takes years, not minutes.

Two counters: one per (user name, client address), strict, and one per address, looser (it counts
failures for every name, so spraying names from one address is slowed too). After ``free_tries``
failures in a row the client waits ``first_delay``, and each further failure doubles the wait, up
to ``max_delay``; while a wait lasts, attempts are
refused without looking at the password and do not count. A quiet ``forget_after`` clears a
counter, and a successful login clears its (user, address) counter.

Nobody elsewhere can lock the real user out: the strict counter belongs to the attacker's own
address, the looser one only slows that address, and no wait is longer than ``max_delay``.
"""

import threading
import time
from collections import OrderedDict


class _Counter:
    __slots__ = ("failures", "blocked_until", "last")

    def __init__(self):
        self.failures = 0
        self.blocked_until = 0.0
        self.last = 0.0


class LoginThrottle:
    def __init__(self, free_tries: int = 5, address_free_tries: int = 20, first_delay: float = 1.0,
                 max_delay: float = 300.0, forget_after: float = 3600.0, max_entries: int = 10000,
                 clock=time.monotonic):
        self.free_tries = free_tries
        self.address_free_tries = address_free_tries
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_entries = max_entries
        self._clock = clock
        self._counters = OrderedDict()  # key -> _Counter, least recently failed first
        self._lock = threading.Lock()

    @staticmethod
    def _keys(user, address):
        return ("user", str(user), str(address)), ("address", str(address))

    def _counter(self, key, now, create=False):
        counter = self._counters.get(key)
        if counter is not None and now - counter.last > self.forget_after:
            del self._counters[key]
            counter = None
        if counter is None and create:
            counter = self._counters[key] = _Counter()
            while len(self._counters) > self.max_entries:
                self._counters.popitem(last=False)
        return counter

    def retry_after(self, user, address) -> float:
        """Seconds until ``user`` may try a password again from ``address``; 0 if now."""
        now = self._clock()
        with self._lock:
            waits = [counter.blocked_until - now for counter in
                     (self._counter(key, now) for key in self._keys(user, address)) if counter is not None]
        return max([0.0] + waits)

    def failed(self, user, address):
        """Count a wrong password (or unknown user) and start the wait that follows it."""
        now = self._clock()
        with self._lock:
            for key, free in zip(self._keys(user, address), (self.free_tries, self.address_free_tries), strict=True):
                counter = self._counter(key, now, create=True)
                self._counters.move_to_end(key)
                counter.failures += 1
                counter.last = now
                beyond = counter.failures - free  # the free_tries-th failure in a row starts the first wait
                if beyond >= 0:
                    delay = min(self.first_delay * 2 ** min(beyond, 32), self.max_delay)
                    counter.blocked_until = max(counter.blocked_until, now + delay)

    def __len__(self):
        """How many counters are kept (at most ``max_entries``)."""
        with self._lock:
            return len(self._counters)

    def succeeded(self, user, address):
        with self._lock:
            self._counters.pop(self._keys(user, address)[0], None)
