"""A 1 GB upload streams to disk: the server process's memory stays flat.

The body is generated on the fly (nothing is written to disk by the test), sent with a
Content-Length over a plain socket; the server runs as its own process so psutil measures it
alone. Run with ``-s`` to see the measured figures.
"""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from octohost.access.users import UserManager

SIZE = 1024 ** 3
CHUNK = b"G1 X10.000 Y10.000 E0.01000 ; streamed upload test line\n" * 1170


@pytest.mark.e2e
def test_one_gigabyte_upload_keeps_rss_flat(tmp_path):
    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "password1", admin=True)
    key = manager.get_or_create_api_key("admin")
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "serve",
                                "--host", "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=open(tmp_path / "server.log", "w"), text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        port = int(process.stdout.readline().split("http://127.0.0.1:")[1].split("/")[0])
        server = psutil.Process(process.pid)
        baseline = server.memory_info().rss
        peak = [baseline]
        done = threading.Event()

        def sample():
            while True:
                peak[0] = max(peak[0], server.memory_info().rss)
                if done.wait(0.05):  # a sample every 50 ms until the upload is over
                    return

        sampler = threading.Thread(target=sample)
        sampler.start()
        boundary = "octohost-rss-boundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.gcode\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n"
                f"\r\n--{boundary}--\r\n").encode()
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.putrequest("POST", "/api/files/local")
        connection.putheader("X-Api-Key", key)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + SIZE + len(tail)))
        connection.endheaders()
        connection.send(head)
        remaining = SIZE
        while remaining:
            piece = CHUNK[:remaining]
            connection.send(piece)
            remaining -= len(piece)
        connection.send(tail)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        assert response.status == 201, body
        assert os.path.getsize(tmp_path / "uploads" / "huge.gcode") == SIZE
        growth = peak[0] - baseline
        print(f"\n1 GiB upload: baseline RSS {baseline / 2**20:.1f} MiB, peak {peak[0] / 2**20:.1f} MiB, "
              f"growth {growth / 2**20:.1f} MiB, {SIZE / 2**20 / elapsed:.0f} MiB/s")
        assert growth < 64 * 2**20
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
