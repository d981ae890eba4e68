"""``--keep-awake``'s spinner: on the asked core, at the idle policy, gone with the block."""

import importlib.util
import os
import subprocess
import sys

import pytest

from support.wait import wait_until

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "benchmarks")


def load_awake():
    spec = importlib.util.spec_from_file_location("benchmark_awake", os.path.join(BENCHMARKS, "awake.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_the_spinner_runs_on_the_core_at_the_idle_policy_and_ends_with_the_block():
    awake = load_awake()
    core = max(os.sched_getaffinity(0))
    with awake.kept_awake(core) as spinner:
        assert spinner.poll() is None
        assert os.sched_getaffinity(spinner.pid) == {core}
        assert os.sched_getscheduler(spinner.pid) == os.SCHED_IDLE
    assert spinner.poll() is not None
    assert f"core {core} kept awake" in awake.describe(core)


def test_no_core_starts_nothing():
    awake = load_awake()
    with awake.kept_awake(None) as spinner:
        assert spinner is None
    assert awake.describe(None) == "idle cores may halt"


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_the_spinner_ends_when_its_benchmark_is_killed():
    core = max(os.sched_getaffinity(0))
    parent = subprocess.Popen([sys.executable, "-c", f"""
import importlib.util, signal, sys
spec = importlib.util.spec_from_file_location("awake", {os.path.join(BENCHMARKS, "awake.py")!r})
awake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(awake)
with awake.kept_awake({core}) as spinner:
    print(spinner.pid, flush=True)
    signal.pause()
"""], stdout=subprocess.PIPE, text=True)
    spinner = int(parent.stdout.readline())
    parent.kill()  # no finally runs: the spinner must notice by itself
    parent.wait()
    wait_until(lambda: not os.path.exists(f"/proc/{spinner}") or _state(spinner) == "Z", timeout=30)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
