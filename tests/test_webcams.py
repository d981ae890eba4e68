"""Cameras from settings and plugins, and snapshots bounded in time and size (octohost/webcams.py)."""

import time
import types

import pytest

from octohost.plugin import PluginManager
from octohost.webcams import CameraConfigError, SnapshotError, Webcams, check_cameras


def test_the_classic_camera_comes_from_the_flat_settings(settings, camera):
    settings.update([(("webcam", "stream"), camera.stream_url), (("webcam", "snapshot"), camera.snapshot_url),
                     (("webcam", "flipH"), True), (("webcam", "streamRatio"), "4:3")])
    webcams = Webcams(settings)
    [classic] = webcams.all()
    assert classic.name == "classic" and classic.can_snapshot and classic.flip_h
    described = classic.as_dict()
    assert described["provider"] == "classicwebcam" and described["canSnapshot"] is True
    assert described["compat"]["stream"] == camera.stream_url and described["compat"]["streamRatio"] == "4:3"
    assert set(described) == {"name", "displayName", "canSnapshot", "snapshotDisplay", "flipH", "flipV", "rotate90",
                              "extras", "compat", "provider"}


def test_snapshots_differ_from_request_to_request(settings, camera, camera_frames):
    settings.set("webcam.snapshot", camera.snapshot_url)
    webcams = Webcams(settings)
    first, second = webcams.take_snapshot(), webcams.take_snapshot()
    assert first == camera_frames[0] and second == camera_frames[1]


def test_more_cameras_and_which_one_takes_snapshots(settings, camera):
    settings.set("webcam.cameras", [{"name": "top", "displayName": "Top", "snapshot": camera.snapshot_url,
                                     "stream": camera.stream_url, "rotate90": True}])
    webcams = Webcams(settings)
    assert [c.name for c in webcams.all()] == ["classic", "top"]
    # the classic camera has no snapshot URL: the first camera that can take one is used
    assert webcams.snapshot_camera().name == "top"
    assert webcams.default().name == "top"
    settings.set("webcam.snapshot", camera.snapshot_url)
    assert webcams.snapshot_camera().name == "classic"
    settings.set("webcam.snapshotWebcam", "top")
    assert webcams.snapshot_camera().name == "top"


@pytest.mark.parametrize("cameras, message", [
    ({"name": "x"}, "must be a list"),
    ([{"displayName": "no name"}], "name is required"),
    ([{"name": "classic"}], "used twice"),
    ([{"name": "a"}, {"name": "a"}], "used twice"),
    ([{"name": "a", "snapshot": "file:///etc/passwd"}], "http:// or https://"),
    ([{"name": "a", "flipH": "yes"}], "wrong type"),
    ([{"name": "a", "streamRatio": "21:9"}], "streamRatio"),
    ([{"name": "a", "color": "red"}], "unknown key"),
    ([{"name": str(i)} for i in range(17)], "at most 16"),
])
def test_bad_camera_lists_are_refused(cameras, message):
    with pytest.raises(CameraConfigError, match=message):
        check_cameras(cameras)


def test_a_snapshot_larger_than_the_limit_is_refused(settings, camera):
    settings.update([(("webcam", "snapshot"), camera.snapshot_url), (("webcam", "maxSnapshotSize"), 1024 * 1024)])
    camera.behaviour = "huge"
    with pytest.raises(SnapshotError, match="larger than 1048576 bytes"):
        Webcams(settings).take_snapshot()


def test_a_camera_that_drips_bytes_is_given_up_on_at_the_deadline(settings, camera):
    settings.update([(("webcam", "snapshot"), camera.snapshot_url), (("webcam", "snapshotTimeout"), 1)])
    camera.behaviour = "slow"  # a whole frame would take minutes
    started = time.monotonic()
    with pytest.raises(SnapshotError, match="too long|Could not reach"):
        Webcams(settings).take_snapshot()
    assert time.monotonic() - started < 2.5


def test_camera_errors_and_bad_urls_are_snapshot_errors(settings, camera):
    settings.set("webcam.snapshot", camera.snapshot_url)
    camera.behaviour = "error"
    with pytest.raises(SnapshotError, match="HTTP 500"):
        Webcams(settings).take_snapshot()
    settings.set("webcam.snapshot", "file:///etc/passwd")
    with pytest.raises(SnapshotError, match="http:// or https://"):
        Webcams(settings).take_snapshot()
    settings.set("webcam.snapshot", "")
    with pytest.raises(SnapshotError, match="No camera"):
        Webcams(settings).take_snapshot()


class _Webcam:
    """Shaped like OctoPrint's pydantic ``Webcam`` (attributes, a ``compat`` part)."""

    def __init__(self, name, **fields):
        self.name = name
        self.displayName = fields.pop("displayName", name)
        self.compat = fields.pop("compat", None)
        self.__dict__.update(fields)


def test_webcam_provider_plugins_add_cameras_and_take_their_snapshots(settings, camera_frames):
    taken = []

    class Provider:
        def get_webcam_configurations(self):
            return [_Webcam("plugcam", displayName="Plugin camera", canSnapshot=True, flipV=True,
                            compat=types.SimpleNamespace(stream="http://example.invalid/stream", snapshot="",
                                                         streamRatio="4:3")),
                    _Webcam("classic")]  # a name already in use: skipped

        def take_webcam_snapshot(self, name):
            taken.append(name)
            return iter([camera_frames[0][:100], camera_frames[0][100:]])

    module = types.SimpleNamespace(__plugin_name__="Provider", __plugin_implementation__=Provider())
    manager = PluginManager(settings)
    manager.register_module("provider", module)
    webcams = Webcams(settings, manager)
    assert [c.name for c in webcams.all()] == ["classic", "plugcam"]
    plugcam = webcams.get("plugcam")
    assert plugcam.provider == "provider" and plugcam.flip_v and plugcam.stream_ratio == "4:3"
    assert plugcam.as_dict()["provider"] == "provider" and plugcam.as_dict()["compat"]["streamRatio"] == "4:3"
    assert webcams.snapshot_camera().name == "plugcam"
    assert webcams.take_snapshot() == camera_frames[0] and taken == ["plugcam"]
