"""Entry point of the analysis child process: one JSON request per stdin line, one reply per line.

Request: ``{"path", "acceleration", "filamentDiameter"}``. Reply: ``{"result": {...}}`` with
the fields of :func:`octohost.files.analysis.gcode.analyse_file`, or ``{"error": "..."}``.
"""

import json
import os
import sys

from .gcode import analyse_file


def lower_priority():
    """Run only when a core is otherwise idle (SCHED_IDLE), or at least at nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19 - os.nice(0))
    except OSError:
        pass


def main():
    lower_priority()
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            reply = {"result": analyse_file(request["path"], acceleration=request.get("acceleration"),
                                            filament_diameter=request.get("filamentDiameter"))}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply).encode("utf-8") + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
