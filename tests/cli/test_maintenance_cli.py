"""``octohost backup``, ``restore``, ``systeminfo`` and the one-daemon-per-base-folder lock, for real."""

import os
import signal
import socket
import subprocess
import sys
import zipfile

import pytest
import requests
import yaml
from test_live_server import cli, serving

pytestmark = pytest.mark.e2e


def run(basedir, *args):
    return subprocess.run([sys.executable, "-m", "octohost", "--basedir", str(basedir), *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_backup_and_restore_from_the_shell(tmp_path):
    base = tmp_path / "base"
    cli(base, "user", "add", "admin", "--password", "secret-pw", "--admin")
    cli(base, "config", "set", "serial.baudrate", "250000")
    archive = cli(base, "backup", "--path", str(tmp_path / "kept"))
    assert archive.startswith(str(tmp_path / "kept")) and zipfile.is_zipfile(archive)

    cli(base, "config", "set", "serial.baudrate", "57600")
    cli(base, "user", "remove", "admin")
    out = cli(base, "restore", archive)
    assert "restored" in out
    assert cli(base, "config", "get", "serial.baudrate") == "250000"
    assert "admin" in cli(base, "user", "list")


def test_restore_refuses_a_running_daemon_and_a_second_serve_refuses_the_folder(tmp_path):
    base = tmp_path / "base"
    archive = cli(base, "backup")
    with serving(base):
        result = run(base, "restore", archive)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines()[-1].startswith("Error: an octohost daemon (process ")
        second = run(base, "serve", "--port", "0")
        assert second.returncode == 2
        assert "already running on this base folder" in second.stderr.strip().splitlines()[-1]


def test_bad_archives_and_choices_end_in_one_error_line(tmp_path):
    base = tmp_path / "base"
    (tmp_path / "junk.zip").write_bytes(b"junk")
    for args in (("restore", str(tmp_path / "junk.zip")), ("restore", str(tmp_path / "missing.zip")),
                 ("backup", "--exclude", "logs")):
        result = run(base, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().splitlines()[-1].startswith("Error:"), (args, result.stderr)


def test_systeminfo_prints_and_bundles(tmp_path):
    base = tmp_path / "base"
    cli(base, "config", "set", "server.secretKey", "do-not-leak")
    printed = cli(base, "systeminfo")
    assert "octohost.version:" in printed and "env.python.version:" in printed
    bundle = tmp_path / "report.zip"
    assert cli(base, "systeminfo", "--bundle", str(bundle)) == str(bundle)
    with zipfile.ZipFile(bundle) as z:
        settings = yaml.safe_load(z.read("settings.yaml"))
    assert settings["server"]["secretKey"] == "<masked>"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_restore_from_the_api_restarts_the_daemon_on_the_restored_files(tmp_path):
    base = tmp_path / "base"
    cli(base, "user", "add", "admin", "--password", "secret-pw", "--admin")
    key = cli(base, "user", "apikey", "admin")
    cli(base, "config", "set", "appearance.name", "before")
    archive = cli(base, "backup")
    cli(base, "config", "set", "appearance.name", "after")
    headers = {"X-Api-Key": key}
    port = free_port()  # a fixed port: the restarted daemon listens on the same one
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(base), "serve", "--host",
                                "127.0.0.1", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = f"http://127.0.0.1:{port}"
    try:
        assert "open http://" in process.stdout.readline()
        pid = int(open(os.path.join(base, "octohost.pid")).read())
        with open(archive, "rb") as f:
            answer = requests.post(url + "/plugin/backup/restore", headers=headers,
                                   files={"file": ("b.zip", f)}, timeout=60)
        assert answer.status_code == 200, answer.text
        # the restarted daemon says so again on its standard output
        assert "open http://" in process.stdout.readline()
        served = requests.get(url + "/api/settings", headers=headers, timeout=10).json()["appearance"]["name"]
        assert served == "before"
        assert process.pid == pid == int(open(os.path.join(base, "octohost.pid")).read())  # the same process
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
