"""Machine status codes: one number a client can act on, instead of parsing state strings.

The ranges follow InvenTree's machine registry: 1xx fine, 2xx warning, 3xx a problem of the
machine (what the firmware reported), 4xx a problem of the driver (port, line, circuit), 5xx
unknown. Each code has a label (a few words), a text (a sentence) and a colour name the UI maps
to its palette. ``README.md`` shows the same table; ``tests/machine/test_status.py`` keeps the
two in step.

:func:`classify_error` maps the comm layer's error messages (and firmware lines) to codes. It
reads their words rather than importing anything from the comm layer, so the comm layer stays
unaware of this package; the end-to-end tests pin the messages that matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from octohost.comm.states import State


@dataclass(frozen=True)
class StatusCode:
    code: int
    label: str
    text: str
    color: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "text": self.text, "label": self.label, "color": self.color}


def _codes(*rows: tuple[int, str, str, str]) -> dict[int, StatusCode]:
    return {row[0]: StatusCode(*row) for row in rows}


#: every status code, in the order of the README table
CODES = _codes(
    (100, "Ready", "Connected and ready.", "success"),
    (110, "Printing", "A job is printing.", "primary"),
    (111, "Paused", "The job is paused.", "info"),
    (112, "Heating", "Heaters are on their way to their targets.", "info"),
    (113, "Busy", "Starting, pausing, cancelling or finishing a job, or sending a file to the SD card.", "info"),
    (120, "Connecting", "Opening the port and greeting the firmware.", "info"),
    (130, "Disconnected", "Not connected (nobody asked for a connection, or it was closed on request).", "secondary"),
    (200, "Reconnecting", "The connection was lost; octohost reconnects by itself.", "warning"),
    (201, "Temperature deviation", "A heater has left its target while printing.", "warning"),
    (202, "Resend storm", "Many lines needed resending: the line is noisy.", "warning"),
    (300, "Firmware error", "The firmware reported an error.", "danger"),
    (301, "Heater fault", "The firmware reported a heater or thermal error (thermal runaway, MINTEMP, MAXTEMP, "
                          "heating failed).", "danger"),
    (302, "Halted", "The firmware halted (kill() called or an emergency stop): reset it.", "danger"),
    (303, "Filament runout", "The firmware reported a filament runout.", "warning"),
    (304, "Firmware reset", "The firmware restarted during a job; the job failed.", "danger"),
    (400, "Driver error", "The driver lost or could not keep the connection.", "danger"),
    (401, "Port missing", "The port does not exist: unplugged or switched off.", "danger"),
    (402, "Cannot open", "The port exists but cannot be opened (permission, busy, refused).", "danger"),
    (403, "No answer", "The port opened but the firmware does not answer.", "danger"),
    (404, "Connection lost", "The connection dropped (cable pulled, socket closed).", "danger"),
    (405, "Circuit open", "Too many failed attempts: reconnecting pauses before one more try.", "danger"),
    (406, "Driver misconfigured", "The driver lacks a required setting.", "danger"),
    (500, "Unknown", "Something unexpected happened; see the errors.", "dark"),
)


def status(code: int) -> StatusCode:
    return CODES.get(code, CODES[500])


#: status of each comm state while nothing is wrong
_STATE_CODES = {
    State.NONE: 130, State.CLOSED: 130, State.OFFLINE: 130,
    State.OPEN_SERIAL: 120, State.DETECT_SERIAL: 120, State.DETECT_BAUDRATE: 120, State.CONNECTING: 120,
    State.OPERATIONAL: 100, State.PRINTING: 110, State.PAUSED: 111,
    State.STARTING: 113, State.PAUSING: 113, State.RESUMING: 113, State.CANCELLING: 113, State.FINISHING: 113,
    State.TRANSFERING_FILE: 113,
}


def code_for_state(state: str) -> int:
    """The 1xx code of a comm state (error states have none: their error decides)."""
    return _STATE_CODES.get(state, 500)


#: (pattern over the lower-cased message, code), first match wins; heater faults before "halted",
#: since Marlin follows a thermal error with "Printer halted. kill() called!"
_ERROR_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = tuple((re.compile(pattern), code) for pattern, code in (
    (r"required setting", 406),
    (r"thermal runaway|heating failed|mintemp|maxtemp|temperature.*(error|fault)|heater.*(fail|fault|error)"
     r"|thermistor", 301),
    (r"filament runout|out of filament|out_of_filament|runout", 303),
    (r"restarted unexpectedly", 304),
    (r"kill\(\) called|halted|emergency stop|m112", 302),
    (r"no such device|no such file|could not open.*not found", 401),
    (r"permission denied|device busy|connection refused|host unreachable|timed out|could not open", 402),
    (r"did not answer|stopped answering|no printer answered", 403),
    (r"lost the connection|disconnected|broken pipe|connection reset|broke down", 404),
    (r"reported an error", 300),
))


def classify_error(message: str | None) -> int:
    """The 3xx/4xx code of an error message, 500 when it says nothing known."""
    lower = (message or "").lower()
    for pattern, code in _ERROR_PATTERNS:
        if pattern.search(lower):
            return code
    return 500


#: error codes after which octohost reconnects by itself: the driver's trouble, or a firmware
#: that reset under a job; never after a machine problem such as a halt or a heater fault
RECONNECTABLE = frozenset({304, 400, 401, 402, 403, 404, 500})


def firmware_condition(line: str) -> int | None:
    """A 3xx code for a firmware message that reports a machine problem (``// action:`` lines,
    ``Error:`` lines that did not close the connection), else None."""
    lower = line.lower()
    if "action:" in lower:
        action = lower.split("action:", 1)[1].strip()
        if re.match(r"(out_of_filament|filament_?runout|runout)", action) or (
                action.startswith(("paused", "prompt_begin")) and "runout" in action.replace("_", "")):
            return 303
        return None
    if lower.startswith("error:") or lower.startswith("!!"):
        code = classify_error(lower)
        return code if 300 <= code < 400 else 300
    return None
