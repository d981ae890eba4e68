"""Giving free heap pages back to the kernel.

CPython hands freed memory back to glibc's malloc, which keeps the pages for reuse: after
start-up (imports, compiling, the first requests) and after a print a few MiB of the daemon's
RSS are free heap. ``malloc_trim`` returns them. On a C library without it this does nothing.
"""

import ctypes
import functools


def trim_heap():
    """Return the heap's free pages to the kernel; True if the C library could do it."""
    malloc_trim = _malloc_trim()
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True


@functools.cache
def _malloc_trim():
    try:
        function = ctypes.CDLL(None).malloc_trim  # the process's own symbols include the C library's
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function
