"""Plugins from the plugins folder: OctoPrint-style single files, packages, native pluggy."""

import logging


def test_single_file_octoprint_style_plugin_from_the_seed(plugin_folder, manager_for):
    # The seed's RewriteM107 example, minus the octoprint import.
    plugin_folder("rewrite_m107.py", '''
        class RewriteM107Plugin:
            def rewrite_m107(self, comm_instance, phase, cmd, cmd_type, gcode, *args, **kwargs):
                if gcode and gcode == "M107":
                    cmd = "M106 S0"
                return cmd,

            def sent_m106(self, comm_instance, phase, cmd, cmd_type, gcode, *args, **kwargs):
                if gcode and gcode == "M106":
                    self._logger.info("Just sent M106: {cmd}".format(**locals()))

        __plugin_name__ = "Rewrite M107"
        __plugin_version__ = "1.0.0"
        __plugin_pythoncompat__ = ">=2.7,<4"

        def __plugin_load__():
            global __plugin_implementation__
            __plugin_implementation__ = RewriteM107Plugin()

            global __plugin_hooks__
            __plugin_hooks__ = {
                "octoprint.comm.protocol.gcode.queuing": __plugin_implementation__.rewrite_m107,
                "octoprint.comm.protocol.gcode.sent": __plugin_implementation__.sent_m106,
            }
    ''')
    pm = manager_for()
    info = pm.plugins["rewrite_m107"]
    assert info.loaded and info.error is None
    assert info.name == "Rewrite M107" and info.version == "1.0.0"
    assert info.implemented_hooks() == ["comm.protocol.gcode.queuing", "comm.protocol.gcode.sent"]
    [(pid, handler)] = pm.handlers("comm.protocol.gcode.queuing")
    assert pid == "rewrite_m107"
    assert handler(None, "queuing", "M107", None, "M107", subcode=None, tags=set()) == ("M106 S0",)
    assert info.implementation._logger.name == "octohost.plugins.rewrite_m107"
    assert info.implementation._identifier == "rewrite_m107"


def test_all_spellings_of_a_hook_name_are_one_hook(plugin_folder, manager_for):
    for i, name in enumerate(["octoprint.comm.protocol.gcode.sent", "octohost.comm.protocol.gcode.sent",
                              "comm.protocol.gcode.sent"]):
        plugin_folder(f"p{i}.py", f'''
            def h(*args, **kwargs):
                return {i}
            __plugin_hooks__ = {{"{name}": h}}
        ''')
    pm = manager_for()
    assert [pid for pid, _ in pm.handlers("octoprint.comm.protocol.gcode.sent")] == ["p0", "p1", "p2"]
    assert pm.handlers("comm_protocol_gcode_sent") == pm.handlers("comm.protocol.gcode.sent")


def test_package_plugin(plugin_folder, manager_for):
    plugin_folder("pkgplugin/", '''
        from .helper import answer
        __plugin_name__ = "Package"
        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.received": lambda comm, line, *a, **k: answer(line)}
    ''')
    import os

    folder = os.path.dirname(plugin_folder("pkgplugin/helper.py", "def answer(line):\n    return line.upper()\n"))
    assert os.path.isdir(folder)
    pm = manager_for()
    [(pid, handler)] = pm.handlers("comm.protocol.gcode.received")
    assert pid == "pkgplugin" and handler(None, "ok") == "OK"


def test_native_pluggy_plugin_gets_only_the_arguments_it_names(plugin_folder, manager_for):
    plugin_folder("native.py", '''
        from octohost.plugin import hookimpl

        seen = []

        @hookimpl
        def comm_protocol_gcode_sending(cmd, tags):
            seen.append((cmd, tags))
            return cmd + " ; native",
    ''')
    pm = manager_for()
    [(pid, handler)] = pm.handlers("comm.protocol.gcode.sending")
    assert handler(None, "sending", "G28", None, "G28", subcode=None, tags={"source:api"}) == ("G28 ; native",)
    assert pm.plugins["native"].module.seen == [("G28", {"source:api"})]
    assert pm.plugins["native"].implemented_hooks() == ["comm.protocol.gcode.sending"]


