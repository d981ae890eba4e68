"""The REST API's WSGI container: a request runs on a worker thread in one hand-off, or on the
event loop when its view answers from memory.

Tornado's ``WSGIContainer`` hands each request to its executor three times (the application call,
its one body chunk, the end of the body), and every hand-off wakes a worker and then the loop
again. The views clients poll while a print runs (``/api/printer``, ``/api/job``) only read the
printer's state in memory: on the loop they need no thread at all. Measured on the 2-core
development machine, daemon CPU per keep-alive GET (two sets of three alternating pairs):
``/api/printer`` 2.6-3.3 ms with Tornado's container, 1.6-2.2 ms here on the loop; an idle
``/api/job`` 2.7-3.3 ms against 1.8-2.3 ms. The README's Pi-class section has what that leaves a
slow CPU's budget.

A view says it answers from memory with :func:`octohost.server.api.util.answers_from_memory`:
it reads no file, waits for nothing and takes no lock held across I/O. Everything else (and
everything while a plugin runs code around requests or validates API keys: plugin code may
block) keeps the worker thread, so no view blocks the loop, in one hand-off each way. What every
request does before its view stays as short: authentication reads memory, but for one re-read of
the (small) user file after another process, such as the CLI, changed it.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

import tornado
import tornado.wsgi
from tornado import httputil
from tornado.ioloop import IOLoop
from werkzeug.exceptions import HTTPException

from .api.util import ON_LOOP

log = logging.getLogger(__name__)

#: plugin hooks that run plugin code while a request is answered: with any of them, no view runs on the loop
PLUGIN_REQUEST_HOOKS = ("server.api.before_request", "server.api.after_request", "accesscontrol.keyvalidator")
LOOP_METHODS = frozenset({"GET", "HEAD"})
MAX_MATCHED_PATH = 256  # longer paths are not matched on the loop (nor remembered): the worker answers them
MATCH_CACHE_SIZE = 256

Answer = tuple[str, list[tuple[str, str]], bytes]


def run_wsgi(application: Callable[..., Any], environ: dict[str, Any]) -> Answer:
    """Call a WSGI application and collect its whole answer: (status line, headers, body)."""
    started: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers
        return chunks.append

    chunks: list[bytes] = []
    result = application(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the WSGI application did not call start_response")
    return started["status"], started["headers"], b"".join(chunks)


class LoopViews:
    """Which requests may be answered on the event loop: GET and HEAD of a view marked with
    ``answers_from_memory`` (and, for a conditional mark, while its condition holds), as long as
    no plugin implements one of :data:`PLUGIN_REQUEST_HOOKS`."""

    def __init__(self, app: Any, plugin_manager: Any) -> None:
        self._context = app.config["octohost.context"]
        self._adapter = app.url_map.bind("localhost")
        self._views = app.view_functions
        self._enabled = not any(plugin_manager.has_handlers(hook) for hook in PLUGIN_REQUEST_HOOKS)
        self._mark = functools.lru_cache(maxsize=MATCH_CACHE_SIZE)(self._find_mark)

    def __call__(self, method: str, path: str) -> bool:
        if not self._enabled or method not in LOOP_METHODS or len(path) > MAX_MATCHED_PATH:
            return False
        try:
            mark = self._mark(method, path)
            return mark is True or (mark is not None and bool(mark(self._context)))
        except Exception:  # a condition that fails (a plugin's printer, say): the worker answers, as Flask will
            log.exception("deciding where %s %s runs", method, path)
            return False

    def _find_mark(self, method: str, path: str) -> Any:
        try:
            endpoint, _ = self._adapter.match(path, method)
        except HTTPException:  # not found, wrong method, a redirect: the worker lets Flask answer
            return None
        return getattr(self._views.get(endpoint), ON_LOOP, None)


class ApiContainer(tornado.wsgi.WSGIContainer):
    """Tornado's container with one hand-off per request, or none where ``on_loop(method, path)``."""

    def __init__(self, application: Callable[..., Any], executor: Any,
                 on_loop: Callable[[str, str], bool]) -> None:
        super().__init__(application, executor=executor)
        self._on_loop = on_loop

    async def handle_request(self, request: httputil.HTTPServerRequest) -> None:
        environ = self.environ(request)
        if self._on_loop(environ["REQUEST_METHOD"], environ["PATH_INFO"]):
            status, headers, body = run_wsgi(self.wsgi_application, environ)
        else:
            status, headers, body = await IOLoop.current().run_in_executor(
                self.executor, run_wsgi, self.wsgi_application, environ)
        code_text, reason = status.split(" ", 1)
        code = int(code_text)
        present = {name.lower() for name, _ in headers}
        if code != 304:
            if "content-length" not in present:
                headers.append(("Content-Length", str(len(body))))
            if "content-type" not in present:
                headers.append(("Content-Type", "text/html; charset=UTF-8"))
        if "server" not in present:
            headers.append(("Server", f"TornadoServer/{tornado.version}"))
        header_obj = httputil.HTTPHeaders()
        for name, value in headers:
            header_obj.add(name, value)
        assert request.connection is not None
        request.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", code, reason), header_obj, chunk=body)
        request.connection.finish()
        self._log(code, request)

