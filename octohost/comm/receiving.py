"""The receive loop: reads what the port has in chunks and splits it into lines itself.

pyserial's ``readline`` reads byte by byte; reading ``in_waiting`` bytes at once is what makes
the ``ok`` → next line turnaround short. Each complete line goes to ``handle_line``; an empty
read (the port's read timeout passed) calls ``idle``; a failing read calls ``lost``. A read that
is exactly one ``ok`` (most reads while printing) goes to ``handle_ok`` instead, when given: the
same line, without the splitting, decoding and classifying no ``ok`` needs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .fastio import Reader

log = logging.getLogger(__name__)

_OK = b"ok\n"


class Receiver:
    def __init__(self, transport: Any, handle_line: Callable[[str], None], idle: Callable[[], None],
                 lost: Callable[[BaseException], None], handle_ok: Callable[[], None] | None = None) -> None:
        self._reader = Reader(transport, getattr(transport, "timeout", None) or 0.25)
        self._handle_line = handle_line
        self._handle_ok = handle_ok or (lambda: handle_line("ok"))
        self._idle = idle
        self._lost = lost
        self.running = False
        self.thread: threading.Thread | None = None  # set by whoever starts the loop, so stop() can wait for it

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self._reader.close()

    def _loop(self):
        read = self._reader.read
        handle_line = self._handle_line
        handle_ok = self._handle_ok
        pending = b""
        while self.running:
            try:
                data = read()
            except Exception as exc:
                if self.running:
                    self.running = False
                    self._lost(exc)
                return
            if not data:
                self._idle()
                continue
            if data == _OK and not pending:  # most reads while printing: nothing to split or decode
                try:
                    handle_ok()
                except Exception:
                    log.exception("error while handling the received line 'ok'; skipped")
                continue
            if pending:
                data = pending + data
            if b"\n" not in data:
                pending = data
                continue
            lines = data.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                try:
                    handle_line(line)
                except Exception:
                    log.exception("error while handling the received line %r; skipped", line)
                if not self.running:
                    return

    def stop(self, timeout: float = 2.0) -> None:
        """End the loop; waits for it unless called from the loop itself."""
        self.running = False
        thread = self.thread
        if thread is not None and thread is not threading.current_thread() and thread.is_alive():
            self._reader.wake()
            thread.join(timeout)
