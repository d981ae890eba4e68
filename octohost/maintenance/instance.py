"""One daemon per base folder, and a way for the command line to tell that one runs.

``octohost serve`` holds an exclusive ``flock`` on ``BASEDIR/octohost.pid`` for its lifetime (the
kernel drops it when the process dies, however it dies), with its process id written inside.
A second ``serve`` on the same base folder stops with a clear message instead of two daemons
writing the same files and fighting over one serial port; ``octohost restore`` refuses to swap
the files of a running daemon.
"""

from __future__ import annotations

import fcntl
import os

PID_FILE = "octohost.pid"


class AlreadyRunning(RuntimeError):
    """Another process holds the base folder's lock."""

    def __init__(self, path: str, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"an octohost daemon ({who}) is already running on this base folder ({path})")


def _read_pid(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


class InstanceLock:
    """The running daemon's claim on a base folder (see the module docstring)."""

    def __init__(self, basedir: str) -> None:
        self.path = os.path.join(basedir, PID_FILE)
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.path, _read_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays, harmless and reused
            self._fd = None


def running_daemon(basedir: str) -> int | None:
    """The process id of the daemon serving ``basedir`` (0 when unknown), or None if none runs."""
    path = os.path.join(basedir, PID_FILE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(path) or 0
        return None
    finally:
        os.close(fd)
