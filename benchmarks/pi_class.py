"""A Raspberry-Pi-class CPU budget: the host under a CPU quota of 10%, 25% and 50% of one core.

    python benchmarks/pi_class.py [--quick] [--lines N] [--quotas 10 25 50] [--no-octoprint] [--no-daemon]
                                  [--no-streaming] [--poll-interval S] [--sim-cpu N]

Needs root and a cgroup ``cpu`` controller (v1: /sys/fs/cgroup/cpu/<name>/cpu.cfs_quota_us; v2:
cpu.max). A quota caps the host's CPU time per 100 ms period, which emulates a slower CPU's budget
(not its latency: a woken task still runs at this machine's speed until the budget is spent).

1. Streaming: for each quota and baud rate (115200, 250000) the streaming benchmark's simulator
   (benchmarks/sim/firmware.py, outside the quota: it plays the printer's microcontroller) and one
   host in the quota's cgroup print the same file: octohost's comm layer (benchmarks/streaming.py's
   host, ping-pong, the default window) and OctoPrint 1.11.8's (benchmarks/octoprint_host.py, run
   by OctoPrint's own interpreter from ~/.cache/octohost-tests/octoprint-1.11.8 when it exists).
   Beside them the bare loop (streaming.py's: blocking os.read/os.write, one line in flight, lines
   framed before the clock starts), the ceiling a host can reach on this machine at that quota.
   Printed: lines/s, the share of the wire's limit with one line in flight, host CPU per 1,000
   lines, ok -> next line p50/p99 as the simulator sees it, and how long the quota held the host
   back (0: the quota did not bind, whatever slowed the host was something else).
2. Daemon: ``octohost serve`` in the cgroup prints the file at 250000 baud while 5 REST clients
   poll /api/printer and /api/job every 0.5 s (``--poll-interval``; 0: flat out) and 5 push clients
   read the socket. (OctoPrint's daemon is not run here yet.) Printed: the share of a core the
   daemon used for its clients alone (5 s before the print starts), the print's rate and share of
   the wire, REST latency p50/p99, the push clients' longest gap between two messages, the
   connection's communication timeouts (a lost ok costs one) and the simulator's receive-buffer
   overflows.

Host and daemon run on core 0 (``--cpu``), the simulator on the next core (``--sim-cpu``): a
printer's microcontroller is another machine, and a simulator polling on the host's core takes
cache and turns from it (with ``--sim-cpu 0`` octohost's host reached 55% of the 250000-baud wire
at a 10% quota instead of 65-88%). The daemon's load clients run on the daemon's core, outside the
quota's cgroup: on the simulator's core they delayed its answers whenever they woke to read a push
message (2026-12-06, 5 REST and 5 push clients, no quota, three alternating pairs: turnaround p99
3.4-6.1 ms with the simulator, 1.5-1.7 ms with the daemon). Real clients are other machines too,
so neither placement is free; this one charges them to the host, not to the printer. The machine
may be shared: compare the ratios within one run. ``--keep-awake`` keeps the host's core from
halting between lines (benchmarks/awake.py): on this virtual machine a wake-up from a halted core
goes through the hypervisor and costs the woken host CPU time a Raspberry Pi does not spend.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import websocket
from awake import describe, kept_awake
from daemon import USER, Api, free_port, start_daemon
from streaming import framed_bytes, percentile, start_sim, stop_sim, write_file

HERE = os.path.dirname(os.path.abspath(__file__))
BAUDS = (115200, 250000)
CLIENTS_ALONE_SECONDS = 5
OCTOPRINT_PYTHON = os.path.expanduser("~/.cache/octohost-tests/octoprint-1.11.8/bin/python")


class CpuQuota:
    """One cgroup whose CPU quota can be changed; processes are moved into it by pid."""

    V1 = "/sys/fs/cgroup/cpu"
    V2 = "/sys/fs/cgroup"

    def __init__(self, name):
        if os.path.exists(os.path.join(self.V1, "cpu.cfs_quota_us")):
            self.path, self.v2 = os.path.join(self.V1, name), False
        elif "cpu" in _read(os.path.join(self.V2, "cgroup.controllers")).split():
            self.path, self.v2 = os.path.join(self.V2, name), True
        else:
            raise SystemExit("no cgroup cpu controller here (v1 /sys/fs/cgroup/cpu or v2 cpu.max)")
        os.makedirs(self.path, exist_ok=True)

    def set(self, percent):
        """``percent`` of one core per 100 ms period; None: no limit."""
        period = 100_000
        quota = -1 if percent is None else int(period * percent / 100)
        if self.v2:
            _write(os.path.join(self.path, "cpu.max"), f"{'max' if quota < 0 else quota} {period}")
        else:
            _write(os.path.join(self.path, "cpu.cfs_period_us"), str(period))
            _write(os.path.join(self.path, "cpu.cfs_quota_us"), str(quota))

    def add(self, pid):
        _write(os.path.join(self.path, "cgroup.procs"), str(pid))

    def throttled_seconds(self):
        stat = dict(line.split() for line in _read(os.path.join(self.path, "cpu.stat")).splitlines())
        if self.v2:
            return int(stat.get("throttled_usec", 0)) / 1e6
        return int(stat.get("throttled_time", 0)) / 1e9

    def remove(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)  # its last processes are still exiting


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _metric(text, name):
    """The value of ``name`` in a Prometheus text exposition (NaN if absent)."""
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            metric, _, value = line.rpartition(" ")
            if metric.split("{")[0] in (name, name + "_total"):
                return float(value)
    return float("nan")


def on_core(core):
    return lambda: os.sched_setaffinity(0, {core})


# -- streaming ------------------------------------------------------------------------------------

def stream(kind, quota, baud, path, lines, core, sim_core):
    """One print of ``path`` by ``kind`` ("bare loop", "octohost" or "OctoPrint") inside ``quota``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as stats_file:
        stats_path = stats_file.name
    sim, port = start_sim(["--baud", str(baud)], stats_path)
    os.sched_setaffinity(sim.pid, {sim_core})
    try:
        if kind == "bare loop":
            command = [sys.executable, os.path.join(HERE, "streaming.py"), "--floor", port, path]
        elif kind == "octohost":
            command = [sys.executable, os.path.join(HERE, "streaming.py"), "--host", port, "ping-pong", path, "0",
                       "128"]
        else:
            command = [OCTOPRINT_PYTHON, os.path.join(HERE, "octoprint_host.py"), port, str(baud), path]
        env = dict(os.environ)
        if kind != "octohost":
            env.pop("PYTHONPATH", None)  # our tree's OctoPrint plugin shims must not shadow the real package
        host = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                preexec_fn=on_core(core))
        quota.add(host.pid)
        throttled = quota.throttled_seconds()
        try:
            out, err = host.communicate(timeout=max(120, lines / 20))
        except subprocess.TimeoutExpired:
            host.kill()
            out, err = host.communicate()
            return {"stalled": True}
    finally:
        stats = stop_sim(sim, stats_path)
        os.unlink(stats_path)
    if host.returncode or not out.strip():
        raise SystemExit(f"{kind} host failed:\n{out}\n{err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    turnaround = stats["turnaround_us"][-lines:]
    result.update(p50=percentile(turnaround, 0.5), p99=percentile(turnaround, 0.99), moves=stats["moves"],
                  throttled=quota.throttled_seconds() - throttled)
    return result


# -- the daemon under load ------------------------------------------------------------------------

class Poller(threading.Thread):
    """A REST client on a keep-alive connection: GET each path in turn every ``interval`` s (0: flat out).

    Flat-out pollers under a quota only show how the budget is split; a UI polls at a pace.
    """

    def __init__(self, port, key, interval, stop):
        super().__init__(daemon=True)
        self.port, self.key, self.interval, self.stop = port, key, interval, stop
        self.samples = []  # (monotonic end, seconds)
        self.errors = 0

    def run(self):
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            for path in ("/api/printer", "/api/job"):
                started = time.monotonic()
                try:
                    connection.request("GET", path, headers={"X-Api-Key": self.key})
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        self.errors += 1
                except (OSError, http.client.HTTPException):
                    connection.close()
                    self.errors += 1
                ended = time.monotonic()
                self.samples.append((ended, ended - started))
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        connection.close()


class PushTimer(threading.Thread):
    """A push client that records when each websocket message arrives (for the longest gap)."""

    def __init__(self, port, session):
        super().__init__(daemon=True)
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/sockjs/websocket", timeout=30)
        self.ws.send(json.dumps({"auth": f"{USER}:{session}"}))
        self.arrivals = []

    def run(self):
        try:
            while True:
                self.ws.recv()
                self.arrivals.append(time.monotonic())
        except Exception:
            return

    def longest_gap(self, start, end):
        times = [t for t in self.arrivals if start <= t <= end]
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=float("nan"))


