"""``octohost serve`` in a process of its own, for tests that need the real daemon (its start-up,
its threads, its files) rather than a server started inside the test process."""

import contextlib
import os
import signal
import subprocess
import sys


@contextlib.contextmanager
def serve_process(basedir, *args):
    """`octohost serve [args]` on ``basedir``, listening on a free port; yields (its URL, the process)."""
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(basedir), "serve",
                                "--host", "127.0.0.1", "--port", "0", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        line = process.stdout.readline()  # blocks until the server listens (or exits: then empty)
        assert "open http://" in line, f"no URL from serve (exit code {process.poll()}): {line!r}"
        yield line.split("open ")[1].split(" ")[0].rstrip("/"), process
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
