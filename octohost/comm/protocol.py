"""The G-code line protocol, as pure functions: no I/O, no threads, no state.

Outgoing: comment stripping, gcode/subcode parsing, ``N<n> <cmd>*<checksum>`` framing.
Incoming: :func:`classify` sorts a firmware line into one kind; the receive loop tests
``line.startswith("ok")`` itself before calling anything here, because ``ok`` is most lines.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

# -- outgoing -------------------------------------------------------------------------------------

_GCODE = re.compile(r"\s*(?:([GMgm])(\d+)(?:\.(\d+))?|([TtFf])\d+)")
_MOVES = {"G0 ": "G0", "G1 ": "G1"}  # most lines of a file: skip the regex


def strip_comment(line: str) -> str:
    """The command part of a file line: without ``;`` comments and surrounding blanks.

    A ``;`` inside a quoted M117/M118 text or escaped as ``\\;`` is kept.
    """
    if ";" not in line:
        return line.strip()
    if "\\;" in line or '"' in line:
        out = []
        escaped = quoted = False
        for char in line:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                out.append(char)
                escaped = True
            elif char == '"':
                quoted = not quoted
                out.append(char)
            elif char == ";" and not quoted:
                break
            else:
                out.append(char)
        return "".join(out).strip()
    return line[:line.index(";")].strip()


def gcode_and_subcode(cmd: str) -> tuple[str | None, str | None]:
    """``("G1", None)`` for ``G1 X1``, ``("M80", "1")`` for ``M80.1``, ``("T", None)`` for ``T0``.

    ``(None, None)`` for anything else (``@pause``, empty, garbage).
    """
    fast = _MOVES.get(cmd[:3])
    if fast is not None:
        return fast, None
    match = _GCODE.match(cmd)
    if match is None:
        return None, None
    letter, number, subcode, other = match.groups()
    if letter is not None:
        return letter.upper() + str(int(number)), subcode
    return other.upper(), None


def parse_at_command(cmd: str) -> tuple[str, str] | None:
    """``("pause", "")`` for ``@pause``, ``("foo", "a b")`` for ``@foo a b``; None for non-@ lines."""
    if not cmd.startswith("@"):
        return None
    name, _, params = cmd[1:].strip().partition(" ")
    return name, params.strip()


def checksum(data: bytes) -> int:
    """XOR of all bytes of ``data`` (bytes), the checksum Marlin-style firmware expects."""
    result = 0
    for byte in data:
        result ^= byte
    return result


def frame_command(command: Any, next_line: int, plain: bool, checksum_required: Collection[str]
                  ) -> tuple[Any, int | None, bytes, str]:
    """``(command, line number or None, bytes to write, text to log)`` for a command to send.

    The one place lines are framed (the sender for every line, detection for its hello).
    ``command`` has ``cmd`` and ``gcode``; it is numbered ``next_line`` as
    ``N<n> <cmd>*<checksum>``, except ``M110 N<n>``, which sets the number itself (a bare ``M110``
is numbered 0 and sent as written, as OctoPrint does). ``plain``
    (``serial.neverSendChecksum``) sends commands as they are, unless their gcode is in
    ``checksum_required``. Returns ``command`` first so the sender can stage the tuple as it is.
    """
    cmd = command.cmd
    if plain and command.gcode not in checksum_required:
        return command, None, (cmd + "\n").encode("ascii", "replace"), cmd
    number = next_line
    if command.gcode == "M110":  # sent as written: "N0 M110" for firmware that refuses "M110 N0"
        value = parameter(cmd, "N")
        number = int(value) if value is not None else 0
    text = f"N{number} {cmd}"
    body = text.encode("ascii", "replace")
    cs = checksum(body)
    return command, number, body + b"*%d\n" % cs, f"{text}*{cs}"


def parameter(cmd: str, letter: str) -> float | None:
    """Value of parameter ``letter`` in ``cmd`` as float (``parameter("G1 Z0.3", "Z") == 0.3``), or None."""
    match = re.search(r"(?:^|\s)" + letter + r"\s*(-?\d*\.?\d+)", cmd.upper())
    return float(match.group(1)) if match else None


class _Bare:
    """What :func:`frame_command` reads of a command, for callers without one."""

    __slots__ = ("cmd", "gcode")

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd
        self.gcode = gcode_and_subcode(cmd)[0]


def frame(line_number: int, cmd: str) -> bytes:
    """``b"N<n> <cmd>*<checksum>\\n"``: the bytes written for a numbered command (see :func:`frame_command`)."""
    return frame_command(_Bare(cmd), line_number, False, ())[2]


# -- incoming -------------------------------------------------------------------------------------

class Kind:
    """What a received line is; :func:`classify` returns one of these."""

    OK = "ok"
    TEMPERATURE = "temperature"
    RESEND = "resend"
    ERROR = "error"
    ACTION = "action"
    FIRMWARE_INFO = "firmware_info"
    CAPABILITY = "capability"
    BUSY = "busy"
    WAIT = "wait"
    START = "start"
    SD = "sd"
    POSITION = "position"
    MESSAGE = "message"
    EMPTY = "empty"


#: error texts that belong to a resend request (the "Resend:" line that follows does the work)
_RESEND_ERRORS = ("checksum mismatch", "wrong checksum", "line number is not", "expected line",
                  "no line number with checksum", "no checksum with line number", "missing checksum",
                  "format error")
#: error texts about the SD card that do not endanger a running print
_SD_ERRORS = ("cannot open subdir", "open failed", "cannot enter subdir", "volume.init failed",
              "sd init fail", "openroot failed", "workdir open failed")

_TEMPERATURE = re.compile(r"(?:^|\s)([TBC]\d*):\s*(-?\d+(?:\.\d*)?)(?:\s*/\s*(-?\d+(?:\.\d*)?))?")
_RESEND = re.compile(r"^(?:Resend|rs)[:\s]\s*(?:N)?(\d+)", re.IGNORECASE)
_FIRMWARE_KEY = re.compile(r"(?:^|\s)([A-Z][A-Z0-9_]*):")
_ADVANCED_OK = re.compile(r"\b([NPB])(\d+)")
_POSITION = re.compile(r"([XYZE]):\s*(-?\d+(?:\.\d*)?)")
_SD_PRINTING = re.compile(r"SD printing byte (\d+)\s*/\s*(\d+)")
_FILE_OPENED = re.compile(r"File opened:\s*(.*?)\s+Size:\s*(\d+)")


def classify(line: str) -> tuple[str, Any]:
    """``(Kind, data)`` for a received line (already stripped of its line ending).

    ``data`` depends on the kind: parsed values for temperatures, resend, action, capability,
    firmware info, SD and position lines; the line itself otherwise.
    """
    if not line:
        return Kind.EMPTY, line
    if line.startswith("ok"):
        return Kind.OK, parse_ok(line)
    lower = line.lower()
    if lower.startswith(("resend", "rs ", "rs:")):
        number = parse_resend(line)
        return (Kind.RESEND, number) if number is not None else (Kind.MESSAGE, line)
    if line.startswith("Error:") or line.startswith("!!"):
        return Kind.ERROR, parse_error(line)
    if lower.startswith(("busy:", "echo:busy:")):  # a keepalive, not an echo that happens to say "busy:"
        return Kind.BUSY, line
    if lower.startswith("//") and "action:" in lower:
        return Kind.ACTION, parse_action(line)
    if line.startswith("FIRMWARE_NAME:") or " FIRMWARE_NAME:" in line:
        return Kind.FIRMWARE_INFO, parse_firmware_info(line)
    if line.startswith("Cap:"):
        capability = parse_capability(line)
        if capability is not None:
            return Kind.CAPABILITY, capability
    if line == "wait":
        return Kind.WAIT, line
    if line == "start":
        return Kind.START, line
    if ("T:" in line or "B:" in line or "T0:" in line) and _TEMPERATURE.search(line):
        return Kind.TEMPERATURE, parse_temperatures(line)
    sd = parse_sd_line(line)
    if sd is not None:
        return Kind.SD, sd
    if line.startswith("X:") and " Y:" in line:
        return Kind.POSITION, parse_position(line)
    return Kind.MESSAGE, line


def parse_ok(line: str) -> dict[str, Any]:
    """Extras of an ok line: ``{"N": 12, "P": 15, "B": 3}`` (ADVANCED_OK), ``"temperatures"``.

    A plain ``ok`` gives an empty dict (shared, do not modify).
    """
    if len(line) <= 3:
        return _NO_EXTRAS
    rest = line[2:]
    extras: dict[str, Any] = {}
    if ":" in rest and _TEMPERATURE.search(rest):
        extras["temperatures"] = parse_temperatures(rest)
    else:
        for key, value in _ADVANCED_OK.findall(rest):
            extras[key] = int(value)
    return extras


_NO_EXTRAS: dict[str, Any] = {}


def parse_temperatures(line: str) -> dict[str, tuple[float | None, float | None]]:
    """``{"T0": (actual, target), "B": (actual, target)}`` as OctoPrint hands to its hook.

    Target is None when the firmware sends none. With several tools (``T0:``/``T1:``), the bare
    ``T:`` (the active tool) is dropped; with one, ``T:`` becomes ``T0``.
    """
    result: dict[str, tuple[float | None, float | None]] = {}
    for key, actual, target in _TEMPERATURE.findall(line):
        if key in result:
            continue
        result[key] = (float(actual), float(target) if target else None)
    if "T" in result:
        current = result.pop("T")
        if not any(key.startswith("T") for key in result):
            result["T0"] = current
    return result


def parse_resend(line: str) -> int | None:
    """The line number asked for by ``Resend: 12`` / ``rs N12``, or None."""
    match = _RESEND.match(line.strip())
    return int(match.group(1)) if match else None


class FirmwareError:
    """A parsed ``Error:``/``!!`` line: its text, and whether it is part of a resend request."""

    __slots__ = ("message", "resend_related", "sd_related", "last_line")

    def __init__(self, message: str, resend_related: bool, sd_related: bool, last_line: int | None) -> None:
        self.message = message
        self.resend_related = resend_related
        self.sd_related = sd_related
        self.last_line = last_line

    def __repr__(self):
        return f"FirmwareError({self.message!r}, resend_related={self.resend_related})"


def parse_error(line: str) -> FirmwareError:
    message = line[6:] if line.startswith("Error:") else line[2:]
    message = message.strip()
    lower = message.lower()
    last_line = None
    marker = lower.find("last line:")
    if marker >= 0:
        digits = re.match(r"\s*(\d+)", message[marker + 10:])
        last_line = int(digits.group(1)) if digits else None
    return FirmwareError(message, any(text in lower for text in _RESEND_ERRORS),
                         any(text in lower for text in _SD_ERRORS), last_line)


def parse_action(line: str) -> tuple[str, str, str]:
    """``(action, name, params)`` of ``// action:name params``."""
    action = line[line.lower().index("action:") + 7:].strip()
    name, _, params = action.partition(" ")
    return action, name, params.strip()


