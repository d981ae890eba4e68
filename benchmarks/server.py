"""Server figures: streamed upload (throughput, server RSS), a print during an upload, API latency,
push fan-out beside a stalled client.

    python benchmarks/server.py [--upload-mib 1024]

Prints measured figures only; asserts nothing.
"""

import argparse
import http.client
import json
import os
import signal
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
from octohost.server.app import Server
from octohost.settings import Settings

LINE = b"G1 X10.000 Y10.000 E0.01000 ; benchmark upload line\n"


def prepare_basedir():
    basedir = tempfile.mkdtemp(prefix="octohost-bench-")
    manager = UserManager(os.path.join(basedir, "users.yaml"))
    manager.add_user("admin", "bench-password", admin=True)
    return basedir, manager.get_or_create_api_key("admin")


def start_process(*extra):
    basedir, key = prepare_basedir()
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", basedir, "serve", "--host", "127.0.0.1",
                                "--port", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    port = int(process.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0])
    return process, port, key


def stream_upload(port, key, size, name="bench.gcode", stop=None, progress=None):
    """POST ``size`` bytes of G-code generated on the fly as a multipart upload; the HTTP status.

    ``stop`` (an Event) ends it early by dropping the connection (returns None; the server deletes
    what it had received); ``progress(n)`` is told about each chunk sent.
    """
    chunk = LINE * (2**20 // len(LINE))
    head = f"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n".encode()
    tail = b"\r\n--b--\r\n"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", "/api/files/local")
    connection.putheader("X-Api-Key", key)
    connection.putheader("Content-Type", "multipart/form-data; boundary=b")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    remaining = size
    while remaining:
        if stop is not None and stop.is_set():
            connection.close()
            return None
        piece = chunk[:remaining]
        connection.send(piece)
        remaining -= len(piece)
        if progress is not None:
            progress(len(piece))
    connection.send(tail)
    return connection.getresponse().status


def upload_figures(size_mib):
    process, port, key = start_process()
    try:
        server = psutil.Process(process.pid)
        baseline = peak = server.memory_info().rss
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        size = size_mib * 2**20
        started = time.monotonic()
        status = stream_upload(port, key, size)
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        print(f"upload {size_mib} MiB: HTTP {status}, {size_mib / elapsed:.0f} MiB/s, server RSS "
              f"{baseline / 2**20:.1f} -> peak {peak / 2**20:.1f} MiB (+{(peak - baseline) / 2**20:.1f} MiB)")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def print_during_upload(size_mib, lines=20000):
    """Duration of the same virtual print, alone and while a large upload streams in."""
    process, port, key = start_process("--virtual")
    session = requests.Session()
    session.headers["X-Api-Key"] = key
    url = f"http://127.0.0.1:{port}"
    try:
        while session.get(url + "/api/connection", timeout=10).json()["current"]["state"] != "Operational":
            time.sleep(0.1)
        job = b"".join(b"G1 X%d Y%d F6000\n" % (i % 100, i % 80) for i in range(lines))
        session.post(url + "/api/files/local", files={"file": ("job.gcode", job)}, timeout=30)

        def timed_print():
            session.post(url + "/api/files/local/job.gcode", json={"command": "select", "print": True}, timeout=10)
            started = time.monotonic()
            while not session.get(url + "/api/job", timeout=10).json()["state"].startswith("Printing"):
                time.sleep(0.01)
            while session.get(url + "/api/job", timeout=10).json()["state"] != "Operational":
                time.sleep(0.05)
            return time.monotonic() - started

        alone = timed_print()
        uploader = threading.Thread(target=stream_upload, args=(port, key, size_mib * 2**20, "big.gcode"))
        uploader.start()
        during = timed_print()
        uploader.join()
        print(f"virtual print of {lines} moves: {alone:.2f} s alone, {during:.2f} s during a {size_mib} MiB upload")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def api_latency(server, key, count=300):
    session = requests.Session()
    session.headers["X-Api-Key"] = key
    times = []
    for _ in range(count):
        started = time.perf_counter()
        session.get(server.url + "api/job", timeout=10)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"GET /api/job x{count}: median {statistics.median(times):.2f} ms, p95 {times[int(count * 0.95)]:.2f} ms")


def push_fanout(server, key, stalled, messages=500):
    session = requests.post(server.url + "api/login", json={"passive": True}, headers={"X-Api-Key": key},
                            timeout=10).json()
    auth = json.dumps({"auth": f"{session['name']}:{session['session']}"})
    sockets = []
    if stalled:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /sockjs/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        sockets.append(sock)
    reader = websocket.create_connection(server.url.replace("http", "ws") + "sockjs/websocket", timeout=30,
                                         skip_utf8_validation=True)
    reader.recv()
    reader.send(auth)
    while "history" not in reader.recv():
        pass
    blob = "x" * 16 * 1024
    started = time.perf_counter()
    for index in range(messages):
        server.context.push.broadcast_plugin("bench", {"index": index, "blob": blob})
    while True:
        message = json.loads(reader.recv())
        if message.get("plugin", {}).get("data", {}).get("index") == messages - 1:
            break
    elapsed = time.perf_counter() - started
    print(f"push {messages} x 16 KiB to one reader{' beside a stalled client' if stalled else ''}: "
          f"{elapsed * 1000:.0f} ms ({messages / elapsed:.0f} msg/s)")
    reader.close()
    for sock in sockets:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upload-mib", type=int, default=1024)
    args = parser.parse_args()
    upload_figures(args.upload_mib)
    print_during_upload(args.upload_mib)
    basedir, key = prepare_basedir()
    server = Server(Settings(basedir), host="127.0.0.1", port=0).start_in_thread()
    try:
        api_latency(server, key)
        push_fanout(server, key, stalled=False)
        push_fanout(server, key, stalled=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
