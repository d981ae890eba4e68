"""OctoPrint 1.11.8's own comm layer as a streaming host, for the comparisons in benchmarks/pi_class.py.

Run by OctoPrint's interpreter (not ours):  VENV/bin/python benchmarks/octoprint_host.py PORT BAUD FILE
It initialises OctoPrint's settings in a temporary folder and its plugin manager with no plugins,
connects ``octoprint.util.comm.MachineCom`` to PORT, prints FILE once and prints one JSON line
with the same figures as benchmarks/streaming.py's host (lines, seconds, lines/s, CPU s per 1,000
lines, peak RSS). Everything else about OctoPrint (web server, events) is left out, as octohost's
streaming host leaves its own out.
"""

import json
import os
import resource
import sys
import tempfile
import threading
import time


def main():
    port, baudrate, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    import octoprint.plugin
    import octoprint.printer.profile
    import octoprint.settings
    from octoprint.util.comm import MachineCom, MachineComPrintCallback

    with tempfile.TemporaryDirectory() as basedir:
        octoprint.settings.settings(init=True, basedir=basedir)
        octoprint.plugin.plugin_manager(init=True, plugin_folders=[], plugin_entry_points=[])
        profiles = octoprint.printer.profile.PrinterProfileManager()

        class Callback(MachineComPrintCallback):
            def __init__(self):
                self.operational = threading.Event()
                self.done = threading.Event()
                self.log = []

            def on_comm_state_change(self, state):
                if state == MachineCom.STATE_OPERATIONAL:
                    self.operational.set()

            def on_comm_log(self, message):  # as the printer does: a bounded terminal backlog
                self.log.append(message)
                if len(self.log) > 600:
                    del self.log[:300]

            def on_comm_print_job_done(self, suppress_script=False):
                self.done.set()

        callback = Callback()
        comm = MachineCom(port, baudrate, callback, profiles)
        comm.start()
        if not callback.operational.wait(30):
            raise SystemExit(f"OctoPrint did not become operational: {comm.getStateString()}; "
                             + " | ".join(callback.log[-10:]))
        time.sleep(0.3)
        lines = sum(1 for _ in open(path))
        comm.selectFile(path, False)
        cpu = time.process_time()
        started = time.perf_counter()
        comm.startPrint()
        callback.done.wait()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        comm.close(wait=False)
    print(json.dumps({"lines": lines, "seconds": elapsed, "lines_per_s": lines / elapsed,
                      "cpu_per_1000": cpu / lines * 1000,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    os._exit(0)  # OctoPrint's non-daemon threads would keep the process


if __name__ == "__main__":
    main()