def parse_firmware_info(line: str) -> tuple[str, dict[str, str]]:
    """``(name, {"FIRMWARE_NAME": ..., "PROTOCOL_VERSION": ...})`` from an M115 report line."""
    data: dict[str, str] = {}
    keys = list(_FIRMWARE_KEY.finditer(line))
    for index, match in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(line)
        data[match.group(1)] = line[match.end():end].strip()
    return data.get("FIRMWARE_NAME", ""), data


def parse_capability(line: str) -> tuple[str, bool] | None:
    """``("AUTOREPORT_TEMP", True)`` for ``Cap:AUTOREPORT_TEMP:1``; None if malformed."""
    name, sep, value = line[4:].strip().rpartition(":")
    if not sep or not name:
        return None
    return name.strip().upper(), value.strip() == "1"


def parse_position(line: str) -> dict[str, float]:
    """``{"x":.., "y":.., "z":.., "e":..}`` from an M114 answer (the part before ``Count``)."""
    head = line.split("Count", 1)[0]
    return {axis.lower(): float(value) for axis, value in _POSITION.findall(head)}


def parse_sd_line(line: str) -> tuple[str, Any] | None:
    """SD card status lines as ``(event, data)``, or None for anything else.

    Events: progress (pos, size), not_printing, done, opened (name, size), selected,
    list_begin, list_end, card_ok, card_failed, card_released, writing, saved.
    """
    if line.startswith("SD printing byte"):
        match = _SD_PRINTING.search(line)
        return ("progress", (int(match.group(1)), int(match.group(2)))) if match else None
    if line.startswith("Not SD printing"):
        return "not_printing", None
    if line.startswith("Done printing file"):
        return "done", None
    if line.startswith("File opened"):
        match = _FILE_OPENED.search(line)
        return ("opened", (match.group(1), int(match.group(2)))) if match else None
    if line.startswith("File selected"):
        return "selected", None
    if line.startswith("Begin file list"):
        return "list_begin", None
    if line.startswith("End file list"):
        return "list_end", None
    if line.startswith(("SD card ok", "echo:SD card ok")):
        return "card_ok", None
    if line.startswith(("SD init fail", "echo:SD init fail", "Error:SD init fail")):
        return "card_failed", None
    if line.startswith(("Card released", "echo:SD card released")):
        return "card_released", None
    if line.startswith("Writing to file"):
        return "writing", line.partition(":")[2].strip()
    if line.startswith("Done saving file"):
        return "saved", None
    return None


def parse_file_list_entry(line: str) -> dict[str, Any]:
    """``{"name", "size", "display"}`` for one M20 line (``NAME.GCO 1234 [Long Name.gcode]``)."""
    parts = line.strip().split(" ", 2)
    name = parts[0]
    size: int | None = None
    display = name
    if len(parts) > 1 and parts[1].isdigit():
        size = int(parts[1])
        if len(parts) > 2 and parts[2].strip():
            display = parts[2].strip()
    elif len(parts) > 1:
        display = line.strip()
    return {"name": name, "size": size, "display": display}
