"""A print farm on one broker: N daemons, each printing on its own virtual printer, and one
subscriber that measures what a farm manager gets.

    python benchmarks/farm.py [--daemons 20] [--seconds 60] [--outage 10] [--interval 1.0]
                              [--lines 600] [--ok-delay 0.02] [--quick]

Starts one mosquitto (a private config on a free port, sessions persisted across its restart)
and N ``octohost serve --virtual`` processes (PYTHONOPTIMIZE=2, as the systemd unit runs them)
with the MQTT bridge on, commands on, ``serial.realtime`` off (as the README advises for several
daemons on one host; ``--set serial.realtime=true`` for the single-printer default) and
``mqtt.printerId`` farm00, farm01, ... The subscriber
(one paho client with a persistent session, as a farm manager would subscribe) starts a print on
every printer with START_PRINT and starts the next one at each PRINT_DONE, so all print for the
whole run. Halfway through, the broker is stopped for ``--outage`` seconds and started again.

Figures: per-printer telemetry interval (p50/p99/max, intervals spanning the outage left out and
shown apart), events received and missing ``seq`` numbers (each printer's numbers must run
1..last without a gap: no event lost, the outage included), ACCEPTED and FINISHED latency of
START_PRINT (publish to answer, p50/p99), and each daemon's CPU (% of one core) and peak RSS.
``--quick``: 3 daemons for 16 s with a 3 s outage (a smoke run). Prints measured figures only.
"""

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))  # the private broker of the MQTT tests

from reconnect import parse_set  # noqa: E402

from support.mosquitto import Mosquitto, free_port  # noqa: E402


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def gcode(lines):
    return "G28\n" + "".join(f"G1 X{i % 100} Y{(i * 7) % 100} F6000\n" for i in range(lines))


def merge(into, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def start_daemon(basedir, index, broker_port, args):
    printer_id = f"farm{index:02d}"
    os.makedirs(os.path.join(basedir, "uploads"), exist_ok=True)
    with open(os.path.join(basedir, "uploads", "job.gcode"), "w") as f:
        f.write(gcode(args.lines))
    config = {"mqtt": {"enabled": True, "printerId": printer_id, "commands": True,
                       "telemetryInterval": args.interval, "broker": {"host": "127.0.0.1", "port": broker_port}},
              # many daemons on one host: no real-time serial loops (README, "A farm on one broker")
              "serial": {"virtual": {"okDelay": args.ok_delay}, "realtime": False}}
    merge(config, parse_set(args.set))
    with open(os.path.join(basedir, "config.yaml"), "w") as f:
        yaml.safe_dump(config, f)
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", basedir, "serve", "--host", "127.0.0.1",
                                "--port", str(free_port()), "--virtual"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONOPTIMIZE="2"))
    return printer_id, process


