"""Giving free heap pages back to the kernel, and keeping start-up's objects out of the garbage collector.

CPython hands freed memory back to glibc's malloc, which keeps the pages for reuse: after
start-up (imports, compiling, the first requests) and after a print a few MiB of the daemon's
RSS are free heap. ``malloc_trim`` returns them. On a C library without it this does nothing.
"""

import ctypes
import functools
import gc


def trim_heap():
    """Return the heap's free pages to the kernel; True if the C library could do it."""
    malloc_trim = _malloc_trim()
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True


def freeze_heap():
    """Collect once, then move every object alive into the collector's permanent generation.

    A full collection walks every tracked object while holding the interpreter lock, and the
    daemon's start-up leaves hundreds of thousands (modules, routes, settings, plugins) that live
    as long as it does: under web load each full collection stalled the serial loops for up to
    46-49 ms (``benchmarks/web_load.py``, largest ok -> next line turnaround at 115200 baud; 8-10
    ms once frozen). Frozen objects are still freed by reference counting; only cycles among them
    are never collected, which objects that live for good do not form anew. Called once, before
    the daemon serves: the collection it starts with holds every thread up while it runs (20
    daemons of ``benchmarks/farm.py`` doing it together mid-run delayed their telemetry by seconds).
    """
    gc.collect()
    gc.freeze()


@functools.cache
def _malloc_trim():
    try:
        function = ctypes.CDLL(None).malloc_trim  # the process's own symbols include the C library's
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function
