"""The sockjs-tornado patch (octohost/server/sockjs_patch.py) is written against 1.0.7's internals.

setup.py pins that version. These tests fail when the installed copy differs from the one the
patch was written for: then read the new transports, check ``_send_pack`` still fits (it replaces
``send_pack`` and calls ``write_message``, ``abort_connection``, ``server.io_loop`` and
``on_close``), and update the pin and the fingerprints below together.
"""

import hashlib
import inspect
from importlib.metadata import version

from sockjs.tornado.transports import rawwebsocket, websocket
from sockjs.tornado.websocket import SockJSWebSocketHandler

from octohost.server import sockjs_patch

PATCHED_FOR = "1.0.7"

#: sha256 of the source of what the patch replaces or relies on, in sockjs-tornado 1.0.7
FINGERPRINTS = {
    "WebSocketTransport": "da93492ac5093b2c9d06896eca0c43d00e525257cb8cc98d70cbbaef9d008c6f",
    "RawWebSocketTransport": "66ac943928ef194217bc46d36d7f6aef22c9bfdb031e7506a8da3d063e6f3d68",
    "SockJSWebSocketHandler.abort_connection": "c34d5b93fa1dcb7eea767dc2a3c3a1325071b54371e2af202921df2b66889ba8",
}


def fingerprint(obj):
    """The sha256 of an object's source as installed (a class's source is read from its file, so it
    is the original even after the patch replaced one of its methods)."""
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


def test_the_installed_sockjs_tornado_is_the_version_the_patch_was_written_for():
    assert version("sockjs-tornado") == PATCHED_FOR


def test_the_patched_internals_are_unchanged():
    found = {
        "WebSocketTransport": fingerprint(websocket.WebSocketTransport),
        "RawWebSocketTransport": fingerprint(rawwebsocket.RawWebSocketTransport),
        "SockJSWebSocketHandler.abort_connection": fingerprint(SockJSWebSocketHandler.abort_connection),
    }
    assert found == FINGERPRINTS


def test_both_websocket_transports_send_through_the_patch():
    for transport in (websocket.WebSocketTransport, rawwebsocket.RawWebSocketTransport):
        assert transport.send_pack.__module__ == sockjs_patch.__name__, transport.__name__
