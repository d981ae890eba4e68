"""G-code analysis: print time, filament per tool, printed dimensions and layers, in one pass.

Time model (trapezoids with a one-move look-ahead): every move accelerates from its entry speed
to its feed rate, cruises, and decelerates to its exit speed, at the acceleration in effect
(``M204 P``/``S`` for extruding moves, ``M204 T``/``S`` for travel; the configured default until
the file sets one). The speed at the junction of two moves is the lower of their feed rates
scaled by the cosine of the angle between them (a straight continuation keeps full speed, a
right angle or sharper stops), capped by what the first move can reach from its own entry speed.
Dwells (``G4``) add their time; homing and dwells end a move chain at rest; heat-up waits
(``M109``/``M190``) are unknowable here and count as zero.

Filament: per tool, the furthest the extruder got (so retract/unretract pairs and ``G92 E``
resets do not inflate it), honouring ``M82``/``M83``, ``G90``/``G91`` and ``G20``/``G21``.
Dimensions, printing area and layer count come from moves that extrude while moving in X/Y; a
layer starts whenever such a move happens at a new Z. Arcs (``G2``/``G3``, ``I``/``J`` or ``R``,
XY plane) count with their true length and their extreme points.

The parser works on bytes and splits lines itself (no regular expressions on the hot path), and
:func:`interpret` is deliberately one long function: its state lives in local variables, which
CPython reads several times faster than attributes; at millions of lines that is the difference.
"""

import hashlib
import math
import os

from .slicer import SlicerMetadata

DEFAULT_ACCELERATION = 1500.0
DEFAULT_FEEDRATE = 3000.0  # mm/min, until the file sets one
DEFAULT_FILAMENT_DIAMETER = 1.75
READ_SIZE = 4 * 1024 * 1024
INCH = 25.4
TWO_PI = 2.0 * math.pi

G_CODES = {b"G0": 0, b"G00": 0, b"G1": 1, b"G01": 1, b"G2": 2, b"G02": 2, b"G3": 3, b"G03": 3,
           b"G4": 4, b"G04": 4, b"G20": 20, b"G21": 21, b"G28": 28, b"G90": 90, b"G91": 91, b"G92": 92}
M_CODES = {b"M82": 82, b"M83": 83, b"M204": 204}


def move_time(distance, entry, cruise, exit, acceleration):
    """Seconds for a trapezoidal move (speeds in mm/s, acceleration in mm/s^2)."""
    if acceleration <= 0.0:
        return distance / cruise
    accelerating = (cruise * cruise - entry * entry) / (2.0 * acceleration)
    decelerating = (cruise * cruise - exit * exit) / (2.0 * acceleration)
    if accelerating + decelerating <= distance:
        return ((cruise - entry) + (cruise - exit)) / acceleration + (distance - accelerating - decelerating) / cruise
    peak = math.sqrt(acceleration * distance + (entry * entry + exit * exit) / 2.0)
    if peak < entry or peak < exit:
        return 2.0 * distance / (entry + exit)
    return ((peak - entry) + (peak - exit)) / acceleration


def _line_batches(chunks):
    tail = b""
    for chunk in chunks:
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        yield lines
    if tail:
        yield [tail]


def _normalize(line):
    """Strip whitespace, a leading ``N<line number>`` and a trailing ``*<checksum>``."""
    line = line.strip()
    if line[:1] == b"N":
        number, _, rest = line.partition(b" ")
        if number[1:].isdigit():
            line = rest.lstrip()
    star = line.find(b"*")
    if star >= 0 and line.find(b";") < 0:
        line = line[:star].rstrip()
    return line