def daemon_run(quota, percent, gcode, lines, clients, interval, core, sim_core):
    from octohost.access.users import UserManager
    from octohost.settings import Settings

    baud = BAUDS[-1]
    with tempfile.TemporaryDirectory(prefix="octohost-pi-") as basedir:
        users = UserManager(os.path.join(basedir, "users.yaml"))
        users.add_user(USER, "bench-password", admin=True)
        key = users.get_or_create_api_key(USER)
        stats_path = os.path.join(basedir, "sim-stats.json")
        sim = subprocess.Popen([sys.executable, os.path.join(HERE, "sim", "firmware.py"), "--stats", stats_path,
                                "--baud", str(baud)], stdout=subprocess.PIPE, text=True, preexec_fn=on_core(sim_core))
        pty_path = sim.stdout.readline().strip()
        Settings(basedir).set("serial.additionalPorts", [pty_path])
        port = free_port()
        quota.set(None)  # start-up at full speed: it is not what is measured
        daemon = start_daemon(basedir, port, 2)
        os.sched_setaffinity(daemon.pid, {core})
        for thread in os.listdir(f"/proc/{daemon.pid}/task"):
            os.sched_setaffinity(int(thread), {core})
        quota.add(daemon.pid)
        stop = threading.Event()
        pollers, pushers = [], []
        try:
            api = Api(port, key)
            api.post("/api/connection", json={"command": "connect", "port": pty_path, "baudrate": baud})
            api.wait_state("Operational", timeout=30)
            with open(gcode, "rb") as f:
                api.post("/api/files/local", files={"file": ("pi.gcode", f.read())})
            session = api.session.post(api.base + "/api/login", json={"passive": True}, timeout=10).json()["session"]
            quota.set(percent)
            driver_cores = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {core})  # threads inherit it: the clients away from the simulator
            try:
                pushers = [PushTimer(port, session) for _ in range(clients)]
                pollers = [Poller(port, key, interval, stop) for _ in range(clients)]
                for thread in pushers + pollers:
                    thread.start()
            finally:
                os.sched_setaffinity(0, driver_cores)
            measured = psutil.Process(daemon.pid)
            before = sum(measured.cpu_times()[:2])
            time.sleep(CLIENTS_ALONE_SECONDS)
            clients_alone = (sum(measured.cpu_times()[:2]) - before) / CLIENTS_ALONE_SECONDS
            throttled = quota.throttled_seconds()
            started = time.monotonic()
            api.post("/api/files/local/pi.gcode", json={"command": "select", "print": True})
            api.wait_print_started(timeout=60)
            while not api.state().startswith("Operational"):
                time.sleep(0.1)
                if time.monotonic() - started > max(300, lines / 20):
                    raise SystemExit(f"the daemon did not finish the print at {percent}%")
            ended = time.monotonic()
            throttled = quota.throttled_seconds() - throttled
            timeouts = _metric(api.session.get(api.base + "/metrics", timeout=30).text, "octohost_serial_timeouts")
        finally:
            stop.set()
            for thread in pollers:
                thread.join(30)
            for client in pushers:
                client.ws.close()
            daemon.terminate()
            daemon.wait(30)
            sim.terminate()
            sim.wait(10)
        with open(stats_path) as f:
            stats = json.load(f)
    rate = stats["moves"] / (stats["last_move"] - stats["first_move"]) if stats["moves"] > 1 else float("nan")
    latencies = [seconds for poller in pollers for ended_at, seconds in poller.samples if started <= ended_at <= ended]
    turnaround = [t for t, moves in zip(stats["turnaround_us"], stats["turnaround_moves"],
                                                               strict=True) if 0 < moves < lines]
    return {"lines_per_s": rate, "p99": percentile(turnaround, 0.99), "clients_alone": clients_alone,
            "timeouts": timeouts, "overflows": stats["overflows"],
            "rest_p50": percentile(latencies, 0.5) * 1000, "rest_p99": percentile(latencies, 0.99) * 1000,
            "requests": len(latencies), "errors": sum(p.errors for p in pollers),
            "push_gap": max(c.longest_gap(started, ended) for c in pushers) if pushers else float("nan"),
            "throttled": throttled}


