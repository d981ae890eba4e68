"""Plugins installed as distributions with an ``octohost.plugin`` entry point."""

import importlib
import sys
import textwrap

import pytest

from octohost.plugin import ENTRY_POINT_GROUP, PluginManager


@pytest.fixture
def installed_distribution(tmp_path, monkeypatch):
    """Install a tiny distribution into a fresh site folder: package + dist-info with entry points."""
    site = tmp_path / "site"
    package = site / "epdemo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent('''
        from octohost.plugin import hookimpl

        __plugin_name__ = "Entry point demo"
        __plugin_version__ = "0.3.1"

        def _rewrite(comm, phase, cmd, cmd_type, gcode, *args, **kwargs):
            return cmd.replace("M107", "M106 S0"),

        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.queuing": _rewrite}

        @hookimpl
        def comm_protocol_gcode_received(line):
            return line.strip()
    '''))
    dist_info = site / "octohost_epdemo-0.3.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: octohost-epdemo\nVersion: 0.3.1\n")
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nepdemo = epdemo\n")
    (dist_info / "RECORD").write_text("")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("epdemo", None)


def test_entry_point_plugin_is_found_and_its_hooks_work(settings, installed_distribution):
    pm = PluginManager(settings)
    pm.discover()
    info = pm.plugins["epdemo"]
    assert info.origin == "entry_point" and info.loaded
    assert info.version == "0.3.1" and info.name == "Entry point demo"
    assert "octohost-epdemo" in info.path
    assert info.implemented_hooks() == ["comm.protocol.gcode.queuing", "comm.protocol.gcode.received"]
    [(_, queuing)] = pm.handlers("comm.protocol.gcode.queuing")
    assert queuing(None, "queuing", "M107", None, "M107", subcode=None, tags=set()) == ("M106 S0",)
    [(_, received)] = pm.handlers("comm.protocol.gcode.received")
    assert received(None, "  ok  ") == "ok"


def test_safe_mode_skips_entry_points(settings, installed_distribution):
    pm = PluginManager(settings, safe_mode=True)
    pm.discover()
    assert "epdemo" not in pm.plugins
    assert "epdemo" not in sys.modules


def test_plugins_folder_cannot_shadow_an_installed_plugin(settings, installed_distribution, plugin_folder):
    plugin_folder("epdemo.py", "__plugin_name__ = 'impostor'\n")
    pm = PluginManager(settings)
    pm.discover()
    assert pm.plugins["epdemo"].name == "Entry point demo"
