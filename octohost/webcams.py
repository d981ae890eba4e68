"""Cameras: the ones configured in ``webcam`` settings and those plugins provide, and their snapshots.

A camera is a stream URL for the UI and, optionally, a snapshot source: an http(s) URL octohost
fetches itself, or a ``WebcamProviderPlugin``'s ``take_webcam_snapshot``. Cameras are described in
OctoPrint 1.11's shape (its ``Webcam`` model with a ``compat`` part and the provider's id), because
clients read ``/api/settings``' ``webcam.webcams`` in that shape.

Snapshots come from outside and are client-triggered, so every fetch is bounded: only http and
https URLs, a total deadline of ``webcam.snapshotTimeout`` seconds and at most
``webcam.maxSnapshotSize`` bytes. Fetches block; callers run them off the IOLoop and off the serial
loops (the snapshot handler on the executor, the timelapse on its own capture thread).
"""

from __future__ import annotations

import logging
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: the camera the top-level ``webcam.stream``/``snapshot``/... settings describe (OctoPrint's name)
CLASSIC = "classic"
#: provider id of cameras from settings (OctoPrint's bundled plugin that provides them there)
SETTINGS_PROVIDER = "classicwebcam"
RATIOS = ("16:9", "4:3")
ICE_SERVERS = ["stun:stun.l.google.com:19302"]  # OctoPrint's default, reported for WebRTC-capable clients
CHUNK = 64 * 1024
#: keys a camera in ``webcam.cameras`` may have, with their types
CAMERA_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,), "displayName": (str,), "stream": (str,), "snapshot": (str,), "flipH": (bool,),
    "flipV": (bool,), "rotate90": (bool,), "streamRatio": (str,)}
MAX_CAMERAS = 16


class SnapshotError(Exception):
    """A snapshot could not be taken; the message says why, for a log line or an HTTP answer."""


class CameraConfigError(ValueError):
    """``webcam.cameras`` is not a list of valid camera entries."""


@dataclass(frozen=True)
class Camera:
    """One camera as the UI and the timelapse use it."""

    name: str
    display_name: str
    stream: str = ""
    snapshot: str = ""
    flip_h: bool = False
    flip_v: bool = False
    rotate90: bool = False
    stream_ratio: str = "16:9"
    stream_timeout: int = 5
    snapshot_timeout: int = 5
    snapshot_ssl_validation: bool = True
    cache_buster: bool = False
    provider: str = SETTINGS_PROVIDER
    plugin: Any = field(default=None, compare=False, repr=False)
    plugin_can_snapshot: bool = False
    extras: dict[str, Any] = field(default_factory=dict, compare=False)
    #: False for a plugin camera without OctoPrint's ``compat`` part (no stream or snapshot URL)
    has_compat: bool = True

    @property
    def can_snapshot(self) -> bool:
        return self.plugin_can_snapshot if self.plugin is not None else bool(self.snapshot.strip())

    def as_dict(self) -> dict[str, Any]:
        """OctoPrint's ``Webcam.model_dump()`` plus ``provider`` (``webcam.webcams`` entries)."""
        compat = {"streamTimeout": self.stream_timeout, "streamRatio": self.stream_ratio,
                  "streamWebrtcIceServers": list(ICE_SERVERS), "cacheBuster": self.cache_buster,
                  "stream": self.stream, "snapshot": self.snapshot,
                  "snapshotTimeout": self.snapshot_timeout, "snapshotSslValidation": self.snapshot_ssl_validation}
        extras = dict(self.extras)
        if self.plugin is None:  # as OctoPrint's classicwebcam plugin describes its camera
            extras.update({key: compat[key] for key in ("stream", "streamTimeout", "streamRatio",
                                                        "streamWebrtcIceServers", "cacheBuster")})
        return {"name": self.name, "displayName": self.display_name, "canSnapshot": self.can_snapshot,
                "snapshotDisplay": self.snapshot if self.has_compat else None, "flipH": self.flip_h,
                "flipV": self.flip_v, "rotate90": self.rotate90, "extras": extras,
                "compat": compat if self.has_compat else None, "provider": self.provider}


