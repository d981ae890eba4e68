"""A file that several processes read and write: one writer at a time, and no lost update.

The daemon keeps ``users.yaml`` and ``config.yaml`` in memory while the ``octohost`` command line
changes the same files from another process. Each writer therefore

1. takes an exclusive ``flock`` on a sidecar ``<file>.lock`` (the file itself is replaced by every
   atomic write, so a lock on it would guard an inode nobody opens again), and a thread lock;
2. reloads the file if it changed since this process last read or wrote it;
3. applies its change to what it just read and writes it atomically.

Readers call :meth:`SharedFile.changed` (one ``stat``) before answering from memory when freshness
matters, such as an API key the daemon does not know yet.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

Stamp = tuple[int, int, int] | None


class SharedFile:
    """Lock and change detection for one path; the owner keeps the parsed content."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.lock_path = self.path + ".lock"
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._seen: Stamp = None

    def stamp(self) -> Stamp:
        """Inode, size and modification time; None when the file does not exist."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def remember(self, stamp: Stamp) -> None:
        """Record the file as this process now knows it: the :meth:`stamp` taken before reading
        it (so a write racing the read still counts as a change), or right after writing it
        under :meth:`locked`."""
        self._seen = stamp

    def changed(self) -> bool:
        """Whether another writer replaced or changed the file since :meth:`remember`."""
        return self.stamp() != self._seen

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process write lock (re-entrant within this process)."""
        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            os.makedirs(os.path.dirname(os.path.abspath(self.lock_path)), exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
            finally:
                os.close(fd)  # closing releases the flock
