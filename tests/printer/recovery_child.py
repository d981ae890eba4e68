"""Run by test_recovery_kill.py in a subprocess: print FILE on the pty at PORT until killed."""

import sys
import time

from octohost.events import EventBus
from octohost.plugin import PluginManager
from octohost.printer.factory import create_printer
from octohost.printer.profiles import PrinterProfileManager
from octohost.settings import Settings

from support import wait_until  # tests/ is on the PYTHONPATH the test passes down


def main(basedir, port, path):
    settings = Settings(basedir)
    plugin_manager = PluginManager(settings)
    bus = EventBus(plugin_manager)
    components = {"settings": settings, "plugin_manager": plugin_manager, "event_bus": bus,
                  "printer_profile_manager": PrinterProfileManager(settings, event_bus=bus)}
    printer = create_printer(components)
    printer.connect(port=port, baudrate=115200)
    wait_until(printer.is_ready, timeout=20, message=lambda: f"a ready printer ({printer.get_state_string()})")
    printer.select_file(path, False, printAfterSelect=True)
    print("printing", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
