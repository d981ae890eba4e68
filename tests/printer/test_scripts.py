import os
import textwrap

import pytest

from octohost.plugin import PluginManager
from octohost.printer.interface import UnknownScriptException
from octohost.printer.profiles import DEFAULT_PROFILE, deep_merge
from octohost.printer.scripts import GcodeScripts, ScriptError
from octohost.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(str(tmp_path))


def scripts_for(settings, profile=DEFAULT_PROFILE, plugin_manager=None):
    return GcodeScripts(settings, plugin_manager, context_provider=lambda: {
        "printer_profile": profile, "last_position": {"x": 10, "y": 20, "z": 0.3, "e": 5, "f": 1200},
        "last_temperature": {"tool0": {"actual": 200, "target": 210}}, "last_fanspeed": 255})


def test_after_print_cancelled_default_turns_heaters_and_fans_off(settings):
    assert scripts_for(settings).render("afterPrintCancelled") == ["M104 S0", "M140 S0", "M106 S0", "M84"]


def test_cancel_script_follows_profile(settings):
    profile = deep_merge(DEFAULT_PROFILE, {"extruder": {"count": 2}, "heatedBed": False, "heatedChamber": True})
    assert scripts_for(settings, profile).render("afterPrintCancelled") == [
        "M104 T0 S0", "M104 T1 S0", "M141 S0", "M106 S0", "M84"]


def test_standard_scripts_exist_and_are_empty_by_default(settings):
    scripts = scripts_for(settings)
    for name in ("afterPrinterConnected", "beforePrintStarted", "afterPrintDone", "afterPrintPaused",
                 "beforePrintResumed", "beforeToolChange", "afterToolChange"):
        assert scripts.render(name) == []
        assert name in scripts.names()


def test_unknown_script(settings):
    scripts = scripts_for(settings)
    with pytest.raises(UnknownScriptException):
        scripts.render("noSuchScript")
    with pytest.raises(UnknownScriptException):
        scripts.get_source("../../etc/passwd")
    assert scripts("noSuchScript", {}, None) is None


def test_user_script_with_context(settings):
    scripts = scripts_for(settings)
    scripts.save_source("afterPrintPaused", textwrap.dedent("""\
        ; park
        G1 X{{ last_position.x + 5 }} F{{ speed }}
        M117 {{ script.name }} {{ last_temperature.tool0.target }}
        """))
    assert os.path.isfile(os.path.join(scripts.folder, "afterPrintPaused"))
    assert scripts.render("afterPrintPaused", {"speed": 3000}) == ["G1 X15 F3000", "M117 afterPrintPaused 210"]
    assert scripts.reset("afterPrintPaused") is True
    assert scripts.render("afterPrintPaused") == []


def test_save_rejects_bad_syntax_and_keeps_old(settings):
    scripts = scripts_for(settings)
    scripts.save_source("afterPrintDone", "M84")
    with pytest.raises(ScriptError, match="line 1"):
        scripts.save_source("afterPrintDone", "{% if %}")
    assert scripts.get_source("afterPrintDone") == "M84"
    with pytest.raises(ScriptError):
        scripts.save_source("../escape", "M84")


def test_sandbox_refuses_unsafe_template(settings):
    scripts = scripts_for(settings)
    scripts.save_source("evil", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ScriptError):
        scripts.render("evil")
    assert scripts("evil", {}, None) == []


def test_scripts_hook_from_real_plugin_file(settings):
    plugin_folder = settings.folder("plugins")
    with open(os.path.join(plugin_folder, "script_helper.py"), "w") as f:
        f.write(textwrap.dedent("""\
            def scripts(comm, script_type, script_name, *args, **kwargs):
                if script_type != "gcode" or script_name != "beforePrintStarted":
                    return None
                return "M117 before", ["M117 after"], {"greeting": "hello"}

            __plugin_name__ = "Script helper"
            __plugin_hooks__ = {"octoprint.comm.protocol.scripts": scripts}
            """))
    plugin_manager = PluginManager(settings)
    plugin_manager.discover(bundled=False, entry_points=False)
    scripts = scripts_for(settings, plugin_manager=plugin_manager)
    scripts.save_source("beforePrintStarted", "M117 {{ greeting }}")
    assert scripts.render("beforePrintStarted") == ["M117 before", "M117 hello", "M117 after"]
    assert scripts.render("afterPrintDone") == []
