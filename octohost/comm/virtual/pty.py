"""The virtual printer behind a pseudo-terminal, so any host program can open it like a USB port.

The firmware sits on the master side; ``path`` names the slave (``/dev/pts/N``), which opens with
pyserial or any terminal program. We keep a slave descriptor open ourselves, in raw mode, so the
line discipline never echoes the firmware's output back into its own input and the path stays
valid while hosts come and go. A "disconnect" fault closes the master: hosts see the port vanish
exactly as with an unplugged cable.

``link``: a symlink kept pointing at the pty while it serves (replaced atomically, removed when the
pty goes away), so a host keeps one port name across restarts of the virtual printer, as
``/dev/serial/by-id/...`` names stay when a board is re-plugged.
"""

import os
import select
import threading
import tty

from .printer import VirtualPrinter

#: output kept for a host that does not read; beyond it the oldest bytes go, as a UART overruns
MAX_BACKLOG = 1024 * 1024


class PtyVirtualPrinter:
    """A running pty server: ``path`` for hosts, ``printer`` for tests, ``close()`` to stop."""

    def __init__(self, options=None, link=None):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.link = link
        self.hung_up = threading.Event()
        self._backlog = bytearray()
        self._backlog_cond = threading.Condition()
        self._wake_read, self._wake_write = os.pipe()
        self._closing = False
        self._hung_up = False
        self._pty_open = True
        self.printer = VirtualPrinter(options)
        self.printer.port = self.path
        self.printer.redirect_output(self._send, on_disconnect=self._hang_up)
        self._threads = [
            threading.Thread(target=self._receive_loop, name="virtual-pty-receive", daemon=True),
            threading.Thread(target=self._send_loop, name="virtual-pty-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if link is not None:
            _replace_link(link, self.path)

    def _send(self, data):
        """Called by the firmware with its output lock held: write now if the pty takes it, else queue."""
        with self._backlog_cond:
            if self._hung_up:
                return
            if not self._backlog:
                try:
                    written = os.write(self._master, data)
                except BlockingIOError:
                    written = 0
                except OSError:
                    return
                data = data[written:]
            if data:
                self._backlog += data
                if len(self._backlog) > MAX_BACKLOG:
                    del self._backlog[:len(self._backlog) - MAX_BACKLOG]
                self._backlog_cond.notify()

    def _send_loop(self):
        """Drains what the pty did not take at once (a host that reads slowly)."""
        while True:
            with self._backlog_cond:
                while not self._backlog and not self._closing and not self._hung_up:
                    self._backlog_cond.wait()
                if self._closing or self._hung_up:
                    return
                try:
                    written = os.write(self._master, self._backlog)
                    del self._backlog[:written]
                    continue
                except BlockingIOError:
                    pass
                except OSError:
                    return
            select.select([self._wake_read], [], [], 0.005)

    def _receive_loop(self):
        """Feeds the host's bytes to the firmware; the only thread that waits on the master, so it closes it."""
        while not (self._closing or self._hung_up):
            select.select([self._master, self._wake_read], [], [])
            if self._closing or self._hung_up:
                break
            try:
                data = os.read(self._master, 65536)
            except BlockingIOError:
                continue
            except OSError:
                break
            if data:
                try:
                    self.printer.write(data)
                except Exception:
                    break
        if self._hung_up:
            self._close_pty()

    def _hang_up(self):
        """The firmware's disconnect fault: the master goes away and the host's port with it."""
        with self._backlog_cond:
            self._hung_up = True
            self._backlog.clear()
            self._backlog_cond.notify_all()
        os.write(self._wake_write, b"x")

    def _close_pty(self):
        with self._backlog_cond:
            self._hung_up = True
            if self._pty_open:
                self._pty_open = False
                self._remove_link()
                os.close(self._master)
                os.close(self._slave)
        self.hung_up.set()

    def _remove_link(self):
        """Remove ``link`` if it still points at this pty (a newer server may own it already)."""
        if self.link is None:
            return
        try:
            if os.readlink(self.link) == self.path:
                os.unlink(self.link)
        except OSError:
            pass

    def close(self):
        """Stop serving: the threads end, the printer closes, the pty goes away."""
        if self._closing:
            return
        self._closing = True
        with self._backlog_cond:
            self._backlog_cond.notify_all()
        os.write(self._wake_write, b"x")
        for thread in self._threads:
            thread.join()
        self.printer.close()
        self._close_pty()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _replace_link(link, target):
    temporary = f"{link}.{os.getpid()}.tmp"
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass
    os.symlink(target, temporary)
    os.replace(temporary, link)


def serve_pty(options=None, link=None):
    """Open a pty pair and run a virtual printer on its master side; hosts open ``.path`` (or ``link``)."""
    return PtyVirtualPrinter(options, link=link)
