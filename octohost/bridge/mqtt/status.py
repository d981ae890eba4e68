"""What the bridge reports about the printer: the state id, ``status: {code, text}`` and the
telemetry snapshot, read through public interfaces only.

:func:`machine_status` gives the status code: the machine layer's (``octohost/machine/``: the
seed's ranges, 1xx fine, 2xx warning, 3xx machine problem, 4xx driver problem, 5xx unknown, the
same codes ``GET /api/machine`` reports) when the daemon has one, else a mapping of the printer's
state (a plugin's printer without the machine layer, and the tests that build a bridge alone).
"""

from __future__ import annotations

import time
from typing import Any

from octohost.machine.status import status as status_of

#: state id -> the machine layer's code, for a printer without the machine layer (see the docstring)
_CODES = {
    "OPERATIONAL": 100, "PRINTING": 110, "PAUSED": 111, "PAUSING": 113, "RESUMING": 113, "CANCELLING": 113,
    "FINISHING": 113, "STARTING": 113, "TRANSFERING_FILE": 113,
    "CONNECTING": 120, "OPEN_SERIAL": 120, "DETECT_SERIAL": 120, "DETECT_BAUDRATE": 120,
    "CLOSED": 130, "OFFLINE": 130, "NONE": 130,
    "ERROR": 300, "CLOSED_WITH_ERROR": 400,
}


def machine_status(printer: Any, machine: Any = None) -> dict[str, Any]:
    """``{"code", "text", "label"}`` of the printer now, as ``GET /api/machine`` has them:
    ``machine.status()`` when there is a machine layer, else a mapping of the printer's state."""
    if machine is not None:
        current = machine.status()
    else:
        current = status_of(_CODES.get(printer.get_state_id(), 500)).as_dict()
    return {"code": current["code"], "text": current["text"], "label": current["label"]}


def _temperatures(printer: Any) -> dict[str, Any]:
    out = {}
    for heater, values in (printer.get_current_temperatures() or {}).items():
        if isinstance(values, dict):
            out[heater] = {"actual": values.get("actual"), "target": values.get("target")}
    return out


def _job(data: dict[str, Any]) -> dict[str, Any]:
    file = (data.get("job") or {}).get("file") or {}
    progress = data.get("progress") or {}
    completion = progress.get("completion")
    return {"file": file.get("path"), "completion": round(completion, 2) if completion is not None else None,
            "printTime": progress.get("printTime"), "printTimeLeft": progress.get("printTimeLeft")}


def telemetry(printer: Any, seq: int, machine: Any = None) -> dict[str, Any]:
    """One telemetry message: ``{ts, seq, state, status, temperatures, job}``."""
    data = printer.get_current_data()
    return {"ts": round(time.time(), 3), "seq": seq, "state": printer.get_state_id(),
            "status": machine_status(printer, machine), "temperatures": _temperatures(printer), "job": _job(data)}
