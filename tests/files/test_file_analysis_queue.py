"""Background analysis through the FileManager: worker process, metadata, thumbnails, events."""

import io
import os

import psutil
import pytest
from files_samples import SQUARE_MOVES, SQUARE_TIME, png_bytes, prusaslicer_gcode

from octohost.events import Events
from octohost.files import NotFound

WAIT = 60


@pytest.fixture
def analysing_manager(settings, make_manager):
    settings.set("files.analysis.acceleration", 1000.0)
    return make_manager()


def add(manager, path, text):
    return manager.add_file(path, io.BytesIO(text.encode("utf-8") if isinstance(text, str) else text))


def test_upload_is_analysed_with_slicer_metadata_and_thumbnails(analysing_manager, event_bus, recorded_events):
    small, large = png_bytes(16, 16), png_bytes(32, 24)
    path = add(analysing_manager, "prusa part.gcode", prusaslicer_gcode(small, large))
    assert analysing_manager.wait_for_analysis(path, WAIT)

    entry = analysing_manager.get_file(path)
    analysis = entry["gcodeAnalysis"]
    assert analysis["estimatedPrintTime"] == pytest.approx(SQUARE_TIME)
    assert analysis["filament"]["tool0"]["length"] == pytest.approx(12.0)
    assert analysis["dimensions"] == pytest.approx({"width": 20.0, "depth": 20.0, "height": 0.3})
    assert analysis["layerCount"] == 2
    assert entry["slicer"]["name"] == "PrusaSlicer"
    assert entry["slicer"]["estimatedPrintTime"] == 93784.0
    assert [(t["name"], t["format"]) for t in entry["thumbnails"]] == [
        ("16x16.png", "png"), ("32x24.png", "png"), ("8x8.qoi", "qoi")]

    largest = analysing_manager.get_thumbnail_path(path)
    with open(largest, "rb") as f:
        content = f.read()
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and content == large
    with open(analysing_manager.get_thumbnail_path(path, "16x16.png"), "rb") as f:
        assert f.read() == small
    assert analysing_manager.get_thumbnail_path(path, "../../etc/passwd") is None

    event_bus.flush()
    names = [event for event, _ in recorded_events]
    assert names.index(Events.METADATA_ANALYSIS_STARTED) < names.index(Events.METADATA_ANALYSIS_FINISHED)
    finished = dict(recorded_events)[Events.METADATA_ANALYSIS_FINISHED]
    assert finished["path"] == path and finished["origin"] == "local"
    assert finished["result"]["estimatedPrintTime"] == pytest.approx(SQUARE_TIME)


def test_thumbnails_follow_moves_and_go_with_removal(analysing_manager, settings):
    path = add(analysing_manager, "a.gcode", prusaslicer_gcode(png_bytes(4, 4), png_bytes(8, 8)))
    assert analysing_manager.wait_for_analysis(path, WAIT)
    old_thumbnail = analysing_manager.get_thumbnail_path(path)
    moved = analysing_manager.move_file(path, "folder/b.gcode")
    assert not os.path.exists(old_thumbnail)
    with open(analysing_manager.get_thumbnail_path(moved), "rb") as f:
        assert f.read() == png_bytes(8, 8)
    assert analysing_manager.get_file(moved)["gcodeAnalysis"]["layerCount"] == 2
    thumbnail = analysing_manager.get_thumbnail_path(moved)
    analysing_manager.remove_file(moved)
    assert not os.path.exists(thumbnail)


