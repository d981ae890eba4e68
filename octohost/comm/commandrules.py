"""The host's own rules in the queuing phase: commands that pause a print, and commands never sent.

OctoPrint's ``serial.pausingCommands`` (M0, M1, M25), ``serial.blockedCommands`` (M0, M1) and
``serial.ignoredCommands`` (none), applied as OctoPrint 1.11 applies them, after the plugins'
queuing handlers, to each command they leave, whoever sent it:

- a pausing command met while a print runs pauses it (unless it belongs to a pause or a cancel,
  tagged ``trigger:pause`` / ``trigger:cancel``); the command itself still goes on unless blocked;
- a blocked command is not sent: ``Info: Not sending M0 ...`` in the terminal and a
  ``CommandSuppressed`` event of severity ``warn``; an ignored one the same with ``info``.

Why it matters: a file whose pause was sliced as ``M0`` ("pause at height") would otherwise make
Marlin wait for a button press (or forever, on a board without one) while the host shows a running
print; with these rules the print pauses in the host and resumes from any client. The lookup a job
line pays is one set membership, even with no plugin handler at all (:attr:`watched`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .sendqueue import Command

BLOCKED, IGNORED = "blocked", "ignored"
_SEVERITY = {BLOCKED: "warn", IGNORED: "info"}


class CommandRules:
    """The three lists as one connection runs with them: G-codes as ``Command.gcode`` has them
    (``M0``; ``CommConfig`` upper-cases the settings)."""

    def __init__(self, pausing: Iterable[str] = (), blocked: Iterable[str] = (), ignored: Iterable[str] = ()
                 ) -> None:
        self.pausing = frozenset(pausing)
        self.blocked = frozenset(blocked)
        self.ignored = frozenset(ignored)
        #: every G-code any rule concerns: the one check a command pays before the rules are looked at
        self.watched = self.pausing | self.blocked | self.ignored

    def apply(self, command: Command, printing: bool, pause: Callable[[], Any],
              suppressed: Callable[[Command, str, str], None]) -> bool:
        """Whether ``command`` goes on; ``pause()`` when it pauses the print, ``suppressed(command,
        message, severity)`` when it is not sent."""
        gcode = command.gcode
        if gcode not in self.watched:
            return True
        if printing and gcode in self.pausing and not command.tags & {"trigger:cancel", "trigger:pause"}:
            pause()
        for kind, codes in ((BLOCKED, self.blocked), (IGNORED, self.ignored)):
            if gcode in codes:
                suppressed(command, f"Not sending {gcode} to printer as it's configured as {_article(kind)} {kind} "
                                    "command", _SEVERITY[kind])
                return False
        return True


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"