def check_cameras(value: Any) -> list[dict[str, Any]]:
    """Validate ``webcam.cameras`` (a POST or config.yaml); returns it, raises CameraConfigError."""
    if not isinstance(value, list):
        raise CameraConfigError("webcam.cameras must be a list")
    if len(value) > MAX_CAMERAS:
        raise CameraConfigError(f"webcam.cameras holds at most {MAX_CAMERAS} cameras")
    names = {CLASSIC}
    for index, entry in enumerate(value):
        where = f"webcam.cameras[{index}]"
        if not isinstance(entry, dict):
            raise CameraConfigError(f"{where} must be an object")
        for key, item in entry.items():
            if key not in CAMERA_KEYS:
                raise CameraConfigError(f"{where}: unknown key {key!r}")
            if isinstance(item, bool) and bool not in CAMERA_KEYS[key] or not isinstance(item, CAMERA_KEYS[key]):
                raise CameraConfigError(f"{where}.{key} has the wrong type")
            if isinstance(item, str) and len(item) > 2048:
                raise CameraConfigError(f"{where}.{key} is too long")
        name = entry.get("name")
        if not name or not name.strip():
            raise CameraConfigError(f"{where}.name is required")
        if name in names:
            raise CameraConfigError(f"{where}.name {name!r} is used twice (or is 'classic')")
        names.add(name)
        if entry.get("streamRatio", "16:9") not in RATIOS:
            raise CameraConfigError(f"{where}.streamRatio must be one of {', '.join(RATIOS)}")
        for key in ("stream", "snapshot"):
            url = entry.get(key, "")
            if key == "snapshot" and url and not url.lower().startswith(("http://", "https://")):
                raise CameraConfigError(f"{where}.snapshot must be an http:// or https:// URL")
    return value


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


class Webcams:
    """The cameras of this installation: from settings first, then from plugins (by plugin order)."""

    def __init__(self, settings: Any, plugin_manager: Any = None) -> None:
        self._settings = settings
        self._plugin_manager = plugin_manager

    # -- listing -------------------------------------------------------------------------------

    def all(self) -> list[Camera]:
        cameras = self._from_settings()
        names = {camera.name for camera in cameras}
        for camera in self._from_plugins():
            if camera.name in names:
                log.warning("camera %r of plugin %s has a name already in use; skipped", camera.name, camera.provider)
                continue
            names.add(camera.name)
            cameras.append(camera)
        return cameras

    def get(self, name: str) -> Camera | None:
        return next((camera for camera in self.all() if camera.name == name), None)

    def default(self) -> Camera | None:
        """The camera the UI shows: ``webcam.defaultWebcam``, else the first with a stream."""
        return self._by_setting("webcam.defaultWebcam", lambda camera: bool(camera.stream))

    def snapshot_camera(self) -> Camera | None:
        """The camera snapshots come from: ``webcam.snapshotWebcam``, else the first that can take one."""
        return self._by_setting("webcam.snapshotWebcam", lambda camera: camera.can_snapshot)

    def _by_setting(self, key: str, usable: Any) -> Camera | None:
        """The camera named by setting ``key`` if ``usable(camera)``, else the first usable one, else
        the named one (so a snapshot camera set up elsewhere works without naming it)."""
        cameras = self.all()
        wanted = self._settings.get(key)
        chosen = next((camera for camera in cameras if camera.name == wanted), None)
        if chosen is not None and usable(chosen):
            return chosen
        return next((camera for camera in cameras if usable(camera)), chosen)

    def _from_settings(self) -> list[Camera]:
        get = self._settings.get
        common = {"stream_timeout": get("webcam.streamTimeout"), "snapshot_timeout": get("webcam.snapshotTimeout"),
                  "snapshot_ssl_validation": get("webcam.snapshotSslValidation"),
                  "cache_buster": get("webcam.cacheBuster")}
        cameras = [Camera(CLASSIC, "Classic Webcam", stream=get("webcam.stream"), snapshot=get("webcam.snapshot"),
                          flip_h=get("webcam.flipH"), flip_v=get("webcam.flipV"), rotate90=get("webcam.rotate90"),
                          stream_ratio=get("webcam.streamRatio"), **common)]
        try:
            extra = check_cameras(get("webcam.cameras"))
        except CameraConfigError as exc:
            log.error("ignoring webcam.cameras: %s", exc)
            extra = []
        for entry in extra:
            cameras.append(Camera(entry["name"], entry.get("displayName") or entry["name"],
                                  stream=entry.get("stream", ""), snapshot=entry.get("snapshot", ""),
                                  flip_h=entry.get("flipH", False), flip_v=entry.get("flipV", False),
                                  rotate90=entry.get("rotate90", False),
                                  stream_ratio=entry.get("streamRatio", "16:9"), **common))
        return cameras

    def _from_plugins(self) -> Iterable[Camera]:
        """Cameras of ``WebcamProviderPlugin`` implementations (``get_webcam_configurations()``)."""
        if self._plugin_manager is None:
            return []
        cameras = []
        for identifier, result in self._plugin_manager.call_implementations("get_webcam_configurations"):
            if result is None:
                continue
            if not isinstance(result, (list, tuple)):
                log.error("plugin %s returned %r from get_webcam_configurations, not a list", identifier, result)
                continue
            plugin = self._plugin_manager.plugins[identifier].implementation
            for config in result:
                camera = self._plugin_camera(identifier, plugin, config)
                if camera is not None:
                    cameras.append(camera)
        return cameras

    @staticmethod
    def _plugin_camera(identifier: str, plugin: Any, config: Any) -> Camera | None:
        name = _attr(config, "name")
        if not isinstance(name, str) or not name:
            log.warning("plugin %s returned a camera without a name; skipped", identifier)
            return None
        compat = _attr(config, "compat")
        details: dict[str, Any] = {"has_compat": compat is not None}
        if compat is not None:
            ratio = _enum_value(_attr(compat, "streamRatio", "16:9"))
            details = {"stream": _attr(compat, "stream") or "", "snapshot": _attr(compat, "snapshot") or "",
                       "stream_ratio": ratio if ratio in RATIOS else "16:9",
                       "stream_timeout": _attr(compat, "streamTimeout", 5),
                       "snapshot_timeout": _attr(compat, "snapshotTimeout", 5),
                       "snapshot_ssl_validation": bool(_attr(compat, "snapshotSslValidation", True)),
                       "cache_buster": bool(_attr(compat, "cacheBuster", False))}
        return Camera(name, _attr(config, "displayName") or name, flip_h=bool(_attr(config, "flipH", False)),
                      flip_v=bool(_attr(config, "flipV", False)), rotate90=bool(_attr(config, "rotate90", False)),
                      provider=identifier, plugin=plugin, plugin_can_snapshot=bool(_attr(config, "canSnapshot")),
                      extras=dict(_attr(config, "extras") or {}), **details)

    # -- snapshots -----------------------------------------------------------------------------

    def take_snapshot(self, camera: Camera | None = None) -> bytes:
        """A JPEG from ``camera`` (default: the snapshot camera); raises :class:`SnapshotError`."""
        if camera is None:
            camera = self.snapshot_camera()
        if camera is None or not camera.can_snapshot:
            raise SnapshotError("No camera that can take snapshots is configured (webcam.snapshot)")
        limit = self._settings.get("webcam.maxSnapshotSize")
        deadline = time.monotonic() + camera.snapshot_timeout
        if camera.plugin is not None:
            return _read_plugin_snapshot(camera, limit, deadline)
        return fetch_url(camera.snapshot, limit, deadline, verify=camera.snapshot_ssl_validation)


