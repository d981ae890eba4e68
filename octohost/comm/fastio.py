"""Direct file descriptor I/O for pyserial's POSIX ports: the hot path without pyserial's overhead.

pyserial's ``write`` follows every ``os.write`` with a ``select`` and builds timeout objects per
call; its ``read`` loops over ``select`` as well. For a device or pty opened by pyserial we read
and write the descriptor ourselves and fall back to pyserial only when the kernel buffer is full.
Any other transport (plugins, sockets, the in-process virtual printer) keeps its own methods.
"""

import errno
import os
import select

try:
    from serial.serialposix import Serial as PosixSerial
except ImportError:  # not on POSIX
    PosixSerial = None


class Disconnected(OSError):
    """The device went away (end of file on the descriptor)."""


def posix_fd(transport):
    """The descriptor of an open pyserial POSIX port, or None for anything else."""
    if PosixSerial is None or type(transport) is not PosixSerial:
        return None
    fd = getattr(transport, "fd", None)
    return fd if transport.is_open and isinstance(fd, int) else None


def writer(transport):
    """A ``write(data)`` for ``transport``: ``os.write`` first, pyserial for what did not fit."""
    fd = posix_fd(transport)
    if fd is None:
        return transport.write
    fallback = transport.write

    def write(data):
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            written = 0
        if written < len(data):
            fallback(data[written:])

    return write


class Reader:
    """``read()`` returns what arrived within ``timeout`` s (b"" if nothing) and raises on disconnect.

    ``wake()`` makes a waiting ``read`` return at once, so a closing connection can stop its
    receive thread before the descriptor is closed (and perhaps reused by another port).
    """

    def __init__(self, transport, timeout):
        self._transport = transport
        self._timeout = timeout
        self._fd = posix_fd(transport)
        self._wake_r = self._wake_w = None
        if self._fd is not None:
            self._wake_r, self._wake_w = os.pipe()
            self.read = self._read_fd
        else:
            self.read = self._read_transport

    def _read_transport(self):
        transport = self._transport
        return transport.read(transport.in_waiting or 1)

    def _read_fd(self):
        fd = self._fd
        ready = select.select((fd, self._wake_r), (), (), self._timeout)[0]
        if not ready or self._wake_r in ready:
            return b""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EINTR:
                return b""
            raise
        if not data:
            raise Disconnected(errno.EIO, "the device reports data but returns none: it was disconnected")
        return data

    def wake(self):
        wake_w = self._wake_w
        if wake_w is not None:
            try:
                os.write(wake_w, b"x")
            except OSError:
                pass  # the loop ended and closed the pipe meanwhile: nothing left to wake
        else:
            cancel = getattr(self._transport, "cancel_read", None)
            if callable(cancel):
                try:
                    cancel()
                except Exception:
                    pass

    def close(self):
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                os.close(fd)
        self._wake_r = self._wake_w = None
