"""A real OctoPrint 1.11.8 to compare octohost against (tests/server/test_octoprint_differential.py).

OctoPrint lives in its own virtual environment, outside the project's: ``$OCTOHOST_OCTOPRINT_VENV``
or ``~/.cache/octohost-tests/octoprint-1.11.8``, which ``.ci/run`` creates (``pip install
octoprint==1.11.8``) and keeps between runs. Outside CI the differential tests skip when it is
missing; under ``CI=true`` they fail, so CI cannot pass without comparing.

OctoPrint runs on 127.0.0.1 with its virtual printer and with everything that would call out
switched off in its config: the online check, the plugin blacklist, and the bundled plugins whose
only job is talking to the internet (announcements, software update, tracking, error tracking) or
that octohost does not offer (backup, achievements, health check, G-code viewer). Discovery stays
on (its settings are compared) but announces on the loopback interface only. It is not run under
``unshare -n``: the test process must reach it on 127.0.0.1, and a private network namespace would
need a bridge or the whole test run inside the namespace; with its online features off it makes
no outside calls anyway.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

VERSION = "1.11.8"
DEFAULT_VENV = Path.home() / ".cache" / "octohost-tests" / f"octoprint-{VERSION}"
START_TIMEOUT = 90

CONFIG = {
    "server": {"firstRun": False, "onlineCheck": {"enabled": False}, "pluginBlacklist": {"enabled": False}},
    "devel": {"virtualPrinter": {"enabled": True}},
    "plugins": {
        "_disabled": ["announcements", "softwareupdate", "tracking", "errortracking", "backup",
                      "achievements", "health_check", "gcodeviewer"],
        "discovery": {"interfaces": ["lo"]},
    },
}


def venv_path() -> Path:
    return Path(os.environ.get("OCTOHOST_OCTOPRINT_VENV") or DEFAULT_VENV)


def missing_reason() -> "str | None":
    """Why the reference cannot run here, or None when it can."""
    executable = venv_path() / "bin" / "octoprint"
    if not executable.exists():
        return (f"OctoPrint {VERSION} is not installed in {venv_path()} (.ci/run prepares it: "
                f"python3 -m venv DIR && DIR/bin/pip install octoprint=={VERSION})")
    return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _password_hash(password):
    """An argon2 hash as OctoPrint stores it, made by the reference's own argon2 (fast; the CLI's
    ``user add`` starts the whole of OctoPrint and takes seconds per user)."""
    python = venv_path() / "bin" / "python"
    code = "import argon2, sys; print(argon2.PasswordHasher().hash(sys.argv[1]))"
    return subprocess.run([str(python), "-c", code, password], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


class Reference:
    """One running OctoPrint: its URL and the API keys of its users (the same names as octohost's)."""

    def __init__(self, basedir, users):
        """``users``: {name: (groups, api_key)}; every user gets ``password``."""
        self.basedir = Path(basedir)
        self.users = users
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = {name: key for name, (_, key) in users.items()}
        self.process = None
        self.log_path = self.basedir / "serve.log"

    def prepare(self, password):
        self.basedir.mkdir(parents=True, exist_ok=True)
        (self.basedir / "config.yaml").write_text(json.dumps(CONFIG))  # JSON is YAML
        hashed = _password_hash(password)
        records = {"_version": 2}
        for name, (groups, key) in self.users.items():
            records[name] = {"active": True, "apikey": key, "groups": list(groups), "password": hashed,
                             "permissions": [], "roles": ["user"] + (["admin"] if "admins" in groups else []),
                             "settings": {}}
        (self.basedir / "users.yaml").write_text(json.dumps(records))

    def start(self):
        executable = venv_path() / "bin" / "octoprint"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONOPTIMIZE")}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(executable), "--basedir", str(self.basedir), "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--iknowwhatimdoing"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            # not the repository: OctoPrint runs its analysis as `python -m octoprint`, which puts the
            # working folder first on the path, where octohost's own `octoprint` package would win
            cwd=str(self.basedir))
        deadline = time.monotonic() + START_TIMEOUT
        headers = {"X-Api-Key": next(iter(self.keys.values()))}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"OctoPrint exited with {self.process.returncode}: {self.tail()}")
            try:
                if requests.get(self.url + "/api/version", headers=headers, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"OctoPrint did not answer within {START_TIMEOUT} s: {self.tail()}")

    def tail(self, lines=20):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self._log.close()


def remove(basedir):
    shutil.rmtree(basedir, ignore_errors=True)
