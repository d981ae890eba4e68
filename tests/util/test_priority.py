"""The serial loops keep the daemon's base priority (and run real-time where allowed) while every
other thread runs at a lower one; each case runs in a process of its own, since lowering a
thread's priority cannot be undone without privileges."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from support import wait_until
from support.serve import serve_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")

PROBE = textwrap.dedent("""
    import json, os, sys, threading
    from octohost.util import priority

    def describe():
        tid = threading.get_native_id()
        return {"nice": os.getpriority(os.PRIO_PROCESS, tid),
                "fifo": os.sched_getscheduler(tid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_FIFO}

    seen = {"base": describe()}

    def probe(name, with_child=False):
        def run():
            seen[name] = describe()
            if with_child:  # a thread the loop starts
                child = threading.Thread(target=probe("child"))
                child.start()
                child.join()
        return run

    configured = json.loads(sys.argv[1])
    if configured is not None:
        priority.serve_at_lower_priority(*configured)
    seen["main"] = describe()
    loop = threading.Thread(target=probe("loop", with_child=True))
    priority.start_thread(loop)
    loop.join()
    plain = threading.Thread(target=probe("plain"))
    plain.start()
    plain.join()
    print(json.dumps(seen))
""")


def probe(configured):
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(configured)], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def realtime_allowed():
    """Whether this system lets us run SCHED_FIFO (root without CAP_SYS_NICE in a container, or in
    a cgroup without a real-time budget, is refused): tried in a process of its own."""
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode == 0


def test_loops_keep_the_base_priority_while_everything_else_is_lowered():
    seen = probe([5, False])
    base = seen["base"]["nice"]
    assert seen["main"]["nice"] == min(19, base + 5)
    assert seen["plain"]["nice"] == min(19, base + 5)  # inherited from the thread that started it
    assert seen["loop"]["nice"] == base  # started by the launcher
    assert not seen["loop"]["fifo"]


@pytest.mark.skipif(not realtime_allowed(), reason="real-time scheduling is not allowed here")
def test_loops_run_real_time_and_threads_they_start_do_not():
    seen = probe([5, True])
    assert seen["loop"]["fifo"]
    assert not seen["child"]["fifo"]  # SCHED_RESET_ON_FORK
    assert not seen["plain"]["fifo"] and not seen["main"]["fifo"]


def test_without_the_launcher_threads_start_as_always():
    seen = probe(None)
    assert seen["main"] == seen["loop"] == seen["plain"] == seen["base"]
    assert seen["child"] == seen["base"]


def test_nothing_lowered_at_zero():
    seen = probe([0, False])
    assert seen["main"] == seen["loop"] == seen["plain"] == seen["base"]


def thread_priorities(pid):
    """(nice, real-time) of each of the process's threads."""
    result = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            result.append((os.getpriority(os.PRIO_PROCESS, int(tid)),
                           os.sched_getscheduler(int(tid)) & ~os.SCHED_RESET_ON_FORK == os.SCHED_FIFO))
        except (ProcessLookupError, OSError):
            pass  # the thread ended
    return result


@pytest.mark.e2e
def test_the_daemons_serial_loops_run_above_its_web_threads(tmp_path):
    """``octohost serve --virtual``: the receive and send loops at the base priority, everything
    else at ``server.webNice`` (5) lower."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    realtime = 2 if realtime_allowed() else 0
    with serve_process(tmp_path / "base", "--virtual") as (_, process):
        # the launcher and the two loops once connected; the rest (Tornado, workers, bus, virtual printer)
        # lowered. A loop is at the base priority from its start but switches to real time as its first
        # act, so the wait covers both.
        priorities = wait_until(lambda: (p := thread_priorities(process.pid))
                                and sum(nice == base for nice, _ in p) == 3
                                and sum(fifo for _, fifo in p) == realtime and p,
                                message="the serial loops at the base priority")
        lowered = [nice for nice, _ in priorities if nice != base]
        assert len(lowered) >= 5 and set(lowered) == {min(19, base + 5)}
        assert sum(fifo for _, fifo in priorities) == realtime
