"""``octohost install-service`` for real: a system account, its venv from a wheel, the unit file.

systemd itself does not run here, so the test stops short of ``systemctl`` (``--no-start``);
everything before it runs as on a Raspberry Pi, twice (the second run is an upgrade).
"""

import grp
import os
import pwd
import shutil
import subprocess
import sys
import uuid

import pytest

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("adduser") or not os.path.exists(
                  "/usr/bin/python3"), reason="needs root, adduser and Debian's /usr/bin/python3")]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def octohost(*args):
    return subprocess.run([sys.executable, "-m", "octohost", *args], capture_output=True, text=True, timeout=900)


@pytest.fixture
def account(tmp_path):
    name = f"octotest{uuid.uuid4().hex[:6]}"
    home = f"/tmp/{name}-home"
    wheels = f"/tmp/{name}-wheel"
    os.makedirs(wheels, mode=0o755)
    os.chmod(wheels, 0o755)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", REPO, "-w", wheels],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next(os.path.join(wheels, n) for n in os.listdir(wheels) if n.endswith(".whl"))
    os.chmod(wheel, 0o644)
    yield name, home, wheel, tmp_path / "units"
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["groupdel", name], capture_output=True)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(wheels, ignore_errors=True)


def test_install_service_twice(account):
    name, home, wheel, units = account
    args = ("install-service", "--user", name, "--home", home, "--wheel", wheel, "--unit-dir", str(units),
            "--port", "5099", "--no-start")
    first = octohost(*args)
    assert first.returncode == 0, first.stderr
    entry = pwd.getpwnam(name)
    assert entry.pw_dir == home
    assert name in grp.getgrnam("dialout").gr_mem
    exe = os.path.join(home, "venv", "bin", "octohost")
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the wheel's code, not this tree's
    version = subprocess.run(["runuser", "-u", name, "--", exe, "--version"], capture_output=True, text=True,
                             env=clean)
    assert version.returncode == 0 and "octohost" in version.stdout
    assert os.stat(os.path.join(home, "venv")).st_uid == entry.pw_uid  # the account owns its install
    unit = (units / "octohost.service").read_text()
    assert f"User={name}" in unit and "SupplementaryGroups=dialout" in unit
    assert f"ExecStart={exe} --basedir {home}/.octohost serve --port 5099" in unit

    second = octohost(*args)
    assert second.returncode == 0, second.stderr
    for step in ("create the system account", "group dialout", "create the virtual environment",
                 "write the systemd unit"):
        assert any(step in line and line.endswith("already done") for line in second.stdout.splitlines()), step


def test_install_service_refuses_what_is_not_a_wheel(tmp_path):
    result = octohost("install-service", "--wheel", str(tmp_path / ".." / os.path.basename(tmp_path)), "--dry-run")
    assert result.returncode == 2
    (tmp_path / "x.txt").write_text("x")
    result = octohost("install-service", "--wheel", str(tmp_path / "x.txt"), "--dry-run")
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("Error: ")
