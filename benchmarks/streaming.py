"""Streaming throughput of the comm layer, per window mode, over a pseudo-terminal.

Run:  python benchmarks/streaming.py            (about ten minutes on 2 cores)
      python benchmarks/streaming.py --quick    (fewer lines, for a smoke test)
      python benchmarks/streaming.py --only "115200 baud" --rounds 3   (median of three, alternating)

For each scenario and window mode it starts the simulator (benchmarks/sim/firmware.py) in its
own process, streams a file of short G1 moves through MachineCom in a fresh host process (so CPU
and peak RSS are the host's alone) and prints: lines/s, host CPU seconds per 1,000 lines,
``ok`` -> next line turnaround p50/p99 as the simulator sees it, peak RSS of the host process.
Scenarios: (a) unthrottled pty, (b) pty throttled to 115200 baud both ways, (c) 1 ms before
every answer, (d) the same with a 512-byte receive buffer on both sides.

Every round of every scenario also runs the barest host loop (blocking ``os.read``/``os.write``
over pre-framed lines, one line in flight) against the same simulator settings, just before the
octohost runs, and prints octohost's rate and turnaround as ratios to it: a machine's state (a
busy neighbour, a slower CPU) moves both alike, so the ratios are what to compare across days
and machines, not the absolute figures. Everything runs pinned to one core (``--cpu``, 0 by
default; ``--cpu -1`` leaves placement to the scheduler), because a host and a simulator on
different cores of a virtual machine pay a cross-core wake-up per message that varies from run
to run. Pinned and unthrottled, the simulator sleeps between lines instead of polling (``--spin
0``): a poller on the host's core takes the host's CPU, which a microcontroller never does
(:func:`placement_args`). At 115200 baud it also prints the wire's limits; at the end the
simulator's own unthrottled ceiling and the host's idle CPU (connected, temperature polling only).
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

MODES = ("ping-pong", "rx-bytes", "advanced-ok")
SCENARIOS = {
    "unthrottled": {"args": [], "lines": 20_000},
    "115200 baud": {"args": ["--baud", "115200"], "lines": 20_000},
    "1 ms latency": {"args": ["--latency", "0.001"], "lines": 5_000},
    # 128 bytes hold only three ~40-byte lines: a board with a larger receive buffer pipelines deeper
    "1 ms, rx 512": {"args": ["--latency", "0.001"], "lines": 5_000, "rx_buffer": 512},
}


def write_file(path, count):
    """Short moves like a curved surface's; 20,000 of them frame to 40.6 bytes a line, as the issue's file."""
    with open(path, "w") as f:
        for i in range(count):
            f.write(f"G1 X{110 + (i % 50) * 0.37:.3f} Y{105 + (i % 70) * 0.29:.3f} E{i * 0.004:.5f}\n")


def framed_bytes(path):
    """Average bytes per line on the wire (``N<n> <cmd>*<checksum>\\n``) for the file."""
    total = count = 0
    with open(path, "rb") as f:
        for count, line in enumerate(f, 1):
            body = b"N%d %s" % (count + 5, line.strip())
            checksum = 0
            for byte in body:
                checksum ^= byte
            total += len(body) + len(b"*%d\n" % checksum)
    return total / count


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_sim(args, stats_path):
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "sim", "firmware.py"), "--stats", stats_path, *args],
                               stdout=subprocess.PIPE, text=True)
    path = process.stdout.readline().strip()
    return process, path


def stop_sim(process, stats_path):
    process.send_signal(signal.SIGTERM)
    process.wait(10)
    with open(stats_path) as f:
        return json.load(f)


def against_sim(args, run):
    """``run(port)`` against a fresh simulator started with ``args``, which is stopped whatever happens:
    (what ``run`` returned, the simulator's stats)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as stats_file:
        stats_path = stats_file.name
    sim, port = start_sim(args, stats_path)
    try:
        value = run(port)
    finally:
        stats = stop_sim(sim, stats_path)
        os.unlink(stats_path)
    return value, stats


def run_host(script, host_args, sim_args, timeout, label):
    """``script --host PORT *host_args`` in a fresh process (so its CPU and RSS are its own) against a fresh
    simulator started with ``sim_args``: (the JSON of the host's last output line, the simulator's stats)."""
    command = [sys.executable, script, "--host"]
    output, stats = against_sim(sim_args, lambda port: subprocess.run(
        command + [port, *host_args], capture_output=True, text=True, timeout=timeout))
    lines = output.stdout.strip().splitlines()
    if output.returncode or not lines:
        raise SystemExit(f"host failed ({label}):\n{output.stdout}\n{output.stderr}")
    return json.loads(lines[-1]), stats


# -- the host side, run in its own process -----------------------------------------------------------

def host(port, mode, path, idle_seconds, rx_buffer):
    import threading

    from octohost.comm.callback import CommCallback
    from octohost.comm.machine import MachineCom
    from octohost.plugin import PluginManager
    from octohost.settings import Settings

    class Callback(CommCallback):
        def __init__(self):
            self.done = threading.Event()
            self.operational = threading.Event()
            self.log = []

        def on_comm_state_change(self, state):
            if state == "OPERATIONAL":
                self.operational.set()

        def on_comm_log(self, line):  # like the printer: keep a bounded terminal backlog
            self.log.append(line)
            if len(self.log) > 600:
                del self.log[:300]

        def on_comm_print_job_done(self, suppress_script=False):
            self.done.set()

        def on_comm_error(self, message):
            print(json.dumps({"error": message}))
            os._exit(1)

    with tempfile.TemporaryDirectory() as basedir:
        settings = Settings(basedir)
        plugin_manager = PluginManager(settings)
        plugin_manager.discover()
        callback = Callback()
        comm = MachineCom(port, 115200, callback, settings, plugin_manager,
                          options={"window": mode, "rx_buffer_size": rx_buffer})
        comm.connect()
        callback.operational.wait(10)
        time.sleep(0.3)  # let the M115 report and first polls pass
        result = {}
        if idle_seconds:
            cpu = time.process_time()
            time.sleep(idle_seconds)
            result["idle_cpu_percent"] = (time.process_time() - cpu) / idle_seconds * 100
        comm.select_file(path, False)
        cpu = time.process_time()
        started = time.perf_counter()
        comm.start_print()
        callback.done.wait()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        lines = comm.sender.job_lines_sent
        result.update(lines=lines, seconds=elapsed, lines_per_s=lines / elapsed, cpu_per_1000=cpu / lines * 1000,
                      rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      resends=comm.resend_stats()["count"])
        comm.close()
    print(json.dumps(result))


def floor(port, path):
    """The barest host: blocking os.read/os.write, one line per ok; (lines/s, CPU s per 1,000 lines).

    The lines are framed before the clock starts, so only the round trips are timed.
    """
    import tty

    lines = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            body = b"N%d %s" % (number, line.strip())
            value = 0
            for byte in body:
                value ^= byte
            lines.append(body + b"*%d\n" % value)
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)

    def until_ok():
        pending = b""
        while b"ok\n" not in pending:
            pending += os.read(fd, 4096)

    os.write(fd, b"N0 M110 N0*125\n")
    until_ok()
    cpu = time.process_time()
    started = time.perf_counter()
    for line in lines:
        os.write(fd, line)
        until_ok()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    os.close(fd)
    return len(lines) / elapsed, cpu / len(lines) * 1000


