"""The README's Quick start, run verbatim with Debian's system Python on a clean copy of the repository.

This is what a new user on Raspberry Pi OS / Debian 12 types first. The system interpreter refuses
``pip install`` (PEP 668), so the command must bring its own virtual environment; the copy's files
are recorded before and compared after, which proves the build happened outside the source folder
(the service user often may not write to a clone owned by someone else).
"""

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import urllib.request

import pytest

from support import wait_until

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.e2e


def quick_start_command(readme_path):
    """The first ``sh`` block under the README's "Quick start" heading, as written there."""
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README's Quick start has no sh block"
    return match.group(1).strip()


def repository_files():
    """Tracked and new (not ignored) files: what a fresh clone of this tree would hold."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name and os.path.isfile(os.path.join(REPO, name))]


def snapshot(root):
    """Every path below root with its size and mtime, to detect anything a build writes there."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return found


def system_python_with_venv():
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip, venv"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(shutil.which("git") is None or not os.path.isdir(os.path.join(REPO, ".git"))
                    and not os.path.isfile(os.path.join(REPO, ".git")), reason="needs a git checkout")
@pytest.mark.skipif(not system_python_with_venv(), reason="needs Debian's /usr/bin/python3 with venv")
@pytest.mark.timeout(600)
def test_quick_start_on_system_python(tmp_path):
    source = tmp_path / "octohost"
    for name in repository_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), target)
    before = snapshot(source)

    home = tmp_path / "home"
    # The default base folder (~/.octohost) with a port of its own, so the command runs unchanged.
    (home / ".octohost").mkdir(parents=True)
    (home / ".octohost" / "config.yaml").write_text("server:\n  host: 127.0.0.1\n  port: 0\n")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    # pip's own configuration (index, certificates) is kept; nothing of this test run's Python is.
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})

    command = quick_start_command(source / "README.md")
    proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=source, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = queue.Queue()
    output = []
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def url_line():
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                pytest.fail(f"the Quick start command ended with {proc.returncode}:\n" + "".join(output))
            return None
        output.append(line)
        found = re.search(r"open (http://\S+) in a browser", line)
        return found.group(1) if found else None

    try:
        url = wait_until(url_line, timeout=420, interval=0,
                         message=lambda: f"the daemon's URL (exit code {proc.poll()}); output:\n" + "".join(output))
        said = "".join(output)
        assert f"octohost base folder: {home / '.octohost'}" in said
        assert f"settings file: {home / '.octohost' / 'config.yaml'}" in said

        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "<html" in response.read().decode().lower()  # rendered from the installed templates
        with urllib.request.urlopen(url.rstrip("/") + "/static/css/octohost.css", timeout=10) as response:
            assert response.status == 200 and response.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    installed = list((home / ".local/share/octohost/venv/lib").glob("python3*/site-packages/octohost"))
    assert installed and (installed[0] / "templates" / "index.jinja2").is_file(), "not installed into the venv"
    assert os.path.realpath(home / ".local/bin/octohost").startswith(str(home / ".local/share/octohost/venv"))
    after = snapshot(source)
    assert after == before, f"the install wrote into the source folder: {sorted(set(after) ^ set(before))}"
