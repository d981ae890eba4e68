"""``octohost serve`` as a real process: prints the URL, serves, stops cleanly on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from octohost.access.users import UserManager


def spawn(basedir, *args):
    return subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(basedir), "serve",
                             "--host", "127.0.0.1", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))


@pytest.mark.e2e
def test_serve_virtual_then_sigterm_exits_zero(tmp_path):
    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "pw", admin=True)
    key = manager.get_or_create_api_key("admin")
    process = spawn(tmp_path, "--port", "0", "--virtual")
    try:
        line = process.stdout.readline()
        assert "open http://127.0.0.1:" in line
        url = line.strip().split("open ")[1].split(" ")[0].rstrip("/")
        assert requests.get(url + "/api/version", timeout=10).json()["text"].startswith("OctoPrint")
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            state = requests.get(url + "/api/connection", headers={"X-Api-Key": key}, timeout=10).json()
            if state["current"]["state"] == "Operational":
                break
            time.sleep(0.1)
        assert state["current"]["port"] == "VIRTUAL"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Listening on http://127.0.0.1:" in stderr
    assert "Shutting down" in stderr


def test_port_in_use_is_a_clear_error(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        process = spawn(tmp_path, "--port", str(blocker.getsockname()[1]))
        _, stderr = process.communicate(timeout=30)
    finally:
        blocker.close()
    assert process.returncode == 2
    assert "Error: cannot listen on 127.0.0.1:" in stderr
