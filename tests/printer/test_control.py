import pytest

from octohost.printer import control
from octohost.printer.profiles import DEFAULT_PROFILE, deep_merge

PROFILE = DEFAULT_PROFILE
TWO_TOOLS = deep_merge(DEFAULT_PROFILE, {"extruder": {"count": 2}, "heatedChamber": True})


def test_home():
    assert control.home("x") == ["G28 X0"]
    assert control.home(["X", "y", "z"]) == ["G28 X0 Y0 Z0"]
    for bad in ([], "q", ["x", 1], None):
        with pytest.raises(ValueError):
            control.home(bad)


def test_jog_relative_uses_slowest_axis_speed():
    assert control.jog({"x": 10, "z": -0.5}, True, None, PROFILE) == ["G91", "G0 X10 Z-0.5 F200", "G90"]
    assert control.jog({"y": 1.25}, True, False, PROFILE) == ["G91", "G0 Y1.25", "G90"]
    assert control.jog({"x": 1}, True, 1500, PROFILE) == ["G91", "G0 X1 F1500", "G90"]


def test_jog_inverted_axis_and_absolute_limits():
    inverted = deep_merge(PROFILE, {"axes": {"x": {"inverted": True}}})
    assert control.jog({"x": 5}, True, False, inverted) == ["G91", "G0 X-5", "G90"]
    assert control.jog({"x": 5}, False, False, inverted) == ["G90", "G0 X5"]
    with pytest.raises(ValueError, match="outside the print volume"):
        control.jog({"x": 250}, False, None, PROFILE)
    centered = deep_merge(PROFILE, {"volume": {"origin": "center"}})
    assert control.jog({"x": -50}, False, False, centered) == ["G90", "G0 X-50"]
    boxed = deep_merge(PROFILE, {"volume": {"custom_box": {"x_min": -10, "x_max": 10, "y_min": 0, "y_max": 5,
                                                            "z_min": 0, "z_max": 5}}})
    with pytest.raises(ValueError):
        control.jog({"y": 6}, False, None, boxed)


@pytest.mark.parametrize("axes, speed", [({}, None), ({"e": 1}, None), ({"x": "1"}, None), ({"x": float("nan")}, None),
                                         ({"x": 1000}, None), ({"x": 1}, -5), ({"x": 1}, "fast"), ([("x", 1)], None)])
def test_jog_rejects(axes, speed):
    with pytest.raises(ValueError):
        control.jog(axes, True, speed, PROFILE)


def test_extrude():
    assert control.extrude(5, None, PROFILE) == ["G91", "M83", "G1 E5 F300", "M82", "G90"]
    assert control.extrude(-2.5, 100, PROFILE)[2] == "G1 E-2.5 F100"
    with pytest.raises(ValueError):
        control.extrude(5000, None, PROFILE)
    with pytest.raises(ValueError):
        control.extrude(True, None, PROFILE)


def test_temperatures_follow_profile():
    assert control.set_temperature("tool0", 210, PROFILE) == ["M104 S210"]
    assert control.set_temperature("tool1", 205.5, TWO_TOOLS) == ["M104 T1 S205.5"]
    assert control.set_temperature("bed", 60, PROFILE) == ["M140 S60"]
    assert control.set_temperature("chamber", 40, TWO_TOOLS) == ["M141 S40"]
    for heater, value, profile in [("tool1", 200, PROFILE), ("chamber", 40, PROFILE), ("hotend", 200, PROFILE),
                                   ("tool0", -1, PROFILE), ("tool0", 900, PROFILE), ("tool0", "200", PROFILE)]:
        with pytest.raises(ValueError):
            control.set_temperature(heater, value, profile)
    no_bed = deep_merge(PROFILE, {"heatedBed": False})
    with pytest.raises(ValueError, match="heated bed"):
        control.set_temperature("bed", 60, no_bed)


def test_change_tool():
    assert control.change_tool("tool1", TWO_TOOLS) == ["T1"]
    with pytest.raises(ValueError):
        control.change_tool("tool1", PROFILE)
    with pytest.raises(ValueError):
        control.change_tool("T1", TWO_TOOLS)


def test_feed_and_flow_rates():
    assert control.feed_rate(100) == ["M220 S100"]
    assert control.feed_rate(0.9) == ["M220 S90"]
    assert control.flow_rate(1.05) == ["M221 S105"]
    # below 10%, as OctoPrint's printer takes them (its minimum is 1)
    assert control.feed_rate(5) == ["M220 S5"]
    assert control.feed_rate(0.05) == ["M220 S5"]
    assert control.flow_rate(1) == ["M221 S1"]
    for bad in (0, 9000, "100", None, True, float("inf")):
        with pytest.raises(ValueError):
            control.feed_rate(bad)
    with pytest.raises(ValueError):
        control.flow_rate(300)


def test_offsets_validated_and_rewritten():
    assert control.temperature_offsets({"tool0": 5, "bed": -3}, PROFILE) == {"tool0": 5, "bed": -3}
    with pytest.raises(ValueError):
        control.temperature_offsets({"tool3": 5}, PROFILE)
    with pytest.raises(ValueError):
        control.temperature_offsets({"tool0": 99}, PROFILE)
    rewriter = control.TemperatureOffsetRewriter()
    rewriter.offsets = {"tool0": 5, "tool1": -10, "bed": 2.5}
    assert rewriter.rewrite("M104 S200") == "M104 S205"
    assert rewriter.rewrite("M109 S200 ; wait") == "M109 S205 ; wait"
    assert rewriter.rewrite("M190 S60") == "M190 S62.5"
    assert rewriter.rewrite("M104 S0") is None
    assert rewriter.rewrite("G1 X10 S200") is None
    assert rewriter.rewrite("T1") is None
    assert rewriter.rewrite("M104 S200") == "M104 S190"
    assert rewriter.rewrite("M104 T0 S200") == "M104 T0 S205"
    assert rewriter.rewrite("M141 S40") is None
