"""The receive loop: reads what the port has in chunks and splits it into lines itself.

pyserial's ``readline`` reads byte by byte; reading ``in_waiting`` bytes at once is what makes
the ``ok`` → next line turnaround short. Each complete line goes to ``handle_line``; an empty
read (the port's read timeout passed) calls ``idle``; a failing read calls ``lost``.
"""

import logging

from .fastio import reader

log = logging.getLogger(__name__)


class Receiver:
    def __init__(self, transport, handle_line, idle, lost):
        self._transport = transport
        self._handle_line = handle_line
        self._idle = idle
        self._lost = lost
        self.running = False

    def run(self):
        read = reader(self._transport, getattr(self._transport, "timeout", None) or 0.25)
        handle_line = self._handle_line
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
            if pending:
                data = pending + data
            if b"\n" not in data:
                pending = data
                continue
            lines = data.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                try:
                    handle_line(raw.decode("utf-8", "replace").strip())
                except Exception:
                    log.exception("error while handling the received line %r; skipped", raw)
                if not self.running:
                    return

    def stop(self):
        self.running = False