def _read_plugin_snapshot(camera: Camera, limit: int, deadline: float) -> bytes:
    try:
        chunks = camera.plugin.take_webcam_snapshot(camera.name)
        data = bytearray()
        for chunk in chunks or ():
            data += chunk
            if len(data) > limit:
                raise SnapshotError(f"Snapshot of camera {camera.name!r} is larger than {limit} bytes")
            if time.monotonic() > deadline:
                raise SnapshotError(f"Snapshot of camera {camera.name!r} took longer than {camera.snapshot_timeout} s")
    except SnapshotError:
        raise
    except Exception as exc:
        log.debug("plugin %s failed to take a snapshot", camera.provider, exc_info=True)
        raise SnapshotError(f"Plugin {camera.provider} could not take a snapshot: {exc}") from None
    if not data:
        raise SnapshotError(f"Plugin {camera.provider} returned an empty snapshot")
    return bytes(data)


def fetch_url(url: str, limit: int, deadline: float, verify: bool = True) -> bytes:
    """GET ``url`` (http or https only) within ``deadline`` (monotonic) and ``limit`` bytes.

    Each socket operation waits at most the time left when the request started, and the deadline
    is checked between chunks, so a camera that drips bytes costs at most twice the timeout.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise SnapshotError("The snapshot URL must start with http:// or https://")
    context = None
    if url.lower().startswith("https://") and not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    remaining = deadline - time.monotonic()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "octohost"})
        with urllib.request.urlopen(request, timeout=max(0.1, remaining), context=context) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise SnapshotError(f"The camera's snapshot is larger than {limit} bytes")
            data = bytearray()
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SnapshotError("The camera took too long to send a snapshot")
                chunk = response.read1(min(CHUNK, limit + 1 - len(data)))  # what has arrived, not all of it
                if not chunk:
                    break
                data += chunk
                if len(data) > limit:
                    raise SnapshotError(f"The camera's snapshot is larger than {limit} bytes")
    except SnapshotError:
        raise
    except urllib.error.HTTPError as exc:
        raise SnapshotError(f"The camera answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SnapshotError(f"Could not reach the camera: {reason}") from None
    if not data:
        raise SnapshotError("The camera sent an empty snapshot")
    return bytes(data)
