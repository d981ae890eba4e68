"""Installing octohost as a systemd service: the plan of ``octohost install-service``.

The service runs as its own system account (default ``octohost``, home ``/var/lib/octohost``),
in the ``dialout`` group that owns serial ports, from a virtual environment in that home
installed from a *wheel*, so the service account never reads or writes the person's clone. The
plan is a list of :class:`Step`, each skipped when already done, so running it twice (an
upgrade: a new wheel) is safe; ``--dry-run`` prints it.
"""

from __future__ import annotations

import dataclasses
import glob
import grp
import json
import os
import pwd
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata

UNIT = """\
[Unit]
Description=octohost 3D printer host
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={user}
SupplementaryGroups=dialout
Environment=PYTHONUNBUFFERED=1
# No docstrings or asserts in memory: about 2 MiB less resident memory.
Environment=PYTHONOPTIMIZE=2
ExecStart={exe} --basedir {basedir} serve --port {port}
Restart=on-failure
RestartSec=5
# Give a running print's recovery data time to be written on stop.
TimeoutStopSec=20
Nice=-2
# Lets the serial loops run at the lowest real-time priority (serial.realtime), ahead of everything else.
LimitRTPRIO=1

[Install]
WantedBy=multi-user.target
"""


def render_unit(user, exe, basedir, port):
    return UNIT.format(user=user, exe=exe, basedir=basedir, port=port)



class ServiceError(RuntimeError):
    """The service cannot be installed; the message says why and what to do."""


@dataclasses.dataclass
class Step:
    description: str
    command: list[str] | None = None  # run with subprocess; None: ``action`` does the work
    action: Callable[[], None] | None = None
    done: Callable[[], bool] = lambda: False

    def show(self) -> str:
        return self.description + (f"\n    $ {' '.join(self.command)}" if self.command else "")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _in_group(user: str, group: str) -> bool:
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return True  # no such group here (not a Debian-like system): nothing to join
    return user in entry.gr_mem


def source_folder() -> str | None:
    """The folder octohost was installed from (pip's ``direct_url.json``), if it was a folder."""
    try:
        text = metadata.distribution("octohost").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    url = json.loads(text).get("url", "")
    if url.startswith("file://") and os.path.isfile(os.path.join(url[7:], "pyproject.toml")):
        return url[7:]
    return None


def build_wheel(source: str, into: str) -> str:
    """``pip wheel`` of the source folder into ``into`` (out of tree); returns the wheel's path."""
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", source, "-w", into],
                            capture_output=True, text=True)
    wheels = sorted(glob.glob(os.path.join(into, "octohost-*.whl")))
    if result.returncode != 0 or not wheels:
        raise ServiceError(f"could not build a wheel of {source}: {result.stderr.strip()[-500:]}")
    return wheels[-1]


def plan(user: str, home: str, wheel: str, basedir: str, port: int, unit_dir: str, python: str = "/usr/bin/python3",
         start: bool = True) -> list[Step]:
    venv = os.path.join(home, "venv")
    unit_path = os.path.join(unit_dir, "octohost.service")
    exe = os.path.join(venv, "bin", "octohost")
    as_user = ["runuser", "-u", user, "--"]
    unit = render_unit(user, exe, basedir, port)

    def write_unit() -> None:
        os.makedirs(unit_dir, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=unit_dir, delete=False, prefix=".octohost.") as f:
            f.write(unit)
        os.chmod(f.name, 0o644)
        os.replace(f.name, unit_path)

    def unit_current() -> bool:
        try:
            with open(unit_path, encoding="utf-8") as f:
                return f.read() == unit
        except OSError:
            return False

    steps = [
        Step(f"create the system account {user} (home {home})",
             ["adduser", "--system", "--group", "--home", home, user], done=lambda: _user_exists(user)),
        Step(f"let {user} use serial ports (group dialout)", ["usermod", "-aG", "dialout", user],
             done=lambda: _in_group(user, "dialout")),
        Step(f"create the virtual environment {venv}", as_user + [python, "-m", "venv", venv],
             done=lambda: os.access(os.path.join(venv, "bin", "python"), os.X_OK)),
        Step(f"install {os.path.basename(wheel)} into it (an upgrade when it is there)",
             as_user + [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--upgrade",
                        "--force-reinstall", "--no-deps", wheel]),
        Step("install its dependencies", as_user + [os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                                                    "--quiet", wheel]),
        Step(f"write the systemd unit {unit_path}", action=write_unit, done=unit_current),
    ]
    if start:
        steps += [
            Step("reload systemd", ["systemctl", "daemon-reload"]),
            Step("start the service now and at every boot", ["systemctl", "enable", "--now", "octohost"]),
            Step("restart it on the new version", ["systemctl", "restart", "octohost"]),
        ]
    return steps


def execute(steps: list[Step], echo: Callable[[str], None]) -> None:
    for step in steps:
        if step.done():
            echo(f"- {step.description}: already done")
            continue
        echo(f"- {step.description}")
        if step.action is not None:
            step.action()
        elif step.command is not None:
            result = subprocess.run(step.command, capture_output=True, text=True)
            if result.returncode != 0:
                raise ServiceError(f"{step.description} failed ({' '.join(step.command)}): "
                                   f"{(result.stderr or result.stdout).strip()[-500:]}")
