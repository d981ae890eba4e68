"""Timelapse file names and folders: safe prefixes, exact-name deletes, the disk budget."""

import os

import pytest

from octohost.timelapse.storage import TimelapseStorage, capture_prefix, formatted_size, split_capture


@pytest.fixture
def storage(tmp_path):
    videos, captures = tmp_path / "timelapse", tmp_path / "timelapse" / "tmp"
    captures.mkdir(parents=True)
    return TimelapseStorage(str(videos), str(captures), extensions=lambda: ["GIF", 5])


def frame(storage, prefix, number, size=10, mtime=None):
    path = storage.capture_path(prefix, number)
    with open(path, "wb") as f:
        f.write(b"x" * size)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_prefixes_are_safe_for_ffmpeg_patterns_urls_and_file_names():
    prefix = capture_prefix("folder/My 100% cube (v2).gcode", now=0)
    assert prefix.startswith("My_100_cube_v2_") and "%" not in prefix and "/" not in prefix
    assert capture_prefix("", now=0).startswith("timelapse_")
    assert capture_prefix("../../..gcode", now=0).startswith("gcode_")
    assert split_capture("a_b-12.jpg") == ("a_b", 12)
    assert split_capture("a-b-3.jpg") == ("a-b", 3)
    assert split_capture("-3.jpg") is None and split_capture("a-x.jpg") is None and split_capture("a-1.png") is None
    assert formatted_size(1536) == "1.5KB" and formatted_size(10) == "10.0B"


def test_deleting_a_recording_takes_exactly_that_name(storage):
    for prefix in ("cube", "cube_2", "cub"):
        frame(storage, prefix, 0)
        frame(storage, prefix, 1)
    assert storage.delete_recording("cube")
    assert sorted(storage.recordings()) == ["cub", "cube_2"]
    assert not storage.delete_recording("*")


def test_videos_are_the_known_extensions_only(storage):
    for name in ("a.mp4", "b.GIF", "c.txt", ".d.mp4", "e.mp4.thumb.jpg"):
        open(os.path.join(storage.videos, name), "w").close()
    assert sorted(v["name"] for v in storage.list_videos()) == ["a.mp4", "b.GIF"]
    assert storage.video_path("e.mp4.thumb.jpg") is not None
    for bad in ("../tmp/x.mp4", "c.txt", ".d.mp4", "missing.mp4", "tmp"):
        assert storage.video_path(bad) is None, bad
    assert storage.delete_video("a.mp4") and not storage.delete_video("c.txt")
    assert os.path.exists(os.path.join(storage.videos, "c.txt"))


def test_the_budget_removes_the_oldest_other_recordings_first(storage):
    frame(storage, "oldest", 0, size=400, mtime=1000)
    frame(storage, "older", 0, size=400, mtime=2000)
    frame(storage, "current", 0, size=400, mtime=500)  # older than all, but being recorded
    removed, used = storage.enforce_budget(900, keep=["current"])
    assert removed == ["oldest"] and used == 800
    assert storage.enforce_budget(100, keep=["current"]) == (["older"], 400)


def test_old_recordings_expire(storage):
    frame(storage, "ancient", 0, mtime=1000)
    frame(storage, "fresh", 0)
    assert storage.remove_old(7) == ["ancient"] and list(storage.recordings()) == ["fresh"]
