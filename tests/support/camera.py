"""A test camera: an HTTP server on 127.0.0.1 serving a different JPEG at each snapshot request.

The JPEGs are made once by ffmpeg (its ``testsrc`` pattern, one distinct picture per second of
it), so a rendered video really has changing frames. ``behaviour`` makes the camera misbehave:
``"error"`` answers 500, ``"huge"`` sends more bytes than any limit, ``"slow"`` drips bytes.
"""

from __future__ import annotations

import glob
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WIDTH, HEIGHT = 160, 120


def make_jpegs(folder: str, count: int = 12) -> list[bytes]:
    """``count`` distinct JPEGs (WIDTH x HEIGHT) rendered by ffmpeg into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={WIDTH}x{HEIGHT}:rate=1", "-frames:v", str(count),
                    os.path.join(folder, "frame%02d.jpg")], check=True, timeout=60)
    frames = [open(path, "rb").read() for path in sorted(glob.glob(os.path.join(folder, "frame*.jpg")))]
    assert len(frames) == count and len(set(frames)) == count
    return frames


class TestCamera:
    __test__ = False  # not a test class

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.requests = 0
        self.behaviour = "ok"
        self._lock = threading.Lock()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                with camera._lock:
                    camera.requests += 1
                    number = camera.requests
                    behaviour = camera.behaviour
                if self.path.startswith("/stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"stream")
                    return
                if behaviour == "error":
                    self.send_error(500, "camera broken")
                    return
                if behaviour == "huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.end_headers()
                    try:
                        for _ in range(64):
                            self.wfile.write(b"\xff" * 65536)
                    except OSError:
                        pass
                    return
                body = camera.frames[(number - 1) % len(camera.frames)]
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if behaviour == "slow":
                    try:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.05)  # a camera that drips bytes: the client's deadline must end it
                    except OSError:
                        pass
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.snapshot_url = self.url + "/snapshot.jpg"
        self.stream_url = self.url + "/stream"
        self._thread = threading.Thread(target=self.server.serve_forever, name="test-camera", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
