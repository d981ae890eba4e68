"""Serial first: the daemon's other threads run at a lower OS priority than the serial loops.

Under web load the serial loops lost time waiting for a core (issue #13): each ``ok`` wakes the
receive thread, and while web threads, the push socket and an upload were runnable, the kernel
let it wait its fair turn among them. Linux schedules threads, each with its own nice value,
inherited from the thread that starts it; so the daemon (``octohost serve``) starts one
*launcher* thread at its base priority, then lowers its own priority by ``server.webNice``.
Every thread it starts from then on (Tornado, the API workers, the push socket, the event bus,
MQTT, timelapse) inherits the lower priority, while the comm layer starts its loops with
:func:`start_thread`, which hands the start to the launcher: the loops keep the base priority
whichever thread asked for the connection. (An unprivileged process cannot raise a thread's
priority back, hence the launcher.)

Nice values alone were not enough (78-82% of the unloaded rate under the benchmark's load):
the receive thread still waited 150-250 us for a core at each of its several wake-ups a line.
Where the system allows it (root, or a systemd unit with ``LimitRTPRIO=1``), ``serial.realtime``
also runs the loops under ``SCHED_FIFO`` at the lowest real-time priority, so a wake-up takes the
core at once (96% and a 2 ms p99 turnaround, README). The loops block on the port between lines,
so they take a core only for the moments a line needs; the kernel's real-time throttling (95%
of each second by default) bounds a loop gone wrong. ``SCHED_RESET_ON_FORK`` keeps threads they
start out of the real-time class.

Without :func:`serve_at_lower_priority` (tests, embedding, the CLI's other commands),
:func:`start_thread` starts the thread directly.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

log = logging.getLogger(__name__)

_launcher: _Launcher | None = None
_lock = threading.Lock()


class _Launcher:
    """A thread at the base priority that starts threads for others (they inherit its nice value)."""

    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime
        self._requests: queue.SimpleQueue[tuple[threading.Thread, threading.Event]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="octohost.priority-launcher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            thread, started = self._requests.get()
            try:
                thread.start()
            except Exception:  # (RuntimeError: cannot start new thread) reported to the caller below
                log.exception("could not start thread %s", thread.name)
            finally:
                started.set()

    def start(self, thread: threading.Thread) -> None:
        if self.realtime:
            run = thread.run

            def run_realtime() -> None:  # the thread's first act, before any of its own work
                if self.realtime:
                    self.realtime = _make_realtime(threading.get_native_id())
                run()
            thread.run = run_realtime  # type: ignore[method-assign]
        started = threading.Event()
        self._requests.put((thread, started))
        started.wait()
        if thread.ident is None:
            raise RuntimeError(f"could not start thread {thread.name}")


def _make_realtime(native_id: int) -> bool:
    """``SCHED_FIFO`` priority 1 for the thread; False (logged once) where that is not allowed."""
    try:
        os.sched_setscheduler(native_id, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(1))
    except (OSError, AttributeError) as exc:
        log.info("serial loops stay in the normal scheduling class (real-time not allowed here: %s)", exc)
        return False
    return True


def start_thread(thread: threading.Thread) -> None:
    """Start ``thread`` at the daemon's base priority (see the module's docstring)."""
    launcher = _launcher
    if launcher is None or threading.current_thread() is launcher.thread:
        thread.start()
    else:
        launcher.start(thread)


def thread_nice() -> int:
    """The calling thread's nice value."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def serve_at_lower_priority(increment: int, realtime: bool = False) -> bool:
    """Start the launcher, then lower the calling thread's priority by ``increment`` (0: leave it);
    with ``realtime``, threads started through :func:`start_thread` run under ``SCHED_FIFO`` where
    allowed.

    Call it first thing in the thread that will start everything else. Returns whether the
    priority was lowered (it cannot be on a system without per-thread nice values).
    """
    global _launcher
    if increment <= 0 and not realtime:
        return False
    with _lock:
        if _launcher is None:
            _launcher = _Launcher(realtime)
    if increment <= 0:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, thread_nice() + increment))
    except OSError as exc:
        log.warning("could not lower the web threads' priority (%s); the serial loops share the CPU equally", exc)
        return False
    log.info("web threads run at nice %d, the serial loops at %d", thread_nice(),
             os.getpriority(os.PRIO_PROCESS, _launcher.thread.native_id or 0))
    return True
