"""Fix sockjs-tornado 1.0.7's websocket transports for Tornado 6.

Their ``send_pack`` only catches ``IOError``; Tornado 6 raises ``WebSocketClosedError`` for a
client that vanished (and ``StreamBufferFullError`` once a client stops reading and its write
buffer limit is reached), so one dead client used to abort a broadcast to everyone after it.
The patched ``send_pack`` treats all three as "this client is gone" and consumes the write
future's exception so nothing is left unretrieved. It also counts the characters handed to
Tornado whose write has not completed yet (:func:`unsent`), so the push hub can tell a client
that stopped reading from one that is merely slow.

Handlers that override ``initialize`` without calling the base class (``/sockjs/info``, ...) lack
the ``logged`` flag their ``finish`` reads; a request Tornado refuses before ``prepare`` (a broken
form body) then raised again in the error handler and was never answered. The flag gets a default.

The SockJS-framed websocket also logged a full traceback for every frame that was not JSON (or
nested deeper than the recursion limit): client garbage that anyone could fill the log with. The
patched ``on_message`` closes such a connection as before, logging one debug line.
"""

import logging

from sockjs.tornado import basehandler, proto
from sockjs.tornado.transports import rawwebsocket, websocket
from sockjs.tornado.util import bytes_to_str
from tornado.iostream import StreamBufferFullError, StreamClosedError
from tornado.websocket import WebSocketClosedError

log = logging.getLogger(__name__)

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


def _on_framed_message(self, message):
    if not message or not self.session:
        return  # SockJS ignores empty frames
    try:
        decoded = proto.json_decode(bytes_to_str(message))
    except (ValueError, RecursionError):
        log.debug("push client sent a frame that is not JSON; closing its connection")
        self.abort_connection()
        return
    try:
        self.session.on_messages(decoded if isinstance(decoded, list) else (decoded,))
    except Exception:
        log.exception("push message handler failed; closing the connection")
        self.abort_connection()


def apply():
    for transport in (websocket.WebSocketTransport, rawwebsocket.RawWebSocketTransport):
        if transport.send_pack is not _send_pack:
            transport.send_pack = _send_pack
    websocket.WebSocketTransport.on_message = _on_framed_message
    basehandler.BaseHandler.logged = False


apply()
