"""Manual control turned into G-code, validated against the printer profile (pure, no I/O).

Every builder raises ValueError with a readable message before anything is sent: unknown axes,
heaters or tools the profile does not have, non-numbers, NaN, absolute jogs outside the print
volume (or its custom box), factors outside sane limits.

Relative jogs and extrusion honour the profile's axis inversion: the caller speaks in the
direction the user sees, an inverted axis gets the opposite sign on the wire.
"""

import math
import re

from .interface import PrinterInterface

MAX_TEMPERATURE = 500
MAX_TEMPERATURE_OFFSET = 50
MAX_EXTRUDE_LENGTH = 1000
# percent; OctoPrint's printer takes anything from 1 (0.01 as a float) up, as plugins expect
# (a slow-motion first layer at 5%); the tops keep a typo from sending M220 S9000
FEED_RATE_LIMITS = (1, 500)
FLOW_RATE_LIMITS = (1, 200)

_TEMPERATURE_GCODES = {"M104": "tool", "M109": "tool", "M140": "bed", "M190": "bed",
                       "M141": "chamber", "M191": "chamber"}
_GCODE = re.compile(r"^\s*([GMT])(\d+)", re.IGNORECASE)
_PARAM = r"(?<![A-Za-z]){}(-?\d+(?:\.\d*)?)"


def trigger(tags, method):
    """``tags`` and ``trigger:printer.<method>``, the tag OctoPrint's printer adds to what each of its
    methods sends (``commands`` adds its own to every line, so a jog carries both)."""
    return set(tags or ()) | {f"trigger:printer.{method}"}


