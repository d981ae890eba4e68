"""Timelapses of virtual prints over a pseudo-terminal, with the test camera: Z-change and timed
capture, the three timelapse hooks in order with their arguments, the rendered MP4 (ffprobe), the
disk budget."""

import json
import logging
import os
import subprocess
import types

import pytest

from octohost.events import Events

from support import wait_until

pytestmark = pytest.mark.e2e

LAYERS = 8


def layered_gcode(layers=LAYERS, zhop=0.4, moves=20):
    """``layers`` layers 0.2 mm apart; before each layer change a z-hop up and down (which must
    take no frame when ``retractionZHop`` is the hop)."""
    lines = ["G28", "G90", "M104 S0"]
    for layer in range(1, layers + 1):
        z = round(0.2 * layer, 2)
        lines.append(f"G1 Z{z:.2f} F600")
        lines += [f"G1 X{10 + i % 5} Y{10 + i % 7} E{i * 0.01:.2f} F6000" for i in range(moves)]
        lines += [f"G1 Z{z + zhop:.2f}", f"G1 Z{z:.2f}"]
    lines.append("M84")
    return ("\n".join(lines) + "\n").encode()


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames,codec_name:format=duration", "-of", "json", path],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    data = json.loads(out)
    return int(data["streams"][0]["nb_read_frames"]), float(data["format"]["duration"])


class HookRecorder:
    """An OctoPrint-style plugin implementing the three timelapse hooks; records each call."""

    def __init__(self):
        self.calls = []

    def module(self):
        def pre(filename):
            self.calls.append(("pre", filename, os.path.exists(filename)))

        def post(filename, success):
            self.calls.append(("post", filename, success, os.path.exists(filename)))

        def extensions(*args, **kwargs):
            return ["gif"]

        return types.SimpleNamespace(__plugin_name__="Timelapse hooks", __plugin_hooks__={
            "octoprint.timelapse.capture.pre": pre, "octoprint.timelapse.capture.post": post,
            "octoprint.timelapse.extensions": extensions})


def start(start_server, pty_printer, camera, plugins=None, **values):
    settings_values = {"serial.additionalPorts": [pty_printer.path], "webcam.snapshot": camera.snapshot_url,
                       "webcam.stream": camera.stream_url, "webcam.timelapse.fps": 5}
    settings_values.update({key.replace("__", "."): value for key, value in values.items()})
    running = start_server(settings_values=settings_values, plugins=plugins)
    running.post("/api/connection", json={"command": "connect", "port": pty_printer.path, "baudrate": 115200})
    wait_until(running.context.printer.is_operational, timeout=30)
    return running


def collect_events(running, *names):
    seen = []
    running.context.event_bus.subscribe("*", lambda event, payload: seen.append((event, payload))
                                        if event in names else None)
    return seen


def print_file(running, name, data):
    response = running.post("/api/files/local", files={"file": (name, data)}, data={"print": "true"})
    assert response.status_code == 201, response.text
    wait_until(lambda: running.context.printer.is_printing(), timeout=30)
    wait_until(lambda: not running.context.printer.is_printing() and not running.context.printer.is_paused(),
               timeout=120, interval=0.1)


def finished_videos(running):
    return running.get("/api/timelapse").json()["files"]


def test_zchange_timelapse_of_a_print_renders_an_mp4_with_a_frame_per_layer(start_server, pty_printer, camera):
    hooks = HookRecorder()
    running = start(start_server, pty_printer, camera, plugins={"tlhooks": hooks.module()},
                    webcam__timelapse__type="zchange", webcam__timelapse__postRoll=1,
                    webcam__timelapse__options__minDelay=0.0, webcam__timelapse__options__retractionZHop=0.4)
    events = collect_events(running, Events.PRINT_STARTED, Events.PRINT_DONE, Events.CAPTURE_START,
                            Events.CAPTURE_DONE, Events.POSTROLL_START, Events.POSTROLL_END, Events.MOVIE_RENDERING,
                            Events.MOVIE_DONE)
    listing = running.get("/api/timelapse").json()
    assert listing["config"] == {"type": "zchange", "postRoll": 1, "fps": 5, "renderAfterPrint": "always",
                                 "retractionZHop": 0.4, "minDelay": 0.0}
    assert listing["enabled"] is True and listing["files"] == []

    print_file(running, "layers.gcode", layered_gcode())
    files = wait_until(lambda: finished_videos(running), timeout=120, interval=0.2)

    [video] = files
    assert video["name"].startswith("layers_") and video["name"].endswith(".mp4")
    assert set(video) == {"name", "size", "bytes", "timestamp", "date", "url", "thumbnail"}
    assert video["url"] == "/downloads/timelapse/" + video["name"]
    # one frame per layer (the z-hops took none), the post-roll frame, held for 1 s at 5 fps
    frames = LAYERS + 1
    path = os.path.join(running.context.timelapse.storage.videos, video["name"])
    assert probe(path) == (frames + 5, pytest.approx((frames + 5) / 5, abs=0.25))
    assert camera.requests == frames

    # the hooks: pre before each frame exists, post after, with success, in capture order
    prefix = video["name"][: -len(".mp4")]
    captures = running.context.timelapse.storage.captures
    expected = []
    for number in range(frames):
        filename = os.path.join(captures, f"{prefix}-{number}.jpg")
        expected += [("pre", filename, False), ("post", filename, True, True)]
    assert hooks.calls == expected

    running.context.event_bus.flush()
    names = [event for event, _ in events]
    assert names[0] == Events.PRINT_STARTED and names.count(Events.CAPTURE_DONE) == frames
    assert names.index(Events.PRINT_DONE) < names.index(Events.POSTROLL_START) < names.index(Events.POSTROLL_END)
    assert names[-2:] == [Events.MOVIE_RENDERING, Events.MOVIE_DONE]
    assert dict(events)[Events.MOVIE_DONE]["gcode"] == "layers.gcode"

    # downloaded through the API's redirect, played from the download URL
    with running.client("viewer") as session:
        download = session.get(running.url + "/api/timelapse/" + video["name"], timeout=30)
        assert download.status_code == 200 and download.content == open(path, "rb").read()
        assert download.history[0].status_code == 302
        partial = session.get(running.url + video["url"], headers={"Range": "bytes=0-99"}, timeout=30)
        assert partial.status_code == 206 and len(partial.content) == 100
        assert session.get(running.url + video["thumbnail"], timeout=30).headers["Content-Type"] == "image/jpeg"
    assert running.get("/api/timelapse?unrendered=true").json()["unrendered"] == []


