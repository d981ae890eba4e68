"""The driver registry: every connection driver octohost knows, and the one that opens the port.

Drivers come from, in this order (the first with a slug wins):

1. the built-in ones (:mod:`.drivers`: ``serial``, ``network``, ``virtual``);
2. plugins' ``machine.drivers`` hook handlers, which return a list of :class:`~.drivers.Driver`
   objects or plain descriptions (:func:`~.drivers.driver_from_dict`);
3. installed distributions' ``octohost.machine_drivers`` entry points (a Driver subclass, instance,
   or description);
4. every plugin implementing OctoPrint's ``serial.factory`` hook, as ``serial-factory-<plugin>``.

``serial.driver`` picks one by slug; ``auto`` (the default) asks the ``serial.factory`` handlers
first, as OctoPrint does, then a plugin driver whose URL scheme the port has, then the built-in
driver for the port (``VIRTUAL``, a URL, a device path). Setting values come from the connection
(port, baud rate) and ``serial.driverSettings.<slug>``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from typing import Any

from octohost.comm.transport import FACTORY_HOOK, TransportError
from octohost.plugin.handlers import run_handlers

from .drivers import BUILTIN, Driver, FactoryHookDriver, OpenRequest, driver_from_dict

log = logging.getLogger(__name__)

DRIVERS_HOOK = "machine.drivers"
ENTRY_POINT_GROUP = "octohost.machine_drivers"
AUTO = "auto"


def _as_driver(obj: Any) -> Driver:
    if isinstance(obj, type) and issubclass(obj, Driver):
        obj = obj()
    if isinstance(obj, dict):
        obj = driver_from_dict(obj)
    if not isinstance(obj, Driver):
        raise TypeError(f"not a driver: {obj!r}")
    if not obj.slug or not isinstance(obj.slug, str):
        raise TypeError(f"driver {obj!r} has no slug")
    return obj


class DriverRegistry:
    def __init__(self, settings: Any, plugin_manager: Any = None, entry_points: bool = True) -> None:
        self._settings = settings
        self._plugin_manager = plugin_manager
        self._lock = threading.Lock()
        self._drivers: dict[str, Driver] = {}
        self._factory_slugs: list[str] = []
        self.active: Driver | None = None
        self.active_values: dict[str, Any] = {}
        self.discover(entry_points)

    # -- discovery -------------------------------------------------------------------------------

    def discover(self, entry_points: bool = True) -> None:
        drivers: dict[str, Driver] = {}

        def add(obj: Any, origin: str) -> None:
            try:
                driver = _as_driver(obj)
            except (TypeError, ValueError) as exc:
                log.warning("driver from %s skipped: %s", origin, exc)
                return
            if driver.slug in drivers:
                log.warning("driver %s from %s skipped: the slug is taken by %s", driver.slug, origin,
                            drivers[driver.slug].origin)
                return
            if driver.origin == "builtin" and origin != "builtin":
                driver.origin = origin
            drivers[driver.slug] = driver

        for cls in BUILTIN:
            add(cls, "builtin")
        manager = self._plugin_manager
        if manager is not None:
            for plugin_id, result in run_handlers(DRIVERS_HOOK, manager.handlers(DRIVERS_HOOK),
                                                  lambda handler: handler()):
                for obj in result or ():
                    add(obj, f"plugin:{plugin_id}")
        if entry_points:
            for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                try:
                    add(entry.load(), f"entrypoint:{entry.name}")
                except Exception:
                    log.exception("driver entry point %s failed to load; skipped", entry.name)
        factory_slugs = []
        if manager is not None:
            for plugin_id, handler in manager.handlers(FACTORY_HOOK):
                driver = FactoryHookDriver(plugin_id, handler)
                add(driver, driver.origin)
                factory_slugs.append(driver.slug)
        with self._lock:
            self._drivers = drivers
            self._factory_slugs = factory_slugs

    def all(self) -> list[Driver]:
        with self._lock:
            return list(self._drivers.values())

    def get(self, slug: str) -> Driver | None:
        with self._lock:
            return self._drivers.get(slug)

    # -- choosing and opening --------------------------------------------------------------------

    def configured(self) -> str:
        return self._settings.get("serial.driver") or AUTO

    def candidates(self, port: str | None) -> list[Driver]:
        """The drivers to try for ``port``, in order; raises TransportError for an unknown configured slug."""
        slug = self.configured()
        if slug != AUTO:
            driver = self.get(slug)
            if driver is None:
                raise TransportError(f"unknown driver {slug!r} in serial.driver (known: "
                                     f"{', '.join(d.slug for d in self.all())})")
            return [driver]
        with self._lock:
            drivers = list(self._drivers.values())
            factories = [self._drivers[slug] for slug in self._factory_slugs]
        plugin = [d for d in drivers if d.origin != "builtin" and d not in factories and d.handles(port)]
        builtin = [d for d in drivers if d.origin == "builtin" and d.handles(port)]
        return factories + plugin + builtin[:1]

    def expected(self, port: str | None) -> Driver | None:
        """The driver that would open ``port`` (the active one once open); for display."""
        if self.active is not None:
            return self.active
        try:
            found = self.candidates(port)
        except TransportError:
            return None
        named = [d for d in found if not isinstance(d, FactoryHookDriver)]
        chosen = named or found
        return chosen[0] if chosen else None

    def values_for(self, driver: Driver, port: str | None, baudrate: int | None) -> dict[str, Any]:
        given = dict((self._settings.get("serial.driverSettings") or {}).get(driver.slug) or {})
        if port is not None:
            given.setdefault("port", port)
        if baudrate is not None:
            given.setdefault("baudrate", baudrate)
        return driver.values(given)

    def check(self, port: str | None = None) -> str | None:
        """What keeps the configured driver from starting (a missing required setting), or None."""
        slug = self.configured()
        if slug == AUTO:
            return None
        try:
            driver = self.candidates(port)[0]
            self.values_for(driver, port if port is not None else self._settings.get("serial.port"),
                            self._settings.get("serial.baudrate"))
        except TransportError as exc:
            return str(exc)
        return None

    def open(self, comm: Any, port: str | None, baudrate: int | None) -> Any:
        """Open ``port`` with the configured driver (or the first that takes it); a transport, or raise."""
        read_timeout = getattr(getattr(comm, "config", None), "receive_poll", 0.25)
        for driver in self.candidates(port):
            values = self.values_for(driver, port, baudrate)
            request = OpenRequest(port, baudrate, values, read_timeout, comm, self._settings)
            try:
                transport = driver.open(request)
            except TransportError:  # MissingSetting included: its words go to the user as they are
                raise
            except Exception as exc:
                if isinstance(driver, FactoryHookDriver):
                    log.exception("serial.factory handler of %s raised; skipped", driver.origin)
                    continue
                raise TransportError(f"could not open {port} with the driver {driver.slug!r}: {exc}") from exc
            if transport is not None:
                self.active, self.active_values = driver, values
                log.info("port %s opened by driver %s", port, driver.slug)
                return transport
        raise TransportError(f"no driver opened {port}")