# -- the driver -----------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 lines instead of 4,000")
    parser.add_argument("--lines", type=int)
    parser.add_argument("--quotas", type=int, nargs="+", default=[10, 25, 50], help="percent of one core")
    parser.add_argument("--clients", type=int, default=5, help="REST clients and push clients each (daemon)")
    parser.add_argument("--poll-interval", type=float, default=0.5,
                        help="seconds between one REST client's polls of /api/printer + /api/job (0: flat out)")
    parser.add_argument("--cpu", type=int, default=0, help="the core for the host and the daemon")
    parser.add_argument("--sim-cpu", type=int, help="the simulator's core (default: the next one: it plays the "
                        "printer's own microcontroller; the same as --cpu shares the host's core)")
    parser.add_argument("--no-octoprint", action="store_true")
    parser.add_argument("--no-daemon", action="store_true")
    parser.add_argument("--no-streaming", action="store_true", help="the daemon runs only")
    parser.add_argument("--keep-awake", action="store_true", help="keep the host's core from halting when idle "
                        "(a SCHED_IDLE spinner outside the quota: see benchmarks/awake.py)")
    args = parser.parse_args()
    if args.sim_cpu is None:
        args.sim_cpu = (args.cpu + 1) % os.cpu_count()
    lines = args.lines or (1000 if args.quick else 4000)
    kinds = ["bare loop", "octohost"]
    if not args.no_octoprint:
        if os.path.exists(OCTOPRINT_PYTHON):
            kinds.append("OctoPrint")
        else:
            print(f"(OctoPrint 1.11.8 not found at {OCTOPRINT_PYTHON}: octohost only)")
    os.sched_setaffinity(0, {(args.cpu + 1) % os.cpu_count()})  # the driver away from the host's core
    quota = CpuQuota(f"octohost-pi-{os.getpid()}")
    awake = args.cpu if args.keep_awake else None
    load = os.getloadavg()
    print(f"Pi-class run: {lines} lines, host on core 0 under a CPU quota, load average before "
          f"{load[0]:.1f}/{load[1]:.1f} on {os.cpu_count()} cores")
    print(f"host, daemon and the daemon's clients on core {args.cpu}, simulator on core {args.sim_cpu}; "
          f"REST clients poll every {args.poll_interval} s; {describe(awake)}")
    try:
        with kept_awake(awake), tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "moves.gcode")
            write_file(path, lines)
            per_line = framed_bytes(path)
            print(f"{'quota':>6} {'baud':>7} {'host':<10} {'lines/s':>8} {'of wire':>8} {'CPU s/1k':>9} "
                  f"{'p50 us':>8} {'p99 us':>8} {'throttled s':>12}")
            for percent in [] if args.no_streaming else args.quotas:
                quota.set(percent)
                for baud in BAUDS:
                    limit = baud / 10 / (per_line + 3)
                    for kind in kinds:
                        r = stream(kind, quota, baud, path, lines, args.cpu, args.sim_cpu)
                        if r.get("stalled"):
                            print(f"{percent:>5}% {baud:>7} {kind:<10} stalled (no end within the time limit)")
                            continue
                        print(f"{percent:>5}% {baud:>7} {kind:<10} {r['lines_per_s']:>8,.0f} "
                              f"{r['lines_per_s'] / limit:>8.1%} {r['cpu_per_1000']:>9.3f} {r['p50']:>8.0f} "
                              f"{r['p99']:>8.0f} {r['throttled']:>12.2f}", flush=True)
            if args.no_daemon:
                return
            limit = BAUDS[-1] / 10 / (per_line + 3)
            print(f"octohost serve printing at {BAUDS[-1]} baud with {args.clients} REST and {args.clients} push "
                  "clients ('push gap': the longest a push client waited for a message; nominal 0.5 s):")
            print(f"{'quota':>6} {'clients alone':>14} {'lines/s':>8} {'of wire':>8} {'p99 us':>8} {'REST p50 ms':>12} "
                  f"{'REST p99 ms':>12} "
                  f"{'requests':>9} {'errors':>7} {'push gap s':>11} {'throttled s':>12} {'timeouts':>9} "
                  f"{'overflows':>9}")
            for percent in args.quotas:
                r = daemon_run(quota, percent, path, lines, args.clients, args.poll_interval, args.cpu,
                               args.sim_cpu)
                print(f"{percent:>5}% {r['clients_alone']:>13.1%} {r['lines_per_s']:>8,.0f} "
                      f"{r['lines_per_s'] / limit:>8.1%} {r['p99']:>8.0f} "
                      f"{r['rest_p50']:>12.1f} {r['rest_p99']:>12.1f} {r['requests']:>9} {r['errors']:>7} "
                      f"{r['push_gap']:>11.2f} {r['throttled']:>12.2f} {r['timeouts']:>9.0f} {r['overflows']:>9}",
                      flush=True)
    finally:
        quota.remove()


if __name__ == "__main__":
    sys.exit(main())
