"""``octohost serve`` as a real process: prints the URL, serves, stops cleanly on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests
import websocket

from octohost.access.users import UserManager

from support import wait_until


def spawn(basedir, *args, **env):
    return subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(basedir), "serve",
                             "--host", "127.0.0.1", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1", **env))


@pytest.mark.e2e
def test_serve_virtual_then_sigterm_exits_zero(tmp_path):
    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "password1", admin=True)
    key = manager.get_or_create_api_key("admin")
    process = spawn(tmp_path, "--port", "0", "--virtual")
    try:
        line = process.stdout.readline()
        assert "open http://127.0.0.1:" in line
        url = line.strip().split("open ")[1].split(" ")[0].rstrip("/")
        version = requests.get(url + "/api/version", headers={"X-Api-Key": key}, timeout=10).json()
        assert version["text"].startswith("OctoPrint")
        last = {}

        def operational():
            last.update(requests.get(url + "/api/connection", headers={"X-Api-Key": key}, timeout=10).json())
            return last["current"]["state"] == "Operational"

        wait_until(operational, interval=0.1, message=lambda: f"Operational; last {last.get('current')}")
        assert last["current"]["port"] == "VIRTUAL"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"octohost base folder: {tmp_path}\nsettings file: {tmp_path / 'config.yaml'}\n" in stderr
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


@pytest.mark.e2e
def test_a_print_as_the_service_runs_it_without_docstrings_and_asserts(tmp_path):
    """The systemd unit sets PYTHONOPTIMIZE=2: everything a print needs must work that way too."""
    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "password1", admin=True)
    headers = {"X-Api-Key": manager.get_or_create_api_key("admin")}
    process = spawn(tmp_path, "--port", "0", "--virtual", PYTHONOPTIMIZE="2")
    try:
        url = process.stdout.readline().strip().split("open ")[1].split(" ")[0].rstrip("/")
        api = url + "/api"
        wait_until(lambda: requests.get(api + "/connection", headers=headers, timeout=10)
                   .json()["current"]["state"] == "Operational")
        socket_client = websocket.create_connection(url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
        assert "connected" in json.loads(socket_client.recv())
        gcode = "".join(f"G1 X{i} Y{i} F3000\n" for i in range(50))
        upload = requests.post(api + "/files/local", headers=headers, timeout=10,
                               files={"file": ("cube.gcode", gcode)}, data={"select": "true", "print": "true"})
        assert upload.status_code == 201, upload.text
        history = wait_until(lambda: [job for job in requests.get(api + "/history", headers=headers, timeout=10)
                                      .json()["jobs"] if job["result"]])
        assert history[0]["path"] == "cube.gcode" and history[0]["result"] == "done"
        socket_client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


SWITCH_PROBE = """
import os, signal, sys, threading
from octohost.server.app import run
from octohost.settings import Settings

settings = Settings(sys.argv[1])
settings.set("server.switchInterval", 0.0007)
print("before", sys.getswitchinterval(), flush=True)

def probe():
    print("serving", sys.getswitchinterval(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Timer(1.0, probe).start()
sys.exit(run(settings, host="127.0.0.1", port=0))
"""


@pytest.mark.e2e
def test_the_daemon_shortens_the_interpreter_switch_interval(tmp_path):
    """``server.switchInterval`` applies to the serving process (the serial loops wait less for the
    interpreter lock while web threads are busy)."""
    result = subprocess.run([sys.executable, "-c", SWITCH_PROBE, str(tmp_path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    values = dict(line.split() for line in result.stdout.splitlines() if line.startswith(("before", "serving")))
    assert float(values["before"]) == 0.005
    assert float(values["serving"]) == 0.0007


@pytest.mark.e2e
def test_start_once_in_safe_mode_then_normally(tmp_path):
    """What the restart_safe system command leaves behind: the next start is in safe mode and
    clears the flag, so the one after is normal again."""
    from octohost.settings import Settings

    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "password1", admin=True)
    key = manager.get_or_create_api_key("admin")
    Settings(str(tmp_path)).set("server.startOnceInSafeMode", True)
    process = spawn(tmp_path, "--port", "0")
    try:
        url = process.stdout.readline().strip().split("open ")[1].split(" ")[0].rstrip("/")
        server = requests.get(url + "/api/server", headers={"X-Api-Key": key}, timeout=10).json()
        assert server["safemode"] == "flag"
        assert Settings(str(tmp_path)).get("server.startOnceInSafeMode") is False
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
