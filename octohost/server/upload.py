"""Streaming uploads: ``POST /api/files/{local,sdcard}`` never holds a file in memory.

Tornado hands the body over chunk by chunk; werkzeug's incremental multipart parser splits it,
file parts go straight into hidden temp files in the uploads folder, small fields are kept.
Then the request is passed on to the REST API as a small form, OctoPrint style: the file part
``file`` becomes ``file.name``, ``file.path``, ``file.size`` and ``file.content_type``. A header
carrying a per-process secret marks the form as ours, so nobody can hand the API a path.
Over ``server.maxUploadSize`` answers 413, from the Content-Length before anything is read or as
soon as a streamed body grows past it. While the printer prints, uploads are paced to
``server.uploadRateWhilePrinting`` MiB/s so they never starve the serial loops.
A url-encoded POST (OctoPrint also takes ``foldername=...`` that way) carries no file: it goes to
the REST API as it came, without the header, at most ``MAX_JSON_BODY`` bytes.
"""

import asyncio
import logging
import os
import tempfile
import time
import urllib.parse

import tornado.web
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from .handlers import ProtectedMixin

log = logging.getLogger(__name__)

INTERNAL_HEADER = "X-Octohost-Upload-Token"
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
TEMP_PREFIX = ".upload-"
GENERATED_SUFFIXES = (".name", ".path", ".size", ".content_type")