def ceiling(args, path):
    """:func:`floor` against a fresh simulator started with ``args``.

    Returns the same figures as :func:`run_one` (lines/s, CPU s per 1,000 lines, turnaround
    p50/p99) and the simulator's stats.
    """
    (rate, cpu), stats = against_sim(args, lambda port: floor(port, path))
    turnaround = stats["turnaround_us"][-stats["moves"]:]
    return {"lines_per_s": rate, "cpu_per_1000": cpu, "p50": percentile(turnaround, 0.5),
            "p99": percentile(turnaround, 0.99)}, stats


# -- the driver -----------------------------------------------------------------------------------

def run_one(scenario, mode, path, lines, idle_seconds=0, sim_args=()):
    rx_buffer = SCENARIOS[scenario].get("rx_buffer", 128)
    args = SCENARIOS[scenario]["args"] + ["--rx-buffer", str(rx_buffer), *sim_args]
    args += ["--advanced-ok"] if mode == "advanced-ok" else []
    result, stats = run_host(__file__, [mode, path, str(idle_seconds), str(rx_buffer)], args, timeout=600,
                             label=f"{scenario}/{mode}")
    turnaround = stats["turnaround_us"][-lines:]
    result.update(p50=percentile(turnaround, 0.5), p99=percentile(turnaround, 0.99), overflows=stats["overflows"],
                  sim_errors=stats["errors"], sim_moves=stats["moves"])
    return result