class Manager:
    """The farm manager: records every message's arrival and keeps every printer printing."""

    def __init__(self, port, printers):
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.printers = printers
        self.lock = threading.Lock()
        self.telemetry = {p: [] for p in printers}
        self.events = {p: [] for p in printers}
        self.online = set()
        self.sent = {}  # command id -> (printer, time sent)
        self.accepted = []
        self.accepted_later = []  # ACCEPTED of each printer's second and later START_PRINT
        self.first_answered = set()  # printers whose first START_PRINT (cold: first-use work) was answered
        self.accepted_legs = []  # (publish -> the daemon's answer, answer -> here) in s, from the event's ts
        self.finished = []
        self.rejected = []
        self.not_ready = []  # REJECTED for the printer's state (PRINT_DONE can come before it is ready): retried
        self.ids = itertools.count(1)
        self.paused = threading.Event()  # set while the broker is away: no new commands then
        self.to_start = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="farm-manager", clean_session=False)
        self.client.reconnect_delay_set(0.05, 0.5)
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.client.on_socket_open = lambda client, userdata, sock: sock.setsockopt(  # as the daemons do
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def on_connect(self, client, userdata, flags, reason, properties):
        client.subscribe([("octohost/+/telemetry", 0), ("octohost/+/event", 1), ("octohost/+/status", 1)])

    def on_message(self, client, userdata, message):
        now = time.monotonic()
        _, printer, kind = message.topic.split("/")
        if printer not in self.printers:
            return
        payload = json.loads(message.payload)
        with self.lock:
            if kind == "telemetry":
                self.telemetry[printer].append(now)
            elif kind == "status":
                (self.online.add if payload.get("online") else self.online.discard)(printer)
            else:
                self.events[printer].append(payload["seq"])
                sent = self.sent.get(payload.get("command_id"))
                if sent is not None:
                    reason = str((payload.get("data") or {}).get("reason", ""))
                    if payload["event"] == "REJECTED" and reason.startswith("wrong printer state"):
                        self.not_ready.append(now - sent[1])
                        self.to_start.add(printer)  # ask again at the next round
                    else:
                        if payload["event"] == "ACCEPTED":
                            if printer in self.first_answered:
                                self.accepted_later.append(now - sent[1])
                            self.first_answered.add(printer)
                            wall = time.time()
                            self.accepted_legs.append((payload["ts"] - sent[2], wall - payload["ts"], sent[1]))
                        {"ACCEPTED": self.accepted, "FINISHED": self.finished,
                         "REJECTED": self.rejected}.get(payload["event"], []).append(now - sent[1])
                if payload["event"] in ("PRINT_DONE", "PRINT_FAILED", "PRINT_CANCELLED"):
                    self.to_start.add(printer)

    def start_prints(self):
        """START_PRINT on every printer waiting for one (not while the broker is away)."""
        if self.paused.is_set():
            return
        with self.lock:
            waiting, self.to_start = self.to_start, set()
        for printer in sorted(waiting):
            command_id = f"start-{next(self.ids)}"
            with self.lock:
                self.sent[command_id] = (printer, time.monotonic(), time.time())
            self.client.publish(f"octohost/{printer}/command",
                                json.dumps({"id": command_id, "command": "START_PRINT", "args": {"path": "job.gcode"}}),
                                qos=1)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def wait_settled(processes, limit=30.0):
    """Until the daemons' start-up is over (together under 25% of a core for half a second, at most
    ``limit`` s): the farm is measured running, not starting; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(sum(p.cpu_times()[:2]) for p in processes)
        time.sleep(0.5)
        if (sum(sum(p.cpu_times()[:2]) for p in processes) - before) / 0.5 < 0.25:
            break
    return time.monotonic() - started


def sample_processes(processes, peaks, stop):
    while not stop.wait(0.5):
        for printer, proc in processes.items():
            try:
                peaks[printer] = max(peaks.get(printer, 0), proc.memory_info().rss)
            except psutil.Error:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--daemons", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the measured run")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the broker is stopped halfway; 0: none")
    parser.add_argument("--interval", type=float, default=1.0, help="mqtt.telemetryInterval of every daemon")
    parser.add_argument("--lines", type=int, default=600, help="moves per print")
    parser.add_argument("--ok-delay", type=float, default=0.02, help="virtual printer: seconds before each ok")
    parser.add_argument("--quick", action="store_true", help="3 daemons, 16 s, a 3 s outage")
    parser.add_argument("--broker-nagle", action="store_true",
                        help="leave mosquitto's set_tcp_nodelay at its default (false)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=YAML",
                        help="a setting of every daemon, e.g. serial.realtime=false (repeatable)")
    args = parser.parse_args()
    if args.quick:
        args.daemons, args.seconds, args.outage = 3, 16.0, 3.0
    root = tempfile.mkdtemp(prefix="octohost-farm-")
    # as a farm's broker should be set up (README): small messages (answers) leave at once
    nodelay = [] if args.broker_nagle else ["set_tcp_nodelay true"]
    broker = Mosquitto(os.path.join(root, "broker"), extra=nodelay).start()
    daemons = {}
    manager = None
    try:
        for index in range(args.daemons):
            printer, process = start_daemon(os.path.join(root, f"d{index:02d}"), index, broker.port, args)
            daemons[printer] = process
        manager = Manager(broker.port, set(daemons))
        deadline = time.monotonic() + 60 + 3 * args.daemons
        while len(manager.online) < len(daemons):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(manager.online)} of {len(daemons)} daemons came online")
            time.sleep(0.1)
        time.sleep(2)  # every printer connected to its virtual printer
        processes = {p: psutil.Process(proc.pid) for p, proc in daemons.items()}
        settled = wait_settled(list(processes.values()) + [psutil.Process(broker.process.pid)])
        broker_process = psutil.Process(broker.process.pid)
        cpu_before = {p: sum(proc.cpu_times()[:2]) for p, proc in processes.items()}
        broker_cpu_before = sum(broker_process.cpu_times()[:2])
        peaks, stop_sampling = {}, threading.Event()
        sampler = threading.Thread(target=sample_processes, args=(processes, peaks, stop_sampling), daemon=True)
        sampler.start()
        with manager.lock:
            manager.to_start = set(daemons)
        start = time.monotonic()
        outage = None
        broker_used = 0.0
        while time.monotonic() - start < args.seconds:
            elapsed = time.monotonic() - start
            if args.outage and outage is None and elapsed >= args.seconds / 2:
                manager.paused.set()
                broker_used += sum(broker_process.cpu_times()[:2]) - broker_cpu_before
                outage_start = time.monotonic()
                broker.stop()
                time.sleep(args.outage)
                broker.start()
                broker_process, broker_cpu_before = psutil.Process(broker.process.pid), 0.0
                outage = (outage_start, time.monotonic())
                while not manager.client.is_connected():
                    time.sleep(0.05)
                manager.paused.clear()
            manager.start_prints()
            time.sleep(0.05)
        end = time.monotonic()
        wall = end - start
        cpu = {p: 100 * (sum(proc.cpu_times()[:2]) - cpu_before[p]) / wall for p, proc in processes.items()}
        broker_cpu = 100 * (broker_used + sum(broker_process.cpu_times()[:2]) - broker_cpu_before) / wall
        stop_sampling.set()
        # stop the prints, then wait until every event published so far has arrived
        time.sleep(max(3 * args.interval, 2))
    finally:
        for process in daemons.values():
            process.terminate()
        for process in daemons.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        if manager is not None:
            manager.close()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)

    intervals, across, missing, received = [], [], 0, 0
    late = []  # (interval, seconds from the broker's return to its end) of intervals over 1.2x the setting
    for printer in sorted(daemons):
        times = [t for t in manager.telemetry[printer] if start <= t <= end]
        for a, b in zip(times, times[1:], strict=False):
            (across if outage and a <= outage[1] and b >= outage[0] else intervals).append(b - a)
            if b - a > 1.2 * args.interval and not (outage and a <= outage[1] and b >= outage[0]):
                late.append((b - a, b - outage[1] if outage else None))
        seqs = set(manager.events[printer])
        received += len(manager.events[printer])
        if seqs:
            missing += len(set(range(1, max(seqs) + 1)) - seqs)
    starts = len(manager.sent)
    print(f"farm: {args.daemons} daemons on one mosquitto, {wall:.0f} s, telemetry every {args.interval:g} s, "
          f"virtual printers at {args.ok_delay * 1000:g} ms per ok, {args.lines}-move prints"
          + (f"; broker stopped for {args.outage:g} s halfway" if args.outage else "")
          + (f"; daemon settings {' '.join(args.set)}" if args.set else ""))
    print(f"telemetry interval s: p50 {percentile(intervals, 0.5):.3f}  p99 {percentile(intervals, 0.99):.3f}  "
          f"max {max(intervals, default=float('nan')):.3f}  ({len(intervals)} intervals)")
    if late:
        after = sorted(round(since, 1) for _, since in late if since is not None and since >= 0)
        shown = f"{after[:10]}{' ...' if len(after) > 10 else ''}"
        print(f"telemetry intervals over {1.2 * args.interval:g} s: {len(late)}"
              + (f", {len(after)} of them ending after the broker's return, at +s {shown}" if outage else ""))
    if outage:
        print(f"telemetry gap across the outage s: max {max(across, default=float('nan')):.1f} "
              f"(outage {outage[1] - outage[0]:.1f} s; telemetry is not queued)")
    print(f"events: {received} received, {missing} missing seq numbers")
    print(f"START_PRINT: {starts} sent; ACCEPTED ms p50 {1000 * percentile(manager.accepted, 0.5):.0f}  "
          f"p99 {1000 * percentile(manager.accepted, 0.99):.0f}; FINISHED ms p50 "
          f"{1000 * percentile(manager.finished, 0.5):.0f}  p99 {1000 * percentile(manager.finished, 0.99):.0f}; "
          f"{len(manager.rejected)} rejected, {len(manager.not_ready)} retried (printer not ready yet)")
    later = manager.accepted_later
    print(f"  ACCEPTED of every START_PRINT but each printer's first (all start cold at once) ms p50 "
          f"{1000 * percentile(later, 0.5):.0f}  p99 {1000 * percentile(later, 0.99):.0f} ({len(later)} answers)")
    if manager.accepted_legs:
        there, back = ([1000 * leg[i] for leg in manager.accepted_legs] for i in (0, 1))
        print(f"  ACCEPTED in two legs (from the event's ts, 1 ms resolution): publish -> daemon's answer ms p50 "
              f"{percentile(there, 0.5):.0f} p99 {percentile(there, 0.99):.0f}; answer -> manager ms p50 "
              f"{percentile(back, 0.5):.0f} p99 {percentile(back, 0.99):.0f}")
        slowest = sorted(manager.accepted_legs, key=lambda leg: -(leg[0] + leg[1]))[:5]
        print("  slowest ACCEPTED ms (there + back, sent at +s from the start"
              + (f", the broker back at +{outage[1] - start:.1f} s)" if outage else ")") + ": "
              + ", ".join(f"{1000 * a:.0f}+{1000 * b:.0f} at +{t - start:.1f}" for a, b, t in slowest))
    print(f"daemon CPU % of a core: mean {statistics.mean(cpu.values()):.1f}  max {max(cpu.values()):.1f}; "
          f"peak RSS MiB: mean {statistics.mean(peaks.values()) / 2**20:.1f}  max {max(peaks.values()) / 2**20:.1f}; "
          f"broker CPU {broker_cpu:.1f}%")
    print(f"machine: {psutil.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; the daemons' start-up "
          f"settled {settled:.1f} s after the last came online")
    if missing:
        raise SystemExit("events were lost")


if __name__ == "__main__":
    main()
