"""Rendering recordings to video with ffmpeg: one job at a time, niced, and never during a print.

The renderer's thread takes queued jobs in order. A job waits while a print runs (unless
``webcam.renderWhilePrinting``) and for ``webcam.renderAfterPrintDelay`` seconds after one ends; a
print that starts while ffmpeg runs stops it (SIGSTOP) until the print is over, so rendering never
competes with the serial loop for the CPU. ffmpeg runs with ``webcam.renderNice`` added to its
niceness, without a shell, writing to a hidden temporary file that is renamed when it succeeded.
Progress comes from ffmpeg's ``-progress`` output (frames written of frames expected).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from octohost.events import Events

from .storage import THUMBNAIL_SUFFIX, TimelapseStorage

log = logging.getLogger(__name__)

WATERMARK = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "img", "watermark.png")
#: how often a waiting job re-checks whether it may start (print state, delay)
GATE_POLL = 1.0
STDERR_TAIL = 4000


@dataclass(frozen=True)
class RenderJob:
    prefix: str
    gcode: str | None = None
    postfix: str = ""
    fps: int = 25
    post_roll: int = 0

    def payload(self, movie: str) -> dict[str, Any]:
        """The ``MovieRendering``/``MovieDone``/``MovieFailed`` payload, as OctoPrint sends it."""
        return {"gcode": self.gcode if self.gcode is not None else "unknown", "movie": movie,
                "movie_basename": os.path.basename(movie), "movie_prefix": self.prefix}


@dataclass(frozen=True)
class Encoding:
    """How to encode: ffmpeg's settings and the snapshot camera's orientation."""

    ffmpeg: str = "ffmpeg"
    codec: str = "libx264"
    bitrate: str = "10000k"
    threads: int = 1
    flip_h: bool = False
    flip_v: bool = False
    rotate90: bool = False
    watermark: str | None = None

    @property
    def extension(self) -> str:
        return "mpg" if self.codec == "mpeg2video" else "mp4"

    @property
    def container(self) -> str:
        return "vob" if self.codec == "mpeg2video" else "mp4"


def filter_graph(encoding: Encoding, post_roll: float) -> str:
    """The ``-filter_complex`` graph: even size (yuv420p needs it), flips, rotation, the post-roll
    (the last frame held ``post_roll`` seconds) and the watermark in the lower left corner."""
    steps = ["scale=trunc(iw/2)*2:trunc(ih/2)*2", "format=yuv420p"]
    if encoding.flip_h:
        steps.append("hflip")
    if encoding.flip_v:
        steps.append("vflip")
    if encoding.rotate90:
        steps.append("transpose=2")
    if post_roll > 0:
        steps.append(f"tpad=stop_mode=clone:stop_duration={post_roll:g}")
    if encoding.watermark is None:
        return f"[0:v]{','.join(steps)}[out]"
    # the mark takes at most a fifth of the video's width (scale2ref: sized against the video)
    return (f"[0:v]{','.join(steps)}[v];[1:v][v]scale2ref=w='min(iw,main_w/5)':h=ow/a[mark][base];"
            "[base][mark]overlay=10:main_h-overlay_h-10,format=yuv420p[out]")


def ffmpeg_command(encoding: Encoding, input_pattern: str, output: str, fps: int, post_roll: float = 0) -> list[str]:
    """The ffmpeg argument list (no shell) that renders frames ``input_pattern`` (``%d``) to ``output``."""
    command = [encoding.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-framerate", str(fps), "-start_number", "0", "-i", input_pattern]
    if encoding.watermark is not None:
        command += ["-i", encoding.watermark]
    command += ["-filter_complex", filter_graph(encoding, post_roll), "-map", "[out]",
                "-r", str(fps), "-c:v", encoding.codec, "-threads", str(encoding.threads), "-b:v", encoding.bitrate,
                "-f", encoding.container, "-progress", "pipe:1", "-nostats", output]
    return command


def find_ffmpeg(configured: str) -> str | None:
    """The ffmpeg executable for ``webcam.ffmpeg`` (a path or a name on PATH), or None when missing."""
    if not configured:
        return None
    if os.sep in configured:
        return configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
    return shutil.which(configured)


def missing_ffmpeg_message(configured: str) -> str:
    return (f"ffmpeg was not found (webcam.ffmpeg is {configured!r}): timelapses cannot be rendered. "
            "Install it (Debian, Raspberry Pi OS: sudo apt install ffmpeg) or set webcam.ffmpeg to its path.")


class RenderFailed(Exception):
    def __init__(self, reason: str, message: str, returncode: int = 255, out: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.returncode = returncode
        self.out = out


class Renderer:
    """The render queue and its thread (started on first use)."""

    def __init__(self, settings: Any, storage: TimelapseStorage, event_bus: Any, encoding: Callable[[], Encoding],
                 is_printing: Callable[[], bool],
                 on_progress: Callable[[str, float], None] = lambda prefix, percent: None) -> None:
        self._settings = settings
        self._storage = storage
        self._event_bus = event_bus
        self._encoding = encoding
        self._is_printing = is_printing
        self._on_progress = on_progress
        self._queue: queue.Queue[RenderJob | None] = queue.Queue()
        self._gate = threading.Condition()
        self._not_before = 0.0
        self._current: RenderJob | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._suspended = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- what others see -------------------------------------------------------------------------

    @property
    def current(self) -> RenderJob | None:
        """The job being rendered (or waiting for its turn at the head of the queue)."""
        return self._current

    def queued(self) -> list[str]:
        with self._queue.mutex:
            return [job.prefix for job in self._queue.queue if job is not None]

    def enqueue(self, job: RenderJob) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="octohost-timelapse-render", daemon=True)
                self._thread.start()
        self._queue.put(job)
        log.info("timelapse %s queued for rendering (%d waiting)", job.prefix, self._queue.qsize())

    # -- print state (event bus thread) ----------------------------------------------------------

    def print_started(self) -> None:
        if self._settings.get("webcam.renderWhilePrinting"):
            return
        with self._gate:
            process = self._process
            if process is not None and process.poll() is None and not self._suspended:
                process.send_signal(signal.SIGSTOP)
                self._suspended = True
                log.info("a print started: rendering %s is paused until it ends", self._current and
                         self._current.prefix)

    def print_ended(self) -> None:
        with self._gate:
            self._not_before = time.monotonic() + self._settings.get("webcam.renderAfterPrintDelay")
            self._resume()
            self._gate.notify_all()

    def _resume(self) -> None:
        process = self._process
        if self._suspended and process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
        self._suspended = False

    def stop(self) -> None:
        """End the thread; a running ffmpeg is killed (its partial output is removed)."""
        with self._gate:
            self._stopped = True
            process = self._process
            if process is not None and process.poll() is None:
                self._resume()
                process.kill()
            self._gate.notify_all()
        self._queue.put(None)

    # -- the thread ------------------------------------------------------------------------------

    def _may_start(self) -> bool:
        if self._settings.get("webcam.renderWhilePrinting"):
            return True
        return not self._is_printing() and time.monotonic() >= self._not_before

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._stopped:
                return
            with self._gate:
                while not self._stopped and not self._may_start():
                    self._gate.wait(GATE_POLL)
            if self._stopped:
                return
            try:
                self.render(job)
            except Exception:
                log.exception("rendering timelapse %s failed unexpectedly", job.prefix)

    def render(self, job: RenderJob) -> bool:
        """Render ``job`` now, on the calling thread; fires the Movie* events. True on success."""
        encoding = self._encoding()
        output = os.path.join(self._storage.videos, f"{job.prefix}{job.postfix}.{encoding.extension}")
        self._current = job
        try:
            frames = self._storage.frame_count(job.prefix)
            if frames == 0:
                raise RenderFailed("no_frames", f"No frames of {job.prefix} to render", returncode=0)
            executable = find_ffmpeg(encoding.ffmpeg)
            if executable is None:
                raise RenderFailed("ffmpeg_missing", missing_ffmpeg_message(encoding.ffmpeg))
            self._event_bus.fire(Events.MOVIE_RENDERING, job.payload(output))
            self._on_progress(job.prefix, 0.0)
            self._encode(job, encoding, executable, output, frames)
        except RenderFailed as failure:
            log.warning("timelapse %s not rendered: %s", job.prefix, failure)
            self._event_bus.fire(Events.MOVIE_FAILED, dict(job.payload(output), returncode=failure.returncode,
                                                           out=failure.out, error=str(failure),
                                                           reason=failure.reason))
            return False
        finally:
            self._current = None
        self._storage.delete_recording(job.prefix)
        self._event_bus.fire(Events.MOVIE_DONE, job.payload(output))
        log.info("timelapse %s rendered to %s", job.prefix, output)
        return True

    def _encode(self, job: RenderJob, encoding: Encoding, executable: str, output: str, frames: int) -> None:
        folder, name = os.path.split(output)
        temporary = os.path.join(folder, f".{name}")
        pattern = self._storage.capture_path(job.prefix, 0).replace("-0.jpg", "-%d.jpg")
        command = _niced(ffmpeg_command(dataclasses.replace(encoding, ffmpeg=executable), pattern, temporary,
                                        job.fps, job.post_roll), self._settings.get("webcam.renderNice"))
        expected = frames + job.post_roll * job.fps
        log.debug("rendering: %s", command)
        with tempfile.TemporaryFile() as stderr:
            with self._gate:
                if self._stopped:
                    raise RenderFailed("stopped", "octohost is shutting down")
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
                self._process = process
                if self._is_printing() and not self._settings.get("webcam.renderWhilePrinting"):
                    process.send_signal(signal.SIGSTOP)  # a print started while we were getting here
                    self._suspended = True
            try:
                self._follow_progress(job, process, expected)
                returncode = process.wait()
            finally:
                with self._gate:
                    self._process = None
                    self._suspended = False
            if returncode != 0:
                stderr.seek(0)
                text = stderr.read()[-STDERR_TAIL:].decode("utf-8", "replace").strip()
                _remove(temporary)
                reason = "stopped" if self._stopped else "returncode"
                raise RenderFailed(reason, f"ffmpeg exited with {returncode}: {text or 'no message'}", returncode)
        self._thumbnail(executable, temporary, output + THUMBNAIL_SUFFIX)  # first: a listed video has its picture
        os.replace(temporary, output)
        self._on_progress(job.prefix, 100.0)

    def _follow_progress(self, job: RenderJob, process: subprocess.Popen[bytes], expected: int) -> None:
        assert process.stdout is not None
        last = -1
        for raw in process.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "frame" and value.isdigit() and expected > 0:
                percent = min(100, int(value) * 100 // expected)
                if percent != last:
                    last = percent
                    self._on_progress(job.prefix, float(percent))

    def _thumbnail(self, executable: str, movie: str, thumbnail: str) -> None:
        """A picture of ``movie``'s last second, for the list; a failure only costs the picture."""
        command = [executable, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-sseof", "-1", "-i", movie,
                   "-update", "1", "-vf", "scale=320:-2", "-q:v", "4", "-f", "image2", thumbnail]
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            if result.returncode != 0:
                log.warning("no thumbnail for %s: %s", movie, result.stderr[-500:].decode("utf-8", "replace"))
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("no thumbnail for %s: %s", movie, exc)


def _niced(command: list[str], increment: int) -> list[str]:
    """``command`` run through nice(1), so ffmpeg and every thread it starts run at low priority
    (renicing after the start could miss threads it has already started)."""
    nice = shutil.which("nice")
    if increment <= 0 or nice is None:
        return command
    return [nice, "-n", str(increment)] + command


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
