"""Connection drivers: what opens the byte pipe to a printer, described so a UI can configure it.

A driver has a slug, a name, a description and typed settings (default, required). The built-in
ones open what :func:`octohost.comm.transport.open_transport` opens: a serial device, a network
serial bridge (``socket://``, ``rfc2217://``) or the virtual printer. Plugins add drivers (see
:mod:`.registry`); every plugin that implements OctoPrint's ``serial.factory`` hook appears as a
driver of its own, so those plugins keep working unchanged.

A driver's ``open(request)`` returns a pyserial-like transport, or None when the port is not its
own (only factory-hook drivers do that); it raises :class:`~octohost.comm.transport.TransportError`
with a message a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from octohost.comm.ports import VIRTUAL_PORT
from octohost.comm.transport import FACTORY_HOOK, TransportError, open_transport

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                        "boolean": (bool,)}


class MissingSetting(TransportError):
    """A driver lacks a required setting (or one has the wrong type); the message names it."""


@dataclass(frozen=True)
class DriverSetting:
    """One typed setting of a driver. ``type`` is ``string``, ``integer``, ``number`` or ``boolean``."""

    key: str
    type: str = "string"
    default: Any = None
    required: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"setting {self.key!r}: type must be one of {', '.join(_TYPES)}, not {self.type!r}")

    def check(self, value: Any) -> str | None:
        """None if ``value`` fits, else what is wrong."""
        types = _TYPES[self.type]
        if value is None or isinstance(value, bool) and bool not in types or not isinstance(value, types):
            return f"must be of type {self.type}, got {value!r}"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "default": self.default, "required": self.required,
                "description": self.description}


@dataclass
class OpenRequest:
    """What a driver gets to open a connection: the port and baud rate asked for, the driver's
    setting values (defaults filled in), the read timeout the comm loops want, the comm instance
    (for ``serial.factory`` handlers) and the settings."""

    port: str | None
    baudrate: int | None
    values: dict[str, Any]
    read_timeout: float = 0.25
    comm: Any = None
    settings: Any = None


class Driver:
    """Base class of connection drivers; subclass it, or build one with :func:`driver_from_dict`."""

    slug: str = ""
    name: str = ""
    description: str = ""
    settings: tuple[DriverSetting, ...] = ()
    #: set by the registry: "builtin", "plugin:<id>" or "entrypoint:<name>"
    origin: str = "builtin"

    def handles(self, port: str | None) -> bool:
        """Whether this driver is the natural one for ``port`` when no driver is configured."""
        return False

    def open(self, request: OpenRequest) -> Any:
        raise NotImplementedError

    def restart(self, values: dict[str, Any]) -> None:
        """Called by ``restart`` before the connection is opened again (a driver could power-cycle)."""

    def values(self, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` with defaults filled in; raises :class:`MissingSetting` naming the first bad one."""
        values = dict(given)
        for setting in self.settings:
            value = values.get(setting.key)
            if value is None or value == "":
                if setting.required and setting.default in (None, ""):
                    raise MissingSetting(f"the driver {self.slug!r} lacks the required setting {setting.key!r} "
                                         f"(serial.driverSettings.{self.slug}.{setting.key})")
                values[setting.key] = setting.default
                continue
            problem = setting.check(value)
            if problem is not None:
                raise MissingSetting(f"the driver {self.slug!r} setting {setting.key!r} {problem}")
        return values

    def describe(self) -> dict[str, Any]:
        return {"slug": self.slug, "name": self.name, "description": self.description,
                "settings": [setting.as_dict() for setting in self.settings], "origin": self.origin}


