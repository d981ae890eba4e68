"""``--keep-awake``: keep the host's core out of its idle state while a benchmark runs.

Why: the development machine is a KVM guest without a cpuidle driver. A core with nothing to run
executes ``HLT``, which leaves the guest; the next wake-up then waits for the hypervisor to run the
virtual CPU again. A serial host sleeps between every ``ok`` and the next line, so it pays that trip
once or twice a line, and the thread's CPU time grows with it (2026-12-06, ``octohost serve``
printing at 250000 baud: its receive thread used 0.128-0.185 ms a line with the core halting
between lines, 0.120-0.125 ms with the core kept awake). How much a wake-up costs is the machine's,
not the host's: a Raspberry Pi's core leaves ``WFI`` in microseconds, a desktop's deep C-states
take longer, a virtual machine's halt takes longest, and on this one it also changes with the
state of the machine underneath.

How: a process spinning under ``SCHED_IDLE`` on the core. It gets only the time no other task
wants (any task of another policy that wakes preempts it at once), so the core never halts and the
host under test wakes on a running core. It runs outside any CPU-quota cgroup, so it takes nothing
from a quota either. Figures taken with it bound what a CPU with free wake-ups would show; figures
without it are this machine's. Each benchmark prints which one it ran.

Where: ``pi_class.py``, whose host has a core of its own. Not ``streaming.py``, whose host and
simulator share one core: there is little idle time to remove there, and the spinner slowed the
bare loop more than octohost, which would flatter octohost's ratios.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

_SPINNER = """
import os, sys
parent = os.getppid()
os.sched_setaffinity(0, {int(sys.argv[1])})
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
print("spinning", flush=True)
while os.getppid() == parent:  # a benchmark killed before it could stop the spinner leaves none behind
    for _ in range(1_000_000):
        pass
"""


@contextlib.contextmanager
def kept_awake(core: int | None) -> Iterator[subprocess.Popen | None]:
    """Spin on ``core`` under ``SCHED_IDLE`` while the block runs (None: do nothing).

    Yields the spinner's process once it runs on the core at its idle policy.
    """
    if core is None:
        yield None
        return
    spinner = subprocess.Popen([sys.executable, "-c", _SPINNER, str(core)], stdout=subprocess.PIPE, text=True)
    try:
        assert spinner.stdout is not None
        if spinner.stdout.readline().strip() != "spinning":
            raise SystemExit(f"--keep-awake: the spinner on core {core} did not start (exit {spinner.wait()})")
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def describe(core: int | None) -> str:
    """What a benchmark's header says about it."""
    if core is None:
        return "idle cores may halt"
    return f"core {core} kept awake by a SCHED_IDLE spinner (--keep-awake, benchmarks/awake.py)"
