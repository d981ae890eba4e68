"""An HTTPServer that picks the maximum request body size per method and path.

Tornado reads a non-streamed body before any handler runs, so the limit must be chosen when the
headers arrive: the small default protects the buffered Flask views, the streaming upload
routes and the plugins' ``server.http.bodysize`` entries get their own limits. A request that
declares a larger body gets a JSON 413 before any of it is read, and the connection closes.
"""

import json
import re

from tornado import httputil
from tornado.httpserver import HTTPServer

DEFAULT_MAX_BODY = 1024 * 1024


class BodySizeRule:
    __slots__ = ("method", "pattern", "size")

    def __init__(self, method, pattern, size):
        self.method = method.upper()
        self.pattern = re.compile(pattern if pattern.endswith("$") else pattern + "$")
        self.size = int(size)

    def matches(self, method, path):
        return self.method == method and self.pattern.match(path) is not None


class _BodySizeDelegate(httputil.HTTPMessageDelegate):
    """Sets the request's body limit; a declared length over it is answered 413 at once."""

    def __init__(self, delegate, connection, server):
        self._delegate = delegate
        self._connection = connection
        self._server = server
        self._rejected = False

    def headers_received(self, start_line, headers):
        limit = self._server.max_body_for(start_line.method, start_line.path.split("?", 1)[0])
        length = headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            self._reject(int(length), limit)
            return None
        self._connection.set_max_body_size(limit)
        return self._delegate.headers_received(start_line, headers)

    def _reject(self, length, limit):
        self._rejected = True
        self._connection.set_max_body_size(length)
        body = json.dumps({"error": f"Request body of {length} bytes is larger than the {limit} bytes allowed"})
        headers = httputil.HTTPHeaders({"Content-Type": "application/json", "Connection": "close",
                                        "Content-Length": str(len(body))})
        self._connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", 413, "Payload Too Large"), headers,
                                       body.encode())
        self._connection.finish()

    def data_received(self, chunk):
        if not self._rejected:
            return self._delegate.data_received(chunk)
        return None

    def finish(self):
        if not self._rejected:
            self._delegate.finish()

    def on_connection_close(self):
        if not self._rejected:
            self._delegate.on_connection_close()


class BodySizeHTTPServer(HTTPServer):
    def initialize(self, request_callback, rules=(), default_max_body=DEFAULT_MAX_BODY, **kwargs):
        self.rules = list(rules)
        self.default_max_body = default_max_body
        super().initialize(request_callback, max_body_size=max([default_max_body] + [r.size for r in self.rules]),
                           **kwargs)

    def max_body_for(self, method, path):
        for rule in self.rules:
            if rule.matches(method, path):
                return rule.size
        return self.default_max_body

    def start_request(self, server_conn, request_conn):
        return _BodySizeDelegate(super().start_request(server_conn, request_conn), request_conn, self)
