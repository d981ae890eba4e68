"""The printer over a pseudo-terminal: a normal print, and a host killed mid-print (recovery)."""

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from printer_support import write_gcode

from octohost.comm.machine import MachineCom
from octohost.comm.virtual import VirtualOptions, serve_pty
from octohost.plugin import PluginManager
from octohost.printer.factory import create_printer
from octohost.printer.history import PrintHistory
from octohost.printer.profiles import PrinterProfileManager
from octohost.settings import Settings

from support import wait_until

CHILD = os.path.join(os.path.dirname(__file__), "recovery_child.py")


def test_print_over_pty(make_stack):
    with serve_pty(VirtualOptions(time_scale=50.0)) as server:
        stack = make_stack(comm_factory=MachineCom)
        stack.connect(port=server.path)
        write_gcode(stack.uploads / "pty.gcode", lines=300)
        stack.printer.set_temperature("tool0", 200)
        stack.printer.select_file("pty.gcode", False, printAfterSelect=True)
        wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=60)
        stack.printer.flush()
        assert "M104 S200" in server.printer.accepted
        assert "G1 X99 Y93 E14.95 F3000" in server.printer.accepted
        assert stack.history.list()[0]["result"] == "done"
        stack.printer.disconnect()


def line_ends(path):
    """{command text: byte offset after its line} for every line of the file."""
    ends, pos = {}, 0
    with open(path, "rb") as f:
        for raw in f:
            pos += len(raw)
            ends[raw.decode().strip()] = pos
    return ends


@pytest.mark.e2e
def test_sigkill_mid_print_leaves_correct_recovery_data(tmp_path):
    basedir = tmp_path / "base"
    gcode = write_gcode(basedir / "uploads" / "big" / "long.gcode", lines=20000)
    ends = line_ends(gcode)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with serve_pty(VirtualOptions(time_scale=50.0, ok_delay=0.001)) as server:
        child = subprocess.Popen([sys.executable, CHILD, str(basedir), server.path, "big/long.gcode"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            assert child.stdout.readline().strip() == b"printing", child.stderr.read().decode()[-2000:]
            recovery_file = basedir / "data" / "print_recovery.yaml"
            wait_until(lambda: recovery_file.exists() and b"pos: 0" not in recovery_file.read_bytes()
                            and len(server.printer.accepted) > 500, timeout=30)
            progress = len(server.printer.accepted)
            wait_until(lambda: len(server.printer.accepted) > progress + 200, message="the print to go on")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            child.stdout.close()
            child.stderr.close()
        accepted_file_lines = [cmd for cmd in server.printer.accepted if cmd in ends]
        furthest = max(ends[cmd] for cmd in accepted_file_lines)

    settings = Settings(str(basedir))
    components = {"settings": settings, "plugin_manager": PluginManager(settings), "event_bus": None,
                  "printer_profile_manager": PrinterProfileManager(settings)}
    printer = create_printer(components)
    try:
        data = printer.get_recovery_data()
        assert (data["path"], data["origin"]) == ("big/long.gcode", "local")
        assert 0 < data["pos"] <= furthest
        assert data["pos"] in ends.values()
        assert furthest - data["pos"] < os.path.getsize(gcode) / 2
    finally:
        printer.close()
    history = PrintHistory.for_settings(settings)
    try:
        row = history.list()[0]
        assert (row["path"], row["result"], row["reason"]) == ("big/long.gcode", "failed",
                                                               "octohost stopped during the print")
    finally:
        history.close()


#: how far the recovery file may lag behind the printer: a 0.5 s state-monitor tick, a 0.5 s write
#: interval, and 0.75 s for a busy machine's scheduling and fsync
RECOVERY_LAG = 1.75


class AcceptedProgress:
    """Samples (time, byte offset after the furthest file line the virtual printer accepted) every 10 ms."""

    def __init__(self, printer, ends):
        self.printer, self.ends = printer, ends
        self.samples = [(time.monotonic(), 0)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def furthest(self):
        for command in reversed(self.printer.accepted):
            if command in self.ends:
                return self.ends[command]
        return 0

    def _run(self):
        while not self._stop.wait(0.01):
            self.samples.append((time.monotonic(), self.furthest()))

    def at(self, moment):
        """The furthest position sampled at or before ``moment`` (a little behind the truth, never ahead)."""
        return max((pos for when, pos in self.samples if when <= moment), default=0)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


def read_recovery_pos(path):
    try:
        return int(path.read_text().split("pos: ", 1)[1].split()[0])
    except (FileNotFoundError, IndexError):
        return None


@pytest.mark.e2e
def test_recovery_position_stays_within_the_lag_bound_and_never_ahead_through_kill_9(tmp_path):
    """At every moment the recovery file is what a kill -9 would leave: check it then, and after real kills."""
    basedir = tmp_path / "base"
    gcode = write_gcode(basedir / "uploads" / "long.gcode", lines=40000)
    ends = line_ends(gcode)
    positions = {0, *ends.values()}
    recovery_file = basedir / "data" / "print_recovery.yaml"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    rng = random.Random(13)
    for run in range(2):
        with serve_pty(VirtualOptions(time_scale=50.0, ok_delay=0.001)) as server:
            child = subprocess.Popen([sys.executable, CHILD, str(basedir), server.path, "long.gcode"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            progress = AcceptedProgress(server.printer, ends)
            try:
                assert child.stdout.readline().strip() == b"printing", child.stderr.read().decode()[-2000:]
                kill_at = time.monotonic() + rng.uniform(2.0, 6.0)
                while time.monotonic() < kill_at:  # what a kill now would leave, polled
                    pos = read_recovery_pos(recovery_file)
                    now = time.monotonic()
                    ahead = progress.furthest()
                    if pos is not None:
                        assert pos in positions
                        assert pos <= ahead, f"run {run}: recovery at {pos}, printer acknowledged {ahead}"
                        behind = progress.at(now - RECOVERY_LAG)
                        assert pos >= behind, (f"run {run}: recovery at {pos} lags behind {behind}, where the "
                                               f"printer was {RECOVERY_LAG} s ago")
                    time.sleep(0.02)
            finally:
                child.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                child.wait(10)
                child.stdout.close()
                child.stderr.close()
            progress.stop()
            pos = read_recovery_pos(recovery_file)
            assert pos in positions and progress.at(killed - RECOVERY_LAG) <= pos <= progress.furthest(), run
            assert pos > 0, run
            recovery_file.unlink()  # the next run prints from the start: no stale position from this one


def test_an_offset_changed_mid_print_rewrites_the_very_next_lines(make_stack):
    """Lines pulled from the file after set_temperature_offset returns carry the offset, not 256 lines later."""
    with serve_pty(VirtualOptions(time_scale=50.0, accepted_kept=None)) as server:
        stack = make_stack(comm_factory=MachineCom)
        stack.connect(port=server.path)
        path = stack.uploads / "offset.gcode"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"G1 X{i % 100} Y{i % 7}\nM104 S200\n" for i in range(10000)))
        stack.printer.select_file("offset.gcode", False, printAfterSelect=True)
        wait_until(lambda: server.printer.accepted_count > 2000, message="the print to be under way")
        stack.printer.set_temperature_offset({"tool0": 10})
        changed_at = server.printer.accepted_count
        wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=60)
        after = server.printer.accepted[changed_at:]
        # at most the line in flight and one already staged went out unchanged after the call returned
        heats = [line for line in after if line.startswith("M104")]
        assert heats[2:] and set(heats[2:]) == {"M104 S210"}, heats[:10]
