"""How far behind a push client is, in bytes, wherever they wait; and cutting a client off.

A client that stops reading first fills the kernel's socket buffers (on Linux the send buffer
grows to megabytes on its own) and only then Tornado's write buffer, so counting either alone
misses most of what waits. :func:`queued_bytes` adds up the frames waiting for a poll (SockJS
polling transports), what Tornado has not written yet, and what the kernel holds unacknowledged.
"""

import fcntl
import socket
import struct
import termios

from . import sockjs_patch

_OUTQ = getattr(termios, "TIOCOUTQ", None)  # on Linux also SIOCOUTQ: unacknowledged bytes of a socket


def queued_bytes(session) -> int:
    """Bytes (characters) sent to a SockJS ``session`` that its client has not taken yet."""
    queued = len(getattr(session, "send_queue", "") or "")
    handler = getattr(session, "handler", None)
    if handler is None:
        return queued
    queued += sockjs_patch.unsent(handler)
    return queued + _kernel_queue(_websocket_stream(handler))


def _websocket_stream(handler):
    return getattr(getattr(handler, "ws_connection", None), "stream", None)


def _kernel_queue(stream):
    if stream is None or _OUTQ is None or stream.closed():
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(stream.fileno(), _OUTQ, b"\0\0\0\0"))[0]
    except (OSError, ValueError):
        return 0


def limit_write_buffer(session, limit: int) -> bool:
    """Cap Tornado's write buffer of a websocket session (a write past it drops the client);
    False while the session has no websocket yet."""
    stream = _websocket_stream(getattr(session, "handler", None))
    if stream is None:
        return False
    stream.max_write_buffer_size = limit
    return True


def cut_off(connection) -> None:
    """Close a SockJS ``connection``. A websocket's TCP connection is reset first: a client that
    does not read would never answer the closing handshake (Tornado waits 5 s for it), and the
    kernel would go on holding what it has not taken."""
    handler = getattr(connection.session, "handler", None)
    stream = _websocket_stream(handler)
    if stream is not None and not stream.closed():
        try:
            stream.fileno().setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (AttributeError, OSError):
            pass
        handler.abort_connection()
    connection.close()
