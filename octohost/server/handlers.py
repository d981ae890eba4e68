"""Tornado handlers outside Flask that need a login: the shared guard, file downloads, thumbnails.

``ProtectedMixin.guard(permission)`` applies the same rules as the REST API (API key or session,
first-run lock, CSRF on cookie writes) plus the plugins' ``server.http.access_validator`` hook,
and answers a JSON error itself when access is refused.
"""

import logging
import os

import tornado.web
from tornado.ioloop import IOLoop

from octohost.files.errors import StorageError
from octohost.util.fs import PathEscapeError, confined_path

from .api.util import denial_message

log = logging.getLogger(__name__)


class ProtectedMixin:
    context = None

    def write_json_error(self, status, message):
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish({"error": message})

    def guard(self, permission):
        """Authenticate the request; returns the Identity, or None after answering an error."""
        c = self.context
        auth = c.authenticator
        request = self.request
        cookies = {name: morsel.value for name, morsel in request.cookies.items()}
        identity = auth.identify(request.headers, cookies, self.get_query_argument("apikey", None))
        if c.first_run:
            self.write_json_error(403, "Setup required: create the first admin with POST /api/setup/admin")
            return None
        if not identity.has(permission):
            self.write_json_error(403, denial_message(identity))
            return None
        if not auth.csrf_ok(identity, request.method, request.headers.get("X-CSRF-Token"),
                            cookies.get(auth.csrf_cookie)):
            self.write_json_error(400, "CSRF validation failed: send the X-CSRF-Token header")
            return None
        for identifier, validator in c.plugin_manager.handlers("server.http.access_validator"):
            try:
                validator(request)
            except tornado.web.HTTPError as exc:
                self.write_json_error(exc.status_code, exc.log_message or "Access denied")
                return None
            except Exception:
                log.exception("access validator of plugin %s raised; request refused", identifier)
                self.write_json_error(403, "Access denied")
                return None
        return identity


class DownloadHandler(ProtectedMixin, tornado.web.StaticFileHandler):
    """``/downloads/files/local/<path>``: streamed by Tornado, never buffered, never hashed."""

    def initialize(self, path, context):
        super().initialize(path=path)
        self.context = context

    def prepare(self):
        self.guard("FILES_DOWNLOAD")

    @classmethod
    def get_content_version(cls, abspath):
        st = os.stat(abspath)
        return f"{st.st_mtime_ns:x}-{st.st_size:x}"

    @classmethod
    def get_absolute_path(cls, root, path):
        """Join only; :meth:`validate_absolute_path` refuses escapes (as 404, like missing files)."""
        return os.path.abspath(os.path.join(root, path))

    def validate_absolute_path(self, root, absolute_path):
        relative = os.path.relpath(absolute_path, root)
        if any(part.startswith(".") for part in relative.replace(os.sep, "/").split("/")):
            raise tornado.web.HTTPError(404)
        try:
            confined = confined_path(root, relative)
        except PathEscapeError:
            raise tornado.web.HTTPError(404) from None
        if not os.path.isfile(confined):
            raise tornado.web.HTTPError(404)
        return confined

    def set_extra_headers(self, path):
        quoted = tornado.escape.url_escape(os.path.basename(path), plus=False)
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quoted}")
        self.set_header("Cache-Control", "private, no-cache")

    def write_error(self, status_code, **kwargs):
        self.finish({"error": "File not found" if status_code == 404 else self._reason})


THUMBNAIL_TYPES = {"png": "image/png", "jpg": "image/jpeg", "qoi": "image/qoi"}


class ThumbnailHandler(ProtectedMixin, tornado.web.RequestHandler):
    """``/downloads/thumbs/local/<path>?name=<thumbnail>``: a slicer thumbnail of an uploaded file.

    Same permission as downloads; the file manager confines the path and knows the thumbnails, so
    a name that is not one of the file's own answers 404. The URL carries the file's version, so
    the image may be cached.
    """

    def initialize(self, context):
        self.context = context

    def prepare(self):
        self.guard("FILES_DOWNLOAD")

    async def get(self, path):
        name = self.get_query_argument("name", None)
        loop = IOLoop.current()
        try:
            full = await loop.run_in_executor(None, self.context.file_manager.get_thumbnail_path, path, name)
        except StorageError:
            full = None
        if full is None:
            self.write_json_error(404, "Thumbnail not found")
            return
        with open(full, "rb") as f:
            data = await loop.run_in_executor(None, f.read)
        extension = full.rsplit(".", 1)[-1].lower()
        self.set_header("Content-Type", THUMBNAIL_TYPES.get(extension, "application/octet-stream"))
        self.set_header("Cache-Control", "private, max-age=86400")
        self.finish(data)


class BackupDownloadHandler(DownloadHandler):
    """``/plugin/backup/download/<name>``: a kept backup, streamed (admins only)."""

    def prepare(self):
        self.guard("ADMIN")


class SystemInfoBundleHandler(ProtectedMixin, tornado.web.RequestHandler):
    """``/downloads/systeminfo.zip``: the diagnostics bundle (``octohost.maintenance.systeminfo``).

    Built on a worker thread (it reads log tails and walks the plugins), bounded by the tails'
    sizes, and sent as one attachment."""

    def initialize(self, context):
        self.context = context

    async def get(self):
        if self.guard("SYSTEM") is None:
            return
        import io

        from octohost.maintenance import systeminfo

        c = self.context
        extra = {"browser.user_agent": self.request.headers.get("User-Agent"), "systeminfo.generator": "zipapi"}

        def build():
            buffer = io.BytesIO()
            systeminfo.write_bundle(buffer, c.settings, c.printer, c.plugin_manager, extra)
            return buffer.getvalue()

        data = await IOLoop.current().run_in_executor(None, build)
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", f"attachment; filename={systeminfo.bundle_name()}")
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(data)
