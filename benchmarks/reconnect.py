"""Reconnect time after a re-plug: how long the daemon takes to be operational again once the
printer's port is back.

    python benchmarks/reconnect.py [--rounds 10] [--quick] [--seed 1] [--set serial.reconnect.initialDelay=0.5]

Runs `octohost serve` in its own process and `octohost virtual --pty --link PATH` in another (the
port name stays the same across restarts, as a /dev/serial/by-id name does). Each round pulls the
cable (stops the virtual printer), waits until the daemon reports status 200 (reconnecting), waits
a random further 0-6 s (seeded) so the re-plug lands anywhere in the backoff cycle, re-plugs (starts
the virtual printer again) and times, by polling GET /api/machine every 10 ms:

- detect: from pulling the cable to status 200;
- reconnect: from the port existing again (the link's own timestamp) to status 100 (operational);
- attempts: reconnection attempts the daemon made in the round.

Rounds are `serial.reconnect.stableSeconds` + 0.5 s apart, so each starts with a closed circuit.
Prints measured figures only.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import yaml

from octohost.access.users import UserManager

USER, PASSWORD = "bench", "bench-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_virtual(basedir, link):
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", basedir, "virtual", "--pty",
                                "--link", link], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if process.stdout.readline().strip() != link:
        raise SystemExit("the virtual printer did not start")
    return process


def stop(process):
    process.terminate()
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def start_daemon(basedir, port):
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", basedir, "serve", "--host",
                                "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/version", timeout=5)
            return process
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the daemon did not start within 30 s")


def parse_set(values):
    settings = {}
    for item in values:
        key, _, value = item.partition("=")
        node = settings
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-wait", type=float, default=6.0, help="longest extra wait before the re-plug, s")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a daemon setting")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="octohost-reconnect-") as tmp:
        basedir, virtual_dir = os.path.join(tmp, "base"), os.path.join(tmp, "virtual")
        os.makedirs(basedir)
        link = os.path.join(tmp, "ttyPRINTER")
        config = parse_set(args.set)
        config.setdefault("serial", {})["additionalPorts"] = [link]
        with open(os.path.join(basedir, "config.yaml"), "w") as f:
            yaml.safe_dump(config, f)
        users = UserManager(os.path.join(basedir, "users.yaml"))
        users.add_user(USER, PASSWORD, admin=True)
        key = users.get_or_create_api_key(USER)
        stable = float(config.get("serial", {}).get("reconnect", {}).get("stableSeconds", 10.0))
        port = free_port()
        virtual = start_virtual(virtual_dir, link)
        daemon = start_daemon(basedir, port)
        session = requests.Session()
        session.headers["X-Api-Key"] = key
        base = f"http://127.0.0.1:{port}"

        def machine():
            return session.get(base + "/api/machine", timeout=10).json()

        def wait_code(code, timeout=120):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                body = machine()
                if body["status"]["code"] == code:
                    return time.monotonic(), body
                time.sleep(0.01)
            raise SystemExit(f"status {code} not reached; last {body['status']} {body['statusText']!r}")

        def attempts():
            metrics = session.get(base + "/metrics", timeout=10).text
            line = next(line for line in metrics.splitlines() if line.startswith("octohost_reconnect_attempts_total "))
            return int(float(line.split()[1]))

        try:
            session.post(base + "/api/connection", json={"command": "connect", "port": link, "baudrate": 115200},
                         timeout=10).raise_for_status()
            wait_code(100)
            print(f"reconnect after re-plug, {rounds} rounds, settings {config.get('serial', {})}")
            print(f"{'round':>5} {'extra wait s':>12} {'detect s':>9} {'reconnect s':>12} {'attempts':>9}")
            detects, reconnects = [], []
            for index in range(rounds):
                before = attempts()
                pulled = time.monotonic()
                stop(virtual)
                noticed, _ = wait_code(200)
                extra = rng.uniform(0, args.max_wait)
                time.sleep(extra)
                virtual = start_virtual(virtual_dir, link)
                plugged = os.lstat(link).st_mtime  # when the link (the port name) appeared, wall clock
                wait_code(100)
                ready = time.time()
                detects.append(noticed - pulled)
                reconnects.append(ready - plugged)
                print(f"{index + 1:>5} {extra:>12.2f} {noticed - pulled:>9.3f} {ready - plugged:>12.3f} "
                      f"{attempts() - before:>9}")
                # let the connection count as stable, or the next round starts deeper in the backoff
                time.sleep(stable + 0.5)

            def summary(values):
                ordered = sorted(values)
                p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
                return f"median {statistics.median(values):.3f} s, p90 {p90:.3f} s, max {max(values):.3f} s"

            print(f"detect (cable pulled -> status 200): {summary(detects)}")
            print(f"reconnect (port back -> operational): {summary(reconnects)}")
        finally:
            stop(virtual)
            daemon.terminate()
            daemon.wait(timeout=20)


if __name__ == "__main__":
    main()
