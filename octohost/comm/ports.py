"""Which ports and baud rates to offer, and in which order auto-detection should try them."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable
from typing import Any

import serial.tools.list_ports

from octohost.plugin.handlers import HandlerSource, run_handlers

log = logging.getLogger(__name__)

#: the built-in virtual printer's port name (:mod:`octohost.comm.virtual`, imported only when used)
VIRTUAL_PORT = "VIRTUAL"

ADDITIONAL_NAMES_HOOK = "comm.transport.serial.additional_port_names"
STANDARD_BAUDRATES = (250000, 230400, 115200, 57600, 38400, 19200, 9600)

#: device name prefixes of USB serial adapters and boards, most likely printers first
_LIKELY_PRINTERS = ("/dev/ttyACM", "/dev/ttyUSB", "/dev/serial/by-id/", "/dev/tty.usb", "/dev/cu.usb", "/dev/ttyAMA")


def system_ports() -> list[str]:
    """Serial devices the kernel reports, without the placeholders it lists for absent UARTs."""
    return sorted(info.device for info in serial.tools.list_ports.comports() if info.hwid != "n/a")


def additional_ports(patterns: Iterable[str] | None) -> list[str]:
    """Glob matches of ``serial.additionalPorts``, reported under the matched path, not resolved."""
    found: list[str] = []
    for pattern in patterns or ():
        matches = sorted(glob.glob(os.path.expanduser(pattern)))
        if not matches:
            log.debug("additional port pattern %s matches nothing", pattern)
        found.extend(matches)
    return found


def list_ports(settings: Any, plugin_manager: HandlerSource | None = None) -> list[str]:
    """Port names to offer: system ports, ``serial.additionalPorts`` globs, plugin names, VIRTUAL."""
    candidates = _unique(system_ports() + additional_ports(settings.get("serial.additionalPorts")))
    if plugin_manager is not None:
        offered = [candidates]  # each handler sees what the ones before it added
        for plugin_id, names in run_handlers(ADDITIONAL_NAMES_HOOK, plugin_manager.handlers(ADDITIONAL_NAMES_HOOK),
                                             lambda handler: handler(list(offered[0]))):
            if names is None:
                continue
            if isinstance(names, str) or not all(isinstance(name, str) for name in names):
                log.warning("plugin %s returned %r from hook %s, not a list of port names; ignored",
                            plugin_id, names, ADDITIONAL_NAMES_HOOK)
                continue
            candidates = offered[0] = _unique(candidates + list(names))
    return _unique(candidates + [VIRTUAL_PORT])


def baudrates(settings: Any) -> list[int]:
    """Standard baud rates plus ``serial.additionalBaudrates``, fastest first."""
    extra = [int(rate) for rate in settings.get("serial.additionalBaudrates") or () if int(rate) > 0]
    return sorted(set(STANDARD_BAUDRATES) | set(extra), reverse=True)


def detection_ports(settings: Any, plugin_manager: HandlerSource | None = None,
                    preferred: str | None = None) -> list[str]:
    """Ports auto-detection (port AUTO) should try, in order.

    ``preferred`` (the last port that worked) first, then ports that look like printer boards,
    then the rest. VIRTUAL only when no other port exists, as OctoPrint's autodetection finds its
    virtual printer there; with any real port present AUTO never falls back to a simulation.
    """
    ports = [port for port in list_ports(settings, plugin_manager) if port != VIRTUAL_PORT]
    if not ports:
        return [VIRTUAL_PORT]

    def rank(port: str) -> tuple[int, int]:
        if port == preferred:
            return (0, 0)
        for index, prefix in enumerate(_LIKELY_PRINTERS):
            if port.startswith(prefix):
                return (1, index)
        return (2, 0)

    return sorted(ports, key=rank)


def detection_baudrates(settings: Any, preferred: int | None = None) -> list[int]:
    """Baud rates auto-detection (baud rate 0) should try: ``preferred`` first, then fastest first."""
    rates = baudrates(settings)
    if preferred and preferred > 0:
        rates = [preferred] + [rate for rate in rates if rate != preferred]
    return rates


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        if name not in seen:
            seen.add(name)
            unique.append(name)
    return unique
