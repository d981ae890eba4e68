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
    """``read()`` returns what arrived within about ``timeout`` s (b"" if nothing) and raises on disconnect.

    On a pyserial POSIX port it sleeps in one blocking ``os.read`` bounded by the terminal's own
    read timer (``VMIN`` 0, ``VTIME`` in tenths of a second) instead of ``select`` and then
    ``read``: one system call per answer instead of two, and no wait queues to set up and tear
    down (select + read cost about 3 µs more CPU per answer than read alone on the development
    machine). A tty read blocked in another thread cannot be interrupted, so ``wake()`` does
    nothing there: a closing connection's receive thread returns when the timer runs out (at most
    ``timeout``, rounded to 0.1 s, at least 0.1 s), and ``Receiver.stop`` waits for it before the
    descriptor is closed. Other transports keep their own ``read`` (and ``cancel_read`` for ``wake``).
    """

    def __init__(self, transport, timeout):
        self._transport = transport
        self._fd = posix_fd(transport)
        if self._fd is not None:
            self.timeout = max(1, min(255, round(timeout * 10))) / 10
            _timed_blocking_reads(self._fd, self.timeout)
            self.read = self._read_fd
        else:
            self.timeout = timeout
            self.read = self._read_transport

    def _read_transport(self):
        transport = self._transport
        return transport.read(transport.in_waiting or 1)

    def _read_fd(self):
        fd = self._fd
        data = os.read(fd, 65536)  # EINTR is retried by Python; other errors end the loop
        if data:
            return data
        # nothing within the timer, or end of file: a hung-up device reads b"" at once and is readable
        if select.select((fd,), (), (), 0)[0] and not os.read(fd, 65536):
            raise Disconnected(errno.EIO, "the device reports data but returns none: it was disconnected")
        return b""

    def wake(self):
        if self._fd is None:
            cancel = getattr(self._transport, "cancel_read", None)
            if callable(cancel):
                try:
                    cancel()
                except Exception:
                    pass

    def close(self):
        """Nothing to release: the descriptor belongs to the transport."""


def _timed_blocking_reads(fd, timeout):
    """Make ``os.read(fd)`` wait for the first byte at most ``timeout`` s (0.1 s steps) and never fail with EAGAIN.

    pyserial opens ports non-blocking and leaves ``VMIN`` 1, ``VTIME`` 0; writes on a blocking
    descriptor wait for room as pyserial's own ``write`` does.
    """
    import termios  # POSIX only, like the descriptor itself

    attributes = termios.tcgetattr(fd)
    attributes[6][termios.VMIN] = 0
    attributes[6][termios.VTIME] = round(timeout * 10)
    termios.tcsetattr(fd, termios.TCSANOW, attributes)
    os.set_blocking(fd, True)