def test_timed_timelapse_captures_while_printing_and_the_failed_print_is_rendered_as_fail(start_server, pty_printer,
                                                                                         camera):
    running = start(start_server, pty_printer, camera, webcam__timelapse__type="timed",
                    webcam__timelapse__options__interval=1)
    gcode = b"G28\n" + b"G1 X10 Y10 F6000\nG4 P250\n" * 120  # the dwells make it last half a minute
    response = running.post("/api/files/local", files={"file": ("timed.gcode", gcode)}, data={"print": "true"})
    assert response.status_code == 201
    # frames keep coming while the print runs, one a second
    wait_until(lambda: camera.requests >= 3, timeout=30, message=lambda: f"3 frames; {camera.requests} so far")
    unrendered = running.get("/api/timelapse?unrendered=true").json()["unrendered"]
    [recording] = unrendered
    assert recording["recording"] is True and recording["processing"] is True and recording["count"] >= 2
    assert set(recording) == {"name", "count", "size", "bytes", "date", "recording", "rendering", "processing"}
    assert running.post(f"/api/timelapse/unrendered/{recording['name']}", json={"command": "render"}).status_code \
        == 409  # not while printing
    assert running.post("/api/job", role="user", json={"command": "cancel"}).status_code == 204
    files = wait_until(lambda: finished_videos(running), timeout=120, interval=0.2)
    assert files[0]["name"] == recording["name"] + "-fail.mp4"
    frames, _ = probe(os.path.join(running.context.timelapse.storage.videos, files[0]["name"]))
    assert frames == camera.requests >= 3


def test_capture_failures_are_reported_and_no_frames_means_no_movie(start_server, pty_printer, camera):
    hooks = HookRecorder()
    running = start(start_server, pty_printer, camera, plugins={"tlhooks": hooks.module()},
                    webcam__timelapse__type="zchange", webcam__timelapse__options__minDelay=0.0)
    events = collect_events(running, Events.CAPTURE_FAILED, Events.MOVIE_FAILED, Events.MOVIE_RENDERING)
    camera.behaviour = "error"
    print_file(running, "broken.gcode", layered_gcode(layers=2, moves=2, zhop=0))
    wait_until(lambda: any(event == Events.MOVIE_FAILED for event, _ in events), timeout=30)
    running.context.event_bus.flush()
    failed = [payload for event, payload in events if event == Events.CAPTURE_FAILED]
    assert failed and "HTTP 500" in failed[0]["error"] and failed[0]["webcamProvider"] == "classicwebcam"
    assert [payload["reason"] for event, payload in events if event == Events.MOVIE_FAILED] == ["no_frames"]
    assert not any(event == Events.MOVIE_RENDERING for event, _ in events)
    # every failed capture kept frame number 0, and the post hook was told it failed
    assert {call[1].rsplit("-", 1)[1] for call in hooks.calls} == {"0.jpg"}
    assert [call[2] for call in hooks.calls if call[0] == "post"] == [False] * len(failed)


def test_past_the_disk_budget_the_oldest_unrendered_recordings_go_with_a_warning(start_server, pty_printer, camera,
                                                                                 caplog):
    running = start(start_server, pty_printer, camera, webcam__timelapse__type="zchange",
                    webcam__timelapse__renderAfterPrint="never", webcam__timelapse__options__minDelay=0.0,
                    webcam__maxCaptureSize=1024 * 1024)
    storage = running.context.timelapse.storage
    frame_size = len(camera.frames[0])
    old_frames = (1024 * 1024) // frame_size  # just under the budget on their own
    for number in range(old_frames):
        with open(storage.capture_path("old_20200101000000", number), "wb") as f:
            f.write(camera.frames[0])
    os.utime(storage.capture_path("old_20200101000000", 0), (1, 1))
    with caplog.at_level(logging.WARNING, logger="octohost.timelapse"):
        print_file(running, "budget.gcode", layered_gcode(layers=3, moves=2, zhop=0))
        wait_until(lambda: "old_20200101000000" not in storage.recordings(), timeout=30)
    names = [entry["name"] for entry in running.get("/api/timelapse?unrendered=true").json()["unrendered"]]
    assert len(names) == 1 and names[0].startswith("budget_")
    assert any("old_20200101000000" in message and "maxCaptureSize" in message for message in caplog.messages)
