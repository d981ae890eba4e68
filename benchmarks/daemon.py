"""The whole daemon while it prints: streaming rate with and without 20 push clients, peak RSS,
idle CPU with only temperature polling.

    python benchmarks/daemon.py [--lines 20000] [--rounds 3] [--clients 20] [--idle-seconds 120] [--optimize 2]

Starts `octohost serve` in its own process (127.0.0.1, a free port, a temporary base folder) and
the streaming benchmark's firmware simulator (benchmarks/sim/firmware.py) on a pseudo-terminal,
connects the daemon to it through the REST API, uploads a file of short G1 moves, and prints it
`--rounds` times without push clients and as often with `--clients` raw websocket clients
authenticated and reading, alternating. RSS and CPU are the daemon process's alone. Prints
measured figures only. The daemon runs as the systemd unit runs it, with PYTHONOPTIMIZE=2
(``--optimize 0`` for a plain interpreter). The kernel counts CPU time in 10 ms ticks, so the
idle figure is measured over two minutes: over 30 s one tick is already 0.03% of a core.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import requests
import websocket

from octohost.access.users import UserManager
from octohost.settings import Settings

HERE = os.path.dirname(os.path.abspath(__file__))
USER, PASSWORD = "bench", "bench-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(stats_path):
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "sim", "firmware.py"), "--stats", stats_path],
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def start_daemon(basedir, port, optimize):
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", basedir, "serve",
                                "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONOPTIMIZE=str(optimize)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/version", timeout=5)
            return process
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a busy machine
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the daemon did not start within 30 s")


class Api:
    def __init__(self, port, key):
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = key

    def get(self, path):
        response = self.session.get(self.base + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path, **kwargs):
        response = self.session.post(self.base + path, timeout=60, **kwargs)
        if response.status_code >= 400:
            raise SystemExit(f"POST {path}: {response.status_code} {response.text}")
        return response

    def state(self):
        return self.get("/api/job")["state"]

    def wait_state(self, wanted, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state().startswith(wanted):
                return
            time.sleep(0.05)
        raise SystemExit(f"state stayed {self.state()!r}, expected {wanted!r}")

    def wait_print_started(self, timeout=10):
        """Until the print runs, or has already run: a short unthrottled print can end between two polls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get("/api/job")
            if job["state"].startswith(("Printing", "Finishing")) or (job["progress"]["completion"] or 0) >= 100:
                return
            time.sleep(0.05)
        raise SystemExit(f"state stayed {self.state()!r}, expected the print to start")


class PushClient(threading.Thread):
    """A websocket client that authenticates, then reads every byte the server sends.

    After the handshake it drains the socket without parsing frames: the server's work is the
    same, and the clients (which on a real network run on other machines) take as little as
    possible of the two cores the daemon and the simulator need.
    """

    def __init__(self, port, session):
        super().__init__(daemon=True)
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/sockjs/websocket", timeout=10,
                                              skip_utf8_validation=True)
        self.ws.send(json.dumps({"auth": f"{USER}:{session}"}))
        self.received = 0

    def run(self):
        sock = self.ws.sock
        try:
            while True:
                data = sock.recv(1 << 16)
                if not data:
                    return
                self.received += len(data)
        except OSError:
            return

    def close(self):
        self.ws.close()


def mib_mb(size):
    return f"{size / 2**20:.1f} MiB ({size / 1e6:.1f} MB)"


def timed_print(api, daemon, name):
    peak_rss = daemon.memory_info().rss
    cpu_before = sum(daemon.cpu_times()[:2])
    start = time.monotonic()
    api.post(f"/api/files/local/{name}", json={"command": "select", "print": True})
    api.wait_print_started(timeout=10)
    while True:
        peak_rss = max(peak_rss, daemon.memory_info().rss)
        if api.state() == "Operational":
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    return elapsed, sum(daemon.cpu_times()[:2]) - cpu_before, peak_rss


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=120.0)
    parser.add_argument("--optimize", type=int, choices=(0, 1, 2), default=2,
                        help="PYTHONOPTIMIZE for the daemon (2, as contrib/octohost.service runs it)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="octohost-bench-") as basedir:
        users = UserManager(os.path.join(basedir, "users.yaml"))
        users.add_user(USER, PASSWORD, admin=True)
        key = users.get_or_create_api_key(USER)
        stats_path = os.path.join(basedir, "sim-stats.json")
        simulator, pty_path = start_simulator(stats_path)
        Settings(basedir).set("serial.additionalPorts", [pty_path])  # only offered ports connect
        port = free_port()
        daemon_process = start_daemon(basedir, port, args.optimize)
        daemon = psutil.Process(daemon_process.pid)
        clients = []
        try:
            api = Api(port, key)
            api.post("/api/connection", json={"command": "connect", "port": pty_path, "baudrate": 115200})
            api.wait_state("Operational", timeout=30)

            time.sleep(2)
            cpu_before = sum(daemon.cpu_times()[:2])
            time.sleep(args.idle_seconds)
            idle_percent = (sum(daemon.cpu_times()[:2]) - cpu_before) / args.idle_seconds * 100
            idle_rss = daemon.memory_info().rss

            body = "".join(f"G1 X{10 + i % 50}.{i % 10} Y{20 + i % 30}.5 E{i * 0.01:.4f} F3000\n"
                           for i in range(args.lines))
            name = "daemon-bench.gcode"
            api.post("/api/files/local", files={"file": (name, body.encode())})

            login = api.session.post(api.base + "/api/login", json={"passive": True}, timeout=10).json()
            results = {0: [], args.clients: []}
            for _ in range(args.rounds):
                for count in (0, args.clients):
                    clients = [PushClient(port, login["session"]) for _ in range(count)]
                    for client in clients:
                        client.start()
                    time.sleep(1)
                    results[count].append(timed_print(api, daemon, name))
                    received = sum(c.received for c in clients)
                    for client in clients:
                        client.close()
                    clients = []
                    if count:
                        results[count][-1] += (received,)
        finally:
            for client in clients:
                client.close()
            daemon_process.terminate()
            daemon_process.wait(20)
            simulator.terminate()
            simulator.wait(10)

        print(f"daemon with PYTHONOPTIMIZE={args.optimize}, idle, connected, temperature polling only: "
              f"{idle_percent:.3f}% of a core over {args.idle_seconds:.0f} s, RSS {mib_mb(idle_rss)}")
        print(f"{args.lines:,}-line print through the daemon (REST API start to Operational), "
              f"{args.rounds} rounds each:")
        for count, runs in results.items():
            rates = [args.lines / r[0] for r in runs]
            cpu = [r[1] / args.lines * 1000 for r in runs]
            rss = max(r[2] for r in runs)
            extra = (f", {statistics.median(r[3] for r in runs) / 2**20:,.1f} MiB pushed to the clients per print"
                     if count else "")
            print(f"  {count:>2} push clients: median {statistics.median(rates):,.0f} lines/s "
                  f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}), daemon CPU "
                  f"{statistics.median(cpu):.3f} s per 1,000 lines, peak RSS {mib_mb(rss)}{extra}")
        none = statistics.median(args.lines / r[0] for r in results[0])
        many = statistics.median(args.lines / r[0] for r in results[args.clients])
        print(f"  rate with {args.clients} clients relative to none: {many / none * 100:.1f}%")


if __name__ == "__main__":
    main()
