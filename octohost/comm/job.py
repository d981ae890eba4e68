"""Print jobs: a local file streamed lazily line by line, or a file on the printer's SD card."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import BinaryIO

from .protocol import strip_comment


def _not_open() -> bytes:
    raise RuntimeError("open() the job before reading it")


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
        self._readline: Callable[[], bytes] = _not_open
        self.pos = 0
        self.start_pos = start_pos or 0
        self.started_at: float | None = None
        self.finished = False

    def open(self) -> None:
        self._file = open(self.path, "rb")
        self._readline = self._file.readline
        if _cr_only(self._file):
            self._readline = _CrLines(self._file).readline
        if self.start_pos:
            self._file.seek(self.start_pos)
            self.pos = self.start_pos
        self.started_at = time.monotonic()
        self.finished = False

    def next_line(self) -> tuple[str, int, int] | None:
        """The next command with its byte span, or None at the end of the file."""
        readline = self._readline  # open() first; no check per line
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


#: how much of a file's start decides whether its lines end in a bare CR
SNIFF_BYTES = 64 * 1024


def _cr_only(f: BinaryIO) -> bool:
    """Whether the file's lines end in a bare CR (classic Mac style; some tools still write it):
    read by ``readline`` it would be one endless line, refused as longer than the printer takes."""
    head = f.read(SNIFF_BYTES)
    f.seek(0)
    return b"\r" in head and b"\n" not in head


class _CrLines:
    """``readline`` for CR-only files: lines end at each CR (kept, so byte positions stay exact)."""

    def __init__(self, f: BinaryIO) -> None:
        self._file = f
        self._buffer = b""

    def readline(self) -> bytes:
        while True:
            cut = self._buffer.find(b"\r")
            if cut >= 0:
                line, self._buffer = self._buffer[:cut + 1], self._buffer[cut + 1:]
                return line
            chunk = self._file.read(SNIFF_BYTES)
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += chunk


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
