"""What the printer layer costs per printed line, and how often it pushes current data.

Run: python benchmarks/printer_layer.py [--lines 20000]

Prints the same file on the in-process virtual printer three ways:
1. bare ``MachineCom`` with a no-op callback (the comm layer alone);
2. through ``Printer`` with no PrinterCallback registered;
3. through ``Printer`` with one PrinterCallback that records everything.
For each: wall time, lines per second and process CPU time per line (all threads, including the
virtual firmware; on a busy machine the wall figures swing, CPU per line is steadier). For 3 it
also counts ``on_printer_send_current_data`` calls per second during the print (limit: 2/s).
"""

import argparse
import functools
import pathlib
import tempfile
import threading
import time

from octohost.comm.callback import CommCallback
from octohost.comm.machine import MachineCom
from octohost.comm.virtual import VirtualOptions
from octohost.events import EventBus, Events
from octohost.plugin import PluginManager
from octohost.printer.interface import PrinterCallback
from octohost.printer.profiles import PrinterProfileManager
from octohost.printer.standard import Printer
from octohost.settings import Settings

OPTIONS = dict(time_scale=50.0)


def write_file(folder, lines):
    path = folder / "bench.gcode"
    body = "\n".join(f"G1 X{i % 100} Y{(i * 7) % 100} E{i * 0.05:.2f} F3000" for i in range(lines))
    path.write_text("G28\nG90\n" + body + "\n")
    return path


def wait(predicate, timeout=600):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark print did not finish")
        time.sleep(0.005)


def bare_comm(basedir, lines):
    class Callback(CommCallback):
        state = None
        done = threading.Event()

        def on_comm_state_change(self, state):
            self.state = state

        def on_comm_print_job_done(self, suppress_script=False):
            self.done.set()

    settings = Settings(str(basedir))
    callback = Callback()
    path = write_file(pathlib.Path(settings.folder("uploads")), lines)
    comm = MachineCom("VIRTUAL", 115200, callback, settings, PluginManager(settings),
                      virtual_options=VirtualOptions(**OPTIONS))
    comm.connect()
    try:
        wait(lambda: callback.state == "OPERATIONAL", 30)
        comm.select_file(str(path), False)
        wall, cpu = time.monotonic(), time.process_time()
        comm.start_print()
        callback.done.wait(600)
        return time.monotonic() - wall, time.process_time() - cpu, None
    finally:
        comm.close()


class Recorder(PrinterCallback):
    def __init__(self):
        self.pushes = []

    def on_printer_send_current_data(self, data):
        self.pushes.append(time.monotonic())


def through_printer(basedir, lines, with_callback):
    settings = Settings(str(basedir))
    plugins = PluginManager(settings)
    bus = EventBus()
    done = threading.Event()
    bus.subscribe(Events.PRINT_DONE, lambda event, payload: done.set())
    printer = Printer(settings, plugins, bus, PrinterProfileManager(settings),
                      comm_factory=functools.partial(MachineCom, virtual_options=VirtualOptions(**OPTIONS)))
    recorder = Recorder()
    try:
        printer.connect(port="VIRTUAL", baudrate=115200)
        wait(printer.is_ready, 30)
        if with_callback:
            printer.register_callback(recorder)
        write_file(pathlib.Path(settings.folder("uploads")), lines)
        wall, cpu = time.monotonic(), time.process_time()
        printer.select_file("bench.gcode", False, printAfterSelect=True)
        done.wait(600)
        elapsed, used = time.monotonic() - wall, time.process_time() - cpu
        pushes = [t for t in recorder.pushes if t >= wall]
        return elapsed, used, (len(pushes) / elapsed if with_callback else None)
    finally:
        printer.close()
        bus.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    args = parser.parse_args()
    runs = [("bare MachineCom", lambda d: bare_comm(d, args.lines)),
            ("Printer, no callback", lambda d: through_printer(d, args.lines, False)),
            ("Printer, one callback", lambda d: through_printer(d, args.lines, True))]
    for label, run in runs:
        with tempfile.TemporaryDirectory() as folder:
            elapsed, cpu, push_rate = run(pathlib.Path(folder))
        line = (f"{label:22s} {args.lines} lines in {elapsed:5.2f} s = {args.lines / elapsed:6.0f} lines/s, "
                f"CPU {cpu * 1e6 / args.lines:4.0f} us/line")
        if push_rate is not None:
            line += f", current-data pushes {push_rate:.2f}/s"
        print(line)


if __name__ == "__main__":
    main()
