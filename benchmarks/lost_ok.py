"""What a lost ``ok`` costs a print, with and without the firmware's keepalives, over a pseudo-terminal.

Run:  python benchmarks/lost_ok.py            (6 lost oks per case: about seven minutes)
      python benchmarks/lost_ok.py --quick    (2 lost oks per case: about two and a half minutes)

The simulator (benchmarks/sim/firmware.py) drops the ok of every N-th move; nothing else tells
the host the line was done, so the stream stalls until the host's timeout sends an M105 and the
answer settles the line. Marlin's host keepalive (``echo:busy: processing`` every 2 s while a
command holds its queue) tells the host that a silent firmware is not a busy one: once seen, the
host waits ``serial.timeout.communicationBusy`` (3 s) instead of ``communication`` (30 s).

Each file starts with ``G4 P2500`` (a dwell, as a print's homing or heating would be: the
firmware says ``busy`` once if keepalives are on), then short moves. For each case it prints the
print time with lost oks and of the same print without, and the stall per lost ok: from writing
the line whose ok is lost to the timeout that recovers it (median and max; the difference of the
two print times over the oks lost says the same, but noisier on a shared machine). MachineCom
runs in this process with its default timeouts, ping-pong window.
"""

import argparse
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from streaming import start_sim, stop_sim, write_file  # noqa: E402  (the simulator's start/stop, the moves)


def print_time(args, path, communication):
    """MachineCom printing ``path`` against a simulator started with ``args``: (seconds, oks lost, stalls)."""
    from octohost.comm.callback import CommCallback
    from octohost.comm.machine import MachineCom

    class Callback(CommCallback):
        def __init__(self):
            self.done = threading.Event()
            self.operational = threading.Event()
            self.stalls = []
            self.last_send = 0.0

        def on_comm_state_change(self, state):
            if state == "OPERATIONAL":
                self.operational.set()

        def on_comm_log(self, line):
            if line.startswith("Send: "):
                self.last_send = time.perf_counter()
            elif line.startswith("Communication timeout"):
                self.stalls.append(time.perf_counter() - self.last_send)

        def on_comm_print_job_done(self, suppress_script=False):
            self.done.set()

        def on_comm_error(self, message):
            raise SystemExit(f"error: {message}")

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as stats_file:
        stats_path = stats_file.name
    sim, port = start_sim(args, stats_path)
    try:
        callback = Callback()
        options = {"window": "ping-pong"}
        if communication is not None:
            options["timeout_communication"] = communication
        comm = MachineCom(port, 115200, callback, None, options=options)
        comm.connect()
        if not callback.operational.wait(10):
            raise SystemExit("the simulator did not answer")
        time.sleep(0.3)  # the M115 report and first polls
        comm.select_file(path, False)
        started = time.perf_counter()
        comm.start_print()
        callback.done.wait()
        elapsed = time.perf_counter() - started
        comm.close()
    finally:
        stats = stop_sim(sim, stats_path)
        os.unlink(stats_path)
    return elapsed, stats["lost_oks"], callback.stalls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 lost oks per case instead of 6")
    parser.add_argument("--communication", type=float, default=None,
                        help="serial.timeout.communication in seconds (default: the setting's default, 30)")
    options = parser.parse_args()
    lost = 2 if options.quick else 6
    every = 400
    moves = lost * every + every // 2
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "moves.gcode")
        write_file(path, moves)
        with open(path) as f:
            body = f.read()
        with open(path, "w") as f:
            f.write("G4 P2500\n" + body)
        print(f"octohost lost-ok benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cores): "
              f"{moves} moves, the ok of every {every}th lost")
        print(f"{'firmware':<22} {'lost':>5} {'timeouts':>9} {'print s':>8} {'without s':>10} "
              f"{'stall p50 s':>12} {'stall max s':>12}")
        for name, keepalive in (("no keepalives", []), ("keepalive every 2 s", ["--keepalive", "2"])):
            base, _, _ = print_time(keepalive, path, options.communication)
            total, dropped, stalls = print_time(keepalive + ["--lose-ok-every", str(every)], path,
                                                options.communication)
            median = sorted(stalls)[len(stalls) // 2] if stalls else float("nan")
            worst = max(stalls) if stalls else float("nan")
            print(f"{name:<22} {dropped:>5} {len(stalls):>9} {total:>8.1f} {base:>10.1f} {median:>12.2f} "
                  f"{worst:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
