"""Differential test of the timelapse and webcam API: the same requests to octohost and to a real
OctoPrint 1.11.8 (tests/server/octoprint_reference.py), both with the test camera configured, ffmpeg
set, the same finished video and the same unrendered frames in their folders.

Status codes, body kinds, JSON key sets and value types must agree unless
octoprint_timelapse_allowlist.yaml names the difference with a reason (this module keeps its own
list, beside the main differential test's).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from api_shapes import Allowlist, response_differences, shape_differences
from octoprint_reference import Reference, missing_reason

from support.camera import TestCamera

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pw"
USERS = {"admin": ["admins"], "user": ["users"], "viewer": ["readonly"]}
ALLOWLIST = Path(__file__).with_name("octoprint_timelapse_allowlist.yaml")
VIDEO = "cube_20261205120000.mp4"
PREFIX = "part_20261205130000"


def _skip_reason():
    reason = missing_reason()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    return reason


def _video(folder):
    path = os.path.join(folder, VIDEO)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=64x48:rate=5", "-frames:v", "5", "-pix_fmt", "yuv420p", path],
                   check=True, timeout=60)
    return path


def _frames(folder, frames):
    os.makedirs(folder, exist_ok=True)
    for number, data in enumerate(frames[:3]):
        with open(os.path.join(folder, f"{PREFIX}-{number}.jpg"), "wb") as f:
            f.write(data)


class Side:
    def __init__(self, name, url, keys):
        self.name, self.url, self.keys = name, url.rstrip("/"), keys

    def request(self, method, path, who="admin", **kwargs):
        headers = {"X-Api-Key": self.keys[who]} if who in self.keys else {}
        return requests.request(method, self.url + path, headers=headers, timeout=60, allow_redirects=False,
                                **kwargs)


class Comparison:
    def __init__(self, ours, theirs):
        self.sides = (ours, theirs)
        self.allowlist = Allowlist(ALLOWLIST)
        self.unlisted = []

    def record(self, label, details):
        for detail in details:
            line = f"{label}: {detail}"
            if not self.allowlist.allowed(line):
                self.unlisted.append(line)

    def compare(self, method, path, who="admin", **kwargs):
        answers = [side.request(method, path, who, **kwargs) for side in self.sides]
        body = kwargs.get("json", kwargs.get("data"))
        label = f"{method} {path}" + (f" {json.dumps(body, sort_keys=True)}" if body is not None else "")
        self.record(f"{label} [{who}]", response_differences(*answers))
        return answers

    def check(self):
        unlisted, self.unlisted = self.unlisted, []
        assert not unlisted, f"{len(unlisted)} unlisted differences (octohost != octoprint):\n" + "\n".join(unlisted)


@pytest.fixture(scope="module")
def pair(start_module_server, tmp_path_factory, camera_frames):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    camera = TestCamera(camera_frames)
    keys = {name: f"{name.upper()}KEY".ljust(32, "0") for name in USERS}
    reference = Reference(tmp_path_factory.mktemp("octoprint-tl"), {n: (g, keys[n]) for n, g in USERS.items()})
    reference.prepare(PASSWORD)
    config = json.loads((reference.basedir / "config.yaml").read_text())
    config["webcam"] = {"ffmpeg": shutil.which("ffmpeg"), "timelapse": {
        "type": "zchange", "fps": 25, "options": {"retractionZHop": 0.0}}}  # without it OctoPrint does not start
    # _config_version: the classic webcam plugin would otherwise "migrate" (empty) settings over these
    config["plugins"]["classicwebcam"] = {"stream": camera.stream_url, "snapshot": camera.snapshot_url,
                                          "_config_version": 1}
    (reference.basedir / "config.yaml").write_text(json.dumps(config))
    (reference.basedir / "timelapse").mkdir()
    _video(str(reference.basedir / "timelapse"))
    _frames(str(reference.basedir / "timelapse" / "tmp"), camera_frames)
    ours = start_module_server(settings_values={"webcam.stream": camera.stream_url,
                                                "webcam.snapshot": camera.snapshot_url,
                                                "webcam.timelapse.type": "zchange"})
    _video(ours.context.timelapse.storage.videos)
    _frames(ours.context.timelapse.storage.captures, camera_frames)
    reference.start()
    try:
        yield Comparison(Side("octohost", ours.url, ours.keys), Side("octoprint", reference.url, reference.keys))
    finally:
        reference.stop()
        camera.close()


def test_listing_and_configuration(pair):
    ours, theirs = (answer.json() for answer in pair.compare("GET", "/api/timelapse?unrendered=true"))
    assert [f["name"] for f in ours["files"]] == [f["name"] for f in theirs["files"]] == [VIDEO]
    assert [u["name"] for u in ours["unrendered"]] == [u["name"] for u in theirs["unrendered"]] == [PREFIX]
    assert ours["unrendered"][0]["count"] == theirs["unrendered"][0]["count"] == 3
    assert ours["config"] == theirs["config"] and ours["config"]["type"] == "zchange"
    for who in ("admin", "viewer", "none"):
        pair.compare("GET", "/api/timelapse", who)
        pair.compare("GET", "/api/timelapse?unrendered=true", who)
    for body in ({"type": "timed", "interval": 5, "postRoll": 1, "fps": 30}, {"type": "zchange", "retractionZHop": 0.4,
                 "minDelay": 2, "renderAfterPrint": "success"}, {"type": "off"}, {},
                 {"type": "timed", "fps": 0}, {"type": "timed", "interval": -1}, {"type": "zchange", "minDelay": "x"},
                 {"type": "timed", "renderAfterPrint": "sometimes"}):
        pair.compare("POST", "/api/timelapse", "admin", json=body)
    pair.compare("POST", "/api/timelapse", "admin", data={"type": "timed", "interval": "3"})
    pair.compare("POST", "/api/timelapse", "viewer", json={"type": "off"})
    ours, theirs = (answer.json() for answer in pair.compare("POST", "/api/timelapse", "admin",
                                                             json={"type": "timed", "interval": 4, "fps": 10}))
    assert ours["config"] == theirs["config"] == {"type": "timed", "interval": 4, "fps": 10, "postRoll": 0,
                                                  "renderAfterPrint": "always"}
    pair.compare("POST", "/api/timelapse", "admin", json={"type": "zchange"})
    pair.check()


def test_downloads_and_the_snapshot(pair):
    for who in ("admin", "viewer", "none"):
        pair.compare("GET", f"/api/timelapse/{VIDEO}", who)
        pair.compare("GET", f"/downloads/timelapse/{VIDEO}", who)
        pair.compare("GET", "/downloads/camera/current", who)
    pair.compare("GET", "/downloads/timelapse/missing.mp4", "admin")
    ours, theirs = (side.request("GET", "/downloads/camera/current") for side in pair.sides)
    assert ours.headers["Content-Type"] == theirs.headers["Content-Type"] == "image/jpeg"
    assert ours.content[:2] == theirs.content[:2] == b"\xff\xd8"
    pair.check()


def test_webcam_settings(pair):
    for who in ("admin", "user"):
        ours, theirs = (side.request("GET", "/api/settings", who).json() for side in pair.sides)
        pair.record(f"GET /api/settings [{who}] webcam", shape_differences(ours["webcam"], theirs["webcam"]))
        for key in ("streamUrl", "snapshotUrl", "defaultWebcam", "snapshotWebcam", "flipH", "bitrate"):
            assert ours["webcam"][key] == theirs["webcam"][key], key
        assert [w["name"] for w in ours["webcam"]["webcams"]] == [w["name"] for w in theirs["webcam"]["webcams"]]
        assert ours["webcam"]["webcams"][0]["canSnapshot"] is theirs["webcam"]["webcams"][0]["canSnapshot"] is True
    pair.check()


def test_unrendered_commands(pair):
    pair.compare("POST", f"/api/timelapse/unrendered/{PREFIX}", "viewer", json={"command": "render"})
    pair.compare("POST", f"/api/timelapse/unrendered/{PREFIX}", "admin", json={"command": "explode"})
    pair.compare("DELETE", f"/api/timelapse/unrendered/{PREFIX}", "viewer")
    pair.compare("DELETE", f"/api/timelapse/unrendered/{PREFIX}", "admin")
    pair.compare("GET", "/api/timelapse?unrendered=true", "admin")
    pair.compare("DELETE", f"/api/timelapse/{VIDEO}", "viewer")
    pair.compare("DELETE", f"/api/timelapse/{VIDEO}", "admin")
    pair.compare("DELETE", "/api/timelapse/missing.mp4", "admin")
    pair.compare("GET", "/api/timelapse", "admin")
    pair.check()
