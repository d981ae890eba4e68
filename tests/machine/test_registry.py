"""The driver registry: built-ins, plugin drivers (hook and entry point), serial.factory plugins,
the configured driver, required and typed settings."""

import importlib.metadata

import pytest

from octohost.comm.transport import TransportError
from octohost.machine import registry as registry_module
from octohost.machine.drivers import Driver, DriverSetting, MissingSetting
from octohost.machine.registry import DriverRegistry


class FakePlugins:
    def __init__(self, hooks):
        self.hooks = hooks

    def handlers(self, name):
        return tuple(self.hooks.get(name, ()))


class Bus(Driver):
    slug = "bus"
    name = "Bus"
    settings = (DriverSetting("host", "string", required=True), DriverSetting("slot", "integer", 2))

    def open(self, request):
        return ("bus", request.values)


def test_builtin_drivers_follow_the_port(settings):
    registry = DriverRegistry(settings, entry_points=False)
    assert [d.slug for d in registry.all()] == ["serial", "network", "virtual"]
    assert registry.expected("/dev/ttyACM0").slug == "serial"
    assert registry.expected("socket://printer:23").slug == "network"
    assert registry.expected("VIRTUAL").slug == "virtual"
    serial_driver = registry.get("serial").describe()
    assert serial_driver["settings"][0] == {"key": "port", "type": "string", "default": None, "required": True,
                                            "description": "Device path, or AUTO to detect"}


def test_a_configured_driver_needs_its_required_settings(settings):
    plugins = FakePlugins({"machine.drivers": [("busplugin", lambda: [Bus])]})
    settings.set("serial.driver", "bus")
    registry = DriverRegistry(settings, plugins, entry_points=False)
    assert registry.get("bus").origin == "plugin:busplugin"
    assert "lacks the required setting 'host'" in registry.check()
    with pytest.raises(MissingSetting, match="'host'"):
        registry.open(None, "VIRTUAL", 115200)
    settings.set("serial.driverSettings", {"bus": {"host": "h", "slot": "two"}})
    with pytest.raises(MissingSetting, match="'slot' must be of type integer"):
        registry.open(None, "VIRTUAL", 115200)
    settings.set("serial.driverSettings", {"bus": {"host": "h"}})
    assert registry.check() is None
    assert registry.open(None, "VIRTUAL", 115200) == ("bus", {"host": "h", "slot": 2, "port": "VIRTUAL",
                                                              "baudrate": 115200})
    assert registry.active.slug == "bus"


def test_an_unknown_configured_driver_is_refused_by_name(settings):
    settings.set("serial.driver", "nope")
    registry = DriverRegistry(settings, entry_points=False)
    with pytest.raises(TransportError, match="unknown driver 'nope'"):
        registry.open(None, "/dev/x", 115200)


def test_serial_factory_plugins_come_first_in_auto_and_none_means_not_mine(settings):
    calls = []

    def declines(comm, port, baudrate, read_timeout):
        calls.append(("declines", port))
        return None

    def takes(comm, port, baudrate, read_timeout):
        calls.append(("takes", port))
        return "transport"

    plugins = FakePlugins({"comm.transport.serial.factory": [("a", declines), ("b", takes)]})
    registry = DriverRegistry(settings, plugins, entry_points=False)
    assert registry.open(None, "/dev/ttyUSB0", 115200) == "transport"
    assert calls == [("declines", "/dev/ttyUSB0"), ("takes", "/dev/ttyUSB0")]
    assert registry.active.slug == "serial-factory-b"


def test_bad_plugin_drivers_and_taken_slugs_are_skipped(settings, caplog):
    plugins = FakePlugins({"machine.drivers": [("p", lambda: [{"slug": "serial", "open": lambda r: None},
                                                              {"slug": "x"}, object()])]})
    registry = DriverRegistry(settings, plugins, entry_points=False)
    assert registry.get("serial").origin == "builtin"
    assert "x" not in {d.slug for d in registry.all()}
    assert "slug is taken" in caplog.text


def test_entry_point_drivers(settings, monkeypatch):
    class Entry:
        name = "busdist"

        def load(self):
            return Bus

    real = importlib.metadata.entry_points

    def entry_points(group=None, **kwargs):
        return [Entry()] if group == "octohost.machine_drivers" else real(group=group)

    monkeypatch.setattr(registry_module.importlib.metadata, "entry_points", entry_points)
    registry = DriverRegistry(settings)
    assert registry.get("bus").origin == "entrypoint:busdist"
