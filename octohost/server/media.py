"""Tornado handlers for camera pictures and timelapse videos (OctoPrint's download URLs).

``/downloads/camera/current[?webcam=<name>]`` proxies a snapshot of the snapshot camera (or the
named one) for clients that cannot reach the camera themselves; the fetch runs on the executor,
bounded by ``webcam.snapshotTimeout`` and ``webcam.maxSnapshotSize``. ``/downloads/timelapse/<name>``
serves rendered videos and their thumbnails with range support (for seeking in a player).
"""

import logging

import tornado.web
from tornado.ioloop import IOLoop

from octohost.webcams import SnapshotError

from .handlers import DownloadHandler, ProtectedMixin

log = logging.getLogger(__name__)


class SnapshotHandler(ProtectedMixin, tornado.web.RequestHandler):
    def initialize(self, context):
        self.context = context

    def prepare(self):
        self.guard("WEBCAM")

    async def get(self):
        webcams = self.context.webcams
        name = self.get_query_argument("webcam", None)
        camera = webcams.get(name) if name else webcams.snapshot_camera()
        if camera is None and name:
            self.write_json_error(404, f"No camera named {name!r}")
            return
        if camera is None or not camera.can_snapshot:
            self.write_json_error(404, "No camera that can take snapshots is configured (webcam.snapshot)")
            return
        try:
            data = await IOLoop.current().run_in_executor(None, webcams.take_snapshot, camera)
        except SnapshotError as exc:
            log.info("snapshot of camera %s failed: %s", camera.name, exc)
            self.write_json_error(502, str(exc))
            return
        self.set_header("Content-Type", "image/jpeg")
        self.set_header("Content-Disposition", 'attachment; filename="snapshot"')
        self.set_header("Cache-Control", "no-store")
        self.finish(data)


class TimelapseDownloadHandler(DownloadHandler):
    """Rendered videos and thumbnails only: other files in the folder answer 404."""

    def initialize(self, path, context):
        super().initialize(path=path, context=context)

    def prepare(self):
        self.guard("TIMELAPSE_DOWNLOAD")

    def validate_absolute_path(self, root, absolute_path):
        if self.context.timelapse.storage.video_path(self.path_args[0] if self.path_args else "") is None:
            raise tornado.web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)
