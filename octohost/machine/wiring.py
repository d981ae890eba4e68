"""The one place the machine layer is wired into the running system.

``attach(components)`` builds the driver registry and the :class:`~.monitor.Machine` for the
printer in ``components``, lets the printer open its port through the registry and report
firmware messages (when it offers ``attach_machine``: a plugin's printer may not), and starts it.
The server keeps the result as ``context.machine`` and closes it before the printer.
"""

from __future__ import annotations

from typing import Any

from .monitor import Machine
from .registry import DriverRegistry


def attach(components: dict[str, Any]) -> Machine:
    settings = components["settings"]
    printer = components["printer"]
    registry = DriverRegistry(settings, components.get("plugin_manager"))
    machine = Machine(settings, printer, components.get("event_bus"), registry)
    attach_machine = getattr(printer, "attach_machine", None)
    if callable(attach_machine):
        attach_machine(machine)
    return machine.start()
