"""The timelapse as the rest of octohost sees it: configuration, print events, listings, rendering.

Settings ``webcam.timelapse`` hold the configuration; ``POST /api/timelapse`` may change it for
this run only (OctoPrint's behaviour) or save it. A recording starts with each print when
timelapses are enabled, the type is not ``off`` and a camera can take snapshots; it ends with the
print and is then rendered according to ``renderAfterPrint``. Everything here runs on the event
bus's thread, the capture thread or the render thread; the serial loops only publish events.

Listeners (the push hub) get ``("timelapse", config)`` when the configuration changes and
``("renderProgress", {"progress": percent})`` while a render runs, as OctoPrint's push socket.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from octohost.events import Events
from octohost.plugin.handlers import run_handlers
from octohost.util.fs import remove_stale_temp_files
from octohost.webcams import Webcams

from .recorder import Recorder, TimelapseConfig
from .render import WATERMARK, Encoding, Renderer, RenderJob, find_ffmpeg, missing_ffmpeg_message
from .storage import TimelapseStorage, formatted_date, formatted_size

log = logging.getLogger(__name__)

Listener = Callable[[str, Any], None]
_ENDS = {Events.PRINT_DONE: True, Events.PRINT_FAILED: False, Events.PRINT_CANCELLED: False}


class TimelapseError(Exception):
    """A client's timelapse request that cannot be done; ``status`` is the HTTP code to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class TimelapseService:
    def __init__(self, settings: Any, event_bus: Any, plugin_manager: Any, printer: Any, webcams: Webcams) -> None:
        self._settings = settings
        self._event_bus = event_bus
        self._plugin_manager = plugin_manager
        self._printer = printer
        self.webcams = webcams
        self._override: TimelapseConfig | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self.storage = TimelapseStorage(settings.folder("timelapse"), settings.folder("timelapseTmp"),
                                        self._hook_extensions)
        remove_stale_temp_files(self.storage.captures)
        self.storage.remove_old(settings.get("webcam.cleanTmpAfterDays"))
        self.renderer = Renderer(settings, self.storage, event_bus, self._encoding, self._busy, self._progress)
        self.recorder = Recorder(settings, self.storage, webcams, plugin_manager, event_bus, self.renderer.enqueue)
        for event in (Events.PRINT_STARTED, Events.PRINT_RESUMED, Events.Z_CHANGE, Events.SETTINGS_UPDATED,
                      *_ENDS):
            event_bus.subscribe(event, self._on_event)

    # -- configuration -------------------------------------------------------------------------

    def saved_config(self) -> TimelapseConfig:
        get = self._settings.get
        mode = get("webcam.timelapse.renderAfterPrint")
        return TimelapseConfig(type=get("webcam.timelapse.type"), fps=get("webcam.timelapse.fps"),
                               post_roll=get("webcam.timelapse.postRoll"),
                               render_after_print="never" if mode == "off" else mode,
                               interval=get("webcam.timelapse.options.interval"),
                               retraction_zhop=get("webcam.timelapse.options.retractionZHop"),
                               min_delay=get("webcam.timelapse.options.minDelay"))

    def config(self) -> TimelapseConfig:
        """The configuration in force: ``off`` while timelapses are disabled or no camera can snapshot."""
        if not self.enabled():
            return TimelapseConfig()
        camera = self.webcams.snapshot_camera()
        if camera is None or not camera.can_snapshot:
            return TimelapseConfig()
        return self._override or self.saved_config()

    def enabled(self) -> bool:
        return bool(self._settings.get("webcam.timelapseEnabled"))

    def configure(self, config: TimelapseConfig, persist: bool = False) -> None:
        """``POST /api/timelapse``: use ``config`` from the next print on; saved when ``persist``."""
        if persist:
            self._override = None
            self._settings.update([
                (("webcam", "timelapse", "type"), config.type), (("webcam", "timelapse", "fps"), config.fps),
                (("webcam", "timelapse", "postRoll"), config.post_roll),
                (("webcam", "timelapse", "renderAfterPrint"), config.render_after_print),
                (("webcam", "timelapse", "options", "interval"), config.interval),
                (("webcam", "timelapse", "options", "retractionZHop"), config.retraction_zhop),
                (("webcam", "timelapse", "options", "minDelay"), config.min_delay)])
        else:
            self._override = config
        self._notify("timelapse", self.config().as_push())

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _notify(self, message: str, payload: Any) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(message, payload)
            except Exception:
                log.exception("timelapse listener failed")

    def _progress(self, prefix: str, percent: float) -> None:
        self._notify("renderProgress", {"progress": percent})

    def _hook_extensions(self) -> list[str]:
        handlers = self._plugin_manager.handlers("timelapse.extensions") if self._plugin_manager else ()
        extensions: list[str] = []
        for _, result in run_handlers("timelapse.extensions", handlers, lambda handler: handler()):
            if isinstance(result, list):
                extensions += result
        return extensions

    def _encoding(self) -> Encoding:
        get = self._settings.get
        camera = self.webcams.snapshot_camera()
        return Encoding(ffmpeg=get("webcam.ffmpeg"), codec=get("webcam.ffmpegVideoCodec"),
                        bitrate=get("webcam.bitrate"), threads=get("webcam.ffmpegThreads"),
                        flip_h=bool(camera and camera.flip_h),
                        flip_v=bool(camera and camera.flip_v), rotate90=bool(camera and camera.rotate90),
                        watermark=WATERMARK if get("webcam.watermark") else None)

    def _busy(self) -> bool:
        printer = self._printer
        return bool(printer is not None and (printer.is_printing() or printer.is_paused()))

    # -- print events (event bus thread) -------------------------------------------------------

    def _on_event(self, event: str, payload: Any) -> None:
        payload = payload or {}
        if event == Events.Z_CHANGE:
            self.recorder.z_changed(payload.get("old"), payload.get("new"))
        elif event == Events.PRINT_STARTED or (event == Events.PRINT_RESUMED and self.recorder.current is None):
            self.renderer.print_started()
            self._start(payload.get("name") or payload.get("path") or "")
        elif event in _ENDS:
            self.recorder.stop(_ENDS[event])
            self.renderer.print_ended()
        elif event == Events.SETTINGS_UPDATED:
            keys = payload.get("keys") or []
            if any(key.startswith("webcam.timelapse") for key in keys):
                self._override = None
            if any(key.startswith("webcam") for key in keys):
                self._notify("timelapse", self.config().as_push())

    def _start(self, name: str) -> None:
        config = self.config()
        if config.type == "off":
            return
        if find_ffmpeg(self._settings.get("webcam.ffmpeg")) is None:
            log.warning("%s Frames are recorded and can be rendered once it is installed.",
                        missing_ffmpeg_message(self._settings.get("webcam.ffmpeg")))
        self.recorder.start(name, config)

    # -- listings and commands (API threads) ---------------------------------------------------

    def unrendered(self) -> list[dict[str, Any]]:
        """Recordings not rendered yet, in OctoPrint's shape, by name."""
        self.storage.remove_old(self._settings.get("webcam.cleanTmpAfterDays"), keep=self._active())
        recording = self.recorder.prefix
        current = self.renderer.current
        rendering = current.prefix if current is not None else None
        result = []
        for prefix, info in sorted(self.storage.recordings().items()):
            result.append({"name": prefix, "count": info["count"], "size": formatted_size(info["bytes"]),
                           "bytes": info["bytes"], "date": formatted_date(info["oldest"]),
                           "recording": prefix == recording, "rendering": prefix == rendering,
                           "processing": prefix in (recording, rendering)})
        return result

    def _active(self) -> set[str]:
        current = self.renderer.current
        return {p for p in (self.recorder.prefix, current.prefix if current else None) if p} | set(
            self.renderer.queued())

    def render_unrendered(self, name: str) -> None:
        if self._busy():
            raise TimelapseError(409, "Printer is currently printing, cannot render timelapse")
        if name not in self.storage.recordings():
            raise TimelapseError(404, f"No unrendered timelapse named {name!r}")
        if name in self._active():
            raise TimelapseError(409, f"Timelapse {name!r} is being recorded or rendered")
        config = self.saved_config() if self._override is None else self._override
        self.renderer.enqueue(RenderJob(name, None, "", config.fps, config.post_roll))

    def delete_unrendered(self, name: str) -> None:
        if name in self._active():
            raise TimelapseError(409, f"Timelapse {name!r} is being recorded or rendered")
        self.storage.delete_recording(name)

    def shutdown(self) -> None:
        for event in (Events.PRINT_STARTED, Events.PRINT_RESUMED, Events.Z_CHANGE, Events.SETTINGS_UPDATED, *_ENDS):
            self._event_bus.unsubscribe(event, self._on_event)
        self.recorder.shutdown()
        self.renderer.stop()
