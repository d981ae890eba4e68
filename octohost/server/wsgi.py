"""The Flask REST API on Tornado: one worker-thread hand-off per request.

Tornado's :class:`tornado.wsgi.WSGIContainer` calls the application on the executor, then fetches
each body chunk with another executor call, then closes the response on the IOLoop: three thread
hand-offs (each a wake-up, a future and a callback) for a one-chunk JSON answer, about a third of
the daemon's CPU per REST request (``benchmarks/pi_class.py``: five clients polling the printer's
state at a pace cost a tenth of a core). Here the whole exchange (environ, application, every
chunk, ``close``) runs in one executor call and the IOLoop only writes the answer. Tornado joins
the chunks into one body as well, so no response is held in memory longer than before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tornado
import tornado.wsgi
from tornado import escape, httputil
from tornado.ioloop import IOLoop

_Exchange = tuple[str, list[tuple[str, str]], bytes]


class WSGIContainer(tornado.wsgi.WSGIContainer):
    """``tornado.wsgi.WSGIContainer`` with the application's whole exchange on one worker thread."""

    async def handle_request(self, request: httputil.HTTPServerRequest) -> None:
        status, headers, body = await IOLoop.current().run_in_executor(self.executor, self._exchange, request)
        status_code_str, reason = status.split(" ", 1)
        status_code = int(status_code_str)
        header_set = {k.lower() for (k, _v) in headers}
        if status_code != 304:
            if "content-length" not in header_set:
                headers.append(("Content-Length", str(len(body))))
            if "content-type" not in header_set:
                headers.append(("Content-Type", "text/html; charset=UTF-8"))
        if "server" not in header_set:
            headers.append(("Server", f"TornadoServer/{tornado.version}"))
        header_obj = httputil.HTTPHeaders()
        for key, value in headers:
            header_obj.add(key, value)
        assert request.connection is not None
        # a HEAD's answer has the headers of the body but not the body (Tornado refuses to write it)
        request.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", status_code, reason), header_obj,
                                         chunk=None if request.method == "HEAD" else body)
        request.connection.finish()
        self._log(status_code, request)

    def _exchange(self, request: httputil.HTTPServerRequest) -> _Exchange:
        """On a worker thread: call the application and read its whole answer."""
        data: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            data["status"], data["headers"] = status, headers
            return chunks.append

        app_response = self.wsgi_application(self.environ(request), start_response)
        try:
            chunks.extend(app_response)
        finally:
            if hasattr(app_response, "close"):
                app_response.close()
        if not data:
            raise RuntimeError("WSGI app did not call start_response")
        return data["status"], data["headers"], escape.utf8(b"".join(chunks))

