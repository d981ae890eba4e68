"""The recorder's Z-change rules (z-hops, minimum delay) and its capture thread, against the test camera."""

import os
import threading

import pytest

from octohost.timelapse.recorder import Recorder, TimelapseConfig
from octohost.timelapse.storage import TimelapseStorage
from octohost.webcams import Webcams


@pytest.fixture
def recorder_parts(settings, event_bus, camera, tmp_path):
    settings.set("webcam.snapshot", camera.snapshot_url)
    storage = TimelapseStorage(str(tmp_path / "videos"), str(tmp_path / "captures"))
    os.makedirs(storage.captures)
    finished = []
    done = threading.Event()

    def on_finished(job):
        finished.append(job)
        done.set()

    recorder = Recorder(settings, storage, Webcams(settings), None, event_bus, on_finished)
    yield recorder, storage, finished, done
    recorder.shutdown()


def test_zhops_and_changes_within_the_minimum_delay_take_no_frame(recorder_parts, camera):
    recorder, storage, finished, done = recorder_parts
    recording = recorder.start("part.gcode", TimelapseConfig(type="zchange", retraction_zhop=0.4, min_delay=3600,
                                                             fps=10, post_roll=0))
    recorder.z_changed(None, 0.2)   # the first layer: a frame
    recorder.z_changed(0.2, 0.6)    # a z-hop (0.4): none
    recorder.z_changed(0.6, 0.2)    # and back: none
    recorder.z_changed(0.2, 0.4)    # the next layer, but within minDelay: none
    recorder.stop(success=True)
    assert done.wait(30)
    assert storage.recordings()[recording.prefix]["count"] == 1 and camera.requests == 1
    [job] = finished
    assert (job.prefix, job.gcode, job.postfix, job.fps) == (recording.prefix, "part.gcode", "", 10)


def test_every_layer_with_no_minimum_delay_and_a_failed_print_renders_as_fail(recorder_parts, camera):
    recorder, storage, finished, done = recorder_parts
    recording = recorder.start("part.gcode", TimelapseConfig(type="zchange", min_delay=0, post_roll=2,
                                                             render_after_print="failure"))
    for layer in range(1, 6):
        recorder.z_changed(0.2 * (layer - 1) or None, 0.2 * layer)
    recorder.stop(success=False)
    assert done.wait(30)
    assert storage.recordings()[recording.prefix]["count"] == 6  # five layers and the post-roll frame
    assert finished[0].postfix == "-fail" and finished[0].post_roll == 2


def test_render_after_print_and_the_shapes_of_the_configuration():
    for mode, on_success, on_failure in (("always", True, True), ("success", True, False),
                                         ("failure", False, True), ("never", False, False)):
        config = TimelapseConfig(type="timed", render_after_print=mode)
        assert (config.renders(True), config.renders(False)) == (on_success, on_failure), mode
    assert TimelapseConfig().as_api() == {"type": "off"} and TimelapseConfig().as_push() is None
    assert TimelapseConfig(type="timed", interval=4).as_push() == {"type": "timed", "options": {"interval": 4}}
    assert set(TimelapseConfig(type="zchange").as_api()) == {"type", "fps", "postRoll", "renderAfterPrint",
                                                             "retractionZHop", "minDelay"}


def test_off_starts_nothing(recorder_parts):
    recorder = recorder_parts[0]
    assert recorder.start("part.gcode", TimelapseConfig(type="off")) is None and recorder.current is None
