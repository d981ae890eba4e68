"""The timelapse folders: rendered videos, and frames waiting to be rendered, with a disk budget.

Frames are ``<prefix>-<number>.jpg`` in the capture folder (``folder.timelapseTmp``), numbered from
0 without gaps (ffmpeg's image sequence stops at the first gap); a recording's prefix is
``<gcode name>_<YYYYmmddHHMMSS>``, restricted to safe characters so it can go into an ffmpeg input
pattern and a URL as it is. Videos are ``<prefix>[-fail].<ext>`` in ``folder.timelapse`` with an
optional ``<video>.thumb.jpg``. Names from clients only ever select among the entries listed here;
nothing is globbed with them.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

CAPTURE_SUFFIX = ".jpg"
THUMBNAIL_SUFFIX = ".thumb.jpg"
VIDEO_EXTENSIONS = ("mpg", "mpeg", "mp4", "m4v", "mkv")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+]+")


def capture_prefix(gcode_name: str, now: float | None = None) -> str:
    """The prefix of a new recording: the file's base name, made safe, and the local time."""
    base = os.path.splitext(os.path.basename(gcode_name or "timelapse"))[0]
    base = _UNSAFE.sub("_", base).strip("._") or "timelapse"
    return f"{base[:100]}_{time.strftime('%Y%m%d%H%M%S', time.localtime(now))}"


def split_capture(name: str) -> tuple[str, int] | None:
    """``("prefix", number)`` of a frame file name, or None for anything else."""
    if not name.endswith(CAPTURE_SUFFIX):
        return None
    prefix, dash, number = name[: -len(CAPTURE_SUFFIX)].rpartition("-")
    if not dash or not prefix or not number.isdigit():
        return None
    return prefix, int(number)


def formatted_size(size: float) -> str:
    """A byte count as OctoPrint shows it (``"1.5MB"``)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:3.1f}{unit}"
        size /= 1024
    return f"{size:3.1f}TB"


def formatted_date(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


class TimelapseStorage:
    """Listing, naming and removing timelapse files; safe to call from any thread."""

    def __init__(self, videos: str, captures: str, extensions: Callable[[], Iterable[str]] = lambda: ()) -> None:
        self.videos = videos
        self.captures = captures
        self._extra_extensions = extensions
        self._extensions: frozenset[str] | None = None
        self._lock = threading.RLock()

    # -- videos --------------------------------------------------------------------------------

    def extensions(self) -> frozenset[str]:
        """Video extensions: the built-in ones and those of ``timelapse.extensions`` hooks (asked once)."""
        if self._extensions is None:
            extra = {str(ext).lower().lstrip(".") for ext in self._extra_extensions() if isinstance(ext, str)}
            self._extensions = frozenset(VIDEO_EXTENSIONS) | extra
        return self._extensions

    def is_video(self, name: str) -> bool:
        return ("." in name and not name.startswith(".") and "/" not in name
                and name.rsplit(".", 1)[1].lower() in self.extensions())

    def is_thumbnail(self, name: str) -> bool:
        return name.endswith(THUMBNAIL_SUFFIX) and self.is_video(name[: -len(THUMBNAIL_SUFFIX)])

    def videos_modified(self) -> float:
        return os.stat(self.videos).st_mtime

    def list_videos(self) -> list[dict[str, Any]]:
        """Finished videos in OctoPrint's shape (``url`` is added by the API), newest first."""
        result = []
        with os.scandir(self.videos) as entries:
            for entry in entries:
                if not entry.is_file() or not self.is_video(entry.name):
                    continue
                stat = entry.stat()
                thumbnail = entry.name + THUMBNAIL_SUFFIX
                result.append({"name": entry.name, "size": formatted_size(stat.st_size), "bytes": stat.st_size,
                               "thumbnail": thumbnail if os.path.isfile(os.path.join(self.videos, thumbnail))
                               else None,
                               "timestamp": stat.st_mtime, "date": formatted_date(stat.st_mtime)})
        result.sort(key=lambda item: item["timestamp"], reverse=True)
        return result

    def video_path(self, name: str) -> str | None:
        """Path of an existing video or its thumbnail named ``name`` (a plain file name), else None."""
        if not (self.is_video(name) or self.is_thumbnail(name)) or os.path.basename(name) != name:
            return None
        path = os.path.join(self.videos, name)
        return path if os.path.isfile(path) else None

    def delete_video(self, name: str) -> bool:
        """Remove a video and its thumbnail; False when there is no such video."""
        if not self.is_video(name):
            return False
        path = self.video_path(name)
        if path is None:
            return False
        os.remove(path)
        try:
            os.remove(path + THUMBNAIL_SUFFIX)
        except FileNotFoundError:
            pass
        return True

    # -- captures ------------------------------------------------------------------------------

    def capture_path(self, prefix: str, number: int) -> str:
        return os.path.join(self.captures, f"{prefix}-{number}{CAPTURE_SUFFIX}")

    def captures_modified(self) -> float:
        return os.stat(self.captures).st_mtime

    def recordings(self) -> dict[str, dict[str, Any]]:
        """``{prefix: {count, bytes, oldest, newest}}`` of the frames in the capture folder."""
        found: dict[str, dict[str, Any]] = {}
        with os.scandir(self.captures) as entries:
            for entry in entries:
                parts = split_capture(entry.name)
                if parts is None:
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # removed meanwhile
                    continue
                info = found.setdefault(parts[0], {"count": 0, "bytes": 0, "oldest": stat.st_mtime,
                                                   "newest": stat.st_mtime})
                info["count"] += 1
                info["bytes"] += stat.st_size
                info["oldest"] = min(info["oldest"], stat.st_mtime)
                info["newest"] = max(info["newest"], stat.st_mtime)
        return found

    def frame_count(self, prefix: str) -> int:
        info = self.recordings().get(prefix)
        return info["count"] if info else 0

    def delete_recording(self, prefix: str) -> bool:
        """Remove the frames of one recording (exactly this prefix); False when it had none."""
        removed = False
        with self._lock, os.scandir(self.captures) as entries:
            for entry in entries:
                parts = split_capture(entry.name)
                if parts is not None and parts[0] == prefix:
                    try:
                        os.remove(entry.path)
                        removed = True
                    except FileNotFoundError:
                        pass
        return removed

    def remove_old(self, days: int, keep: Iterable[str] = ()) -> list[str]:
        """Remove recordings whose newest frame is older than ``days``; returns their prefixes."""
        cutoff = time.time() - days * 86400
        keep = set(keep)
        old = [prefix for prefix, info in self.recordings().items() if info["newest"] < cutoff and prefix not in keep]
        for prefix in old:
            self.delete_recording(prefix)
            log.info("removed unrendered timelapse %s (older than %d days)", prefix, days)
        return old

    def enforce_budget(self, limit: int, keep: Iterable[str] = ()) -> tuple[list[str], int]:
        """Remove the oldest recordings (never those in ``keep``) until the frames use at most
        ``limit`` bytes; returns the removed prefixes and the bytes still used."""
        keep = set(keep)
        recordings = self.recordings()
        used = sum(info["bytes"] for info in recordings.values())
        removed = []
        for prefix, info in sorted(recordings.items(), key=lambda item: item[1]["oldest"]):
            if used <= limit:
                break
            if prefix in keep:
                continue
            self.delete_recording(prefix)
            used -= info["bytes"]
            removed.append(prefix)
            log.warning("unrendered timelapse %s removed: the unrendered timelapses used more than "
                        "webcam.maxCaptureSize (%d bytes)", prefix, limit)
        return removed, used
