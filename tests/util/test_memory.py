"""trim_heap really gives free heap pages back (glibc only: elsewhere it reports False)."""

import ctypes
import os
import subprocess
import sys
import textwrap

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


def test_freeze_heap_collects_then_keeps_what_lives_out_of_later_collections():
    code = textwrap.dedent("""
        import gc, weakref
        from octohost.util.memory import freeze_heap

        class Node:
            pass

        garbage = Node(); garbage.me = garbage; dead = weakref.ref(garbage); del garbage  # a cycle
        kept = Node()
        freeze_heap()
        assert dead() is None, "the cycle was not collected first"
        assert gc.get_freeze_count() > 1000 and not any(o is kept for o in gc.get_objects())
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
