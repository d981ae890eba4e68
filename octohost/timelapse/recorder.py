"""Capturing a print's frames on a thread of its own, so the serial loops never wait for a camera.

Triggers only enqueue: a Z change arrives as an event-bus event (the comm layer's ``fire`` only
appends to the bus's queue), a timed recording's timer thread wakes every interval. One capture
thread takes the queue in order and, per frame, calls the ``timelapse.capture.pre`` hooks with the
frame's future path, fires ``CaptureStart``, fetches the snapshot (bounded in time and size, see
:mod:`octohost.webcams`), writes it, calls the ``timelapse.capture.post`` hooks with the path and
whether it worked, then fires ``CaptureDone`` or ``CaptureFailed``. A failed frame keeps its number
for the next one, so the sequence has no gaps.

Ending a recording is queued behind its pending frames: the post-roll frame (one last picture of
the finished print, held ``postRoll`` seconds by the renderer), then the render job, or
``MovieFailed`` with reason ``no_frames`` when every capture failed. Past ``webcam.maxCaptureSize``
the oldest other unrendered recordings are removed; if the current one alone is over it, it stops
taking frames (both with a warning in the log).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from octohost.events import Events
from octohost.plugin.handlers import run_handlers
from octohost.util.fs import atomic_write
from octohost.webcams import SnapshotError, Webcams

from .render import RenderJob
from .storage import TimelapseStorage, capture_prefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelapseConfig:
    """What one recording does, fixed when its print starts."""

    type: str = "off"
    fps: int = 25
    post_roll: int = 0
    render_after_print: str = "always"
    interval: int = 10
    retraction_zhop: float = 0.0
    min_delay: float = 5.0

    def renders(self, success: bool) -> bool:
        mode = self.render_after_print
        return mode == "always" or (mode == "success" and success) or (mode == "failure" and not success)

    def as_api(self) -> dict[str, Any]:
        """OctoPrint's ``config`` of ``GET /api/timelapse``."""
        if self.type == "off":
            return {"type": "off"}
        config: dict[str, Any] = {"postRoll": self.post_roll, "fps": self.fps,
                                  "renderAfterPrint": self.render_after_print, "type": self.type}
        if self.type == "zchange":
            config.update(retractionZHop=self.retraction_zhop, minDelay=self.min_delay)
        else:
            config.update(interval=self.interval)
        return config

    def as_push(self) -> dict[str, Any] | None:
        """OctoPrint's ``timelapse`` push message payload."""
        if self.type == "zchange":
            return {"type": "zchange", "options": {"retractionZHop": self.retraction_zhop}}
        if self.type == "timed":
            return {"type": "timed", "options": {"interval": self.interval}}
        return None


@dataclass
class Recording:
    prefix: str
    gcode: str
    config: TimelapseConfig
    next_number: int = 0
    errors: int = 0
    halted: bool = False
    last_capture: float | None = None
    stop_timer: threading.Event = field(default_factory=threading.Event)
    #: bytes of this recording's frames, and of the other recordings when last counted (None: not yet)
    own_bytes: int = 0
    others_bytes: int | None = None


