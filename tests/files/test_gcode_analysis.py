"""The G-code interpreter and slicer metadata, on generated files with hand-computed figures."""

import base64
import math

import pytest
from files_samples import (
    SQUARE_FILAMENT,
    SQUARE_MOVES,
    SQUARE_TIME,
    cura_gcode,
    orcaslicer_gcode,
    png_bytes,
    prusaslicer_gcode,
    simplify3d_gcode,
)

from octohost.files.analysis.gcode import analyse_file, filament_usage, interpret, move_time
from octohost.files.analysis.slicer import SlicerMetadata, parse_duration


def run(text, acceleration=1000.0, chunk=None):
    raw = text.encode("utf-8")
    chunks = [raw[i:i + chunk] for i in range(0, len(raw), chunk)] if chunk else [raw]
    return interpret(chunks, acceleration=acceleration)


def test_square_print_time_filament_area_and_layers():
    analysis, lengths = run(SQUARE_MOVES)
    assert analysis["estimatedPrintTime"] == pytest.approx(SQUARE_TIME)
    assert lengths == [pytest.approx(SQUARE_FILAMENT)]
    assert analysis["printingArea"] == {"minX": 0.0, "maxX": 20.0, "minY": 0.0, "maxY": 20.0,
                                        "minZ": 0.3, "maxZ": 0.6}
    assert analysis["dimensions"] == pytest.approx({"width": 20.0, "depth": 20.0, "height": 0.3})
    assert analysis["layerCount"] == 2


def test_lines_split_across_chunks_give_the_same_result():
    whole, whole_lengths = run(SQUARE_MOVES)
    pieces, piece_lengths = run(SQUARE_MOVES, chunk=7)
    assert pieces == whole
    assert piece_lengths == whole_lengths


def test_trapezoid_times():
    # reaches cruise: d/v + v/a
    assert move_time(20.0, 0.0, 20.0, 0.0, 1000.0) == pytest.approx(1.02)
    # too short to reach cruise: triangle, 2 * sqrt(d / a)
    assert move_time(0.1, 0.0, 100.0, 0.0, 1000.0) == pytest.approx(2 * math.sqrt(0.1 / 1000.0))
    # entering at cruise speed and leaving at rest: d/v + v/(2a)
    assert move_time(10.0, 20.0, 20.0, 0.0, 1000.0) == pytest.approx(10 / 20 + 20 / 2000)


def test_straight_continuation_keeps_speed_at_the_junction():
    # two collinear 10 mm moves cost the same as one 20 mm move: 20/20 + 20/1000
    analysis, _ = run("G1 X10 F1200\nG1 X20\n")
    assert analysis["estimatedPrintTime"] == pytest.approx(1.02)
    # the same path with a right angle in the middle stops at the corner: 2 * (10/20 + 20/1000)
    analysis, _ = run("G1 X10 F1200\nG1 X10 Y10\n")
    assert analysis["estimatedPrintTime"] == pytest.approx(2 * (0.5 + 0.02))


def test_m204_sets_print_and_travel_acceleration():
    # extruding move with P=500: 20/20 + 20/500; travel with T=2000: 20/20 + 20/2000
    analysis, _ = run("M204 P500 T2000\nG1 X20 E1 F1200\nG1 X20 Y20 F1200\n", acceleration=1e9)
    assert analysis["estimatedPrintTime"] == pytest.approx((1 + 0.04) + (1 + 0.01))


def test_dwell_adds_its_time():
    analysis, _ = run("G4 P1500\nG4 S2\n")
    assert analysis["estimatedPrintTime"] == pytest.approx(3.5)


def test_relative_moves_relative_extrusion_and_inches():
    # G20: 1 inch = 25.4 mm, F60 in/min = 25.4 mm/s; two collinear moves = one 50.8 mm move
    text = "G20\nG91\nM83\nG1 X1 E0.1 F60\nG1 X1 E0.1\n"
    analysis, lengths = run(text)
    assert analysis["estimatedPrintTime"] == pytest.approx(50.8 / 25.4 + 25.4 / 1000)
    assert lengths == [pytest.approx(5.08)]
    assert analysis["printingArea"]["maxX"] == pytest.approx(50.8)


def test_m83_after_g90_keeps_relative_extrusion():
    analysis, lengths = run("G90\nM83\nG1 X10 E1 F600\nG1 X20 E1\nG1 E-0.5\nG1 E0.5\nG1 X30 E1\n")
    assert lengths == [pytest.approx(3.0)]
    assert analysis["printingArea"]["maxX"] == 30.0


def test_g92_reset_does_not_lose_or_double_count_filament():
    _, lengths = run("G1 X10 E5 F600\nG92 E0\nG1 X20 E5\nG92 E100\nG1 X30 E102\n")
    assert lengths == [pytest.approx(12.0)]


