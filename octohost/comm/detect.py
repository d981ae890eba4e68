"""Auto-detection of port and baud rate: try each candidate with the hello command."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .protocol import frame

log = logging.getLogger(__name__)

BAUDRATES = (115200, 250000, 230400, 57600, 38400, 19200, 9600)


def candidate_baudrates(additional: Iterable[int] = ()) -> list[int]:
    """Common rates first, then the user's extra ones, without duplicates."""
    seen: list[int] = []
    for rate in tuple(BAUDRATES) + tuple(additional):
        if rate not in seen:
            seen.append(rate)
    return seen


def answers(transport: Any, hello: str, timeout: float, clock: Callable[[], float] = time.monotonic) -> bool:
    """Whether something on ``transport`` answers ``hello`` with an ``ok`` within ``timeout`` s."""
    transport.write(frame(0, hello) if hello.upper().startswith("M110") else (hello + "\n").encode())
    deadline = clock() + timeout
    pending = b""
    while clock() < deadline:
        data = transport.read(transport.in_waiting or 1)
        if not data:
            continue
        pending += data
        *lines, pending = pending.split(b"\n")
        if any(line.strip().startswith(b"ok") for line in lines):
            return True
    return False


def detect(ports: Iterable[str], baudrates: Iterable[int], open_port: Callable[[str, int], Any], hello: str,
           timeout: float, on_attempt: Callable[[str, int], object] | None = None) -> tuple[Any, str, int] | None:
    """The first ``(transport, port, baudrate)`` that answers, or None.

    ``open_port(port, baudrate)`` opens a transport (raising on failure); a transport that does
    not answer is closed again. ``on_attempt(port, baudrate)`` is told about every try.
    """
    for port in ports:
        for baudrate in baudrates:
            if on_attempt is not None:
                on_attempt(port, baudrate)
            try:
                transport = open_port(port, baudrate)
            except Exception as exc:
                log.info("auto-detect: cannot open %s: %s", port, exc)
                break
            try:
                if answers(transport, hello, timeout):
                    log.info("auto-detect: printer found on %s at %d baud", port, baudrate)
                    return transport, port, baudrate
            except Exception as exc:
                log.info("auto-detect: %s at %d baud failed: %s", port, baudrate, exc)
            try:
                transport.close()
            except Exception:
                pass
    return None
