"""The firmware's M115 report: name, key/value data and ``Cap:`` capabilities, with their hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from .callback import CommCallback
from .config import CommConfig


class FirmwareHost(Protocol):
    """What :class:`FirmwareReport` needs of the connection (``MachineCom``)."""

    callback: CommCallback
    config: CommConfig

    def call_hook(self, hook: str, /, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]: ...
    def send_command(self, cmd: str, cmd_type: str | None = None, tags: Any = None, force: bool = False) -> bool: ...


class FirmwareReport:
    """Collects the report; the ``ok`` after it (``pending``) completes the capability list."""

    def __init__(self, comm: FirmwareHost) -> None:
        self.comm = comm
        self.name: str | None = None
        self.data: dict[str, str] = {}
        self.capabilities: dict[str, bool] = {}
        self.pending = False
        self.autoreport_temperatures = False

    def _call(self, hook: str, *args: Any) -> None:
        for _ in self.comm.call_hook(hook, *args):
            pass

    def info(self, name: str, data: dict[str, str]) -> None:
        self.name = name
        self.data = data
        self.pending = True
        self._call("comm.protocol.firmware.info", name, dict(data))
        self.comm.callback.on_comm_firmware_info(name, dict(data))

    def capability(self, name: str, enabled: bool) -> None:
        self._call("comm.protocol.firmware.capabilities", name, enabled, dict(self.capabilities))
        self.capabilities[name] = enabled
        self.pending = True

    def has(self, name: str) -> bool:
        return self.capabilities.get(name, False)

    def report_complete(self) -> None:
        """The report is over: tell hooks and printer, switch on auto-reports the firmware offers."""
        self.pending = False
        capabilities = dict(self.capabilities)
        self._call("comm.protocol.firmware.capability_report", capabilities)
        self.comm.callback.on_comm_capabilities(capabilities)
        config = self.comm.config
        if config.autoreport and self.has("AUTOREPORT_TEMP") and not self.autoreport_temperatures:
            self.autoreport_temperatures = self.comm.send_command(
                f"M155 S{config.temperature_autoreport_interval}", tags={"source:connect"})
