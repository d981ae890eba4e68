"""Fix sockjs-tornado 1.0.7's websocket transports for Tornado 6.

Their ``send_pack`` only catches ``IOError``; Tornado 6 raises ``WebSocketClosedError`` for a
client that vanished (and ``StreamBufferFullError`` once a client stops reading and its write
buffer limit is reached), so one dead client used to abort a broadcast to everyone after it.
The patched ``send_pack`` treats all three as "this client is gone" and consumes the write
future's exception so nothing is left unretrieved.
"""

from sockjs.tornado.transports import rawwebsocket, websocket
from tornado.iostream import StreamBufferFullError, StreamClosedError
from tornado.websocket import WebSocketClosedError

_GONE = (IOError, WebSocketClosedError, StreamClosedError, StreamBufferFullError)


def _consume(future):
    if not future.cancelled():
        future.exception()


def _send_pack(self, message, binary=False):
    try:
        future = self.write_message(message, binary)
    except _GONE as exc:
        if isinstance(exc, StreamBufferFullError):
            self.abort_connection()
        self.server.io_loop.add_callback(self.on_close)
        return
    future.add_done_callback(_consume)


def apply():
    for transport in (websocket.WebSocketTransport, rawwebsocket.RawWebSocketTransport):
        if transport.send_pack is not _send_pack:
            transport.send_pack = _send_pack


apply()
