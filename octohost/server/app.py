"""The Tornado application and the server's life cycle (start, serve, stop on a signal).

One Tornado server carries the Flask REST API (on a thread pool, so no view blocks the event loop;
the views that answer from memory run on the loop, see ``.wsgi``), the streaming upload and
download handlers, the SockJS push socket, the plugins' routes under ``/plugin/<id>/`` and the web
UI's routes when ``octohost.server.ui`` exists.
"""

import asyncio
import importlib.util
import logging
import os
import re
import secrets
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import tornado.web
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.netutil import bind_sockets

from octohost.bridge.mqtt import MqttService
from octohost.compat import layer as octoprint_layer
from octohost.events import Events
from octohost.util import priority
from octohost.util.fs import remove_stale_temp_files
from octohost.util.memory import freeze_heap, trim_heap

from .api import create_api_app
from .auth import Authenticator
from .components import build_context
from .handlers import BackupDownloadHandler, DownloadHandler, SystemInfoBundleHandler, ThumbnailHandler
from .http import BodySizeHTTPServer, BodySizeRule
from .media import SnapshotHandler, TimelapseDownloadHandler
from .metrics import MetricsHandler
from .push import PushHub
from .upload import UploadHandler
from .wsgi import ApiContainer, LoopViews

log = logging.getLogger(__name__)

#: the upload handler enforces server.maxUploadSize itself (answering 413), so the connection
#: must not cut the request off first
UPLOAD_CONNECTION_LIMIT = 2**62
CLOSE_TIMEOUT = 5
#: seconds between looks at config.yaml for changes made by another process
SETTINGS_REFRESH = 2
#: what :func:`run` returns when the server stopped to start again (a restore from the web UI)
RESTART = 75
#: seconds after start-up (imports, connecting) until free heap pages go back to the kernel
HEAP_TRIM_DELAY = 15
_JOB_ENDS = (Events.PRINT_DONE, Events.PRINT_FAILED, Events.PRINT_CANCELLED)


def _plugin_routes(context, core_routes, core_sizes):
    """Routes and body sizes from the ``server.http.routes`` / ``server.http.bodysize`` hooks, which
    get (a copy of) the current lists as in OctoPrint: ``(path, handler, kwargs)`` routes and
    ``(method, path pattern, size)`` limits."""
    routes, rules = [], []
    for identifier, entries in context.plugin_manager.call("server.http.routes", list(core_routes)):
        for entry in entries or []:
            try:
                path, handler, kwargs = entry
            except (TypeError, ValueError):
                path = None
            if not isinstance(path, str) or not isinstance(kwargs, dict):
                log.warning("plugin %s returned an invalid route %r; skipped", identifier, entry)
                continue
            routes.append((f"/plugin/{identifier}/{path.lstrip('/')}", handler, kwargs))
    for identifier, entries in context.plugin_manager.call("server.http.bodysize", list(core_sizes)):
        for entry in entries or []:
            try:
                method, path, size = entry
                rules.append(BodySizeRule(method, f"/plugin/{identifier}/{path.lstrip('/')}", size))
            except (TypeError, ValueError, AttributeError, re.error) as exc:
                log.warning("plugin %s returned an invalid body size %r (%s); skipped", identifier, entry, exc)
    return routes, rules


def _connection_limits(settings):
    """Tornado's limits on slow or idle clients (``server.idleConnectionTimeout`` and friends); a
    timeout of 0 means none."""
    return {"idle_connection_timeout": settings.get("server.idleConnectionTimeout") or None,
            "body_timeout": settings.get("server.bodyTimeout") or None,
            "max_header_size": settings.get("server.maxHeaderSize")}


def _remove_stale_temp_files(settings):
    """Clear what writes interrupted by a kill left in the folders our stores write to; the file
    manager clears the uploads tree (metadata, thumbnails) as it starts."""
    state_folders = {settings.basedir, os.path.dirname(settings.config_path), settings.folder("data"),
                     settings.folder("printerProfiles"), os.path.join(settings.folder("scripts"), "gcode")}
    for folder in sorted(state_folders):
        remove_stale_temp_files(folder)


def _ui_routes(context):
    if importlib.util.find_spec("octohost.server.ui") is None:
        return []
    return importlib.import_module("octohost.server.ui").ui_routes(context)


