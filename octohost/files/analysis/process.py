"""The default G-code analysis queue: analyses run in a child process at idle CPU priority.

A separate process keeps the parser off the interpreter lock the serial threads need, and lets
the kernel schedule it only when a core is otherwise idle (``SCHED_IDLE``, falling back to
``nice 19``). The child lives as long as the queue and takes one JSON request per line on stdin;
aborting an analysis kills it, and the next request starts a fresh one.
"""

import json
import os
import subprocess
import sys
import threading

import octohost

from .queue import AbstractAnalysisQueue, AnalysisAborted, AnalysisOutcome

DEFAULT_ACCELERATION = 1500.0
DEFAULT_FILAMENT_DIAMETER = 1.75


class AnalysisWorker:
    """Client side of the worker process (:mod:`octohost.files.analysis.worker`)."""

    def __init__(self):
        self._process = None
        self._lock = threading.Lock()

    def _spawn(self):
        env = dict(os.environ)
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(octohost.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        return subprocess.Popen([sys.executable, "-m", "octohost.files.analysis.worker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)

    def analyse(self, request):
        """Send one request, wait for its answer; raises AnalysisAborted if the process was killed."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._spawn()
            process = self._process
        try:
            process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            process.stdin.flush()
            line = process.stdout.readline()
        except (BrokenPipeError, ValueError, OSError):
            raise AnalysisAborted() from None
        if not line:
            raise AnalysisAborted()
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def abort(self):
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            _close_pipes(process)

    def close(self, timeout=5.0):
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
            process.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        _close_pipes(process)


def _close_pipes(process):
    for pipe in (process.stdin, process.stdout):
        try:
            pipe.close()
        except (OSError, ValueError):
            pass


class GcodeAnalysisQueue(AbstractAnalysisQueue):
    def __init__(self, finished_callback, acceleration=DEFAULT_ACCELERATION,
                 filament_diameter=DEFAULT_FILAMENT_DIAMETER):
        super().__init__(finished_callback)
        self.acceleration = acceleration
        self.filament_diameter = filament_diameter
        self._worker = AnalysisWorker()

    def _do_analysis(self, entry, high_priority=False):
        result = self._worker.analyse({
            "path": entry.absolute_path,
            "acceleration": self.acceleration,
            "filamentDiameter": self.filament_diameter,
        })
        return AnalysisOutcome(result["analysis"], slicer=result.get("slicer"),
                               thumbnails=result.get("thumbnails", ()), hash=result.get("hash"),
                               stamp=result.get("stamp"))

    def _do_abort(self):
        self._worker.abort()

    def _do_shutdown(self):
        self._worker.close()
