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


def reader(transport, timeout):
    """A ``read()`` returning what arrived within ``timeout`` s (b"" if nothing); raises on disconnect."""
    fd = posix_fd(transport)
    if fd is None:
        def read():
            return transport.read(transport.in_waiting or 1)

        return read

    def read():
        if not select.select((fd,), (), (), timeout)[0]:
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

    return read
