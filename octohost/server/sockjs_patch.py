"""Fix sockjs-tornado 1.0.7's websocket transports for Tornado 6.

Their ``send_pack`` only catches ``IOError``; Tornado 6 raises ``WebSocketClosedError`` for a
client that vanished (and ``StreamBufferFullError`` once a client stops reading and its write
buffer limit is reached), so one dead client used to abort a broadcast to everyone after it.
The patched ``send_pack`` treats all three as "this client is gone" and consumes the write
future's exception so nothing is left unretrieved. It also counts the characters handed to
Tornado whose write has not completed yet (:func:`unsent`), so the push hub can tell a client
that stopped reading from one that is merely slow.
"""

from sockjs.tornado.transports import rawwebsocket, websocket
from tornado.iostream import StreamBufferFullError, StreamClosedError
from tornado.websocket import WebSocketClosedError

_GONE = (IOError, WebSocketClosedError, StreamClosedError, StreamBufferFullError)


def unsent(handler) -> int:
    """Characters sent to ``handler`` (a websocket transport) that still wait in Tornado's buffer."""
    return getattr(handler, "_octohost_unsent", 0)


def _send_pack(self, message, binary=False):
    try:
        future = self.write_message(message, binary)
    except _GONE as exc:
        if isinstance(exc, StreamBufferFullError):
            self.abort_connection()
        self.server.io_loop.add_callback(self.on_close)
        return
    size = len(message)
    self._octohost_unsent = unsent(self) + size

    def written(future):
        self._octohost_unsent -= size
        if not future.cancelled():
            future.exception()

    future.add_done_callback(written)


def apply():
    for transport in (websocket.WebSocketTransport, rawwebsocket.RawWebSocketTransport):
        if transport.send_pack is not _send_pack:
            transport.send_pack = _send_pack


apply()