class Recorder:
    """Records one print at a time; ``start``/``stop``/``z_changed`` are called from the event bus."""

    def __init__(self, settings: Any, storage: TimelapseStorage, webcams: Webcams, plugin_manager: Any,
                 event_bus: Any, on_finished: Callable[[RenderJob], None]) -> None:
        self._settings = settings
        self._storage = storage
        self._webcams = webcams
        self._plugin_manager = plugin_manager
        self._event_bus = event_bus
        self._on_finished = on_finished
        self._queue: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.current: Recording | None = None

    @property
    def prefix(self) -> str | None:
        recording = self.current
        return recording.prefix if recording is not None else None

    # -- triggers ------------------------------------------------------------------------------

    def start(self, gcode_name: str, config: TimelapseConfig) -> Recording | None:
        if config.type == "off":
            return None
        with self._lock:
            if self.current is not None:
                return self.current
            recording = Recording(capture_prefix(gcode_name), os.path.basename(gcode_name or ""), config)
            self.current = recording
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="octohost-timelapse-capture", daemon=True)
                self._thread.start()
        log.info("timelapse %s started (%s)", recording.prefix, config.type)
        if config.type == "timed":
            threading.Thread(target=self._timer, args=(recording,), name="octohost-timelapse-timer",
                             daemon=True).start()
        return recording

    def z_changed(self, old: float | None, new: float | None) -> None:
        recording = self.current
        if recording is None or recording.config.type != "zchange":
            return
        zhop = recording.config.retraction_zhop
        if zhop and old is not None and new is not None and round(abs(new - old), 3) == round(zhop, 3):
            return
        now = time.monotonic()
        if (recording.config.min_delay and recording.last_capture is not None
                and now - recording.last_capture < recording.config.min_delay):
            return
        recording.last_capture = now
        self._queue.put((self._capture, (recording,)))

    def stop(self, success: bool) -> None:
        """The print ended: finish the recording behind its pending frames."""
        with self._lock:
            recording, self.current = self.current, None
        if recording is None:
            return
        recording.stop_timer.set()
        self._queue.put((self._finish, (recording, success)))

    def shutdown(self) -> None:
        with self._lock:
            recording, self.current = self.current, None
        if recording is not None:
            recording.stop_timer.set()
        self._queue.put(None)

    def _timer(self, recording: Recording) -> None:
        """Timed recordings: a frame at once, then every ``interval`` seconds until the print ends."""
        while not recording.stop_timer.is_set():
            self._queue.put((self._capture, (recording,)))
            recording.stop_timer.wait(recording.config.interval)

    # -- the capture thread --------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            function, args = item
            try:
                function(*args)
            except Exception:
                log.exception("timelapse capture task failed")

    def _call_hooks(self, hook: str, *args: Any) -> None:
        handlers = self._plugin_manager.handlers(hook) if self._plugin_manager is not None else ()
        if handlers:
            for _ in run_handlers(hook, handlers, lambda handler: handler(*args)):
                pass

    def _capture(self, recording: Recording) -> bool:
        if recording.halted:
            return False
        filename = self._storage.capture_path(recording.prefix, recording.next_number)
        self._call_hooks("timelapse.capture.pre", filename)
        self._event_bus.fire(Events.CAPTURE_START, {"file": filename})
        camera = self._webcams.snapshot_camera()
        error = None
        size = 0
        try:
            picture = self._webcams.take_snapshot(camera)
            atomic_write(filename, picture)
            size = len(picture)
        except (SnapshotError, OSError) as exc:
            error = str(exc)
        self._call_hooks("timelapse.capture.post", filename, error is None)
        if error is None:
            recording.next_number += 1
            self._event_bus.fire(Events.CAPTURE_DONE, {"file": filename})
            self._check_budget(recording, size)
            return True
        recording.errors += 1
        log.warning("timelapse frame %s not captured: %s", filename, error)
        self._event_bus.fire(Events.CAPTURE_FAILED, {
            "file": filename, "error": error, "webcamDisplay": camera.display_name if camera else None,
            "snapshotDisplay": camera.snapshot or None if camera else None,
            "webcamProvider": camera.provider if camera else None})
        return False

    def _check_budget(self, recording: Recording, size: int) -> None:
        """Keep the frames within ``webcam.maxCaptureSize``. The folder is counted once per
        recording and again only when the running total says the limit is passed, so a frame
        costs no folder scan (the capture thread shares the interpreter with the serial loop)."""
        limit = self._settings.get("webcam.maxCaptureSize")
        recording.own_bytes += size
        if recording.others_bytes is None:
            recordings = self._storage.recordings()
            recording.others_bytes = sum(info["bytes"] for prefix, info in recordings.items()
                                         if prefix != recording.prefix)
        if recording.others_bytes + recording.own_bytes <= limit:
            return
        _, used = self._storage.enforce_budget(limit, keep=[recording.prefix])
        recording.others_bytes = max(0, used - recording.own_bytes)
        if used > limit and not recording.halted:
            recording.halted = True
            log.warning("timelapse %s stops taking frames: it alone uses more than webcam.maxCaptureSize "
                        "(%d bytes); it will be rendered with the frames it has", recording.prefix, limit)

    def _finish(self, recording: Recording, success: bool) -> None:
        config = recording.config
        if recording.next_number == 0:
            if recording.errors:
                movie = os.path.join(self._storage.videos, "n/a")
                self._event_bus.fire(Events.MOVIE_FAILED, dict(RenderJob(recording.prefix, recording.gcode)
                                                               .payload(movie), returncode=0, out="",
                                                               error="No frames were captured", reason="no_frames"))
            return
        if config.post_roll > 0:
            self._event_bus.fire(Events.POSTROLL_START, {"postroll_duration": None, "postroll_length": config.post_roll,
                                                         "postroll_fps": config.fps})
            recording.halted = False  # the last picture is always worth having
            self._capture(recording)
            self._event_bus.fire(Events.POSTROLL_END, None)
        if config.renders(success):
            self._on_finished(RenderJob(recording.prefix, recording.gcode, "" if success else "-fail", config.fps,
                                        config.post_roll))