def _arc_extremes(cx, cy, r, start_angle, sweep, clockwise):
    """Points where the arc crosses the 0/90/180/270 degree directions."""
    points = []
    for quarter in range(4):
        angle = quarter * math.pi / 2.0
        offset = (start_angle - angle) % TWO_PI if clockwise else (angle - start_angle) % TWO_PI
        if offset <= sweep:
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def interpret(chunks, acceleration=DEFAULT_ACCELERATION, comment=None):
    """Run the moves of G-code arriving as byte ``chunks``; returns (analysis dict, filament lengths).

    ``comment(line)`` receives every full-line comment (bytes starting with ``;``).
    """
    sqrt = math.sqrt
    x = y = z = e = 0.0
    unit = 1.0
    relative = e_relative = False
    feed = DEFAULT_FEEDRATE / 60.0
    a_print = a_travel = float(acceleration) if acceleration and acceleration > 0 else DEFAULT_ACCELERATION
    tool = 0
    totals = [0.0]  # per tool: extruded so far, and the furthest it ever got
    maxima = [0.0]
    tool_total = tool_max = 0.0  # the current tool's entries, kept in locals on the hot path
    inf = float("inf")
    min_x = min_y = min_z = inf
    max_x = max_y = max_z = -inf
    # every position a move starts or ends at, travel included (OctoPrint's travelArea); the start
    # of a move is the end of the one before, except after G28/G92 and at the beginning (the start
    # is recorded into both bounds first, so a new position can only pass one of them: elif)
    t_min_x = t_min_y = t_min_z = inf
    t_max_x = t_max_y = t_max_z = -inf
    start_recorded = False
    layers = 0
    layer_z = None
    was_extruding = False
    total_time = 0.0
    # the move waiting for its successor (which decides its exit speed)
    p_d = p_v = p_v0 = 0.0
    p_a = a_print
    p_ox = p_oy = p_oz = 0.0

    for lines in _line_batches(chunks):
        for line in lines:
            c = line[:1]
            if c != b"G":
                if c != b";" and c != b"M" and c != b"T":
                    line = _normalize(line)
                    c = line[:1]
                if c == b";":
                    if comment is not None:
                        comment(line)
                    continue
                if c == b"T":
                    try:
                        new_tool = int(line[1:].split(b";")[0].strip())
                    except ValueError:
                        continue
                    totals[tool], maxima[tool] = tool_total, tool_max
                    while len(totals) <= new_tool:
                        totals.append(0.0)
                        maxima.append(0.0)
                    tool = new_tool
                    tool_total, tool_max = totals[tool], maxima[tool]
                    continue
                if c == b"M":
                    parts = line.split(b";")[0].split()
                    code = M_CODES.get(parts[0]) if parts else None
                    if code == 83:
                        e_relative = True
                    elif code == 82:
                        e_relative = False
                    elif code == 204:
                        for p in parts[1:]:
                            try:
                                value = float(p[1:])
                            except ValueError:
                                continue
                            if value <= 0.0:
                                continue
                            k = p[:1]
                            if k == b"S":
                                a_print = a_travel = value
                            elif k == b"P":
                                a_print = value
                            elif k == b"T":
                                a_travel = value
                    continue
                if c != b"G":
                    continue
            semicolon = line.find(b";")
            if semicolon >= 0:
                line = line[:semicolon]
            parts = line.split()
            code = G_CODES.get(parts[0])
            if code is None:
                continue
            try:
                if code <= 3:
                    px = py = pz = pe = pi = pj = pr = None
                    for p in parts[1:]:
                        k = p[0]
                        if k == 88:
                            px = float(p[1:])
                        elif k == 89:
                            py = float(p[1:])
                        elif k == 69:
                            pe = float(p[1:])
                        elif k == 70:
                            value = float(p[1:])
                            if value > 0.0:
                                feed = value * unit / 60.0
                        elif k == 90:
                            pz = float(p[1:])
                        elif code > 1:
                            if k == 73:
                                pi = float(p[1:])
                            elif k == 74:
                                pj = float(p[1:])
                            elif k == 82:
                                pr = float(p[1:])
                    if relative:
                        nx = x + px * unit if px is not None else x
                        ny = y + py * unit if py is not None else y
                        nz = z + pz * unit if pz is not None else z
                    else:
                        nx = px * unit if px is not None else x
                        ny = py * unit if py is not None else y
                        nz = pz * unit if pz is not None else z
                    de = 0.0
                    if pe is not None:
                        pe *= unit
                        if e_relative:
                            de = pe
                            e += pe
                        else:
                            de = pe - e
                            e = pe
                        tool_total += de
                        if tool_total > tool_max:
                            tool_max = tool_total
                    dx = nx - x
                    dy = ny - y
                    dz = nz - z
                    if code <= 1:
                        d = sqrt(dx * dx + dy * dy + dz * dz)
                        if d > 0.0:
                            inv = 1.0 / d
                            ix = ox = dx * inv
                            iy = oy = dy * inv
                            iz = oz = dz * inv
                        extremes = None
                    else:
                        if pr is not None and pi is None and pj is None:
                            chord = sqrt(dx * dx + dy * dy)
                            if chord == 0.0:
                                continue
                            radius = abs(pr) * unit
                            half = chord / 2.0
                            h = sqrt(radius * radius - half * half) if radius > half else 0.0
                            side = -1.0 if (code == 2) != (pr < 0.0) else 1.0
                            cx = x + dx / 2.0 + side * h * (-dy / chord)
                            cy = y + dy / 2.0 + side * h * (dx / chord)
                        else:
                            cx = x + (pi or 0.0) * unit
                            cy = y + (pj or 0.0) * unit
                        radius = sqrt((x - cx) ** 2 + (y - cy) ** 2)
                        start_angle = math.atan2(y - cy, x - cx)
                        end_angle = math.atan2(ny - cy, nx - cx)
                        clockwise = code == 2
                        sweep = (start_angle - end_angle) if clockwise else (end_angle - start_angle)
                        sweep %= TWO_PI
                        if sweep <= 1e-9:
                            sweep = TWO_PI
                        arc_xy = radius * sweep
                        d = sqrt(arc_xy * arc_xy + dz * dz)
                        if d > 0.0:
                            flat = arc_xy / d
                            sign = -1.0 if clockwise else 1.0
                            ix = -math.sin(start_angle) * sign * flat
                            iy = math.cos(start_angle) * sign * flat
                            ox = -math.sin(end_angle) * sign * flat
                            oy = math.cos(end_angle) * sign * flat
                            iz = oz = dz / d
                        extremes = _arc_extremes(cx, cy, radius, start_angle, sweep, clockwise) if de > 0.0 else None
                    if d > 0.0:
                        if not start_recorded:
                            t_min_x, t_max_x = min(t_min_x, x), max(t_max_x, x)
                            t_min_y, t_max_y = min(t_min_y, y), max(t_max_y, y)
                            t_min_z, t_max_z = min(t_min_z, z), max(t_max_z, z)
                            start_recorded = True
                        if nx < t_min_x:
                            t_min_x = nx
                        elif nx > t_max_x:
                            t_max_x = nx
                        if ny < t_min_y:
                            t_min_y = ny
                        elif ny > t_max_y:
                            t_max_y = ny
                        if nz < t_min_z:
                            t_min_z = nz
                        elif nz > t_max_z:
                            t_max_z = nz
                        if de > 0.0 and (dx or dy or extremes):
                            if not was_extruding:
                                min_x = x if x < min_x else min_x
                                max_x = x if x > max_x else max_x
                                min_y = y if y < min_y else min_y
                                max_y = y if y > max_y else max_y
                                min_z = z if z < min_z else min_z
                                max_z = z if z > max_z else max_z
                            if nx < min_x:
                                min_x = nx
                            if nx > max_x:
                                max_x = nx
                            if ny < min_y:
                                min_y = ny
                            if ny > max_y:
                                max_y = ny
                            if extremes:
                                for ex, ey in extremes:
                                    min_x, max_x = min(min_x, ex), max(max_x, ex)
                                    min_y, max_y = min(min_y, ey), max(max_y, ey)
                            if nz != layer_z:
                                # every extruding Z is some layer's Z, so the Z range is tracked here
                                layer_z = nz
                                layers += 1
                                if nz < min_z:
                                    min_z = nz
                                if nz > max_z:
                                    max_z = nz
                            was_extruding = True
                            a = a_print
                        else:
                            was_extruding = False
                            a = a_travel
                    elif de != 0.0:
                        d = de if de > 0.0 else -de
                        ix = iy = iz = ox = oy = oz = 0.0
                        a = a_print
                        was_extruding = False
                    else:
                        continue
                    if p_d > 0.0:
                        cos = p_ox * ix + p_oy * iy + p_oz * iz
                        if cos > 0.0:
                            junction = (p_v if p_v < feed else feed) * cos
                            reachable = p_v0 * p_v0 + 2.0 * p_a * p_d
                            if junction * junction > reachable:
                                junction = sqrt(reachable)
                        else:
                            junction = 0.0
                        # move_time(), inlined for the common case that the cruise speed is reached
                        accelerating = (p_v * p_v - p_v0 * p_v0) / (2.0 * p_a)
                        decelerating = (p_v * p_v - junction * junction) / (2.0 * p_a)
                        if accelerating + decelerating <= p_d:
                            total_time += ((2.0 * p_v - p_v0 - junction) / p_a
                                           + (p_d - accelerating - decelerating) / p_v)
                        else:
                            total_time += move_time(p_d, p_v0, p_v, junction, p_a)
                    else:
                        junction = 0.0
                    p_d, p_v, p_v0, p_a = d, feed, junction, a
                    p_ox, p_oy, p_oz = ox, oy, oz
                    x, y, z = nx, ny, nz
                elif code == 92:
                    start_recorded = False
                    values = {p[:1]: float(p[1:]) for p in parts[1:] if len(p) > 1}
                    if not parts[1:]:
                        values = {b"X": 0.0, b"Y": 0.0, b"Z": 0.0, b"E": 0.0}
                    x = values[b"X"] * unit if b"X" in values else x
                    y = values[b"Y"] * unit if b"Y" in values else y
                    z = values[b"Z"] * unit if b"Z" in values else z
                    e = values[b"E"] * unit if b"E" in values else e
                elif code == 4 or code == 28:
                    if p_d > 0.0:
                        total_time += move_time(p_d, p_v0, p_v, 0.0, p_a)
                        p_d = 0.0
                    if code == 4:
                        for p in parts[1:]:
                            if p[:1] == b"P":
                                total_time += float(p[1:]) / 1000.0
                            elif p[:1] == b"S":
                                total_time += float(p[1:])
                    else:
                        start_recorded = False
                        axes = {p[:1] for p in parts[1:]}
                        if not axes & {b"X", b"Y", b"Z"}:
                            axes = {b"X", b"Y", b"Z"}
                        x = 0.0 if b"X" in axes else x
                        y = 0.0 if b"Y" in axes else y
                        z = 0.0 if b"Z" in axes else z
                elif code == 90:
                    relative = e_relative = False
                elif code == 91:
                    relative = e_relative = True
                elif code == 20:
                    unit = INCH
                elif code == 21:
                    unit = 1.0
            except ValueError:
                continue

    if p_d > 0.0:
        total_time += move_time(p_d, p_v0, p_v, 0.0, p_a)
    totals[tool], maxima[tool] = tool_total, tool_max
    if max_x == -inf:
        min_x = min_y = min_z = max_x = max_y = max_z = 0.0
    if t_max_x == -inf:  # no move at all
        t_min_x = t_min_y = t_min_z = t_max_x = t_max_y = t_max_z = 0.0
    analysis = {
        "estimatedPrintTime": total_time,
        "printingArea": {"minX": min_x, "maxX": max_x, "minY": min_y, "maxY": max_y, "minZ": min_z, "maxZ": max_z},
        "dimensions": {"width": max_x - min_x, "depth": max_y - min_y, "height": max_z - min_z},
        "travelArea": {"minX": t_min_x, "maxX": t_max_x, "minY": t_min_y, "maxY": t_max_y,
                       "minZ": t_min_z, "maxZ": t_max_z},
        "travelDimensions": {"width": t_max_x - t_min_x, "depth": t_max_y - t_min_y,
                             "height": t_max_z - t_min_z},
        "layerCount": layers,
    }
    return analysis, maxima


