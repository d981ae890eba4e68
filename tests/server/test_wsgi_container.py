"""The Flask API's WSGI container: the whole exchange on one worker thread, the answer as Tornado's."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import tornado.web
from tornado.ioloop import IOLoop

from octohost.server.wsgi import WSGIContainer


class Recording:
    """A WSGI app that notes the thread of each step of its exchange."""

    def __init__(self):
        self.threads = []

    def __call__(self, environ, start_response):
        self.threads.append(("call", threading.current_thread().name))
        path = environ["PATH_INFO"]
        if path == "/not-modified":
            start_response("304 Not Modified", [("ETag", "x")])
            return []
        start_response("201 Created", [("X-Path", path)])
        return Body(self.threads, environ["REQUEST_METHOD"])


class Body:
    """A response body with a close(), as werkzeug's ClosingIterator."""

    def __init__(self, threads, method):
        self.threads, self.method = threads, method

    def __iter__(self):
        for chunk in (b"one ", b"two ", self.method.encode()):
            self.threads.append(("chunk", threading.current_thread().name))
            yield chunk

    def close(self):
        self.threads.append(("close", threading.current_thread().name))


@pytest.fixture
def served():
    app = Recording()
    executor = ThreadPoolExecutor(4, thread_name_prefix="wsgi-test")
    started = threading.Event()
    holder = {}

    def serve():
        asyncio.set_event_loop(asyncio.new_event_loop())
        container = WSGIContainer(app, executor=executor)
        server = tornado.web.Application([(r"/.*", tornado.web.FallbackHandler, {"fallback": container})]).listen(
            0, "127.0.0.1")
        holder["port"] = next(iter(server._sockets.values())).getsockname()[1]
        holder["loop"] = IOLoop.current()
        started.set()
        holder["loop"].start()

    thread = threading.Thread(target=serve, name="wsgi-test-loop", daemon=True)
    thread.start()
    assert started.wait(10)
    yield app, f"http://127.0.0.1:{holder['port']}"
    holder["loop"].add_callback(holder["loop"].stop)
    thread.join(10)
    executor.shutdown()


def test_call_chunks_and_close_run_on_one_worker_thread(served):
    app, url = served
    response = requests.get(url + "/some/path", timeout=10)
    assert response.status_code == 201
    assert response.content == b"one two GET"
    assert response.headers["X-Path"] == "/some/path"
    assert response.headers["Content-Length"] == "11"
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"  # Tornado's default, as before
    steps = [step for step, _ in app.threads]
    assert steps == ["call", "chunk", "chunk", "chunk", "close"]
    names = {name for _, name in app.threads}
    assert len(names) == 1 and names.pop().startswith("wsgi-test")  # never the IOLoop's thread


def test_head_and_not_modified_answers(served):
    _app, url = served
    head = requests.head(url + "/x", timeout=10)
    assert head.status_code == 201 and head.content == b""
    assert head.headers["Content-Length"] == "12"  # the body a GET would have had ("one two HEAD")
    not_modified = requests.get(url + "/not-modified", timeout=10)
    assert not_modified.status_code == 304 and "Content-Length" not in not_modified.headers