class UploadRejected(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class _Part:
    def __init__(self, name, filename=None, content_type=None, folder=None):
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.size = 0
        self.value = bytearray()
        self.file = None
        self.path = None
        if filename is not None:
            fd, self.path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
            self.file = os.fdopen(fd, "wb")

    def write(self, data):
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
        elif self.size > MAX_FIELD_BYTES:
            raise UploadRejected(400, f"form field {self.name!r} is too large")
        else:
            self.value += data

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class MultipartSink:
    """Feeds chunks through the multipart parser into temp files and field values."""

    def __init__(self, boundary, temp_folder):
        self._decoder = MultipartDecoder(boundary)
        self._folder = temp_folder
        self._part = None
        self.parts = []

    def feed(self, chunk):
        self._decoder.receive_data(chunk)
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError as exc:
                raise UploadRejected(400, f"malformed multipart body: {exc}") from None
            if isinstance(event, (NeedData, Epilogue)):
                return isinstance(event, Epilogue)
            if isinstance(event, (Field, File)):
                if len(self.parts) >= MAX_FIELDS:
                    raise UploadRejected(400, "too many form fields")
                if isinstance(event, Field) and event.name.endswith(GENERATED_SUFFIXES):
                    raise UploadRejected(400, f"form field name {event.name!r} is reserved")
                filename = event.filename if isinstance(event, File) else None
                content_type = event.headers.get("Content-Type") if isinstance(event, File) else None
                self._part = _Part(event.name, filename, content_type, self._folder)
                self.parts.append(self._part)
            elif isinstance(event, Data) and self._part is not None:
                self._part.write(event.data)
                if not event.more_data:
                    self._part.close()
                    self._part = None

    def finish(self):
        if not self.feed(None) and self._part is not None:
            raise UploadRejected(400, "multipart body ended early")

    def cleanup(self):
        for part in self.parts:
            part.close()
            if part.path and os.path.exists(part.path):
                os.unlink(part.path)


class PrintingPacer:
    """Slows an upload to ``rate`` MiB/s while the printer prints, so parsing it does not take the
    CPU (and the interpreter lock) the serial loops need. Returns a sleep for Tornado to wait on."""

    def __init__(self, printer, rate_mib, clock=time.monotonic, sleep=asyncio.sleep):
        self._printer = printer
        self._rate = rate_mib * 2**20
        self._clock = clock
        self._sleep = sleep
        self._window_start = None
        self._window_bytes = 0

    def pace(self, size):
        if not self._rate or not self._printer.is_printing():
            self._window_start = None
            return None
        now = self._clock()
        if self._window_start is None:
            self._window_start, self._window_bytes = now, 0
        self._window_bytes += size
        delay = self._window_start + self._window_bytes / self._rate - now
        return self._sleep(delay) if delay > 0 else None


@tornado.web.stream_request_body
class UploadHandler(ProtectedMixin, tornado.web.RequestHandler):
    """Streams POSTs; every other method on the same path goes straight to the REST API."""

    #: a JSON POST passed on to the REST API instead (the restore route's ``{"path": ...}``) or a
    #: url-encoded one (a new folder) is kept in memory: at most this many bytes of it
    MAX_JSON_BODY = 64 * 1024

    def initialize(self, context, wsgi, token, temp_folder, permission="FILES_UPLOAD", json_too=False):
        self.context = context
        self.permission = permission
        self.json_too = json_too
        self.passthrough = False
        self.wsgi = wsgi
        self.token = token
        self.temp_folder = temp_folder
        self.sink = None
        self.received = 0
        self.rejected = False
        self.passthrough_body = bytearray()

    def prepare(self):
        if self.request.method != "POST":
            self.passthrough = True
            return
        self.limit = self.context.settings.get("server.maxUploadSize")
        if self.guard(self.permission) is None:
            self.rejected = True
            return
        mimetype = parse_options_header(self.request.headers.get("Content-Type", ""))[0]
        if (self.json_too and mimetype == "application/json") or mimetype == "application/x-www-form-urlencoded":
            self.passthrough = True
            return
        try:
            length = int(self.request.headers.get("Content-Length", "0") or 0)
        except ValueError:
            length = 0
        if length > self.limit:
            self.reject(413, f"Upload of {length} bytes exceeds the maximum of {self.limit} bytes")
            return
        mimetype, options = parse_options_header(self.request.headers.get("Content-Type", ""))
        if mimetype != "multipart/form-data" or not options.get("boundary"):
            self.reject(400, "Expected a multipart/form-data upload")
            return
        self.sink = MultipartSink(options["boundary"].encode("latin-1"), self.temp_folder)
        self.pacer = PrintingPacer(self.context.printer, self.context.settings.get("server.uploadRateWhilePrinting"))

    def reject(self, status, message):
        self.rejected = True
        self.write_json_error(status, message)

    def data_received(self, chunk):
        if self.passthrough:
            self.passthrough_body += chunk
            if self.request.method == "POST" and len(self.passthrough_body) > self.MAX_JSON_BODY:
                self.passthrough = False
                self.reject(413, f"A body without a file may have at most {self.MAX_JSON_BODY} bytes here")
            return
        if self.rejected:
            return
        self.received += len(chunk)
        try:
            if self.received > self.limit:
                raise UploadRejected(413, f"Upload exceeds the maximum of {self.limit} bytes")
            self.sink.feed(chunk)
            return self.pacer.pace(len(chunk))
        except UploadRejected as exc:
            self.sink.cleanup()
            self.reject(exc.status, exc.message)
        except OSError as exc:
            self.sink.cleanup()
            self.reject(507 if exc.errno == 28 else 500, f"Could not store the upload: {exc.strerror}")
        return None

    async def _pass_through(self, *args):
        """Hand a non-upload request to the REST API unchanged (after its body was read, so the
        connection stays usable for the next request)."""
        self.request.body = bytes(self.passthrough_body)
        self._finished = True
        await self.wsgi.handle_request(self.request)

    get = head = options = put = patch = delete = _pass_through

    async def post(self, *args):
        if self.rejected:
            return
        if self.passthrough:
            await self._pass_through()
            return
        try:
            self.sink.finish()
        except UploadRejected as exc:
            self.sink.cleanup()
            self.write_json_error(exc.status, exc.message)
            return
        try:
            await self._forward()
        finally:
            self.sink.cleanup()

    def _form(self):
        fields = []
        for part in self.sink.parts:
            if part.path is not None:
                fields += [(f"{part.name}.name", part.filename or ""), (f"{part.name}.path", part.path),
                           (f"{part.name}.size", str(part.size)),
                           (f"{part.name}.content_type", part.content_type or "application/octet-stream")]
            else:
                fields.append((part.name, part.value.decode("utf-8", errors="replace")))
        return urllib.parse.urlencode(fields).encode("ascii")

    async def _forward(self):
        """Let the REST API finish the request with the small form instead of the body."""
        body = self._form()
        request = self.request
        request.body = body
        request.headers["Content-Type"] = "application/x-www-form-urlencoded"
        request.headers["Content-Length"] = str(len(body))
        request.headers.pop("Transfer-Encoding", None)
        request.headers[INTERNAL_HEADER] = self.token
        self._finished = True
        await self.wsgi.handle_request(request)

    def on_connection_close(self):
        if self.sink is not None:
            self.sink.cleanup()
