"""OctoPrint plugins are found through ``octoprint.plugin`` entry points, with OctoPrint's rules."""

import importlib.metadata
import subprocess
import sys
import types

import pytest

from octohost.plugin import PluginManager
from octohost.settings import Settings

PLUGIN = '''
import octoprint.plugin

class Demo(octoprint.plugin.SettingsPlugin, octoprint.plugin.StartupPlugin):
    def get_settings_defaults(self):
        return {"greeting": "hello", "nested": {"count": 3}}

__plugin_name__ = "Demo"
__plugin_version__ = "1.2"
__plugin_implementation__ = Demo()
'''


def test_octoprint_is_octohosts_shim_and_no_octoprint_distribution_is_installed():
    import octoprint.plugin

    assert "/octohost/compat/octoprint/" in octoprint.plugin.__file__
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("OctoPrint")
    with pytest.raises(ImportError):
        import octohost.compat.octoprint  # noqa: F401  (a second copy of the classes)


def test_identifier_is_the_entry_point_name_and_defaults_reach_the_plugin(fake_dist, tmp_path):
    fake_dist("OctoPrint-Demo", "demo", "octoprint_demo_mod", PLUGIN + "\n__plugin_pythoncompat__ = '>=3.7,<4'\n")
    manager = PluginManager(Settings(str(tmp_path / "base")))
    manager.discover(bundled=False, folder=False)
    info = manager.plugins["demo"]
    assert (info.origin, info.loaded, info.name, info.version) == ("octoprint", True, "Demo", "1.2")
    impl = info.implementation
    assert impl._identifier == "demo"
    assert impl._settings.get(["greeting"]) == "hello"
    assert impl._settings.get_int(["nested", "count"]) == 3
    impl._settings.set(["greeting"], "hi")
    assert manager.settings.get("plugins.demo.greeting") == "hi"
    assert impl._settings.get(["greeting"]) == "hi"
    assert impl._settings.get_all_data() == {"greeting": "hi", "nested": {"count": 3}}
    assert impl._settings.global_get(["serial", "baudrate"]) == manager.settings.get("serial.baudrate")
    assert impl._plugin_manager.get_plugin_info("demo") is info
    assert impl._data_folder.endswith("/demo")


def test_a_plugin_without_pythoncompat_is_refused_as_python_2_only(fake_dist, tmp_path):
    fake_dist("OctoPrint-Old", "old", "octoprint_old_mod", PLUGIN)
    manager = PluginManager(Settings(str(tmp_path / "base")))
    manager.discover(bundled=False, folder=False)
    info = manager.plugins["old"]
    assert not info.loaded
    assert "__plugin_pythoncompat__" in info.error and "'>=2.7,<3'" in info.error


def test_plugins_forced_compatible_load_without_pythoncompat(fake_dist, tmp_path):
    fake_dist("OctoPrint-Old", "old", "octoprint_old_mod", PLUGIN)
    settings = Settings(str(tmp_path / "base"))
    settings.set("plugins._forcedCompatible", ["old"])  # OctoPrint's setting of that name
    manager = PluginManager(settings)
    manager.discover(bundled=False, folder=False)
    assert manager.plugins["old"].loaded, manager.plugins["old"].error
    assert manager.plugins["old"].implementation._settings.get(["greeting"]) == "hello"


def test_a_documented_hook_octohost_never_calls_is_named_in_the_log(fake_dist, tmp_path, caplog):
    fake_dist("OctoPrint-Lapse", "lapse", "octoprint_lapse_mod", PLUGIN + """
__plugin_pythoncompat__ = ">=3,<4"
__plugin_hooks__ = {"octoprint.theming.login": lambda *a, **k: None,
                    "octoprint.timelapse.extensions": lambda *a, **k: ["mkv"]}
""")
    manager = PluginManager(Settings(str(tmp_path / "base")))
    manager.discover(bundled=False, folder=False)
    assert manager.plugins["lapse"].loaded
    assert "plugin lapse: hook octoprint.theming.login is accepted but never called" in caplog.text
    assert "octoprint.timelapse.extensions" not in caplog.text  # called: octohost records timelapses