def filament_usage(lengths, diameters):
    """``{"tool0": {"length": mm, "volume": cm3}, ...}``; tool 0 always, others when used."""
    usage = {}
    for index, length in enumerate(lengths):
        if index > 0 and length <= 0.0:
            continue
        diameter = diameters[index] if index < len(diameters) else diameters[-1]
        radius = diameter / 2.0
        usage[f"tool{index}"] = {"length": length, "volume": math.pi * radius * radius * length / 1000.0}
    return usage


def analyse_file(path, acceleration=None, filament_diameter=None):
    """Analyse a G-code file: analysis, slicer metadata, thumbnails (base64), md5 and stamp.

    Raises RuntimeError if the file changed while it was read.
    """
    before = os.stat(path)
    digest = hashlib.md5()
    slicer = SlicerMetadata()

    def chunks():
        with open(path, "rb") as f:
            while True:
                chunk = f.read(READ_SIZE)
                if not chunk:
                    return
                digest.update(chunk)
                yield chunk

    analysis, lengths = interpret(chunks(), acceleration=acceleration or DEFAULT_ACCELERATION, comment=slicer.feed)
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise RuntimeError(f"{path} changed while it was analysed")
    slicer_data = slicer.result()
    diameters = slicer_data.get("filamentDiameter") or [filament_diameter or DEFAULT_FILAMENT_DIAMETER]
    analysis["filament"] = filament_usage(lengths, diameters)
    return {
        "analysis": analysis,
        "slicer": slicer_data,
        "thumbnails": slicer.thumbnails,
        "hash": digest.hexdigest(),
        "stamp": [before.st_size, before.st_mtime_ns],
    }