class SerialDriver(Driver):
    slug = "serial"
    name = "Serial port"
    description = "A USB or UART serial device (/dev/ttyACM0, /dev/ttyUSB0, a /dev/serial/by-id link)."
    settings = (DriverSetting("port", "string", None, True, "Device path, or AUTO to detect"),
                DriverSetting("baudrate", "integer", 115200, False, "Baud rate; 0 detects it"))

    def handles(self, port: str | None) -> bool:
        return bool(port) and port != VIRTUAL_PORT and "://" not in str(port)

    def open(self, request: OpenRequest) -> Any:
        return open_transport(request.values["port"], request.values["baudrate"], request.read_timeout)


class NetworkSerialDriver(Driver):
    slug = "network"
    name = "Network serial"
    description = "A serial port shared over the network: socket://HOST:PORT (ser2net raw) or rfc2217://HOST:PORT."
    settings = (DriverSetting("port", "string", None, True, "socket://HOST:PORT or rfc2217://HOST:PORT"),
                DriverSetting("baudrate", "integer", 115200, False, "Baud rate (rfc2217 sets it remotely)"))

    def handles(self, port: str | None) -> bool:
        return bool(port) and "://" in str(port)

    def open(self, request: OpenRequest) -> Any:
        return open_transport(request.values["port"], request.values["baudrate"], request.read_timeout)


class VirtualDriver(Driver):
    slug = "virtual"
    name = "Virtual printer"
    description = "The built-in simulated Marlin printer (port VIRTUAL; its faults in serial.virtual)."

    def handles(self, port: str | None) -> bool:
        return port == VIRTUAL_PORT

    def open(self, request: OpenRequest) -> Any:
        return open_transport(VIRTUAL_PORT, request.baudrate, request.read_timeout,
                              virtual_options=getattr(request.comm, "virtual_options", None), settings=request.settings)


class FactoryHookDriver(Driver):
    """One plugin's OctoPrint ``serial.factory`` handler as a driver: it opens the ports it claims."""

    def __init__(self, plugin_id: str, handler: Callable[..., Any]) -> None:
        self.slug = f"serial-factory-{plugin_id}"
        self.name = f"{plugin_id} (serial.factory hook)"
        self.description = f"Ports opened by the plugin {plugin_id} through OctoPrint's serial.factory hook."
        self.origin = f"plugin:{plugin_id}"
        self._handler = handler

    def open(self, request: OpenRequest) -> Any:
        return self._handler(request.comm, request.port, request.baudrate, request.read_timeout)


@dataclass
class _DictDriver(Driver):
    slug: str = ""
    name: str = ""
    description: str = ""
    settings: tuple[DriverSetting, ...] = ()
    opener: Callable[[OpenRequest], Any] | None = None
    schemes: tuple[str, ...] = field(default_factory=tuple)

    def handles(self, port: str | None) -> bool:
        return bool(port) and any(str(port).startswith(scheme) for scheme in self.schemes)

    def open(self, request: OpenRequest) -> Any:
        assert self.opener is not None
        return self.opener(request)


def driver_from_dict(spec: dict[str, Any]) -> Driver:
    """A driver from a plain description: ``{"slug", "name", "description", "settings": [{"key",
    "type", "default", "required", "description"}], "open": callable(request), "schemes": ["x://"]}``."""
    if not isinstance(spec, dict):
        raise TypeError(f"a driver description must be a mapping, got {type(spec).__name__}")
    opener = spec.get("open")
    if not callable(opener):
        raise TypeError("a driver description needs a callable 'open'")
    settings = tuple(DriverSetting(**setting) for setting in spec.get("settings") or ())
    return _DictDriver(slug=str(spec.get("slug") or ""), name=str(spec.get("name") or spec.get("slug") or ""),
                       description=str(spec.get("description") or ""), settings=settings, opener=opener,
                       schemes=tuple(spec.get("schemes") or ()))


BUILTIN: tuple[type[Driver], ...] = (SerialDriver, NetworkSerialDriver, VirtualDriver)

__all__ = ["BUILTIN", "FACTORY_HOOK", "Driver", "DriverSetting", "FactoryHookDriver", "MissingSetting",
           "OpenRequest", "driver_from_dict"]