def test_native_plugin_with_a_wrong_argument_name_is_refused_and_logged(plugin_folder, manager_for, caplog):
    plugin_folder("badnative.py", '''
        from octohost.plugin import hookimpl

        @hookimpl
        def comm_protocol_gcode_sending(command_text):
            return None
    ''')
    with caplog.at_level(logging.ERROR):
        pm = manager_for()
    info = pm.plugins["badnative"]
    assert not info.loaded and "command_text" in info.error
    assert pm.handlers("comm.protocol.gcode.sending") == ()
    assert "badnative" in caplog.text


def test_plugin_that_fails_to_import_is_logged_and_skipped(plugin_folder, manager_for, caplog):
    plugin_folder("broken.py", "raise RuntimeError('boom at import')\n")
    plugin_folder("fine.py", "__plugin_hooks__ = {'octoprint.comm.protocol.gcode.received': lambda c, l, *a, **k: l}\n")
    with caplog.at_level(logging.ERROR):
        pm = manager_for()
    assert pm.plugins["broken"].error == "RuntimeError: boom at import"
    assert not pm.plugins["broken"].loaded
    assert pm.plugins["fine"].loaded
    assert "plugin broken" in caplog.text and "boom at import" in caplog.text


def test_malformed_hook_table_is_refused(plugin_folder, manager_for):
    plugin_folder("notcallable.py", "__plugin_hooks__ = {'octoprint.comm.protocol.gcode.received': 42}\n")
    plugin_folder("badorder.py", "__plugin_hooks__ = {'octoprint.comm.protocol.gcode.received': (print, 'first')}\n")
    pm = manager_for()
    assert "not callable" in pm.plugins["notcallable"].error
    assert "non-numeric order" in pm.plugins["badorder"].error
    assert pm.handlers("comm.protocol.gcode.received") == ()


def test_plugin_check_false_skips_the_plugin(plugin_folder, manager_for):
    plugin_folder("unneeded.py", '''
        def __plugin_check__():
            return False
        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.received": lambda c, l, *a, **k: l}
    ''')
    pm = manager_for()
    assert pm.plugins["unneeded"].error == "__plugin_check__ returned False"
    assert pm.handlers("comm.protocol.gcode.received") == ()


def test_disabled_plugins_are_not_imported(plugin_folder, manager_for, settings, tmp_path):
    marker = tmp_path / "imported"
    plugin_folder("sideeffect.py", f"open({str(marker)!r}, 'w').close()\n")
    settings.set("plugins._disabled", ["sideeffect"])
    pm = manager_for()
    assert not pm.plugins["sideeffect"].enabled
    assert not marker.exists()


def test_safe_mode_loads_no_third_party_plugin(plugin_folder, manager_for, tmp_path):
    marker = tmp_path / "imported"
    plugin_folder("thirdparty.py", f"open({str(marker)!r}, 'w').close()\n")
    pm = manager_for(safe_mode=True)
    assert "thirdparty" not in pm.plugins
    assert not marker.exists()


def test_duplicate_identifier_first_one_wins(settings, caplog):
    import types

    from octohost.plugin import PluginManager

    pm = PluginManager(settings)
    first = types.SimpleNamespace(__plugin_name__="First")
    second = types.SimpleNamespace(__plugin_name__="Second")
    pm.register_module("dup", first)
    with caplog.at_level(logging.WARNING):
        pm.register_module("dup", second)
    assert pm.plugins["dup"].name == "First"
    assert "already known" in caplog.text


def test_set_enabled_persists(settings):
    from octohost.plugin import PluginManager

    pm = PluginManager(settings)
    pm.set_enabled("someplugin", False)
    assert settings.get("plugins._disabled") == ["someplugin"]
    pm.set_enabled("someplugin", True)
    assert settings.get("plugins._disabled") == []


def test_components_are_injected_and_initialize_called_once(plugin_folder, manager_for):
    plugin_folder("withimpl.py", '''
        class Impl:
            calls = 0
            def initialize(self):
                Impl.calls += 1
                self.seen_printer = self._printer
        __plugin_implementation__ = Impl()
    ''')
    pm = manager_for()
    pm.inject_components(printer="the printer")
    pm.inject_components(event_bus="the bus")
    impl = pm.plugins["withimpl"].implementation
    assert impl.seen_printer == "the printer" and impl._event_bus == "the bus"
    assert type(impl).calls == 1
