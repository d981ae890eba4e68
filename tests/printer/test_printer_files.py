"""The Printer with the real FileManager: analysis in the job data, statistics, protection while printing."""

import types

import pytest
from printer_support import RecordingCallback, write_gcode

from octohost.comm.virtual import VirtualOptions
from octohost.files.errors import FileInUse
from octohost.plugin import PluginManager
from octohost.printer.factory import create_printer
from octohost.printer.profiles import PrinterProfileManager
from octohost.printer.standard import Printer
from octohost.settings import Settings

from support import wait_until


def test_print_with_file_manager(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.002), with_files=True)
    stack.connect()
    write_gcode(stack.uploads / "analysed.gcode", lines=1500)
    assert stack.files.wait_for_analysis("analysed.gcode", 60)
    analysis = stack.files.get_file("analysed.gcode")["gcodeAnalysis"]
    callback = RecordingCallback()
    stack.printer.register_callback(callback)

    stack.printer.select_file("analysed.gcode", False, printAfterSelect=True)
    wait_until(stack.printer.is_printing)
    job = stack.printer.get_current_job()
    assert job["estimatedPrintTime"] == analysis["estimatedPrintTime"]
    assert job["filament"] == analysis["filament"]
    with pytest.raises(FileInUse):
        stack.files.remove_file("analysed.gcode")
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=60)
    stack.printer.flush()
    stack.printer.wait_for_callbacks()

    metadata = stack.files.get_metadata("analysed.gcode")
    assert metadata["prints"]["success"] == 1
    assert "_default" in metadata["statistics"]["averagePrintTime"]
    row = stack.history.list()[0]
    assert row["filament_length"] == pytest.approx(analysis["filament"]["tool0"]["length"])
    origins = {data["progress"]["printTimeLeftOrigin"] for _, data in callback.current
               if data["state"]["flags"]["printing"]}
    assert origins & {"mixed-analysis", "estimate"}
    stack.files.remove_file("analysed.gcode")


def test_create_printer_default_and_factory_hook(tmp_path):
    settings = Settings(str(tmp_path))
    plugins = PluginManager(settings)
    components = {"settings": settings, "plugin_manager": plugins, "event_bus": None,
                  "printer_profile_manager": PrinterProfileManager(settings)}
    printer = create_printer(components)
    try:
        assert isinstance(printer, Printer)
        assert printer.history is not None and printer.recovery is not None
    finally:
        printer.close()

    custom = object()
    hooks = {"octoprint.printer.factory": lambda components, *a, **kw: custom}
    plugins.register_module("custom_printer", types.SimpleNamespace(__plugin_hooks__=hooks))
    assert create_printer(dict(components, plugin_manager=plugins)) is custom
