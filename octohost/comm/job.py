"""Print jobs: a local file streamed lazily line by line, or a file on the printer's SD card."""

from __future__ import annotations

import os
import time
from typing import BinaryIO

from .protocol import strip_comment


class LocalFileJob:
    """Reads a G-code file one line at a time, never the whole file, tracking byte positions.

    :meth:`next_line` skips blank and comment-only lines and returns
    ``(command, start, end)``: the command without its comment, and the byte offsets of the line
    in the file (``end`` is where a print resumes once this line is done).
    """

    sd = False

    def __init__(self, path: str, start_pos: int | None = None) -> None:
        self.path = path
        self.size: int | None = os.path.getsize(path)
        self._file: BinaryIO | None = None
        self.pos = 0
        self.start_pos = start_pos or 0
        self.started_at: float | None = None
        self.finished = False

    def open(self) -> None:
        self._file = open(self.path, "rb")
        if self.start_pos:
            self._file.seek(self.start_pos)
            self.pos = self.start_pos
        self.started_at = time.monotonic()
        self.finished = False

    def next_line(self) -> tuple[str, int, int] | None:
        """The next command with its byte span, or None at the end of the file."""
        readline = self._file.readline  # type: ignore[union-attr]  # open() first; no check per line
        while True:
            raw = readline()
            if not raw:
                self.finished = True
                return None
            start = self.pos
            self.pos = start + len(raw)
            cmd = strip_comment(raw.decode("utf-8", "replace"))
            if cmd:
                return cmd, start, self.pos

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def print_time(self) -> float | None:
        return time.monotonic() - self.started_at if self.started_at is not None else None


class SdJob:
    """A file printed by the firmware from its SD card; progress comes from M27 or auto-reports."""

    sd = True

    def __init__(self, name: str, size: int | None = None) -> None:
        self.path = name
        self.size = size
        self.pos = 0
        self.started_at: float | None = None
        self.finished = False

    def open(self) -> None:
        self.started_at = time.monotonic()

    def close(self) -> None:
        pass

    @property
    def print_time(self) -> float | None:
        return time.monotonic() - self.started_at if self.started_at is not None else None
