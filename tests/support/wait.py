"""The one way tests wait: poll a condition until it holds or a deadline passes, then fail loudly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How much of the last observed value a timeout message shows.
_REPR_LIMIT = 500


class WaitTimeout(AssertionError):
    """A condition did not hold in time (an AssertionError, so pytest reports a failed check)."""


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.02,
               message: str | Callable[[], object] | None = None,
               ignore: tuple[type[BaseException], ...] = ()) -> T:
    """Call ``predicate`` until it returns something true and return that value.

    On timeout raise :class:`WaitTimeout` naming what was awaited (``message``: text, or a callable
    evaluated only then, for state worth showing) and the last value ``predicate`` returned. An
    exception of a type in ``ignore`` (a server still starting) counts as "not yet" and is shown as
    the last value; any other exception propagates at once. ``interval=0`` suits a predicate that
    blocks by itself (reading a socket with a timeout). The predicate is always called at least
    once, and once more at the deadline, so a slow machine does not fail a condition that holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except ignore as exc:
            value = exc
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            break
        if interval:
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    what = message() if callable(message) else message
    if what is None:
        what = getattr(predicate, "__qualname__", repr(predicate))
    shown = repr(value)
    if len(shown) > _REPR_LIMIT:
        shown = shown[:_REPR_LIMIT] + "..."
    raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}; last value: {shown}")
