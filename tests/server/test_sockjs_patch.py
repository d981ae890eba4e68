"""The sockjs-tornado patch (octohost/server/sockjs_patch.py) is written against 1.0.7's internals.

pyproject.toml pins that version. These tests fail when the installed copy differs from the one the
patch was written for: then read the new transports, check ``_send_pack`` still fits (it replaces
``send_pack`` and calls ``write_message``, ``abort_connection``, ``server.io_loop`` and
``on_close``; ``_on_framed_message`` replaces ``WebSocketTransport.on_message``; ``BaseHandler``'s
``finish`` reads the ``logged`` flag the patch gives a default), and update the pin and the
fingerprints below together.

Behaviour: a framed websocket frame that is not JSON is the client's mistake. sockjs-tornado logged
a full traceback (``ERROR tornado.general: WebSocket``) for every frame that failed to decode, and
a frame nested deeper than the recursion limit raised RecursionError the same way: anyone could
fill the log. Found by the fuzzer (tests/server/fuzz).
"""

import hashlib
import inspect
import logging
from importlib.metadata import version

import pytest
import requests
import websocket as websocket_client
from sockjs.tornado import basehandler
from sockjs.tornado.transports import rawwebsocket, websocket
from sockjs.tornado.websocket import SockJSWebSocketHandler

from octohost.server import sockjs_patch

PATCHED_FOR = "1.0.7"

#: sha256 of the source of what the patch replaces or relies on, in sockjs-tornado 1.0.7
FINGERPRINTS = {
    "WebSocketTransport": "da93492ac5093b2c9d06896eca0c43d00e525257cb8cc98d70cbbaef9d008c6f",
    "RawWebSocketTransport": "66ac943928ef194217bc46d36d7f6aef22c9bfdb031e7506a8da3d063e6f3d68",
    "SockJSWebSocketHandler.abort_connection": "c34d5b93fa1dcb7eea767dc2a3c3a1325071b54371e2af202921df2b66889ba8",
    "BaseHandler": "6dd03723e1b25287b34b837bb61ad85f4cd85e1ecd7c445a8191d8d0da84e404",
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
        "BaseHandler": fingerprint(basehandler.BaseHandler),
    }
    assert found == FINGERPRINTS


def test_both_websocket_transports_send_through_the_patch():
    for transport in (websocket.WebSocketTransport, rawwebsocket.RawWebSocketTransport):
        assert transport.send_pack.__module__ == sockjs_patch.__name__, transport.__name__
    assert websocket.WebSocketTransport.on_message.__module__ == sockjs_patch.__name__
    assert basehandler.BaseHandler.logged is False


FRAMES = ["not json", "{", "[" * 10000 + "]" * 10000, "[" * 100000]


@pytest.mark.parametrize("frame", FRAMES, ids=["text", "truncated", "deep", "deep-unclosed"])
def test_undecodable_frame_closes_the_socket_without_a_traceback(running, caplog, frame):
    caplog.set_level(logging.DEBUG)
    url = running.url.replace("http", "ws") + "/sockjs/000/patchtst/websocket"
    ws = websocket_client.create_connection(url, timeout=10)
    try:
        assert ws.recv() == "o"
        ws.send(frame)
        with pytest.raises((websocket_client.WebSocketConnectionClosedException, ConnectionError)):
            for _ in range(10):
                if ws.recv() in ("", None):
                    raise websocket_client.WebSocketConnectionClosedException("closed")
    finally:
        ws.close()
    problems = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert problems == []


def test_well_formed_frames_still_reach_the_connection(running):
    url = running.url.replace("http", "ws") + "/sockjs/000/patchok/websocket"
    ws = websocket_client.create_connection(url, timeout=10)
    try:
        assert ws.recv() == "o"
        assert "connected" in ws.recv()
        ws.send('["{\\"auth\\": \\"nobody:nothing\\"}"]')
        assert "reauthRequired" in ws.recv()
    finally:
        ws.close()


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
def test_broken_form_body_to_a_sockjs_handler_is_answered(running, method):
    """Tornado refuses the body before ``prepare``; /sockjs/info then raised in its error handler and
    the request hung."""
    response = requests.request(method, running.url + "/sockjs/info", data=b"{}", timeout=10,
                                headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert response.status_code == 400