MIGRATING = '''
import octoprint.plugin

class Migrating(octoprint.plugin.SettingsPlugin):
    def __init__(self):
        self.calls = []

    def initialize(self):
        self.calls.append("initialize")

    def get_settings_defaults(self):
        return {"speed": {"value": 10, "unit": "mm/s"}, "colour": "red"}

    def get_settings_version(self):
        return 2

    def on_settings_migrate(self, target, current):
        self.calls.append(["migrate", target, current])
        if current is not None and current < 2:  # version 1 stored the speed as a bare number
            self._settings.set(["speed"], {"value": self._settings.get(["speed"]), "unit": "mm/s"})

    def on_settings_cleanup(self):
        self.calls.append("cleanup")

    def on_settings_initialized(self):
        self.calls.append("initialized")

__plugin_pythoncompat__ = ">=3,<4"
__plugin_implementation__ = Migrating()
__plugin_settings_overlay__ = {"plugins": {"migrating": {"colour": "blue"}, "demo": {"greeting": "moin"}},
                               "serial": {"baudrate": 9600}}
'''


def test_settings_versions_migrate_once_and_overlays_set_plugin_defaults(fake_dist, tmp_path, caplog):
    fake_dist("OctoPrint-Migrating", "migrating", "octoprint_migrating_mod", MIGRATING)
    fake_dist("OctoPrint-Demo", "demo", "octoprint_demo_mod", PLUGIN + "\n__plugin_pythoncompat__ = '>=3.7,<4'\n")
    settings = Settings(str(tmp_path / "base"))
    settings.set("plugins.migrating", {"speed": 25, "_config_version": 1})
    manager = PluginManager(settings)
    manager.discover(bundled=False, folder=False)
    manager.inject_components()
    impl = manager.plugins["migrating"].implementation
    assert impl.calls == ["initialize", ["migrate", 2, 1], "cleanup", "initialized"]
    assert impl._settings.get(["speed"]) == {"value": 25, "unit": "mm/s"}
    assert settings.get("plugins.migrating._config_version") == 2
    # its overlay: its own default and another plugin's (loaded whenever) changed; core settings not
    assert impl._settings.get(["colour"]) == "blue"
    assert manager.plugins["demo"].implementation._settings.get(["greeting"]) == "moin"
    assert settings.get("serial.baudrate") != 9600 and "settings overlay for 'serial' is not supported" in caplog.text
    # the next start (a fresh import) finds the stored version current: no migration
    sys.modules.pop("octoprint_migrating_mod")
    again = PluginManager(Settings(str(tmp_path / "base")))
    again.discover(bundled=False, folder=False)
    again.inject_components()
    assert again.plugins["migrating"].implementation.calls == ["initialize", "cleanup", "initialized"]


def test_plugins_list_shows_octoprint_plugins(fake_dist, tmp_path):
    fake_dist("OctoPrint-Demo", "demo", "octoprint_demo_mod", PLUGIN + "\n__plugin_pythoncompat__ = '>=3.7,<4'\n")
    env_path = ":".join([str(tmp_path)] + sys.path)
    command = [sys.executable, "-m", "octohost", "--basedir", str(tmp_path / "base"), "plugins", "list"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "demo" in line)
    assert "octoprint" in line


def test_printer_factory_gets_octoprints_components(tmp_path):
    from octohost.server.components import build_context

    seen = {}
    module = types.ModuleType("factory_plugin")
    module.__plugin_hooks__ = {"octoprint.printer.factory": lambda components, *a, **k: seen.update(components)}
    manager = PluginManager(Settings(str(tmp_path / "base")))
    manager.register_module("factory", module)
    context = build_context(manager.settings, plugin_manager=manager)
    try:
        for key in ("plugin_manager", "printer_profile_manager", "event_bus", "analysis_queue", "slicing_manager",
                    "file_manager", "plugin_lifecycle_manager", "connectivity_checker"):
            assert key in seen, key
        assert seen["analysis_queue"] is context.file_manager.analysis
        assert seen["connectivity_checker"].online is True and seen["connectivity_checker"].enabled is False
    finally:
        context.printer.close()
