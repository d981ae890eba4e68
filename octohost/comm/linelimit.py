"""What the firmware can take as one command: a single line that fits its receive buffer.

A line break inside a command reaches the firmware as two lines: the first without its
checksum, the second without its line number. A line longer than the firmware's receive
buffer (``serial.rxBufferSize``) loses bytes there. Either way the firmware asks for the line
again, gets the same bytes again, and after ``serial.maxResendsPerLine`` requests the host gives
up and closes the connection, with any running print. So commands are split at line breaks (what
someone typing two lines means) and a line too long for the buffer is refused before it is
queued; the printer layer turns that refusal into a 400 for the API.
"""

import re

_BREAKS = re.compile(r"[\r\n]+")

#: bytes a checksum adds: ``*`` and at most three digits
_CHECKSUM = 4


class CommandTooLong(ValueError):
    """A command whose framed line would not fit the firmware's receive buffer."""


def split_lines(cmd: str) -> list[str]:
    """``cmd`` split at ``\\r`` and ``\\n``, each part stripped, empty parts dropped."""
    if "\n" not in cmd and "\r" not in cmd:
        cmd = cmd.strip()
        return [cmd] if cmd else []
    return [part for part in (piece.strip() for piece in _BREAKS.split(cmd)) if part]


def max_command_length(rx_buffer_size: int, line_number: int, numbered: bool = True) -> int:
    """The longest command whose framed line (``N<n> <cmd>*<cs>\\n``) fits ``rx_buffer_size`` bytes.

    Commands are checked when queued, before their line number is known: the estimate allows a
    line number ten times ``line_number``, room for whatever is queued ahead of it.
    """
    if not numbered:
        return rx_buffer_size - 1
    overhead = len(f"N{max(1, line_number) * 10} ") + _CHECKSUM + 1
    return rx_buffer_size - overhead


def problem(cmd: str, limit: int, rx_buffer_size: int) -> str | None:
    """Why ``cmd`` cannot go to the firmware as one line of at most ``limit`` characters, or None."""
    if len(cmd) > limit:
        return (f"The command {_shown(cmd)} is {len(cmd)} characters long; the printer's receive buffer "
                f"(serial.rxBufferSize, {rx_buffer_size} bytes) takes at most {limit} with line number and "
                f"checksum. It was not sent.")
    if "\n" in cmd or "\r" in cmd:
        return f"The command {_shown(cmd)} contains a line break (from a plugin?). It was not sent."
    return None


def check_length(cmd: str, limit: int, rx_buffer_size: int) -> None:
    """Raise :class:`CommandTooLong` with a message a person understands if ``cmd`` exceeds ``limit``."""
    message = problem(cmd, limit, rx_buffer_size)
    if message is not None:
        raise CommandTooLong(message)


def _shown(cmd):
    return repr(cmd if len(cmd) <= 40 else cmd[:37] + "...")
