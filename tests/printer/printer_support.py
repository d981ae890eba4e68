"""Helpers for the printer tests: a full stack over the virtual printer, recorders, G-code files."""

import functools
import threading
import time

from octohost.events import EventBus
from octohost.plugin import PluginManager
from octohost.printer.history import PrintHistory
from octohost.printer.interface import PrinterCallback
from octohost.printer.profiles import PrinterProfileManager
from octohost.printer.recovery import PrintRecovery
from octohost.printer.standard import Printer
from octohost.settings import Settings

from support import wait_until


class EventRecorder:
    def __init__(self, bus):
        self.events = []
        self._lock = threading.Lock()
        bus.subscribe("*", self._record)

    def _record(self, event, payload):
        with self._lock:
            self.events.append((event, payload))

    def names(self):
        with self._lock:
            return [name for name, _ in self.events]

    def payloads(self, name):
        with self._lock:
            return [payload for event, payload in self.events if event == name]


class RecordingCallback(PrinterCallback):
    def __init__(self):
        self.initial = []
        self.current = []
        self.logs = []
        self.messages = []
        self.temperatures = []
        self.registered = []

    def on_printer_send_initial_data(self, data):
        self.initial.append(data)

    def on_printer_send_current_data(self, data):
        self.current.append((time.monotonic(), data))

    def on_printer_add_log(self, data):
        self.logs.append(data)

    def on_printer_add_message(self, data):
        self.messages.append(data)

    def on_printer_add_temperature(self, data):
        self.temperatures.append(data)

    def on_printer_received_registered_message(self, name, output):
        self.registered.append((name, output))


def write_gcode(path, lines=200, header=(), footer=()):
    body = [f"G1 X{i % 100} Y{(i * 7) % 100} E{i * 0.05:.2f} F3000" for i in range(lines)]
    text = "\n".join(["; generated for a test", "G28", "G90", *header, *body, *footer]) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class Stack:
    """Settings, plugins, events, profiles and a Printer under one base folder; closed by the fixture."""

    def __init__(self, basedir, virtual_options=None, comm_factory=None, plugin_modules=(), with_files=False):
        from octohost.comm.machine import MachineCom
        from octohost.comm.virtual import VirtualOptions

        self.settings = Settings(str(basedir))
        self.plugin_manager = PluginManager(self.settings)
        self.plugin_manager.discover(bundled=False, entry_points=False)
        for identifier, module in plugin_modules:
            self.plugin_manager.register_module(identifier, module)
        self.bus = EventBus()
        self.recorder = EventRecorder(self.bus)
        self.profiles = PrinterProfileManager(self.settings, event_bus=self.bus)
        self.history = PrintHistory.for_settings(self.settings)
        self.recovery = PrintRecovery.for_settings(self.settings)
        self.files = None
        if with_files:
            from octohost.files.manager import FileManager

            self.files = FileManager(self.settings, self.plugin_manager, self.bus, self.profiles)
        options = virtual_options or VirtualOptions(time_scale=50.0)
        factory = comm_factory or functools.partial(MachineCom, virtual_options=options)
        self.printer = Printer(self.settings, self.plugin_manager, self.bus, self.profiles, history=self.history,
                               recovery=self.recovery, comm_factory=factory, update_interval=0.5,
                               file_manager=self.files)
        if self.files is not None:
            self.files.set_can_modify(lambda path: self.printer.can_modify_file(path, False))
        self.uploads = basedir / "uploads"

    @property
    def virtual(self):
        return self.printer.get_transport()

    def connect(self, port="VIRTUAL", **kwargs):
        self.printer.connect(port=port, baudrate=115200, **kwargs)
        wait_until(self.printer.is_ready, message=lambda: f"a ready printer ({self.printer.get_state_string()})")

    def accepted(self):
        return list(self.virtual.accepted)

    def close(self):
        self.printer.close()
        if self.files is not None:
            self.files.shutdown()
        self.bus.flush()
        self.bus.close()
