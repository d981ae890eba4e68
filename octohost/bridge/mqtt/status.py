"""What the bridge reports about the printer: the state id, ``status: {code, text}`` and the
telemetry snapshot, read through the public PrinterInterface only.

:func:`machine_status` is the one adapter from octohost's printer state to a status code (the
seed's ranges: 1xx fine, 2xx warning, 3xx machine problem, 4xx driver/connection problem, 5xx
unknown). The normalized machine status (``octohost/machine/``) will replace its body; every
caller goes through this function.
"""

from __future__ import annotations

import time
from typing import Any

#: state id -> (code, text) where the printer's own state string is not the better text
_CODES = {
    "OPERATIONAL": (100, "Ready"),
    "PRINTING": (101, "Printing"),
    "PAUSED": (102, "Paused"),
    "CONNECTING": (110, "Connecting"),
    "OPEN_SERIAL": (110, "Connecting"),
    "DETECT_SERIAL": (110, "Connecting"),
    "DETECT_BAUDRATE": (110, "Connecting"),
    "TRANSFERING_FILE": (103, "Transferring a file"),
    "ERROR": (300, "Error"),
    "CLOSED_WITH_ERROR": (300, "Error"),
    "CLOSED": (400, "Not connected"),
    "OFFLINE": (400, "Not connected"),
    "NONE": (400, "Not connected"),
}


def machine_status(printer: Any) -> dict[str, Any]:
    """``{"code", "text"}`` of the printer now (the adapter the machine status will replace)."""
    state = printer.get_state_id()
    code, text = _CODES.get(state, (500, "Unknown"))
    if code == 300:
        text = printer.get_state_string() or text
    return {"code": code, "text": text}


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


def telemetry(printer: Any, seq: int) -> dict[str, Any]:
    """One telemetry message: ``{ts, seq, state, status, temperatures, job}``."""
    data = printer.get_current_data()
    return {"ts": round(time.time(), 3), "seq": seq, "state": printer.get_state_id(),
            "status": machine_status(printer), "temperatures": _temperatures(printer), "job": _job(data)}
