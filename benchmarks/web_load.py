"""Serial priority under web load: the same print through the daemon with and without web clients.

    python benchmarks/web_load.py [--rounds 3] [--quick] [--lines N] [--only "115200 baud"]

Runs `octohost serve` in its own process (as benchmarks/daemon.py does) against the streaming
benchmark's firmware simulator (benchmarks/sim/firmware.py), once at 115200 baud and once
unthrottled, and prints the same file unloaded and loaded, alternating, ``--rounds`` times each.
The load runs in one separate process and only over loopback:

- ``--pollers`` REST clients (default 20), each on its own keep-alive connection with an API key,
  polling ``/api/printer`` and ``/api/job`` in turn as fast as they are answered;
- ``--push-clients`` authenticated push clients (default 20) reading everything they are sent;
- once the print runs, one upload of ``--upload-mb`` MB (default 500) generated on the fly; it is
  cut off when the print ends (the server then deletes what it had) or deleted once finished.

Everything is bounded: the load stops when the print ends or after ``--load-seconds``.

Per run the simulator gives the print's rate (moves over the time from the first move's arrival to
the last one's, so no API latency is in it) and the ``ok`` -> next line turnaround inside the
print (the idle gaps before and after are left out). Printed: lines/s (median run, every run),
turnaround p50/p99/max, the loaded/unloaded ratio of the medians, REST requests/s and latency
p50/p99 inside the print, errors, what the push clients and the upload moved, the daemon's CPU
and the whole machine's busy share during the print, and the load average before the runs (the
machine may be shared: compare alternating runs, not single figures).
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import psutil
from daemon import USER, Api, PushClient, free_port, start_daemon
from server import stream_upload
from streaming import percentile, start_sim, stop_sim, write_file

SCENARIOS = {"115200 baud": ["--baud", "115200"], "unthrottled": []}
LINES = {"115200 baud": 10_000, "unthrottled": 20_000}
UPLOAD_NAME = "web-load-upload.gcode"


# -- the load, run in its own process -------------------------------------------------------------

class Poller(threading.Thread):
    """One REST client on a keep-alive connection: GET each path in turn until ``stop``.

    Records (monotonic end time, seconds) per answered request and counts errors.
    """

    def __init__(self, port, key, paths, stop, deadline):
        super().__init__(daemon=True)
        self.port, self.paths, self.stop, self.deadline = port, paths, stop, deadline
        self.headers = {"X-Api-Key": key, "Accept-Encoding": "gzip"}
        self.samples = []
        self.errors = 0
        self.error_kinds = {}  # what went wrong, counted: "HTTP 503", "ConnectionResetError", ...

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        clock = time.monotonic
        while not self.stop.is_set() and clock() < self.deadline:
            for path in self.paths:
                started = clock()
                try:
                    connection.request("GET", path, headers=self.headers)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                    kind = f"HTTP {response.status} {path}"
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    ok = False
                    kind = f"{type(exc).__name__} {path}"
                ended = clock()
                if ok:
                    self.samples.append((ended, ended - started))
                else:
                    self.errors += 1
                    self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        connection.close()


def load(port, key, session, pollers, push_clients, upload_bytes, seconds):
    """Start the clients, say ``ready``; ``upload`` on stdin starts the upload, ``stop`` ends all and
    prints the figures as JSON."""
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    threads = [Poller(port, key, ("/api/printer", "/api/job"), stop, deadline) for _ in range(pollers)]
    clients = [PushClient(port, session) for _ in range(push_clients)]
    for thread in threads + clients:
        thread.start()
    uploaded = []
    upload_result = {}

    def upload():
        started = time.monotonic()
        status = stream_upload(port, key, upload_bytes, UPLOAD_NAME, stop=stop, progress=uploaded.append)
        upload_result.update(status=status, seconds=time.monotonic() - started)

    uploader = threading.Thread(target=upload, daemon=True)
    print("ready", flush=True)
    for command in sys.stdin:
        if command.strip() == "upload":
            uploader.start()
        elif command.strip() == "stop":
            break
    stop.set()
    for thread in threads:
        thread.join(30)
    if uploader.is_alive() or uploader.ident:
        uploader.join(60)
    received = sum(client.received for client in clients)
    for client in clients:
        client.close()
    print(json.dumps({"samples": [s for t in threads for s in t.samples], "errors": sum(t.errors for t in threads),
                      "error_kinds": _merged(t.error_kinds for t in threads),
                      "push_bytes": received, "uploaded": sum(uploaded), "upload": upload_result}), flush=True)


def _merged(counters):
    merged = {}
    for counter in counters:
        for kind, count in counter.items():
            merged[kind] = merged.get(kind, 0) + count
    return merged


class Load:
    """The load process, seen from the driver."""

    def __init__(self, args, port, key, session):
        upload_bytes = int(args.upload_mb * 1e6)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--load", json.dumps([port, key, session, args.pollers, args.push_clients,
                                                             upload_bytes, args.load_seconds])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise SystemExit("the load process did not start")
        self.cpu = psutil.Process(self.process.pid)

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def finish(self):
        self.send("stop")
        result = json.loads(self.process.stdout.readline())
        self.process.stdin.close()
        self.process.wait(30)
        return result


# -- the driver ------------------------------------------------------------------------------------

def cpu_busy():
    times = psutil.cpu_times()
    return times.idle + getattr(times, "iowait", 0), sum(times)


def run_one(args, scenario, loaded, api, daemon, basedir, name, lines, session, key):
    stats_path = os.path.join(basedir, "sim-stats.json")
    sim, pty_path = start_sim(SCENARIOS[scenario], stats_path)
    load = None
    try:
        api.post("/api/connection", json={"command": "connect", "port": pty_path, "baudrate": 115200})
        api.wait_state("Operational", timeout=30)
        time.sleep(0.5)  # the handshake's polls pass
        if loaded:
            load = Load(args, daemon.port, key, session)
            time.sleep(1)  # every client connected and busy
        daemon_cpu = sum(daemon.process.cpu_times()[:2])
        idle, total = cpu_busy()
        api.post(f"/api/files/local/{name}", json={"command": "select", "print": True})
        api.wait_print_started(timeout=10)
        if load:
            load.send("upload")
        api.wait_state("Operational", timeout=max(60, lines / 50))
        daemon_cpu = sum(daemon.process.cpu_times()[:2]) - daemon_cpu
        idle_after, total_after = cpu_busy()
        figures = load.finish() if load else None
        load = None
        api.post("/api/connection", json={"command": "disconnect"})
        api.wait_state("Offline", timeout=10)
    finally:
        if load:
            load.process.kill()
        stats = stop_sim(sim, stats_path)
    if stats["moves"] != lines or stats["errors"] or stats["overflows"]:
        raise SystemExit(f"{scenario}: the simulator saw {stats['moves']} of {lines} moves, "
                         f"{stats['errors']} errors, {stats['overflows']} overflows")
    seconds = stats["last_move"] - stats["first_move"]
    samples = zip(stats["turnaround_us"], stats["turnaround_moves"], strict=True)
    turnaround = [t for t, moves in samples if 0 < moves < lines]
    result = {"rate": (lines - 1) / seconds, "p50": percentile(turnaround, 0.5), "p99": percentile(turnaround, 0.99),
              "max": max(turnaround), "daemon_cpu": daemon_cpu / seconds * 100,
              "busy": (1 - (idle_after - idle) / (total_after - total)) * 100}
    if figures:
        inside = [latency for ended, latency in figures["samples"]
                  if stats["first_move"] <= ended <= stats["last_move"]]
        result.update(rest_rate=len(inside) / seconds, rest_p50=percentile(inside, 0.5) * 1000,
                      rest_p99=percentile(inside, 0.99) * 1000, rest_errors=figures["errors"],
                      rest_error_kinds=figures["error_kinds"],
                      push_mib=figures["push_bytes"] / 2**20, upload_mb=figures["uploaded"] / 1e6,
                      upload_status=figures["upload"].get("status"))
        if figures["upload"].get("status") == 201:
            api.session.delete(api.base + f"/api/files/local/{UPLOAD_NAME}", timeout=30)
    return result


class Daemon:
    def __init__(self, basedir, optimize):
        self.port = free_port()
        self.popen = start_daemon(basedir, self.port, optimize)
        self.process = psutil.Process(self.popen.pid)

    def stop(self):
        self.popen.terminate()
        self.popen.wait(20)


def _kinds(kinds):
    return " (" + ", ".join(f"{count}× {kind}" for kind, count in sorted(kinds.items())) + ")" if kinds else ""


def report(scenario, runs, lines):
    """One line per load for ``scenario``: the median run's figures and every run's rate."""
    medians = {}
    for loaded in (False, True):
        done = sorted(runs[loaded], key=lambda r: r["rate"])
        if not done:
            continue
        r = done[len(done) // 2]
        medians[loaded] = r["rate"]
        line = (f"{scenario:<12} {'loaded' if loaded else 'unloaded':<9} {lines:>6} {r['rate']:>8,.0f} "
                f"{r['p50']:>7.0f} {r['p99']:>8.0f} {r['max']:>8.0f} {r['daemon_cpu']:>6.0f}% {r['busy']:>5.0f}%")
        if loaded:
            line += (f"  REST {r['rest_rate']:,.0f}/s p50 {r['rest_p50']:.1f} ms p99 {r['rest_p99']:.1f} ms, "
                     f"{r['rest_errors']} errors{_kinds(r['rest_error_kinds'])}; "
                     f"push {r['push_mib']:.1f} MiB; upload {r['upload_mb']:.0f} MB"
                     f"{' (done)' if r['upload_status'] == 201 else ''}")
        if len(done) > 1:
            line += "  runs: " + ", ".join(f"{run['rate']:,.0f}" for run in runs[loaded])
        print(line, flush=True)
    if len(medians) == 2:
        print(f"{scenario:<12} loaded / unloaded: {medians[True] / medians[False]:.1%}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, help="loaded and unloaded runs per scenario, alternating (3; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the lines, a 50 MB upload, one round")
    parser.add_argument("--lines", type=int, help="lines per print in every scenario")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="just this scenario (repeatable)")
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--push-clients", type=int, default=20)
    parser.add_argument("--upload-mb", type=float, default=500)
    parser.add_argument("--load-seconds", type=float, default=900, help="the load stops after this in any case")
    parser.add_argument("--optimize", type=int, choices=(0, 1, 2), default=2, help="PYTHONOPTIMIZE for the daemon")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=YAML",
                        help="a daemon setting for every run, e.g. server.workerThreads=2 (repeatable)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # JSON: the arguments of load()
    args = parser.parse_args()
    if args.load:
        load(*json.loads(args.load))
        return
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.quick:
        args.upload_mb = min(args.upload_mb, 50)
    import yaml

    from octohost.access.users import UserManager
    from octohost.settings import Settings

    print(f"octohost web load benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); load: {args.pollers} REST pollers, "
          f"{args.push_clients} push clients, a {args.upload_mb:g} MB upload"
          + "".join(f"; {assignment}" for assignment in args.set))
    print(f"{'scenario':<12} {'load':<9} {'lines':>6} {'lines/s':>8} {'p50 us':>7} {'p99 us':>8} {'max us':>8} "
          f"{'daemon':>7} {'busy':>6}")
    with tempfile.TemporaryDirectory(prefix="octohost-bench-") as basedir:
        users = UserManager(os.path.join(basedir, "users.yaml"))
        users.add_user(USER, "bench-password", admin=True)
        key = users.get_or_create_api_key(USER)
        settings = Settings(basedir)
        settings.set("serial.additionalPorts", ["/dev/pts/*"])  # the simulators' ptys: only offered ports connect
        for assignment in args.set:
            name, _, value = assignment.partition("=")
            settings.set(name, yaml.safe_load(value))
        daemon = Daemon(basedir, args.optimize)
        try:
            api = Api(daemon.port, key)
            session = api.session.post(api.base + "/api/login", json={"passive": True}, timeout=10).json()["session"]
            for scenario in SCENARIOS:
                if args.only and scenario not in args.only:
                    continue
                lines = args.lines or LINES[scenario] // (10 if args.quick else 1)
                name = f"web-load-{lines}.gcode"
                path = os.path.join(basedir, name)
                write_file(path, lines)
                with open(path, "rb") as f:
                    api.post("/api/files/local", files={"file": (name, f)})
                os.unlink(path)
                runs = {False: [], True: []}
                for _ in range(args.rounds):
                    for loaded in (False, True):
                        runs[loaded].append(run_one(args, scenario, loaded, api, daemon, basedir, name, lines,
                                                    session, key))
                report(scenario, runs, lines)
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