def test_tool_changes_count_filament_per_tool():
    text = ("T0\nG92 E0\nG1 X10 E5 F600\nT1\nG92 E0\nG1 X20 E3\nG1 E1\nG1 E3\n"
            "T0\nG92 E0\nG1 X30 E2\n")
    _, lengths = run(text)
    assert lengths == [pytest.approx(7.0), pytest.approx(3.0)]
    usage = filament_usage(lengths, [1.75, 2.85])
    assert usage["tool1"]["volume"] == pytest.approx(math.pi * 1.425 ** 2 * 3.0 / 1000.0)
    assert usage["tool0"]["volume"] == pytest.approx(math.pi * 0.875 ** 2 * 7.0 / 1000.0)


def test_unused_tools_are_left_out_but_tool0_is_always_there():
    assert filament_usage([0.0, 0.0, 4.0], [1.75]) == {
        "tool0": {"length": 0.0, "volume": 0.0},
        "tool2": {"length": 4.0, "volume": pytest.approx(math.pi * 0.875 ** 2 * 4.0 / 1000.0)},
    }


def test_clockwise_half_circle_arc_length_and_extremes():
    # from (10,0) clockwise around (0,0) to (-10,0): length 10*pi, passes through (0,-10)
    analysis, lengths = run("G1 X10 Y0 F600\nG2 X-10 Y0 I-10 J0 E5 F600\n")
    arc = 10 * math.pi
    assert analysis["estimatedPrintTime"] == pytest.approx((10 / 10 + 10 / 1000) + (arc / 10 + 10 / 1000))
    assert analysis["printingArea"] == pytest.approx({"minX": -10.0, "maxX": 10.0, "minY": -10.0, "maxY": 0.0,
                                                      "minZ": 0.0, "maxZ": 0.0})
    assert lengths == [pytest.approx(5.0)]


def test_r_form_arc_matches_the_ij_form():
    ij, _ = run("G1 X10 Y0 F600\nG3 X-10 Y0 I-10 J0 E5\n")
    r_form, _ = run("G1 X10 Y0 F600\nG3 X-10 Y0 R10 E5\n")
    assert r_form["estimatedPrintTime"] == pytest.approx(ij["estimatedPrintTime"])
    assert ij["printingArea"]["maxY"] == pytest.approx(10.0)
    assert r_form["printingArea"] == pytest.approx(ij["printingArea"])


def test_full_circle_arc():
    analysis, _ = run("G1 X10 Y0 F600\nG3 X10 Y0 I-10 J0 E1 F600\n")
    assert analysis["estimatedPrintTime"] == pytest.approx(1.01 + (20 * math.pi / 10 + 10 / 1000))
    assert analysis["dimensions"] == pytest.approx({"width": 20.0, "depth": 20.0, "height": 0.0})


def test_travel_moves_do_not_count_for_area_or_layers():
    analysis, _ = run("G1 X100 Y100 Z5 F6000\nG1 X10 Y10 Z0.2\nG1 X20 E1\nG1 Z1.2\nG1 X200 Y200\n")
    assert analysis["printingArea"] == {"minX": 10.0, "maxX": 20.0, "minY": 10.0, "maxY": 10.0,
                                        "minZ": 0.2, "maxZ": 0.2}
    assert analysis["layerCount"] == 1
    # travel counts for OctoPrint's travelArea: every start and end of a move, from the origin on
    assert analysis["travelArea"] == {"minX": 0.0, "maxX": 200.0, "minY": 0.0, "maxY": 200.0,
                                      "minZ": 0.0, "maxZ": 5.0}
    assert analysis["travelDimensions"] == {"width": 200.0, "depth": 200.0, "height": 5.0}


def test_travel_area_follows_g92_and_is_zero_without_moves():
    analysis, _ = run("G92 X50 Y50 Z10\nG0 X60 Y40\nG92 X-5\nG0 X-7\n")
    assert analysis["travelArea"] == {"minX": -7.0, "maxX": 60.0, "minY": 40.0, "maxY": 50.0,
                                      "minZ": 10.0, "maxZ": 10.0}
    still, _ = run("M105\nG92 E0\n")
    assert still["travelArea"] == dict.fromkeys(("minX", "maxX", "minY", "maxY", "minZ", "maxZ"), 0.0)
    assert still["travelDimensions"] == {"width": 0.0, "depth": 0.0, "height": 0.0}


def test_homing_line_numbers_checksums_and_garbage_are_tolerated():
    text = "N1 G28*18\n   G1 X10 Y0 F1200\nG1 X10 Ynonsense\nM999 junk\nG1 X10 Y10 E1\n\n\x00\nG28 X\n"
    analysis, lengths = run(text)
    assert lengths == [pytest.approx(1.0)]
    assert analysis["printingArea"]["minY"] == 0.0 and analysis["printingArea"]["maxY"] == 10.0