def fmt(value):
    """A number as G-code wants it: no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return value


def tool_index(tool, profile):
    """Index of ``toolN`` if the profile has that extruder."""
    if not isinstance(tool, str) or not PrinterInterface.valid_tool_regex.match(tool):
        raise ValueError(f"invalid tool {tool!r}: expected tool0, tool1, ...")
    index = int(tool[4:])
    count = profile["extruder"]["count"]
    if index >= count:
        raise ValueError(f"invalid tool {tool!r}: the printer profile has {count} extruder{'s' if count != 1 else ''}")
    return index


def check_heater(heater, profile):
    if not isinstance(heater, str) or not PrinterInterface.valid_heater_regex.match(heater):
        raise ValueError(f"invalid heater {heater!r}: expected bed, chamber or tool0, tool1, ...")
    if heater == "bed" and not profile["heatedBed"]:
        raise ValueError("the printer profile has no heated bed")
    if heater == "chamber" and not profile["heatedChamber"]:
        raise ValueError("the printer profile has no heated chamber")
    if heater.startswith("tool"):
        tool_index(heater, profile)
    return heater


def _axes_list(axes):
    if isinstance(axes, str):
        axes = [axes]
    if not isinstance(axes, (list, tuple, set)) or not axes:
        raise ValueError(f"axes must be an axis name or a non-empty list of them, got {axes!r}")
    result = []
    for axis in axes:
        name = axis.lower() if isinstance(axis, str) else axis
        if name not in PrinterInterface.valid_axes:
            raise ValueError(f"invalid axis {axis!r}: expected one of {', '.join(PrinterInterface.valid_axes)}")
        if name not in result:
            result.append(name)
    return result


def home(axes):
    return ["G28 " + " ".join(f"{axis.upper()}0" for axis in _axes_list(axes))]


def bounds(profile):
    """{axis: (min, max)} of valid absolute coordinates: the custom box, else the volume."""
    volume = profile["volume"]
    box = volume.get("custom_box")
    if box:
        return {axis: (box[f"{axis}_min"], box[f"{axis}_max"]) for axis in "xyz"}
    width, depth, height = volume["width"], volume["depth"], volume["height"]
    if volume["origin"] == "center":
        return {"x": (-width / 2, width / 2), "y": (-depth / 2, depth / 2), "z": (0, height)}
    return {"x": (0, width), "y": (0, depth), "z": (0, height)}


def jog(axes, relative, speed, profile):
    if not isinstance(axes, dict) or not axes:
        raise ValueError(f"axes must be a non-empty mapping of axis to distance, got {axes!r}")
    limits = bounds(profile)
    moves = []
    for axis, amount in axes.items():
        name = axis.lower() if isinstance(axis, str) else axis
        if name not in ("x", "y", "z"):
            raise ValueError(f"invalid jog axis {axis!r}: expected x, y or z")
        amount = _number(amount, f"distance for {name}")
        low, high = limits[name]
        if relative:
            if abs(amount) > high - low:
                raise ValueError(f"jog of {fmt(amount)} mm on {name} exceeds the print volume ({fmt(high - low)} mm)")
            if profile["axes"][name]["inverted"]:
                amount = -amount
        elif not low <= amount <= high:
            raise ValueError(f"{name}={fmt(amount)} lies outside the print volume ({fmt(low)} to {fmt(high)})")
        moves.append((name, amount))
    command = "G0 " + " ".join(f"{name.upper()}{fmt(amount)}" for name, amount in moves)
    if speed is None:
        speed = min(profile["axes"][name]["speed"] for name, _ in moves)
    if speed is not False:
        if _number(speed, "speed") <= 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        command += f" F{fmt(speed)}"
    return ["G91", command, "G90"] if relative else ["G90", command]


def extrude(amount, speed, profile):
    amount = _number(amount, "extrusion amount")
    if abs(amount) > MAX_EXTRUDE_LENGTH:
        raise ValueError(f"extrusion amount must be within ±{MAX_EXTRUDE_LENGTH} mm, got {fmt(amount)}")
    if speed is None:
        speed = profile["axes"]["e"]["speed"]
    if _number(speed, "speed") <= 0:
        raise ValueError(f"speed must be positive, got {speed!r}")
    if profile["axes"]["e"]["inverted"]:
        amount = -amount
    return ["G91", "M83", f"G1 E{fmt(amount)} F{fmt(speed)}", "M82", "G90"]


def change_tool(tool, profile):
    return [f"T{tool_index(tool, profile)}"]


def set_temperature(heater, value, profile):
    check_heater(heater, profile)
    value = _number(value, "temperature")
    if not 0 <= value <= MAX_TEMPERATURE:
        raise ValueError(f"temperature must be between 0 and {MAX_TEMPERATURE} °C, got {fmt(value)}")
    if heater == "bed":
        return [f"M140 S{fmt(value)}"]
    if heater == "chamber":
        return [f"M141 S{fmt(value)}"]
    extruder = profile["extruder"]
    if extruder["count"] > 1 and not extruder["sharedNozzle"]:
        return [f"M104 T{tool_index(heater, profile)} S{fmt(value)}"]
    return [f"M104 S{fmt(value)}"]


def temperature_offsets(offsets, profile):
    """Validated ``{heater: offset}``; offsets of 0 are dropped."""
    if not isinstance(offsets, dict):
        raise ValueError(f"offsets must be a mapping of heater to offset, got {offsets!r}")
    result = {}
    for heater, offset in offsets.items():
        check_heater(heater, profile)
        offset = _number(offset, f"offset for {heater}")
        if abs(offset) > MAX_TEMPERATURE_OFFSET:
            raise ValueError(f"offset for {heater} must be within ±{MAX_TEMPERATURE_OFFSET} °C, got {fmt(offset)}")
        result[heater] = offset
    return result


def _percent(factor, limits, what):
    factor = _number(factor, f"{what} factor")
    percent = round(factor * 100) if isinstance(factor, float) else factor
    low, high = limits
    if not low <= percent <= high:
        raise ValueError(f"{what} factor must be between {low} and {high} percent "
                         f"(an int in percent or a float where 1.0 is 100%), got {factor!r}")
    return percent


def feed_rate(factor):
    return [f"M220 S{_percent(factor, FEED_RATE_LIMITS, 'feed rate')}"]


def flow_rate(factor):
    return [f"M221 S{_percent(factor, FLOW_RATE_LIMITS, 'flow rate')}"]


class TemperatureOffsetRewriter:
    """Adds the configured offsets to target temperatures in printed file lines.

    Tracks the active tool from ``Tn`` lines of the file so ``M104 S200`` after ``T1`` is
    offset by tool1's offset. Returns None for lines it leaves alone.
    """

    def __init__(self):
        self.offsets = {}
        self._tool = 0

    def reset(self):
        self._tool = 0

    def rewrite(self, cmd):
        match = _GCODE.match(cmd)
        if match is None:
            return None
        letter, number = match.group(1).upper(), match.group(2)
        if letter == "T":
            self._tool = int(number)
            return None
        kind = _TEMPERATURE_GCODES.get(f"{letter}{int(number)}")
        if kind is None:
            return None
        if kind == "tool":
            tool_match = re.search(_PARAM.format("T"), cmd)
            heater = f"tool{int(float(tool_match.group(1))) if tool_match else self._tool}"
        else:
            heater = kind
        offset = self.offsets.get(heater)
        if not offset:
            return None
        target = re.search(_PARAM.format("S"), cmd)
        if target is None or float(target.group(1)) <= 0:
            return None
        value = max(0.0, float(target.group(1)) + offset)
        return cmd[:target.start(1)] + fmt(value) + cmd[target.end(1):]
