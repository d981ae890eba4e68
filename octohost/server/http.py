"""An HTTPServer that picks the maximum request body size per method and path.

Tornado reads a non-streamed body before any handler runs, so the limit must be chosen when the
headers arrive: the small default protects the buffered Flask views, the streaming upload
routes and the plugins' ``server.http.bodysize`` entries get their own limits. A request that
declares a larger body gets a JSON 413 before any of it is read, and the connection closes; so
does one whose ``Host`` header no URL can be built on (a JSON 400, see :func:`usable_host`), once
its body (at most the default limit) is read.
Leading repeated slashes of a path collapse to one here, before routing.

Slow clients: Tornado's ``body_timeout`` bounds the time a whole body may take, right for the
small buffered bodies but not for a large upload over a slow link. Requests on a route with a
larger limit (uploads, plugins' large bodies) are therefore closed only when their body makes no
progress for ``body_timeout`` seconds.
"""

import functools
import json
import logging
import re

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from werkzeug.urls import iri_to_uri

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 1024 * 1024
MAX_REMEMBERED_HOST = 262  # a 253-character DNS name, ":" and a port


def usable_host(host):
    """True if a URL can be built on the ``Host`` header ``host``. The REST API builds redirects and
    ``Location`` headers from it (werkzeug raised on a port out of range or an over-long DNS label:
    a 500), and Tornado's WSGIContainer raised on a port that is not a number, leaving the request
    unanswered for good. Remembered for hosts a name and port can be (a client sends the same
    ``Host`` on every request, and the check was a few per cent of the IOLoop's work for a small
    GET); a longer one is checked each time, so the cache holds at most 64 short strings."""
    return _usable_short_host(host) if len(host) <= MAX_REMEMBERED_HOST else _usable_host(host)


@functools.lru_cache(maxsize=64)
def _usable_short_host(host):
    return _usable_host(host)


def _usable_host(host):
    try:
        iri_to_uri(f"http://{host}/")
    except ValueError:  # UnicodeError is one
        return False
    return True


class BodySizeRule:
    __slots__ = ("method", "pattern", "size")

    def __init__(self, method, pattern, size):
        self.method = method.upper()
        self.pattern = re.compile(pattern if pattern.endswith("$") else pattern + "$")
        self.size = int(size)

    def matches(self, method, path):
        return self.method == method and self.pattern.match(path) is not None


class _IdleWatch:
    """Closes a connection whose request body makes no progress for ``timeout`` seconds."""

    def __init__(self, connection, timeout):
        self._connection = connection
        self._timeout = timeout
        self._loop = IOLoop.current()
        self._last = self._loop.time()
        self._handle = self._loop.call_later(timeout, self._check)

    def progress(self):
        self._last = self._loop.time()

    def _check(self):
        idle = self._loop.time() - self._last
        if idle >= self._timeout:
            log.info("closing a connection whose request body stalled for %.0f s", idle)
            self._handle = None
            self._connection.close()
        else:
            self._handle = self._loop.call_later(self._timeout - idle, self._check)

    def stop(self):
        if self._handle is not None:
            self._loop.remove_timeout(self._handle)
            self._handle = None


class _BodySizeDelegate(httputil.HTTPMessageDelegate):
    """Sets the request's body limit; a declared length over it is answered 413 at once."""

    def __init__(self, delegate, connection, server):
        self._delegate = delegate
        self._connection = connection
        self._server = server
        self._rejected = False
        self._answer_after_body = None  # a refusal that waits until the (bounded) body was read
        self._watch = None

    def headers_received(self, start_line, headers):
        host = headers.get("Host")
        if host is not None and not usable_host(host):
            self._refuse_after_body(start_line.method, "Invalid Host header")
            return None
        if start_line.path.startswith("//"):
            # ``//api/printer/bed`` is ``/api/printer/bed``, as OctoPrint answers it: clients such as
            # pyoctoprintapi join a base URL ending in "/" with a path starting with one
            start_line = start_line._replace(path="/" + start_line.path.lstrip("/"))
        limit = self._server.max_body_for(start_line.method, start_line.path.split("?", 1)[0])
        length = headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            self._connection.set_max_body_size(int(length))
            self._reject(start_line.method, 413, "Payload Too Large",
                         f"Request body of {length} bytes is larger than the {limit} bytes allowed")
            return None
        self._connection.set_max_body_size(limit)
        if limit > self._server.default_max_body and self._server.body_timeout:
            self._connection.set_body_timeout(None)
            self._watch = _IdleWatch(self._connection, self._server.body_timeout)
        try:
            return self._delegate.headers_received(start_line, headers)
        except httputil.HTTPInputError as exc:  # Tornado's own refusal (a Host its grammar rejects)
            self._refuse_after_body(start_line.method, str(exc))
            return None

    def _refuse_after_body(self, method, message):
        """A JSON 400 once the body (at most the default limit) is read. Answered and closed with
        bytes of it unread, the kernel resets the connection, which can reach the client before it
        has read the answer (Tornado's own refusal did that, with a bare 400)."""
        self._rejected = True
        self._connection.set_max_body_size(self._server.default_max_body)
        self._answer_after_body = (method, 400, "Bad Request", message)

    def _reject(self, method, status, reason, message, close=True):
        self._rejected = True
        body = json.dumps({"error": message}).encode()
        headers = httputil.HTTPHeaders({"Content-Type": "application/json", "Content-Length": str(len(body))})
        if close:
            headers["Connection"] = "close"
        # the answer to a HEAD has the headers of the body but not the body (Tornado refuses to write it)
        self._connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", status, reason), headers,
                                       None if method == "HEAD" else body)
        self._connection.finish()

    def data_received(self, chunk):
        if self._watch is not None:
            self._watch.progress()
        if not self._rejected:
            return self._delegate.data_received(chunk)
        return None

    def finish(self):
        if self._watch is not None:
            self._watch.stop()
        if self._answer_after_body is not None:
            self._reject(*self._answer_after_body, close=False)  # the request is complete: keep-alive
        elif not self._rejected:
            self._delegate.finish()

    def on_connection_close(self):
        if self._watch is not None:
            self._watch.stop()
        if not self._rejected:
            self._delegate.on_connection_close()


class BodySizeHTTPServer(HTTPServer):
    def initialize(self, request_callback, rules=(), default_max_body=DEFAULT_MAX_BODY, body_timeout=None, **kwargs):
        self.rules = list(rules)
        self.default_max_body = default_max_body
        self.body_timeout = body_timeout
        super().initialize(request_callback, max_body_size=max([default_max_body] + [r.size for r in self.rules]),
                           body_timeout=body_timeout, **kwargs)

    def max_body_for(self, method, path):
        for rule in self.rules:
            if rule.matches(method, path):
                return rule.size
        return self.default_max_body

    def start_request(self, server_conn, request_conn):
        return _BodySizeDelegate(super().start_request(server_conn, request_conn), request_conn, self)