def test_empty_file():
    analysis, lengths = run("")
    assert analysis["estimatedPrintTime"] == 0.0
    assert analysis["dimensions"] == {"width": 0.0, "depth": 0.0, "height": 0.0}
    assert lengths == [0.0]


@pytest.mark.parametrize("text, seconds", [
    ("1d 2h 3m 4s", 93784.0), ("1h 2m 3s", 3723.0), ("2m 3s", 123.0), ("3723", 3723.0),
    ("1 hour 2 minutes", 3720.0), ("0 hours 12 minutes", 720.0), ("2 hours", 7200.0), ("soon", None),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def feed(text):
    meta = SlicerMetadata()
    for line in text.encode("utf-8").split(b"\n"):
        if line.startswith(b";"):
            meta.feed(line)
    return meta


def test_prusaslicer_metadata_and_thumbnails():
    small, large = png_bytes(16, 16), png_bytes(32, 24)
    meta = feed(prusaslicer_gcode(small, large))
    assert meta.result() == {
        "name": "PrusaSlicer", "version": "2.6.1", "estimatedPrintTime": 93784.0,
        "filament": {"tool0": {"length": 1234.5, "volume": 2.97, "weight": 3.69},
                     "tool1": {"length": 100.0, "volume": 0.24, "weight": 0.3}},
        "filamentDiameter": [2.85, 2.85], "filamentType": "PETG;PLA", "layerHeight": 0.2, "nozzleDiameter": 0.4,
    }
    assert [(t["width"], t["height"], t["format"]) for t in meta.thumbnails] == [
        (16, 16, "png"), (32, 24, "png"), (8, 8, "qoi")]
    assert base64.b64decode(meta.thumbnails[0]["base64"]) == small
    assert base64.b64decode(meta.thumbnails[1]["base64"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert base64.b64decode(meta.thumbnails[2]["base64"]) == b"qoif-not-really"


def test_cura_metadata():
    meta = feed(cura_gcode(png_bytes(16, 16)))
    assert meta.result() == {
        "name": "Cura", "version": "5.6.0", "estimatedPrintTime": 3723.0, "flavor": "Marlin",
        "filament": {"tool0": {"length": 1500.0}, "tool1": {"length": 250.0}},
        "layerHeight": 0.2, "layerCount": 42,
    }
    assert len(meta.thumbnails) == 1


def test_simplify3d_metadata():
    assert feed(simplify3d_gcode()).result() == {
        "name": "Simplify3D", "version": "4.1.2", "estimatedPrintTime": 3720.0,
        "filament": {"tool0": {"length": 1234.5, "volume": pytest.approx(2.96933), "weight": 3.69}},
    }


def test_orcaslicer_metadata():
    assert feed(orcaslicer_gcode()).result() == {
        "name": "OrcaSlicer", "version": "2.1.0", "estimatedPrintTime": 3900.0, "layerCount": 50,
        "filament": {"tool0": {"length": 500.25}}, "filamentDiameter": [1.75],
    }


def test_truncated_thumbnail_is_dropped():
    meta = feed("; thumbnail begin 16x16 100\n; iVBORw0KGgo\n")
    assert meta.thumbnails == []
    meta = feed("; thumbnail begin 16x16 100\n; iVBORw0KGgo\n; estimated printing time (normal mode) = 1m\n"
                "; thumbnail end\n")
    assert meta.thumbnails == []
    assert meta.result()["estimatedPrintTime"] == 60.0


def test_only_the_first_comments_name_the_slicer():
    meta = feed("; a comment\n" * 300 + "; generated by PrusaSlicer 2.6.1 on a date\n")
    assert "name" not in meta.result()


def test_analyse_file_uses_the_slicer_filament_diameter(tmp_path):
    path = tmp_path / "part.gcode"
    path.write_text(prusaslicer_gcode(png_bytes(4, 4), png_bytes(8, 8)))
    result = analyse_file(str(path), acceleration=1000.0, filament_diameter=1.75)
    assert result["analysis"]["estimatedPrintTime"] == pytest.approx(SQUARE_TIME)
    assert result["analysis"]["filament"]["tool0"] == {
        "length": pytest.approx(12.0), "volume": pytest.approx(math.pi * 1.425 ** 2 * 12.0 / 1000.0)}
    assert result["slicer"]["name"] == "PrusaSlicer"
    assert len(result["thumbnails"]) == 3
    import hashlib
    assert result["hash"] == hashlib.md5(path.read_bytes()).hexdigest()
    assert result["stamp"] == [path.stat().st_size, path.stat().st_mtime_ns]
