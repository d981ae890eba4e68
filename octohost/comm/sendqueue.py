"""Commands waiting to be sent, and the one-command-per-``cmd_type`` rule of the hook contract."""

from __future__ import annotations

import collections
import threading

from .protocol import gcode_and_subcode


class Command:
    """One command on its way to the printer, with what the phase hooks need to see.

    ``filepos``/``fileend`` are set for lines of a printed file (byte span); their tags (``source:file``,
    ``filepos:<n>``) are only built when something asks for them, since most lines never need them.
    """

    __slots__ = ("cmd", "cmd_type", "gcode", "subcode", "_tags", "filepos", "fileend")

    def __init__(self, cmd, cmd_type=None, tags=None, gcode=None, subcode=None, filepos=None, fileend=None,
                 parsed=False):
        self.cmd = cmd
        self.cmd_type = cmd_type
        if not parsed:
            gcode, subcode = gcode_and_subcode(cmd)
        self.gcode = gcode
        self.subcode = subcode
        self._tags = tags
        self.filepos = filepos
        self.fileend = fileend

    @property
    def tags(self) -> set[str]:
        if self._tags is None:
            self._tags = {"source:file", f"filepos:{self.filepos}"} if self.filepos is not None else set()
        return self._tags

    @tags.setter
    def tags(self, value: set[str]) -> None:
        self._tags = value

    def replaced(self, cmd: str, cmd_type: str | None, tags: set[str]) -> Command:
        return Command(cmd, cmd_type, tags, filepos=self.filepos, fileend=self.fileend)

    def __repr__(self):
        return f"Command({self.cmd!r}, cmd_type={self.cmd_type!r})"


class SendQueue:
    """FIFO of commands (from the API, scripts and plugins; job lines are pulled separately).

    A command with a ``cmd_type`` is refused while another of the same type waits, so a slow
    printer never collects a pile of temperature polls.
    """

    def __init__(self) -> None:
        self._items: collections.deque[Command] = collections.deque()
        self._types: set[str] = set()
        self._lock = threading.Lock()

    def put(self, command: Command) -> bool:
        """Append ``command``; False if one of its ``cmd_type`` is already waiting."""
        with self._lock:
            if command.cmd_type is not None:
                if command.cmd_type in self._types:
                    return False
                self._types.add(command.cmd_type)
            self._items.append(command)
            return True

    def has_type(self, cmd_type: str) -> bool:
        return cmd_type in self._types

    def get(self) -> Command | None:
        """The oldest command, or None when empty."""
        if not self._items:
            return None
        with self._lock:
            if not self._items:
                return None
            command = self._items.popleft()
            if command.cmd_type is not None:
                self._types.discard(command.cmd_type)
            return command

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._types.clear()

    def __len__(self):
        return len(self._items)

    def __bool__(self):
        return bool(self._items)
