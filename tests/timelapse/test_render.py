"""Rendering with the real ffmpeg, checked with ffprobe; niceness, the print gate, a missing ffmpeg."""

import json
import os
import stat
import subprocess
import threading

import pytest

from octohost.events import Events
from octohost.timelapse.render import Encoding, Renderer, RenderJob, ffmpeg_command
from octohost.timelapse.storage import TimelapseStorage

from support import wait_until


def probe(path):
    """(frames, duration in seconds, codec, width, height) of a video, as ffprobe counts them."""
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames,codec_name,width,height:format=duration", "-of", "json", path],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    data = json.loads(out)
    video = data["streams"][0]
    return (int(video["nb_read_frames"]), float(data["format"]["duration"]), video["codec_name"], video["width"],
            video["height"])


class Collected:
    def __init__(self, bus):
        self.events = []
        self.bus = bus
        bus.subscribe("*", lambda event, payload: self.events.append((event, payload)))

    def named(self, *names):
        self.bus.flush()
        return [(event, payload) for event, payload in self.events if event in names]


@pytest.fixture
def storage(tmp_path):
    videos, captures = tmp_path / "timelapse", tmp_path / "timelapse" / "tmp"
    captures.mkdir(parents=True)
    return TimelapseStorage(str(videos), str(captures))


def write_frames(storage, prefix, frames):
    for number, data in enumerate(frames):
        with open(storage.capture_path(prefix, number), "wb") as f:
            f.write(data)


def make_renderer(settings, storage, event_bus, printing=lambda: False, progress=None, **encoding):
    return Renderer(settings, storage, event_bus, lambda: Encoding(**encoding), printing,
                    progress or (lambda prefix, percent: None))


def test_frames_become_an_mp4_with_every_frame_and_the_post_roll(settings, storage, event_bus, camera_frames):
    write_frames(storage, "cube_20261205120000", camera_frames[:10])
    events = Collected(event_bus)
    progress = []
    renderer = make_renderer(settings, storage, event_bus, progress=lambda prefix, percent: progress.append(percent),
                             watermark=os.path.join(os.path.dirname(__import__("octohost").__file__), "static", "img",
                                                    "watermark.png"), flip_h=True)
    assert renderer.render(RenderJob("cube_20261205120000", "cube.gcode", fps=5, post_roll=2))

    movie = os.path.join(storage.videos, "cube_20261205120000.mp4")
    frames, duration, codec, width, height = probe(movie)
    assert codec == "h264" and (width, height) == (160, 120)
    assert frames == 10 + 2 * 5  # the last frame held for the 2 s post-roll at 5 fps
    assert duration == pytest.approx(4.0, abs=0.25)
    assert os.path.isfile(movie + ".thumb.jpg")
    assert storage.recordings() == {}  # the frames are gone once the video exists
    assert progress[0] == 0.0 and progress[-1] == 100.0 and progress == sorted(progress)
    payload = {"gcode": "cube.gcode", "movie": movie, "movie_basename": "cube_20261205120000.mp4",
               "movie_prefix": "cube_20261205120000"}
    assert events.named(Events.MOVIE_RENDERING, Events.MOVIE_DONE, Events.MOVIE_FAILED) == [
        (Events.MOVIE_RENDERING, payload), (Events.MOVIE_DONE, payload)]
    assert not [name for name in os.listdir(storage.videos) if name.startswith(".")]  # no temporary left


def test_mpeg2_gives_an_mpg(settings, storage, event_bus, camera_frames):
    write_frames(storage, "a_1", camera_frames[:4])
    assert make_renderer(settings, storage, event_bus, codec="mpeg2video").render(RenderJob("a_1", fps=25))
    frames, _, codec, _, _ = probe(os.path.join(storage.videos, "a_1.mpg"))
    assert codec == "mpeg2video" and frames == 4


def test_a_missing_ffmpeg_fails_with_a_message_that_says_how_to_install_it(settings, storage, event_bus,
                                                                           camera_frames):
    write_frames(storage, "a_1", camera_frames[:3])
    events = Collected(event_bus)
    assert not make_renderer(settings, storage, event_bus, ffmpeg="/nonexistent/ffmpeg").render(RenderJob("a_1"))
    [(_, payload)] = events.named(Events.MOVIE_FAILED)
    assert payload["reason"] == "ffmpeg_missing"
    assert "ffmpeg was not found" in payload["error"] and "apt install ffmpeg" in payload["error"]
    assert storage.frame_count("a_1") == 3  # kept for a render once ffmpeg is there