class Server:
    """Owns the components, the IOLoop and the listening sockets of one octohost instance."""

    def __init__(self, settings, host=None, port=None, debug=False, safe_mode=False, connect_virtual=False,
                 plugin_manager=None):
        self.settings = settings
        self.host = host if host is not None else settings.get("server.host")
        self._sockets = bind_sockets(port if port is not None else settings.get("server.port"), self.host,
                                     family=socket.AF_INET if ":" not in self.host else socket.AF_UNSPEC)
        self.port = self._sockets[0].getsockname()[1]
        self.connect_virtual = connect_virtual
        try:
            _remove_stale_temp_files(settings)
            self.context = build_context(settings, self.host, self.port, debug, safe_mode, plugin_manager)
        except BaseException:
            for sock in self._sockets:
                sock.close()
            raise
        c = self.context
        c.authenticator = Authenticator(settings, c.user_manager, c.sessions, c.appkeys, c.permissions,
                                        c.plugin_manager, self.port)
        c.push = PushHub(c)
        octoprint_layer.set_push(c.push)
        c.upload_token = secrets.token_urlsafe(32)
        c.upload_temp_folder = settings.folder("uploads")
        c.mqtt = MqttService(c)
        self._executor = ThreadPoolExecutor(settings.get("server.workerThreads"), thread_name_prefix="octohost-api")
        self._loop = None
        self._thread = None
        self._http = None
        self._stopped = threading.Event()
        self.restart_requested = False
        c.request_restart = self.request_restart

    @property
    def url(self):
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/"

    def make_application(self):
        c = self.context
        api = create_api_app(c)
        wsgi = ApiContainer(api, self._executor, LoopViews(api, c.plugin_manager))
        uploads = self.settings.folder("uploads")
        core = _ui_routes(c) + c.push.urls + [
            (r"/api/files/(local|sdcard)", UploadHandler,
             {"context": c, "wsgi": wsgi, "token": c.upload_token, "temp_folder": c.upload_temp_folder}),
            (r"/downloads/files/local/(.*)", DownloadHandler, {"path": uploads, "context": c}),
            (r"/downloads/thumbs/local/(.*)", ThumbnailHandler, {"context": c}),
            (r"/downloads/systeminfo.zip", SystemInfoBundleHandler, {"context": c}),
            (r"/plugin/backup/download/(.*)", BackupDownloadHandler, {"path": c.backups.folder, "context": c}),
            (r"/plugin/backup/(restore)", UploadHandler,
             {"context": c, "wsgi": wsgi, "token": c.upload_token, "temp_folder": c.upload_temp_folder,
              "permission": "ADMIN", "json_too": True}),
            (r"/metrics", MetricsHandler, {"context": c}),
            (r"/downloads/camera/current", SnapshotHandler, {"context": c}),
            (r"/downloads/timelapse/(.*)", TimelapseDownloadHandler,
             {"path": c.timelapse.storage.videos, "context": c}),
            (r"/(api|plugin)/.*", tornado.web.FallbackHandler, {"fallback": wsgi}),
        ]
        core_sizes = [("POST", r"/api/files/(local|sdcard)", UPLOAD_CONNECTION_LIMIT),
                      ("POST", r"/plugin/backup/restore", UPLOAD_CONNECTION_LIMIT)]
        plugin_routes, rules = _plugin_routes(c, core, core_sizes)
        routes = plugin_routes + core
        rules += [BodySizeRule(*size) for size in core_sizes]
        return tornado.web.Application(routes, debug=False, compress_response=True,
                                       default_handler_class=NotFoundHandler), rules

    # -- life cycle ----------------------------------------------------------------------------

    def _start_on_loop(self):
        application, rules = self.make_application()
        self._http = BodySizeHTTPServer(application, rules=rules, xheaders=False, **_connection_limits(self.settings))
        self._http.add_sockets(self._sockets)
        c = self.context
        c.push.start(self._loop)
        c.plugin_manager.call_implementations("on_startup", self.host, self.port)
        c.event_bus.fire(Events.STARTUP, None)
        log.info("Listening on http://%s:%d", self.host, self.port)
        c.plugin_manager.call_implementations("on_after_startup")
        c.mqtt.start()
        self._loop.call_later(HEAP_TRIM_DELAY, trim_heap)
        # settings changed from the shell (octohost config set) apply within this period
        self._settings_watch = PeriodicCallback(self._refresh_settings, SETTINGS_REFRESH * 1000)
        self._settings_watch.start()
        for event in _JOB_ENDS:
            c.event_bus.subscribe(event, _trim_after_job)
        if self.connect_virtual:
            c.printer.connect(port="VIRTUAL")
        elif self.settings.get("serial.autoconnect"):
            self._autoconnect()

    def _refresh_settings(self):
        try:
            changed = self.settings.refresh()
        except OSError as exc:
            log.warning("could not re-read the settings: %s", exc)
            return
        if changed:
            log.info("settings changed by another process: %s", ", ".join(changed))

    def _autoconnect(self):
        """``serial.autoconnect``: connect to the configured port and baud rate at start, and keep
        trying if that fails (the machine layer's reconnection; see ``Machine.autoconnect``)."""
        machine, printer = self.context.machine, self.context.printer
        try:
            if machine is not None:
                machine.autoconnect(printer.connect)
            else:
                printer.connect()
        except ValueError as exc:
            log.error("autoconnect failed: %s", exc)

    def start_in_thread(self):
        """Serve from a background thread (tests, embedding); returns once listening."""
        ready = threading.Event()
        failure = []

        def serve():
            asyncio.set_event_loop(asyncio.new_event_loop())
            self._loop = IOLoop.current()
            try:
                self._start_on_loop()
            except Exception as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.start()
            self._loop.close(all_fds=False)

        self._thread = threading.Thread(target=serve, name="octohost-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._shutdown_components()
            raise failure[0]
        return self

    def serve_forever(self):
        """Serve from the calling thread until SIGINT/SIGTERM, then shut down cleanly.

        The serial loops release the interpreter lock at every read and write; while web threads
        are busy, getting it back took up to Python's switch interval (5 ms) each time, longer
        than a line takes at 115200 baud. ``server.switchInterval`` shortens that wait.
        """
        sys.setswitchinterval(self.settings.get("server.switchInterval"))
        asyncio.set_event_loop(asyncio.new_event_loop())
        self._loop = IOLoop.current()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._loop.add_callback_from_signal(self._stop_loop))
        self._start_on_loop()
        self._loop.start()
        self._shutdown_components()
        self._loop.close(all_fds=False)

    def request_restart(self, delay=0.0):
        """Stop serving after ``delay`` seconds; :func:`run` then returns :data:`RESTART`."""
        self.restart_requested = True
        if self._loop is not None:
            self._loop.add_callback(lambda: self._loop.call_later(delay, self._stop_loop))

    def _stop_loop(self):
        log.info("Shutting down")
        self._loop.add_callback(self._close_connections)

    async def _close_connections(self):
        """Stop listening, drop push clients and open connections, then end the loop."""
        try:
            if self._http is not None:
                self._http.stop()
            octoprint_layer.set_push(None)
            self.context.push.stop()
            if self._http is not None:
                await asyncio.wait_for(self._http.close_all_connections(), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("some connections did not close within %s s", CLOSE_TIMEOUT)
        finally:
            self._loop.stop()

    def stop(self):
        """Stop a server started with :meth:`start_in_thread` and release everything."""
        if self._loop is not None and self._thread is not None:
            self._loop.add_callback(self._stop_loop)
            self._thread.join(timeout=CLOSE_TIMEOUT * 2)
        self._shutdown_components()

    def _shutdown_components(self):
        if self._stopped.is_set():
            return
        self._stopped.set()
        c = self.context
        c.plugin_manager.call_implementations("on_shutdown")
        c.mqtt.stop()
        if c.machine is not None:
            c.machine.close()  # first: nothing reconnects while the printer closes
        try:
            close = getattr(c.printer, "close", None) or c.printer.disconnect
            close()
        except Exception:
            log.exception("printer did not shut down cleanly")
        c.file_manager.shutdown()
        if c.timelapse is not None:
            c.timelapse.shutdown()
        c.sessions.save()
        c.event_bus.fire(Events.SHUTDOWN, None)
        c.event_bus.flush(timeout=5)
        c.event_bus.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for sock in self._sockets:
            sock.close()


def _trim_after_job(event, payload):
    trim_heap()


class NotFoundHandler(tornado.web.RequestHandler):
    def prepare(self):
        self.set_status(404)
        self.finish({"error": "Not found"})


def safe_mode_once(settings) -> bool:
    """True (and the flag cleared) if ``server.startOnceInSafeMode`` asks this start to be in safe
    mode, as the restart_safe system command does."""
    if not settings.get("server.startOnceInSafeMode"):
        return False
    try:
        settings.set("server.startOnceInSafeMode", False)
    except OSError as exc:  # safe mode now all the same; the next start is safe again
        log.warning("could not clear server.startOnceInSafeMode (%s)", exc)
    log.info("starting in safe mode once, as server.startOnceInSafeMode asked")
    return True


def run(settings, host=None, port=None, debug=False, safe_mode=False, connect_virtual=False):
    """Start octohost and serve until a signal; used by ``octohost serve``."""
    safe_mode = safe_mode_once(settings) or safe_mode
    # first: every thread started later inherits the lower priority, except the serial loops
    priority.serve_at_lower_priority(settings.get("server.webNice"), settings.get("serial.realtime"))
    server = Server(settings, host, port, debug, safe_mode, connect_virtual)
    # Before serving, while nothing waits on the daemon (done later, the collection itself stalled
    # every thread once; in the daemon only: in a test run it would keep every test's garbage).
    freeze_heap()
    print(f"octohost is running: open {server.url} in a browser", flush=True)
    if server.host in ("0.0.0.0", "::", ""):
        print(f"  from other machines: http://{socket.gethostname()}:{server.port}/", flush=True)
    server.serve_forever()
    return RESTART if server.restart_requested else 0
