"""trim_heap really gives free heap pages back (glibc only: elsewhere it reports False)."""

import ctypes
import sys

import pytest

from octohost.util.memory import trim_heap


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_free_holes_in_the_heap_go_back_to_the_kernel():
    if not trim_heap():
        pytest.skip("this C library has no malloc_trim")
    malloc, free = ctypes.CDLL(None).malloc, ctypes.CDLL(None).free
    malloc.restype, malloc.argtypes, free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
    holes, pins = [], []
    for _ in range(2000):  # 16 KiB blocks (below the mmap threshold) pinned apart by small ones
        block = malloc(16384)
        ctypes.memset(block, 1, 16384)
        holes.append(block)
        pins.append(malloc(64))
    for block in holes:
        free(block)  # free, but not at the top of the heap: malloc keeps the pages
    before = rss_mib()
    assert trim_heap()
    after = rss_mib()
    for pin in pins:
        free(pin)
    assert before - after > 20, f"RSS {before:.1f} -> {after:.1f} MiB"