def test_overwriting_and_editing_on_disk_trigger_a_new_analysis(analysing_manager):
    path = add(analysing_manager, "a.gcode", "G1 X20 F1200\n")
    assert analysing_manager.wait_for_analysis(path, WAIT)
    assert analysing_manager.get_file(path)["gcodeAnalysis"]["estimatedPrintTime"] == pytest.approx(1.02)

    analysing_manager.add_file(path, io.BytesIO(b"G1 X40 F1200\n"), allow_overwrite=True)
    assert analysing_manager.wait_for_analysis(path, WAIT)
    assert analysing_manager.get_file(path)["gcodeAnalysis"]["estimatedPrintTime"] == pytest.approx(2.02)

    analysing_manager.pause_analysis()
    with open(analysing_manager.path_on_disk(path), "w") as f:
        f.write("G1 X10 F1200 ; edited behind our back, a different size\n")
    stale = analysing_manager.get_file(path)
    assert "gcodeAnalysis" not in stale and "hash" not in stale
    assert "analysis" not in analysing_manager.get_metadata(path)
    assert analysing_manager.is_analysing(path)
    analysing_manager.resume_analysis()
    assert analysing_manager.wait_for_analysis(path, WAIT)
    assert analysing_manager.get_file(path)["gcodeAnalysis"]["estimatedPrintTime"] == pytest.approx(0.52)


def test_files_placed_in_the_folder_are_analysed_when_listed(analysing_manager):
    with open(os.path.join(analysing_manager.path_on_disk(""), "dropped.gcode"), "w") as f:
        f.write(SQUARE_MOVES)
    assert "gcodeAnalysis" not in analysing_manager.list_files()["dropped.gcode"]
    assert analysing_manager.wait_for_analysis("dropped.gcode", WAIT)
    entry = analysing_manager.list_files()["dropped.gcode"]
    assert entry["gcodeAnalysis"]["estimatedPrintTime"] == pytest.approx(SQUARE_TIME)
    assert entry["hash"]


def test_paused_analysis_waits_and_removed_files_are_dropped(analysing_manager, event_bus, recorded_events):
    analysing_manager.pause_analysis()
    doomed = add(analysing_manager, "doomed.gcode", SQUARE_MOVES)
    kept = add(analysing_manager, "kept.gcode", SQUARE_MOVES)
    assert analysing_manager.is_analysing(doomed) and analysing_manager.is_analysing(kept)
    assert not analysing_manager.wait_for_analysis(kept, 0.2)
    analysing_manager.remove_file(doomed)
    assert not analysing_manager.is_analysing(doomed)
    analysing_manager.resume_analysis()
    assert analysing_manager.wait_for_analysis(kept, WAIT)
    with pytest.raises(NotFound):
        analysing_manager.wait_for_analysis(doomed, 1)
    event_bus.flush()
    analysed = [p["path"] for e, p in recorded_events if e == Events.METADATA_ANALYSIS_FINISHED]
    assert analysed == [kept]


def test_removing_a_file_during_its_analysis_aborts_it(analysing_manager):
    big = add(analysing_manager, "big.gcode", "G1 X10 E1 F1200\nG1 X0 E2\nG92 E0\n" * 200000)
    analysing_manager.remove_file(big)
    small = add(analysing_manager, "small.gcode", "G1 X20 F1200\n")
    assert analysing_manager.wait_for_analysis(small, WAIT)
    assert not analysing_manager.is_analysing()
    assert analysing_manager.get_file(small)["gcodeAnalysis"]["estimatedPrintTime"] == pytest.approx(1.02)


def test_disabled_analysis(settings, make_manager):
    settings.set("files.analysis.enabled", False)
    manager = make_manager()
    path = add(manager, "a.gcode", SQUARE_MOVES)
    assert not manager.wait_for_analysis(path, 1)
    assert "gcodeAnalysis" not in manager.get_file(path)


def test_shutdown_stops_the_worker_process(settings, event_bus):
    from octohost.files import FileManager

    manager = FileManager(settings, event_bus=event_bus)
    path = add(manager, "a.gcode", SQUARE_MOVES)
    assert manager.wait_for_analysis(path, WAIT)
    me = psutil.Process()
    assert any("octohost.files.analysis.worker" in " ".join(c.cmdline()) for c in me.children())
    manager.shutdown()
    assert not any("octohost.files.analysis.worker" in " ".join(c.cmdline()) for c in me.children())