def median_run(runs):
    """The run with the median rate (so its other figures belong to one real run)."""
    return sorted(runs, key=lambda r: r["lines_per_s"])[len(runs) // 2]


def bare_args(scenario):
    """Simulator arguments for the bare loop beside ``scenario``: the same wire, plain oks."""
    spec = SCENARIOS[scenario]
    return spec["args"] + ["--rx-buffer", str(spec.get("rx_buffer", 128))]


def pin(cpu):
    """Pin this process (and so every simulator and host it starts) to ``cpu``; -1: do not pin.
    Returns whether it did."""
    if cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
        return True
    return False


def placement_args(scenario, pinned):
    """The simulator's arguments for its placement in ``scenario``.

    On the host's core, unthrottled, it must not poll (``--spin 0``): it would take the host's CPU
    as no microcontroller does (benchmarks/sim/firmware.py). With a wire or a latency to keep it
    polls anyway: a sleeping simulator answers late by a wake-up (the bare loop reached 91% of the
    115200-baud wire so instead of 97%), and the host has nothing to do while it waits for the ok.
    """
    return ["--spin", "0"] if pinned and not SCENARIOS[scenario]["args"] else []


def ratio_text(run, bare):
    return f"{run['lines_per_s'] / bare['lines_per_s']:>6.0%} {run['p50'] / bare['p50']:>6.1f}x"


def main():
    parser = argparse.ArgumentParser(description="Streaming throughput benchmark of the comm layer.")
    parser.add_argument("--quick", action="store_true", help="a tenth of the lines")
    parser.add_argument("--rounds", type=int, default=1, help="runs per scenario and mode, alternating; "
                        "prints the run with the median rate and every run's rate")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="just this scenario (repeatable)")
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin everything to (-1: no pinning)")
    parser.add_argument("--host", nargs=5, metavar=("PORT", "MODE", "FILE", "IDLE", "RX_BUFFER"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)  # pi_class.py
    args = parser.parse_args()
    if args.floor:
        rate, cpu = floor(*args.floor)
        print(json.dumps({"lines_per_s": rate, "cpu_per_1000": cpu}))
        return
    if args.host:
        port, mode, path, idle, rx_buffer = args.host
        host(port, mode, path, float(idle), int(rx_buffer))
        return
    pinned = pin(args.cpu)
    placement = (f"pinned to core {args.cpu}; unthrottled, the simulator sleeps between lines" if pinned
                 else "not pinned")
    print(f"octohost streaming benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cores, {placement}); "
          "'vs bare': octohost's lines/s and p50 turnaround as ratios to the bare loop's in the same round")
    print(f"{'scenario':<14} {'mode':<12} {'lines':>6} {'lines/s':>9} {'CPU s/1k':>9} {'p50 us':>8} {'p99 us':>8} "
          f"{'RSS MB':>7} {'resends':>7} {'overflows':>9} {'vs bare':>14}")
    with tempfile.TemporaryDirectory() as folder:
        for scenario, spec in SCENARIOS.items():
            if args.only and scenario not in args.only:
                continue
            lines = spec["lines"] // (10 if args.quick else 1)
            path = os.path.join(folder, f"moves-{lines}.gcode")
            if not os.path.exists(path):
                write_file(path, lines)
            limit = None
            sim_args = placement_args(scenario, pinned)
            bares = []
            runs = {mode: [] for mode in MODES}
            for _ in range(args.rounds):
                bare = ceiling(bare_args(scenario) + sim_args, path)[0]
                bares.append(bare)
                for mode in MODES:
                    r = run_one(scenario, mode, path, lines, sim_args=sim_args)
                    if r["sim_moves"] != lines:
                        raise SystemExit(f"{scenario}/{mode}: the simulator accepted {r['sim_moves']} moves, "
                                         f"not {lines}")
                    r["bare"] = bare
                    runs[mode].append(r)
            if "baud" in scenario:
                per_line = framed_bytes(path)
                limit = 11520 / (per_line + 3)
                print(f"  wire limits at 115200 baud for {per_line:.1f} bytes out + 3 back per line: "
                      f"{limit:.0f} lines/s with one line in flight, {11520 / per_line:.0f} lines/s for the "
                      "outbound wire alone")
            bare = median_run(bares)
            print(f"{scenario:<14} {'bare loop':<12} {lines:>6} {bare['lines_per_s']:>9,.0f} "
                  f"{bare['cpu_per_1000']:>9.3f} {bare['p50']:>8.0f} {bare['p99']:>8.0f}"
                  + (f"  {bare['lines_per_s'] / limit:.1%} of one in flight" if limit else "")
                  + ("  runs: " + ", ".join(f"{b['lines_per_s']:,.0f}" for b in bares) if args.rounds > 1 else ""),
                  flush=True)
            for mode in MODES:
                r = median_run(runs[mode])
                share = f"  {r['lines_per_s'] / limit:.1%} of one in flight" if limit else ""
                if args.rounds > 1:
                    share += "  runs (vs bare): " + ", ".join(
                        f"{run['lines_per_s']:,.0f} ({ratio_text(run, run['bare']).split()[0]})" for run in runs[mode])
                print(f"{scenario:<14} {mode:<12} {lines:>6} {r['lines_per_s']:>9,.0f} {r['cpu_per_1000']:>9.3f} "
                      f"{r['p50']:>8.0f} {r['p99']:>8.0f} {r['rss_mb']:>7.1f} {r['resends']:>7} {r['overflows']:>9}"
                      f" {ratio_text(r, r['bare'])}{share}", flush=True)
        if args.only:
            return
        path = os.path.join(folder, f"moves-{SCENARIOS['unthrottled']['lines'] // (10 if args.quick else 1)}.gcode")
        bare, stats = ceiling(placement_args("unthrottled", pinned), path)
        print("simulator ceiling (bare os.read/os.write host loop, unthrottled, one line in flight): "
              f"{bare['lines_per_s']:,.0f} lines/s, "
              f"simulator CPU {stats['cpu_s'] / stats['moves'] * 1000:.3f} s per 1,000 lines")
        path = os.path.join(folder, "idle.gcode")
        write_file(path, 10)
        idle = run_one("unthrottled", "ping-pong", path, 10, idle_seconds=5 if args.quick else 20,
                       sim_args=placement_args("unthrottled", pinned))
        print(f"idle host (connected, temperature polling every 5 s): {idle['idle_cpu_percent']:.3f}% of a core")


if __name__ == "__main__":
    main()