def fake_ffmpeg(tmp_path, body):
    script = tmp_path / "fake-ffmpeg"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_ffmpeg_runs_niced(settings, storage, event_bus, camera_frames, tmp_path):
    write_frames(storage, "a_1", camera_frames[:3])
    record = tmp_path / "nice.txt"
    ffmpeg = fake_ffmpeg(tmp_path, f"nice > {record}\nexit 1\n")  # nice(1) without a command prints the niceness
    base = os.getpriority(os.PRIO_PROCESS, 0)
    settings.set("webcam.renderNice", 7)
    assert not make_renderer(settings, storage, event_bus, ffmpeg=ffmpeg).render(RenderJob("a_1"))
    assert int(record.read_text()) == min(19, base + 7)


def test_ffmpeg_failures_are_reported_with_its_message(settings, storage, event_bus, camera_frames, tmp_path):
    write_frames(storage, "a_1", camera_frames[:3])
    events = Collected(event_bus)
    ffmpeg = fake_ffmpeg(tmp_path, "echo 'Unknown encoder' >&2\nexit 3\n")
    assert not make_renderer(settings, storage, event_bus, ffmpeg=ffmpeg).render(RenderJob("a_1"))
    [(_, payload)] = events.named(Events.MOVIE_FAILED)
    assert payload["reason"] == "returncode" and payload["returncode"] == 3 and "Unknown encoder" in payload["error"]


def test_no_frames_is_a_failure_without_running_ffmpeg(settings, storage, event_bus):
    events = Collected(event_bus)
    assert not make_renderer(settings, storage, event_bus, ffmpeg="/nonexistent").render(RenderJob("none_1"))
    assert [p["reason"] for _, p in events.named(Events.MOVIE_FAILED)] == ["no_frames"]


def test_a_queued_render_waits_while_a_print_runs(settings, storage, event_bus, camera_frames):
    write_frames(storage, "a_1", camera_frames[:3])
    printing = threading.Event()
    printing.set()
    checks = []

    def is_printing():
        checks.append(printing.is_set())
        return printing.is_set()

    renderer = make_renderer(settings, storage, event_bus, printing=is_printing)
    renderer.enqueue(RenderJob("a_1"))
    wait_until(lambda: len(checks) >= 2, timeout=10, message="the gate to be checked twice")
    assert storage.frame_count("a_1") == 3 and not os.path.exists(os.path.join(storage.videos, "a_1.mp4"))
    printing.clear()
    renderer.print_ended()
    wait_until(lambda: os.path.isfile(os.path.join(storage.videos, "a_1.mp4")), timeout=60)
    renderer.stop()


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_a_print_that_starts_mid_render_stops_ffmpeg_until_it_ends(settings, storage, event_bus, camera_frames,
                                                                 tmp_path):
    write_frames(storage, "a_1", camera_frames[:3])
    pid_file, go = tmp_path / "pid", tmp_path / "go"
    # a stand-in for a long render: reports its pid, then works until the test lets it finish
    ffmpeg = fake_ffmpeg(tmp_path, f"echo $$ > {pid_file}\nwhile [ ! -e {go} ]; do sleep 0.02; done\n"
                                   "for last; do :; done\ntouch \"$last\"\n")
    printing = threading.Event()
    renderer = make_renderer(settings, storage, event_bus, printing=printing.is_set, ffmpeg=ffmpeg, watermark=None)
    renderer.enqueue(RenderJob("a_1"))
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=30))
    assert proc_state(pid) != "T"
    printing.set()
    renderer.print_started()
    wait_until(lambda: proc_state(pid) == "T", timeout=5, message="ffmpeg stopped while the print runs")
    go.touch()
    printing.clear()
    renderer.print_ended()
    wait_until(lambda: os.path.isfile(os.path.join(storage.videos, "a_1.mp4")), timeout=30)
    renderer.stop()


def test_the_command_needs_no_shell_and_quotes_nothing(tmp_path):
    command = ffmpeg_command(Encoding(flip_v=True, rotate90=True, watermark=None), "/x/it's a-%d.jpg", "/y/o.mp4",
                             fps=30, post_roll=0)
    assert command[command.index("-i") + 1] == "/x/it's a-%d.jpg"
    graph = command[command.index("-filter_complex") + 1]
    assert "vflip" in graph and "transpose=2" in graph and "tpad" not in graph and "hflip" not in graph
